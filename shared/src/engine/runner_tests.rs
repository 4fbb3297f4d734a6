//! Tests of apply and the runner against `MemoryStore` and the fake ports: failures and parking, dry
//! runs, leases, continuations, and the properties of design.md §3 as proptest properties.
use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::{date, Date};
use jiff::SignedDuration;
use proptest::prelude::*;

use super::clock::ManualClock;
use super::port::PortErrorClass;
use super::runner::{EngineError, RunRequest, RunnerConfig, SyncRunner};
use super::scheduler::RecordingScheduler;
use super::slices::{estimate_per_day, plan_slices};
use super::testkit::{CrashSwitch, FakeKind, FakePort, FakeValue, FakeWrite};
use crate::domain::{DateWindow, Direction, IntegrationId, System, Trigger, Workflow};
use crate::runs::{Resolution, RunPlan, RunRecord, RunStatus};
use crate::settings::IntegrationSettings;
use crate::store::memory::MemoryStore;
use crate::store::StateStore;

const P: System = System::Personio;
const T: System = System::TimeTrack;

fn window() -> DateWindow {
    DateWindow::new(date(2026, 3, 1), date(2026, 3, 31)).unwrap()
}
/// Days a record can belong to: two in the window, two outside it.
const DAYS: [(i16, i8, i8); 4] = [(2026, 3, 5), (2026, 3, 20), (2026, 2, 10), (2026, 4, 15)];
fn day(i: usize) -> Date {
    let (y, m, d) = DAYS[i % DAYS.len()];
    date(y, m, d)
}
fn integration() -> IntegrationId {
    IntegrationId::new("acme").unwrap()
}

struct Harness {
    store: MemoryStore,
    crash: Arc<CrashSwitch>,
    p: FakePort,
    t: FakePort,
    kind: FakeKind,
    settings: IntegrationSettings,
    clock: ManualClock,
    scheduler: RecordingScheduler,
    config: RunnerConfig,
}

impl Harness {
    fn new(master: System) -> Self {
        let crash = CrashSwitch::new();
        let settings: IntegrationSettings = serde_json::from_value(serde_json::json!({
            "time_zone": "Europe/Berlin",
            "sync": {"max_failures_before_parking": 3, "concurrency": 3},
        }))
        .unwrap();
        Self {
            store: MemoryStore::new(),
            p: FakePort::new(P, crash.clone()),
            t: FakePort::new(T, crash.clone()).with_update_recreates(),
            crash,
            kind: FakeKind { master },
            settings,
            clock: ManualClock::new("2026-03-31T10:00:00Z".parse().unwrap()),
            scheduler: RecordingScheduler::new(),
            config: RunnerConfig::default(),
        }
    }

