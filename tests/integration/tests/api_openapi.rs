//! The OpenAPI document proved on real answers (issue 12 §4): a full flow through the router — every
//! workflow served in-process, DynamoDB / Secrets Manager / Scheduler on moto, both simulators over HTTP —
//! and every answer checked against `functions/api/openapi.json` with a JSON Schema validator: the
//! status must be declared for the operation, the content type must be the declared one, and the body
//! must validate against the declared schema (`$ref`s resolved, formats checked).
//!
//! The document is OpenAPI 3.0: its one difference from JSON Schema that matters here, `nullable:
//! true`, is rewritten to a `null` type before validation (see [`to_json_schema`]).
mod api_support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_support::{good_credentials_json, read, Answer, Harness};
use axum::body::Body;
use axum::http::{Method, Request};
use axum::Router;
use serde_json::{json, Value};
use shared::domain::Workflow;
use shared::scheduling::{EventBridgeScheduler, SchedulerTargets};
use shared::settings::IntegrationSettings;
use shared::store::StateStore;
use tower::ServiceExt;

/// The document, rewritten to JSON Schema, and what the flow has checked so far.
struct Contract {
    document: Value,
    /// `(method, path template, status)` of every answer checked.
    seen: Mutex<BTreeSet<(String, String, u16)>>,
    /// Every mismatch, so that one run lists them all.
    violations: Mutex<Vec<String>>,
}

impl Contract {
    fn load() -> Self {
        let mut document: Value = serde_json::from_str(api::OPENAPI_JSON).expect("openapi.json");
        to_json_schema(&mut document);
        Self {
            document,
            seen: Mutex::new(BTreeSet::new()),
            violations: Mutex::new(Vec::new()),
        }
    }

    fn violation(&self, text: String) {
        self.violations.lock().expect("lock").push(text);
    }

    /// Checks one answer of `method template` against the document.
    fn check(&self, method: &str, template: &str, answer: &Answer) {
        let status = answer.status.as_u16();
        self.seen
            .lock()
            .expect("lock")
            .insert((method.to_string(), template.to_string(), status));
        let what = format!("{method} {template} → {status}");
        let Some(operation) = self.document["paths"][template].get(method.to_lowercase()) else {
            return self.violation(format!("{what}: the operation is not in the document"));
        };
        let Some(response) = operation["responses"].get(status.to_string()) else {
            return self.violation(format!(
                "{what}: status not declared (declared: {:?}); body {}",
                operation["responses"]
                    .as_object()
                    .map(|r| r.keys().cloned().collect::<Vec<_>>()),
                answer.text
            ));
        };
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            if !answer.text.is_empty() {
                self.violation(format!("{what}: a body where none is declared"));
            }
            return;
        };
        let content_type = answer
            .content_type
            .as_deref()
            .and_then(|ct| ct.split(';').next())
            .unwrap_or("")
            .trim();
        let Some(media) = content.get(content_type) else {
            return self.violation(format!(
                "{what}: content type {content_type:?}, declared {:?}",
                content.keys().collect::<Vec<_>>()
            ));
        };
        let Ok(body) = serde_json::from_str::<Value>(&answer.text) else {
            return self.violation(format!("{what}: the body is not JSON: {}", answer.text));
        };
        let mut schema = media["schema"].clone();
        if let Value::Object(map) = &mut schema {
            map.insert("components".into(), self.document["components"].clone());
        }
        let validator = match jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
        {
            Ok(v) => v,
            Err(e) => return self.violation(format!("{what}: the schema does not compile: {e}")),
        };
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
            .collect();
        if !errors.is_empty() {
            let mut shown = answer.text.clone();
            if shown.len() > 600 {
                shown.truncate(600);
                shown.push('…');
            }
            self.violation(format!(
                "{what}: the body does not match the schema:\n    {}\n    body: {shown}",
                errors.join("\n    ")
            ));
        }
    }

    /// Fails with every violation found, then checks that the flow answered `expected`.
    fn finish(&self, expected: &[(&str, &str, u16)]) {
        let violations = self.violations.lock().expect("lock");
        assert!(
            violations.is_empty(),
            "{} answer(s) contradict functions/api/openapi.json:\n  {}",
            violations.len(),
            violations.join("\n  ")
        );
        let seen = self.seen.lock().expect("lock");
        let missing: Vec<_> = expected
            .iter()
            .filter(|(m, t, s)| !seen.contains(&(m.to_string(), t.to_string(), *s)))
            .collect();
        assert!(
            missing.is_empty(),
            "the flow did not produce {missing:?}; seen: {seen:#?}"
        );
    }
}

