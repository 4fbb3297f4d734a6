//! Reliability suite, secrets (issue 15, item 6): full runs of the three workflows through the API —
//! credentials stored in Secrets Manager (moto), runs that succeed and runs that fail because a secret is
//! wrong (TimeTrack, then Personio) — with every product log line captured (JSON, `debug` level, as with
//! `LogLevel=debug`), every HTTP answer, every invocation error, every run record and every DynamoDB item
//! of the table. None of it may contain a secret value: the Personio client secret, the Personio access
//! tokens the simulator issued, the TimeTrack API key and secret, the passwords the employees sync
//! generated for the TimeTrack users it created, and the per-integration webhook tokens (a subscription
//! is registered, its token rotated, and Personio's deliveries carrying the token in `Authorization` are
//! received, queued on SQS (moto) and run) — in plain, JSON-escaped, URL-encoded and base64 form. The
//! configured secrets contain `/ + & = % " space`, so that the four forms differ. The queue messages and
//! the receiver's answers are searched too.
mod api_support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_support::{send, Answer};
use aws_sdk_sqs::types::QueueAttributeName;
use base64::Engine as _;
use integration_tests::{fixture_event, fresh_table, secretsmanager_client, sim_clients, unique};
use jiff::civil::date;
use serde_json::{json, Value};
use shared::credentials::SecretsManagerCredentials;
use shared::domain::{IntegrationId, Workflow};
use shared::engine::{ManualClock, RecordingScheduler};
use shared::service::lambda::handle_workflow_invocation;
use shared::service::{ServiceContext, WorkflowService};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode};
use shared::store::StateStore;
use shared::webhooks::{SecretsManagerTokenStore, SqsEventQueue};
use shared::workflows::absences::binding::AbsencesBinding;
use shared::workflows::employees::binding::EmployeesBinding;
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model::AttendanceType;
use simulators::personio::AttemptOutcome;
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};
use tracing_subscriber::fmt::MakeWriter;

const PERSONIO_SECRET: &str = r#"p3rs/on+io "s3cret"&x=1 %ok"#;
const TIMETRACK_KEY: &str = "tt-k3y/+&=1 %x";
const TIMETRACK_SECRET: &str = r#"tt"s3c ret/+%=&q"#;

/// Everything the product wrote to its log, as the Lambda runtime would ship it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).to_string()
    }
}

fn url_encoded(s: &str, space_as_plus: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' if space_as_plus => "+".to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `secret` in every form it could leak in.
fn forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).expect("json");
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    vec![
        secret.to_string(),
        json[1..json.len() - 1].to_string(),
        url_encoded(secret, false),
        url_encoded(secret, true),
        b64.encode(secret),
        b64url.encode(secret),
    ]
}

/// The (name, form) pairs of `secrets` that occur in `haystack`.
fn leaks(haystack: &str, secrets: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, secret) in secrets {
        for form in forms(secret) {
            if haystack.contains(&form) {
                found.push(format!("{name} as {form:?}"));
            }
        }
    }
    found
}

fn credentials(
    personio: &PersonioConfig,
    timetrack: &TimeTrackConfig,
    tt_secret: &str,
    p_secret: &str,
) -> Value {
    json!({
        "personio_client_id": personio.client_id,
        "personio_client_secret": p_secret,
        "timetrack_account": timetrack.account,
        "timetrack_api_key": timetrack.api_key,
        "timetrack_api_secret": tt_secret,
    })
}