    fn runner(&self) -> SyncRunner<'_, FakeKind> {
        SyncRunner {
            kind: &self.kind,
            store: &self.store,
            personio: &self.p,
            timetrack: &self.t,
            settings: &self.settings,
            clock: &self.clock,
            scheduler: &self.scheduler,
            config: self.config,
        }
    }

    fn request(&self, direction: Direction, dry_run: bool) -> RunRequest {
        RunRequest {
            integration_id: integration(),
            workflow: Workflow::TimeEntries,
            trigger: Trigger::Manual,
            window: Some(window()),
            direction,
            dry_run,
            continues_run_id: None,
            deadline: None,
        }
    }

    async fn run(&self, direction: Direction) -> RunRecord {
        self.clock.advance(SignedDuration::from_mins(1));
        self.runner()
            .run(self.request(direction, false))
            .await
            .unwrap()
    }

    /// A dry run's plan: the actions a re-plan would take now.
    async fn replan(&self) -> Vec<serde_json::Value> {
        self.clock.advance(SignedDuration::from_mins(1));
        let record = self
            .runner()
            .run(self.request(Direction::Both, true))
            .await
            .unwrap();
        let RunPlan::Planned { actions, .. } = record.plan else {
            panic!("a dry run reports its plan: {:?}", record.plan)
        };
        actions
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// In-window records of a side by natural key; panics (fails the test) on a duplicate key.
fn by_key(port: &FakePort) -> BTreeMap<String, FakeValue> {
    let mut out = BTreeMap::new();
    for (id, v) in port.records() {
        if window().contains(v.day) {
            assert!(
                out.insert(v.key.clone(), v.clone()).is_none(),
                "duplicate record for key {} ({id})",
                v.key
            );
        }
    }
    out
}
fn outside(port: &FakePort) -> BTreeMap<String, FakeValue> {
    port.records()
        .into_iter()
        .filter(|(_, v)| !window().contains(v.day))
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Examples

#[test]
fn engine_first_sync_of_identical_systems_writes_nothing_and_moves_the_watermark() {
    block_on(async {
        let h = Harness::new(P);
        for i in 0..4 {
            let v = FakeValue::new(format!("k{i}"), day(i), "same");
            h.p.insert(v.clone());
            h.t.insert(v);
        }
        let record = h.run(Direction::Both).await;
        assert_eq!(record.status, RunStatus::Succeeded);
        assert!(h.p.writes().is_empty() && h.t.writes().is_empty());
        // The two in-window twins were adopted; the two outside the window were not even looked at.
        assert_eq!(record.counts.mappings.adopt, 2);
        assert_eq!(h.store.mappings_snapshot().len(), 2);
        let wm = h
            .store
            .get_watermark(&integration(), Workflow::TimeEntries)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(wm.run_id, record.run_id);
        // The lease is free again.
        assert_eq!(h.run(Direction::Both).await.status, RunStatus::Succeeded);
    });
}

#[test]
fn engine_two_way_run_creates_updates_deletes_and_records_conflicts() {
    block_on(async {
        let h = Harness::new(T);
        let p1 = h.p.insert(FakeValue::new("a", day(0), "1"));
        let t2 = h.t.insert(FakeValue::new("b", day(1), "1"));
        let p3 = h.p.insert(FakeValue::new("c", day(0), "1"));
        let first = h.run(Direction::Both).await;
        assert_eq!(first.counts.timetrack.create, 2);
        assert_eq!(first.counts.personio.create, 1);

        h.p.set(&p1, FakeValue::new("a", day(0), "2")); // changed / unchanged
        h.t.remove(&t2); // unchanged / deleted
        let t3 =
            h.t.records()
                .into_iter()
                .find(|(_, v)| v.key == "c")
                .unwrap()
                .0;
        h.p.set(&p3, FakeValue::new("c", day(0), "p-edit")); // changed / changed
        h.t.set(&t3, FakeValue::new("c", day(0), "t-edit"));
        let second = h.run(Direction::Both).await;
        assert_eq!(second.status, RunStatus::Succeeded, "{second:?}");
        assert_eq!(second.counts.timetrack.update, 1);
        assert_eq!(second.counts.personio.delete, 1);
        assert_eq!(second.counts.personio.update, 1);
        assert_eq!(second.conflicts.len(), 1);
        let c = &second.conflicts[0];
        assert_eq!((c.winner, c.resolution.as_str()), (T, "update"));
        assert_eq!(c.personio.as_ref().unwrap()["payload"], "p-edit");
        assert_eq!(c.timetrack.as_ref().unwrap()["payload"], "t-edit");
        assert_eq!(by_key(&h.p), by_key(&h.t));
        assert!(h.replan().await.is_empty());
    });
}

#[test]
fn engine_dry_run_writes_nothing_anywhere_and_reports_the_plan() {
    block_on(async {
        let h = Harness::new(P);
        h.p.insert(FakeValue::new("a", day(0), "1"));
        h.t.insert(FakeValue::new("b", day(1), "1"));
        let record = h
            .runner()
            .run(h.request(Direction::Both, true))
            .await
            .unwrap();
        assert!(record.dry_run);
        assert_eq!(record.status, RunStatus::Succeeded);
        assert!(h.p.writes().is_empty() && h.t.writes().is_empty());
        assert!(h.store.mappings_snapshot().is_empty(), "no intents either");
        let plan = serde_json::to_value(&record.plan).unwrap();
        assert_eq!(plan["actions"].as_array().unwrap().len(), 2);
        assert_eq!(record.counts.timetrack.create, 1);
        assert!(h
            .store
            .get_watermark(&integration(), Workflow::TimeEntries)
            .await
            .unwrap()
            .is_none());
    });
}

#[test]
fn engine_failures_are_isolated_counted_and_park_the_record() {
    block_on(async {
        let h = Harness::new(P);
        h.p.insert(FakeValue::new("bad", day(0), "1"));
        h.p.insert(FakeValue::new("good", day(0), "1"));
        h.t.fail_key("bad", PortErrorClass::Invalid);
        for attempt in 1..=3u32 {
            let r = h.run(Direction::Both).await;
            assert_eq!(r.status, RunStatus::CompletedWithFailures);
            assert_eq!(r.failures.len(), 1);
            assert_eq!(r.failures[0].action, "create");
            assert!(r.failures[0].error.contains("injected failure for bad"));
            let m = h
                .store
                .mappings_snapshot()
                .into_iter()
                .find(|m| m.timetrack_id.is_none())
                .unwrap();
            assert_eq!(m.failures, attempt);
            assert_eq!(m.parked.is_some(), attempt == 3);
        }
        // Parked: skipped with a visible reason, not retried; the good record synced on the first run.
        let r = h.run(Direction::Both).await;
        assert_eq!(r.status, RunStatus::Succeeded);
        assert!(r.skipped[0]
            .reason
            .starts_with("parked: 3 consecutive failures"));
        assert_eq!(h.t.records().len(), 1);
    });
}

#[test]
fn engine_refused_write_parks_at_once_and_is_reported_as_a_conflict() {
    block_on(async {
        let h = Harness::new(P);
        let id = h.p.insert(FakeValue::new("locked", day(0), "1"));
        h.run(Direction::Both).await;
        h.p.set(&id, FakeValue::new("locked", day(0), "2"));
        h.t.fail_key("locked", PortErrorClass::Refused);
        let r = h.run(Direction::Both).await;
        assert_eq!(r.status, RunStatus::CompletedWithFailures);
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(r.conflicts[0].resolution, Resolution::Parked);
        assert!(h.store.mappings_snapshot()[0].parked.is_some());
    });
}

#[test]
fn engine_fatal_error_aborts_the_run_and_keeps_the_watermark() {
    block_on(async {
        let h = Harness::new(P);
        for i in 0..5 {
            h.p.insert(FakeValue::new(format!("k{i}"), day(0), "1"));
        }
        h.t.fail_key("k0", PortErrorClass::Fatal);
        let r = h.run(Direction::Both).await;
        assert_eq!(r.status, RunStatus::Failed);
        assert!(r.error.unwrap().contains("injected failure"));
        assert!(h
            .store
            .get_watermark(&integration(), Workflow::TimeEntries)
            .await
            .unwrap()
            .is_none());
        h.t.heal_key("k0");
        assert_eq!(h.run(Direction::Both).await.status, RunStatus::Succeeded);
        assert_eq!(by_key(&h.p), by_key(&h.t));
    });
}

#[test]
fn engine_one_way_run_leaves_the_other_direction_for_later() {
    block_on(async {
        let h = Harness::new(P);
        h.p.insert(FakeValue::new("from-p", day(0), "1"));
        h.t.insert(FakeValue::new("from-t", day(0), "1"));
        let r = h.run(Direction::ToPersonio).await;
        assert_eq!(r.counts.personio.create, 1);
        assert_eq!(r.skipped.len(), 1);
        assert!(r.skipped[0].reason.starts_with("direction"));
        assert!(h.t.writes().is_empty());
        let r = h.run(Direction::Both).await;
        assert_eq!(r.counts.timetrack.create, 1);
        assert_eq!(by_key(&h.p), by_key(&h.t));
    });
}

#[test]
fn engine_second_run_is_told_already_running() {
    block_on(async {
        let h = Harness::new(P);
        let now = h.clock.peek();
        h.store
            .acquire_lease(
                &integration(),
                Workflow::TimeEntries,
                "other-run",
                now,
                std::time::Duration::from_secs(600),
            )
            .await
            .unwrap();
        let err = h
            .runner()
            .run(h.request(Direction::Both, false))
            .await
            .unwrap_err();
        assert!(
            matches!(err, EngineError::AlreadyRunning { ref holder, .. } if holder == "other-run"),
            "{err:?}"
        );
    });
}

/// A run killed mid-way (no finish, lease left behind) leaves a `Running` record; the run that takes
/// over its expired lease closes that record as `Failed` ("abandoned"), so no record says `Running`
/// forever. Found by the reliability suite's crash tests (issue 15).
#[test]
fn engine_run_after_an_expired_lease_closes_the_abandoned_record() {
    block_on(async {
        let h = Harness::new(P);
        let mut dead = h.run(Direction::Both).await;
        dead.run_id = "dead-run".to_string();
        dead.status = RunStatus::Running;
        dead.finished_at = None;
        dead.started_at = h.clock.peek();
        h.store.put_run(&dead).await.unwrap();
        h.store
            .acquire_lease(
                &integration(),
                Workflow::TimeEntries,
                "dead-run",
                h.clock.peek(),
                h.config.lease_ttl,
            )
            .await
            .unwrap();
        h.clock
            .advance(SignedDuration::try_from(h.config.lease_ttl).unwrap());
        let next = h.run(Direction::Both).await;
        assert_eq!(next.status, RunStatus::Succeeded);
        let closed = h
            .store
            .get_run(&integration(), "dead-run")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.status, RunStatus::Failed);
        assert!(closed.error.unwrap().contains("abandoned"));
    });
}

#[test]
fn engine_tiny_deadline_continues_until_done_with_the_same_end_state() {
    block_on(async {
        let seed = |h: &Harness| {
            for i in 0..12 {
                h.p.insert(FakeValue::new(format!("p{i}"), day(i % 2), "1"));
                h.t.insert(FakeValue::new(format!("t{i}"), day(i % 2), "1"));
            }
        };
        let reference = Harness::new(P);
        seed(&reference);
        reference.run(Direction::Both).await;

        let mut h = Harness::new(P);
        h.config.deadline_margin = std::time::Duration::from_secs(30);
        // One slice: each continuation covers the whole window (the sliced case is below).
        h.config.slice_records = 0;
        h.settings.sync.concurrency = 1;
        seed(&h);
        // Every clock read moves time by one second; each invocation gets 40 s, so the 30 s margin
        // leaves room for a few writes only.
        let clock = ManualClock::new(h.clock.peek()).with_step(SignedDuration::from_secs(1));
        h.clock = clock;
        let mut request = h.request(Direction::Both, false);
        let mut runs = Vec::new();
        loop {
            request.deadline = Some(h.clock.peek() + SignedDuration::from_secs(40));
            let record = h.runner().run(request.clone()).await.unwrap();
            runs.push(record.status);
            if record.status != RunStatus::Continued {
                break;
            }
            let scheduled = h.scheduler.take();
            assert_eq!(scheduled.len(), 1);
            assert_eq!(scheduled[0].run_id, record.run_id);
            assert_eq!(scheduled[0].continuation.window, window());
            // No watermark while continuing.
            assert!(h
                .store
                .get_watermark(&integration(), Workflow::TimeEntries)
                .await
                .unwrap()
                .is_none());
            request = RunRequest {
                trigger: Trigger::Continuation,
                window: None,
                continues_run_id: Some(record.run_id.clone()),
                ..request
            };
            assert!(runs.len() < 30, "no progress: {runs:?}");
        }
        assert!(runs.len() >= 3, "expected several continuations: {runs:?}");
        assert_eq!(runs.last(), Some(&RunStatus::Succeeded));
        assert_eq!(by_key(&h.p), by_key(&reference.p));
        assert_eq!(by_key(&h.t), by_key(&reference.t));
        assert_eq!(by_key(&h.p), by_key(&h.t));
    });
}

#[test]
fn engine_update_that_recreates_moves_the_mapping_to_the_new_id() {
    block_on(async {
        let h = Harness::new(P);
        let id = h.p.insert(FakeValue::new("a", day(0), "1"));
        h.run(Direction::Both).await;
        h.p.set(&id, FakeValue::new("a", day(0), "2"));
        h.run(Direction::Both).await;
        let m = &h.store.mappings_snapshot()[0];
        let t_ids: Vec<String> = h.t.records().into_keys().collect();
        assert_eq!(m.timetrack_id.as_ref(), t_ids.first());
        assert!(
            matches!(h.t.writes().last(), Some(FakeWrite::Update { id, new_id, .. }) if id != new_id)
        );
        assert!(h.replan().await.is_empty());
    });
}

/// The minimal case proptest found (regression seed `57584d5c…`): Personio is master, a record synced to
/// TimeTrack is edited in Personio, and the run dies right after TimeTrack's update — which TimeTrack
/// implements as delete + re-create, so the mapping still names the deleted id. The re-run used to see
/// "changed in Personio, gone in TimeTrack" (re-create in TimeTrack) plus an unmapped TimeTrack record
/// (create in Personio): a duplicate on both sides. It must re-link the mapping to the new id instead.
#[test]
fn engine_crash_after_an_update_that_recreates_relinks_instead_of_duplicating() {
    block_on(async {
        let h = Harness::new(P);
        let p1 = h.p.insert(FakeValue::new("k0", day(0), "v0"));
        h.run(Direction::Both).await;
        let [(t_old, _)]: [(String, FakeValue); 1] =
            h.t.records()
                .into_iter()
                .collect::<Vec<_>>()
                .try_into()
                .unwrap();
        h.p.set(&p1, FakeValue::new("k0", day(0), "v10"));

        // Write 1 is the update's create half, write 2 its delete half: die after the whole update.
        h.crash.arm(Some(2));
        let crashed = h.run(Direction::Both).await;
        assert_eq!(crashed.status, RunStatus::Failed);
        h.crash.arm(None);
        // The update happened (under a new id) but the mapping still names the old one.
        let [(t_new, _)]: [(String, FakeValue); 1] =
            h.t.records()
                .into_iter()
                .collect::<Vec<_>>()
                .try_into()
                .unwrap();
        assert_ne!(t_new, t_old);
        assert_eq!(
            h.store.mappings_snapshot()[0].timetrack_id.as_deref(),
            Some(t_old.as_str())
        );

        let rerun = h.run(Direction::Both).await;
        assert_eq!(rerun.status, RunStatus::Succeeded, "{rerun:?}");
        assert_eq!(rerun.counts.mappings.adopt, 1, "{:?}", rerun.counts);
        assert!(rerun.conflicts.is_empty(), "{:?}", rerun.conflicts);
        assert_eq!(h.p.records().len(), 1, "{:?}", h.p.records());
        assert_eq!(h.t.records().len(), 1, "{:?}", h.t.records());
        let mappings = h.store.mappings_snapshot();
        assert_eq!(mappings.len(), 1);
        assert_eq!(mappings[0].personio_id.as_deref(), Some(p1.as_str()));
        assert_eq!(mappings[0].timetrack_id.as_deref(), Some(t_new.as_str()));
        assert_eq!(by_key(&h.p), by_key(&h.t));
        assert!(h.replan().await.is_empty());
    });
}

/// The run dies INSIDE an update that TimeTrack performs as create-new + delete-old: the replacement
/// exists, the original was not deleted, the mapping still names the original with the old
/// fingerprint. The re-run must recognise the replacement as the completed half ("superseded twin"):
/// delete the original, re-link the mapping — and neither update the original again (a second
/// replacement) nor create the replacement in Personio (a duplicate).
#[test]
fn engine_crash_inside_an_update_that_recreates_deletes_the_original_and_relinks() {
    block_on(async {
        for master in [P, T] {
            let h = Harness::new(master);
            let p1 = h.p.insert(FakeValue::new("k0", day(0), "v0"));
            h.p.insert(FakeValue::new("k1", day(1), "v0"));
            h.run(Direction::Both).await;
            let t_old =
                h.t.records()
                    .into_iter()
                    .find(|(_, v)| v.key == "k0")
                    .unwrap()
                    .0;
            h.p.set(&p1, FakeValue::new("k0", day(0), "v10"));

            h.crash.arm_inside_update(Some(1));
            let crashed = h.run(Direction::Both).await;
            assert_eq!(crashed.status, RunStatus::Failed);
            h.crash.arm(None);
            // Both the original and its replacement exist; the mapping names the original.
            let k0: Vec<(String, FakeValue)> =
                h.t.records()
                    .into_iter()
                    .filter(|(_, v)| v.key == "k0")
                    .collect();
            assert_eq!(k0.len(), 2, "{k0:?}");
            let t_new = k0.iter().find(|(id, _)| *id != t_old).unwrap().0.clone();
            let m_k0 = |h: &Harness| {
                h.store
                    .mappings_snapshot()
                    .into_iter()
                    .find(|m| m.personio_id.as_deref() == Some(p1.as_str()))
                    .unwrap()
            };
            assert_eq!(m_k0(&h).timetrack_id.as_deref(), Some(t_old.as_str()));

            // A one-way run towards Personio may not delete in TimeTrack: it leaves the pair alone
            // and, above all, does not take the replacement for a new TimeTrack record.
            let one_way = h.run(Direction::ToPersonio).await;
            assert_eq!(one_way.status, RunStatus::Succeeded, "{one_way:?}");
            assert_eq!(h.p.records().len(), 2, "{:?}", h.p.records());
            assert_eq!(m_k0(&h).timetrack_id.as_deref(), Some(t_old.as_str()));

            let t_writes_before = h.t.writes().len();
            let rerun = h.run(Direction::Both).await;
            assert_eq!(rerun.status, RunStatus::Succeeded, "{rerun:?}");
            assert_eq!(rerun.counts.timetrack.delete, 1, "{:?}", rerun.counts);
            assert!(rerun.counts.personio.is_empty(), "{:?}", rerun.counts);
            assert!(rerun.conflicts.is_empty(), "{:?}", rerun.conflicts);
            // Exactly one TimeTrack write: the delete of the original.
            assert_eq!(
                h.t.writes()[t_writes_before..],
                [FakeWrite::Delete { id: t_old.clone() }]
            );
            assert_eq!(h.p.records().len(), 2, "{:?}", h.p.records());
            assert_eq!(h.t.records().len(), 2, "{:?}", h.t.records());
            assert_eq!(m_k0(&h).timetrack_id.as_deref(), Some(t_new.as_str()));
            assert_eq!(h.store.mappings_snapshot().len(), 2);
            assert_eq!(by_key(&h.p), by_key(&h.t));
            assert_eq!(by_key(&h.t)["k0"].payload, "v10");
            assert!(h.replan().await.is_empty());
        }
    });
}

// ---------------------------------------------------------------------------------------------------
// Properties

#[derive(Debug, Clone)]
enum Mutation {
    Keep,
    Edit(u8),
    Delete,
    Add(u8),
}

#[derive(Debug, Clone)]
struct KeySpec {
    day: usize,
    p: Option<u8>,
    t: Option<u8>,
    p_later: Mutation,
    t_later: Mutation,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::Keep),
        2 => (0u8..3).prop_map(Mutation::Edit),
        1 => Just(Mutation::Delete),
        1 => (0u8..3).prop_map(Mutation::Add),
    ]
}

