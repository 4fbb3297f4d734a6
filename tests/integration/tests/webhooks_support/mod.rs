//! The webhook edge end to end, as in AWS but on 127.0.0.1: the Personio simulator delivers to the api
//! router served by axum (the receiver), the receiver enqueues on real SQS FIFO queues on moto_server,
//! and [`Edge::pump`] does what Lambda's event source mapping does — `ReceiveMessage`, build the
//! `SqsEvent`, invoke the workflow function's handler, delete the messages it did not report as failed,
//! leave the others to come back after their visibility timeout (and to the dead-letter queue after
//! `maxReceiveCount` receives).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use integration_tests::event_source_mapping::{create_fifo_pair, QueuePair};
use integration_tests::{
    aws, link_employees_by_email, run_scheduled, secretsmanager_client, service_context,
    sim_credentials, store_with_integration, unique,
};
use jiff::Timestamp;
use serde_json::{json, Value};
use shared::domain::System;
use shared::domain::{IntegrationId, Workflow};
use shared::engine::ManualClock;
use shared::runs::RunRecord;
use shared::runs::RunStatus;
use shared::service::lambda::handle_workflow_invocation;
use shared::service::{ServiceContext, WorkflowBinding, WorkflowService};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting};
use shared::store::dynamodb::DynamoStore;
use shared::webhooks::queue::{EventQueue, QueueError};
use shared::webhooks::{QueuedEvent, SecretsManagerTokenStore, SqsEventQueue};
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::WebhookConfig;
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};

/// Receives before a message moves to its dead-letter queue (the template's default is 5).
pub(crate) const MAX_RECEIVES: u32 = 3;
/// The queues' visibility timeout: a failed message comes back after it.
pub(crate) const VISIBILITY_SECS: i32 = 1;

/// Personio's delivery rule scaled down: 1 s timeout, retries after 20, 40, 80, 160, 320 ms.
pub(crate) fn fast_personio() -> PersonioConfig {
    PersonioConfig {
        webhooks: WebhookConfig {
            delivery_timeout: Duration::from_secs(1),
            retry_base_delay: Duration::from_millis(20),
            ..WebhookConfig::default()
        },
        ..PersonioConfig::default()
    }
}

/// The receiver's queue port over the real SQS queues, answering "unavailable" for the next
/// `fail_next` sends — the receiver then answers 503, which Personio retries.
pub(crate) struct FlakyQueue {
    pub inner: SqsEventQueue,
    pub fail_next: AtomicU32,
}

#[async_trait]
impl EventQueue for FlakyQueue {
    async fn enqueue(&self, events: &[QueuedEvent]) -> Result<(), QueueError> {
        let left = self.fail_next.load(Ordering::SeqCst);
        if left > 0 {
            self.fail_next.store(left - 1, Ordering::SeqCst);
            return Err(QueueError::Backend("injected: queue unavailable".into()));
        }
        self.inner.enqueue(events).await
    }
}

struct NoSchedules;

#[async_trait]
impl api::WorkflowSchedules for NoSchedules {
    async fn get(
        &self,
        _: &IntegrationId,
        _: Workflow,
    ) -> Result<shared::scheduling::WorkflowSchedule, shared::scheduling::ScheduleError> {
        Err(shared::scheduling::ScheduleError::NotFound("none".into()))
    }
    async fn put(
        &self,
        _: &IntegrationId,
        _: Workflow,
        _: &shared::scheduling::WorkflowSchedule,
    ) -> Result<(), shared::scheduling::ScheduleError> {
        Ok(())
    }
}

/// What one pump did.
#[derive(Debug, Default, Clone)]
pub(crate) struct PumpReport {
    pub batches: usize,
    pub messages: usize,
    pub failed: usize,
    /// Run ids... the answers of the handler, in order.
    pub answers: Vec<Value>,
}

