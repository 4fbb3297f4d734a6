//! Manual sync and run records through the API router: 200 with the run report, 202 when the run
//! does not fit the budget (then readable via GET runs), 409 while another run holds the lease, and the
//! problem answers for bad bodies, unknown workflows and integrations, and invalid settings.
mod api_support;

use std::time::Duration;

use api_support::{Answer, Harness};
use serde_json::json;
use shared::domain::{IntegrationId, Workflow};
use shared::engine::RunnerConfig;
use shared::settings::IntegrationSettings;
use shared::store::StateStore;
use simulators::Seed;

fn sync_path(h: &Harness, workflow: &str) -> String {
    format!("/integrations/{}/sync/{workflow}", h.id)
}

/// A manual dry run of the employees workflow through the router.
async fn dry_run_sync(h: &Harness) -> Answer {
    h.call(
        "POST",
        &sync_path(h, "employees"),
        Some(json!({"dry_run": true})),
    )
    .await
}

#[tokio::test]
async fn a_dry_run_answers_200_with_the_plan_and_is_listed_in_runs() {
    let h = Harness::start().await;
    let users_before = h.timetrack.state().users.len();
    let answer = dry_run_sync(&h).await;
    answer.assert_ok();
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(answer.json["dry_run"], true, "{}", answer.text);
    assert_eq!(answer.json["workflow"], "employees");
    assert_eq!(answer.json["trigger"], "manual");
    assert!(
        answer.json["plan"].is_object() || answer.json["plan"].is_array(),
        "{}",
        answer.text
    );
    assert_eq!(
        h.timetrack.state().users.len(),
        users_before,
        "a dry run writes nothing"
    );

    let run_id = answer.json["run_id"].as_str().expect("run id").to_string();
    let one = h
        .call(
            "GET",
            &format!("/integrations/{}/runs/{run_id}", h.id),
            None,
        )
        .await;
    one.assert_ok();
    assert_eq!(one.json["run_id"], run_id.as_str());
    let list = h
        .call("GET", &format!("/integrations/{}/runs", h.id), None)
        .await;
    list.assert_ok();
    assert_eq!(list.json["runs"][0]["run_id"], run_id.as_str());
    let other = h
        .call(
            "GET",
            &format!("/integrations/{}/runs?workflow=absences", h.id),
            None,
        )
        .await;
    other.assert_ok();
    assert_eq!(other.json["runs"], json!([]), "filtered by workflow");
}

#[tokio::test]
async fn runs_are_paged_newest_first() {
    let h = Harness::start().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let a = dry_run_sync(&h).await;
        a.assert_ok();
        ids.push(a.json["run_id"].as_str().expect("run id").to_string());
    }
    let first = h
        .call("GET", &format!("/integrations/{}/runs?limit=2", h.id), None)
        .await;
    first.assert_ok();
    let page: Vec<&str> = first.json["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["run_id"].as_str())
        .collect();
    assert_eq!(page, [ids[2].as_str(), ids[1].as_str()]);
    let cursor = first.json["next_cursor"].as_str().expect("a next page");
    let second = h
        .call(
            "GET",
            &format!("/integrations/{}/runs?limit=2&cursor={cursor}", h.id),
            None,
        )
        .await;
    second.assert_ok();
    assert_eq!(second.json["runs"][0]["run_id"], ids[0].as_str());
    assert!(second.json.get("next_cursor").is_none(), "{}", second.text);
}

#[tokio::test]
async fn a_run_over_the_budget_answers_202_and_is_readable_afterwards() {
    // The runner starts no write closer than its safety margin to the deadline. Granting the run a
    // time limit shorter than that margin makes it stop before its first write, exactly the way a run
    // with more work than the API budget stops: deterministic, no timing involved.
    let runner = RunnerConfig {
        deadline_margin: Duration::from_secs(30),
        ..RunnerConfig::default()
    };
    let h = Harness::start_limited(
        runner,
        Seed::company(api_support::today()),
        Some(Duration::from_secs(1)),
    )
    .await;
    let answer = h.call("POST", &sync_path(&h, "employees"), None).await;
    assert_eq!(answer.status.as_u16(), 202, "{answer:?}");
    let run_id = answer.json["run_id"].as_str().expect("run id").to_string();
    assert_eq!(
        answer.json["href"],
        format!("/integrations/{}/runs/{run_id}", h.id)
    );
    let run = h
        .call("GET", answer.json["href"].as_str().expect("href"), None)
        .await;
    run.assert_ok();
    assert_eq!(run.json["status"], "continued", "{}", run.text);
}