fn key_spec() -> impl Strategy<Value = KeySpec> {
    (
        0usize..4,
        proptest::option::of(0u8..3),
        proptest::option::of(0u8..3),
        mutation(),
        mutation(),
    )
        .prop_map(|(day, p, t, p_later, t_later)| KeySpec {
            day,
            p,
            t,
            p_later,
            t_later,
        })
}

fn scenario() -> impl Strategy<Value = (Vec<KeySpec>, bool)> {
    (proptest::collection::vec(key_spec(), 1..8), any::<bool>())
}

fn value(key: usize, spec: &KeySpec, payload: u8) -> FakeValue {
    FakeValue::new(format!("k{key}"), day(spec.day), format!("v{payload}"))
}

fn seed(h: &Harness, specs: &[KeySpec]) {
    for (i, s) in specs.iter().enumerate() {
        if let Some(v) = s.p {
            h.p.insert(value(i, s, v));
        }
        if let Some(v) = s.t {
            h.t.insert(value(i, s, v));
        }
    }
}

/// Users edit both systems between runs (records outside the window are left alone).
fn mutate(h: &Harness, specs: &[KeySpec]) {
    for (i, s) in specs.iter().enumerate() {
        for (port, m) in [(&h.p, &s.p_later), (&h.t, &s.t_later)] {
            let current = port
                .records()
                .into_iter()
                .find(|(_, v)| v.key == format!("k{i}") && window().contains(v.day));
            match (m, current) {
                (Mutation::Edit(x), Some((id, _))) => port.set(&id, value(i, s, *x + 10)),
                (Mutation::Delete, Some((id, _))) => {
                    port.remove(&id);
                }
                (Mutation::Add(x), None) if window().contains(day(s.day)) => {
                    port.insert(value(i, s, *x + 20));
                }
                _ => {}
            }
        }
    }
}

