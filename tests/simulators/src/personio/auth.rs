//! `POST /v2/auth/token` (OAuth2 client credentials, form-encoded only), `POST /v2/auth/revoke`, and
//! the bearer check every other `/v2` route applies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::json;

use super::wire::{problem, token_error, with_json_body};
use super::PersonioShared;
use crate::faults::lock;

/// The scopes a simulated credential holds (all of them, as when `scope` is omitted).
const SCOPES: &[&str] = &[
    "personio:persons:read",
    "personio:persons:write",
    "personio:attendances:read",
    "personio:attendances:write",
    "personio:absences:read",
    "personio:absences:write",
    "personio:webhooks:read",
    "personio:webhooks:write",
];

/// An issued token: when it expires and the scopes it was granted.
#[derive(Debug)]
struct Grant {
    expiry: Instant,
    scopes: Vec<String>,
}

/// Issued tokens, when they expire and their scopes.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    tokens: Mutex<HashMap<String, Grant>>,
    /// Every token ever issued, revoked ones included (for leak checks).
    issued: Mutex<Vec<String>>,
}

impl TokenStore {
    fn issue(&self, ttl: std::time::Duration, scope: &str) -> String {
        let token = format!("papi-{}", Alphanumeric.sample_string(&mut rand::rng(), 48));
        let grant = Grant {
            expiry: Instant::now() + ttl,
            scopes: scope.split_whitespace().map(str::to_string).collect(),
        };
        lock(&self.tokens).insert(token.clone(), grant);
        lock(&self.issued).push(token.clone());
        token
    }

    pub(crate) fn issued(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub(crate) fn revoke_all(&self) {
        lock(&self.tokens).clear();
    }

    fn revoke(&self, token: &str) {
        lock(&self.tokens).remove(token);
    }

    /// Ok when the request carries a known, unexpired bearer token; else the 401 problem response.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), Response> {
        let presented = bearer(headers);
        let Some(token) = presented else {
            return Err(unauthorized(
                "The request is missing a bearer access token.",
            ));
        };
        match lock(&self.tokens).get(token) {
            Some(grant) if grant.expiry > Instant::now() => Ok(()),
            Some(_) => Err(unauthorized("The access token has expired.")),
            None => Err(unauthorized(
                "The access token is invalid or has been revoked.",
            )),
        }
    }

    /// Ok when the request's (already checked) token was granted `scope`; else 403 problem+json.
    /// Applied by the webhook routes (`personio:webhooks:read` / `:write`).
    pub(crate) fn require_scope(&self, headers: &HeaderMap, scope: &str) -> Result<(), Response> {
        let granted = bearer(headers).is_some_and(|token| {
            lock(&self.tokens)
                .get(token)
                .is_some_and(|g| g.scopes.iter().any(|s| s == scope))
        });
        if granted {
            Ok(())
        } else {
            Err(problem(
                403,
                "Forbidden",
                &format!("The access token lacks the scope {scope}."),
            ))
        }
    }
}

/// The bearer token a request presents, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

fn unauthorized(detail: &str) -> Response {
    problem(401, "Unauthorized", detail)
}

/// Which paths need a bearer token: every `/v2` route except the token endpoints themselves.
pub(crate) fn needs_bearer(path: &str) -> bool {
    path.starts_with("/v2/") && !path.starts_with("/v2/auth/")
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

pub(crate) async fn token(
    State(sim): State<Arc<PersonioShared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_form(&headers) {
        return token_error(
            "invalid_request",
            "The content type of the request must be \"application/x-www-form-urlencoded\".",
            json!({}),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty());
    let missing: Vec<&str> = ["grant_type", "client_id", "client_secret"]
        .into_iter()
        .filter(|name| field(name).is_none())
        .collect();
    if !missing.is_empty() {
        return token_error(
            "invalid_request",
            "The request is missing required parameters.",
            json!({ "missing_parameters": missing }),
        );
    }
    let grant_type = field("grant_type").map_or("", String::as_str);
    if grant_type == "urn:ietf:params:oauth:grant-type:device_code" {
        return token_error(
            "unsupported_grant_type",
            "The grant type is not supported.",
            json!({ "grant_type": grant_type }),
        );
    }
    if grant_type != "client_credentials" {
        return token_error(
            "invalid_grant",
            "The provided grant type is invalid.",
            json!({}),
        );
    }
    if field("client_id").map(String::as_str) != Some(sim.config.client_id.as_str()) {
        return token_error("invalid_client", "Client authentication failed.", json!({}));
    }
    if field("client_secret").map(String::as_str) != Some(sim.config.client_secret.as_str()) {
        return token_error(
            "unauthorized_client",
            "The credentials were not correct or the client is not allowed to use the specified grant type flow.",
            json!({}),
        );
    }
    let scope = match field("scope") {
        None => SCOPES.join(" "),
        Some(requested) => {
            if requested.split_whitespace().any(|s| !SCOPES.contains(&s)) {
                return token_error(
                    "invalid_scope",
                    "One of the requested scopes is invalid.",
                    json!({}),
                );
            }
            requested.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    let access_token = sim.tokens.issue(sim.config.token_ttl, &scope);
    with_json_body(
        200,
        "application/json",
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": sim.config.token_ttl.as_secs(),
            "scope": scope,
        }),
    )
}

pub(crate) async fn revoke(State(sim): State<Arc<PersonioShared>>, body: Bytes) -> Response {
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    match token {
        Some(token) => {
            sim.tokens.revoke(&token);
            with_json_body(200, "application/json", &json!({}))
        }
        None => token_error(
            "invalid_request",
            "The request is missing required parameters.",
            json!({ "missing_parameters": ["token"] }),
        ),
    }
}
