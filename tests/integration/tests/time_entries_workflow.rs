//! End-to-end tests of the time-entries workflow through its Lambda handler (`WorkflowService::handle`),
//! with the real DynamoDB store on moto_server and both simulators seeded with the seed company of
//! Tuesday 2026-11-10 (a `ManualClock` stands on that morning). Scheduled runs cover a month:
//! lookback 30 days, lookahead 0 → 2026-10-11..=2026-11-10.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test time_entries_workflow`.
//!
//! Seed attendances the assertions rely on (tests/simulators/src/seed/company.rs): weekdays of the 30 days
//! before today, mostly twins, some only on one side; periods attributed before 2026-10-27 are CONFIRMED
//! (locked), newer ones PENDING. Mehmet (1006) works 22:00–06:00 on Wed 2026-11-04 in both systems (two
//! Personio WORK periods split at midnight + BREAK 02:00–02:30) and on Wed 2026-10-28 only in TimeTrack.
//! The DST weekend is 2026-10-24/25: Jörg (1014) works Sat 10:00–18:00 and Sun 01:00–07:00 local (across
//! the change) in both systems; Hans-Peter (1010) works Sun 08:00–16:00 only in TimeTrack. TimeTrack
//! timestamps are UTC (`timetrack_timestamp_mode = utc`), Personio's are Europe/Berlin wall clock.
//! Employees are linked by e-mail through employee mappings in the store, as the employees workflow
//! leaves them; Elif (1025, personal number only) and Thomas Müller (1027, not in TimeTrack) stay
//! unlinked, so their entries are reported as skipped.
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use integration_tests::{counts, linked_username, start_simulators, writes, Counts, WorkflowRig};
use jiff::civil::{date, Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::json;
use shared::domain::{EntityKind, System};
use shared::runs::{RunRecord, RunStatus};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting};
use shared::store::{Mapping, StateStore};
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model::{AttendancePeriod, AttendanceStatus, AttendanceType};
use simulators::timetrack::model::Attendance as TtAttendance;
use simulators::Seed;

const NOW: &str = "2026-11-10T09:00:00Z";
const MEHMET: &str = "1006";
const HANS_PETER: &str = "1010";
const JOERG: &str = "1014";

struct Harness {
    rig: WorkflowRig<TimeEntriesBinding>,
    /// Personio person id → TimeTrack username, for the linked employees.
    users: BTreeMap<String, String>,
}

impl Deref for Harness {
    type Target = WorkflowRig<TimeEntriesBinding>;

    fn deref(&self) -> &Self::Target {
        &self.rig
    }
}

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("zone")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn local(instant: Timestamp) -> DateTime {
    instant.to_zoned(berlin()).datetime()
}

async fn harness_with(configure: impl FnOnce(&mut IntegrationSettings)) -> Harness {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 11, 10))).await;
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Europe/Berlin".into();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    settings.time_entries.master = System::TimeTrack;
    settings.personio.attendance_skip_approval = false;
    settings.windows.time_entries = WindowSetting {
        lookback_days: 30,
        lookahead_days: 0,
    };
    configure(&mut settings);
    let now = ts(NOW);
    // Employee links by e-mail, as the employees workflow stores them (person id ⇄ user id).
    let (rig, users) =
        WorkflowRig::start_linked(personio, timetrack, &settings, TimeEntriesBinding, now).await;
    Harness { rig, users }
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

/// A Personio WORK period or BREAK as (type, local start, local end).
type Shape = (AttendanceType, DateTime, DateTime);

fn shape(p: &AttendancePeriod) -> Shape {
    (
        p.kind,
        p.start.date_time,
        p.end.expect("closed period").date_time,
    )
}

impl Harness {
    fn username(&self, person: &str) -> String {
        linked_username(&self.users, person)
    }

    fn person_of(&self, username: &str) -> Option<String> {
        self.users
            .iter()
            .find(|(_, u)| u.eq_ignore_ascii_case(username))
            .map(|(p, _)| p.clone())
    }

