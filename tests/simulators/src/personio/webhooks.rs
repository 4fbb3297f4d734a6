//! Personio's webhooks (`personio-api-v2.md` §8): the registered webhooks, the dataless events every
//! change of a person, employment, attendance period or absence period records, and their delivery to
//! the registered URLs with Personio's retry rule — plus the knobs tests and the demo use to make
//! delivery misbehave (duplicates, out of order, dropped events, a paused sender).
//!
//! Events are recorded synchronously by whoever changes the records (the API routes and the
//! convenience methods of [`super::PersonioState`]), so `GET /v2/webhooks/{id}/events` lists an event
//! as soon as the request that caused it has been answered; delivery happens later on tokio tasks and
//! never blocks that request. Lock order: the state lock may be held while the hub's lock is taken,
//! never the other way round.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use crate::faults::lock;

/// The event names a webhook may subscribe to (§8 "Event names"); `ping` is sent by the ping route only.
pub const KNOWN_EVENTS: &[&str] = &[
    "person.created",
    "person.updated",
    "person.deleted",
    "employment.created",
    "employment.updated",
    "employment.updated.cost-centers",
    "employment.deleted",
    "employment.started",
    "employment.terminated",
    "attendance-period.created",
    "attendance-period.updated",
    "attendance-period.deleted",
    "absence-period.created",
    "absence-period.updated.timerange",
    "absence-period.updated.status",
    "absence-period.deleted",
    "document.created",
    "document.updated",
    "document.deleted",
    "document.signed",
];

/// How long Personio keeps events and delivery attempts listable (§8: "last 30 days").
pub const RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// How the simulated Personio delivers webhooks. The defaults are Personio's rule with the delays
/// scaled down (Personio retries for up to 3 days; nobody waits that long locally).
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// A delivery must be answered with a 2xx within this time (Personio: 3 s).
    pub delivery_timeout: Duration,
    /// Delay before the 2nd attempt; each later one doubles it (`base`, `2·base`, `4·base`, ...).
    pub retry_base_delay: Duration,
    /// Attempts per event and webhook, the first included (Personio: at most 6).
    pub max_attempts: u32,
    /// The knobs the simulator starts with (and returns to on `/_sim/reset`).
    pub knobs: WebhookKnobs,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            delivery_timeout: Duration::from_secs(3),
            retry_base_delay: Duration::from_millis(250),
            max_attempts: 6,
            knobs: WebhookKnobs::default(),
        }
    }
}

/// Switches that make delivery misbehave the ways a receiver must survive, and the uncertain parts
/// of §8 made configurable. Settable from Rust ([`WebhookControl::set_knobs`]) and through
/// `POST /_sim/webhooks` (any subset of the fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookKnobs {
    /// Deliver every event twice (two independent deliveries of the same body).
    pub duplicate: bool,
    /// Hold each event until the next one for the same webhook arrives, then send the next first.
    /// Turning this off releases a held event.
    pub out_of_order: bool,
    /// Drop the next N deliveries (event × webhook): never sent, but listed under `/events` with
    /// status `DROPPED`, so a replay from the events API finds them.
    pub drop_next: u32,
    /// Queue deliveries without sending them until resumed (`false`).
    pub paused: bool,
    /// Add `person_id` to the payload (§8 says the payload contents are unverified; `id` is always there).
    pub payload_person_id: bool,
    /// Accept `http://127.0.0.1`, `http://localhost` and `http://[::1]` webhook URLs (Personio requires
    /// HTTPS). On by default so tests and the demo can register local receivers.
    pub allow_http_localhost: bool,
}

impl Default for WebhookKnobs {
    fn default() -> Self {
        WebhookKnobs {
            duplicate: false,
            out_of_order: false,
            drop_next: 0,
            paused: false,
            payload_person_id: false,
            allow_http_localhost: true,
        }
    }
}

/// A partial [`WebhookKnobs`], the body of `POST /_sim/webhooks`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KnobsPatch {
    duplicate: Option<bool>,
    out_of_order: Option<bool>,
    drop_next: Option<u32>,
    paused: Option<bool>,
    payload_person_id: Option<bool>,
    allow_http_localhost: Option<bool>,
}

