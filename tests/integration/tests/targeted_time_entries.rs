//! Targeted (webhook) runs of the time-entries workflow: `WorkflowService::run_hints` with change hints
//! of attendance periods, against the real DynamoDB store on moto_server and both simulators seeded
//! with the seed company of Tuesday 2026-11-10 (see `time_entries_workflow.rs` for the seed). Each
//! test first runs the scheduled month so that both sides are in sync and mapped, then changes
//! Personio the way a user would and hands the run the hints Personio's webhooks would carry.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test targeted_time_entries`.
use std::collections::BTreeMap;
use std::ops::Deref;

use integration_tests::{counts, linked_username, start_simulators, writes, Counts, WorkflowRig};
use jiff::civil::{date, Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use shared::domain::{DateWindow, EntityKind, ScopeEntry, System, Trigger, Workflow};
use shared::engine::{ChangeHint, HintAction, HintFamily};
use shared::runs::{RunRecord, RunStatus};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting};
use shared::store::StateStore;
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model::AttendanceType;
use simulators::timetrack::model::Attendance as TtAttendance;
use simulators::Seed;

const NOW: &str = "2026-11-10T09:00:00Z";
/// Jürgen Müller, an ordinary linked employee with weekday attendances.
const JUERGEN: &str = "1002";
/// Lena Vogt, another linked employee (her records must stay untouched by Jürgen's hints).
const LENA: &str = "1005";
/// A Saturday without seed attendances.
const SATURDAY: (i16, i8, i8) = (2026, 11, 7);

struct Harness {
    rig: WorkflowRig<TimeEntriesBinding>,
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

fn local(instant: Timestamp) -> DateTime {
    instant.to_zoned(berlin()).datetime()
}

fn saturday() -> Date {
    date(SATURDAY.0, SATURDAY.1, SATURDAY.2)
}

fn hint(event: &str, action: HintAction, id: &str) -> ChangeHint {
    ChangeHint {
        event_id: event.to_string(),
        family: HintFamily::AttendancePeriod,
        action,
        resource_id: id.to_string(),
        occurred_at: NOW.parse().expect("timestamp"),
    }
}

/// The month synced by a scheduled run: both sides agree and every entry is mapped.
async fn synced_harness() -> Harness {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 11, 10))).await;
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Europe/Berlin".into();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    settings.time_entries.master = System::Personio;
    settings.personio.attendance_skip_approval = false;
    settings.windows.time_entries = WindowSetting {
        lookback_days: 30,
        lookahead_days: 0,
    };
    let (rig, users) = WorkflowRig::start_linked(
        personio,
        timetrack,
        &settings,
        TimeEntriesBinding,
        NOW.parse().expect("now"),
    )
    .await;
    let h = Harness { rig, users };
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    h
}

impl Harness {
    fn username(&self, person: &str) -> String {
        linked_username(&self.users, person)
    }

    /// Live TimeTrack attendances of a person's user starting on a local day.
    fn tt_on(&self, person: &str, day: Date) -> Vec<TtAttendance> {
        let username = self.username(person);
        self.timetrack
            .state()
            .live_attendances()
            .filter(|a| a.user.eq_ignore_ascii_case(&username) && local(a.from).date() == day)
            .cloned()
            .collect()
    }

    /// Every live TimeTrack attendance but those of `person` on `day`.
    fn tt_except(&self, person: &str, day: Date) -> BTreeMap<i64, TtAttendance> {
        let username = self.username(person);
        self.timetrack
            .state()
            .live_attendances()
            .filter(|a| !(a.user.eq_ignore_ascii_case(&username) && local(a.from).date() == day))
            .map(|a| (a.id, a.clone()))
            .collect()
    }

    /// A new day entry in Personio: WORK `from`–`to` and a 30-minute BREAK at 12:00 (ids).
    fn add_day_entry(&self, person: &str, day: Date, from: i8, to: i8) -> (String, String) {
        let mut p = self.personio.state();
        let work = p.add_attendance(
            person,
            AttendanceType::Work,
            day.at(from, 0, 0, 0),
            Some(day.at(to, 0, 0, 0)),
        );
        let pause = p.add_attendance(
            person,
            AttendanceType::Break,
            day.at(12, 0, 0, 0),
            Some(day.at(12, 30, 0, 0)),
        );
        (work, pause)
    }