fn master(p_wins: bool) -> System {
    if p_wins {
        P
    } else {
        T
    }
}

/// 64 cases by default; `PROPTEST_CASES` raises it for soak runs (an explicit `cases` field would
/// otherwise override the environment variable that `ProptestConfig::default()` reads).
fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: proptest_cases(), ..ProptestConfig::default() })]

    /// After apply, re-planning yields no action; both sides agree inside the window; nothing outside
    /// the window changes, across a first sync and a second sync after edits on both sides.
    #[test]
    fn engine_prop_converges_replans_to_nothing_and_leaves_outside_alone((specs, p_wins) in scenario()) {
        block_on(async {
            let h = Harness::new(master(p_wins));
            seed(&h, &specs);
            let (p_out, t_out) = (outside(&h.p), outside(&h.t));
            let r1 = h.run(Direction::Both).await;
            prop_assert_eq!(r1.status, RunStatus::Succeeded);
            prop_assert!(h.replan().await.is_empty());
            prop_assert_eq!(by_key(&h.p), by_key(&h.t));
            mutate(&h, &specs);
            let r2 = h.run(Direction::Both).await;
            prop_assert_eq!(r2.status, RunStatus::Succeeded);
            prop_assert!(h.replan().await.is_empty());
            prop_assert_eq!(by_key(&h.p), by_key(&h.t));
            prop_assert_eq!(outside(&h.p), p_out);
            prop_assert_eq!(outside(&h.t), t_out);
            Ok(())
        })?;
    }

    /// Two systems that already hold the same data: the first sync writes nothing to either.
    #[test]
    fn engine_prop_identical_systems_first_sync_writes_nothing((specs, p_wins) in scenario()) {
        block_on(async {
            let h = Harness::new(master(p_wins));
            for (i, s) in specs.iter().enumerate() {
                let v = value(i, s, s.p.unwrap_or(0));
                h.p.insert(v.clone());
                h.t.insert(v);
            }
            let r = h.run(Direction::Both).await;
            prop_assert_eq!(r.status, RunStatus::Succeeded);
            prop_assert!(h.p.writes().is_empty());
            prop_assert!(h.t.writes().is_empty());
            prop_assert!(h.replan().await.is_empty());
            Ok(())
        })?;
    }

    /// A run that dies right after its k-th write (before the mapping update) and is re-run ends in
    /// the same state as an uninterrupted run: nothing duplicated, nothing lost.
    /// (TimeTrack's updates re-create, and count as two writes: k can also fall between their halves.)
    #[test]
    fn engine_prop_crash_after_any_write_then_rerun_converges((specs, p_wins) in scenario(), k in 1usize..12) {
        block_on(async {
            let reference = Harness::new(master(p_wins));
            let h = Harness::new(master(p_wins));
            for x in [&reference, &h] {
                seed(x, &specs);
                x.run(Direction::Both).await;
                mutate(x, &specs);
            }
            reference.run(Direction::Both).await;

            h.crash.arm(Some(k));
            let crashed = h.run(Direction::Both).await;
            let died = h.crash.writes() >= k;
            prop_assert_eq!(crashed.status == RunStatus::Failed, died);
            h.crash.arm(None);
            let rerun = h.run(Direction::Both).await;
            prop_assert_eq!(rerun.status, RunStatus::Succeeded);
            prop_assert!(h.replan().await.is_empty());
            // by_key also asserts there is no duplicate natural key on either side.
            prop_assert_eq!(by_key(&h.p), by_key(&reference.p));
            prop_assert_eq!(by_key(&h.t), by_key(&reference.t));
            prop_assert_eq!(by_key(&h.p), by_key(&h.t));
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: proptest_cases(), ..ProptestConfig::default() })]

    /// A run that dies INSIDE its k-th update-by-recreate (replacement created, original not yet
    /// deleted, mapping not written) and is re-run ends like an uninterrupted run: no duplicate
    /// natural key on either side, nothing lost, nothing left to do.
    #[test]
    fn engine_prop_crash_inside_an_update_that_recreates_then_rerun_converges((specs, p_wins) in scenario(), k in 1usize..4) {
        block_on(async {
            let reference = Harness::new(master(p_wins));
            let h = Harness::new(master(p_wins));
            for x in [&reference, &h] {
                seed(x, &specs);
                x.run(Direction::Both).await;
                mutate(x, &specs);
            }
            reference.crash.arm(None);
            reference.run(Direction::Both).await;
            let updates = reference.crash.recreating_updates();

            h.crash.arm_inside_update(Some(k));
            let crashed = h.run(Direction::Both).await;
            // The same plan is applied, so the crash happens iff the reference made k such updates.
            prop_assert_eq!(crashed.status == RunStatus::Failed, updates >= k);
            h.crash.arm(None);
            let rerun = h.run(Direction::Both).await;
            prop_assert_eq!(rerun.status, RunStatus::Succeeded);
            prop_assert!(h.replan().await.is_empty());
            // by_key also asserts there is no duplicate natural key on either side.
            prop_assert_eq!(by_key(&h.p), by_key(&reference.p));
            prop_assert_eq!(by_key(&h.t), by_key(&reference.t));
            prop_assert_eq!(by_key(&h.p), by_key(&h.t));
            Ok(())
        })?;
    }
}

