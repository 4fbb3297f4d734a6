//! Router-level unit tests on in-memory ports: the OpenAPI document and the route table agree, every
//! route of the table is really routed, and the framework's own failures come back as problems.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use shared::credentials::StaticCredentials;
use shared::domain::{IntegrationId, Workflow};
use shared::engine::{RecordingScheduler, SystemClock};
use shared::scheduling::{ScheduleError, WorkflowSchedule};
use shared::service::context::ClientFactory;
use shared::service::ServiceContext;
use shared::settings::IntegrationSettings;
use shared::store::memory::MemoryStore;
use shared::store::StateStore;
use tower::ServiceExt;

use crate::{router, ApiState, WorkflowSchedules, OPENAPI_JSON, ROUTES};

/// Schedules kept in a map (the real adapter is tested against moto in tests/integration).
#[derive(Default)]
struct MapSchedules(Mutex<BTreeMap<(IntegrationId, Workflow), WorkflowSchedule>>);

#[async_trait]
impl WorkflowSchedules for MapSchedules {
    async fn get(
        &self,
        id: &IntegrationId,
        w: Workflow,
    ) -> Result<WorkflowSchedule, ScheduleError> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(id.clone(), w))
            .cloned()
            .ok_or_else(|| ScheduleError::NotFound(format!("{id}-{w}")))
    }
    async fn put(
        &self,
        id: &IntegrationId,
        w: Workflow,
        s: &WorkflowSchedule,
    ) -> Result<(), ScheduleError> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert((id.clone(), w), s.clone());
        Ok(())
    }
}

async fn test_state() -> ApiState {
    let store = Arc::new(MemoryStore::new());
    store
        .put_settings(
            &IntegrationId::new("acme").unwrap(),
            &IntegrationSettings::example(),
        )
        .await
        .unwrap();
    let context = ServiceContext {
        store,
        credentials: Arc::new(StaticCredentials::new()),
        scheduler: Arc::new(RecordingScheduler::new()),
        clock: Arc::new(SystemClock),
        // Nothing listens there: the routes that reach out fail before (no credentials stored).
        clients: ClientFactory {
            personio_base_url: "http://127.0.0.1:9".into(),
            timetrack_base_url_template: "http://127.0.0.1:9/{account}".into(),
            timeout: std::time::Duration::from_secs(1),
        },
    };
    ApiState::new(&context, Arc::new(MapSchedules::default())).with_standard_workflows(&context)
}

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
}

#[test]
fn the_document_and_the_route_table_list_the_same_routes_and_statuses() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let codes: BTreeSet<u16> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|c| c.parse().expect("numeric status"))
                .collect();
            documented.insert((method.to_ascii_uppercase(), path.clone(), codes));
        }
    }
    let table: BTreeSet<(String, String, BTreeSet<u16>)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                r.responses.iter().copied().collect(),
            )
        })
        .collect();
    assert_eq!(documented, table);
}

/// A concrete path for a route template.
fn concrete(path: &str) -> String {
    path.replace("{integration_id}", "acme")
        .replace("{workflow}", "absences")
        .replace("{run_id}", "20260101T000000000Z-0000abcd")
        .replace("{kind}", "absence")
        .replace("{mapping_id}", "0b6f7c1e-0000-4000-8000-000000000000")
}

#[tokio::test]
async fn every_route_of_the_table_is_routed_and_answers_a_documented_status() {
    let app = router(test_state().await);
    for route in ROUTES {
        let mut request = Request::builder()
            .method(route.method)
            .uri(concrete(route.path));
        let body = if route.method == "GET" {
            Body::empty()
        } else {
            request = request.header("content-type", "application/json");
            Body::from("{}")
        };
        let response = app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_ne!(
            json["type"], "urn:personio-timetrack-sync:problem:unknown-route",
            "{} {} is not routed",
            route.method, route.path
        );
        assert!(
            route.responses.contains(&status),
            "{} {} answered {status}, not documented: {json}",
            route.method,
            route.path
        );
    }
}

#[tokio::test]
async fn the_document_is_served() {
    let app = router(test_state().await);
    let response = app
        .oneshot(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let served: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(served, document());
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = router(test_state().await);
    for (method, path, status, slug) in [
        ("GET", "/nowhere", 404, "unknown-route"),
        ("GET", "/integrations/acme", 404, "unknown-route"),
        (
            "DELETE",
            "/integrations/acme/settings",
            405,
            "method-not-allowed",
        ),
        (
            "GET",
            "/integrations/acme/sync/employees",
            405,
            "method-not-allowed",
        ),
        (
            "GET",
            "/integrations/acme/workflows/payroll/schedule",
            404,
            "unknown-workflow",
        ),
        ("GET", "/integrations/%FF/settings", 400, "invalid-id"),
        (
            "POST",
            "/integrations/acme/parked/payroll/m-1/release",
            404,
            "unknown-kind",
        ),
        (
            "POST",
            "/integrations/acme/parked/absence/m%201/release",
            400,
            "invalid-id",
        ),
        (
            "GET",
            "/integrations/acme/parked/absence/m-1/release",
            405,
            "method-not-allowed",
        ),
    ] {
        let response = app
            .clone()
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            json["type"],
            format!("urn:personio-timetrack-sync:problem:{slug}"),
            "{method} {path}: {json}"
        );
    }
}
