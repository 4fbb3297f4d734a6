//! `demo webhook ...`: a change made in Personio carried to TimeTrack by a webhook, through the real
//! parts — the Personio simulator delivers to the api function's receiver (served by `api --listen`), the
//! receiver enqueues on the SQS FIFO queue on moto, and `scripts/demo.sh` hands the queued batch to the
//! time-entries function binary as Lambda's event source mapping would.
//!
//! ```text
//! demo webhook register API_URL   PUT /integrations/{id}/webhooks through the product's own API
//! demo webhook edit DIR           shorten (or lengthen) one attendance period in Personio; note the time
//! demo webhook wait DIR           wait for the delivery and the queued message; write DIR/sqs-event.json
//! demo webhook report DIR ANSWER  delete the handled messages (as the mapping does), then tell the story
//! ```
//! `DIR` keeps what one step tells the next (`state.json`, the "before" snapshot).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::connectors::personio::{AttendancePatch, LocalDateTime};
use shared::domain::{Trigger, Workflow};
use shared::runs::RunRecord;
use shared::service::context::ClientFactory;
use shared::store::dynamodb::DynamoStore;
use shared::store::StateStore;

use crate::config::DemoConfig;
use crate::report::render_change;
use crate::setup::simulator_credentials;
use crate::sim_state::{diff, Snapshot};

/// How long the demo waits for the simulator's delivery and the queued message.
const WAIT: Duration = Duration::from_secs(30);

/// What `edit` noted for `wait` and `report`.
#[derive(Debug, Serialize, Deserialize)]
struct EditState {
    period_id: String,
    person: String,
    day: String,
    old_end: String,
    new_end: String,
    edited_at: Timestamp,
    #[serde(default)]
    delivered_at: Option<Timestamp>,
    #[serde(default)]
    delivery: Option<Value>,
    #[serde(default)]
    queued_at: Option<Timestamp>,
    #[serde(default)]
    personio_requests_before: usize,
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

fn load(dir: &Path) -> Result<EditState> {
    let path = state_path(dir);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn save(dir: &Path, state: &EditState) -> Result<()> {
    let path = state_path(dir);
    std::fs::write(&path, serde_json::to_string_pretty(state)?)
        .with_context(|| format!("writing {}", path.display()))
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value> {
    http.get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("GET {url}"))?
        .json()
        .await
        .with_context(|| format!("GET {url}: not JSON"))
}

/// `PUT /integrations/{id}/webhooks` on the product's API: it registers the receiver URL with Personio.
pub(crate) async fn register(config: &DemoConfig, api_url: &str) -> Result<()> {
    let http = reqwest::Client::new();
    let control = get_json(&http, &format!("{}/_sim/webhooks", config.personio_sim_url)).await?;
    let company = control
        .get("company_id")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("the Personio simulator did not say its company id"))?;
    let url = format!(
        "{}/integrations/{}/webhooks",
        api_url.trim_end_matches('/'),
        config.integration_id
    );
    let response = http
        .put(&url)
        .json(&json!({ "company_id": company }))
        .send()
        .await
        .with_context(|| format!("PUT {url}"))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        bail!("PUT {url} answered {status}: {body}");
    }
    let view = get_json(&http, &url).await.unwrap_or(body);
    println!(
        "  PUT /integrations/{}/webhooks → {status} (company {company})",
        config.integration_id
    );
    println!(
        "  Personio's view: webhook {} {} → {}",
        text(&view, "/personio/id"),
        text(&view, "/personio/status"),
        text(&view, "/personio/url")
    );
    let events: Vec<&str> = view
        .pointer("/personio/enabled_events")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    println!("  events: {}", events.join(", "));
    Ok(())
}

