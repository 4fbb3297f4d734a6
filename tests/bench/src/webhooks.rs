//! Webhook-driven sync at company scale (issue 14): for a 300-person company with a month of attendances
//! on both sides, how many Personio requests a change carried by a webhook costs (against a window run),
//! and how long it takes from the change in the Personio simulator to the write in TimeTrack.
//!
//! The real parts: the Personio simulator delivers its dataless webhook to the api router (the real
//! receiver, its token in Secrets Manager on moto), the receiver enqueues on an SQS FIFO queue on moto,
//! and a consumer does what Lambda's event source mapping does — `ReceiveMessage`, the `SqsEvent` to the
//! time-entries handler (`handle_workflow_invocation`), `DeleteMessage` of what it did not report as
//! failed. Both simulators are paced (20 ms per request, Personio's rate limits on) and the clients keep
//! their default limits, as in the paced scale runs. The consumer polls every 10 ms; the template's FIFO
//! event source mapping has no batching window (FIFO queues allow none), so nothing is added for it.
//!
//! Changes are made one after the other (each change's run finishes before the next change), so that
//! each run's Personio requests are its own; the change itself (a PATCH through Personio's API) is not
//! counted. Needs moto (`AWS_ENDPOINT_URL`): `scripts/bench.sh --only webhooks` starts one.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use jiff::{Timestamp, ToSpan};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{json, Value};
use shared::connectors::personio::{
    AttendancePatch, LocalDateTime, PersonioClient, PersonioClientConfig,
};
use shared::credentials::{Credentials, StaticCredentials};
use shared::domain::{EntityKind, IntegrationId, System, Trigger, Workflow};
use shared::engine::{ManualClock, RecordingScheduler};
use shared::runs::RunRecord;
use shared::scheduling::{ScheduleError, WorkflowSchedule};
use shared::service::context::ClientFactory;
use shared::service::lambda::handle_workflow_invocation;
use shared::service::{ServiceContext, WorkflowService};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting};
use shared::store::dynamodb::DynamoStore;
use shared::store::memory::MemoryStore;
use shared::store::{Mapping, StateStore};
use shared::webhooks::{SecretsManagerTokenStore, SqsEventQueue};
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model as p;
use simulators::{PersonioConfig, PersonioSim, RateLimit, TimeTrackConfig, TimeTrackSim};

use crate::e2e;
use crate::workflow_run::Unlimited;

/// Per-request latency of both simulators (as the paced scale runs).
const LATENCY: Duration = Duration::from_millis(20);
/// How often the consumer polls the queue.
const POLL: Duration = Duration::from_millis(10);
/// How long one change may take before the bench gives up on it.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// One webhook-driven change.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Change {
    /// Change in the simulator (just before the PATCH was sent) → the handler returned (TimeTrack written).
    pub latency_ms: f64,
    /// Change → the message was received from the queue.
    pub queued_ms: f64,
    pub personio_requests: usize,
    pub timetrack_requests: usize,
    pub timetrack_writes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct WebhooksResult {
    pub store: StoreKind,
    pub people: usize,
    pub days: usize,
    pub personio_periods: usize,
    pub window_run_personio_requests: usize,
    pub window_run_timetrack_requests: usize,
    pub window_run_ms: f64,
    pub changes: Vec<Change>,
    pub personio_requests_per_change: BTreeMap<usize, usize>,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_max_ms: f64,
    pub changes_written: usize,
}

struct NoSchedules;

