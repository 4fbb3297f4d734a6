//! The sync engine on the real DynamoDB state store (moto), with the fake side ports of
//! `shared::engine::testkit`: leases under concurrency and takeover, a full sync with conditional
//! mapping writes, continuations chained through stored run records, and the EventBridge Scheduler
//! continuation adapter.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test engine_on_dynamodb`.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_tests::{aws, fresh_table, unique};
use jiff::civil::{date, Date};
use jiff::{SignedDuration, Timestamp};
use shared::domain::{DateWindow, Direction, IntegrationId, System, Trigger, Workflow};
use shared::engine::scheduler::{ContinuationScheduler, RecordingScheduler};
use shared::engine::testkit::{CrashSwitch, FakeKind, FakePort, FakeValue};
use shared::engine::{
    Clock, EngineError, Listing, ManualClock, PortError, Record, RunRequest, RunnerConfig,
    SidePort, SyncRunner, SystemClock,
};
use shared::runs::{Continuation, RunStatus};
use shared::scheduling::{EventBridgeScheduler, SchedulerTargets};
use shared::settings::IntegrationSettings;
use shared::store::dynamodb::DynamoStore;
use shared::store::StateStore;
use tokio::sync::{Notify, Semaphore};

fn integration() -> IntegrationId {
    IntegrationId::new("acme").unwrap()
}
fn window() -> DateWindow {
    DateWindow::new(date(2026, 3, 1), date(2026, 3, 31)).unwrap()
}
fn day(i: usize) -> Date {
    date(2026, 3, 1 + (i % 28) as i8)
}
fn settings() -> IntegrationSettings {
    serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/Berlin",
        "sync": {"max_failures_before_parking": 3, "concurrency": 2},
    }))
    .unwrap()
}
fn request(dry_run: bool) -> RunRequest {
    RunRequest {
        integration_id: integration(),
        workflow: Workflow::TimeEntries,
        trigger: Trigger::Manual,
        window: Some(window()),
        direction: Direction::Both,
        dry_run,
        continues_run_id: None,
        deadline: None,
    }
}

fn ports() -> (FakePort, FakePort) {
    let crash = CrashSwitch::new();
    (
        FakePort::new(System::Personio, crash.clone()),
        FakePort::new(System::TimeTrack, crash).with_update_recreates(),
    )
}

fn seed(p: &FakePort, t: &FakePort, n: usize) {
    for i in 0..n {
        p.insert(FakeValue::new(format!("p{i}"), day(i), "1"));
        t.insert(FakeValue::new(format!("t{i}"), day(i), "1"));
        let both = FakeValue::new(format!("b{i}"), day(i), "same");
        p.insert(both.clone());
        t.insert(both);
    }
}

fn by_key(port: &FakePort) -> BTreeMap<String, FakeValue> {
    let mut out = BTreeMap::new();
    for (id, v) in port.records() {
        assert!(
            out.insert(v.key.clone(), v.clone()).is_none(),
            "duplicate {id}"
        );
    }
    out
}

struct Env<'a> {
    store: &'a DynamoStore,
    p: &'a dyn SidePort<FakeValue>,
    t: &'a dyn SidePort<FakeValue>,
    settings: &'a IntegrationSettings,
    clock: &'a dyn Clock,
    scheduler: &'a dyn ContinuationScheduler,
}

const KIND: FakeKind = FakeKind {
    master: System::Personio,
};

fn runner<'a>(env: &'a Env<'a>, config: RunnerConfig) -> SyncRunner<'a, FakeKind> {
    SyncRunner {
        kind: &KIND,
        store: env.store,
        personio: env.p,
        timetrack: env.t,
        settings: env.settings,
        clock: env.clock,
        scheduler: env.scheduler,
        config,
    }
}

/// A port whose `list` announces that it was entered and then waits for a permit: holds a run in the
/// middle of its lease for as long as the test wants.
struct GatedPort<'a> {
    inner: &'a FakePort,
    entered: Arc<Notify>,
    gate: Arc<Semaphore>,
}

#[async_trait]
impl SidePort<FakeValue> for GatedPort<'_> {
    async fn list(&self, window: &DateWindow) -> Result<Listing<FakeValue>, PortError> {
        self.entered.notify_one();
        // The semaphore is never closed, so acquire only fails if the test dropped it.
        let _permit = self.gate.acquire().await;
        self.inner.list(window).await
    }
    async fn get(&self, id: &str) -> Result<Option<Record<FakeValue>>, PortError> {
        self.inner.get(id).await
    }
    async fn create(&self, value: &FakeValue) -> Result<String, PortError> {
        self.inner.create(value).await
    }
    async fn update(
        &self,
        id: &str,
        value: &FakeValue,
        previous: Option<&FakeValue>,
    ) -> Result<String, PortError> {
        self.inner.update(id, value, previous).await
    }
    async fn delete(&self, id: &str) -> Result<(), PortError> {
        self.inner.delete(id).await
    }
}

