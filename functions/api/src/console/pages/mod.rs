//! The console's pages, one module per page. Each handler reads and writes through the JSON API
//! ([`ApiClient`]) and renders HTML with `maud`; the page context ([`Ctx`]) gives it the session, the
//! integration and its time zone.
pub mod absence_types;
pub mod connect;
pub mod employees;
pub mod layout;
pub mod parked;
pub mod plan;
pub mod runs;
pub mod schedules;
pub mod settings;
pub mod signin;
pub mod sync;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use maud::html;
use serde_json::Value;
use shared::domain::IntegrationId;
use shared::service::Problem;

use super::api_client::ApiClient;
use super::auth::Role;
use super::session::Session;
use super::Console;
use layout::{Frame, Nav};

/// What every integration page works with.
pub struct Ctx {
    pub session: Session,
    pub integration: IntegrationId,
    pub integrations: Vec<IntegrationId>,
    pub api: ApiClient,
    /// The integration's settings as the API answers them (a new integration has none yet).
    pub settings: Result<Value, Problem>,
    pub tz: TimeZone,
}

impl Ctx {
    pub fn frame(&self, active: Nav) -> Frame<'_> {
        Frame {
            session: &self.session,
            integration: &self.integration,
            integrations: &self.integrations,
            active,
            tz: self.tz.clone(),
        }
    }

    /// The JSON API path `/integrations/{id}{rest}`.
    pub fn api_path(&self, rest: &str) -> String {
        format!("/integrations/{}{rest}", self.integration)
    }

    /// The console path `/console/{id}{rest}`.
    pub fn page_path(&self, rest: &str) -> String {
        format!("/console/{}{rest}", self.integration)
    }

    /// The 403 page when the user lacks `role` (`None`: allowed). Handlers check this before they read
    /// or change anything.
    pub fn refusal(&self, role: Role, active: Nav, what: &str) -> Option<Response> {
        if self.session.identity.may(role) {
            return None;
        }
        let frame = self.frame(active);
        Some(layout::page_with_status(
            StatusCode::FORBIDDEN,
            &frame,
            "Not allowed",
            html! {
                div class="problem" role="alert" {
                    p { strong { "You may not " (what) "." } }
                    p {
                        "This needs the " strong { (role.label()) } " role (Cognito group "
                        code { (role.group()) } "); you are signed in as "
                        (self.session.identity.role.map(|r| r.label()).unwrap_or("a user without a console role"))
                        ". Nothing was changed."
                    }
                }
                p { a href=(frame.href(Nav::Runs)) { "Back to the runs" } }
            },
        ))
    }
}

impl FromRequestParts<Console> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let session = parts.extensions.get::<Session>().cloned().ok_or_else(|| {
            layout::status_page(
                StatusCode::UNAUTHORIZED,
                "Not signed in",
                "Sign in to use the console.",
            )
        })?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, console)
            .await
            .map_err(|_| not_found("This address names no integration."))?;
        let integration = params
            .get("integration")
            .and_then(|raw| IntegrationId::new(raw.clone()).ok())
            .ok_or_else(|| not_found("This address does not name a valid integration."))?;
        let lambda = parts.extensions.get::<lambda_http::Context>().cloned();
        let api = console.api(lambda);
        let settings = api
            .get(&format!("/integrations/{integration}/settings"))
            .await;
        let tz = settings
            .as_ref()
            .ok()
            .and_then(|s| s.get("time_zone"))
            .and_then(Value::as_str)
            .and_then(|z| TimeZone::get(z).ok())
            .unwrap_or(TimeZone::UTC);
        let mut integrations = console.integrations.clone();
        if !integrations.contains(&integration) {
            integrations.push(integration.clone());
        }
        Ok(Self {
            session,
            integration,
            integrations,
            api,
            settings,
            tz,
        })
    }
}

pub fn not_found(message: &str) -> Response {
    layout::status_page(StatusCode::NOT_FOUND, "Not found", message)
}

/// A string field of a JSON object (empty when absent).
pub fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A JSON value as plain text: strings without quotes, null as empty.
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether an answer is a problem of `status` (e.g. 404 `unknown-integration` on a new integration).
pub fn is_status<T>(r: &Result<T, Problem>, status: u16) -> bool {
    matches!(r, Err(p) if p.status == status)
}

/// Redirects after a successful `POST` (303: the browser follows with a `GET`).
pub fn see_other(location: &str) -> Response {
    axum::response::Redirect::to(location).into_response()
}
