//! Helpers shared by the integration tests: the AWS configuration pointing at `moto_server`, unique
//! table names per test, and the simulators started in-process.
//!
//! AWS tests use the real `aws-sdk-*` clients against moto, configured exactly like production
//! ([`shared::aws::load_aws_config`], which honours `AWS_ENDPOINT_URL`); `scripts/with-moto.sh` starts a
//! fresh moto and sets that variable. nextest runs every test in its own process, in parallel, so each
//! test creates its own uniquely named resources instead of sharing any.
//!
//! The workflow end-to-end tests (`tests/*_workflow.rs`) share one way of wiring a workflow's Lambda
//! handler to the simulators and a moto-backed store, and of pushing the recorded Lambda events
//! (`tests/fixtures/events`) through it; that wiring lives here once, so the tests hold only what is
//! particular to each workflow.
pub mod binary_edge;
pub mod convergence;
pub mod event_source_mapping;
pub mod intercepting_store;
pub mod lambda_process;
pub mod scenarios;
pub mod warm_function;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;
use shared::credentials::{Credentials, StaticCredentials};
use shared::domain::{EntityKind, IntegrationId};
use shared::engine::{Clock, ManualClock, RecordingScheduler};
use shared::runs::{Counted, RunCounts, RunRecord};
use shared::service::context::ClientFactory;
use shared::service::{ServiceContext, WorkflowBinding, WorkflowService};
use shared::settings::IntegrationSettings;
use shared::store::dynamodb::DynamoStore;
use shared::store::{Mapping, StateStore};
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};

/// The SDK configuration for moto. Panics (with the fix) when the tests were not started through
/// `scripts/with-moto.sh`, rather than silently talking to real AWS.
pub async fn aws() -> SdkConfig {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => {}
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: AWS integration tests need moto_server; \
             run via `make test` or `scripts/with-moto.sh cargo nextest run ...`"
        ),
    }
    shared::aws::load_aws_config().await
}

/// A name no other test (or earlier run against the same moto) uses: `<prefix>-<12 hex>`.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&aws().await)
}

pub async fn secretsmanager_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&aws().await)
}

/// A new state table (created the way the demo and docs create it) and a store on it.
pub async fn fresh_table() -> (DynamoStore, String) {
    let client = dynamodb_client().await;
    let name = unique("state");
    if let Err(e) = DynamoStore::create_table(&client, &name).await {
        panic!("creating table {name} on moto failed: {e}");
    }
    (DynamoStore::new(client, name.clone()), name)
}

/// A fresh store holding one new integration (`acme-<hex>`) with `settings`.
pub async fn store_with_integration(
    settings: &IntegrationSettings,
) -> (Arc<DynamoStore>, IntegrationId) {
    let (store, _) = fresh_table().await;
    let store = Arc::new(store);
    let id = IntegrationId::new(unique("acme")).expect("integration id");
    store
        .put_settings(&id, settings)
        .await
        .expect("settings stored");
    (store, id)
}

/// Both simulators on their default configs, seeded with `seed`. The defaults are what
/// [`sim_credentials`] needs to log in, so pass it `PersonioConfig::default()` and
/// `TimeTrackConfig::default()`.
pub async fn start_simulators(seed: &Seed) -> (PersonioSim, TimeTrackSim) {
    let personio = PersonioSim::start(PersonioConfig::default(), seed)
        .await
        .expect("personio sim");
    let timetrack = TimeTrackSim::start(TimeTrackConfig::default(), seed)
        .await
        .expect("timetrack sim");
    (personio, timetrack)
}

/// The login the simulators started with these configs accept.
pub fn sim_login(personio: &PersonioConfig, timetrack: &TimeTrackConfig) -> Credentials {
    Credentials {
        personio_client_id: personio.client_id.clone(),
        personio_client_secret: SecretString::from(personio.client_secret.clone()),
        timetrack_account: timetrack.account.clone(),
        timetrack_api_key: SecretString::from(timetrack.api_key.clone()),
        timetrack_api_secret: SecretString::from(timetrack.api_secret.clone()),
    }
}

/// In-memory credentials for integration `id` with the simulators' login (no Secrets Manager: the
/// workflow tests are about the sync, `credentials_secretsmanager` covers the real source).
pub fn sim_credentials(
    id: &IntegrationId,
    personio: &PersonioConfig,
    timetrack: &TimeTrackConfig,
) -> StaticCredentials {
    StaticCredentials::new().with(id.clone(), sim_login(personio, timetrack))
}

