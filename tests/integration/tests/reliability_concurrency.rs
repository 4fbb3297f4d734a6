//! Reliability suite, concurrency (issue 15, item 4), on the real DynamoDB store (moto) and both
//! simulators: a scheduled and a manual run of the same workflow at once — exactly one proceeds, the other
//! is told so; all three workflows of one integration at once — none blocks another; two integrations at
//! once — neither sees the other's data. Each ends where a sequential run ends: the next run writes nothing.
//!
//! "At once" is made certain, not hoped for: [`gated_store`] holds every gated `acquire_lease` until all the
//! runs of the test have tried theirs, so every run is past its lease attempt before any run writes.
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use integration_tests::intercepting_store::{InterceptingStore, Interceptor, StoreCall};
use integration_tests::{
    fixture_event, link_employees_by_email, service_context, sim_credentials, start_simulators,
    store_with_integration, writes, Counts,
};
use jiff::civil::{date, Date};
use jiff::Timestamp;
use serde_json::{json, Value};
use shared::domain::{IntegrationId, System};
use shared::engine::ManualClock;
use shared::runs::{RunRecord, RunStatus};
use shared::service::{WorkflowBinding, WorkflowService};
use shared::settings::{
    AbsenceTypeMapping, IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting,
};
use shared::store::StateStore;
use shared::workflows::absences::binding::AbsencesBinding;
use shared::workflows::employees::binding::EmployeesBinding;
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};
use tokio::sync::Barrier;

const NOW: &str = "2026-03-16T09:00:00Z";
const SEED_DAY: (i16, i8, i8) = (2026, 3, 16);

/// Makes the first `gated` lease acquisitions (won or lost) through the store wait for each other before
/// returning: an [`Interceptor`] of the shared [`InterceptingStore`] over the moto table.
struct LeaseGate {
    barrier: Arc<Barrier>,
    gated: Mutex<usize>,
}

#[async_trait]
impl Interceptor for LeaseGate {
    async fn after(&self, call: StoreCall<'_>, _inner: &dyn StateStore) {
        if !matches!(call, StoreCall::AcquireLease) {
            return;
        }
        let gate = {
            let mut left = self.gated.lock().unwrap_or_else(|p| p.into_inner());
            let gate = *left > 0;
            *left = left.saturating_sub(1);
            gate
        };
        if gate {
            self.barrier.wait().await;
        }
    }
}

/// A store that delegates everything to `inner` and gates the first `gated` acquisitions at `barrier`
/// (which may be shared with other stores, so that runs on different integrations wait for each other).
fn gated_store(
    inner: Arc<dyn StateStore>,
    barrier: Arc<Barrier>,
    gated: usize,
) -> InterceptingStore {
    InterceptingStore::new(
        inner,
        Arc::new(LeaseGate {
            barrier,
            gated: Mutex::new(gated),
        }),
    )
}

fn seed_day() -> Date {
    date(SEED_DAY.0, SEED_DAY.1, SEED_DAY.2)
}

/// Settings under which all three workflows have work on the seed company.
fn settings(personio: &PersonioSim) -> IntegrationSettings {
    let (vacation, sick) = {
        let s = personio.state();
        (
            s.absence_type_id_by_name("Vacation").expect("Vacation"),
            s.absence_type_id_by_name("Sick leave").expect("Sick leave"),
        )
    };
    let mut s = IntegrationSettings::example();
    s.time_zone = "Europe/Berlin".into();
    s.timetrack_timestamp_mode = TimestampMode::Utc;
    s.time_entries.mode = TimeEntryMode::Bidirectional;
    s.time_entries.master = System::TimeTrack;
    s.windows.time_entries = WindowSetting {
        lookback_days: 30,
        lookahead_days: 0,
    };
    s.absences.type_mappings = vec![
        AbsenceTypeMapping {
            timetrack_type_id: 1,
            personio_type_id: vacation,
            master: System::Personio,
            half_day_timetrack_type_id: Some(2),
        },
        AbsenceTypeMapping {
            timetrack_type_id: 5,
            personio_type_id: sick,
            master: System::TimeTrack,
            half_day_timetrack_type_id: None,
        },
    ];
    s
}

/// One integration on its own simulators (seed company), employees linked by e-mail, its three
/// workflow services on a fresh moto table.
struct Integration {
    id: IntegrationId,
    _sims: (PersonioSim, TimeTrackSim),
    employees: WorkflowService<EmployeesBinding>,
    time_entries: WorkflowService<TimeEntriesBinding>,
    absences: WorkflowService<AbsencesBinding>,
}

impl Integration {
    async fn start() -> Self {
        let (personio, timetrack) = start_simulators(&Seed::company(seed_day())).await;
        let (store, id) = store_with_integration(&settings(&personio)).await;
        let now: Timestamp = NOW.parse().expect("timestamp");
        link_employees_by_email(&store, &id, &personio, &timetrack, now).await;
        let credentials =
            sim_credentials(&id, &PersonioConfig::default(), &TimeTrackConfig::default());
        let context = service_context(
            store,
            credentials,
            &personio,
            &timetrack,
            ManualClock::new(now),
        );
        Self {
            id,
            employees: WorkflowService::new(context.clone(), EmployeesBinding),
            time_entries: WorkflowService::new(context.clone(), TimeEntriesBinding),
            absences: WorkflowService::new(context, AbsencesBinding),
            _sims: (personio, timetrack),
        }
    }

