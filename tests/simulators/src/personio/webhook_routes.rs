//! The webhook management API (`personio-api-v2.md` §8) and the `/_sim/webhooks` control route.
//!
//! Validation: a body that is not a JSON object, a missing or mistyped field, an unknown enum value or
//! event name is 400 "Bad request"; a well-formed value Personio refuses by rule (a URL that is not
//! HTTPS, custom headers without `auth_type` CUSTOM, more than 3 of them, a forbidden header name, a
//! token or header value that cannot be sent) is 422; a second webhook for a URL already registered is
//! 409. These splits are decisions where §8 only names the statuses (see the README).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::state::{bump, new_uuid, now_seconds};
use super::webhooks::{
    AuthType, DeliveryAttempt, KnobsPatch, Webhook, WebhookKnobs, WebhookStatus, KNOWN_EVENTS,
};
use super::wire::*;
use super::PersonioShared;

type Sim = State<Arc<PersonioShared>>;

const READ: &str = "personio:webhooks:read";
const WRITE: &str = "personio:webhooks:write";

/// Header names a custom header may not start with (§8).
const FORBIDDEN_HEADER_PREFIXES: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "content-type",
];

pub(crate) fn router() -> Router<Arc<PersonioShared>> {
    Router::new()
        .route("/v2/webhooks", get(list_webhooks).post(create_webhook))
        .route(
            "/v2/webhooks/{id}",
            get(get_webhook).patch(patch_webhook).delete(delete_webhook),
        )
        .route("/v2/webhooks/{id}/events", get(list_events))
        .route("/v2/webhooks/{id}/activity", get(list_activity))
        .route("/v2/webhooks/{id}/redelivery", post(redeliver))
        .route("/v2/webhooks/{id}/ping", post(ping))
        .route("/v2/webhooks/{id}/test-event", post(test_event))
        .route("/_sim/webhooks", get(control_get).post(control_post))
}

fn unprocessable(title: &str, detail: &str) -> Response {
    problem(422, title, detail)
}

fn render(webhook: &Webhook, base_url: &str) -> Value {
    let mut value = to_value(webhook);
    value["_meta"] = json!({ "links": { "self": { "href": format!("{base_url}/v2/webhooks/{}", webhook.id) } } });
    value
}

/// Reads an optional JSON object body; an empty body is an empty object.
fn optional_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(problem(
            400,
            "Invalid JSON",
            "The request body is not valid JSON.",
        )),
    }
}

fn required_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(problem(
            400,
            "Invalid JSON",
            "The request body is not valid JSON.",
        )),
    }
}

/// True for `http://127.0.0.1`, `http://localhost`, `http://[::1]` (any port).
fn is_local_http(url: &url::Url) -> bool {
    url.scheme() == "http"
        && matches!(
            url.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        )
}

fn string_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, Response> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad_request(&format!("Invalid {key} field."))),
    }
}