    /// Live TimeTrack attendances of a person's user starting on a local day.
    fn tt_on(&self, person: &str, day: Date) -> Vec<TtAttendance> {
        let username = self.username(person);
        self.timetrack
            .state()
            .live_attendances()
            .filter(|a| a.user == username && local(a.from).date() == day)
            .cloned()
            .collect()
    }

    /// A person's Personio periods starting on the local days `from..=to`, sorted by type then start.
    fn p_shapes(&self, person: &str, from: Date, to: Date) -> Vec<Shape> {
        let mut shapes: Vec<Shape> = self
            .personio
            .state()
            .attendance_periods
            .values()
            .filter(|p| {
                p.person.id == person
                    && from <= p.start.date_time.date()
                    && p.start.date_time.date() <= to
            })
            .map(shape)
            .collect();
        shapes.sort_by_key(|(kind, start, _)| (*kind == AttendanceType::Break, *start));
        shapes
    }

    fn p_periods_of(&self, person: &str, day: Date) -> Vec<AttendancePeriod> {
        self.personio
            .state()
            .attendance_periods
            .values()
            .filter(|p| p.person.id == person && p.start.date_time.date() == day)
            .cloned()
            .collect()
    }

    fn snapshot(
        &self,
    ) -> (
        BTreeMap<String, AttendancePeriod>,
        BTreeMap<i64, TtAttendance>,
    ) {
        (
            self.personio.state().attendance_periods.clone(),
            self.timetrack.state().attendances.clone(),
        )
    }

    async fn entry_mappings(&self) -> Vec<Mapping> {
        self.store
            .list_mappings(&self.id, EntityKind::TimeEntry, None)
            .await
            .expect("mappings")
    }

    /// A day entry that is a twin in both systems, PENDING (or CONFIRMED when `approved`) in Personio,
    /// of a linked ordinary employee with a break: (person, TimeTrack id, Personio WORK id, day).
    fn twin(&self, approved: bool, skip: &[&str]) -> (String, i64, String, Date) {
        let p = self.personio.state();
        let t = self.timetrack.state();
        let mut candidates: Vec<(String, i64, String, Date)> = t
            .live_attendances()
            .filter_map(|a| {
                let person = self.person_of(&a.user)?;
                if skip.contains(&person.as_str())
                    || [MEHMET, JOERG, HANS_PETER].contains(&person.as_str())
                    || a.break_minutes == 0
                {
                    return None;
                }
                let start = local(a.from);
                let work = p.attendance_periods.values().find(|w| {
                    w.person.id == person
                        && w.kind == AttendanceType::Work
                        && w.start.date_time == start
                        && w.end.map(|e| e.date_time) == Some(local(a.to))
                })?;
                let locked = work.approval.status == AttendanceStatus::Confirmed;
                (locked == approved).then(|| (person, a.id, work.id.clone(), start.date()))
            })
            .collect();
        candidates.sort();
        candidates.into_iter().next().expect("a twin in the seed")
    }
}

/// Entries each side holds in the window that the other does not (by person and start instant), for
/// linked persons: what the first sync must create.
fn one_sided(h: &Harness, from: Date, to: Date) -> (usize, usize) {
    let p = h.personio.state();
    let t = h.timetrack.state();
    let in_window = |d: Date| from <= d && d <= to;
    // Personio entries = WORK periods that do not continue a previous WORK at midnight.
    let personio: BTreeSet<(String, DateTime)> = p
        .attendance_periods
        .values()
        .filter(|w| w.kind == AttendanceType::Work && h.users.contains_key(&w.person.id))
        .filter(|w| {
            !(w.start.date_time.time() == jiff::civil::Time::midnight()
                && p.attendance_periods.values().any(|o| {
                    o.person.id == w.person.id
                        && o.kind == AttendanceType::Work
                        && o.end.map(|e| e.date_time) == Some(w.start.date_time)
                }))
        })
        .filter(|w| in_window(w.start.date_time.date()))
        .map(|w| (w.person.id.clone(), w.start.date_time))
        .collect();
    let timetrack: BTreeSet<(String, DateTime)> = t
        .live_attendances()
        .filter_map(|a| Some((h.person_of(&a.user)?, local(a.from))))
        .filter(|(_, start)| in_window(start.date()))
        .collect();
    (
        personio.difference(&timetrack).count(),
        timetrack.difference(&personio).count(),
    )
}