    /// Puts a [`gated_store`] in front of the integration's table for all three services.
    fn gate(&mut self, barrier: Arc<Barrier>, gated: usize) {
        let store: Arc<dyn StateStore> = Arc::new(gated_store(
            self.employees.context.store.clone(),
            barrier,
            gated,
        ));
        self.employees.context.store = store.clone();
        self.time_entries.context.store = store.clone();
        self.absences.context.store = store;
    }

    /// An integration whose first `runs` lease acquisitions wait for each other.
    async fn gated(runs: usize) -> Self {
        let mut i = Self::start().await;
        i.gate(Arc::new(Barrier::new(runs)), runs);
        i
    }
}

/// The scheduled event of `service`'s workflow: the run record, or the invocation's error.
async fn scheduled<B: WorkflowBinding>(
    service: &WorkflowService<B>,
    id: &IntegrationId,
) -> Result<RunRecord, String> {
    let fixture = format!("scheduled-{}.json", service.binding.workflow().as_str());
    let out = service
        .handle(fixture_event(&fixture, id), None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(serde_json::from_value(out).expect("run record"))
}

/// The manual-sync request of `service`'s workflow: (status, body).
async fn manual<B: WorkflowBinding>(
    service: &WorkflowService<B>,
    id: &IntegrationId,
) -> (u64, Value) {
    let fixture = format!("apigw-sync-{}.json", service.binding.workflow().as_str());
    let mut event = fixture_event(&fixture, id);
    event["body"] = Value::String(json!({}).to_string());
    let out = service.handle(event, None).await.expect("http answer");
    let body = serde_json::from_str(out["body"].as_str().expect("body")).expect("json");
    (out["statusCode"].as_u64().expect("status"), body)
}

fn finished(run: &RunRecord) {
    assert!(
        matches!(
            run.status,
            RunStatus::Succeeded | RunStatus::CompletedWithFailures
        ),
        "{run:#?}"
    );
}

/// The next scheduled run writes nothing: nothing was duplicated or left half-done.
async fn converged<B: WorkflowBinding>(service: &WorkflowService<B>, id: &IntegrationId) {
    let again = scheduled(service, id).await.expect("rerun");
    finished(&again);
    assert_eq!(
        writes(&again.counts),
        Counts::new(),
        "rerun wrote: {again:#?}"
    );
}

#[tokio::test]
async fn a_scheduled_and_a_manual_run_of_one_workflow_at_once_one_proceeds_the_other_is_told() {
    let i = Integration::gated(2).await;
    let (by_schedule, (status, body)) =
        tokio::join!(scheduled(&i.employees, &i.id), manual(&i.employees, &i.id));
    let manual_won = status == 200;
    match (&by_schedule, manual_won) {
        (Ok(run), false) => {
            finished(run);
            assert_eq!(status, 409, "{body}");
            assert_eq!(
                body["type"],
                json!("urn:personio-timetrack-sync:problem:already-running"),
                "{body}"
            );
        }
        (Err(error), true) => {
            assert!(error.contains("already running"), "{error}");
            assert!(
                matches!(
                    body["status"].as_str(),
                    Some("succeeded" | "completed_with_failures")
                ),
                "{body}"
            );
        }
        other => panic!("expected exactly one run to proceed: {other:?} / {status} {body}"),
    }
    converged(&i.employees, &i.id).await;
}

#[tokio::test]
async fn all_three_workflows_of_one_integration_run_at_once() {
    let i = Integration::gated(3).await;
    let (e, t, a) = tokio::join!(
        scheduled(&i.employees, &i.id),
        scheduled(&i.time_entries, &i.id),
        scheduled(&i.absences, &i.id),
    );
    for run in [&e, &t, &a] {
        finished(run.as_ref().expect("no workflow blocks another"));
    }
    // Employees the concurrent employees run linked or added were not linked yet when the other two
    // planned: their entries and absences arrive with one catch-up round, as after any new link.
    for catch_up in [
        scheduled(&i.employees, &i.id).await,
        scheduled(&i.time_entries, &i.id).await,
        scheduled(&i.absences, &i.id).await,
    ] {
        finished(&catch_up.expect("catch-up run"));
    }
    converged(&i.employees, &i.id).await;
    converged(&i.time_entries, &i.id).await;
    converged(&i.absences, &i.id).await;
}

#[tokio::test]
async fn two_integrations_run_at_once_without_seeing_each_other() {
    let (mut first, mut second) = (Integration::start().await, Integration::start().await);
    // One barrier for both tables: each run waits for the other's lease attempt.
    let barrier = Arc::new(Barrier::new(2));
    first.gate(barrier.clone(), 1);
    second.gate(barrier, 1);
    let (a, b) = tokio::join!(
        scheduled(&first.time_entries, &first.id),
        scheduled(&second.time_entries, &second.id),
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    finished(&a);
    finished(&b);
    assert!(!writes(&a.counts).is_empty(), "the seed gives work: {a:#?}");
    // The same seed on separate simulators: the same writes; cross-talk would change them.
    assert_eq!(writes(&a.counts), writes(&b.counts));
    converged(&first.time_entries, &first.id).await;
    converged(&second.time_entries, &second.id).await;
}