#[async_trait]
impl api::WorkflowSchedules for NoSchedules {
    async fn get(&self, _: &IntegrationId, _: Workflow) -> Result<WorkflowSchedule, ScheduleError> {
        Err(ScheduleError::NotFound("none".into()))
    }
    async fn put(
        &self,
        _: &IntegrationId,
        _: Workflow,
        _: &WorkflowSchedule,
    ) -> Result<(), ScheduleError> {
        Ok(())
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn credentials(pconf: &PersonioConfig, tconf: &TimeTrackConfig) -> Credentials {
    Credentials {
        personio_client_id: pconf.client_id.clone(),
        personio_client_secret: SecretString::from(pconf.client_secret.clone()),
        timetrack_account: tconf.account.clone(),
        timetrack_api_key: SecretString::from(tconf.api_key.clone()),
        timetrack_api_secret: SecretString::from(tconf.api_secret.clone()),
    }
}

/// Personio's attendance periods for the company: TimeTrack's month pushed by the real workflow into an
/// unpaced twin of the simulators (the paced push of a month would take most of an hour).
async fn filled_periods(
    seed: &simulators::Seed,
    store: Arc<dyn StateStore>,
    id: &IntegrationId,
    now: Timestamp,
) -> anyhow::Result<BTreeMap<String, p::AttendancePeriod>> {
    let pconf = PersonioConfig::default();
    let tconf = TimeTrackConfig::default();
    let personio = PersonioSim::start(pconf.clone(), seed).await?;
    let timetrack = TimeTrackSim::start(tconf.clone(), seed).await?;
    let mut settings = store
        .get_settings(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no settings"))?;
    settings.time_entries.mode = TimeEntryMode::Push;
    store.put_settings(id, &settings).await?;
    let mut pc = PersonioClientConfig::new(
        pconf.client_id.clone(),
        SecretString::from(pconf.client_secret.clone()),
    );
    pc.base_url = personio.base_url();
    pc.rate_limit = None;
    let mut tc = shared::connectors::timetrack::TimeTrackClientConfig::new(
        tconf.account.clone(),
        SecretString::from(tconf.api_key.clone()),
        SecretString::from(tconf.api_secret.clone()),
    );
    tc.base_url_template = timetrack.base_url_template();
    tc.rate_limit = None;
    let context = ServiceContext {
        store: store.clone(),
        credentials: Arc::new(
            StaticCredentials::new().with(id.clone(), credentials(&pconf, &tconf)),
        ),
        scheduler: Arc::new(RecordingScheduler::default()),
        clock: Arc::new(ManualClock::new(now)),
        clients: ClientFactory {
            personio_base_url: personio.base_url(),
            timetrack_base_url_template: timetrack.base_url_template(),
            timeout: Duration::from_secs(60),
        },
    };
    let service = WorkflowService::new(context, Unlimited::new(TimeEntriesBinding, pc, tc));
    let event = serde_json::from_str(&e2e::SCHEDULED_EVENT.replace("INTEGRATION_ID", id.as_str()))?;
    let run: RunRecord = serde_json::from_value(
        service
            .handle(event, None)
            .await
            .map_err(|e| anyhow::anyhow!("filling Personio: {e}"))?,
    )?;
    if !run.failures.is_empty() {
        anyhow::bail!("filling Personio failed for {} entries", run.failures.len());
    }
    let periods = personio.state().attendance_periods.clone();
    Ok(periods)
}

/// Where the bench keeps the product's state. moto answers every DynamoDB query by walking the whole
/// table (measured 2026-12-07 with a separate script: 5.3–8.6 s for a one-day query among 6,000
/// mappings), so on moto most of a targeted run's time is moto's. The in-memory store answers from
/// process memory (microseconds, even where it walks all mappings of a kind), so its figure is the
/// product's own share: the receiver, the queue, the Personio and TimeTrack requests and the engine.
/// Neither is DynamoDB's latency. `BENCH_WEBHOOK_STORE=memory|dynamodb` (default dynamodb).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StoreKind {
    DynamoDb,
    Memory,
}

impl StoreKind {
    fn from_env() -> anyhow::Result<Self> {
        match std::env::var("BENCH_WEBHOOK_STORE").as_deref() {
            Err(_) | Ok("") | Ok("dynamodb") => Ok(Self::DynamoDb),
            Ok("memory") => Ok(Self::Memory),
            Ok(other) => {
                anyhow::bail!("BENCH_WEBHOOK_STORE must be memory or dynamodb, not {other:?}")
            }
        }
    }
}

/// A fresh table on moto (or an in-memory store) with the settings (bidirectional, master TimeTrack) and the employee mappings.
async fn store(
    kind: StoreKind,
    people: usize,
    id: &IntegrationId,
    now: Timestamp,
) -> anyhow::Result<Arc<dyn StateStore>> {
    let store: Arc<dyn StateStore> = match kind {
        StoreKind::DynamoDb => {
            let client = aws_sdk_dynamodb::Client::new(&shared::aws::load_aws_config().await);
            let table = format!("bench-webhooks-{}", Timestamp::now().as_nanosecond());
            DynamoStore::create_table(&client, &table).await?;
            Arc::new(DynamoStore::new(client, table))
        }
        StoreKind::Memory => Arc::new(MemoryStore::default()),
    };
    let mut settings = IntegrationSettings::example();
    settings.time_zone = e2e::ZONE.into();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    settings.time_entries.master = System::TimeTrack;
    settings.personio.attendance_skip_approval = false;
    settings.windows.time_entries = WindowSetting {
        lookback_days: 30,
        lookahead_days: 0,
    };
    store.put_settings(id, &settings).await?;
    for k in 0..people {
        store
            .put_mapping(&Mapping {
                integration_id: id.clone(),
                kind: EntityKind::Employee,
                mapping_id: format!("employee-{}", e2e::person_id(k)),
                personio_id: Some(e2e::person_id(k)),
                timetrack_id: Some(e2e::user_id(k).to_string()),
                fingerprint: None,
                anchor_date: None,
                intent: None,
                failures: 0,
                last_error: None,
                parked: None,
                updated_at: now,
                version: 1,
            })
            .await?;
    }
    Ok(store)
}

async fn fifo_queue(sqs: &aws_sdk_sqs::Client) -> anyhow::Result<String> {
    let name = format!("bench-webhooks-{}.fifo", Timestamp::now().as_nanosecond());
    let out = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await?;
    out.queue_url()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("CreateQueue answered no URL"))
}

fn sqs_record(m: &aws_sdk_sqs::types::Message) -> Value {
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
        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:bench-webhooks.fifo",
        "awsRegion": "eu-central-1"
    })
}