/// OpenAPI 3.0 → JSON Schema 2020-12 for what this document uses: `nullable: true` becomes a `null`
/// type (or a `null` alternative of a `$ref`, and `null` in an `enum`).
fn to_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                to_json_schema(child);
            }
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    if !values.contains(&Value::Null) {
                        values.push(Value::Null);
                    }
                }
                if let Some(reference) = map.remove("$ref") {
                    map.insert(
                        "anyOf".into(),
                        json!([{ "$ref": reference }, { "type": "null" }]),
                    );
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}

/// The router with all three workflows served in-process (the harness serves employees only).
fn full_router(h: &Harness) -> Router {
    let schedules = EventBridgeScheduler::new(
        h.scheduler_client.clone(),
        SchedulerTargets {
            group: h.schedule_group.clone(),
            role_arn: "arn:aws:iam::123456789012:role/scheduler".into(),
            employees_arn: "arn:aws:lambda:eu-central-1:123456789012:function:employees".into(),
            time_entries_arn: "arn:aws:lambda:eu-central-1:123456789012:function:time-entries"
                .into(),
            absences_arn: "arn:aws:lambda:eu-central-1:123456789012:function:absences".into(),
        },
    );
    let state =
        api::ApiState::new(&h.context, Arc::new(schedules)).with_standard_workflows(&h.context);
    api::router(state)
}

/// Sends a request and checks its answer against the document under `template`.
struct Flow<'a> {
    router: Router,
    contract: &'a Contract,
}

impl Flow<'_> {
    async fn send(
        &self,
        method: &str,
        path: &str,
        template: &str,
        body: Option<(&str, String)>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(path);
        if let Some((content_type, _)) = &body {
            request = request.header("content-type", *content_type);
        }
        let request = request
            .body(Body::from(body.map(|(_, b)| b).unwrap_or_default()))
            .expect("request");
        let answer = read(
            self.router
                .clone()
                .oneshot(request)
                .await
                .expect("infallible"),
        )
        .await;
        self.contract.check(method, template, &answer);
        answer
    }

    async fn json(&self, method: &str, path: &str, template: &str, body: Value) -> Answer {
        self.send(
            method,
            path,
            template,
            Some(("application/json", body.to_string())),
        )
        .await
    }

    async fn get(&self, path: &str, template: &str) -> Answer {
        self.send("GET", path, template, None).await
    }
}

const CREDENTIALS: &str = "/integrations/{integration_id}/credentials";
const CONNECT: &str = "/integrations/{integration_id}/connect";
const SETTINGS: &str = "/integrations/{integration_id}/settings";
const SCHEDULE: &str = "/integrations/{integration_id}/workflows/{workflow}/schedule";
const CANDIDATES: &str = "/integrations/{integration_id}/employees/candidates";
const ABSENCE_TYPES: &str = "/integrations/{integration_id}/absence-types";
const SYNC: &str = "/integrations/{integration_id}/sync/{workflow}";
const RUNS: &str = "/integrations/{integration_id}/runs";
const RUN: &str = "/integrations/{integration_id}/runs/{run_id}";
const PARKED: &str = "/integrations/{integration_id}/parked";
const RELEASE: &str = "/integrations/{integration_id}/parked/{kind}/{mapping_id}/release";
const AUDIT: &str = "/integrations/{integration_id}/audit";

/// Settings that give the absences workflow something to do against the seed company: Personio's
/// vacation and sick leave (ids from the absence-types answer) mapped to TimeTrack's Urlaub (with its
/// half-day type) and Krankenstand; everything else the example's.
fn flow_settings(absence_types: &Value) -> Value {
    let personio_id = |name: &str| {
        absence_types["personio"]
            .as_array()
            .and_then(|types| types.iter().find(|t| t["name"] == name))
            .map(|t| t["id"].clone())
            .unwrap_or_else(|| panic!("no Personio absence type {name}: {absence_types}"))
    };
    let mut settings = serde_json::to_value(IntegrationSettings::example()).expect("settings");
    settings["absences"]["type_mappings"] = json!([
        {"timetrack_type_id": 1, "personio_type_id": personio_id("Vacation"), "master": "personio",
         "half_day_timetrack_type_id": 2},
        {"timetrack_type_id": 5, "personio_type_id": personio_id("Sick leave"), "master": "timetrack"}
    ]);
    settings
}