/// Changes the end of the most recent pending work period before today in Personio, through the
/// product's Personio client (as an HR person would in Personio's UI).
pub(crate) async fn edit(config: &DemoConfig, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let before = Snapshot::fetch(&config.personio_sim_url, &config.timetrack_sim_url).await?;
    std::fs::write(dir.join("before.json"), serde_json::to_string(&before.0)?)?;
    let today = Timestamp::now()
        .in_tz("Europe/Berlin")
        .context("time zone")?
        .date()
        .to_string();
    let periods = before
        .0
        .pointer("/personio/attendance_periods")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let period = periods
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("WORK"))
        .filter(|p| p.pointer("/approval/status").and_then(Value::as_str) == Some("PENDING"))
        .filter(|p| {
            p.pointer("/end/date_time")
                .and_then(Value::as_str)
                .is_some()
        })
        .filter(|p| {
            p.get("attribution_date")
                .and_then(Value::as_str)
                .is_some_and(|d| d < today.as_str())
        })
        .max_by_key(|p| {
            p.get("attribution_date")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .ok_or_else(|| anyhow!("no pending work period before today in the Personio simulator"))?;
    let id = text(period, "/id").to_string();
    let person_id = text(period, "/person/id").to_string();
    let start: jiff::civil::DateTime = text(period, "/start/date_time")
        .parse()
        .context("period start")?;
    let end: jiff::civil::DateTime = text(period, "/end/date_time")
        .parse()
        .context("period end")?;
    let shorter = end.checked_sub(30.minutes()).context("end - 30 min")?;
    let new_end = if shorter > start {
        shorter
    } else {
        end.checked_add(30.minutes()).context("end + 30 min")?
    };
    let person = person_name(&before, &person_id);

    let factory = ClientFactory {
        personio_base_url: config.personio_sim_url.clone(),
        timetrack_base_url_template: format!("{}/{{account}}/api/v2/ext", config.timetrack_sim_url),
        ..ClientFactory::default()
    };
    let personio = factory
        .personio(&simulator_credentials())
        .map_err(|e| anyhow!("Personio client: {e}"))?;
    let patch = AttendancePatch {
        end: Some(LocalDateTime::from(new_end)),
        ..AttendancePatch::default()
    };
    let edited_at = Timestamp::now();
    personio
        .update_attendance_period(&id, &patch, false)
        .await
        .with_context(|| format!("changing attendance period {id} in Personio"))?;
    let state = EditState {
        period_id: id.clone(),
        person: person.clone(),
        day: start.date().to_string(),
        old_end: end.time().strftime("%H:%M").to_string(),
        new_end: new_end.time().strftime("%H:%M").to_string(),
        edited_at,
        delivered_at: None,
        delivery: None,
        queued_at: None,
        personio_requests_before: 0,
    };
    println!(
        "  Personio: {person}'s work on {} now ends at {} instead of {} (attendance period {id}), at {}",
        state.day,
        state.new_end,
        state.old_end,
        clock(edited_at)
    );
    save(dir, &state)
}

/// Waits for Personio's delivery to the receiver and for the message on the time-entries queue, then
/// writes the batch as Lambda's event source mapping would hand it to the function (`SqsEvent`).
pub(crate) async fn wait(config: &DemoConfig, dir: &Path) -> Result<()> {
    let mut state = load(dir)?;
    let http = reqwest::Client::new();
    let start = Instant::now();
    let delivery = loop {
        let control =
            get_json(&http, &format!("{}/_sim/webhooks", config.personio_sim_url)).await?;
        let found = control
            .get("attempts")
            .and_then(Value::as_array)
            .and_then(|all| {
                all.iter()
                    .filter(|a| {
                        a.pointer("/body/payload/id").and_then(Value::as_str)
                            == Some(state.period_id.as_str())
                    })
                    .find(|a| a.get("status").and_then(Value::as_str) == Some("SUCCESS"))
                    .cloned()
            });
        if let Some(a) = found {
            break a;
        }
        if start.elapsed() > WAIT {
            bail!("Personio did not deliver the change to the receiver within {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let delivered_at = delivery
        .get("attempted_at")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok());
    println!(
        "  Personio delivered {} (event {}) to the receiver: HTTP {} in {} ms",
        text(&delivery, "/event_name"),
        text(&delivery, "/event_id"),
        delivery
            .get("response_status_code")
            .map(Value::to_string)
            .unwrap_or_else(|| "?".into()),
        delivery
            .get("duration_ms")
            .map(Value::to_string)
            .unwrap_or_else(|| "?".into()),
    );

    let queue_url = std::env::var("TIME_ENTRIES_QUEUE_URL")
        .context("TIME_ENTRIES_QUEUE_URL is not set (demo setup writes it)")?;
    let aws = shared::aws::load_aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let messages = loop {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(120)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .context("ReceiveMessage on the time-entries queue")?;
        if !out.messages().is_empty() {
            break out.messages().to_vec();
        }
        if start.elapsed() > WAIT {
            bail!("no message on the time-entries queue within {WAIT:?}");
        }
    };
    state.queued_at = Some(Timestamp::now());
    let records: Vec<Value> = messages.iter().map(sqs_record).collect();
    for m in &messages {
        println!(
            "  SQS FIFO queue: message {} (group {}) {}",
            m.message_id().unwrap_or("?"),
            m.attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                .map(String::as_str)
                .unwrap_or("?"),
            m.body().unwrap_or_default()
        );
    }
    let event = json!({ "Records": records });
    std::fs::write(
        dir.join("sqs-event.json"),
        serde_json::to_string_pretty(&event)?,
    )?;
    state.personio_requests_before = personio_requests(&http, config).await?.len();
    state.delivered_at = delivered_at;
    state.delivery = Some(delivery);
    save(dir, &state)
}

/// The `SqsMessage` of Lambda's `SqsEvent` for one received message.
fn sqs_record(m: &aws_sdk_sqs::types::Message) -> Value {
    let attributes: serde_json::Map<String, Value> = m
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone())))
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
        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:personio-timetrack-sync-demo-time-entries-webhooks.fifo",
        "awsRegion": "eu-central-1"
    })
}