/// Builds the webhook a create (`existing` = None) or a PATCH of `existing` asks for, validated.
fn webhook_from(
    body: &Map<String, Value>,
    existing: Option<&Webhook>,
    knobs: &WebhookKnobs,
) -> Result<Webhook, Response> {
    for key in body.keys() {
        if ![
            "url",
            "description",
            "status",
            "auth_type",
            "token",
            "custom_headers",
            "enabled_events",
        ]
        .contains(&key.as_str())
        {
            return Err(bad_request(&format!("Unknown field {key}.")));
        }
    }
    let now = now_seconds();
    let mut webhook = existing.cloned().unwrap_or_else(|| Webhook {
        id: new_uuid(),
        url: String::new(),
        description: String::new(),
        status: WebhookStatus::Disabled,
        auth_type: AuthType::Token,
        token: None,
        custom_headers: BTreeMap::new(),
        enabled_events: Vec::new(),
        created_at: now,
        updated_at: now,
    });
    if existing.is_none() {
        for required in ["url", "description", "enabled_events"] {
            if body.get(required).is_none_or(Value::is_null) {
                return Err(bad_request(&format!(
                    "Missing required parameter {required}."
                )));
            }
        }
    }
    if let Some(url) = string_field(body, "url")? {
        let parsed = url::Url::parse(&url).map_err(|_| bad_request("Invalid url field."))?;
        let allowed =
            parsed.scheme() == "https" || (knobs.allow_http_localhost && is_local_http(&parsed));
        if !allowed {
            return Err(unprocessable(
                "Invalid url",
                "The webhook url must be an HTTPS URL.",
            ));
        }
        webhook.url = url;
    }
    if let Some(description) = string_field(body, "description")? {
        if description.trim().is_empty() {
            return Err(bad_request("Invalid description field."));
        }
        webhook.description = description;
    }
    if body.contains_key("status") {
        webhook.status = serde_json::from_value(body["status"].clone())
            .map_err(|_| bad_request("Invalid status field."))?;
    }
    if body.contains_key("auth_type") {
        webhook.auth_type = serde_json::from_value(body["auth_type"].clone())
            .map_err(|_| bad_request("Invalid auth_type field."))?;
    }
    match body.get("token") {
        None => {}
        Some(Value::Null) => webhook.token = None,
        Some(Value::String(token)) => {
            if axum::http::HeaderValue::from_str(token).is_err() {
                return Err(unprocessable(
                    "Invalid token",
                    "The token cannot be sent as an HTTP header value.",
                ));
            }
            webhook.token = Some(token.clone());
        }
        Some(_) => return Err(bad_request("Invalid token field.")),
    }
    match body.get("custom_headers") {
        None => {}
        Some(Value::Null) => webhook.custom_headers.clear(),
        Some(Value::Object(map)) => {
            let mut headers = BTreeMap::new();
            for (name, value) in map {
                let Some(value) = value.as_str() else {
                    return Err(bad_request("Invalid custom_headers field."));
                };
                headers.insert(name.clone(), value.to_string());
            }
            webhook.custom_headers = headers;
        }
        Some(_) => return Err(bad_request("Invalid custom_headers field.")),
    }
    if let Some(events) = body.get("enabled_events") {
        let Some(list) = events.as_array() else {
            return Err(bad_request("Invalid enabled_events field."));
        };
        let mut names = Vec::new();
        for name in list {
            match name.as_str() {
                Some(n) if KNOWN_EVENTS.contains(&n) => {
                    if !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                }
                Some(n) => return Err(bad_request(&format!("Unknown event name {n}."))),
                None => return Err(bad_request("Invalid enabled_events field.")),
            }
        }
        if names.is_empty() {
            return Err(bad_request("enabled_events must not be empty."));
        }
        webhook.enabled_events = names;
    }
    if !webhook.custom_headers.is_empty() {
        if webhook.auth_type != AuthType::Custom {
            return Err(unprocessable(
                "Invalid custom_headers",
                "custom_headers are only allowed with auth_type CUSTOM.",
            ));
        }
        if webhook.custom_headers.len() > 3 {
            return Err(unprocessable(
                "Invalid custom_headers",
                "At most 3 custom headers are allowed.",
            ));
        }
        for (name, value) in &webhook.custom_headers {
            let lower = name.to_ascii_lowercase();
            if FORBIDDEN_HEADER_PREFIXES
                .iter()
                .any(|p| lower.starts_with(p))
                || axum::http::HeaderName::from_bytes(name.as_bytes()).is_err()
                || axum::http::HeaderValue::from_str(value).is_err()
            {
                return Err(unprocessable(
                    "Invalid custom_headers",
                    &format!("The custom header {name} is not allowed."),
                ));
            }
        }
    }
    if existing.is_some() {
        webhook.updated_at = bump(webhook.updated_at);
    }
    Ok(webhook)
}

/// 409 when another webhook already has this URL.
fn url_conflict(sim: &PersonioShared, webhook: &Webhook) -> Result<(), Response> {
    if sim
        .hooks
        .webhooks()
        .iter()
        .any(|w| w.id != webhook.id && w.url == webhook.url)
    {
        return Err(problem(
            409,
            "Conflict",
            "A webhook with this url already exists.",
        ));
    }
    Ok(())
}

async fn create_webhook(State(sim): Sim, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        sim.tokens.require_scope(&headers, WRITE)?;
        let body = required_object(&body)?;
        let webhook = webhook_from(&body, None, &sim.hooks.knobs())?;
        url_conflict(&sim, &webhook)?;
        Ok::<_, Response>(webhook)
    })();
    match result {
        Ok(webhook) => {
            sim.hooks.put(webhook.clone());
            with_json_body(201, "application/json", &render(&webhook, &sim.base_url))
        }
        Err(e) => e,
    }
}