    /// A mapped weekday WORK period of `person` on the latest day before today that has one.
    fn mapped_work(&self, person: &str) -> (String, Date) {
        let p = self.personio.state();
        p.attendance_periods
            .values()
            .filter(|w| {
                w.person.id == person
                    && w.kind == AttendanceType::Work
                    && w.start.date_time.date() < date(2026, 11, 10)
                    && w.start.date_time.date() >= date(2026, 10, 27)
            })
            .max_by_key(|w| w.start.date_time)
            .map(|w| (w.id.clone(), w.start.date_time.date()))
            .expect("a recent WORK period")
    }

    async fn hints(&self, hints: Vec<ChangeHint>) -> RunRecord {
        self.service
            .run_hints(self.id.clone(), hints, None)
            .await
            .expect("targeted run")
    }

    fn personio_requests(&self) -> usize {
        self.personio.requests().len()
    }
}

fn assert_webhook_run(run: &RunRecord, events: &[&str]) {
    assert_eq!(run.trigger, Trigger::Webhook);
    assert!(!run.needs_redelivery(), "{run:?}");
    assert_eq!(run.workflow, Workflow::TimeEntries);
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{:?} {:?}",
        run.error,
        run.failures
    );
    assert_eq!(
        run.event_ids,
        events.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    let wire = serde_json::to_value(run).expect("json");
    assert_eq!(wire["trigger"], "webhook");
    assert!(wire["scope"]["entries"].is_array(), "{wire}");
}