#[tokio::test]
async fn every_answer_of_a_full_flow_matches_the_openapi_document() {
    let h = Harness::start().await;
    let contract = Contract::load();
    let flow = Flow {
        router: full_router(&h),
        contract: &contract,
    };
    let id = h.id.to_string();
    let at = |suffix: &str| format!("/integrations/{id}{suffix}");

    // Setup: credentials (stored and checked), connect, settings, schedules.
    flow.json(
        "PUT",
        &at("/credentials"),
        CREDENTIALS,
        good_credentials_json(),
    )
    .await
    .assert_ok();
    let mut unusable = good_credentials_json();
    unusable["timetrack_account"] = json!("evil.example/x#");
    let answer = flow
        .json("PUT", &at("/credentials"), CREDENTIALS, unusable)
        .await;
    answer.assert_problem(422, "invalid-credentials");
    flow.send("POST", &at("/connect"), CONNECT, None)
        .await
        .assert_ok();
    flow.get(&at("/settings"), SETTINGS).await.assert_ok();
    let absence_types = flow.get(&at("/absence-types"), ABSENCE_TYPES).await;
    absence_types.assert_ok();
    let settings = flow_settings(&absence_types.json);
    flow.json("PUT", &at("/settings"), SETTINGS, settings.clone())
        .await
        .assert_ok();
    let mut invalid = settings.clone();
    invalid["time_zone"] = json!("Mars/Olympus_Mons");
    flow.json("PUT", &at("/settings"), SETTINGS, invalid)
        .await
        .assert_problem(422, "invalid-settings");
    let mut mistyped = settings.clone();
    mistyped["sync"]["concurrency"] = json!("four");
    flow.json("PUT", &at("/settings"), SETTINGS, mistyped)
        .await
        .assert_problem(400, "invalid-body");
    flow.json(
        "PUT",
        &at("/workflows/time-entries/schedule"),
        SCHEDULE,
        json!({"expression": "rate(1 hour)", "enabled": true, "time_zone": "Europe/Berlin"}),
    )
    .await
    .assert_ok();
    flow.get(&at("/workflows/time-entries/schedule"), SCHEDULE)
        .await
        .assert_ok();
    flow.get(&at("/workflows/absences/schedule"), SCHEDULE)
        .await
        .assert_problem(404, "unknown-schedule");
    flow.json(
        "PUT",
        &at("/workflows/absences/schedule"),
        SCHEDULE,
        json!({"expression": "every hour", "enabled": true}),
    )
    .await
    .assert_problem(422, "invalid-schedule");

    // What setup screens read.
    flow.get(&at("/employees/candidates"), CANDIDATES)
        .await
        .assert_ok();
    flow.get(&at("/absence-types"), ABSENCE_TYPES)
        .await
        .assert_ok();

    // Manual syncs, dry and real, of every workflow; then the runs.
    let mut run_ids = Vec::new();
    for workflow in ["employees", "time-entries", "absences"] {
        for dry_run in [true, false] {
            let answer = flow
                .json(
                    "POST",
                    &at(&format!("/sync/{workflow}")),
                    SYNC,
                    json!({"dry_run": dry_run}),
                )
                .await;
            answer.assert_ok();
            run_ids.push(answer.json["run_id"].as_str().expect("run id").to_string());
        }
    }
    let window = flow
        .json(
            "POST",
            &at("/sync/time-entries"),
            SYNC,
            json!({"from": api_support::today().first_of_month().to_string(),
                   "to": api_support::today().to_string(), "direction": "to_personio"}),
        )
        .await;
    window.assert_ok();
    flow.get(&at("/runs"), RUNS).await.assert_ok();
    flow.get(&at("/runs?limit=2&workflow=employees"), RUNS)
        .await
        .assert_ok();
    for run_id in &run_ids {
        flow.get(&at(&format!("/runs/{run_id}")), RUN)
            .await
            .assert_ok();
    }

    // Parked mappings: park one, list, release it, release it again.
    let mapping = h
        .store
        .list_mappings(&h.id, shared::domain::EntityKind::Employee, None)
        .await
        .expect("mappings")
        .into_iter()
        .next()
        .expect("the real employees run linked someone");
    let mut parked = mapping.clone();
    parked.parked = Some("approved period is locked".into());
    parked.failures = 1;
    parked.last_error = Some("TimeTrack answered HTTP 422".into());
    parked.version = mapping.version + 1;
    h.store.put_mapping(&parked).await.expect("park a mapping");
    flow.get(&at("/parked"), PARKED).await.assert_ok();
    let release = at(&format!("/parked/employee/{}/release", mapping.mapping_id));
    flow.send("POST", &release, RELEASE, None).await.assert_ok();
    flow.send("POST", &release, RELEASE, None)
        .await
        .assert_problem(409, "not-parked");
    flow.get(&at("/audit"), AUDIT).await.assert_ok();
    flow.get("/openapi.json", "/openapi.json").await.assert_ok();

    // The problem answers.
    flow.send(
        "POST",
        &at("/sync/employees"),
        SYNC,
        Some(("application/json", "{".into())),
    )
    .await
    .assert_problem(400, "invalid-body");
    flow.json(
        "POST",
        &at("/sync/employees"),
        SYNC,
        json!({"to": "2026-01-31"}),
    )
    .await
    .assert_problem(400, "invalid-body");
    flow.get(&at("/runs/not%20a%20run"), RUN)
        .await
        .assert_problem(400, "invalid-id");
    flow.get(&at("/runs/20200101T000000000Z-00000000"), RUN)
        .await
        .assert_problem(404, "unknown-run");
    flow.get("/integrations/nobody-here/settings", SETTINGS)
        .await
        .assert_problem(404, "unknown-integration");
    flow.get(&at("/runs?limit=0"), RUNS)
        .await
        .assert_problem(400, "bad-request");
    flow.send(
        "PUT",
        &at("/settings"),
        SETTINGS,
        Some(("text/plain", "time_zone=UTC".into())),
    )
    .await
    .assert_problem(415, "unsupported-media-type");
    let oversize = json!({ "time_zone": "x".repeat(70 * 1024) });
    flow.json("PUT", &at("/settings"), SETTINGS, oversize)
        .await
        .assert_problem(413, "payload-too-large");
    h.store
        .acquire_lease(
            &h.id,
            Workflow::Absences,
            "another-run",
            jiff::Timestamp::now(),
            Duration::from_secs(600),
        )
        .await
        .expect("take the lease");
    flow.json("POST", &at("/sync/absences"), SYNC, json!({}))
        .await
        .assert_problem(409, "already-running");
    // No credentials at all: 422 not-connected wherever the systems are called, and a failed run.
    let other = shared::domain::IntegrationId::new(integration_tests::unique("bare")).expect("id");
    h.store
        .put_settings(&other, &IntegrationSettings::example())
        .await
        .expect("settings");
    flow.get(
        &format!("/integrations/{other}/employees/candidates"),
        CANDIDATES,
    )
    .await
    .assert_problem(422, "not-connected");
    flow.send(
        "POST",
        &format!("/integrations/{other}/connect"),
        CONNECT,
        None,
    )
    .await
    .assert_problem(422, "not-connected");
    flow.json(
        "POST",
        &format!("/integrations/{other}/sync/employees"),
        SYNC,
        json!({"dry_run": true}),
    )
    .await
    .assert_problem(422, "not-connected");
    let failed = flow.get(&format!("/integrations/{other}/runs"), RUNS).await;
    failed.assert_ok();
    assert_eq!(
        failed.json["runs"][0]["status"], "failed",
        "{}",
        failed.text
    );

    contract.finish(&[
        ("PUT", CREDENTIALS, 200),
        ("PUT", CREDENTIALS, 422),
        ("POST", CONNECT, 200),
        ("POST", CONNECT, 422),
        ("GET", SETTINGS, 200),
        ("GET", SETTINGS, 404),
        ("PUT", SETTINGS, 200),
        ("PUT", SETTINGS, 400),
        ("PUT", SETTINGS, 413),
        ("PUT", SETTINGS, 415),
        ("PUT", SETTINGS, 422),
        ("PUT", SCHEDULE, 200),
        ("PUT", SCHEDULE, 422),
        ("GET", SCHEDULE, 200),
        ("GET", SCHEDULE, 404),
        ("GET", CANDIDATES, 200),
        ("GET", CANDIDATES, 422),
        ("GET", ABSENCE_TYPES, 200),
        ("POST", SYNC, 200),
        ("POST", SYNC, 400),
        ("POST", SYNC, 409),
        ("POST", SYNC, 422),
        ("GET", RUNS, 200),
        ("GET", RUNS, 400),
        ("GET", RUN, 200),
        ("GET", RUN, 400),
        ("GET", RUN, 404),
        ("GET", PARKED, 200),
        ("POST", RELEASE, 200),
        ("POST", RELEASE, 409),
        ("GET", AUDIT, 200),
        ("GET", "/openapi.json", 200),
    ]);
}