async fn list_webhooks(State(sim): Sim, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if let Err(e) = sim.tokens.require_scope(&headers, READ) {
        return e;
    }
    let request = match list_request(query.as_deref(), 100, 100) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if !request.filters.is_empty() {
        return bad_request("Provided request parameters are invalid.");
    }
    let base = sim.base_url.clone();
    json_ok(&page_of(
        sim.hooks.webhooks(),
        |w| render(&w, &base),
        &request,
        &sim.base_url,
        "/v2/webhooks",
        query.as_deref(),
        false,
    ))
}

/// The webhook `id`, after the scope check; 404 when unknown.
fn find(
    sim: &PersonioShared,
    headers: &HeaderMap,
    scope: &str,
    id: &str,
) -> Result<Webhook, Response> {
    sim.tokens.require_scope(headers, scope)?;
    sim.hooks.webhook(id).ok_or_else(not_found)
}

async fn get_webhook(State(sim): Sim, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match find(&sim, &headers, READ, &id) {
        Ok(webhook) => json_ok(&render(&webhook, &sim.base_url)),
        Err(e) => e,
    }
}

async fn patch_webhook(
    State(sim): Sim,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| {
        let existing = find(&sim, &headers, WRITE, &id)?;
        let body = required_object(&body)?;
        let webhook = webhook_from(&body, Some(&existing), &sim.hooks.knobs())?;
        url_conflict(&sim, &webhook)?;
        Ok::<_, Response>(webhook)
    })();
    match result {
        Ok(webhook) => {
            sim.hooks.put(webhook.clone());
            json_ok(&render(&webhook, &sim.base_url))
        }
        Err(e) => e,
    }
}

async fn delete_webhook(State(sim): Sim, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = find(&sim, &headers, WRITE, &id) {
        return e;
    }
    sim.hooks.remove(&id);
    no_content()
}

/// `occurred_at.gte=...` style instant filters (RFC 3339 with `Z` or an offset).
fn instant(value: &str) -> Result<Timestamp, Response> {
    parse_timestamp(value).ok_or_else(|| bad_request("Provided request parameters are invalid."))
}

async fn list_events(
    State(sim): Sim,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(e) = find(&sim, &headers, READ, &id) {
        return e;
    }
    let request = match list_request(query.as_deref(), 100, 100) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (mut gte, mut lte, mut names) = (None, None, None::<Vec<String>>);
    for (key, value) in &request.filters {
        let parsed = match key.as_str() {
            "occurred_at.gte" => instant(value).map(|t| gte = Some(t)),
            "occurred_at.lte" => instant(value).map(|t| lte = Some(t)),
            "event_name" => {
                names.get_or_insert_default().extend(comma_list(value));
                Ok(())
            }
            _ if key.contains('.') => Err(bad_request("Provided filter encoding is invalid.")),
            _ => Err(bad_request("Provided request parameters are invalid.")),
        };
        if let Err(e) = parsed {
            return e;
        }
    }
    let events: Vec<_> = sim
        .hooks
        .events_of(&id)
        .into_iter()
        .filter(|e| gte.is_none_or(|t| e.occurred >= t))
        .filter(|e| lte.is_none_or(|t| e.occurred <= t))
        .filter(|e| {
            names
                .as_ref()
                .is_none_or(|n| n.contains(&e.envelope.event_name))
        })
        .collect();
    json_ok(&page_of(
        events,
        |e| to_value(&e),
        &request,
        &sim.base_url,
        &format!("/v2/webhooks/{id}/events"),
        query.as_deref(),
        false,
    ))
}

async fn list_activity(
    State(sim): Sim,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(e) = find(&sim, &headers, READ, &id) {
        return e;
    }
    let request = match list_request(query.as_deref(), 100, 100) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (mut gte, mut lte, mut status, mut event) = (None, None, None, None);
    for (key, value) in &request.filters {
        let parsed = match key.as_str() {
            "attempted_at.gte" => instant(value).map(|t| gte = Some(t)),
            "attempted_at.lte" => instant(value).map(|t| lte = Some(t)),
            "status" if value == "SUCCESS" || value == "FAILED" => {
                status = Some(value.clone());
                Ok(())
            }
            "event_id" => {
                event = Some(value.clone());
                Ok(())
            }
            _ if key.contains('.') => Err(bad_request("Provided filter encoding is invalid.")),
            _ => Err(bad_request("Provided request parameters are invalid.")),
        };
        if let Err(e) = parsed {
            return e;
        }
    }
    let horizon = Timestamp::now()
        .checked_sub(super::webhooks::RETENTION)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let attempts: Vec<DeliveryAttempt> = sim
        .hooks
        .attempts()
        .into_iter()
        .filter(|a| a.webhook_id == id && a.attempted_at >= horizon)
        .filter(|a| gte.is_none_or(|t| a.attempted_at >= t))
        .filter(|a| lte.is_none_or(|t| a.attempted_at <= t))
        .filter(|a| status.as_deref().is_none_or(|s| a.status == s))
        .filter(|a| {
            event
                .as_ref()
                .is_none_or(|e| a.event_id.as_ref() == Some(e))
        })
        .collect();
    json_ok(&page_of(
        attempts,
        |a| to_value(&a),
        &request,
        &sim.base_url,
        &format!("/v2/webhooks/{id}/activity"),
        query.as_deref(),
        false,
    ))
}