#[tokio::test]
async fn of_two_concurrent_runs_exactly_one_proceeds() {
    let (store, _) = fresh_table().await;
    let (p, t) = ports();
    seed(&p, &t, 3);
    let gate = Arc::new(Semaphore::new(0));
    let entered = Arc::new(Notify::new());
    let gated = GatedPort {
        inner: &p,
        entered: entered.clone(),
        gate: gate.clone(),
    };
    let settings = settings();
    let scheduler = RecordingScheduler::new();
    let env = Env {
        store: &store,
        p: &gated,
        t: &t,
        settings: &settings,
        clock: &SystemClock,
        scheduler: &scheduler,
    };
    let loser_done = Notify::new();
    let attempt = || async {
        let result = runner(&env, RunnerConfig::default())
            .run(request(false))
            .await;
        if result.is_err() {
            loser_done.notify_one();
        }
        result
    };
    let release = async {
        // Let the winner go once the loser has been turned away (or after a generous bound, which
        // only happens when both got in — and then the assertions below fail).
        let _ = tokio::time::timeout(Duration::from_secs(30), async {
            entered.notified().await;
            loser_done.notified().await;
        })
        .await;
        gate.add_permits(10);
    };
    let (a, b, ()) = tokio::join!(attempt(), attempt(), release);
    let (ok, err): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(|r| r.is_ok());
    assert_eq!((ok.len(), err.len()), (1, 1), "exactly one run proceeds");
    let winner = ok.into_iter().next().unwrap().unwrap();
    assert_eq!(winner.status, RunStatus::Succeeded);
    match err.into_iter().next().unwrap() {
        Err(EngineError::AlreadyRunning {
            holder, workflow, ..
        }) => {
            assert_eq!(holder, winner.run_id);
            assert_eq!(workflow, Workflow::TimeEntries);
        }
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    // The lease was released: a third run proceeds.
    let third = runner(&env, RunnerConfig::default())
        .run(request(false))
        .await
        .unwrap();
    assert_eq!(third.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn a_dead_runs_lease_is_taken_over_after_it_expires() {
    let (store, _) = fresh_table().await;
    let (p, t) = ports();
    seed(&p, &t, 2);
    let settings = settings();
    let scheduler = RecordingScheduler::new();
    let start: Timestamp = "2026-03-31T10:00:00Z".parse().unwrap();
    let clock = ManualClock::new(start);
    // A run that died holding the lease (it never released it).
    store
        .acquire_lease(
            &integration(),
            Workflow::TimeEntries,
            "dead-run",
            start,
            Duration::from_secs(15 * 60),
        )
        .await
        .unwrap();
    let env = Env {
        store: &store,
        p: &p,
        t: &t,
        settings: &settings,
        clock: &clock,
        scheduler: &scheduler,
    };
    clock.set(start + SignedDuration::from_mins(14));
    let err = runner(&env, RunnerConfig::default())
        .run(request(false))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::AlreadyRunning { holder, .. } if holder == "dead-run"),
        "{err:?}"
    );
    clock.set(start + SignedDuration::from_mins(16));
    let run = runner(&env, RunnerConfig::default())
        .run(request(false))
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(by_key(&p), by_key(&t));
}

#[tokio::test]
async fn full_sync_on_dynamodb_converges_and_replans_to_nothing() {
    let (store, _) = fresh_table().await;
    let (p, t) = ports();
    seed(&p, &t, 4);
    let settings = settings();
    let scheduler = RecordingScheduler::new();
    let env = Env {
        store: &store,
        p: &p,
        t: &t,
        settings: &settings,
        clock: &SystemClock,
        scheduler: &scheduler,
    };
    let first = runner(&env, RunnerConfig::default())
        .run(request(false))
        .await
        .unwrap();
    assert_eq!(first.status, RunStatus::Succeeded, "{first:?}");
    assert_eq!(first.counts.mappings.adopt, 4);
    assert_eq!(first.counts.timetrack.create, 4);
    assert_eq!(first.counts.personio.create, 4);
    // Edit both sides; update-by-recreate in TimeTrack moves mapping ids; versions go up.
    let (pid, _) = p
        .records()
        .into_iter()
        .find(|(_, v)| v.key == "p0")
        .unwrap();
    p.set(&pid, FakeValue::new("p0", day(0), "2"));
    let (tid, _) = t
        .records()
        .into_iter()
        .find(|(_, v)| v.key == "t1")
        .unwrap();
    t.remove(&tid);
    let second = runner(&env, RunnerConfig::default())
        .run(request(false))
        .await
        .unwrap();
    assert_eq!(second.status, RunStatus::Succeeded, "{second:?}");
    assert_eq!(second.counts.timetrack.update, 1);
    assert_eq!(second.counts.personio.delete, 1);
    assert_eq!(by_key(&p), by_key(&t));
    let dry = runner(&env, RunnerConfig::default())
        .run(request(true))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&dry.plan).unwrap()["actions"],
        serde_json::json!([])
    );
    let stored = store
        .get_run(&integration(), &second.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, second);
}