/// Clients pointed at the running simulators.
pub fn sim_clients(
    personio: &PersonioSim,
    timetrack: &TimeTrackSim,
    timeout: Duration,
) -> ClientFactory {
    ClientFactory {
        personio_base_url: personio.base_url(),
        timetrack_base_url_template: timetrack.base_url_template(),
        timeout,
    }
}

/// What a workflow's Lambda handler runs on in the end-to-end tests: the moto-backed `store`,
/// `credentials`, a [`RecordingScheduler`] (continuations are not followed), `clock` (a `ManualClock`
/// where the assertions depend on today) and clients for the simulators with a 20 s timeout.
pub fn service_context(
    store: Arc<DynamoStore>,
    credentials: StaticCredentials,
    personio: &PersonioSim,
    timetrack: &TimeTrackSim,
    clock: impl Clock + 'static,
) -> ServiceContext {
    ServiceContext {
        store,
        credentials: Arc::new(credentials),
        scheduler: Arc::new(RecordingScheduler::default()),
        clock: Arc::new(clock),
        clients: sim_clients(personio, timetrack, Duration::from_secs(20)),
    }
}

/// Stores the employee link person `person_id` ⇄ user `user_id` the way the employees workflow
/// leaves it, so that the time-entries and absences workflows can run without running it first.
pub async fn store_employee_link(
    store: &DynamoStore,
    id: &IntegrationId,
    person_id: &str,
    user_id: i64,
    now: Timestamp,
) {
    store
        .put_mapping(&Mapping {
            integration_id: id.clone(),
            kind: EntityKind::Employee,
            mapping_id: format!("employee-{person_id}"),
            personio_id: Some(person_id.to_string()),
            timetrack_id: Some(user_id.to_string()),
            fingerprint: None,
            anchor_date: None,
            intent: None,
            failures: 0,
            last_error: None,
            parked: None,
            updated_at: now,
            version: 1,
        })
        .await
        .expect("employee mapping stored");
}

/// Links every Personio person to the TimeTrack user with the same e-mail (letter case ignored) by
/// [`store_employee_link`]; persons without such a user stay unlinked. Returns Personio person id →
/// TimeTrack username of the linked ones.
pub async fn link_employees_by_email(
    store: &DynamoStore,
    id: &IntegrationId,
    personio: &PersonioSim,
    timetrack: &TimeTrackSim,
    now: Timestamp,
) -> BTreeMap<String, String> {
    let links: Vec<(String, i64, String)> = {
        let p = personio.state();
        let t = timetrack.state();
        p.persons_in_order()
            .into_iter()
            .filter_map(|person| {
                let email = person.email.as_deref()?.to_lowercase();
                let user = t.users.values().find(|u| u.email.to_lowercase() == email)?;
                Some((person.id.clone(), user.id, user.username.clone()))
            })
            .collect()
    };
    for (person, user_id, _) in &links {
        store_employee_link(store, id, person, *user_id, now).await;
    }
    links.into_iter().map(|(p, _, u)| (p, u)).collect()
}

/// The TimeTrack username [`link_employees_by_email`] linked to Personio person `person`. Panics
/// when the person is not linked: a test that picks an unlinked person is wrong, not the sync.
pub fn linked_username(links: &BTreeMap<String, String>, person: &str) -> String {
    links
        .get(person)
        .cloned()
        .unwrap_or_else(|| panic!("person {person} is not linked"))
}

/// The Lambda event fixture `tests/fixtures/events/<name>` for integration `id` (its
/// `INTEGRATION_ID` placeholder replaced).
pub fn fixture_event(name: &str, id: &IntegrationId) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/events")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text.replace("INTEGRATION_ID", id.as_str())).expect("fixture json")
}

/// The scheduled event `fixture` through the handler; returns the run record it answers.
pub async fn run_scheduled<B: WorkflowBinding>(
    service: &WorkflowService<B>,
    fixture: &str,
    id: &IntegrationId,
) -> RunRecord {
    let out = service
        .handle(fixture_event(fixture, id), None)
        .await
        .expect("scheduled run");
    serde_json::from_value(out).expect("run record")
}

/// The API Gateway manual-sync request `fixture` with `body` through the handler; returns the
/// answer's (status, JSON body).
pub async fn run_manual<B: WorkflowBinding>(
    service: &WorkflowService<B>,
    fixture: &str,
    id: &IntegrationId,
    body: &Value,
) -> (u64, Value) {
    let mut event = fixture_event(fixture, id);
    event["body"] = Value::String(body.to_string());
    let out = service.handle(event, None).await.expect("http answer");
    let status = out["statusCode"].as_u64().expect("status code");
    let body = serde_json::from_str(out["body"].as_str().expect("body")).expect("json body");
    (status, body)
}