#[tokio::test]
async fn targeted_webhook_attendance_created_updated_deleted_reach_timetrack_and_nothing_else() {
    let h = synced_harness().await;
    let day = saturday();
    let watermark = h
        .store
        .get_watermark(&h.id, Workflow::TimeEntries)
        .await
        .expect("watermark");

    // Outside the scope, unhinted: Lena's entry deleted in Personio and another of hers changed. A
    // targeted run for Jürgen must neither delete nor update anything of hers.
    let (lena_work, lena_day) = h.mapped_work(LENA);
    let lena_breaks: Vec<String> = h
        .personio
        .state()
        .attendance_periods
        .values()
        .filter(|p| p.person.id == LENA && p.start.date_time.date() == lena_day)
        .map(|p| p.id.clone())
        .collect();
    for id in &lena_breaks {
        assert!(h.personio.state().delete_attendance(id));
    }
    assert!(!h
        .personio
        .state()
        .attendance_periods
        .contains_key(&lena_work));
    let untouched = h.tt_except(JUERGEN, day);

    // created: a WORK and its BREAK, two events.
    let (work, pause) = h.add_day_entry(JUERGEN, day, 9, 17);
    let run = h
        .hints(vec![
            hint("ev-1", HintAction::Created, &work),
            hint("ev-2", HintAction::Created, &pause),
        ])
        .await;
    assert_webhook_run(&run, &["ev-1", "ev-2"]);
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "create", 1)]),
        "{:?}",
        run.counts
    );
    let scope = run.scope.as_ref().expect("scope");
    // A BREAK may belong to an overnight entry of the day before: that day is read too.
    assert_eq!(
        scope.entries,
        vec![ScopeEntry {
            person: JUERGEN.into(),
            days: Some(DateWindow {
                from: date(2026, 11, 6),
                to: day
            }),
        }]
    );
    assert_eq!(scope.synced, vec!["ev-1".to_string(), "ev-2".to_string()]);
    assert_eq!(run.window.from, date(2026, 11, 6));
    assert_eq!(run.window.to, day);
    let tt = h.tt_on(JUERGEN, day);
    assert_eq!(tt.len(), 1, "{tt:?}");
    assert_eq!(local(tt[0].from), day.at(9, 0, 0, 0));
    assert_eq!(local(tt[0].to), day.at(17, 0, 0, 0));
    assert_eq!(tt[0].break_minutes, 30);
    assert_eq!(h.tt_except(JUERGEN, day), untouched, "outside the scope");
    assert_eq!(
        h.store
            .get_watermark(&h.id, Workflow::TimeEntries)
            .await
            .expect("watermark"),
        watermark,
        "a targeted run does not move the watermark"
    );

    // updated: the WORK starts an hour earlier.
    assert!(h.personio.state().update_attendance(
        &work,
        day.at(8, 0, 0, 0),
        Some(day.at(17, 0, 0, 0))
    ));
    let run = h
        .hints(vec![hint("ev-3", HintAction::Updated, &work)])
        .await;
    assert_webhook_run(&run, &["ev-3"]);
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "update", 1)]),
        "{:?}",
        run.counts
    );
    let tt = h.tt_on(JUERGEN, day);
    assert_eq!(tt.len(), 1);
    assert_eq!(local(tt[0].from), day.at(8, 0, 0, 0));
    assert_eq!(h.tt_except(JUERGEN, day), untouched, "outside the scope");

    // deleted: BREAK and WORK; the BREAK was never mapped (stale), the WORK is (a delete candidate).
    assert!(h.personio.state().delete_attendance(&pause));
    assert!(h.personio.state().delete_attendance(&work));
    let tt_id = h.tt_on(JUERGEN, day)[0].id;
    let batch = vec![
        hint("ev-4", HintAction::Deleted, &pause),
        hint("ev-5", HintAction::Deleted, &work),
    ];
    let run = h.hints(batch.clone()).await;
    assert_webhook_run(&run, &["ev-4", "ev-5"]);
    assert_eq!(
        writes(&run.counts),
        counts(&[("timetrack", "delete", 1)]),
        "{:?}",
        run.counts
    );
    let scope = run.scope.as_ref().expect("scope");
    assert_eq!(scope.gone, vec!["ev-5".to_string()]);
    assert_eq!(scope.stale, vec!["ev-4".to_string()]);
    assert!(h.tt_on(JUERGEN, day).is_empty());
    assert!(!h
        .timetrack
        .state()
        .live_attendances()
        .any(|a| a.id == tt_id));
    assert!(h
        .store
        .list_mappings(&h.id, EntityKind::TimeEntry, None)
        .await
        .expect("mappings")
        .iter()
        .all(|m| m.personio_id.as_deref() != Some(work.as_str())));
    assert_eq!(h.tt_except(JUERGEN, day), untouched, "outside the scope");

    // The same batch again (a redelivery) writes nothing.
    let again = h.hints(batch).await;
    assert_eq!(again.status, RunStatus::Succeeded);
    assert_eq!(writes(&again.counts), Counts::new(), "{:?}", again.counts);
    assert_eq!(
        again.scope.expect("scope").stale,
        vec!["ev-4".to_string(), "ev-5".to_string()]
    );

    // Lena's deleted entry is still in TimeTrack: only the drift check (a window run) carries it.
    assert_eq!(h.tt_except(JUERGEN, day), untouched);
    let window_run = h.scheduled().await;
    assert_eq!(window_run.counts.timetrack.delete, 1);
}