#[tokio::test]
async fn a_tiny_deadline_forces_continuations_that_end_like_an_uninterrupted_run() {
    let settings = settings();
    let scheduler = RecordingScheduler::new();

    let (store_ref, _) = fresh_table().await;
    let (p_ref, t_ref) = ports();
    seed(&p_ref, &t_ref, 6);
    let env_ref = Env {
        store: &store_ref,
        p: &p_ref,
        t: &t_ref,
        settings: &settings,
        clock: &SystemClock,
        scheduler: &scheduler,
    };
    let reference = runner(&env_ref, RunnerConfig::default())
        .run(request(false))
        .await
        .unwrap();
    assert_eq!(reference.status, RunStatus::Succeeded);

    let (store, _) = fresh_table().await;
    let (p, t) = ports();
    seed(&p, &t, 6);
    // Each clock read is one second later; each invocation has 40 s with a 30 s margin.
    let clock = ManualClock::new("2026-03-31T10:00:00Z".parse().unwrap())
        .with_step(SignedDuration::from_secs(1));
    let env = Env {
        store: &store,
        p: &p,
        t: &t,
        settings: &settings,
        clock: &clock,
        scheduler: &scheduler,
    };
    let config = RunnerConfig {
        deadline_margin: Duration::from_secs(30),
        ..RunnerConfig::default()
    };
    let mut req = request(false);
    let mut statuses = Vec::new();
    loop {
        req.deadline = Some(clock.peek() + SignedDuration::from_secs(40));
        let record = runner(&env, config).run(req.clone()).await.unwrap();
        statuses.push(record.status);
        if record.status != RunStatus::Continued {
            break;
        }
        let scheduled = scheduler.take();
        assert_eq!(scheduled.len(), 1);
        assert_eq!(scheduled[0].run_id, record.run_id);
        let stored = store
            .get_run(&integration(), &record.run_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.continuation, record.continuation);
        req = RunRequest {
            trigger: Trigger::Continuation,
            window: None,
            continues_run_id: Some(record.run_id),
            ..req
        };
        assert!(statuses.len() < 40, "no progress: {statuses:?}");
    }
    assert!(
        statuses.len() >= 3,
        "expected several continuations: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&RunStatus::Succeeded));
    assert_eq!(by_key(&p), by_key(&p_ref));
    assert_eq!(by_key(&t), by_key(&t_ref));
    let wm = store
        .get_watermark(&integration(), Workflow::TimeEntries)
        .await
        .unwrap();
    assert!(wm.is_some(), "the last continuation moves the watermark");
}

#[tokio::test]
async fn eventbridge_scheduler_creates_a_one_time_self_deleting_schedule() {
    let client = aws_sdk_scheduler::Client::new(&aws().await);
    let group = unique("continuations");
    client
        .create_schedule_group()
        .name(&group)
        .send()
        .await
        .unwrap();
    let function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:sync-time-entries";
    let scheduler = EventBridgeScheduler::new(
        client.clone(),
        SchedulerTargets {
            group: group.clone(),
            role_arn: "arn:aws:iam::123456789012:role/scheduler".into(),
            employees_arn: "arn:aws:lambda:eu-central-1:123456789012:function:sync-employees"
                .into(),
            time_entries_arn: function_arn.into(),
            absences_arn: "arn:aws:lambda:eu-central-1:123456789012:function:sync-absences".into(),
        },
    );
    let continuation = Continuation {
        window: window(),
        direction: Direction::Both,
        dry_run: false,
        sequence: 1,
    };
    let run_id = "20260331T100000000Z-0a1b2c3d";
    scheduler
        .schedule(&integration(), Workflow::TimeEntries, run_id, &continuation)
        .await
        .unwrap();
    let got = client
        .get_schedule()
        .name(format!("continue-{run_id}"))
        .group_name(&group)
        .send()
        .await
        .unwrap();
    let expression = got.schedule_expression().unwrap_or_default();
    assert!(
        expression.starts_with("at(") && expression.ends_with(')'),
        "{expression}"
    );
    assert_eq!(got.schedule_expression_timezone(), Some("UTC"));
    let target = got.target().unwrap();
    assert_eq!(target.arn(), function_arn);
    let input: serde_json::Value = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(
        input,
        serde_json::json!({"integration_id": "acme", "trigger": "continuation", "run_id": run_id})
    );
    if let Some(action) = got.action_after_completion() {
        assert_eq!(action.as_str(), "DELETE");
    }
}