/// `{"event_ids": [...]}` queues those events again; an empty body redelivers every failed or dropped
/// event of the webhook. 202 with the ids queued.
async fn redeliver(
    State(sim): Sim,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| {
        find(&sim, &headers, WRITE, &id)?;
        let body = optional_object(&body)?;
        let ids = match body.get("event_ids") {
            None | Some(Value::Null) => sim.hooks.undelivered_of(&id),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad_request("Invalid event_ids field."))?,
            Some(_) => return Err(bad_request("Invalid event_ids field.")),
        };
        sim.hooks.redeliver(&id, &ids).map_err(|unknown| {
            bad_request(&format!("Unknown event ids: {}.", unknown.join(", ")))
        })?;
        Ok::<_, Response>(ids)
    })();
    match result {
        Ok(ids) => with_json_body(202, "application/json", &json!({ "event_ids": ids })),
        Err(e) => e,
    }
}

fn attempt_answer(attempt: &DeliveryAttempt) -> Value {
    json!({
        "event_name": attempt.event_name,
        "status": attempt.status,
        "response_status_code": attempt.response_status_code,
        "error": attempt.error,
    })
}

/// Sends a `ping` event once (no retries, whatever the webhook's status), and answers how it went.
async fn ping(State(sim): Sim, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = find(&sim, &headers, WRITE, &id) {
        return e;
    }
    match sim.hooks.send_once(&id, "ping", json!({})).await {
        Some(attempt) => json_ok(&attempt_answer(&attempt)),
        None => not_found(),
    }
}

/// Sends one sample event (`{"event_name": ...}`, default the webhook's first enabled event) with a
/// made-up resource id, once, and answers how it went.
async fn test_event(
    State(sim): Sim,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let webhook = match find(&sim, &headers, WRITE, &id) {
        Ok(w) => w,
        Err(e) => return e,
    };
    let body = match optional_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let name = match body.get("event_name") {
        None | Some(Value::Null) => webhook.enabled_events.first().cloned().unwrap_or_default(),
        Some(Value::String(n)) if KNOWN_EVENTS.contains(&n.as_str()) => n.clone(),
        Some(_) => return bad_request("Invalid event_name field."),
    };
    match sim
        .hooks
        .send_once(&id, &name, json!({ "id": new_uuid() }))
        .await
    {
        Some(attempt) => json_ok(&attempt_answer(&attempt)),
        None => not_found(),
    }
}

// ----- /_sim/webhooks -----

/// The company id, knobs, registered webhooks (tokens left out), events and delivery attempts.
async fn control_get(State(sim): Sim) -> Response {
    let events: Vec<Value> = sim
        .hooks
        .all_events()
        .iter()
        .map(|e| {
            let mut value = to_value(e);
            value["webhook_id"] = json!(e.webhook_id);
            value
        })
        .collect();
    json_ok(&json!({
        "company_id": sim.hooks.company_id(),
        "knobs": sim.hooks.knobs(),
        "webhooks": sim.hooks.webhooks().iter().map(|w| render(w, &sim.base_url)).collect::<Vec<_>>(),
        "events": events,
        "attempts": sim.hooks.attempts(),
    }))
}

/// Changes any subset of the knobs; answers all of them.
async fn control_post(State(sim): Sim, body: Bytes) -> Response {
    match serde_json::from_slice::<KnobsPatch>(&body) {
        Ok(patch) => json_ok(&to_value(&sim.hooks.patch_knobs(patch))),
        Err(error) => bad_request(&format!("Invalid webhook knobs: {error}")),
    }
}
