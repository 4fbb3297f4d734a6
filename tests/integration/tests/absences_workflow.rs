//! End-to-end tests of the absences workflow through its Lambda handler (`WorkflowService::handle`),
//! with the real DynamoDB store on moto_server and both simulators seeded with the seed company of
//! Monday 2026-03-16 (a `ManualClock` stands on that morning, so the scheduled window is
//! 2026-02-14..=2026-09-12: lookback 30, lookahead 180).
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test absences_workflow`.
//!
//! Settings: Vacation ⇄ TimeTrack 1 "Urlaub" (half days: 2 "Urlaub (½ Tag)"), master Personio;
//! Sick leave ⇄ TimeTrack 5 "Krankenstand", master TimeTrack. Employees are linked by e-mail
//! (case-insensitive) through employee mappings written to the store, as the employees workflow leaves
//! them; Elif (1025, personal number only) and the TimeTrack-only user stay unlinked, out of scope.
//!
//! Seed absences in the window that the assertions rely on (tests/simulators/src/seed/company.rs):
//! twins on both sides — 1002 02-16..20, 1003 04-27..29 pending, 1004 half day 04-03, 1005 sick
//! 03-03..05, 1008 04-13..14 rejected, 1010 afternoon off 03-05, 1016 03-09..18, 1017 06-08..12
//! pending; Personio only — 1004 05-11..15 noon (two TimeTrack parts), 1006 sick 03-12,
//! 1013 Special leave 02-27 (unmapped), 1021 Overtime compensation 03-25 (unmapped, hourly);
//! TimeTrack only — 1007 05-11..15, 1012 "Sonderurlaub" 04-08 (unmapped).
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use integration_tests::{counts, linked_username, start_simulators, writes, Counts, WorkflowRig};
use jiff::civil::{date, Date};
use jiff::Timestamp;
use serde_json::json;
use shared::domain::{EntityKind, System};
use shared::runs::{RunRecord, RunStatus};
use shared::settings::{AbsenceTypeMapping, IntegrationSettings};
use shared::store::{Mapping, StateStore};
use shared::workflows::absences::binding::AbsencesBinding;
use simulators::personio::model::{
    AbsenceBoundary, AbsencePeriod, AbsenceStatus as PStatus, HalfDay,
};
use simulators::timetrack::model::Absence as TtAbsence;
use simulators::Seed;

const TODAY: &str = "2026-03-16T09:00:00Z";
const URLAUB: i64 = 1;
const URLAUB_HALF: i64 = 2;
const KRANKENSTAND: i64 = 5;

struct Harness {
    rig: WorkflowRig<AbsencesBinding>,
    /// Personio person id → TimeTrack username, for the linked employees.
    users: BTreeMap<String, String>,
    vacation: String,
    sick: String,
}

impl Deref for Harness {
    type Target = WorkflowRig<AbsencesBinding>;

    fn deref(&self) -> &Self::Target {
        &self.rig
    }
}

fn midnight(day: Date) -> AbsenceBoundary {
    AbsenceBoundary {
        date_time: day.at(0, 0, 0, 0),
        half: None,
    }
}

async fn harness() -> Harness {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 3, 16))).await;
    let (vacation, sick) = {
        let s = personio.state();
        (
            s.absence_type_id_by_name("Vacation")
                .expect("Vacation type"),
            s.absence_type_id_by_name("Sick leave")
                .expect("Sick leave type"),
        )
    };
    let mut settings = IntegrationSettings::example();
    settings.absences.type_mappings = vec![
        AbsenceTypeMapping {
            timetrack_type_id: URLAUB,
            personio_type_id: vacation.clone(),
            master: System::Personio,
            half_day_timetrack_type_id: Some(URLAUB_HALF),
        },
        AbsenceTypeMapping {
            timetrack_type_id: KRANKENSTAND,
            personio_type_id: sick.clone(),
            master: System::TimeTrack,
            half_day_timetrack_type_id: None,
        },
    ];
    let now: Timestamp = TODAY.parse().expect("timestamp");
    // Employee links by e-mail, as the employees workflow stores them (person id ⇄ user id).
    let (rig, users) =
        WorkflowRig::start_linked(personio, timetrack, &settings, AbsencesBinding, now).await;
    Harness {
        rig,
        users,
        vacation,
        sick,
    }
}

impl Harness {
    fn username(&self, person: &str) -> String {
        linked_username(&self.users, person)
    }

    /// Live TimeTrack absences of a person's user.
    fn tt_of(&self, person: &str) -> Vec<TtAbsence> {
        let username = self.username(person);
        self.timetrack
            .state()
            .live_absences()
            .filter(|a| a.user == username)
            .cloned()
            .collect()
    }

    fn tt_starting(&self, person: &str, from: Date) -> TtAbsence {
        let mut found: Vec<TtAbsence> = self
            .tt_of(person)
            .into_iter()
            .filter(|a| a.from == from)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "TimeTrack absences of {person} from {from}: {found:?}"
        );
        found.remove(0)
    }

    fn p_of(&self, person: &str) -> Vec<AbsencePeriod> {
        self.personio
            .state()
            .absence_periods
            .values()
            .filter(|p| p.person.id == person)
            .cloned()
            .collect()
    }

    fn p_starting(&self, person: &str, from: Date) -> AbsencePeriod {
        let mut found: Vec<AbsencePeriod> = self
            .p_of(person)
            .into_iter()
            .filter(|p| p.starts_from.date_time.date() == from)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "Personio periods of {person} from {from}: {found:?}"
        );
        found.remove(0)
    }

    async fn absence_mappings(&self) -> Vec<Mapping> {
        self.store
            .list_mappings(&self.id, EntityKind::Absence, None)
            .await
            .expect("mappings")
    }

    async fn mapping_of_personio(&self, personio_id: &str) -> Mapping {
        let all = self.absence_mappings().await;
        let mut found: Vec<Mapping> = all
            .into_iter()
            .filter(|m| m.personio_id.as_deref() == Some(personio_id))
            .collect();
        assert_eq!(found.len(), 1, "mappings of Personio {personio_id}");
        found.remove(0)
    }

    fn snapshot(&self) -> (BTreeMap<String, AbsencePeriod>, BTreeMap<i64, TtAbsence>) {
        (
            self.personio.state().absence_periods.clone(),
            self.timetrack.state().absences.clone(),
        )
    }

    /// The first scheduled run, checked to be the known one (see `first_scheduled_run_...`).
    async fn synced(&self) -> RunRecord {
        let run = self.scheduled().await;
        assert_eq!(
            writes(&run.counts),
            counts(&[
                ("mappings", "adopt", 8),
                ("timetrack", "create", 2),
                ("personio", "create", 1),
            ]),
            "{run:#?}"
        );
        run
    }
}

#[tokio::test]
async fn first_scheduled_run_creates_both_ways_and_adopts_the_twins() {
    let h = harness().await;
    let tt_before = h.timetrack.state().absences.len();
    let run = h.synced().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(
        (run.window.from, run.window.to),
        (date(2026, 2, 14), date(2026, 9, 12))
    );

    // Personio → TimeTrack: Mehmet's sick day, approved, as "Krankenstand".
    let mehmet = h.tt_starting("1006", date(2026, 3, 12));
    assert_eq!(
        (mehmet.to, mehmet.absence_type, mehmet.status),
        (date(2026, 3, 12), KRANKENSTAND, 1)
    );
    // TimeTrack → Personio: Anna-Lena's vacation, approved (skip_approval).
    let anna = h.p_starting("1007", date(2026, 5, 11));
    assert_eq!(anna.absence_type.id, h.vacation);
    assert_eq!(anna.ends_at, Some(midnight(date(2026, 5, 15))));
    assert_eq!(anna.approval.status, PStatus::Approved);
    // Personio → TimeTrack: Björn's Monday to Friday noon, the TimeTrack way: "Urlaub" Monday to
    // Thursday plus "Urlaub (½ Tag)" on Friday; the mapping names the full-day part.
    let bjoern_noon = h.p_starting("1004", date(2026, 5, 11));
    assert!(run.failures.is_empty(), "{:?}", run.failures);
    let full = h.tt_starting("1004", date(2026, 5, 11));
    let half = h.tt_starting("1004", date(2026, 5, 15));
    assert_eq!(
        (full.to, full.absence_type, full.status),
        (date(2026, 5, 14), URLAUB, 0)
    );
    assert_eq!(
        (half.to, half.absence_type, half.status),
        (date(2026, 5, 15), URLAUB_HALF, 0),
        "pending, as in Personio"
    );
    assert_eq!(
        h.mapping_of_personio(&bjoern_noon.id).await.timetrack_id,
        Some(full.id.to_string())
    );
    assert_eq!(h.timetrack.state().absences.len(), tt_before + 3);

    // Eight pairs adopted, plus the three creates: eleven linked mappings, each with both ids.
    let linked: Vec<Mapping> = h
        .absence_mappings()
        .await
        .into_iter()
        .filter(|m| m.personio_id.is_some() && m.timetrack_id.is_some())
        .collect();
    assert_eq!(linked.len(), 11);
    let zoe = h.p_starting("1003", date(2026, 4, 27));
    let zoe_tt = h.tt_starting("1003", date(2026, 4, 27));
    assert_eq!(
        h.mapping_of_personio(&zoe.id).await.timetrack_id,
        Some(zoe_tt.id.to_string())
    );
}

#[tokio::test]
async fn an_unmapped_type_is_reported_with_its_type_and_never_synced() {
    let h = harness().await;
    let run = h.synced().await;
    let chloe = h.tt_starting("1012", date(2026, 4, 8));
    let frauke = h.p_starting("1013", date(2026, 2, 27));
    let felix = h.p_starting("1021", date(2026, 3, 25));
    let reasons: BTreeMap<(Option<System>, Option<String>), String> = run
        .skipped
        .iter()
        .map(|s| ((s.system, s.record_id.clone()), s.reason.clone()))
        .collect();
    let reason = |system, id: String| {
        reasons
            .get(&(Some(system), Some(id.clone())))
            .cloned()
            .unwrap_or_else(|| panic!("no skip for {id}: {reasons:?}"))
    };
    assert!(reason(System::TimeTrack, chloe.id.to_string())
        .contains("timetrack absence type 3 (Sonderurlaub) is not mapped"));
    assert!(reason(System::Personio, frauke.id.clone()).contains("(Special leave) is not mapped"));
    assert!(reason(System::Personio, felix.id.clone())
        .contains("(Overtime compensation) is not mapped"));
    assert_eq!(h.p_of("1012").len(), 0, "nothing created for Chloé");
    assert!(h.tt_of("1013").is_empty(), "nothing created for Frauke");
    assert!(h.tt_of("1021").is_empty(), "nothing created for Felix");
}

#[tokio::test]
async fn a_re_run_writes_nothing() {
    let h = harness().await;
    h.synced().await;
    let before = h.snapshot();
    let run = h.scheduled().await;
    assert_eq!(writes(&run.counts), Counts::new(), "{run:#?}");
    assert_eq!(run.counts.mappings.unchanged, 11);
    assert_eq!(h.snapshot(), before);
}

#[tokio::test]
async fn a_date_change_in_personio_re_creates_in_timetrack_and_the_mapping_follows() {
    let h = harness().await;
    h.synced().await;
    let zoe = h.p_starting("1003", date(2026, 4, 27));
    let old = h.tt_starting("1003", date(2026, 4, 27));
    h.personio.state().update_absence_dates(
        &zoe.id,
        midnight(date(2026, 4, 27)),
        Some(midnight(date(2026, 4, 30))),
    );

    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "update", 1)]),
        "{run:#?}"
    );
    let new = h.tt_starting("1003", date(2026, 4, 27));
    assert_ne!(new.id, old.id);
    assert_eq!(
        (new.to, new.absence_type, new.status),
        (date(2026, 4, 30), URLAUB, 0)
    );
    assert!(h.timetrack.state().absences[&old.id].deleted);
    assert_eq!(h.tt_of("1003").len(), 1, "nothing doubled");
    let mapping = h.mapping_of_personio(&zoe.id).await;
    assert_eq!(mapping.timetrack_id, Some(new.id.to_string()));
    assert_eq!(h.p_of("1003").len(), 1);
    // And the next run is quiet.
    let again = h.scheduled().await;
    assert_eq!(writes(&again.counts), Counts::new());
}

#[tokio::test]
async fn an_approval_in_timetrack_arrives_in_personio() {
    let h = harness().await;
    h.synced().await;
    let ines = h.tt_starting("1017", date(2026, 6, 8));
    let period = h.p_starting("1017", date(2026, 6, 8));
    assert_eq!(period.approval.status, PStatus::Pending);
    h.timetrack.state().set_absence_status(ines.id, 1);

    let run = h.scheduled().await;
    assert_eq!(writes(&run.counts), counts(&[("personio", "update", 1)]));
    let after = h.p_starting("1017", date(2026, 6, 8));
    assert_eq!(after.id, period.id);
    assert_eq!(after.approval.status, PStatus::Approved);
    assert_eq!(after.ends_at, Some(midnight(date(2026, 6, 12))));
    assert_eq!(h.tt_starting("1017", date(2026, 6, 8)).id, ines.id);
}

#[tokio::test]
async fn an_approval_in_personio_arrives_in_timetrack_in_place() {
    let h = harness().await;
    h.synced().await;
    let zoe = h.p_starting("1003", date(2026, 4, 27));
    let tt = h.tt_starting("1003", date(2026, 4, 27));
    assert_eq!(tt.status, 0);
    assert!(h.personio.state().approve_absence(&zoe.id));

    let run = h.scheduled().await;
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "update", 1)]));
    let after = h.tt_starting("1003", date(2026, 4, 27));
    assert_eq!(
        (after.id, after.status),
        (tt.id, 1),
        "status changed in place"
    );
}

#[tokio::test]
async fn a_conflict_is_won_by_personio_where_the_mapping_names_personio() {
    let h = harness().await;
    h.synced().await;
    // Vacation (master Personio): Personio moves Zoë's end, TimeTrack approves the old one.
    let zoe = h.p_starting("1003", date(2026, 4, 27));
    let old = h.tt_starting("1003", date(2026, 4, 27));
    h.personio.state().update_absence_dates(
        &zoe.id,
        midnight(date(2026, 4, 27)),
        Some(midnight(date(2026, 4, 28))),
    );
    h.timetrack.state().set_absence_status(old.id, 1);

    let run = h.scheduled().await;
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "update", 1)]));
    assert_eq!(run.conflicts.len(), 1, "{:?}", run.conflicts);
    assert_eq!(run.conflicts[0].winner, System::Personio);
    assert_eq!(
        run.conflicts[0].personio_id.as_deref(),
        Some(zoe.id.as_str())
    );
    let new = h.tt_starting("1003", date(2026, 4, 27));
    assert_eq!((new.to, new.status), (date(2026, 4, 28), 0));
    assert_eq!(h.tt_of("1003").len(), 1);
    let period = h.p_starting("1003", date(2026, 4, 27));
    assert_eq!(period.approval.status, PStatus::Pending);
    assert_eq!(
        h.mapping_of_personio(&zoe.id).await.timetrack_id,
        Some(new.id.to_string())
    );
}

#[tokio::test]
async fn a_conflict_is_won_by_timetrack_where_the_mapping_names_timetrack() {
    let h = harness().await;
    h.synced().await;
    // Sick leave (master TimeTrack): Personio shortens Lena's sick leave, TimeTrack sets it pending.
    let lena = h.p_starting("1005", date(2026, 3, 3));
    let tt = h.tt_starting("1005", date(2026, 3, 3));
    h.personio.state().update_absence_dates(
        &lena.id,
        midnight(date(2026, 3, 3)),
        Some(midnight(date(2026, 3, 4))),
    );
    h.timetrack.state().set_absence_status(tt.id, 0);

    let run = h.scheduled().await;
    assert_eq!(writes(&run.counts), counts(&[("personio", "update", 1)]));
    assert_eq!(run.conflicts.len(), 1, "{:?}", run.conflicts);
    assert_eq!(run.conflicts[0].winner, System::TimeTrack);
    let period = h.p_starting("1005", date(2026, 3, 3));
    assert_eq!((&period.id, &period.absence_type.id), (&lena.id, &h.sick));
    assert_eq!(period.ends_at, Some(midnight(date(2026, 3, 5))));
    assert_eq!(period.approval.status, PStatus::Pending);
    let after = h.tt_starting("1005", date(2026, 3, 3));
    assert_eq!(
        (after.id, after.to, after.status),
        (tt.id, date(2026, 3, 5), 0)
    );
}

#[tokio::test]
async fn deletions_propagate_both_ways() {
    let h = harness().await;
    h.synced().await;
    let juergen = h.p_starting("1002", date(2026, 2, 16));
    let juergen_tt = h.tt_starting("1002", date(2026, 2, 16));
    let tobias = h.p_starting("1016", date(2026, 3, 9));
    let tobias_tt = h.tt_starting("1016", date(2026, 3, 9));
    assert!(h.personio.state().delete_absence(&juergen.id));
    assert!(h.timetrack.state().delete_absence(tobias_tt.id));

    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "delete", 1), ("personio", "delete", 1)]),
        "{run:#?}"
    );
    assert!(h.timetrack.state().absences[&juergen_tt.id].deleted);
    assert!(h.p_of("1016").iter().all(|p| p.id != tobias.id));
    let remaining: BTreeSet<Option<String>> = h
        .absence_mappings()
        .await
        .into_iter()
        .map(|m| m.personio_id)
        .collect();
    assert!(!remaining.contains(&Some(juergen.id.clone())));
    assert!(!remaining.contains(&Some(tobias.id.clone())));
}

#[tokio::test]
async fn half_days_round_trip_both_ways() {
    let h = harness().await;
    h.synced().await;
    // A morning off entered in TimeTrack as "Urlaub (½ Tag)" …
    let zoe_user = h.username("1003");
    let tt_half = h
        .timetrack
        .state()
        .add_absence(
            &zoe_user,
            URLAUB_HALF,
            date(2026, 5, 22),
            date(2026, 5, 22),
            1,
        )
        .expect("TimeTrack half day");
    // … and an afternoon off entered in Personio (SECOND_HALF start).
    let afternoon = h.personio.state().add_absence(
        "1002",
        &h.vacation,
        AbsenceBoundary {
            date_time: date(2026, 6, 19).at(0, 0, 0, 0),
            half: Some(HalfDay::SecondHalf),
        },
        Some(midnight(date(2026, 6, 19))),
        PStatus::Approved,
    );

    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("personio", "create", 1), ("timetrack", "create", 1)]),
        "{run:#?}"
    );
    let p = h.p_starting("1003", date(2026, 5, 22));
    assert_eq!(p.starts_from, midnight(date(2026, 5, 22)));
    assert_eq!(
        p.ends_at,
        Some(AbsenceBoundary {
            date_time: date(2026, 5, 22).at(0, 0, 0, 0),
            half: Some(HalfDay::FirstHalf),
        })
    );
    assert_eq!(p.approval.status, PStatus::Approved);
    let t = h.tt_starting("1002", date(2026, 6, 19));
    assert_eq!(
        (t.to, t.absence_type, t.status),
        (date(2026, 6, 19), URLAUB_HALF, 1)
    );
    assert_eq!(
        h.mapping_of_personio(&p.id).await.timetrack_id,
        Some(tt_half.to_string())
    );
    assert_eq!(
        h.mapping_of_personio(&afternoon).await.timetrack_id,
        Some(t.id.to_string())
    );
    let again = h.scheduled().await;
    assert_eq!(
        writes(&again.counts),
        Counts::new(),
        "half days read back equal"
    );
}

#[tokio::test]
async fn a_manual_period_sync_touches_only_that_period() {
    let h = harness().await;
    let before = h.snapshot();
    let (status, body) = h
        .manual(&json!({"from": "2026-03-09", "to": "2026-03-15"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let run: RunRecord = serde_json::from_value(body).expect("run record");
    assert_eq!(
        (run.window.from, run.window.to),
        (date(2026, 3, 9), date(2026, 3, 15))
    );
    // Tobias (from 03-09) adopted, Mehmet's sick day (03-12) created; nothing else.
    assert_eq!(
        writes(&run.counts),
        counts(&[("mappings", "adopt", 1), ("timetrack", "create", 1)]),
        "{run:#?}"
    );
    let mehmet = h.tt_starting("1006", date(2026, 3, 12));
    let (p_after, t_after) = h.snapshot();
    assert_eq!(p_after, before.0, "Personio untouched");
    let new_tt: Vec<i64> = t_after
        .keys()
        .filter(|id| !before.1.contains_key(id))
        .copied()
        .collect();
    assert_eq!(new_tt, vec![mehmet.id]);
    assert!(t_after
        .iter()
        .filter(|(id, _)| before.1.contains_key(id))
        .all(|(id, a)| &before.1[id] == a));
    assert_eq!(h.absence_mappings().await.len(), 2);
}

#[tokio::test]
async fn a_dry_run_returns_the_plan_and_writes_nothing() {
    let h = harness().await;
    let before = h.snapshot();
    let (status, body) = h.manual(&json!({"dry_run": true})).await;
    assert_eq!(status, 200, "{body}");
    let run: RunRecord = serde_json::from_value(body).expect("run record");
    assert!(run.dry_run);
    assert_eq!(
        writes(&run.counts),
        counts(&[
            ("mappings", "adopt", 8),
            ("timetrack", "create", 2),
            ("personio", "create", 1),
        ]),
        "{run:#?}"
    );
    assert!(
        matches!(run.plan, shared::runs::RunPlan::Planned { .. }),
        "{:?}",
        run.plan
    );
    assert_eq!(h.snapshot(), before);
    assert!(h.absence_mappings().await.is_empty());
}

// ============ Multi-day absences with a half first or last day (issue 11 §2) ============

/// Which boundary days of a vacation are halves.
#[derive(Debug, Clone, Copy)]
struct Halves {
    first: bool,
    last: bool,
}

impl Harness {
    /// The Personio form of a vacation: one period, `SECOND_HALF` on a start from midday,
    /// `FIRST_HALF` on an end at midday.
    fn add_personio_vacation(
        &self,
        person: &str,
        start: Date,
        end: Date,
        halves: Halves,
        status: PStatus,
    ) -> String {
        self.personio.state().add_absence(
            person,
            &self.vacation,
            AbsenceBoundary {
                date_time: start.at(0, 0, 0, 0),
                half: halves.first.then_some(HalfDay::SecondHalf),
            },
            Some(AbsenceBoundary {
                date_time: end.at(0, 0, 0, 0),
                half: halves.last.then_some(HalfDay::FirstHalf),
            }),
            status,
        )
    }

    /// The TimeTrack form of the same vacation, the usual TimeTrack way (timetrack-api.md §4):
    /// "Urlaub" for the full days plus an "Urlaub (½ Tag)" on each half boundary day. Returns the
    /// ids in day order.
    fn add_timetrack_vacation(
        &self,
        person: &str,
        start: Date,
        end: Date,
        halves: Halves,
        status: u8,
    ) -> Vec<i64> {
        let user = self.username(person);
        let mut state = self.timetrack.state();
        let mut add = |kind, from, to| {
            state
                .add_absence(&user, kind, from, to, status)
                .expect("TimeTrack absence")
        };
        let mut ids = Vec::new();
        let full_from = if halves.first {
            ids.push(add(URLAUB_HALF, start, start));
            start.tomorrow().expect("day")
        } else {
            start
        };
        let full_to = if halves.last {
            end.yesterday().expect("day")
        } else {
            end
        };
        ids.push(add(URLAUB, full_from, full_to));
        if halves.last {
            ids.push(add(URLAUB_HALF, end, end));
        }
        ids
    }
}

/// Both systems already hold the same Monday-to-Friday vacation of Jürgen (1002) with the given half
/// boundary days: the first sync links them and writes nothing for them, and the next run writes
/// nothing at all.
async fn agreeing_half_boundary_vacation_is_adopted(halves: Halves) {
    let h = harness().await;
    let (monday, friday) = (date(2026, 7, 6), date(2026, 7, 10));
    let period = h.add_personio_vacation("1002", monday, friday, halves, PStatus::Approved);
    let parts = h.add_timetrack_vacation("1002", monday, friday, halves, 1);
    let (p_before, t_before) = (h.p_of("1002"), h.tt_of("1002"));

    let run = h.scheduled().await;
    assert_eq!(h.p_of("1002"), p_before, "nothing written to Personio");
    assert_eq!(h.tt_of("1002"), t_before, "nothing written to TimeTrack");
    let ours: BTreeSet<String> = parts
        .iter()
        .map(|id| id.to_string())
        .chain([period.clone()])
        .collect();
    for f in &run.failures {
        assert!(
            f.record_id.as_ref().is_none_or(|id| !ours.contains(id)),
            "failure on the vacation: {f:?}"
        );
    }
    assert_eq!(
        run.counts.mappings.adopt, 9,
        "the seed's 8 twins plus the vacation: {run:#?}"
    );
    let mapping = h.mapping_of_personio(&period).await;
    assert!(mapping.parked.is_none(), "{mapping:?}");
    let tt_id = mapping.timetrack_id.clone().expect("linked to TimeTrack");
    assert!(ours.contains(&tt_id), "{tt_id} is one of {parts:?}");

    let again = h.scheduled().await;
    assert_eq!(writes(&again.counts), Counts::new(), "{again:#?}");
    assert_eq!(h.p_of("1002"), p_before);
    assert_eq!(h.tt_of("1002"), t_before);
}

#[tokio::test]
async fn agreeing_vacation_ending_at_noon_is_adopted_without_writes() {
    agreeing_half_boundary_vacation_is_adopted(Halves {
        first: false,
        last: true,
    })
    .await;
}

#[tokio::test]
async fn agreeing_vacation_starting_at_noon_is_adopted_without_writes() {
    agreeing_half_boundary_vacation_is_adopted(Halves {
        first: true,
        last: false,
    })
    .await;
}

#[tokio::test]
async fn agreeing_vacation_with_half_first_and_last_days_is_adopted_without_writes() {
    agreeing_half_boundary_vacation_is_adopted(Halves {
        first: true,
        last: true,
    })
    .await;
}

#[tokio::test]
async fn timetrack_parts_of_one_absence_become_one_personio_period() {
    let h = harness().await;
    h.synced().await;
    let halves = Halves {
        first: true,
        last: true,
    };
    let parts = h.add_timetrack_vacation("1002", date(2026, 7, 6), date(2026, 7, 10), halves, 1);

    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("personio", "create", 1)]),
        "{run:#?}"
    );
    let period = h.p_starting("1002", date(2026, 7, 6));
    assert_eq!(
        (
            period.starts_from.half,
            period.ends_at.map(|e| e.date_time.date())
        ),
        (Some(HalfDay::SecondHalf), Some(date(2026, 7, 10)))
    );
    assert_eq!(
        period.ends_at.and_then(|e| e.half),
        Some(HalfDay::FirstHalf)
    );
    assert_eq!(period.approval.status, PStatus::Approved);
    // The mapping names the full-day part (the middle one).
    assert_eq!(
        h.mapping_of_personio(&period.id).await.timetrack_id,
        Some(parts[1].to_string())
    );
    let again = h.scheduled().await;
    assert_eq!(writes(&again.counts), Counts::new(), "{again:#?}");
}

#[tokio::test]
async fn edits_status_changes_and_deletes_keep_the_parts_and_the_period_together() {
    let h = harness().await;
    h.synced().await;
    // Björn's pending Monday to Friday noon, created in TimeTrack as two parts by the first run.
    let period = h.p_starting("1004", date(2026, 5, 11));
    let full = h.tt_starting("1004", date(2026, 5, 11));
    let half = h.tt_starting("1004", date(2026, 5, 15));

    // Approved in Personio: every part is approved in place.
    h.personio
        .state()
        .absence_periods
        .get_mut(&period.id)
        .expect("period")
        .approval
        .status = PStatus::Approved;
    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "update", 1)]),
        "{run:#?}"
    );
    assert_eq!(
        (
            h.tt_starting("1004", date(2026, 5, 11)),
            h.tt_starting("1004", date(2026, 5, 15)).status
        ),
        (
            TtAbsence {
                status: 1,
                ..full.clone()
            },
            1
        )
    );
    assert_eq!(h.tt_starting("1004", date(2026, 5, 15)).id, half.id);

    // Moved in Personio to end on Thursday noon: the old parts are replaced, the mapping follows.
    h.personio.state().update_absence_dates(
        &period.id,
        midnight(date(2026, 5, 11)),
        Some(AbsenceBoundary {
            date_time: date(2026, 5, 14).at(0, 0, 0, 0),
            half: Some(HalfDay::FirstHalf),
        }),
    );
    h.personio
        .state()
        .absence_periods
        .get_mut(&period.id)
        .expect("period")
        .approval
        .status = PStatus::Approved;
    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "update", 1)]),
        "{run:#?}"
    );
    let tt = h.tt_of("1004");
    let may: Vec<(Date, Date, i64, u8)> = tt
        .iter()
        .filter(|a| a.from >= date(2026, 5, 11) && a.from <= date(2026, 5, 15))
        .map(|a| (a.from, a.to, a.absence_type, a.status))
        .collect();
    assert_eq!(
        may,
        vec![
            (date(2026, 5, 11), date(2026, 5, 13), URLAUB, 1),
            (date(2026, 5, 14), date(2026, 5, 14), URLAUB_HALF, 1)
        ]
    );
    let new_full = h.tt_starting("1004", date(2026, 5, 11));
    assert_eq!(
        h.mapping_of_personio(&period.id).await.timetrack_id,
        Some(new_full.id.to_string())
    );

    // Its half day removed in TimeTrack: Personio's period now ends on Wednesday evening.
    let new_half = h.tt_starting("1004", date(2026, 5, 14));
    h.timetrack.state().delete_absence(new_half.id);
    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("personio", "update", 1)]),
        "{run:#?}"
    );
    let after = h.p_starting("1004", date(2026, 5, 11));
    assert_eq!(after.id, period.id);
    assert_eq!(after.ends_at, Some(midnight(date(2026, 5, 13))));

    // Deleted in Personio: every part goes.
    h.personio.state().absence_periods.remove(&period.id);
    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "delete", 1)]),
        "{run:#?}"
    );
    assert!(h
        .tt_of("1004")
        .iter()
        .all(|a| a.from < date(2026, 5, 11) || a.from > date(2026, 5, 15)));
    let again = h.scheduled().await;
    assert_eq!(writes(&again.counts), Counts::new(), "{again:#?}");
}

#[tokio::test]
async fn deleting_every_part_in_timetrack_deletes_the_personio_period() {
    let h = harness().await;
    h.synced().await;
    let period = h.p_starting("1004", date(2026, 5, 11));
    for part in [date(2026, 5, 11), date(2026, 5, 15)] {
        let id = h.tt_starting("1004", part).id;
        h.timetrack.state().delete_absence(id);
    }
    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("personio", "delete", 1)]),
        "{run:#?}"
    );
    assert!(!h.personio.state().absence_periods.contains_key(&period.id));
}

/// A 409 overlap is looked up, not retried: a TimeTrack vacation that overlaps a different Personio
/// absence parks at once with a reason naming both records, and the next run does not try again.
#[tokio::test]
async fn a_personio_overlap_with_a_different_absence_parks_at_once_naming_both() {
    let h = harness().await;
    h.synced().await;
    let sick = h.personio.state().add_absence(
        "1002",
        &h.sick,
        midnight(date(2026, 7, 7)),
        Some(midnight(date(2026, 7, 9))),
        PStatus::Approved,
    );
    let user = h.username("1002");
    let vacation = h
        .timetrack
        .state()
        .add_absence(&user, URLAUB, date(2026, 7, 6), date(2026, 7, 8), 1)
        .expect("TimeTrack vacation");

    let run = h.scheduled().await;
    let failure = run
        .failures
        .iter()
        .find(|f| f.record_id.as_deref() == Some(vacation.to_string().as_str()))
        .unwrap_or_else(|| panic!("no failure for {vacation}: {run:#?}"));
    assert!(failure.error.contains("overlapping"), "{failure:?}");
    assert!(
        failure.error.contains(&sick),
        "names the sick leave: {failure:?}"
    );
    assert!(
        failure.error.contains("2026-07-06..=2026-07-08"),
        "names the vacation: {failure:?}"
    );
    let parked: Vec<Mapping> = h
        .absence_mappings()
        .await
        .into_iter()
        .filter(|m| m.timetrack_id.as_deref() == Some(vacation.to_string().as_str()))
        .collect();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(
        parked[0]
            .parked
            .as_ref()
            .is_some_and(|r| r.to_string().contains(&sick)),
        "parked at once: {parked:?}"
    );
    assert!(
        h.p_of("1002")
            .iter()
            .all(|p| p.absence_type.id != h.vacation
                || p.starts_from.date_time.date() != date(2026, 7, 6)),
        "nothing created"
    );

    let again = h.scheduled().await;
    assert_eq!(again.counts.personio.create, 0, "not retried: {again:#?}");
    assert_eq!(again.counts.personio.failed, 0, "not retried: {again:#?}");
}

/// The same absence twice in TimeTrack: one is linked to the Personio period, the other gets a 409
/// whose overlapping period is that same absence — but already linked, so it is not adopted twice.
#[tokio::test]
async fn a_personio_overlap_with_the_same_but_already_linked_absence_is_not_adopted_twice() {
    let h = harness().await;
    h.synced().await;
    let halves = Halves {
        first: false,
        last: false,
    };
    let period = h.add_personio_vacation(
        "1002",
        date(2026, 7, 6),
        date(2026, 7, 10),
        halves,
        PStatus::Approved,
    );
    let first = h.add_timetrack_vacation("1002", date(2026, 7, 6), date(2026, 7, 10), halves, 1);
    let second = h.add_timetrack_vacation("1002", date(2026, 7, 6), date(2026, 7, 10), halves, 1);

    let run = h.scheduled().await;
    assert_eq!(
        h.mapping_of_personio(&period).await.timetrack_id,
        Some(first[0].to_string())
    );
    let failure = run
        .failures
        .iter()
        .find(|f| f.record_id.as_deref() == Some(second[0].to_string().as_str()))
        .unwrap_or_else(|| panic!("no failure for {second:?}: {run:#?}"));
    assert!(
        failure
            .error
            .contains("already synced with another TimeTrack absence"),
        "{failure:?}"
    );
    assert!(failure.error.contains(&period), "{failure:?}");
    assert_eq!(
        h.p_of("1002").len(),
        2,
        "the seed's period and the vacation, nothing more"
    );
}
