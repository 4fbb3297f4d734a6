//! The webhook path through the product's real binaries, on 127.0.0.1 (issue 14's Must-show):
//!
//! ```text
//! Personio simulator ──delivery──▶ api binary (`--listen`, the receiver) ──SendMessage──▶ SQS FIFO (moto)
//!        ▲                                                                                   │
//!        │ reads (person + date filters)         EventSourceMapping (receive, invoke, delete)│
//!        └──────────── workflow binary (time-entries / absences / employees) ◀──────────────┘
//!                             │ writes
//!                             ▼
//!                     TimeTrack simulator
//! ```
//!
//! Everything a deployment has is real here except Lambda itself: the DynamoDB table, the credentials
//! and the webhook token in Secrets Manager, and the queues are on moto; the receiver and the workflow
//! functions are the binaries `make build` packages, with the template's environment. The functions
//! run on the system clock, so the simulators are seeded for today (Europe/Berlin).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use shared::credentials::{CredentialsSource, SecretsManagerCredentials};
use shared::domain::{IntegrationId, Trigger, Workflow};
use shared::runs::RunRecord;
use shared::settings::IntegrationSettings;
use shared::store::dynamodb::DynamoStore;
use shared::store::StateStore;
use shared::webhooks::{SecretsManagerTokenStore, TokenStore};
use simulators::personio::{AttemptOutcome, WebhookConfig};
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};

use crate::event_source_mapping::{create_fifo_pair, EventSourceMapping, PumpReport};
use crate::lambda_process::FunctionEnv;
use crate::warm_function::{ApiProcess, WarmFunction};
use crate::{aws, fresh_table, link_employees_by_email, secretsmanager_client, sim_login, unique};

/// The queues' visibility timeout in these tests (the template's is 960 s): a reported message comes
/// back after it.
pub const VISIBILITY_SECS: i32 = 1;
/// Receives before the dead-letter queue: the template's default (`WebhookMaxReceiveCount`).
pub const MAX_RECEIVES: u32 = 5;
/// How long a test waits for a change to travel.
pub const WAIT: Duration = Duration::from_secs(30);

/// Personio's delivery rule with the delays scaled down: 1 s timeout, retries after 0.2, 0.4, 0.8,
/// 1.6, 3.2 s — long enough for a stopped receiver to be restarted within the six attempts.
pub fn personio_config() -> PersonioConfig {
    PersonioConfig {
        webhooks: WebhookConfig {
            delivery_timeout: Duration::from_secs(1),
            retry_base_delay: Duration::from_millis(200),
            ..WebhookConfig::default()
        },
        ..PersonioConfig::default()
    }
}

/// Today in Europe/Berlin (the seed company's zone): the day the simulators are seeded for.
pub fn today() -> Date {
    Timestamp::now()
        .to_zoned(TimeZone::get("Europe/Berlin").expect("Europe/Berlin"))
        .date()
}

/// The last Saturday before today: a day the seed company did not work, inside every window.
pub fn last_saturday() -> Date {
    let mut day = today().yesterday().expect("yesterday");
    while day.weekday() != jiff::civil::Weekday::Saturday {
        day = day.yesterday().expect("yesterday");
    }
    day
}

/// The running edge: simulators, moto resources, the api process and the workflow functions.
pub struct BinaryEdge {
    pub personio: PersonioSim,
    pub timetrack: TimeTrackSim,
    pub store: Arc<DynamoStore>,
    pub id: IntegrationId,
    pub secret_prefix: String,
    pub sqs: aws_sdk_sqs::Client,
    pub tokens: SecretsManagerTokenStore,
    /// One event source mapping per workflow queue.
    pub mappings: BTreeMap<Workflow, EventSourceMapping>,
    /// The warm workflow functions started for this edge.
    pub functions: BTreeMap<Workflow, WarmFunction>,
    pub api: ApiProcess,
    /// Personio person id → linked TimeTrack username (linked by e-mail, as the employees sync links).
    pub users: BTreeMap<String, String>,
    pub http: reqwest::Client,
}