#[tokio::test]
async fn targeted_webhook_duplicate_and_out_of_order_hints_converge() {
    let h = synced_harness().await;
    let day = saturday();
    let (work, pause) = h.add_day_entry(JUERGEN, day, 9, 17);
    assert!(h.personio.state().update_attendance(
        &work,
        day.at(10, 0, 0, 0),
        Some(day.at(18, 0, 0, 0))
    ));
    // Out of order (updated and deleted before created), duplicated (ev-2 twice, the WORK three times).
    let batch = vec![
        hint("ev-3", HintAction::Updated, &work),
        hint("ev-9", HintAction::Deleted, &work),
        hint("ev-2", HintAction::Created, &pause),
        hint("ev-1", HintAction::Created, &work),
        hint("ev-2", HintAction::Created, &pause),
    ];
    let run = h.hints(batch.clone()).await;
    assert_webhook_run(&run, &["ev-3", "ev-9", "ev-2", "ev-1"]);
    let scope = run.scope.as_ref().expect("scope");
    assert_eq!((scope.hints, scope.records, scope.entries.len()), (5, 2, 1));
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "create", 1)]));
    let tt = h.tt_on(JUERGEN, day);
    assert_eq!(tt.len(), 1, "{tt:?}");
    assert_eq!(local(tt[0].from), day.at(10, 0, 0, 0));
    assert_eq!(local(tt[0].to), day.at(18, 0, 0, 0));

    // The same batch again, and an older event of it alone: nothing left to write.
    let again = h.hints(batch).await;
    assert_eq!(writes(&again.counts), Counts::new(), "{:?}", again.counts);
    let late = h
        .hints(vec![hint("ev-1", HintAction::Created, &work)])
        .await;
    assert_eq!(writes(&late.counts), Counts::new(), "{:?}", late.counts);
    assert_eq!(h.tt_on(JUERGEN, day).len(), 1);
}

#[tokio::test]
async fn targeted_webhook_stale_and_foreign_hints_do_nothing() {
    let h = synced_harness().await;
    let before = h.timetrack.state().attendances.clone();
    h.personio.clear_requests();
    let run = h
        .hints(vec![
            hint("ev-1", HintAction::Deleted, "no-such-period"),
            ChangeHint {
                family: HintFamily::Person,
                ..hint("ev-2", HintAction::Updated, JUERGEN)
            },
            ChangeHint {
                family: HintFamily::AbsencePeriod,
                ..hint("ev-3", HintAction::Created, "some-absence")
            },
        ])
        .await;
    assert_webhook_run(&run, &["ev-1", "ev-2", "ev-3"]);
    let scope = run.scope.as_ref().expect("scope");
    assert!(scope.entries.is_empty());
    assert_eq!(scope.stale, vec!["ev-1".to_string()]);
    assert_eq!(scope.ignored, vec!["ev-2".to_string(), "ev-3".to_string()]);
    assert_eq!(run.skipped.len(), 2, "{:?}", run.skipped);
    assert!(run.skipped[0]
        .reason
        .contains("not synced by the time-entries workflow"));
    assert_eq!(writes(&run.counts), Counts::new());
    assert_eq!(h.timetrack.state().attendances, before);
    // One GET for the stale period (and the token); nothing listed.
    let requests = h.personio.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method != "GET" || r.api_path.starts_with("/v2/attendance-periods/")),
        "{requests:?}"
    );
    assert!(requests.len() <= 2, "{requests:?}");
}

#[tokio::test]
async fn targeted_webhook_run_while_a_scheduled_run_holds_the_lease_is_already_running() {
    let h = synced_harness().await;
    let (work, _) = h.add_day_entry(JUERGEN, saturday(), 9, 17);
    let lease = h
        .store
        .acquire_lease(
            &h.id,
            Workflow::TimeEntries,
            "scheduled-run",
            NOW.parse().expect("now"),
            std::time::Duration::from_secs(900),
        )
        .await
        .expect("lease");
    let refused = h
        .service
        .run_hints(
            h.id.clone(),
            vec![hint("ev-1", HintAction::Created, &work)],
            None,
        )
        .await
        .expect_err("already running");
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(refused.type_uri.contains("already-running"), "{refused:?}");
    assert!(h.tt_on(JUERGEN, saturday()).is_empty());

    // Once the scheduled run is done, the redelivered batch goes through.
    h.store.release_lease(&lease).await.expect("release");
    let run = h
        .hints(vec![hint("ev-1", HintAction::Created, &work)])
        .await;
    assert_webhook_run(&run, &["ev-1"]);
    assert_eq!(h.tt_on(JUERGEN, saturday()).len(), 1);
}