/// Compile-time check: a run can be awaited inside `Send` futures (Lambda handlers, async_trait).
#[allow(dead_code)]
fn run_future_is_send(runner: &SyncRunner<'_, FakeKind>, request: RunRequest) {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&runner.run(request));
}

// ---------------------------------------------------------------------------------------------------
// Time slices (ADR 0029)

/// March days a sliced test puts records on (the window is March), and two outside it.
const SLICE_DAYS: [(i16, i8, i8); 10] = [
    (2026, 3, 1),
    (2026, 3, 2),
    (2026, 3, 5),
    (2026, 3, 9),
    (2026, 3, 15),
    (2026, 3, 16),
    (2026, 3, 28),
    (2026, 3, 31),
    (2026, 2, 27),
    (2026, 4, 1),
];
fn slice_day(i: usize) -> Date {
    let (y, m, d) = SLICE_DAYS[i % SLICE_DAYS.len()];
    date(y, m, d)
}

/// One key of a sliced scenario: its day, what each side holds, and what users do after the first run
/// (0 nothing, 1 edit, 2 delete, 3 move to `moved_to`, on the side `on_p` names).
#[derive(Debug, Clone)]
struct SliceSpec {
    day: usize,
    p: Option<u8>,
    t: Option<u8>,
    later: u8,
    on_p: bool,
    moved_to: usize,
}