/// A workflow's Lambda handler on one new integration, wired to both simulators and a fresh moto
/// store: what every workflow end-to-end test starts from. [`scheduled`](Self::scheduled) and
/// [`manual`](Self::manual) push the workflow's recorded events (`scheduled-<workflow>.json`,
/// `apigw-sync-<workflow>.json`) through the handler, as Lambda would.
pub struct WorkflowRig<B: WorkflowBinding> {
    pub personio: PersonioSim,
    pub timetrack: TimeTrackSim,
    pub store: Arc<DynamoStore>,
    pub service: WorkflowService<B>,
    pub id: IntegrationId,
}

impl<B: WorkflowBinding> WorkflowRig<B> {
    /// `personio` and `timetrack` as [`start_simulators`] starts them (their default logins); the
    /// integration gets `settings`, the service `binding` and `clock` (see [`service_context`]).
    pub async fn start(
        personio: PersonioSim,
        timetrack: TimeTrackSim,
        settings: &IntegrationSettings,
        binding: B,
        clock: impl Clock + 'static,
    ) -> Self {
        let (store, id) = store_with_integration(settings).await;
        let credentials =
            sim_credentials(&id, &PersonioConfig::default(), &TimeTrackConfig::default());
        let context = service_context(store.clone(), credentials, &personio, &timetrack, clock);
        Self {
            personio,
            timetrack,
            store,
            service: WorkflowService::new(context, binding),
            id,
        }
    }

    /// The rig for a workflow that needs linked employees (time entries, absences): on a
    /// `ManualClock` standing at `now`, with the employees linked by e-mail as the employees workflow
    /// leaves them ([`link_employees_by_email`], whose person id → username map it returns too).
    pub async fn start_linked(
        personio: PersonioSim,
        timetrack: TimeTrackSim,
        settings: &IntegrationSettings,
        binding: B,
        now: Timestamp,
    ) -> (Self, BTreeMap<String, String>) {
        let rig = Self::start(
            personio,
            timetrack,
            settings,
            binding,
            ManualClock::new(now),
        )
        .await;
        let users =
            link_employees_by_email(&rig.store, &rig.id, &rig.personio, &rig.timetrack, now).await;
        (rig, users)
    }

    /// The scheduled event of this workflow, through the handler.
    pub async fn scheduled(&self) -> RunRecord {
        let fixture = format!("scheduled-{}.json", self.workflow_name());
        run_scheduled(&self.service, &fixture, &self.id).await
    }

    /// The API Gateway manual-sync request of this workflow with `body`; returns (status, body).
    pub async fn manual(&self, body: &Value) -> (u64, Value) {
        let fixture = format!("apigw-sync-{}.json", self.workflow_name());
        run_manual(&self.service, &fixture, &self.id, body).await
    }

    fn workflow_name(&self) -> &'static str {
        self.service.binding.workflow().as_str()
    }
}

/// A run record's counts: side (`mappings`, `personio`, `timetrack`) → action → how many.
pub type Counts = BTreeMap<String, BTreeMap<String, u64>>;

/// Counts from (side, action, how many) triples.
pub fn counts(entries: &[(&str, &str, u64)]) -> Counts {
    let mut c = Counts::new();
    for (side, action, n) in entries {
        c.entry(side.to_string())
            .or_default()
            .insert(action.to_string(), *n);
    }
    c
}

/// Every count of a run record, keyed by the wire names (sides with nothing counted left out).
pub fn count_map(c: &RunCounts) -> Counts {
    c.iter()
        .map(|(side, actions)| {
            let actions = actions.iter().map(|(a, n)| (a.to_string(), n)).collect();
            (side.to_string(), actions)
        })
        .collect()
}

/// The counts of writes (everything but `unchanged` and `skip`), sides without any left out, as a
/// map keyed by the wire names (so that tests compare them with [`counts`]).
pub fn writes(c: &RunCounts) -> Counts {
    c.iter()
        .map(|(side, actions)| {
            (
                side.to_string(),
                actions
                    .iter()
                    .filter(|(a, _)| !matches!(a, Counted::Unchanged | Counted::Skip))
                    .map(|(a, n)| (a.to_string(), n))
                    .collect::<BTreeMap<_, _>>(),
            )
        })
        .filter(|(_, actions)| !actions.is_empty())
        .collect()
}