#[tokio::test]
async fn first_two_way_sync_of_a_month_converges_and_a_rerun_writes_nothing() {
    let h = harness().await;
    let (personio_only, timetrack_only) = one_sided(&h, date(2026, 10, 11), date(2026, 11, 10));
    // The seed's one-sided entries of linked employees in the month (guards the expectations below).
    assert_eq!((personio_only, timetrack_only), (25, 27));
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.window.from, date(2026, 10, 11));
    assert_eq!(run.window.to, date(2026, 11, 10));
    let adopted = run.counts.mappings.adopt;
    assert_eq!(
        writes(&run.counts),
        counts(&[
            ("mappings", "adopt", adopted),
            ("personio", "create", timetrack_only as u64),
            ("timetrack", "create", personio_only as u64),
        ])
    );
    assert!(run.failures.is_empty(), "{:?}", run.failures);
    assert!(run.conflicts.is_empty(), "{:?}", run.conflicts);
    // Entries of unlinked employees are reported, never synced: Elif (1025) and Thomas (1027) in
    // Personio, Elif's user `esahin` in TimeTrack.
    assert_eq!(run.counts.personio.skip, 41);
    assert_eq!(run.counts.timetrack.skip, 20);
    assert_eq!(run.skipped.len(), 61);
    for s in &run.skipped {
        assert!(
            s.reason.contains("person 1025 is not linked")
                || s.reason.contains("person 1027 is not linked")
                || s.reason.contains("user esahin is not linked"),
            "{s:?}"
        );
    }
    // Both systems now hold the same entries of the linked employees.
    assert_eq!(
        one_sided(&h, date(2026, 10, 11), date(2026, 11, 10)),
        (0, 0)
    );
    assert_eq!(
        h.entry_mappings().await.len() as u64,
        adopted + personio_only as u64 + timetrack_only as u64
    );

    let before = h.snapshot();
    let again = h.scheduled().await;
    assert_eq!(again.status, RunStatus::Succeeded);
    assert_eq!(writes(&again.counts), Counts::new());
    assert_eq!(h.snapshot(), before, "a re-run must write nothing");
}

#[tokio::test]
async fn an_edit_on_each_side_arrives_on_the_other() {
    let h = harness().await;
    h.scheduled().await;
    let (tt_person, tt_id, _, tt_day) = h.twin(false, &[]);
    let (p_person, p_tt_id, p_work, _) = h.twin(false, &[&tt_person]);

    // TimeTrack: the entry ends 45 minutes later and the break grows to 60 minutes.
    let old = h.timetrack.state().attendances[&tt_id].clone();
    let new_to = old.to + jiff::SignedDuration::from_mins(45);
    assert!(h
        .timetrack
        .state()
        .update_attendance(tt_id, old.from, new_to, 60));
    // Personio: a comment on the WORK period of another entry.
    assert!(h
        .personio
        .state()
        .set_attendance_comment(&p_work, Some("Schulung Brandschutz")));

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        writes(&run.counts),
        counts(&[("personio", "update", 1), ("timetrack", "update", 1)])
    );
    assert!(run.conflicts.is_empty(), "{:?}", run.conflicts);

    // Personio holds the longer entry with one 60-minute BREAK centred in it (whole minutes).
    let (start, end) = (local(old.from), local(new_to));
    let length_mins = (new_to.as_second() - old.from.as_second()) / 60;
    let break_start = start
        .checked_add(jiff::SignedDuration::from_mins((length_mins - 60) / 2))
        .expect("time");
    assert_eq!(
        h.p_shapes(&tt_person, tt_day, tt_day),
        vec![
            (AttendanceType::Work, start, end),
            (
                AttendanceType::Break,
                break_start,
                break_start
                    .checked_add(jiff::SignedDuration::from_mins(60))
                    .expect("time")
            ),
        ]
    );
    // TimeTrack carries the Personio comment as its notes, nothing else changed.
    let updated = h.timetrack.state().attendances[&p_tt_id].clone();
    assert_eq!(updated.notes.as_deref(), Some("Schulung Brandschutz"));
    assert_eq!(updated.user, h.username(&p_person));

    let before = h.snapshot();
    let again = h.scheduled().await;
    assert_eq!(writes(&again.counts), Counts::new());
    assert_eq!(h.snapshot(), before);
}