fn slice_spec() -> impl Strategy<Value = SliceSpec> {
    (
        0usize..10,
        proptest::option::of(0u8..3),
        proptest::option::of(0u8..3),
        0u8..4,
        any::<bool>(),
        0usize..8,
    )
        .prop_map(|(day, p, t, later, on_p, moved_to)| SliceSpec {
            day,
            p,
            t,
            later,
            on_p,
            moved_to,
        })
}

fn seed_sliced(h: &Harness, specs: &[SliceSpec]) {
    for (i, s) in specs.iter().enumerate() {
        for (port, v) in [(&h.p, s.p), (&h.t, s.t)] {
            if let Some(v) = v {
                port.insert(FakeValue::new(
                    format!("k{i}"),
                    slice_day(s.day),
                    format!("v{v}"),
                ));
            }
        }
    }
}

fn mutate_sliced(h: &Harness, specs: &[SliceSpec]) {
    for (i, s) in specs.iter().enumerate() {
        let port = if s.on_p { &h.p } else { &h.t };
        let Some((id, v)) = port
            .records()
            .into_iter()
            .find(|(_, v)| v.key == format!("k{i}"))
        else {
            continue;
        };
        match s.later {
            1 => port.set(&id, FakeValue::new(v.key.clone(), v.day, "edited")),
            2 => {
                port.remove(&id);
            }
            3 => port.set(
                &id,
                FakeValue::new(v.key.clone(), slice_day(s.moved_to), v.payload.clone()),
            ),
            _ => {}
        }
    }
}

/// Both systems' records as (key, day, payload), ids left out (each harness numbers its own).
fn contents(port: &FakePort) -> Vec<FakeValue> {
    let mut v: Vec<FakeValue> = port.records().into_values().collect();
    v.sort();
    v
}

