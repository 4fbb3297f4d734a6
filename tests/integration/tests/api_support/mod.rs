//! What the API tests share: a router wired to real adapters (DynamoDB, Secrets Manager and
//! EventBridge Scheduler on moto; both simulators over HTTP), and a request helper.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use integration_tests::{aws, fresh_table, secretsmanager_client, sim_clients, sim_login, unique};
use serde_json::Value;
use shared::credentials::{Credentials, CredentialsSource, SecretsManagerCredentials};
use shared::domain::{IntegrationId, Workflow};
use shared::engine::{RecordingScheduler, RunnerConfig, SystemClock};
use shared::scheduling::{EventBridgeScheduler, SchedulerTargets};
use shared::service::{ServiceContext, WorkflowService};
use shared::settings::IntegrationSettings;
use shared::store::dynamodb::DynamoStore;
use shared::store::StateStore;
use shared::workflows::employees::binding::EmployeesBinding;
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};
use tower::ServiceExt;

pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

pub(crate) struct Harness {
    pub router: Router,
    pub store: Arc<DynamoStore>,
    pub credentials: Arc<SecretsManagerCredentials>,
    pub scheduler_client: aws_sdk_scheduler::Client,
    pub schedule_group: String,
    pub personio: PersonioSim,
    pub timetrack: TimeTrackSim,
    pub context: ServiceContext,
    /// An integration with valid settings and working credentials.
    pub id: IntegrationId,
}

/// The simulators' credentials (their defaults).
pub(crate) fn good_credentials() -> Credentials {
    sim_login(&PersonioConfig::default(), &TimeTrackConfig::default())
}

pub(crate) fn good_credentials_json() -> Value {
    let p = PersonioConfig::default();
    let t = TimeTrackConfig::default();
    serde_json::json!({
        "personio_client_id": p.client_id,
        "personio_client_secret": p.client_secret,
        "timetrack_account": t.account,
        "timetrack_api_key": t.api_key,
        "timetrack_api_secret": t.api_secret,
    })
}

pub(crate) fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").expect("bundled tz"))
        .date()
}

impl Harness {
    /// Everything with default service settings.
    pub(crate) async fn start() -> Self {
        Self::start_with(RunnerConfig::default(), Seed::company(today())).await
    }

    /// `runner` configures the employees workflow's service (the one served for manual sync).
    pub(crate) async fn start_with(runner: RunnerConfig, seed: Seed) -> Self {
        Self::start_limited(runner, seed, None).await
    }

    /// `sync_time_limit`: the deadline the API grants a dispatched manual sync (see `ApiState`).
    pub(crate) async fn start_limited(
        runner: RunnerConfig,
        seed: Seed,
        sync_time_limit: Option<Duration>,
    ) -> Self {
        let config = aws().await;
        let (store, _table) = fresh_table().await;
        let store = Arc::new(store);
        let secret_prefix = unique("secrets");
        let credentials = Arc::new(SecretsManagerCredentials::new(
            secretsmanager_client().await,
            secret_prefix.clone(),
            Duration::from_secs(300),
        ));
        // The webhook routes wired as `main.rs` wires them (tokens in Secrets Manager); the queue is the
        // in-memory one: these tests look at HTTP answers, the webhook tests use SQS on moto.
        let webhook_tokens = Arc::new(shared::webhooks::SecretsManagerTokenStore::new(
            secretsmanager_client().await,
            secret_prefix,
        ));
        let scheduler_client = aws_sdk_scheduler::Client::new(&config);
        let schedule_group = unique("group");
        scheduler_client
            .create_schedule_group()
            .name(&schedule_group)
            .send()
            .await
            .expect("create schedule group on moto");
        let schedules = EventBridgeScheduler::new(
            scheduler_client.clone(),
            SchedulerTargets {
                group: schedule_group.clone(),
                role_arn: "arn:aws:iam::123456789012:role/scheduler".into(),
                employees_arn: "arn:aws:lambda:eu-central-1:123456789012:function:employees".into(),
                time_entries_arn: "arn:aws:lambda:eu-central-1:123456789012:function:time-entries"
                    .into(),
                absences_arn: "arn:aws:lambda:eu-central-1:123456789012:function:absences".into(),
            },
        );
        let personio = PersonioSim::start(PersonioConfig::default(), &seed)
            .await
            .expect("start Personio simulator");
        let timetrack = TimeTrackSim::start(TimeTrackConfig::default(), &seed)
            .await
            .expect("start TimeTrack simulator");
        let context = ServiceContext {
            store: store.clone(),
            credentials: credentials.clone(),
            scheduler: Arc::new(RecordingScheduler::new()),
            clock: Arc::new(SystemClock),
            clients: sim_clients(&personio, &timetrack, Duration::from_secs(10)),
        };
        let mut employees = WorkflowService::new(context.clone(), EmployeesBinding);
        employees.runner = runner;
        let mut state = api::ApiState::new(&context, Arc::new(schedules))
            .with_workflow(Workflow::Employees, Arc::new(employees))
            .with_webhooks(
                webhook_tokens,
                Arc::new(shared::webhooks::queue::MemoryEventQueue::default()),
                None,
            );
        state.sync_time_limit = sync_time_limit;
        let router = api::router(state);

        let id = IntegrationId::new(unique("acme")).expect("valid id");
        store
            .put_settings(&id, &IntegrationSettings::example())
            .await
            .expect("put settings");
        credentials
            .store(&id, &good_credentials())
            .await
            .expect("store credentials");
        Self {
            router,
            store,
            credentials,
            scheduler_client,
            schedule_group,
            personio,
            timetrack,
            context,
            id,
        }
    }

    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| ("application/json", b.to_string()));
        self.raw(method, path, body.as_ref().map(|(ct, b)| (*ct, b.as_str())))
            .await
    }

    pub(crate) async fn raw(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Answer {
        send(&self.router, method, path, body).await
    }
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// Asserts a problem answer with `status` and type `urn:...:problem:<slug>`.
    pub(crate) fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.content_type.as_deref(), Some(PROBLEM_JSON), "{self:?}");
        assert_eq!(
            self.json["type"],
            format!("urn:personio-timetrack-sync:problem:{slug}"),
            "{self:?}"
        );
        assert_eq!(self.json["status"], status, "{self:?}");
        assert!(self.json["title"].is_string(), "{self:?}");
        assert!(self.json["detail"].is_string(), "{self:?}");
    }

    pub(crate) fn assert_ok(&self) {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
    }
}

pub(crate) async fn send(
    router: &Router,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> Answer {
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("valid method"))
        .uri(path);
    if let Some((ct, _)) = body {
        request = request.header("content-type", ct);
    }
    let request = request
        .body(Body::from(
            body.map(|(_, b)| b.to_string()).unwrap_or_default(),
        ))
        .expect("valid request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    read(response).await
}

pub(crate) async fn read(response: axum::response::Response) -> Answer {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("read body");
    let text = String::from_utf8_lossy(&bytes).to_string();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        text,
        json,
    }
}
