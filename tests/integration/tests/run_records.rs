//! Issue 12 §1: every failure after an event is accepted ends in a run record. A scheduled run whose
//! credentials are wrong or missing, or whose stored settings are invalid, leaves a `failed` run in
//! `GET /integrations/{id}/runs` whose `error` names the side and the cause and holds no secret — the
//! record docs/operations.md sends the operator to. The invocation itself still fails (the function's
//! error alarm fires).
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test run_records`.
mod api_support;

use api_support::{good_credentials, Harness};
use serde_json::json;
use shared::credentials::CredentialsSource;
use shared::domain::IntegrationId;
use shared::service::WorkflowService;
use shared::settings::IntegrationSettings;
use shared::store::StateStore;
use shared::workflows::employees::binding::EmployeesBinding;
use shared::workflows::time_entries::binding::TimeEntriesBinding;

/// The failed run records of `id`, newest first, as `GET /runs` lists them.
async fn failed_runs(h: &Harness, id: &IntegrationId) -> Vec<serde_json::Value> {
    let answer = h
        .call("GET", &format!("/integrations/{id}/runs"), None)
        .await;
    answer.assert_ok();
    let runs = answer.json["runs"].as_array().expect("runs").clone();
    assert!(
        runs.iter().all(|r| r["status"] == "failed"),
        "{}",
        answer.text
    );
    runs
}

/// Runs one scheduled employees event of `id` through the function's handler: it must fail, with the
/// short stable `errorType` Lambda will report (issue 12 §2).
async fn scheduled_fails(h: &Harness, id: &IntegrationId, error_type: &str) -> String {
    let service = WorkflowService::new(h.context.clone(), EmployeesBinding);
    let event = json!({ "integration_id": id.as_str(), "trigger": "schedule" });
    let error = service
        .handle(event, None)
        .await
        .expect_err("the scheduled run must fail");
    assert_eq!(error.error_type(), error_type, "{error}");
    error.to_string()
}

/// The one failed run's error, checked to name `side` and to hold none of `secrets`.
async fn the_failed_run(h: &Harness, id: &IntegrationId, side: &str, secrets: &[&str]) -> String {
    let runs = failed_runs(h, id).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["trigger"], "schedule");
    assert!(runs[0]["finished_at"].is_string(), "{}", runs[0]);
    let error = runs[0]["error"].as_str().expect("an error").to_string();
    assert!(error.contains(side), "{error:?} does not name {side}");
    for secret in secrets {
        assert!(!error.contains(secret), "{error:?} holds a secret");
    }
    error
}

#[tokio::test]
async fn a_wrong_timetrack_key_leaves_a_failed_run() {
    let h = Harness::start().await;
    let mut wrong = good_credentials();
    wrong.timetrack_api_key = "wrong-key-4711".to_string().into();
    h.credentials.store(&h.id, &wrong).await.expect("store");
    let invocation = scheduled_fails(&h, &h.id, "NotConnected").await;
    let error = the_failed_run(&h, &h.id, "TimeTrack", &["wrong-key-4711"]).await;
    assert!(error.starts_with("not connected"), "{error}");
    assert!(invocation.contains("TimeTrack"), "{invocation}");

    // The same for another workflow: its reading step (the employee directory) runs inside the run.
    let service = WorkflowService::new(h.context.clone(), TimeEntriesBinding);
    let event = json!({ "integration_id": h.id.as_str(), "trigger": "schedule" });
    service.handle(event, None).await.expect_err("fails");
    let runs = failed_runs(&h, &h.id).await;
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().any(|r| r["workflow"] == "time-entries"));
}

#[tokio::test]
async fn a_wrong_personio_secret_leaves_a_failed_run() {
    let h = Harness::start().await;
    let mut wrong = good_credentials();
    wrong.personio_client_secret = "wrong-secret-0815".to_string().into();
    h.credentials.store(&h.id, &wrong).await.expect("store");
    scheduled_fails(&h, &h.id, "NotConnected").await;
    let error = the_failed_run(&h, &h.id, "Personio", &["wrong-secret-0815"]).await;
    assert!(error.starts_with("not connected"), "{error}");
}

#[tokio::test]
async fn missing_credentials_leave_a_failed_run() {
    let h = Harness::start().await;
    let id = IntegrationId::new(format!("{}-bare", h.id)).expect("id");
    h.store
        .put_settings(&id, &IntegrationSettings::example())
        .await
        .expect("settings");
    scheduled_fails(&h, &id, "NotConnected").await;
    let error = the_failed_run(&h, &id, "credentials", &[]).await;
    assert!(error.contains("no credentials are stored"), "{error}");
}

#[tokio::test]
async fn invalid_settings_leave_a_failed_run() {
    let h = Harness::start().await;
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Mars/Olympus_Mons".into();
    h.store
        .put_settings(&h.id, &settings)
        .await
        .expect("settings");
    scheduled_fails(&h, &h.id, "InvalidSettings").await;
    let error = the_failed_run(&h, &h.id, "settings", &[]).await;
    assert!(
        error.contains("time_zone") || error.contains("time zone"),
        "{error}"
    );
    // The lease was released: a run with repaired settings goes ahead.
    h.store
        .put_settings(&h.id, &IntegrationSettings::example())
        .await
        .expect("settings");
    let service = WorkflowService::new(h.context.clone(), EmployeesBinding);
    let event = json!({ "integration_id": h.id.as_str(), "trigger": "schedule" });
    let run = service.handle(event, None).await.expect("a normal run");
    assert_eq!(run["status"], "succeeded", "{run}");
}

/// An unknown integration is no accepted event: nothing to record it under.
#[tokio::test]
async fn an_unknown_integration_is_refused_without_a_run() {
    let h = Harness::start().await;
    let id = IntegrationId::new(format!("{}-nobody", h.id)).expect("id");
    let error = scheduled_fails(&h, &id, "UnknownIntegration").await;
    assert!(error.contains("no settings"), "{error}");
    assert!(h
        .store
        .list_runs(&id, None, 10, None)
        .await
        .map(|p| p.runs.is_empty())
        .unwrap_or(true));
}

/// Issue 12 §2: a base64 body that is not UTF-8, sent straight to a workflow function, is answered
/// 400 problem+json (it used to be an invocation error, which API Gateway turns into a bare 500).
#[tokio::test]
async fn a_base64_body_that_is_not_utf8_is_a_400_problem() {
    let h = Harness::start().await;
    let fixture = include_str!("../../fixtures/events/apigw-sync-employees.json")
        .replace("INTEGRATION_ID", h.id.as_str());
    let mut event: serde_json::Value = serde_json::from_str(&fixture).expect("fixture");
    event["body"] = json!("//4="); // the bytes FF FE
    event["isBase64Encoded"] = json!(true);
    let service = WorkflowService::new(h.context.clone(), EmployeesBinding);
    let answer = service.handle(event, None).await.expect("an HTTP answer");
    assert_eq!(answer["statusCode"], 400, "{answer}");
    assert_eq!(
        answer["headers"]["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().expect("body")).expect("problem JSON");
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("UTF-8")),
        "{body}"
    );
    assert!(failed_runs(&h, &h.id).await.is_empty());
}

/// A `Write` into a shared buffer, for capturing the JSON log lines of one test.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Issue 12 §6: every log line of a run — the TimeTrack client's retry warning included — carries the
/// `run` span with the run id, integration and workflow (the production JSON format lists the spans).
#[tokio::test(flavor = "current_thread")]
async fn a_run_span_carries_the_run_id_into_the_clients_retry_warnings() {
    let h = Harness::start().await;
    h.timetrack.inject(
        simulators::FaultRule::new("/users", simulators::Fault::Status(503), 1).with_method("GET"),
    );
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let service = WorkflowService::new(h.context.clone(), EmployeesBinding);
    let event = json!({ "integration_id": h.id.as_str(), "trigger": "schedule" });
    let run = service.handle(event, None).await.expect("a run");
    let run_id = run["run_id"].as_str().expect("run id").to_string();

    let text = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
    let retry = text
        .lines()
        .find(|l| l.contains("retrying after HTTP status"))
        .unwrap_or_else(|| panic!("no retry warning in:\n{text}"));
    let line: serde_json::Value = serde_json::from_str(retry).expect("a JSON log line");
    let span = line["spans"]
        .as_array()
        .and_then(|spans| spans.iter().find(|s| s["name"] == "run"))
        .unwrap_or_else(|| panic!("the retry warning is outside the run span: {retry}"));
    assert_eq!(span["run_id"], run_id.as_str(), "{retry}");
    assert_eq!(span["integration_id"], h.id.as_str());
    assert_eq!(span["workflow"], "employees");
}