/// The mappings as (Personio value, TimeTrack value): which records each links, ids left out.
fn linked(h: &Harness) -> Vec<(Option<FakeValue>, Option<FakeValue>, Option<Date>)> {
    let (p, t) = (h.p.records(), h.t.records());
    let mut v: Vec<_> = h
        .store
        .mappings_snapshot()
        .into_iter()
        .map(|m| {
            (
                m.personio_id.and_then(|id| p.get(&id).cloned()),
                m.timetrack_id.and_then(|id| t.get(&id).cloned()),
                m.anchor_date,
            )
        })
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: proptest_cases(), ..ProptestConfig::default() })]

    /// A run cut into the smallest slices ends exactly like the same run over the window in one piece:
    /// the same records on both systems, the same links, the same counts — across a first sync and a
    /// second one after edits, deletes and records moved between days (so between slices).
    #[test]
    fn engine_prop_sliced_run_ends_like_the_unsliced_run((specs, p_wins) in (proptest::collection::vec(slice_spec(), 1..10), any::<bool>())) {
        block_on(async {
            let mut whole = Harness::new(master(p_wins));
            whole.config.slice_records = 0;
            let mut sliced = Harness::new(master(p_wins));
            sliced.config.slice_records = 1;
            for h in [&whole, &sliced] {
                seed_sliced(h, &specs);
            }
            for round in 0..2 {
                if round == 1 {
                    mutate_sliced(&whole, &specs);
                    mutate_sliced(&sliced, &specs);
                }
                let a = whole.run(Direction::Both).await;
                let b = sliced.run(Direction::Both).await;
                prop_assert_eq!(a.status, b.status);
                prop_assert_eq!(&a.window, &b.window);
                prop_assert_eq!(contents(&whole.p), contents(&sliced.p));
                prop_assert_eq!(contents(&whole.t), contents(&sliced.t));
                prop_assert_eq!(linked(&whole), linked(&sliced));
                // Writes counted the same; GETs confirming moved records may differ, writes may not.
                let writes = |r: &RunRecord| -> BTreeMap<String, BTreeMap<String, u64>> {
                    r.counts.iter()
                        .filter(|(side, _)| side.as_str() != "mappings")
                        .map(|(side, c)| (side.as_str().to_string(), c.iter()
                            .filter(|(a, _)| !matches!(a.as_str(), "unchanged" | "skip"))
                            .map(|(a, n)| (a.as_str().to_string(), n)).collect()))
                        .collect()
                };
                prop_assert_eq!(writes(&a), writes(&b));
            }
            prop_assert!(sliced.replan().await.is_empty());
            Ok(())
        })?;
    }
}

/// The deadline stops a sliced run inside a later slice: the run is one record (`continued`), the
/// slices before are done, and the continuation resumes at the stopped slice's first day — not at the
/// window's start — and finishes with the same end state as an uninterrupted run.
#[test]
fn engine_sliced_run_stopped_by_the_deadline_resumes_at_its_slice() {
    block_on(async {
        let seed = |h: &Harness| {
            for d in [1, 2, 9, 16, 28] {
                for i in 0..3 {
                    h.p.insert(FakeValue::new(format!("p{d}-{i}"), date(2026, 3, d), "1"));
                }
            }
        };
        let mut reference = Harness::new(P);
        reference.config.slice_records = 0;
        seed(&reference);
        reference.run(Direction::Both).await;

        let mut h = Harness::new(P);
        h.config.slice_records = 3;
        h.config.deadline_margin = std::time::Duration::from_secs(30);
        h.settings.sync.concurrency = 1;
        seed(&h);
        h.clock = ManualClock::new(h.clock.peek()).with_step(SignedDuration::from_secs(1));
        let mut request = h.request(Direction::Both, false);
        request.deadline = Some(h.clock.peek() + SignedDuration::from_secs(60));
        let first = h.runner().run(request.clone()).await.unwrap();
        assert_eq!(first.status, RunStatus::Continued, "{first:?}");
        let scheduled = h.scheduler.take();
        assert_eq!(scheduled.len(), 1);
        let resume = scheduled[0].continuation.window;
        assert_eq!(resume.to, window().to);
        assert!(
            resume.from > window().from,
            "resumes at a later slice: {resume}"
        );
        // Every record before the resumed slice is already in TimeTrack; none from it on was skipped.
        let written: Vec<Date> = h.t.records().values().map(|v| v.day).collect();
        assert!(written.iter().any(|d| *d < resume.from));
        assert_eq!(
            h.t.records()
                .values()
                .filter(|v| v.day < resume.from)
                .count(),
            reference
                .t
                .records()
                .values()
                .filter(|v| v.day < resume.from)
                .count(),
            "the slices before the resumed one are complete"
        );
        // One run record for the first invocation.
        let runs = h
            .store
            .list_runs(&integration(), None, 10, None)
            .await
            .unwrap()
            .runs;
        assert_eq!(runs.len(), 1);

        let mut request = RunRequest {
            trigger: Trigger::Continuation,
            window: None,
            continues_run_id: Some(first.run_id.clone()),
            deadline: None,
            ..request
        };
        let mut statuses = Vec::new();
        loop {
            let record = h.runner().run(request.clone()).await.unwrap();
            statuses.push(record.status);
            if record.status != RunStatus::Continued {
                break;
            }
            request.continues_run_id = Some(record.run_id.clone());
            assert!(statuses.len() < 10, "no progress: {statuses:?}");
        }
        assert_eq!(statuses.last(), Some(&RunStatus::Succeeded));
        assert_eq!(by_key(&h.p), by_key(&reference.p));
        assert_eq!(by_key(&h.t), by_key(&reference.t));
    });
}

