//! Issue 11 §1: a lost answer to one write of a multi-write group never duplicates records.
//!
//! A time entry is one TimeTrack attendance but, in Personio, a group of periods (WORK, then the
//! BREAKs inside it), written one POST at a time. These tests make the Personio simulator *apply* one
//! write of such a group and then lose its answer (504, a dropped connection, or an answer later than
//! the client waits — `Fault::AfterApply`), then run the workflow normally, and check that nothing
//! exists twice, both systems agree, and a third run writes nothing. Real simulators, the DynamoDB
//! store on moto, the time-entries Lambda handler, `sync.concurrency` 1 (so "the k-th write" is one
//! well-defined request).
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test write_groups_time_entries`.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use integration_tests::{
    link_employees_by_email, linked_username, sim_clients, sim_credentials, start_simulators,
    store_with_integration, writes, Counts, WorkflowRig,
};
use jiff::civil::{date, Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::json;
use shared::domain::System;
use shared::engine::{ManualClock, RecordingScheduler};
use shared::runs::{RunRecord, RunStatus};
use shared::service::{ServiceContext, WorkflowService};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode};
use shared::store::StateStore;
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model::AttendanceType;
use simulators::{Fault, FaultRule, PersonioConfig, Seed, TimeTrackConfig};

const NOW: &str = "2026-11-10T09:00:00Z";
/// A day before the seed's attendances: the only entries on it are the ones a test adds.
const DAY: &str = "2026-09-15";
/// The client timeout of these tests; a hang fault outlasts it.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(1500);
const PERIODS: &str = "/v2/attendance-periods";

fn day() -> Date {
    DAY.parse().expect("date")
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

struct Harness {
    rig: WorkflowRig<TimeEntriesBinding>,
    users: BTreeMap<String, String>,
    /// The runs' direction: `to_personio` for the payroll push, else both ways.
    direction: &'static str,
}

async fn harness(master: System, mode: TimeEntryMode) -> Harness {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 11, 10))).await;
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Europe/Berlin".into();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = mode;
    settings.time_entries.master = master;
    settings.personio.attendance_skip_approval = false;
    settings.sync.concurrency = 1;
    let now = ts(NOW);
    let (store, id) = store_with_integration(&settings).await;
    let credentials = sim_credentials(&id, &PersonioConfig::default(), &TimeTrackConfig::default());
    let context = ServiceContext {
        store: store.clone(),
        credentials: Arc::new(credentials),
        scheduler: Arc::new(RecordingScheduler::default()),
        clock: Arc::new(ManualClock::new(now)),
        clients: sim_clients(&personio, &timetrack, CLIENT_TIMEOUT),
    };
    let users = link_employees_by_email(&store, &id, &personio, &timetrack, now).await;
    let rig = WorkflowRig {
        personio,
        timetrack,
        store,
        service: WorkflowService::new(context, TimeEntriesBinding),
        id,
    };
    let direction = match mode {
        TimeEntryMode::Push => "to_personio",
        _ => "both",
    };
    Harness {
        rig,
        users,
        direction,
    }
}

/// The three ways an answer gets lost after the write was applied.
fn lost_answers() -> Vec<(&'static str, Fault)> {
    vec![
        ("504", Fault::applied_then_status(504)),
        ("drop", Fault::applied_then_dropped()),
        (
            "hang",
            Fault::applied_then_hang(CLIENT_TIMEOUT + Duration::from_secs(1)),
        ),
    ]
}

impl Harness {
    /// Two linked persons of the seed (sorted by id), for entries on [`DAY`].
    fn persons(&self) -> (String, String) {
        let mut ids = self.users.keys().cloned();
        (ids.next().expect("one"), ids.next().expect("two"))
    }

    /// A manual run of [`DAY`] (two-way, or the payroll push).
    async fn run(&self) -> RunRecord {
        let (status, body) = self
            .rig
            .manual(&json!({"from": DAY, "to": DAY, "direction": self.direction}))
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("run record")
    }

    /// A TimeTrack attendance of `person` on [`DAY`], 08:00–16:30 local with a 30 minute break.
    fn timetrack_entry(&self, person: &str) -> i64 {
        let user = linked_username(&self.users, person);
        self.rig.timetrack.state().add_attendance(
            &user,
            ts("2026-09-15T06:00:00Z"),
            ts("2026-09-15T14:30:00Z"),
            30,
        )
    }

    /// `person`'s Personio periods on [`DAY`] as (type, local start, local end), sorted.
    fn personio_shapes(&self, person: &str) -> Vec<(AttendanceType, DateTime, DateTime)> {
        let mut shapes: Vec<_> = self
            .rig
            .personio
            .state()
            .attendance_periods
            .values()
            .filter(|p| p.person.id == person && p.start.date_time.date() == day())
            .map(|p| (p.kind, p.start.date_time, p.end.expect("closed").date_time))
            .collect();
        shapes.sort_by_key(|(kind, start, _)| (*kind == AttendanceType::Break, *start));
        shapes
    }

    /// `person`'s live TimeTrack attendances on [`DAY`] as (local from, local to, break minutes).
    fn timetrack_shapes(&self, person: &str) -> Vec<(DateTime, DateTime, i64)> {
        let user = linked_username(&self.users, person);
        let mut shapes: Vec<_> = self
            .rig
            .timetrack
            .state()
            .live_attendances()
            .filter(|a| a.user == user && local(a.from).date() == day())
            .map(|a| (local(a.from), local(a.to), a.break_minutes))
            .collect();
        shapes.sort();
        shapes
    }

    /// The run after the faulty one, then a third: the second converges, the third writes nothing
    /// and reports nothing skipped,
    /// and `person`'s entry is one WORK 08:00–16:30 with one 30-minute BREAK inside it in Personio
    /// and one attendance in TimeTrack.
    async fn assert_converges(&self, person: &str, what: &str) {
        let second = self.run().await;
        assert_eq!(second.status, RunStatus::Succeeded, "{what}: {second:?}");
        assert!(second.failures.is_empty(), "{what}: {:?}", second.failures);
        self.assert_one_entry(person, what);
        let snapshot = (
            self.rig.personio.state().attendance_periods.clone(),
            self.rig.timetrack.state().attendances.clone(),
        );
        let third = self.run().await;
        assert_eq!(third.status, RunStatus::Succeeded, "{what}: {third:?}");
        assert_eq!(writes(&third.counts), Counts::new(), "{what}: {third:?}");
        assert!(third.skipped.is_empty(), "{what}: {:?}", third.skipped);
        assert_eq!(
            (
                self.rig.personio.state().attendance_periods.clone(),
                self.rig.timetrack.state().attendances.clone(),
            ),
            snapshot,
            "{what}: the third run wrote nothing"
        );
    }

    fn assert_one_entry(&self, person: &str, what: &str) {
        let (start, end) = (day().at(8, 0, 0, 0), day().at(16, 30, 0, 0));
        let shapes = self.personio_shapes(person);
        assert_eq!(
            shapes.len(),
            2,
            "{what}: one WORK and one BREAK: {shapes:?}"
        );
        assert_eq!(shapes[0], (AttendanceType::Work, start, end), "{what}");
        let (kind, b_start, b_end) = shapes[1];
        assert_eq!(kind, AttendanceType::Break, "{what}");
        assert!(start <= b_start && b_end <= end, "{what}: {shapes:?}");
        assert_eq!(
            b_start.duration_until(b_end),
            jiff::SignedDuration::from_mins(30),
            "{what}"
        );
        assert_eq!(
            self.timetrack_shapes(person),
            vec![(start, end, 30)],
            "{what}"
        );
    }
}

/// The failure of the issue: Personio applies the BREAK POST (the second write of the group) and the
/// answer is lost. Fails on the code before the fix: the run rolled back the WORK, the BREAK stayed
/// inside no WORK, and the next run created WORK + BREAK again (two identical BREAKs).
#[tokio::test]
async fn a_lost_answer_to_the_break_post_leaves_no_duplicate_break() {
    for (what, fault) in lost_answers() {
        let h = harness(System::TimeTrack, TimeEntryMode::Bidirectional).await;
        let (person, _) = h.persons();
        h.timetrack_entry(&person);
        h.rig.personio.inject(
            FaultRule::new(PERIODS, fault, 1)
                .with_method("POST")
                .after(1),
        );
        let first = h.run().await;
        assert_eq!(
            first.status,
            RunStatus::CompletedWithFailures,
            "{what}: {first:?}"
        );
        assert_eq!(first.failures.len(), 1, "{what}: {:?}", first.failures);
        h.assert_converges(&person, what).await;
    }
}

/// The same with the first write of the group (the WORK POST) and with Personio as master: whatever
/// the lost answer left behind is the product's own and is completed, never overwritten onto
/// TimeTrack nor created twice.
#[tokio::test]
async fn a_lost_answer_to_any_write_of_the_group_converges_whoever_is_master() {
    for master in [System::Personio, System::TimeTrack] {
        for (k, (what, fault)) in [0, 1].into_iter().zip(lost_answers()) {
            let what = format!("{what} at write {} (master {master})", k + 1);
            let h = harness(master, TimeEntryMode::Bidirectional).await;
            let (person, _) = h.persons();
            h.timetrack_entry(&person);
            h.rig.personio.inject(
                FaultRule::new(PERIODS, fault, 1)
                    .with_method("POST")
                    .after(k),
            );
            let first = h.run().await;
            assert_eq!(first.status, RunStatus::CompletedWithFailures, "{what}");
            h.assert_converges(&person, &what).await;
        }
    }
}

/// A request lost *before* Personio applied it (a 504 instead of the BREAK POST): the first run may
/// leave the WORK standing; the next run completes the entry even when Personio is master (the WORK
/// alone is the product's unfinished create, not an edit to copy onto TimeTrack).
#[tokio::test]
async fn an_unapplied_break_post_is_completed_even_with_personio_as_master() {
    for fault in [Fault::Status(504), Fault::DropConnection] {
        let what = format!("{fault:?}");
        let h = harness(System::Personio, TimeEntryMode::Bidirectional).await;
        let (person, _) = h.persons();
        h.timetrack_entry(&person);
        h.rig.personio.inject(
            FaultRule::new(PERIODS, fault, 1)
                .with_method("POST")
                .after(1),
        );
        let first = h.run().await;
        assert_eq!(first.status, RunStatus::CompletedWithFailures, "{what}");
        h.assert_converges(&person, &what).await;
    }
}

/// Lost answers on both sides in one run: Personio's BREAK POST of one entry and TimeTrack's POST of
/// another (a Personio-only entry of a second person).
#[tokio::test]
async fn lost_answers_on_both_sides_in_one_run_converge() {
    let h = harness(System::TimeTrack, TimeEntryMode::Bidirectional).await;
    let (person, other) = h.persons();
    h.timetrack_entry(&person);
    {
        let mut p = h.rig.personio.state();
        let work = p.add_attendance(
            &other,
            AttendanceType::Work,
            day().at(8, 0, 0, 0),
            Some(day().at(16, 30, 0, 0)),
        );
        let brk = p.add_attendance(
            &other,
            AttendanceType::Break,
            day().at(12, 0, 0, 0),
            Some(day().at(12, 30, 0, 0)),
        );
        assert!(!work.is_empty() && !brk.is_empty());
    }
    h.rig.personio.inject(
        FaultRule::new(PERIODS, Fault::applied_then_status(504), 1)
            .with_method("POST")
            .after(1),
    );
    h.rig.timetrack.inject(
        FaultRule::new("/attendances", Fault::applied_then_status(504), 1).with_method("POST"),
    );
    let first = h.run().await;
    assert_eq!(first.status, RunStatus::CompletedWithFailures);
    assert_eq!(first.failures.len(), 2, "{:?}", first.failures);
    h.assert_converges(&person, "both sides").await;
    h.assert_one_entry(&other, "the Personio-only entry");
}

/// The payroll push (`to_personio`) is the same group of Personio writes: a lost answer on its BREAK
/// POST converges on the next push and TimeTrack is never written.
#[tokio::test]
async fn a_lost_answer_during_the_payroll_push_converges() {
    let h = harness(System::TimeTrack, TimeEntryMode::Push).await;
    let (person, _) = h.persons();
    h.timetrack_entry(&person);
    let before = h.rig.timetrack.state().attendances.clone();
    h.rig.personio.inject(
        FaultRule::new(PERIODS, Fault::applied_then_dropped(), 1)
            .with_method("POST")
            .after(1),
    );
    let first = h.run().await;
    assert_eq!(first.direction, shared::domain::Direction::ToPersonio);
    assert_eq!(first.status, RunStatus::CompletedWithFailures);
    h.assert_converges(&person, "push").await;
    assert_eq!(h.rig.timetrack.state().attendances, before);
}

/// What the code before this fix left after a lost BREAK answer: the WORK undone, the BREAK standing
/// inside no WORK, and the mapping's pending intent (without recorded parts, as intents were then).
/// The next run recognises the BREAK as the product's debris — inside no WORK and exactly a BREAK the
/// pending create accounts for — removes it and creates the entry once.
#[tokio::test]
async fn a_break_left_inside_no_work_by_an_earlier_release_is_removed_before_the_create() {
    let h = harness(System::TimeTrack, TimeEntryMode::Bidirectional).await;
    let (person, _) = h.persons();
    h.timetrack_entry(&person);
    // The release before: the BREAK POST applied, its answer lost, the WORK rolled back.
    h.rig.personio.inject(
        FaultRule::new(PERIODS, Fault::applied_then_status(504), 1)
            .with_method("POST")
            .after(1),
    );
    h.run().await;
    let mut mappings = h
        .rig
        .store
        .list_mappings(&h.rig.id, shared::domain::EntityKind::TimeEntry, None)
        .await
        .expect("mappings");
    let mut pending = mappings.pop().expect("the pending create's mapping");
    assert!(mappings.is_empty());
    let intent = pending.intent.as_mut().expect("pending intent");
    intent.parts.clear();
    pending.version += 1;
    h.rig.store.put_mapping(&pending).await.expect("put");
    let work: Vec<String> = h
        .rig
        .personio
        .state()
        .attendance_periods
        .values()
        .filter(|p| p.person.id == person && p.kind == AttendanceType::Work)
        .filter(|p| p.start.date_time.date() == day())
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(work.len(), 1);
    assert!(h.rig.personio.state().delete_attendance(&work[0]));
    assert_eq!(h.personio_shapes(&person).len(), 1, "the orphaned BREAK");

    h.assert_converges(&person, "legacy debris").await;
}