#[tokio::test]
async fn a_conflicting_edit_resolves_to_the_master() {
    let h = harness().await; // master: TimeTrack
    h.scheduled().await;
    let (person, tt_id, work_id, day) = h.twin(false, &[]);
    let old = h.timetrack.state().attendances[&tt_id].clone();
    // Both sides change the same entry: TimeTrack starts 30 minutes earlier, Personio gets a comment.
    let tt_from = old.from - jiff::SignedDuration::from_mins(30);
    assert!(h
        .timetrack
        .state()
        .update_attendance(tt_id, tt_from, old.to, old.break_minutes));
    assert!(h
        .personio
        .state()
        .set_attendance_comment(&work_id, Some("Personio-Änderung")));

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.conflicts.len(), 1, "{:?}", run.conflicts);
    let conflict = &run.conflicts[0];
    assert_eq!(conflict.winner, System::TimeTrack);
    assert_eq!(
        conflict.timetrack_id.as_deref(),
        Some(tt_id.to_string().as_str())
    );
    assert_eq!(conflict.resolution, shared::runs::Resolution::Update);
    assert_eq!(writes(&run.counts), counts(&[("personio", "update", 1)]));

    // Personio now holds TimeTrack's version: earlier start, no comment.
    let works: Vec<AttendancePeriod> = h
        .p_periods_of(&person, day)
        .into_iter()
        .filter(|p| p.kind == AttendanceType::Work)
        .collect();
    assert_eq!(works.len(), 1);
    assert_eq!(works[0].start.date_time, local(tt_from));
    assert_eq!(works[0].end.map(|e| e.date_time), Some(local(old.to)));
    assert_eq!(works[0].comment.as_deref().unwrap_or(""), "");
    let tt = h.timetrack.state().attendances[&tt_id].clone();
    assert_eq!(
        (tt.from, tt.to, tt.notes.clone()),
        (tt_from, old.to, old.notes)
    );
}

#[tokio::test]
async fn a_delete_propagates_both_ways() {
    let h = harness().await;
    h.scheduled().await;
    let (tt_person, tt_id, _, tt_day) = h.twin(false, &[]);
    let (p_person, p_tt_id, _, p_day) = h.twin(false, &[&tt_person]);
    assert_eq!(
        h.p_shapes(&tt_person, tt_day, tt_day).len(),
        2,
        "WORK + BREAK"
    );
    // Deleted in TimeTrack (soft delete: GET answers 404/15020) and, for the other entry, in Personio
    // (every period of the entry).
    assert!(h.timetrack.state().delete_attendance(tt_id));
    for p in h.p_periods_of(&p_person, p_day) {
        assert!(h.personio.state().delete_attendance(&p.id));
    }

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        writes(&run.counts),
        counts(&[("personio", "delete", 1), ("timetrack", "delete", 1)])
    );
    assert_eq!(h.p_shapes(&tt_person, tt_day, tt_day), vec![]);
    assert!(h.timetrack.state().attendances[&p_tt_id].deleted);
    let mapped: BTreeSet<String> = h
        .entry_mappings()
        .await
        .into_iter()
        .filter_map(|m| m.timetrack_id)
        .collect();
    assert!(!mapped.contains(&tt_id.to_string()));
    assert!(!mapped.contains(&p_tt_id.to_string()));
}

