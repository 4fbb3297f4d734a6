//! Tests of targeted runs against `MemoryStore` and the fake ports (persons are the keys' prefixes,
//! `"ann|1"` belongs to `ann`): only the hinted persons and days are read and written, a mapped record
//! outside the scope never looks deleted, gone records are delete candidates, stale and foreign hints do
//! nothing, and the watermark stays.
use jiff::civil::{date, Date};
use jiff::SignedDuration;

use super::clock::ManualClock;
use super::hint::{ChangeHint, HintAction, HintFamily};
use super::runner::{RunRequest, RunnerConfig, SyncRunner};
use super::scheduler::RecordingScheduler;
use super::testkit::{CrashSwitch, FakeKind, FakePort, FakeValue, FakeWrite};
use crate::domain::{DateWindow, Direction, IntegrationId, ScopeEntry, System, Trigger, Workflow};
use crate::runs::{RunRecord, RunStatus};
use crate::settings::IntegrationSettings;
use crate::store::memory::MemoryStore;
use crate::store::StateStore;

fn day(d: i8) -> Date {
    date(2026, 3, d)
}

fn integration() -> IntegrationId {
    IntegrationId::new("acme").unwrap()
}

struct Harness {
    store: MemoryStore,
    p: FakePort,
    t: FakePort,
    kind: FakeKind,
    settings: IntegrationSettings,
    clock: ManualClock,
    scheduler: RecordingScheduler,
}

impl Harness {
    fn new() -> Self {
        let crash = CrashSwitch::new();
        Self {
            store: MemoryStore::new(),
            p: FakePort::new(System::Personio, crash.clone()),
            t: FakePort::new(System::TimeTrack, crash),
            kind: FakeKind {
                master: System::Personio,
            },
            settings: serde_json::from_value(serde_json::json!({"time_zone": "Europe/Berlin"}))
                .unwrap(),
            clock: ManualClock::new("2026-03-31T10:00:00Z".parse().unwrap()),
            scheduler: RecordingScheduler::new(),
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
            config: RunnerConfig::default(),
        }
    }

    fn request(&self, window: Option<DateWindow>) -> RunRequest {
        RunRequest {
            integration_id: integration(),
            workflow: Workflow::TimeEntries,
            trigger: Trigger::Manual,
            window,
            direction: Direction::Both,
            dry_run: false,
            continues_run_id: None,
            deadline: None,
        }
    }

    /// A window run of March (everything synced and mapped).
    async fn window_run(&self) -> RunRecord {
        self.clock.advance(SignedDuration::from_mins(1));
        let march = DateWindow::new(day(1), day(31)).unwrap();
        self.runner().run(self.request(Some(march))).await.unwrap()
    }

    async fn hints(&self, hints: Vec<ChangeHint>) -> RunRecord {
        self.clock.advance(SignedDuration::from_mins(1));
        let started = self
            .runner()
            .gate()
            .start_hints(self.request(None), hints)
            .await
            .unwrap();
        self.runner().run_started(started).await.unwrap()
    }
}

fn hint(event: &str, id: &str) -> ChangeHint {
    ChangeHint {
        event_id: event.into(),
        family: HintFamily::AttendancePeriod,
        action: HintAction::Updated,
        resource_id: id.into(),
        occurred_at: "2026-03-31T09:00:00Z".parse().unwrap(),
    }
}

fn timetrack_writes(h: &Harness) -> Vec<FakeWrite> {
    h.t.writes()
}

#[tokio::test]
async fn engine_targeted_run_syncs_only_the_hinted_person_and_day() {
    let h = Harness::new();
    let ann = h.p.insert(FakeValue::new("ann|1", day(5), "v1"));
    let ann_other_day = h.p.insert(FakeValue::new("ann|2", day(6), "v1"));
    let bob = h.p.insert(FakeValue::new("bob|1", day(5), "v1"));
    assert_eq!(h.window_run().await.status, RunStatus::Succeeded);
    let watermark = h
        .store
        .get_watermark(&integration(), Workflow::TimeEntries)
        .await
        .unwrap();
    let synced = h.t.writes().len();

    // Ann's record of the 5th changes (hinted); her record of the 6th and Bob's change too (not
    // hinted); Bob's record is then deleted in Personio (not hinted).
    h.p.set(&ann, FakeValue::new("ann|1", day(5), "v2"));
    h.p.set(&ann_other_day, FakeValue::new("ann|2", day(6), "v2"));
    h.p.remove(&bob);
    let run = h.hints(vec![hint("e1", &ann), hint("e1", &ann)]).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.trigger, Trigger::Webhook);
    assert_eq!(run.event_ids, vec!["e1".to_string()]);
    assert_eq!(run.window, DateWindow::new(day(5), day(5)).unwrap());
    let scope = run.scope.expect("scope");
    assert_eq!(
        scope.entries,
        vec![ScopeEntry {
            person: "ann".into(),
            days: Some(DateWindow::new(day(5), day(5)).unwrap())
        }]
    );
    let writes = &timetrack_writes(&h)[synced..];
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(
        matches!(&writes[0], FakeWrite::Update { value, .. } if value.key == "ann|1"),
        "{writes:?}"
    );
    // Bob's TimeTrack record is still there: outside the scope nothing looks deleted.
    assert!(h.t.records().values().any(|v| v.key == "bob|1"));
    assert_eq!(
        h.store
            .get_watermark(&integration(), Workflow::TimeEntries)
            .await
            .unwrap(),
        watermark
    );

    // Bob's delete, hinted: the mapped TimeTrack record goes; a second delivery writes nothing.
    let run = h.hints(vec![hint("e2", &bob)]).await;
    assert_eq!(run.scope.as_ref().unwrap().gone, vec!["e2".to_string()]);
    assert!(!h.t.records().values().any(|v| v.key == "bob|1"));
    let before = h.t.writes().len();
    let again = h.hints(vec![hint("e2", &bob)]).await;
    assert_eq!(again.scope.unwrap().stale, vec!["e2".to_string()]);
    assert_eq!(h.t.writes().len(), before);
}

#[tokio::test]
async fn engine_targeted_run_ignores_foreign_families_and_stale_ids() {
    let h = Harness::new();
    h.p.insert(FakeValue::new("ann|1", day(5), "v1"));
    h.window_run().await;
    let before = h.t.writes().len();
    let run = h
        .hints(vec![
            ChangeHint {
                family: HintFamily::Person,
                ..hint("e1", "ann")
            },
            hint("e2", "p999"),
        ])
        .await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let scope = run.scope.unwrap();
    assert_eq!(scope.ignored, vec!["e1".to_string()]);
    assert_eq!(scope.stale, vec!["e2".to_string()]);
    assert!(scope.entries.is_empty());
    assert_eq!(run.skipped.len(), 1);
    assert_eq!(h.t.writes().len(), before);
}