pub(crate) struct Edge {
    pub personio: PersonioSim,
    pub timetrack: TimeTrackSim,
    pub store: Arc<DynamoStore>,
    pub id: IntegrationId,
    pub context: ServiceContext,
    pub sqs: aws_sdk_sqs::Client,
    pub queues: BTreeMap<Workflow, QueuePair>,
    /// The receiver's queue (the real queues behind a fault switch).
    pub queue: Arc<FlakyQueue>,
    /// The workflows' own queue adapter (the replay enqueues through it).
    pub sqs_queue: SqsEventQueue,
    pub tokens: Arc<SecretsManagerTokenStore>,
    /// `http://127.0.0.1:PORT` of the api router.
    pub base_url: String,
    pub http: reqwest::Client,
    pub users: BTreeMap<String, String>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Edge {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Edge {
    /// Both simulators seeded for `day` (Personio delivering fast), a new integration with `settings`
    /// on a fresh moto table, employees linked by e-mail, the three FIFO queues with their DLQs, the
    /// token store on moto's Secrets Manager, and the api router listening on 127.0.0.1.
    pub(crate) async fn start(
        day: jiff::civil::Date,
        settings: &IntegrationSettings,
        now: Timestamp,
    ) -> Edge {
        let seed = Seed::company(day);
        let personio = PersonioSim::start(fast_personio(), &seed)
            .await
            .expect("personio sim");
        let timetrack = TimeTrackSim::start(TimeTrackConfig::default(), &seed)
            .await
            .expect("timetrack sim");
        let (store, id) = store_with_integration(settings).await;
        let credentials =
            sim_credentials(&id, &PersonioConfig::default(), &TimeTrackConfig::default());
        let context = service_context(
            store.clone(),
            credentials,
            &personio,
            &timetrack,
            ManualClock::new(now),
        );
        let users = link_employees_by_email(&store, &id, &personio, &timetrack, now).await;

        let sqs = aws_sdk_sqs::Client::new(&aws().await);
        let mut queues = BTreeMap::new();
        for w in Workflow::ALL {
            queues.insert(
                w,
                create_fifo_pair(
                    &sqs,
                    &unique(&format!("wh-{}", w.as_str())),
                    VISIBILITY_SECS,
                    MAX_RECEIVES,
                )
                .await,
            );
        }
        let urls = queues.iter().map(|(w, q)| (*w, q.url.clone())).collect();
        let sqs_queue = SqsEventQueue::new(sqs.clone(), urls);
        let queue = Arc::new(FlakyQueue {
            inner: sqs_queue.clone(),
            fail_next: AtomicU32::new(0),
        });
        let tokens = Arc::new(SecretsManagerTokenStore::new(
            secretsmanager_client().await,
            unique("wh-secrets"),
        ));
        let state = api::ApiState::new(&context, Arc::new(NoSchedules)).with_webhooks(
            tokens.clone(),
            queue.clone(),
            None,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = api::router(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Edge {
            personio,
            timetrack,
            store,
            id,
            context,
            sqs,
            queues,
            queue,
            sqs_queue,
            tokens,
            base_url,
            http: reqwest::Client::new(),
            users,
            server,
        }
    }

    pub(crate) fn service<B: WorkflowBinding>(&self, binding: B) -> WorkflowService<B> {
        WorkflowService::new(self.context.clone(), binding)
    }

    /// The workflow's scheduled (full-window) run through its handler, so both sides start in sync.
    pub(crate) async fn scheduled<B: WorkflowBinding>(
        &self,
        service: &WorkflowService<B>,
    ) -> RunRecord {
        let fixture = format!("scheduled-{}.json", service.binding.workflow().as_str());
        run_scheduled(service, &fixture, &self.id).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `method path` on the api router with an optional JSON body → (status, JSON body).
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("api answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `PUT /integrations/{id}/webhooks` with `body`: registers with the simulator.
    pub(crate) async fn subscribe(&self, body: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/integrations/{}/webhooks", self.id),
            Some(body),
        )
        .await
    }

    /// Registers with the simulator's company (the usual setup).
    pub(crate) async fn subscribe_company(&self) -> Value {
        let (status, view) = self
            .subscribe(json!({"company_id": self.personio.company_id()}))
            .await;
        assert_eq!(status, 201, "{view}");
        view
    }

    /// A delivery straight to the receiver.
    pub(crate) async fn deliver(&self, token: Option<&str>, body: &[u8]) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/integrations/{}/webhooks/personio", self.id)))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(t) = token {
            request = request.header("authorization", t);
        }
        let response = request.send().await.expect("receiver answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// What Lambda's event source mapping does, until `done()` holds with the queue drained, or
    /// `timeout`: receive up to 10 messages (FIFO: one group's batch at a time), invoke the workflow's
    /// handler with the `SqsEvent`, delete the messages not reported in `batchItemFailures`.
    pub(crate) async fn pump<B: WorkflowBinding + 'static>(
        &self,
        service: &WorkflowService<B>,
        timeout: Duration,
        done: impl Fn() -> bool,
    ) -> PumpReport {
        let workflow = service.binding.workflow();
        let url = self.queues[&workflow].url.clone();
        let start = Instant::now();
        let mut report = PumpReport::default();
        let mut idle = 0;
        while start.elapsed() < timeout {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("ReceiveMessage");
            let messages = received.messages().to_vec();
            if messages.is_empty() {
                idle += 1;
                if done() && idle >= 3 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            idle = 0;
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    let attributes: BTreeMap<String, String> = m
                        .attributes()
                        .map(|a| {
                            a.iter()
                                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({
                        "messageId": m.message_id(),
                        "receiptHandle": m.receipt_handle(),
                        "body": m.body(),
                        "attributes": attributes,
                        "messageAttributes": {},
                        "md5OfBody": m.md5_of_body(),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:queue.fifo",
                        "awsRegion": "eu-central-1"
                    })
                })
                .collect();
            let answer = handle_workflow_invocation(
                service,
                &self.sqs_queue,
                json!({"Records": records}),
                None,
            )
            .await
            .expect("a queue batch is always answered");
            let failed: Vec<String> = answer["batchItemFailures"]
                .as_array()
                .expect("batchItemFailures")
                .iter()
                .map(|f| f["itemIdentifier"].as_str().expect("id").to_string())
                .collect();
            report.batches += 1;
            report.messages += messages.len();
            report.failed += failed.len();
            report.answers.push(answer);
            for m in &messages {
                if failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                    continue;
                }
                self.sqs
                    .delete_message()
                    .queue_url(&url)
                    .receipt_handle(m.receipt_handle().expect("receipt"))
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
        report
    }

    /// Every message body waiting in `queue_url` (receives them, then makes them visible again).
    pub(crate) async fn peek(&self, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut all = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("ReceiveMessage");
            if out.messages().is_empty() {
                break;
            }
            all.extend(out.messages().iter().cloned());
        }
        for m in &all {
            self.sqs
                .change_message_visibility()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .visibility_timeout(0)
                .send()
                .await
                .expect("ChangeMessageVisibility");
        }
        all
    }

    /// The messages in `queue_url` now, without receiving them.
    pub(crate) async fn depth(&self, queue_url: &str) -> u64 {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("GetQueueAttributes");
        let a = attrs.attributes().cloned().unwrap_or_default();
        [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|k| a.get(k).and_then(|v| v.parse::<u64>().ok()))
        .sum()
    }
}

/// The settings of the time-entries webhook tests: bidirectional, Personio the master, a 30-day window,
/// Berlin time, TimeTrack stamps in UTC.
pub(crate) fn time_entries_settings() -> IntegrationSettings {
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
    settings
}

/// The time-entries edge on 2026-11-10 at `now`, synced by a scheduled run and subscribed with the
/// simulator's company.
pub(crate) async fn synced_time_entries_edge(
    now: Timestamp,
) -> (Edge, shared::service::WorkflowService<TimeEntriesBinding>) {
    let edge = Edge::start(
        jiff::civil::date(2026, 11, 10),
        &time_entries_settings(),
        now,
    )
    .await;
    let service = edge.service(TimeEntriesBinding);
    let run = edge.scheduled(&service).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    edge.subscribe_company().await;
    (edge, service)
}