#[tokio::test]
async fn targeted_webhook_attendance_change_costs_at_most_four_personio_requests() {
    let h = synced_harness().await;
    // A window run of the month, for comparison.
    h.personio.clear_requests();
    h.scheduled().await;
    let window_requests = h.personio_requests();

    // An update of an existing, mapped entry (a time change) carried by its webhook.
    let (work, day) = h.mapped_work(JUERGEN);
    let (start, end) = {
        let p = h.personio.state();
        let w = &p.attendance_periods[&work];
        (w.start.date_time, w.end.expect("closed").date_time)
    };
    assert!(h.personio.state().update_attendance(
        &work,
        start,
        Some(
            end.checked_add(jiff::SignedDuration::from_mins(30))
                .expect("time")
        )
    ));
    h.personio.clear_requests();
    let run = h
        .hints(vec![hint("ev-1", HintAction::Updated, &work)])
        .await;
    assert_webhook_run(&run, &["ev-1"]);
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "update", 1)]));
    let requests = h.personio.requests();
    let lists: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.api_path == "/v2/attendance-periods")
        .collect();
    assert_eq!(lists.len(), 1, "{requests:?}");
    let query = lists[0].query.clone().unwrap_or_default();
    assert!(query.contains(&format!("person.id={JUERGEN}")), "{query}");
    assert!(
        requests.len() <= 4,
        "{} Personio requests for one attendance change: {requests:?}",
        requests.len()
    );
    assert!(requests.len() < window_requests, "{window_requests}");
    eprintln!(
        "Personio requests: window run {window_requests}, targeted update {}",
        requests.len()
    );
    let tt = h.tt_on(JUERGEN, day);
    assert_eq!(tt.len(), 1);
    assert_eq!(
        local(tt[0].to),
        end.checked_add(jiff::SignedDuration::from_mins(30))
            .expect("time")
    );

    // A Personio delete: token, the GET that answers 404, the filtered list; the write is TimeTrack's.
    let members: Vec<String> = h
        .personio
        .state()
        .attendance_periods
        .values()
        .filter(|p| p.person.id == JUERGEN && p.start.date_time.date() == day)
        .map(|p| p.id.clone())
        .collect();
    for id in &members {
        h.personio.state().delete_attendance(id);
    }
    h.personio.clear_requests();
    let run = h
        .hints(vec![hint("ev-2", HintAction::Deleted, &work)])
        .await;
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "delete", 1)]));
    let requests = h.personio.requests();
    assert!(requests.len() <= 4, "{requests:?}");
    eprintln!("Personio requests: targeted delete {}", requests.len());
    assert!(h.tt_on(JUERGEN, day).is_empty());
}

#[tokio::test]
async fn targeted_webhook_run_whose_hint_cannot_be_read_fails_with_a_record() {
    let h = synced_harness().await;
    let (work, _) = h.add_day_entry(JUERGEN, saturday(), 9, 17);
    // Personio answers 503 to the GET by id as often as the client tries (four attempts).
    h.personio.inject(
        simulators::FaultRule::new("/v2/attendance-periods/", simulators::Fault::Status(503), 4)
            .with_method("GET"),
    );
    let run = h
        .service
        .run_hints(
            h.id.clone(),
            vec![hint("ev-1", HintAction::Created, &work)],
            None,
        )
        .await
        .expect("a started run returns its record");
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.needs_redelivery());
    assert_eq!(run.trigger, Trigger::Webhook);
    assert_eq!(run.event_ids, vec!["ev-1".to_string()]);
    let error = run.error.clone().unwrap_or_default();
    assert!(
        error.contains("reading personio attendance-period"),
        "{error}"
    );
    assert!(h.tt_on(JUERGEN, saturday()).is_empty());
    let stored = h
        .store
        .get_run(&h.id, &run.run_id)
        .await
        .expect("store")
        .expect("the failed run is recorded");
    assert_eq!(stored.status, RunStatus::Failed);
    // The lease is released: the redelivered batch goes through once Personio answers again.
    let again = h
        .hints(vec![hint("ev-1", HintAction::Created, &work)])
        .await;
    assert_webhook_run(&again, &["ev-1"]);
    assert_eq!(h.tt_on(JUERGEN, saturday()).len(), 1);
}