/// Runs the whole measurement for `people` (days of attendances: `days`) and `changes` changes.
pub(crate) async fn measure(
    kind: StoreKind,
    people: usize,
    days: usize,
    changes: usize,
) -> anyhow::Result<WebhooksResult> {
    if e2e::moto_endpoint().is_none() {
        anyhow::bail!(
            "the webhooks part needs moto (AWS_ENDPOINT_URL); run it through scripts/bench.sh"
        );
    }
    let id = IntegrationId::new("bench")?;
    let now: Timestamp = e2e::NOW.parse()?;
    let seed = e2e::company(people, days)?;
    let store = store(kind, people, &id, now).await?;
    let periods = filled_periods(&seed, store.clone(), &id, now).await?;
    // Back to bidirectional with a fresh mapping state for the entries: the first window run maps them.
    let mut settings = store
        .get_settings(&id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no settings"))?;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    store.put_settings(&id, &settings).await?;

    let pconf = PersonioConfig {
        latency: Some(LATENCY),
        rate_limit: Some(RateLimit {
            replenish_per_sec: 10,
            burst: 10,
        }),
        endpoint_rate_limits: RateLimit::observed_per_endpoint(),
        ..PersonioConfig::default()
    };
    let tconf = TimeTrackConfig {
        latency: Some(LATENCY),
        ..TimeTrackConfig::default()
    };
    let personio = PersonioSim::start(pconf.clone(), &seed).await?;
    let timetrack = TimeTrackSim::start(tconf.clone(), &seed).await?;
    let personio_periods = periods.len();
    personio.state().attendance_periods = periods;

    // The runs' clock moves on a second per change: run records sort by their start, and with one fixed
    // instant the newest record would be any of them (run ids of one instant order by their random
    // suffix) — that is how the first change of the 2026-12-07 measurement showed 0 writes: its lookup
    // found a window run's record, not the change's. The change's run is now the one that started at
    // the change's instant.
    let clock = Arc::new(ManualClock::new(now));
    let context = ServiceContext {
        store: store.clone(),
        credentials: Arc::new(
            StaticCredentials::new().with(id.clone(), credentials(&pconf, &tconf)),
        ),
        scheduler: Arc::new(RecordingScheduler::default()),
        clock: clock.clone(),
        clients: ClientFactory {
            personio_base_url: personio.base_url(),
            timetrack_base_url_template: timetrack.base_url_template(),
            timeout: Duration::from_secs(60),
        },
    };
    let service = WorkflowService::new(context.clone(), TimeEntriesBinding);
    let scheduled: Value =
        serde_json::from_str(&e2e::SCHEDULED_EVENT.replace("INTEGRATION_ID", id.as_str()))?;
    // The first window run maps the agreeing entries; the second is the window run measured.
    service
        .handle(scheduled.clone(), None)
        .await
        .map_err(|e| anyhow::anyhow!("first window run: {e}"))?;
    personio.clear_requests();
    timetrack.clear_requests();
    let started = Instant::now();
    service
        .handle(scheduled, None)
        .await
        .map_err(|e| anyhow::anyhow!("window run: {e}"))?;
    let window_run_ms = started.elapsed().as_secs_f64() * 1000.0;
    let window_run_personio_requests = personio.requests().len();
    let window_run_timetrack_requests = timetrack.requests().len();

    // The webhook edge: token store and queue on moto, the api router on 127.0.0.1.
    let aws = shared::aws::load_aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue_url = fifo_queue(&sqs).await?;
    let mut urls = BTreeMap::new();
    urls.insert(Workflow::TimeEntries, queue_url.clone());
    let queue = SqsEventQueue::new(sqs.clone(), urls);
    let tokens = Arc::new(SecretsManagerTokenStore::new(
        aws_sdk_secretsmanager::Client::new(&aws),
        format!("bench-webhooks-{}", Timestamp::now().as_nanosecond()),
    ));
    let state = api::ApiState::new(&context, Arc::new(NoSchedules)).with_webhooks(
        tokens,
        Arc::new(queue.clone()),
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let app = api::router(state);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = reqwest::Client::new();
    let response = http
        .put(format!("{base_url}/integrations/{id}/webhooks"))
        .json(&json!({"company_id": personio.company_id()}))
        .send()
        .await?;
    if !response.status().is_success() {
        anyhow::bail!(
            "PUT /webhooks answered {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }

    // The changes: the WORK period of a different person each time, its end 15 min earlier.
    let mut targets: Vec<(String, String, jiff::civil::DateTime)> = personio
        .state()
        .attendance_periods
        .values()
        .filter(|a| a.kind == p::AttendanceType::Work)
        .filter_map(|a| Some((a.person.id.clone(), a.id.clone(), a.end.as_ref()?.date_time)))
        .collect();
    targets.sort();
    targets.dedup_by(|a, b| a.0 == b.0);
    let mut pc = PersonioClientConfig::new(
        pconf.client_id.clone(),
        SecretString::from(pconf.client_secret.clone()),
    );
    pc.base_url = personio.base_url();
    let editor = PersonioClient::new(pc)?;

    let mut measured = Vec::new();
    for (_, period_id, end) in targets.into_iter().cycle().take(changes) {
        let patch = AttendancePatch {
            end: Some(LocalDateTime::from(end.checked_sub(15.minutes())?)),
            ..AttendancePatch::default()
        };
        let changed = Instant::now();
        editor
            .update_attendance_period(&period_id, &patch, false)
            .await
            .map_err(|e| anyhow::anyhow!("changing {period_id}: {e}"))?;
        let messages = loop {
            let out = sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(10)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await?;
            if !out.messages().is_empty() {
                break out.messages().to_vec();
            }
            if changed.elapsed() > CHANGE_TIMEOUT {
                anyhow::bail!("the change of {period_id} never reached the queue");
            }
            tokio::time::sleep(POLL).await;
        };
        let queued_ms = changed.elapsed().as_secs_f64() * 1000.0;
        personio.clear_requests();
        timetrack.clear_requests();
        clock.advance(jiff::SignedDuration::from_secs(1));
        let records: Vec<Value> = messages.iter().map(sqs_record).collect();
        let answer =
            handle_workflow_invocation(&service, &queue, json!({"Records": records}), None)
                .await
                .map_err(|e| anyhow::anyhow!("the queue batch: {e}"))?;
        let latency_ms = changed.elapsed().as_secs_f64() * 1000.0;
        let personio_requests = personio.requests().len();
        let timetrack_requests = timetrack.requests().len();
        let failed = answer["batchItemFailures"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        if failed > 0 {
            anyhow::bail!("the batch reported {failed} failures: {answer}");
        }
        for m in &messages {
            sqs.delete_message()
                .queue_url(&queue_url)
                .set_receipt_handle(m.receipt_handle().map(str::to_string))
                .send()
                .await?;
        }
        let run = store
            .list_runs(&id, None, 1, None)
            .await?
            .runs
            .into_iter()
            .find(|r| r.trigger == Trigger::Webhook && r.started_at == clock.peek());
        if run.is_none() {
            anyhow::bail!("no run record of the change of {period_id}");
        }
        let timetrack_writes = run
            .map(|r| r.counts.timetrack)
            .map(|c| {
                c.iter()
                    .filter(|(a, _)| !matches!(a.as_str(), "unchanged" | "skip"))
                    .map(|(_, n)| n)
                    .sum()
            })
            .unwrap_or(0);
        measured.push(Change {
            latency_ms,
            queued_ms,
            personio_requests,
            timetrack_requests,
            timetrack_writes,
        });
    }
    server.abort();

    let mut latencies: Vec<f64> = measured.iter().map(|c| c.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    let mut per_change = BTreeMap::new();
    for c in &measured {
        *per_change.entry(c.personio_requests).or_insert(0) += 1;
    }
    Ok(WebhooksResult {
        store: kind,
        people,
        days,
        personio_periods,
        window_run_personio_requests,
        window_run_timetrack_requests,
        window_run_ms,
        changes_written: measured.iter().filter(|c| c.timetrack_writes > 0).count(),
        latency_p50_ms: percentile(&latencies, 0.50),
        latency_p95_ms: percentile(&latencies, 0.95),
        latency_max_ms: latencies.last().copied().unwrap_or(0.0),
        personio_requests_per_change: per_change,
        changes: measured,
    })
}

/// The `webhooks` part: measures, prints the table and writes `bench/webhooks-<people>.json`. Sizes from
/// `BENCH_WEBHOOK_PEOPLE` (300), `BENCH_WEBHOOK_DAYS` (20 working days) and `BENCH_WEBHOOK_CHANGES`
/// (100); `--quick`: 20 people, 5 days, 10 changes, no JSON.
pub(crate) fn run(quick: bool) -> anyhow::Result<()> {
    let (people, days, changes) = if quick {
        (20, 5, 10)
    } else {
        (
            crate::env_usize("BENCH_WEBHOOK_PEOPLE", 300)?,
            crate::env_usize("BENCH_WEBHOOK_DAYS", e2e_days())?,
            crate::env_usize("BENCH_WEBHOOK_CHANGES", 100)?,
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let kind = StoreKind::from_env()?;
    let r = runtime.block_on(measure(kind, people, days, changes))?;
    println!("## Webhooks: a change in Personio carried to TimeTrack (issue 14)\n");
    println!("{people} people × {days} working days ({} Personio periods); both simulators paced (20 ms per request, Personio's rate limits on), client defaults; receiver, SQS FIFO on moto, consumer = the time-entries handler; state store: {:?}; changes one after the other.\n", r.personio_periods, r.store);
    println!("| what | Personio requests | TimeTrack requests | time |");
    println!("|---|---:|---:|---:|");
    println!(
        "| window run (steady state, 30-day window) | {} | {} | {:.0} ms |",
        r.window_run_personio_requests, r.window_run_timetrack_requests, r.window_run_ms
    );
    let n = r.changes.len().max(1) as f64;
    let mean_p = r.changes.iter().map(|c| c.personio_requests).sum::<usize>() as f64 / n;
    let mean_t = r
        .changes
        .iter()
        .map(|c| c.timetrack_requests)
        .sum::<usize>() as f64
        / n;
    println!(
        "| webhook-driven attendance change (mean of {}) | {mean_p:.1} (max {}) | {mean_t:.1} | p50 {:.0} ms · p95 {:.0} ms · max {:.0} ms |",
        r.changes.len(),
        r.changes.iter().map(|c| c.personio_requests).max().unwrap_or(0),
        r.latency_p50_ms,
        r.latency_p95_ms,
        r.latency_max_ms
    );
    let mut queued: Vec<f64> = r.changes.iter().map(|c| c.queued_ms).collect();
    queued.sort_by(f64::total_cmp);
    println!(
        "\nchange → on the queue: p50 {:.0} ms, p95 {:.0} ms; changes written to TimeTrack: {} of {}; Personio requests per change: {:?}\n",
        percentile(&queued, 0.5),
        percentile(&queued, 0.95),
        r.changes_written,
        r.changes.len(),
        r.personio_requests_per_change
    );
    let dir = std::env::var("BENCH_JSON_DIR").unwrap_or_else(|_| "bench".to_string());
    if !quick && !dir.trim().is_empty() {
        std::fs::create_dir_all(&dir)?;
        let document = json!({
            "measured_at": Timestamp::now().to_string(),
            "cpu": crate::cpu_model(),
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "note": "measured on a 2-core machine shared with other builds",
            "result": r,
        });
        let path = match r.store {
            StoreKind::DynamoDb => format!("{dir}/webhooks-{people}.json"),
            StoreKind::Memory => format!("{dir}/webhooks-{people}-memory-store.json"),
        };
        std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
        eprintln!("bench: written {path}");
    }
    Ok(())
}

fn e2e_days() -> usize {
    crate::scale::DAYS
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.95), 95.0);
        assert_eq!(percentile(&[], 0.95), 0.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
    }
}