#[tokio::test]
async fn no_secret_in_any_log_answer_error_run_record_or_item_of_full_and_failing_runs() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug,simulators=off"))
        .with_writer(log.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let personio_config = PersonioConfig {
        client_secret: PERSONIO_SECRET.to_string(),
        ..PersonioConfig::default()
    };
    let timetrack_config = TimeTrackConfig {
        api_key: TIMETRACK_KEY.to_string(),
        api_secret: TIMETRACK_SECRET.to_string(),
        ..TimeTrackConfig::default()
    };
    let seed = Seed::company(date(2026, 3, 16));
    let personio = PersonioSim::start(personio_config.clone(), &seed)
        .await
        .expect("personio");
    let timetrack = TimeTrackSim::start(timetrack_config.clone(), &seed)
        .await
        .expect("timetrack");
    let (store, table) = fresh_table().await;
    let store = Arc::new(store);
    let context = ServiceContext {
        store: store.clone(),
        credentials: Arc::new(SecretsManagerCredentials::new(
            secretsmanager_client().await,
            unique("secrets"),
            Duration::from_secs(300),
        )),
        scheduler: Arc::new(RecordingScheduler::new()),
        clock: Arc::new(ManualClock::new(
            "2026-03-16T09:00:00Z".parse().expect("ts"),
        )),
        clients: sim_clients(&personio, &timetrack, Duration::from_secs(10)),
    };
    // The webhook edge: FIFO queues on moto, tokens in Secrets Manager, the router on 127.0.0.1 (the
    // simulator delivers there) and in-process for the API calls.
    let sqs = aws_sdk_sqs::Client::new(&integration_tests::aws().await);
    let mut queue_urls = std::collections::BTreeMap::new();
    for workflow in Workflow::ALL {
        let created = sqs
            .create_queue()
            .queue_name(format!(
                "{}.fifo",
                unique(&format!("sec-{}", workflow.as_str()))
            ))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .expect("create queue");
        queue_urls.insert(workflow, created.queue_url().expect("url").to_string());
    }
    let sqs_queue = SqsEventQueue::new(sqs.clone(), queue_urls.clone());
    let tokens = Arc::new(SecretsManagerTokenStore::new(
        secretsmanager_client().await,
        unique("sec-wh"),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let router = api::router(
        api::ApiState::new(&context, Arc::new(NoSchedules))
            .with_standard_workflows(&context)
            .with_webhooks(
                tokens.clone(),
                Arc::new(sqs_queue.clone()),
                Some(base_url.clone()),
            ),
    );
    let server = {
        let app = router.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        })
    };
    let id = IntegrationId::new(unique("acme")).expect("id");
    let mut answers: Vec<Answer> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let call = |method: &'static str, path: String, body: Option<Value>| {
        let router = router.clone();
        async move {
            let body = body.map(|b| b.to_string());
            send(
                &router,
                method,
                &path,
                body.as_deref().map(|b| ("application/json", b)),
            )
            .await
        }
    };

    let mut settings = IntegrationSettings::example();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    answers.push(
        call(
            "PUT",
            format!("/integrations/{id}/settings"),
            Some(serde_json::to_value(&settings).expect("json")),
        )
        .await,
    );

    let good = credentials(
        &personio_config,
        &timetrack_config,
        TIMETRACK_SECRET,
        PERSONIO_SECRET,
    );
    let wrong_tt = credentials(
        &personio_config,
        &timetrack_config,
        "wrong-tt-s3cret/+=",
        PERSONIO_SECRET,
    );
    let wrong_p = credentials(
        &personio_config,
        &timetrack_config,
        TIMETRACK_SECRET,
        "wrong-p3rsonio/+=",
    );
    let employees = WorkflowService::new(context.clone(), EmployeesBinding);
    let time_entries = WorkflowService::new(context.clone(), TimeEntriesBinding);
    let absences = WorkflowService::new(context.clone(), AbsencesBinding);
    let mut ok_runs = 0;
    for creds in [&good, &wrong_tt, &wrong_p, &good] {
        answers.push(
            call(
                "PUT",
                format!("/integrations/{id}/credentials"),
                Some(creds.clone()),
            )
            .await,
        );
        answers.push(call("POST", format!("/integrations/{id}/connect"), None).await);
        for workflow in ["employees", "time-entries", "absences"] {
            answers.push(
                call(
                    "POST",
                    format!("/integrations/{id}/sync/{workflow}"),
                    Some(json!({})),
                )
                .await,
            );
        }
        for result in [
            employees
                .handle(fixture_event("scheduled-employees.json", &id), None)
                .await,
            time_entries
                .handle(fixture_event("scheduled-time-entries.json", &id), None)
                .await,
            absences
                .handle(fixture_event("scheduled-absences.json", &id), None)
                .await,
        ] {
            match result {
                Ok(run) => {
                    ok_runs += 1;
                    answers.push(Answer {
                        status: axum::http::StatusCode::OK,
                        content_type: None,
                        text: run.to_string(),
                        json: run,
                    });
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    // Webhooks: register (a token is generated), rotate it, let Personio deliver changes with it, and
    // run what was queued. Deliveries with a wrong token and with a right token but a bad body too.
    let subscribe = |rotate: bool| {
        call(
            "PUT",
            format!("/integrations/{id}/webhooks"),
            Some(json!({"company_id": personio.company_id(), "rotate_token": rotate})),
        )
    };
    let mut webhook_tokens: Vec<String> = Vec::new();
    for rotate in [false, true] {
        let answer = subscribe(rotate).await;
        assert!(
            answer.status.is_success(),
            "webhook subscription: {} {}",
            answer.status,
            answer.text
        );
        answers.push(answer);
        webhook_tokens.extend(
            personio
                .webhooks()
                .webhooks()
                .into_iter()
                .filter_map(|w| w.token),
        );
    }
    webhook_tokens.sort();
    webhook_tokens.dedup();
    assert!(
        webhook_tokens.len() >= 2,
        "a token and its rotation: {}",
        webhook_tokens.len()
    );
    let day = date(2026, 3, 13);
    personio.state().add_attendance(
        "1005",
        AttendanceType::Work,
        day.at(7, 0, 0, 0),
        Some(day.at(11, 0, 0, 0)),
    );
    personio
        .state()
        .set_person_name("1002", "Jürgen", "Müller-Lang");
    let emitted = personio.webhooks().events().len();
    assert!(emitted >= 2, "the simulator emitted the changes: {emitted}");
    personio
        .webhooks()
        .wait_until(Duration::from_secs(30), |attempts| {
            attempts
                .iter()
                .filter(|a| a.outcome == AttemptOutcome::Success)
                .count()
                >= emitted
        })
        .await
        .expect("Personio delivered every event with the token");
    let receiver = format!("{base_url}/integrations/{id}/webhooks/personio");
    let http = reqwest::Client::new();
    let current = webhook_tokens.last().cloned().unwrap_or_default();
    for (authorization, body) in [
        ("wrong-token/+=".to_string(), "{}".to_string()),
        (current.clone(), "{not json".to_string()),
        (format!("Bearer {current}"), "{}".to_string()),
    ] {
        let response = http
            .post(&receiver)
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the receiver answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert!(status < 500, "answered without a 5xx: {status} {text}");
        answers.push(Answer {
            status: axum::http::StatusCode::from_u16(status).expect("status"),
            content_type: None,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        });
    }
    let mut queue_messages: Vec<String> = Vec::new();
    let mut webhook_runs = 0;
    for (workflow, url) in &queue_urls {
        loop {
            let received = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("ReceiveMessage");
            if received.messages().is_empty() {
                break;
            }
            let records: Vec<Value> = received
                .messages()
                .iter()
                .map(|m| {
                    queue_messages.push(m.body().unwrap_or_default().to_string());
                    json!({
                        "messageId": m.message_id(),
                        "receiptHandle": m.receipt_handle(),
                        "body": m.body(),
                        "attributes": {},
                        "messageAttributes": {},
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:q.fifo",
                        "awsRegion": "eu-central-1"
                    })
                })
                .collect();
            let event = json!({"Records": records});
            let answer = match workflow {
                Workflow::Employees => {
                    handle_workflow_invocation(&employees, &sqs_queue, event, None).await
                }
                Workflow::TimeEntries => {
                    handle_workflow_invocation(&time_entries, &sqs_queue, event, None).await
                }
                Workflow::Absences => {
                    handle_workflow_invocation(&absences, &sqs_queue, event, None).await
                }
            };
            match answer {
                Ok(answer) => {
                    webhook_runs += 1;
                    answers.push(Answer {
                        status: axum::http::StatusCode::OK,
                        content_type: None,
                        text: answer.to_string(),
                        json: answer,
                    });
                }
                Err(e) => errors.push(e.to_string()),
            }
            for m in received.messages() {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
    }
    assert!(
        webhook_runs >= 2 && queue_messages.len() >= emitted,
        "the queued events ran: {webhook_runs} batches, {} messages",
        queue_messages.len()
    );
    server.abort();

    answers.push(call("GET", format!("/integrations/{id}/runs?limit=100"), None).await);
    answers.push(call("GET", format!("/integrations/{id}/webhooks"), None).await);
    answers.push(call("GET", format!("/integrations/{id}/audit?limit=100"), None).await);
    answers.push(call("GET", format!("/integrations/{id}/parked"), None).await);

    // The runs really happened, and some really failed.
    assert!(
        ok_runs >= 6,
        "good credentials: runs succeed ({ok_runs}); errors: {errors:#?}"
    );
    assert!(
        errors.len() >= 6,
        "wrong secrets: scheduled runs fail ({})",
        errors.len()
    );
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert!(
        statuses.contains(&422),
        "a failing manual sync is answered: {statuses:?}"
    );

    let tokens = personio.issued_tokens();
    assert!(!tokens.is_empty(), "the runs logged in to Personio");
    let mut secrets: Vec<(String, String)> = vec![
        ("Personio client secret".into(), PERSONIO_SECRET.into()),
        ("TimeTrack API key".into(), TIMETRACK_KEY.into()),
        ("TimeTrack API secret".into(), TIMETRACK_SECRET.into()),
        ("wrong TimeTrack secret".into(), "wrong-tt-s3cret/+=".into()),
        ("wrong Personio secret".into(), "wrong-p3rsonio/+=".into()),
    ];
    secrets.extend(
        tokens
            .into_iter()
            .map(|t| ("Personio access token".to_string(), t)),
    );
    let passwords: Vec<String> = timetrack.state().passwords.values().cloned().collect();
    assert!(
        !passwords.is_empty(),
        "the employees sync created TimeTrack users with generated passwords"
    );
    let password_count = passwords.len();
    secrets.extend(
        passwords
            .into_iter()
            .map(|p| ("generated TimeTrack password".to_string(), p)),
    );
    let token_count = webhook_tokens.len();
    secrets.extend(
        webhook_tokens
            .into_iter()
            .map(|t| ("webhook token".to_string(), t)),
    );

    // The detector finds every form (the check can fail).
    for (name, secret) in &secrets {
        for form in forms(secret) {
            assert!(!leaks(&format!("x{form}x"), &[(name.clone(), secret.clone())]).is_empty());
        }
    }

    let items = integration_tests::dynamodb_client()
        .await
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan the table");
    assert!(
        items.count() > 50,
        "the runs wrote mappings, runs, audit records"
    );
    let runs = store.list_runs(&id, None, 100, None).await.expect("runs");
    let corpora = [
        ("log", log.text()),
        (
            "answers",
            answers
                .iter()
                .map(|a| a.text.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("invocation errors", errors.join("\n")),
        (
            "run records",
            serde_json::to_string(&runs.runs).expect("json"),
        ),
        ("table items", format!("{:?}", items.items())),
        ("queue messages", queue_messages.join("\n")),
    ];
    assert!(
        corpora[0].1.lines().count() > 50,
        "the product logged: {}",
        corpora[0].1.len()
    );
    println!(
        "FIGURES reliability_secrets values={} forms={} generated_passwords={password_count} \
         webhook_tokens={token_count} log_lines={} answers={} invocation_errors={} run_records={} \
         table_items={} queue_messages={} leaks=0 (checked below)",
        secrets.len(),
        forms("x").len(),
        corpora[0].1.lines().count(),
        answers.len(),
        errors.len(),
        runs.runs.len(),
        items.count(),
        queue_messages.len()
    );
    for (what, text) in &corpora {
        let found = leaks(text, &secrets);
        assert!(found.is_empty(), "secret in the {what}: {found:?}");
    }
}

/// The API's schedule port, unused here.
struct NoSchedules;

#[async_trait::async_trait]
impl api::WorkflowSchedules for NoSchedules {
    async fn get(
        &self,
        _: &IntegrationId,
        _: shared::domain::Workflow,
    ) -> Result<shared::scheduling::WorkflowSchedule, shared::scheduling::ScheduleError> {
        Err(shared::scheduling::ScheduleError::NotFound("none".into()))
    }
    async fn put(
        &self,
        _: &IntegrationId,
        _: shared::domain::Workflow,
        _: &shared::scheduling::WorkflowSchedule,
    ) -> Result<(), shared::scheduling::ScheduleError> {
        Ok(())
    }
}
