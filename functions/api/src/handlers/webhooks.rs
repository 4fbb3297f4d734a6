//! Personio's webhooks at the API (docs/workflows/webhooks.md):
//! - `POST /integrations/{id}/webhooks/personio` — the receiver Personio delivers to. API Gateway serves
//!   it without IAM auth (Personio cannot sign); the token in `Authorization` authenticates it
//!   ([`shared::webhooks::WebhookReceiver`]). It answers fast, calls neither Personio nor TimeTrack.
//! - `PUT|GET|DELETE /integrations/{id}/webhooks` — the subscription with Personio (IAM auth, audited).
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use shared::audit::{AuditAction, ChangeKind, FieldChange};
use shared::service::Problem;
use shared::webhooks::subscription::PutSubscription;
use shared::webhooks::{personio_api, Receipt, Subscriptions, WebhookReceiver};

use super::audit::AuditContext;
use super::require_settings;
use crate::extract::{is_json, parse_json, Ids};
use crate::ApiState;

/// The webhook edge of the API: the receiver and the subscription operations.
#[derive(Clone)]
pub struct ApiWebhooks {
    pub receiver: WebhookReceiver,
    pub subscriptions: Subscriptions,
}

fn not_configured() -> Problem {
    Problem::unavailable("webhooks are not configured on this server (no queue or token store)")
}

fn webhooks(state: &ApiState) -> Result<Arc<ApiWebhooks>, Problem> {
    state.webhooks.clone().ok_or_else(not_configured)
}

/// `POST /integrations/{integration_id}/webhooks/personio`. The raw path id (an invalid one is the
/// same 401 as an unknown one) and the raw body (size, token, then envelope — in that order).
pub async fn receive(
    State(state): State<ApiState>,
    Path(integration_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(edge) = state.webhooks.clone() else {
        return not_configured().into_response();
    };
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match edge
        .receiver
        .receive(&integration_id, authorization, &body)
        .await
    {
        Ok(Receipt::Enqueued { event_id, workflow }) => (
            StatusCode::ACCEPTED,
            Json(json!({"status": "enqueued", "event_id": event_id, "workflow": workflow})),
        )
            .into_response(),
        Ok(Receipt::Acknowledged { event_name }) => (
            StatusCode::OK,
            Json(json!({"status": "acknowledged", "event_name": event_name})),
        )
            .into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// `PUT /integrations/{id}/webhooks`: registers (201) or updates (200) the subscription; an empty body
/// is `{}`. Answers the subscription as `GET` shows it (never the token).
pub async fn put_subscription(
    State(state): State<ApiState>,
    ids: Ids,
    audit: AuditContext,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let edge = webhooks(&state)?;
    let request: PutSubscription = if body.iter().all(u8::is_ascii_whitespace) {
        PutSubscription::default()
    } else if !is_json(headers.get(axum::http::header::CONTENT_TYPE)) {
        return Err(Problem::unsupported_media_type(
            "send the body as application/json",
        ));
    } else {
        parse_json(&body)?
    };
    let id = &ids.integration_id;
    let settings = require_settings(&state, id).await?;
    let api = personio_api::for_integration(state.credentials.as_ref(), &state.clients, id).await?;
    let mut subscriptions = edge.subscriptions.clone();
    if subscriptions.receiver_base_url.is_none() {
        subscriptions.receiver_base_url = base_url_of(&headers);
    }
    let outcome = subscriptions.put(id, &settings, &api, &request).await?;
    let view = edge.subscriptions.view(id, Some(&api)).await?;
    let sub = view.subscription.as_ref();
    let mut changes = vec![FieldChange {
        field: "url".into(),
        change: if outcome.created {
            ChangeKind::Added
        } else {
            ChangeKind::Unchanged
        },
        before: None,
        after: sub.map(|s| json!(s.url)),
        redacted: false,
    }];
    changes.push(FieldChange {
        field: "token".into(),
        change: if outcome.token_rotated {
            ChangeKind::Changed
        } else {
            ChangeKind::Unchanged
        },
        before: None,
        after: None,
        redacted: true,
    });
    if let Some(company) = &request.company_id {
        changes.push(FieldChange {
            field: "company_id".into(),
            change: ChangeKind::Changed,
            before: None,
            after: Some(json!(company)),
            redacted: false,
        });
    }
    audit
        .record(
            &state,
            id,
            AuditAction::WebhookSubscribed,
            sub.map(|s| format!("webhook {}", s.webhook_id)),
            changes,
        )
        .await;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}

/// The API's own base URL as the caller reached it (`Host`, and `X-Forwarded-Proto` when a proxy set
/// it): the receiver's default when `WEBHOOK_RECEIVER_BASE_URL` is not set. API Gateway's HTTP API
/// `$default` stage has no path prefix; a local server on a loopback address speaks plain HTTP.
fn base_url_of(headers: &HeaderMap) -> Option<String> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())?
        .trim();
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return None;
    }
    let loopback =
        host.starts_with("127.0.0.1") || host.starts_with("localhost") || host.starts_with("[::1]");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or(if loopback { "http" } else { "https" });
    Some(format!("{scheme}://{host}"))
}

/// `GET /integrations/{id}/webhooks`: the recorded subscription, Personio's view of it (or why it could
/// not be read), the company, the last delivery received and the replay marks.
pub async fn get_subscription(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Response, Problem> {
    let edge = webhooks(&state)?;
    let id = &ids.integration_id;
    require_settings(&state, id).await?;
    let api = personio_api::for_integration(state.credentials.as_ref(), &state.clients, id)
        .await
        .ok();
    let view = edge
        .subscriptions
        .view(
            id,
            api.as_ref().map(|a| a as &dyn shared::webhooks::WebhookApi),
        )
        .await?;
    Ok(Json(view).into_response())
}

/// `DELETE /integrations/{id}/webhooks`: removes the subscription with Personio, then the record and the
/// token. 404 when there is none.
pub async fn delete_subscription(
    State(state): State<ApiState>,
    ids: Ids,
    audit: AuditContext,
) -> Result<Response, Problem> {
    let edge = webhooks(&state)?;
    let id = &ids.integration_id;
    require_settings(&state, id).await?;
    let api = personio_api::for_integration(state.credentials.as_ref(), &state.clients, id).await?;
    let removed = edge.subscriptions.delete(id, &api).await?;
    audit
        .record(
            &state,
            id,
            AuditAction::WebhookRemoved,
            Some(format!("webhook {}", removed.webhook_id)),
            vec![FieldChange {
                field: "url".into(),
                change: ChangeKind::Removed,
                before: Some(json!(removed.url)),
                after: None,
                redacted: false,
            }],
        )
        .await;
    Ok(Json(json!({"removed": removed})).into_response())
}
