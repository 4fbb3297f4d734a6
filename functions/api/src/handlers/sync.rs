//! `POST /integrations/{integration_id}/sync/{workflow}`, dispatched in-process to the workflow's
//! service (see [`crate::dispatch`]).
use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use jiff::Timestamp;
use serde_json::Value;
use shared::service::{HttpRequest, Problem};

use super::audit::AuditContext;
use crate::extract::{Ids, TextBody};
use crate::problem::ApiProblem;
use crate::ApiState;

pub async fn manual_sync(
    State(state): State<ApiState>,
    lambda: Option<Extension<lambda_http::Context>>,
    ids: Ids,
    audit: AuditContext,
    uri: Uri,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<Response, ApiProblem> {
    let workflow = ids.workflow()?;
    let handler = state.workflows.get(&workflow).ok_or_else(|| {
        ApiProblem(Problem::new(
            404,
            "workflow-not-served",
            "Workflow not served here",
            format!("this server does not run the {workflow} workflow; call its own endpoint"),
        ))
    })?;
    let mut path_parameters = BTreeMap::new();
    path_parameters.insert(
        "integration_id".to_string(),
        ids.integration_id.as_str().to_string(),
    );
    path_parameters.insert("workflow".to_string(), workflow.as_str().to_string());
    let request = HttpRequest {
        // The route is registered for POST only (other methods get the 405 fallback).
        method: Method::POST.as_str().to_string(),
        path: uri.path().to_string(),
        path_parameters,
        query: BTreeMap::new(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body,
        // The workflow service records the audit record of a sync that ran, with this caller.
        caller: audit.caller,
    };
    let answer = handler
        .handle_http(request, deadline(&state, lambda.as_ref().map(|e| &e.0)))
        .await;
    Ok(gateway_response(&answer))
}

/// The earlier of the Lambda invocation's deadline (when running under `lambda_http`) and the
/// configured [`ApiState::sync_time_limit`].
fn deadline(state: &ApiState, lambda: Option<&lambda_http::Context>) -> Option<Timestamp> {
    let invocation = lambda.and_then(|c| {
        i64::try_from(c.deadline)
            .ok()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
    });
    let limit = state.sync_time_limit.and_then(|d| {
        let d = jiff::SignedDuration::try_from(d).ok()?;
        state.clock.now().checked_add(d).ok()
    });
    match (invocation, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An API Gateway response document (`statusCode`, `headers`, `body`) as an HTTP response.
pub fn gateway_response(answer: &Value) -> Response {
    let status = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok());
    let Some(status) = status else {
        return ApiProblem(Problem::unavailable(
            "the workflow answered without a status; try again",
        ))
        .into_response();
    };
    let body = answer
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Some(ct) = answer
        .pointer("/headers/content-type")
        .and_then(Value::as_str)
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
}