/// The days of October 2026 with the given mapping counts.
fn october(counts: &[(i8, u64)]) -> (DateWindow, BTreeMap<Date, u64>) {
    let window = DateWindow {
        from: date(2026, 10, 1),
        to: date(2026, 10, 31),
    };
    (
        window,
        counts
            .iter()
            .map(|(d, n)| (date(2026, 10, *d), *n))
            .collect(),
    )
}

fn spans(slices: &[DateWindow]) -> Vec<(i8, i8)> {
    slices.iter().map(|s| (s.from.day(), s.to.day())).collect()
}

/// A window whose mappings fit one slice is one slice (it costs what an unsliced run costs); none
/// at all (a first sync) plans nothing, the run probes.
#[test]
fn plan_slices_keeps_a_window_that_fits_whole() {
    let (window, per_day) = october(&[(5, 100), (6, 100), (30, 100)]);
    assert_eq!(spans(&plan_slices(&window, &per_day, 300)), [(1, 31)]);
    assert!(plan_slices(&window, &BTreeMap::new(), 300).is_empty());
}

/// Weekdays of 100 mappings, empty weekends (2026-10-03/04 is the first): the cuts fall between
/// Saturday and Sunday, where the days re-read around a cut are empty, as long as that leaves each
/// slice at least half full; every day is in exactly one slice.
#[test]
fn plan_slices_cuts_where_the_days_around_the_cut_are_lightest() {
    let weekdays: Vec<(i8, u64)> = (1..=31)
        .filter(|d| {
            !matches!(
                date(2026, 10, *d).weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            )
        })
        .map(|d| (d, 100))
        .collect();
    let (window, per_day) = october(&weekdays);
    let slices = plan_slices(&window, &per_day, 1_000);
    assert_eq!(spans(&slices), [(1, 10), (11, 24), (25, 31)]);
    for s in &slices {
        let held: u64 = per_day.range(s.from..=s.to).map(|(_, n)| n).sum();
        assert!(held <= 1_000, "{s:?} holds {held}");
    }
    // Too small for a week: the cuts fall where they must, each slice at most full.
    let slices = plan_slices(&window, &per_day, 250);
    assert!(slices
        .windows(2)
        .all(|w| w[0].to.tomorrow().unwrap() == w[1].from));
    assert_eq!(slices.first().unwrap().from, window.from);
    assert_eq!(slices.last().unwrap().to, window.to);
    for s in &slices {
        let held: u64 = per_day.range(s.from..=s.to).map(|(_, n)| n).sum();
        assert!((100..=250).contains(&held), "{s:?} holds {held}");
    }
    // One day over the capacity is a slice of its own.
    let (window, per_day) = october(&[(2, 10), (3, 500), (4, 10)]);
    assert_eq!(
        spans(&plan_slices(&window, &per_day, 100)),
        [(1, 2), (3, 3), (4, 31)]
    );
}

/// A first sync (no mappings) plans its next slice from the days listed so far: a weekday seen keeps
/// its count (an empty Sunday stays empty); another day counts as the busiest day seen, or, with the
/// linked people known, as an office week; nothing to go by gives no estimate.
#[test]
fn estimate_per_day_follows_the_weekdays_seen() {
    // Sun 2026-10-11 empty, Mon–Tue 12–13 with 100 and 80.
    let seen: BTreeMap<Date, u64> = [
        (date(2026, 10, 11), 0),
        (date(2026, 10, 12), 100),
        (date(2026, 10, 13), 80),
    ]
    .into_iter()
    .collect();
    let rest = DateWindow {
        from: date(2026, 10, 14),
        to: date(2026, 10, 20),
    };
    let estimate = estimate_per_day(&rest, &seen, 0);
    let got: Vec<(i8, u64)> = estimate.iter().map(|(d, n)| (d.day(), *n)).collect();
    assert_eq!(
        got,
        [
            (14, 100),
            (15, 100),
            (16, 100),
            (17, 100),
            (18, 0),
            (19, 100),
            (20, 80)
        ]
    );
    let empty: BTreeMap<Date, u64> = [(date(2026, 10, 11), 0)].into_iter().collect();
    assert!(estimate_per_day(&rest, &empty, 0).is_empty());
    // With the linked people known and nothing seen: an office week, so the first cut is tried at
    // the weekend; a weekday seen still counts as seen.
    let got: Vec<(i8, u64)> = estimate_per_day(&rest, &empty, 50)
        .iter()
        .map(|(d, n)| (d.day(), *n))
        .collect();
    assert_eq!(
        got,
        [
            (14, 50),
            (15, 50),
            (16, 50),
            (17, 0),
            (18, 0),
            (19, 50),
            (20, 50)
        ]
    );
    let got: Vec<(i8, u64)> = estimate_per_day(&rest, &seen, 50)
        .iter()
        .map(|(d, n)| (d.day(), *n))
        .collect();
    assert_eq!(
        got,
        [
            (14, 100),
            (15, 100),
            (16, 100),
            (17, 0),
            (18, 0),
            (19, 100),
            (20, 80)
        ]
    );
    // An empty Monday seen (a holiday) with the people known: later Mondays are an office day.
    let holiday: BTreeMap<Date, u64> = [(date(2026, 10, 12), 0), (date(2026, 10, 13), 80)]
        .into_iter()
        .collect();
    let monday = estimate_per_day(&rest, &holiday, 50)[&date(2026, 10, 19)];
    assert_eq!(monday, 80, "an office day at the most seen");
    assert_eq!(estimate_per_day(&rest, &holiday, 0)[&date(2026, 10, 19)], 0);
}