impl KnobsPatch {
    fn apply(self, knobs: &mut WebhookKnobs) {
        let KnobsPatch {
            duplicate,
            out_of_order,
            drop_next,
            paused,
            payload_person_id,
            allow_http_localhost,
        } = self;
        knobs.duplicate = duplicate.unwrap_or(knobs.duplicate);
        knobs.out_of_order = out_of_order.unwrap_or(knobs.out_of_order);
        knobs.drop_next = drop_next.unwrap_or(knobs.drop_next);
        knobs.paused = paused.unwrap_or(knobs.paused);
        knobs.payload_person_id = payload_person_id.unwrap_or(knobs.payload_person_id);
        knobs.allow_http_localhost = allow_http_localhost.unwrap_or(knobs.allow_http_localhost);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WebhookStatus {
    Enabled,
    Disabled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthType {
    None,
    Token,
    Custom,
}

/// A registered webhook. The token is never rendered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub description: String,
    pub status: WebhookStatus,
    pub auth_type: AuthType,
    #[serde(skip)]
    pub token: Option<String>,
    pub custom_headers: BTreeMap<String, String>,
    pub enabled_events: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What Personio POSTs to a webhook URL (§8 envelope). `payload` is `{"id": ...}` (+ `person_id` with
/// the knob).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEnvelope {
    pub company_id: String,
    pub event_name: String,
    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-27T09:12:45.123Z`.
    pub occurred_at: String,
    pub payload: Value,
    pub meta: Value,
}

/// How far one event's delivery to one webhook got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Queued, held, paused, or between retries.
    Pending,
    Delivered,
    /// Retries exhausted, or a final (non-retryable) answer.
    Failed,
    /// Dropped by the `drop_next` knob: never sent.
    Dropped,
}

/// One event as a webhook's `/events` lists it: the envelope plus the event id and delivery status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookEvent {
    pub id: String,
    #[serde(skip)]
    pub webhook_id: String,
    #[serde(flatten)]
    pub envelope: WebhookEnvelope,
    #[serde(skip)]
    pub occurred: Timestamp,
    pub delivery_status: DeliveryStatus,
}

/// The result of one delivery attempt (one HTTP request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttemptOutcome {
    /// A 2xx within the timeout.
    Success,
    /// A timeout, a connection error or a 5xx other than 501: retried while attempts remain.
    Retryable,
    /// Any other answer (3xx — redirects are not followed —, 4xx, 501): never retried.
    Failed,
}

/// One delivery attempt as `/activity` lists it and tests inspect it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliveryAttempt {
    pub id: String,
    pub webhook_id: String,
    /// `None` for a ping or a test event.
    pub event_id: Option<String>,
    pub event_name: String,
    /// 1-based attempt number for this event and webhook.
    pub attempt: u32,
    pub attempted_at: Timestamp,
    pub outcome: AttemptOutcome,
    /// `SUCCESS` or `FAILED`, for the activity API's status filter.
    pub status: &'static str,
    pub response_status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The JSON body that was sent.
    pub body: Value,
}

/// One queued delivery of an event (or a redelivery) to one webhook.
#[derive(Clone, Debug)]
struct Job {
    webhook_id: String,
    event_id: Option<String>,
    event_name: String,
    body: Value,
}

/// Everything behind the hub's lock.
#[derive(Default)]
struct HubInner {
    webhooks: BTreeMap<String, Webhook>,
    /// Registration order (lists are served oldest first).
    registered: HashMap<String, u64>,
    next_order: u64,
    queues: HashMap<String, mpsc::UnboundedSender<Job>>,
    /// The event held back by the `out_of_order` knob, per webhook.
    held: HashMap<String, Job>,
    events: Vec<WebhookEvent>,
    event_index: HashMap<String, usize>,
    attempts: Vec<DeliveryAttempt>,
    /// Every event recorded, whether or not a webhook was subscribed (for tests).
    emitted: Vec<WebhookEnvelope>,
    knobs: WebhookKnobs,
}

/// The webhook registry, the event log and the delivery machinery of one Personio simulator.
pub(crate) struct WebhookHub {
    inner: Mutex<HubInner>,
    config: WebhookConfig,
    company_id: String,
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    paused: watch::Sender<bool>,
}

impl std::fmt::Debug for WebhookHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookHub")
            .field("company_id", &self.company_id)
            .finish_non_exhaustive()
    }
}

/// Now, truncated to milliseconds (the precision `occurred_at` carries).
pub(crate) fn now_millis() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

/// `2026-11-27T09:12:45.123Z`.
pub(crate) fn rfc3339_millis(t: Timestamp) -> String {
    format!("{t:.3}")
}

impl WebhookHub {
    pub(crate) fn new(config: WebhookConfig, company_id: String) -> anyhow::Result<WebhookHub> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.delivery_timeout)
            .user_agent("Personio-Webhooks (simulator)")
            .build()?;
        let (paused, _) = watch::channel(config.knobs.paused);
        Ok(WebhookHub {
            inner: Mutex::new(HubInner {
                knobs: config.knobs.clone(),
                ..HubInner::default()
            }),
            config,
            company_id,
            client,
            runtime: tokio::runtime::Handle::try_current()?,
            paused,
        })
    }

    pub(crate) fn company_id(&self) -> &str {
        &self.company_id
    }

    pub(crate) fn knobs(&self) -> WebhookKnobs {
        lock(&self.inner).knobs.clone()
    }

    /// Replaces the knobs; turning `out_of_order` off releases held events, `paused` off resumes.
    pub(crate) fn set_knobs(&self, knobs: WebhookKnobs) {
        let paused = knobs.paused;
        {
            let mut inner = lock(&self.inner);
            inner.knobs = knobs;
            if !inner.knobs.out_of_order {
                let held: Vec<Job> = inner.held.drain().map(|(_, job)| job).collect();
                for job in held {
                    inner.send(job);
                }
            }
        }
        self.paused.send_replace(paused);
    }

    pub(crate) fn patch_knobs(&self, patch: KnobsPatch) -> WebhookKnobs {
        let mut knobs = self.knobs();
        patch.apply(&mut knobs);
        self.set_knobs(knobs.clone());
        knobs
    }

    /// Forgets webhooks, events, attempts and held deliveries; the knobs return to the configured ones.
    pub(crate) fn reset(&self) {
        *lock(&self.inner) = HubInner {
            knobs: self.config.knobs.clone(),
            ..HubInner::default()
        };
        self.paused.send_replace(self.config.knobs.paused);
    }

    // ----- the registry -----

    pub(crate) fn webhooks(&self) -> Vec<Webhook> {
        let inner = lock(&self.inner);
        let mut list: Vec<Webhook> = inner.webhooks.values().cloned().collect();
        list.sort_by_key(|w| inner.registered.get(&w.id).copied().unwrap_or(u64::MAX));
        list
    }

    pub(crate) fn webhook(&self, id: &str) -> Option<Webhook> {
        lock(&self.inner).webhooks.get(id).cloned()
    }

    /// Stores a new or changed webhook; a new one gets its delivery queue.
    pub(crate) fn put(self: &Arc<Self>, webhook: Webhook) {
        let mut inner = lock(&self.inner);
        if !inner.queues.contains_key(&webhook.id) {
            let order = inner.next_order;
            inner.next_order += 1;
            inner.registered.insert(webhook.id.clone(), order);
            let (sender, receiver) = mpsc::unbounded_channel();
            inner.queues.insert(webhook.id.clone(), sender);
            self.runtime
                .spawn(run_queue(Arc::clone(self), webhook.id.clone(), receiver));
        }
        inner.webhooks.insert(webhook.id.clone(), webhook);
    }

    /// Removes a webhook; its queue ends, pending deliveries are not sent.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let mut inner = lock(&self.inner);
        inner.queues.remove(id);
        inner.held.remove(id);
        inner.registered.remove(id);
        inner.webhooks.remove(id).is_some()
    }

    // ----- events -----

    /// Records a change: one event per ENABLED webhook subscribed to `event_name`, queued for delivery.
    pub(crate) fn record(&self, event_name: &str, resource_id: &str, person_id: Option<&str>) {
        let occurred = now_millis();
        let mut inner = lock(&self.inner);
        let mut payload = json!({ "id": resource_id });
        if inner.knobs.payload_person_id {
            if let Some(person_id) = person_id {
                payload["person_id"] = json!(person_id);
            }
        }
        let envelope = WebhookEnvelope {
            company_id: self.company_id.clone(),
            event_name: event_name.to_string(),
            occurred_at: rfc3339_millis(occurred),
            payload,
            meta: json!({}),
        };
        inner.emitted.push(envelope.clone());
        let targets: Vec<String> = inner
            .webhooks
            .values()
            .filter(|w| {
                w.status == WebhookStatus::Enabled
                    && w.enabled_events.iter().any(|e| e == event_name)
            })
            .map(|w| w.id.clone())
            .collect();
        for webhook_id in targets {
            let event = WebhookEvent {
                id: uuid::Uuid::new_v4().to_string(),
                webhook_id: webhook_id.clone(),
                envelope: envelope.clone(),
                occurred,
                delivery_status: DeliveryStatus::Pending,
            };
            let job = Job {
                webhook_id,
                event_id: Some(event.id.clone()),
                event_name: event_name.to_string(),
                body: serde_json::to_value(&envelope).unwrap_or(Value::Null),
            };
            let index = inner.events.len();
            inner.event_index.insert(event.id.clone(), index);
            inner.events.push(event);
            inner.dispatch(job);
        }
    }

    /// The events of a webhook within the retention window, oldest first.
    pub(crate) fn events_of(&self, webhook_id: &str) -> Vec<WebhookEvent> {
        let horizon = Timestamp::now()
            .checked_sub(RETENTION)
            .unwrap_or(Timestamp::UNIX_EPOCH);
        lock(&self.inner)
            .events
            .iter()
            .filter(|e| e.webhook_id == webhook_id && e.occurred >= horizon)
            .cloned()
            .collect()
    }

    /// Every event of every webhook, oldest first.
    pub(crate) fn all_events(&self) -> Vec<WebhookEvent> {
        lock(&self.inner).events.clone()
    }

    pub(crate) fn emitted(&self) -> Vec<WebhookEnvelope> {
        lock(&self.inner).emitted.clone()
    }

    /// Every delivery attempt, oldest first.
    pub(crate) fn attempts(&self) -> Vec<DeliveryAttempt> {
        lock(&self.inner).attempts.clone()
    }

    /// Queues the given events of a webhook again (the knobs do not apply to a redelivery). `Err`
    /// names the ids that are not events of this webhook; nothing is queued then.
    pub(crate) fn redeliver(
        &self,
        webhook_id: &str,
        event_ids: &[String],
    ) -> Result<(), Vec<String>> {
        let mut inner = lock(&self.inner);
        let unknown: Vec<String> = event_ids
            .iter()
            .filter(|id| {
                inner
                    .event_index
                    .get(*id)
                    .and_then(|i| inner.events.get(*i))
                    .is_none_or(|e| e.webhook_id != webhook_id)
            })
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        for id in event_ids {
            let index = inner.event_index.get(id).copied();
            let Some(event) = index.and_then(|i| inner.events.get_mut(i)) else {
                continue;
            };
            event.delivery_status = DeliveryStatus::Pending;
            let job = Job {
                webhook_id: webhook_id.to_string(),
                event_id: Some(id.clone()),
                event_name: event.envelope.event_name.clone(),
                body: serde_json::to_value(&event.envelope).unwrap_or(Value::Null),
            };
            inner.send(job);
        }
        Ok(())
    }

    /// The events of a webhook that were not delivered (failed or dropped): what an empty redelivery
    /// request redelivers.
    pub(crate) fn undelivered_of(&self, webhook_id: &str) -> Vec<String> {
        lock(&self.inner)
            .events
            .iter()
            .filter(|e| {
                e.webhook_id == webhook_id
                    && matches!(
                        e.delivery_status,
                        DeliveryStatus::Failed | DeliveryStatus::Dropped
                    )
            })
            .map(|e| e.id.clone())
            .collect()
    }

    /// Sends one event outside the queue, once, without retries (`ping`, `test-event`), and answers
    /// with the attempt.
    pub(crate) async fn send_once(
        &self,
        webhook_id: &str,
        event_name: &str,
        payload: Value,
    ) -> Option<DeliveryAttempt> {
        let envelope = WebhookEnvelope {
            company_id: self.company_id.clone(),
            event_name: event_name.to_string(),
            occurred_at: rfc3339_millis(now_millis()),
            payload,
            meta: json!({}),
        };
        let job = Job {
            webhook_id: webhook_id.to_string(),
            event_id: None,
            event_name: event_name.to_string(),
            body: serde_json::to_value(&envelope).unwrap_or(Value::Null),
        };
        self.attempt(&job, 1).await
    }

    // ----- delivery -----

    async fn wait_unpaused(&self) {
        let mut paused = self.paused.subscribe();
        // The sender lives as long as the hub; an error means the hub is going away.
        let _ = paused.wait_for(|p| !*p).await;
    }

    /// Makes one HTTP request for `job`; `None` when the webhook no longer exists.
    async fn attempt(&self, job: &Job, number: u32) -> Option<DeliveryAttempt> {
        let webhook = self.webhook(&job.webhook_id)?;
        let mut request = self
            .client
            .post(&webhook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(job.body.to_string());
        match webhook.auth_type {
            AuthType::None => {}
            AuthType::Token => {
                if let Some(token) = &webhook.token {
                    request = request.header(reqwest::header::AUTHORIZATION, token);
                }
            }
            AuthType::Custom => {
                for (name, value) in &webhook.custom_headers {
                    request = request.header(name, value);
                }
            }
        }
        let attempted_at = Timestamp::now();
        let started = Instant::now();
        let result = request.send().await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (outcome, code, error) = match result {
            Ok(response) => {
                let status = response.status();
                let outcome = if status.is_success() {
                    AttemptOutcome::Success
                } else if status.is_server_error() && status.as_u16() != 501 {
                    AttemptOutcome::Retryable
                } else {
                    AttemptOutcome::Failed
                };
                (outcome, Some(status.as_u16()), None)
            }
            Err(error) if error.is_builder() => {
                (AttemptOutcome::Failed, None, Some(error.to_string()))
            }
            Err(error) => {
                let what = if error.is_timeout() {
                    "timeout".to_string()
                } else {
                    format!("connection error: {error}")
                };
                (AttemptOutcome::Retryable, None, Some(what))
            }
        };
        let attempt = DeliveryAttempt {
            id: uuid::Uuid::new_v4().to_string(),
            webhook_id: job.webhook_id.clone(),
            event_id: job.event_id.clone(),
            event_name: job.event_name.clone(),
            attempt: number,
            attempted_at,
            outcome,
            status: if outcome == AttemptOutcome::Success {
                "SUCCESS"
            } else {
                "FAILED"
            },
            response_status_code: code,
            error,
            duration_ms,
            body: job.body.clone(),
        };
        let mut inner = lock(&self.inner);
        inner.attempts.push(attempt.clone());
        if let Some(event_id) = &job.event_id {
            let last = number >= self.config.max_attempts;
            let status = match outcome {
                AttemptOutcome::Success => Some(DeliveryStatus::Delivered),
                AttemptOutcome::Failed => Some(DeliveryStatus::Failed),
                AttemptOutcome::Retryable if last => Some(DeliveryStatus::Failed),
                AttemptOutcome::Retryable => None,
            };
            if let Some(status) = status {
                inner.set_status(event_id, status);
            }
        }
        Some(attempt)
    }

    /// Attempts `from..=max_attempts` with doubling delays, until one is final.
    async fn retry(self: Arc<Self>, job: Job, from: u32) {
        for number in from..=self.config.max_attempts {
            let factor = 1u32 << (number.saturating_sub(2)).min(20);
            tokio::time::sleep(self.config.retry_base_delay * factor).await;
            self.wait_unpaused().await;
            match self.attempt(&job, number).await {
                Some(a) if a.outcome == AttemptOutcome::Retryable => continue,
                _ => return,
            }
        }
    }
}

/// One webhook's delivery queue: first attempts in order, one at a time; retries run on their own
/// tasks so a failing event does not hold back the next ones.
async fn run_queue(
    hub: Arc<WebhookHub>,
    webhook_id: String,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    while let Some(job) = jobs.recv().await {
        hub.wait_unpaused().await;
        let Some(first) = hub.attempt(&job, 1).await else {
            if hub.webhook(&webhook_id).is_none() {
                return;
            }
            continue;
        };
        if first.outcome == AttemptOutcome::Retryable && hub.config.max_attempts > 1 {
            hub.runtime.spawn(Arc::clone(&hub).retry(job, 2));
        }
    }
}

impl HubInner {
    /// Applies the drop / hold / duplicate knobs to a new delivery and queues what is left of it.
    fn dispatch(&mut self, job: Job) {
        if self.knobs.drop_next > 0 {
            self.knobs.drop_next -= 1;
            if let Some(id) = &job.event_id {
                self.set_status(id, DeliveryStatus::Dropped);
            }
            return;
        }
        let ready = if self.knobs.out_of_order {
            match self.held.remove(&job.webhook_id) {
                Some(held) => vec![job, held],
                None => {
                    self.held.insert(job.webhook_id.clone(), job);
                    Vec::new()
                }
            }
        } else {
            vec![job]
        };
        for job in ready {
            if self.knobs.duplicate {
                self.send(job.clone());
            }
            self.send(job);
        }
    }

    fn send(&mut self, job: Job) {
        if let Some(queue) = self.queues.get(&job.webhook_id) {
            // A closed queue means the webhook is being removed: nothing to deliver to.
            let _ = queue.send(job);
        }
    }

    /// Updates an event's delivery status; `Delivered` is never downgraded by a duplicate's failure.
    fn set_status(&mut self, event_id: &str, status: DeliveryStatus) {
        if let Some(event) = self
            .event_index
            .get(event_id)
            .and_then(|i| self.events.get_mut(*i))
        {
            if event.delivery_status != DeliveryStatus::Delivered
                || status == DeliveryStatus::Delivered
            {
                event.delivery_status = status;
            }
        }
    }
}

/// What tests (in Rust) steer and observe of the simulator's webhooks; `PersonioSim::webhooks()`.
#[derive(Clone, Debug)]
pub struct WebhookControl {
    pub(crate) hub: Arc<WebhookHub>,
}

impl WebhookControl {
    /// The `company_id` every event carries.
    pub fn company_id(&self) -> String {
        self.hub.company_id().to_string()
    }

    pub fn knobs(&self) -> WebhookKnobs {
        self.hub.knobs()
    }

    pub fn set_knobs(&self, knobs: WebhookKnobs) {
        self.hub.set_knobs(knobs);
    }

    /// Changes the knobs in place, e.g. `control.update(|k| k.duplicate = true)`.
    pub fn update(&self, change: impl FnOnce(&mut WebhookKnobs)) {
        let mut knobs = self.knobs();
        change(&mut knobs);
        self.set_knobs(knobs);
    }

    pub fn pause(&self) {
        self.update(|k| k.paused = true);
    }

    pub fn resume(&self) {
        self.update(|k| k.paused = false);
    }

    /// The registered webhooks, oldest first.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.hub.webhooks()
    }

    /// Every event recorded for a webhook (event × webhook), oldest first.
    pub fn events(&self) -> Vec<WebhookEvent> {
        self.hub.all_events()
    }

    /// Every change recorded, subscribed or not, oldest first.
    pub fn emitted(&self) -> Vec<WebhookEnvelope> {
        self.hub.emitted()
    }

    /// Every delivery attempt so far, oldest first.
    pub fn attempts(&self) -> Vec<DeliveryAttempt> {
        self.hub.attempts()
    }

    /// The successful attempts (what receivers acknowledged), oldest first.
    pub fn delivered(&self) -> Vec<DeliveryAttempt> {
        self.attempts()
            .into_iter()
            .filter(|a| a.outcome == AttemptOutcome::Success)
            .collect()
    }

    /// Waits until `done(attempts)` holds, checking every 10 ms; `Err` with the attempts seen when
    /// `timeout` passes first.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[DeliveryAttempt]) -> bool,
    ) -> Result<Vec<DeliveryAttempt>, Vec<DeliveryAttempt>> {
        let deadline = Instant::now() + timeout;
        loop {
            let attempts = self.attempts();
            if done(&attempts) {
                return Ok(attempts);
            }
            if Instant::now() >= deadline {
                return Err(attempts);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until at least `n` deliveries succeeded; answers the successful ones.
    pub async fn wait_for_delivered(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<DeliveryAttempt>, Vec<DeliveryAttempt>> {
        let success = |a: &DeliveryAttempt| a.outcome == AttemptOutcome::Success;
        self.wait_until(timeout, |all| {
            all.iter().filter(|a| success(a)).count() >= n
        })
        .await
        .map(|all| all.into_iter().filter(success).collect())
    }

    /// Waits until at least `n` attempts were made (successful or not).
    pub async fn wait_for_attempts(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<DeliveryAttempt>, Vec<DeliveryAttempt>> {
        self.wait_until(timeout, |all| all.len() >= n).await
    }
}

/// Where the state's edit paths record events: the hub, or nowhere (a state built without one).
#[derive(Clone, Default)]
pub(crate) struct EventSink(pub(crate) Option<Arc<WebhookHub>>);

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSink")
    }
}

impl EventSink {
    pub(crate) fn record(&self, event_name: &str, resource_id: &str, person_id: Option<&str>) {
        if let Some(hub) = &self.0 {
            hub.record(event_name, resource_id, person_id);
        }
    }
}