#[tokio::test]
async fn a_second_run_while_one_holds_the_lease_is_409() {
    let h = Harness::start().await;
    h.store
        .acquire_lease(
            &h.id,
            Workflow::Employees,
            "another-run",
            jiff::Timestamp::now(),
            Duration::from_secs(600),
        )
        .await
        .expect("take the lease");
    let answer = dry_run_sync(&h).await;
    answer.assert_problem(409, "already-running");
}

#[tokio::test]
async fn bad_requests_are_problems() {
    let h = Harness::start().await;
    let path = sync_path(&h, "employees");
    h.call("POST", &path, Some(json!({"dryrun": true})))
        .await
        .assert_problem(400, "invalid-body");
    let bad_dates = h
        .call(
            "POST",
            &path,
            Some(json!({"from": "2026-13-01", "direction": "up"})),
        )
        .await;
    bad_dates.assert_problem(400, "invalid-body");
    assert_eq!(bad_dates.json["errors"].as_array().map(Vec::len), Some(2));
    h.raw("POST", &path, Some(("text/plain", r#"{"dry_run":true}"#)))
        .await
        .assert_problem(415, "unsupported-media-type");
    h.raw("POST", &path, Some(("application/json", "{")))
        .await
        .assert_problem(400, "invalid-body");
    let big = format!(r#"{{"from":"{}"}}"#, "x".repeat(70 * 1024));
    h.raw("POST", &path, Some(("application/json", &big)))
        .await
        .assert_problem(413, "payload-too-large");
    h.call("POST", &sync_path(&h, "payroll"), None)
        .await
        .assert_problem(404, "unknown-workflow");
    h.call("POST", "/integrations/nobody/sync/employees", None)
        .await
        .assert_problem(404, "unknown-integration");
    h.call("POST", "/integrations/a%23b/sync/employees", None)
        .await
        .assert_problem(400, "invalid-id");
    h.call("GET", &path, None)
        .await
        .assert_problem(405, "method-not-allowed");
}

#[tokio::test]
async fn invalid_stored_settings_are_422_listing_the_problems() {
    let h = Harness::start().await;
    let broken = IntegrationId::new(integration_tests::unique("broken")).expect("id");
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Mars/Olympus_Mons".into();
    h.store.put_settings(&broken, &settings).await.expect("put");
    let answer = h
        .call(
            "POST",
            &format!("/integrations/{broken}/sync/employees"),
            None,
        )
        .await;
    answer.assert_problem(422, "invalid-settings");
    assert_eq!(
        answer.json["errors"][0]["field"], "time_zone",
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn run_lookups_fail_cleanly() {
    let h = Harness::start().await;
    h.call(
        "GET",
        &format!("/integrations/{}/runs/20250101T000000000Z-deadbeef", h.id),
        None,
    )
    .await
    .assert_problem(404, "unknown-run");
    h.call("GET", "/integrations/nobody/runs", None)
        .await
        .assert_problem(404, "unknown-integration");
    let bad = h
        .call(
            "GET",
            &format!(
                "/integrations/{}/runs?limit=0&workflow=payroll&cursor=zz",
                h.id
            ),
            None,
        )
        .await;
    bad.assert_problem(400, "bad-request");
    let fields: Vec<&str> = bad.json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["limit", "workflow", "cursor"]);
    h.call(
        "GET",
        &format!("/integrations/{}/runs?color=red", h.id),
        None,
    )
    .await
    .assert_problem(400, "bad-request");
    h.call(
        "GET",
        &format!("/integrations/{}/runs/bad%20id", h.id),
        None,
    )
    .await
    .assert_problem(400, "invalid-id");
}
