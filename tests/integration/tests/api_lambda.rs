//! The API through its Lambda entry point: API Gateway HTTP API (payload 2.0) events, kept as fixture
//! files, decoded by `lambda_http` exactly as the runtime decodes them, and handed to the router that
//! `main.rs` passes to `lambda_http::run`.
mod api_support;

use api_support::{good_credentials, read, Harness};
use serde_json::json;
use shared::credentials::CredentialsSource;
use shared::domain::{IntegrationId, Workflow};
use shared::settings::IntegrationSettings;
use shared::store::StateStore;
use tower::ServiceExt;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/events");

async fn through_lambda(h: &Harness, fixture: &str) -> api_support::Answer {
    let path = format!("{FIXTURES}/{fixture}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let request = lambda_http::request::from_str(&text).expect("an API Gateway v2 event");
    let response = h.router.clone().oneshot(request).await.expect("infallible");
    read(response).await
}

async fn harness_with_fixture_integration() -> Harness {
    let h = Harness::start().await;
    let id = IntegrationId::new("fixture-acme").expect("id");
    h.store
        .put_settings(&id, &IntegrationSettings::example())
        .await
        .expect("settings");
    h.credentials
        .store(&id, &good_credentials())
        .await
        .expect("credentials");
    h
}

#[tokio::test]
async fn settings_are_read_through_the_lambda_entry_point() {
    let h = harness_with_fixture_integration().await;
    let answer = through_lambda(&h, "apigw-api-get-settings.json").await;
    answer.assert_ok();
    assert_eq!(
        answer.json,
        serde_json::to_value(IntegrationSettings::example()).expect("json")
    );
}

#[tokio::test]
async fn a_schedule_is_put_through_the_lambda_entry_point() {
    let h = harness_with_fixture_integration().await;
    let answer = through_lambda(&h, "apigw-api-put-schedule.json").await;
    answer.assert_ok();
    let direct = h
        .scheduler_client
        .get_schedule()
        .group_name(&h.schedule_group)
        .name(shared::scheduling::schedule_name(
            &IntegrationId::new("fixture-acme").expect("id"),
            Workflow::Absences,
        ))
        .send()
        .await
        .expect("schedule created");
    assert_eq!(direct.schedule_expression(), Some("rate(2 hours)"));
}

#[tokio::test]
async fn a_base64_manual_sync_body_is_decoded_and_run() {
    let h = harness_with_fixture_integration().await;
    let answer = through_lambda(&h, "apigw-api-sync-dry-run.json").await;
    answer.assert_ok();
    assert_eq!(answer.json["dry_run"], true, "{}", answer.text);
    assert_eq!(answer.json["integration_id"], "fixture-acme");
}

#[tokio::test]
async fn errors_through_the_lambda_entry_point_are_problems() {
    let h = harness_with_fixture_integration().await;
    let bad = through_lambda(&h, "apigw-api-list-runs-bad-limit.json").await;
    bad.assert_problem(400, "bad-request");
    assert_eq!(bad.json["errors"][0]["field"], "limit");
    let unknown = through_lambda(&h, "apigw-api-unknown-route.json").await;
    unknown.assert_problem(404, "unknown-route");
    assert_eq!(unknown.json["status"], json!(404));
}