#[tokio::test]
async fn a_push_for_a_payroll_period_writes_only_to_personio() {
    let h = harness_with(|s| s.time_entries.mode = TimeEntryMode::Push).await;
    let tt_before = h.timetrack.state().attendances.clone();
    let (personio_only, timetrack_only) = one_sided(&h, date(2026, 10, 1), date(2026, 10, 31));
    let (status, body) = h
        .manual(&json!({"from": "2026-10-01", "to": "2026-10-31", "direction": "to_personio"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let run: RunRecord = serde_json::from_value(body).expect("run record");
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.window.from, date(2026, 10, 1));
    assert_eq!(run.window.to, date(2026, 10, 31));
    let adopted = run.counts.mappings.adopt;
    assert_eq!(
        writes(&run.counts),
        counts(&[
            ("mappings", "adopt", adopted),
            ("personio", "create", timetrack_only as u64),
        ])
    );
    // TimeTrack is untouched; Personio gained the TimeTrack-only entries (the night shift as two WORK
    // parts and a BREAK, the DST-Sunday shift and day entries with a BREAK each) and nothing else.
    assert_eq!(h.timetrack.state().attendances, tt_before);
    let (still_personio_only, none) = one_sided(&h, date(2026, 10, 1), date(2026, 10, 31));
    assert_eq!((still_personio_only, none), (personio_only, 0));

    // A scheduled run in push mode also writes only to Personio (here: the rest of the month).
    let scheduled = h.scheduled().await;
    assert_eq!(scheduled.direction, shared::domain::Direction::ToPersonio);
    let november_timetrack_only = one_sided(&h, date(2026, 11, 1), date(2026, 11, 10)).1;
    assert_eq!(
        november_timetrack_only, 0,
        "the scheduled push created November's entries"
    );
    assert!(!writes(&scheduled.counts).contains_key("timetrack"));
    assert_eq!(h.timetrack.state().attendances, tt_before);
}

#[tokio::test]
async fn the_dst_weekend_and_an_overnight_shift_come_out_right_to_the_minute() {
    let h = harness().await;
    // A new TimeTrack entry for Hans-Peter on the spring-forward night (March, outside the seed) and
    // the seed's overnight and DST-weekend entries.
    let hp = h.username(HANS_PETER);
    let spring = h.timetrack.state().add_attendance(
        &hp,
        ts("2026-03-29T00:30:00Z"),
        ts("2026-03-29T04:30:00Z"),
        0,
    );
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let (status, body) = h
        .manual(&json!({"from": "2026-03-29", "to": "2026-03-29"}))
        .await;
    assert_eq!(status, 200, "{body}");

    // Spring forward: 00:30Z is 01:30 CET, 04:30Z is 06:30 CEST — five wall-clock hours, four real.
    assert_eq!(
        h.p_shapes(HANS_PETER, date(2026, 3, 29), date(2026, 3, 29)),
        vec![(
            AttendanceType::Work,
            date(2026, 3, 29).at(1, 30, 0, 0),
            date(2026, 3, 29).at(6, 30, 0, 0)
        )]
    );
    assert!(!h.timetrack.state().attendances[&spring].deleted);

    // Autumn: Hans-Peter's TimeTrack-only Sunday shift 07:00Z–15:00Z is 08:00–16:00 CET.
    let sunday = date(2026, 10, 25);
    let hp_sunday = h.tt_on(HANS_PETER, sunday);
    assert_eq!(hp_sunday.len(), 1);
    assert_eq!(
        (hp_sunday[0].from, hp_sunday[0].to),
        (ts("2026-10-25T07:00:00Z"), ts("2026-10-25T15:00:00Z"))
    );
    assert_eq!(
        h.p_shapes(HANS_PETER, sunday, sunday),
        vec![(
            AttendanceType::Work,
            sunday.at(8, 0, 0, 0),
            sunday.at(16, 0, 0, 0)
        )]
    );
    // Jörg's shift across the change, 01:00 CEST – 07:00 CET (7 real hours), was adopted as a twin.
    let joerg = h.tt_on(JOERG, sunday);
    assert_eq!(
        (joerg[0].from, joerg[0].to),
        (ts("2026-10-24T23:00:00Z"), ts("2026-10-25T06:00:00Z"))
    );
    assert_eq!(
        h.p_shapes(JOERG, sunday, sunday),
        vec![(
            AttendanceType::Work,
            sunday.at(1, 0, 0, 0),
            sunday.at(7, 0, 0, 0)
        )]
    );

    // The TimeTrack-only night shift of Wed 2026-10-28 22:00 – Thu 06:00 CET (21:00Z–05:00Z, 30 min
    // break): two WORK parts split at midnight and the BREAK centred in the longer part.
    let night = date(2026, 10, 28);
    let tt_night = h.tt_on(MEHMET, night);
    assert_eq!(tt_night.len(), 1);
    assert_eq!(
        (tt_night[0].from, tt_night[0].to, tt_night[0].break_minutes),
        (ts("2026-10-28T21:00:00Z"), ts("2026-10-29T05:00:00Z"), 30)
    );
    let next = date(2026, 10, 29);
    assert_eq!(
        h.p_shapes(MEHMET, night, next),
        vec![
            (
                AttendanceType::Work,
                night.at(22, 0, 0, 0),
                next.at(0, 0, 0, 0)
            ),
            (
                AttendanceType::Work,
                next.at(0, 0, 0, 0),
                next.at(6, 0, 0, 0)
            ),
            (
                AttendanceType::Break,
                next.at(2, 45, 0, 0),
                next.at(3, 15, 0, 0)
            ),
        ]
    );
    // All three periods map to the one TimeTrack entry.
    let night_mappings: Vec<Mapping> = h
        .entry_mappings()
        .await
        .into_iter()
        .filter(|m| m.timetrack_id.as_deref() == Some(tt_night[0].id.to_string().as_str()))
        .collect();
    assert_eq!(night_mappings.len(), 1);
    assert_eq!(night_mappings[0].anchor_date, Some(night));

    let before = h.snapshot();
    assert_eq!(writes(&h.scheduled().await.counts), Counts::new());
    assert_eq!(h.snapshot(), before);
}

#[tokio::test]
async fn a_period_approved_in_personio_then_edited_in_timetrack_is_parked_as_a_conflict() {
    let h = harness().await;
    h.scheduled().await;
    // A PENDING twin that HR now approves (CONFIRMED locks it in Personio).
    let (person, tt_id, work_id, day) = h.twin(false, &[]);
    for p in h.p_periods_of(&person, day) {
        assert!(h.personio.state().approve_attendance(&p.id));
    }
    let old = h.timetrack.state().attendances[&tt_id].clone();
    let new_to = old.to + jiff::SignedDuration::from_mins(30);
    assert!(h
        .timetrack
        .state()
        .update_attendance(tt_id, old.from, new_to, old.break_minutes));
    let personio_before = h.personio.state().attendance_periods.clone();

    let run = h.scheduled().await;
    // A refused record is a per-record failure: the run completes, with the record reported.
    assert_eq!(
        run.status,
        RunStatus::CompletedWithFailures,
        "{:?}",
        run.error
    );
    assert_eq!(run.failures.len(), 1, "{:?}", run.failures);
    assert_eq!(run.failures[0].system, Some(System::Personio));
    assert!(
        run.failures[0].error.contains("approved (CONFIRMED)"),
        "{:?}",
        run.failures[0]
    );
    assert_eq!(h.personio.state().attendance_periods, personio_before);
    assert_eq!(run.conflicts.len(), 1, "{:?}", run.conflicts);
    let conflict = &run.conflicts[0];
    assert_eq!(conflict.resolution, shared::runs::Resolution::Parked);
    assert_eq!(conflict.personio_id.as_deref(), Some(work_id.as_str()));
    assert_eq!(
        conflict.timetrack_id.as_deref(),
        Some(tt_id.to_string().as_str())
    );
    let mapping = h
        .entry_mappings()
        .await
        .into_iter()
        .find(|m| m.personio_id.as_deref() == Some(work_id.as_str()))
        .expect("mapping");
    let parked = mapping.parked.expect("parked");
    assert!(
        matches!(&parked, shared::runs::ParkReason::Refused { system: System::Personio, message, .. }
            if message.contains("approved (CONFIRMED)")),
        "{parked}"
    );

    // Parked: the next run neither retries nor overwrites anything.
    let again = h.scheduled().await;
    assert_eq!(writes(&again.counts), Counts::new());
    assert_eq!(h.personio.state().attendance_periods, personio_before);
    assert_eq!(h.timetrack.state().attendances[&tt_id].to, new_to);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_returns_the_plan() {
    let h = harness().await;
    let before = h.snapshot();
    let (personio_only, timetrack_only) = one_sided(&h, date(2026, 10, 11), date(2026, 11, 10));
    let (status, body) = h
        .manual(&json!({"from": "2026-10-11", "to": "2026-11-10", "dry_run": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    let run: RunRecord = serde_json::from_value(body).expect("run record");
    assert!(run.dry_run);
    assert!(
        matches!(run.plan, shared::runs::RunPlan::Planned { .. }),
        "{:?}",
        run.plan
    );
    let adopted = run.counts.mappings.adopt;
    assert_eq!(
        writes(&run.counts),
        counts(&[
            ("mappings", "adopt", adopted),
            ("personio", "create", timetrack_only as u64),
            ("timetrack", "create", personio_only as u64),
        ])
    );
    assert_eq!(h.snapshot(), before);
    assert_eq!(h.entry_mappings().await, vec![]);
}

#[tokio::test]
async fn an_open_entry_is_not_synced_until_closed_and_is_reported_as_skipped() {
    let h = harness().await;
    h.scheduled().await;
    // Mehmet clocks in late in the evening in Personio and has not clocked out yet.
    let start: DateTime = "2026-11-09T21:00:00".parse().expect("local time");
    let open = h
        .personio
        .state()
        .add_attendance(MEHMET, AttendanceType::Work, start, None);
    let before = h.snapshot();

    let run = h.scheduled().await;
    assert_eq!(writes(&run.counts), Counts::new(), "{:?}", run.counts);
    let skipped: Vec<_> = run
        .skipped
        .iter()
        .filter(|s| s.record_id.as_deref() == Some(open.as_str()))
        .collect();
    assert_eq!(skipped.len(), 1, "{:?}", run.skipped);
    assert!(
        skipped[0].reason.contains("open"),
        "reason: {}",
        skipped[0].reason
    );
    assert_eq!(
        h.snapshot(),
        before,
        "nothing was written for the open entry"
    );

    // Clocked out at 23:30: the closed entry is created in TimeTrack on the next run.
    let end: DateTime = "2026-11-09T23:30:00".parse().expect("local time");
    assert!(h
        .personio
        .state()
        .update_attendance(&open, start, Some(end)));
    let run = h.scheduled().await;
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "create", 1)]),
        "{:?}",
        run.skipped
    );
    let created: Vec<_> = h
        .tt_on(MEHMET, date(2026, 11, 9))
        .into_iter()
        .filter(|a| local(a.from) == start)
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(local(created[0].to), end);
}

#[tokio::test]
async fn an_overlap_refused_by_personio_is_recorded_with_both_sides_times() {
    let h = harness().await;
    h.scheduled().await;
    // Sunday 2026-11-08: Mehmet has nothing on either side. Personio gets 08:00–12:00, TimeTrack a
    // different entry 10:00–14:00 local (09:00–13:00 UTC): two records, not twins, that overlap.
    let day = date(2026, 11, 8);
    assert!(h.p_periods_of(MEHMET, day).is_empty());
    assert!(h.tt_on(MEHMET, day).is_empty());
    h.personio.state().add_attendance(
        MEHMET,
        AttendanceType::Work,
        "2026-11-08T08:00:00".parse().expect("local"),
        Some("2026-11-08T12:00:00".parse().expect("local")),
    );
    let username = h.username(MEHMET);
    h.timetrack.state().add_attendance(
        &username,
        ts("2026-11-08T09:00:00Z"),
        ts("2026-11-08T13:00:00Z"),
        0,
    );

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::CompletedWithFailures);
    // The Personio entry reaches TimeTrack (TimeTrack has no overlap rule); Personio refuses the
    // overlapping TimeTrack entry, and the failure names both entries' local times.
    assert_eq!(writes(&run.counts)["timetrack"]["create"], 1);
    assert_eq!(run.failures.len(), 1, "{:?}", run.failures);
    let failure = &run.failures[0];
    assert_eq!(failure.system, Some(System::Personio));
    assert!(
        failure.error.contains("10:00") && failure.error.contains("08:00"),
        "{}",
        failure.error
    );
    assert!(failure.error.contains("overlaps"), "{}", failure.error);
    assert_eq!(
        h.p_periods_of(MEHMET, day).len(),
        1,
        "Personio kept its entry only"
    );
}