async fn personio_requests(http: &reqwest::Client, config: &DemoConfig) -> Result<Vec<Value>> {
    let log = get_json(http, &format!("{}/_sim/requests", config.personio_sim_url)).await?;
    Ok(log.as_array().cloned().unwrap_or_default())
}

/// Deletes the messages the function did not report as failed (what the event source mapping does),
/// then prints the webhook's story for an HR reader.
pub(crate) async fn report(config: &DemoConfig, dir: &Path, answer_file: &Path) -> Result<()> {
    let state = load(dir)?;
    let answer: Value = serde_json::from_str(
        &std::fs::read_to_string(answer_file)
            .with_context(|| format!("reading {}", answer_file.display()))?,
    )
    .context("the function's answer is not JSON")?;
    let event: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("sqs-event.json"))?)?;
    let failed: Vec<&str> = answer
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.get("itemIdentifier").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let queue_url = std::env::var("TIME_ENTRIES_QUEUE_URL")
        .context("TIME_ENTRIES_QUEUE_URL is not set (demo setup writes it)")?;
    let aws = shared::aws::load_aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for r in &records {
        if failed.contains(&text(r, "/messageId")) {
            continue;
        }
        sqs.delete_message()
            .queue_url(&queue_url)
            .receipt_handle(text(r, "/receiptHandle"))
            .send()
            .await
            .context("DeleteMessage")?;
    }

    let http = reqwest::Client::new();
    let requests = personio_requests(&http, config).await?;
    let run_requests: Vec<String> = requests
        .iter()
        .skip(state.personio_requests_before)
        .map(|r| {
            format!(
                "{} {}{} → {}",
                text(r, "/method"),
                text(r, "/path"),
                r.get("query")
                    .and_then(Value::as_str)
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default(),
                r.get("status").map(Value::to_string).unwrap_or_default()
            )
        })
        .collect();

    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let page = store
        .list_runs(&config.integration_id, None, 20, None)
        .await
        .context("listing the runs")?;
    let run: Option<RunRecord> = page
        .runs
        .into_iter()
        .find(|r| r.trigger == Trigger::Webhook && r.workflow == Workflow::TimeEntries);
    let after = Snapshot::fetch(&config.personio_sim_url, &config.timetrack_sim_url).await?;
    let before_text = std::fs::read_to_string(dir.join("before.json"))?;
    let before = Snapshot(serde_json::from_str(&before_text)?);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n== Webhook: a change in Personio, in TimeTrack seconds later =="
    );
    let _ = writeln!(
        out,
        "  1. In Personio, {}'s work on {} was changed to end at {} (was {}) at {}.",
        state.person,
        state.day,
        state.new_end,
        state.old_end,
        clock(state.edited_at)
    );
    if let Some(d) = &state.delivery {
        let _ = writeln!(
            out,
            "  2. Personio sent the webhook {} (event {}) to the receiver{}; it answered {} and queued it.",
            text(d, "/event_name"),
            text(d, "/event_id"),
            state
                .delivered_at
                .map(|t| format!(" {} ms after the edit", ms_between(state.edited_at, t)))
                .unwrap_or_default(),
            d.get("response_status_code")
                .map(Value::to_string)
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "  3. The queued batch ({} message{}) went to the time-entries function (as Lambda's queue trigger does); {} reported failed.",
        records.len(),
        if records.len() == 1 { "" } else { "s" },
        failed.len()
    );
    match &run {
        Some(run) => {
            let _ = writeln!(
                out,
                "  4. Targeted run {} · trigger webhook · {} · {} ms",
                run.run_id,
                serde_json::to_value(run.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                run.duration_ms.unwrap_or_default()
            );
            let _ = writeln!(out, "     events covered: {}", run.event_ids.join(", "));
            if let Some(scope) = &run.scope {
                let _ = writeln!(
                    out,
                    "     scope: {} hint(s) about {} record(s); read only: {}",
                    scope.hints,
                    scope.records,
                    serde_json::to_string(&scope.entries).unwrap_or_default()
                );
            }
            if run.counts.is_empty() {
                let _ = writeln!(out, "     wrote nothing");
            }
            for (side, actions) in &run.counts {
                let list = actions
                    .iter()
                    .map(|(a, n)| format!("{a} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(out, "     {side}: {list}");
            }
            if let Some(error) = &run.error {
                let _ = writeln!(out, "     run error: {error}");
            }
            let _ = writeln!(
                out,
                "     Personio requests sent by the run: {}",
                run_requests.len()
            );
            for r in &run_requests {
                let _ = writeln!(out, "       {r}");
            }
        }
        None => {
            let _ = writeln!(
                out,
                "  4. no targeted run was recorded (see the function's log)"
            );
        }
    }
    let _ = writeln!(
        out,
        "  5. What changed in the two systems (TimeTrack shows UTC, Personio local time):"
    );
    for change in diff(&before, &after) {
        if change.created.is_empty() && change.updated.is_empty() && change.deleted.is_empty() {
            continue;
        }
        for line in render_change(&change).lines() {
            let _ = writeln!(out, "   {line}");
        }
    }
    match run.as_ref().and_then(|r| r.finished_at) {
        Some(finished) => {
            let _ = writeln!(
                out,
                "  Latency, edit in Personio → written in TimeTrack: {} ms (delivery, queue, the function's run; the demo hands the batch over as soon as it is queued, without Lambda's batching window)",
                ms_between(state.edited_at, finished)
            );
        }
        None => {
            let _ = writeln!(out, "  Latency: no finished run to measure");
        }
    }
    print!("{out}");
    if run.is_none() {
        bail!("the webhook did not produce a targeted run");
    }
    Ok(())
}

/// `18:38:03.860 UTC`: the time of day to the millisecond, enough to follow the steps.
fn clock(t: Timestamp) -> String {
    t.strftime("%H:%M:%S%.3f UTC").to_string()
}

fn ms_between(from: Timestamp, to: Timestamp) -> i64 {
    to.as_millisecond() - from.as_millisecond()
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn person_name(snapshot: &Snapshot, id: &str) -> String {
    snapshot
        .0
        .pointer("/personio/persons")
        .and_then(Value::as_array)
        .and_then(|all| {
            all.iter()
                .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
        })
        .map(|p| format!("{} {}", text(p, "/first_name"), text(p, "/last_name")))
        .unwrap_or_else(|| format!("person {id}"))
}