impl BinaryEdge {
    /// Simulators seeded for today (Personio delivering with [`personio_config`]), a fresh table with
    /// the integration's `settings`, its credentials in Secrets Manager under a fresh prefix, the
    /// employees linked by e-mail, the three FIFO queues with their DLQs, the api binary listening,
    /// and a warm process of each workflow function in `workflows`.
    pub async fn start(settings: &IntegrationSettings, workflows: &[Workflow]) -> BinaryEdge {
        let seed = Seed::company(today());
        let personio = PersonioSim::start(personio_config(), &seed)
            .await
            .expect("personio sim");
        let timetrack = TimeTrackSim::start(TimeTrackConfig::default(), &seed)
            .await
            .expect("timetrack sim");
        let (store, table) = fresh_table().await;
        let store = Arc::new(store);
        let id = IntegrationId::new(unique("acme")).expect("integration id");
        store
            .put_settings(&id, settings)
            .await
            .expect("settings stored");
        let secret_prefix = format!("/{}", unique("wh-e2e"));
        SecretsManagerCredentials::new(
            secretsmanager_client().await,
            secret_prefix.clone(),
            Duration::from_secs(60),
        )
        .store(
            &id,
            &sim_login(&PersonioConfig::default(), &TimeTrackConfig::default()),
        )
        .await
        .expect("credentials stored");
        let users =
            link_employees_by_email(&store, &id, &personio, &timetrack, Timestamp::now()).await;

        let sqs = aws_sdk_sqs::Client::new(&aws().await);
        let mut mappings = BTreeMap::new();
        let mut queue_env = Vec::new();
        for w in Workflow::ALL {
            let pair = create_fifo_pair(
                &sqs,
                &unique(&format!("wh-{}", w.as_str())),
                VISIBILITY_SECS,
                MAX_RECEIVES,
            )
            .await;
            queue_env.push((
                shared::webhooks::queue::queue_url_env(w).to_string(),
                pair.url.clone(),
            ));
            mappings.insert(w, EventSourceMapping::new(sqs.clone(), pair));
        }
        let env = || FunctionEnv {
            table: table.clone(),
            secret_prefix: secret_prefix.clone(),
            personio_base_url: personio.base_url(),
            timetrack_base_url_template: timetrack.base_url_template(),
        };
        let api = ApiProcess::start(env(), &queue_env).await;
        let mut functions = BTreeMap::new();
        for w in workflows {
            functions.insert(
                *w,
                WarmFunction::start(w.as_str(), &env(), &queue_env).await,
            );
        }
        let tokens =
            SecretsManagerTokenStore::new(secretsmanager_client().await, secret_prefix.clone());
        BinaryEdge {
            personio,
            timetrack,
            store,
            id,
            secret_prefix,
            sqs,
            tokens,
            mappings,
            functions,
            api,
            users,
            http: reqwest::Client::new(),
        }
    }

    pub fn function(&self, workflow: Workflow) -> &WarmFunction {
        self.functions
            .get(&workflow)
            .unwrap_or_else(|| panic!("no {workflow} function started for this edge"))
    }

    pub fn mapping(&self, workflow: Workflow) -> &EventSourceMapping {
        &self.mappings[&workflow]
    }

    /// The workflow's scheduled (full-window) run through its binary, so both sides start in sync.
    pub async fn scheduled(&self, workflow: Workflow) -> RunRecord {
        let answer = self
            .function(workflow)
            .call(json!({"integration_id": self.id.as_str(), "trigger": "schedule"}))
            .await;
        serde_json::from_value(answer).expect("a run record")
    }

    /// The scheduled webhook replay (what the replay schedule sends) through the workflow's binary;
    /// returns its report.
    pub async fn replay(&self, workflow: Workflow) -> Value {
        self.function(workflow)
            .call(json!({"integration_id": self.id.as_str(), "trigger": "webhook-replay"}))
            .await
    }

    /// The event source mapping of `workflow` pumping into its function until `done()` holds with
    /// the queue drained, or `timeout`.
    pub async fn pump(
        &self,
        workflow: Workflow,
        timeout: Duration,
        done: impl Fn() -> bool,
    ) -> PumpReport {
        self.mapping(workflow)
            .pump(self.function(workflow), timeout, done)
            .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api.base_url())
    }

    /// `method path` on the api process with an optional JSON body → (status, JSON body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("the api answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `PUT /integrations/{id}/webhooks` with `body`: registers the receiver with the simulator.
    pub async fn subscribe(&self, body: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/integrations/{}/webhooks", self.id),
            Some(body),
        )
        .await
    }

    /// Registers with the simulator's own company (the usual setup); expects 201.
    pub async fn subscribe_company(&self) -> Value {
        let (status, view) = self
            .subscribe(json!({"company_id": self.personio.company_id()}))
            .await;
        assert_eq!(status, 201, "{view}");
        view
    }

    /// The current webhook token (from Secrets Manager, where the api keeps it).
    pub async fn token(&self) -> String {
        self.tokens
            .tokens(&self.id, true)
            .await
            .expect("token store")
            .expect("a token")
            .current
            .expose_secret()
            .to_string()
    }

    /// A delivery straight to the receiver with `token` (or none) and `body`.
    pub async fn deliver(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/integrations/{}/webhooks/personio", self.id)))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            request = request.header("authorization", t);
        }
        let response = request.send().await.expect("the receiver answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Waits until every event the simulator emitted so far was delivered or finally refused.
    pub async fn delivered_all(&self, timeout: Duration) {
        let total = self.personio.webhooks().events().len();
        self.personio
            .webhooks()
            .wait_until(timeout, |attempts| {
                attempts
                    .iter()
                    .filter(|a| a.outcome != AttemptOutcome::Retryable)
                    .count()
                    >= total
            })
            .await
            .expect("every event delivered or finally refused");
    }

    /// Messages in the workflow's queue and in its dead-letter queue.
    pub async fn depths(&self, workflow: Workflow) -> (u64, u64) {
        let m = self.mapping(workflow);
        (m.depth().await, m.dead_letters().await)
    }

    /// The workflow's run records with trigger `webhook`, oldest first.
    pub async fn webhook_runs(&self, workflow: Workflow) -> Vec<RunRecord> {
        let mut runs: Vec<RunRecord> = self
            .store
            .list_runs(&self.id, Some(workflow), 100, None)
            .await
            .expect("runs")
            .runs
            .into_iter()
            .filter(|r| r.trigger == Trigger::Webhook)
            .collect();
        runs.sort_by_key(|r| r.started_at);
        runs
    }

    /// The TimeTrack username linked to Personio person `person`.
    pub fn username(&self, person: &str) -> String {
        crate::linked_username(&self.users, person)
    }
}
