//! The web console for HR and operations staff: server-rendered pages under `/console`, served by the
//! api function on the same origin as the API, behind a Cognito sign-in (see docs/console.md).
//!
//! - [`auth`]: verification of the Cognito ID token (JWKS, issuer, client, `token_use`, expiry,
//!   groups → [`Role`]).
//! - [`signin`]: `InitiateAuth` / the new-password challenge / refresh against the user pool.
//! - [`session`]: cookies, the CSRF check, the middleware in front of every page.
//! - [`api_client`]: the JSON API's router called in-process — the console has no logic of its own.
//! - [`pages`]: one module per page.
pub mod api_client;
pub mod auth;
pub mod pages;
pub mod session;
pub mod signin;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use shared::domain::IntegrationId;
use shared::engine::Clock;

pub use auth::{CognitoPool, Identity, Role, TokenVerifier};
pub use signin::CognitoSignIn;

use api_client::ApiClient;
use pages::layout;

/// Environment variables of the console (all three unset: no console).
pub const ENV_POOL_ID: &str = "COGNITO_USER_POOL_ID";
pub const ENV_CLIENT_ID: &str = "COGNITO_CLIENT_ID";
/// Comma-separated integration ids the switcher offers (the first one opens by default).
pub const ENV_INTEGRATIONS: &str = "CONSOLE_INTEGRATIONS";

/// The console's state: sign-in, token verification, the integrations it offers, and the JSON API
/// router it calls (set by [`with_console`]).
#[derive(Clone)]
pub struct Console {
    pub verifier: TokenVerifier,
    pub signin: CognitoSignIn,
    pub integrations: Vec<IntegrationId>,
    api: Option<Router>,
}

/// Why the console could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleConfigError {
    #[error("{ENV_POOL_ID} is set but {ENV_CLIENT_ID} is not (or the other way round)")]
    Incomplete,
    #[error("{ENV_INTEGRATIONS}: {0}")]
    Integrations(String),
}

impl Console {
    pub fn new(
        verifier: TokenVerifier,
        signin: CognitoSignIn,
        integrations: Vec<IntegrationId>,
    ) -> Self {
        Self {
            verifier,
            signin,
            integrations,
            api: None,
        }
    }

    /// The console configured from the environment ([`ENV_POOL_ID`], [`ENV_CLIENT_ID`],
    /// [`ENV_INTEGRATIONS`]; `AWS_ENDPOINT_URL` for the local key set); `Ok(None)` when no user pool
    /// is configured.
    pub fn from_env(
        aws: &aws_config::SdkConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Option<Self>, ConsoleConfigError> {
        let pool = std::env::var(ENV_POOL_ID).ok().filter(|v| !v.is_empty());
        let client = std::env::var(ENV_CLIENT_ID).ok().filter(|v| !v.is_empty());
        let (pool, client) = match (pool, client) {
            (None, None) => return Ok(None),
            (Some(p), Some(c)) => (p, c),
            _ => return Err(ConsoleConfigError::Incomplete),
        };
        let integrations = parse_integrations(&std::env::var(ENV_INTEGRATIONS).unwrap_or_default())
            .map_err(ConsoleConfigError::Integrations)?;
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
        let verifier = TokenVerifier::new(
            CognitoPool::new(&pool, &client, endpoint.as_deref()),
            reqwest::Client::new(),
            clock,
        );
        let signin = CognitoSignIn::new(aws_sdk_cognitoidentityprovider::Client::new(aws), client);
        Ok(Some(Self::new(verifier, signin, integrations)))
    }

    /// The JSON API for one console request.
    pub fn api(&self, lambda: Option<lambda_http::Context>) -> ApiClient {
        ApiClient::new(self.api.clone().unwrap_or_default(), lambda)
    }
}

/// `a, b` → the integration ids `a` and `b`.
pub fn parse_integrations(list: &str) -> Result<Vec<IntegrationId>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| IntegrationId::new(s.to_string()).map_err(|e| e.to_string()))
        .collect()
}

/// `api` (the JSON API router) with the console mounted under `/console`. The console calls `api`
/// in-process for everything it shows or changes.
pub fn with_console(api: Router, mut console: Console) -> Router {
    console.api = Some(api.clone());
    Router::new()
        .nest("/console", console_router(console))
        .merge(api)
}

fn console_router(console: Console) -> Router {
    use pages::*;
    let protected = Router::new()
        .route("/switch", get(switch))
        .route("/sign-out", post(signin::sign_out))
        .route("/{integration}", get(integration_home))
        .route("/{integration}/runs", get(runs::list))
        .route("/{integration}/runs/{run_id}", get(runs::detail))
        .route("/{integration}/sync", get(sync::form).post(sync::submit))
        .route("/{integration}/parked", get(parked::list))
        .route(
            "/{integration}/parked/{kind}/{mapping_id}/release",
            post(parked::release),
        )
        .route(
            "/{integration}/connect",
            get(connect::form).post(connect::store),
        )
        .route("/{integration}/connect/check", post(connect::check))
        .route(
            "/{integration}/employees",
            get(employees::list).post(employees::submit),
        )
        .route(
            "/{integration}/absence-types",
            get(absence_types::page).post(absence_types::save),
        )
        .route(
            "/{integration}/settings",
            get(settings::form).post(settings::save),
        )
        .route(
            "/{integration}/schedules",
            get(schedules::page).post(schedules::save),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            console.clone(),
            session::require_session,
        ));
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(signin::sign_in_form).post(signin::sign_in))
        .route("/new-password", post(signin::new_password))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .merge(protected)
        .fallback(|| async { pages::not_found("There is no console page at this address.") })
        .with_state(console)
}

/// `/console`: the first integration's runs (or the sign-in, which the runs page redirects to).
async fn home(State(console): State<Console>) -> Response {
    match console.integrations.first() {
        Some(id) => pages::see_other(&format!("/console/{id}/runs")),
        None => layout::status_page(
            StatusCode::NOT_FOUND,
            "No integration configured",
            "The console offers the integrations listed in CONSOLE_INTEGRATIONS; none is set.",
        ),
    }
}

async fn integration_home(ctx: pages::Ctx) -> Response {
    pages::see_other(&ctx.page_path("/runs"))
}

#[derive(Deserialize)]
struct SwitchQuery {
    integration: String,
}

/// The integration switcher's target.
async fn switch(Query(q): Query<SwitchQuery>) -> Response {
    match IntegrationId::new(q.integration) {
        Ok(id) => pages::see_other(&format!("/console/{id}/runs")),
        Err(_) => pages::not_found("That is not a valid integration id."),
    }
}

async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    )
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/console.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integration_list_is_comma_separated_and_validated() {
        let ids = parse_integrations(" acme, beta ,").unwrap();
        assert_eq!(
            ids.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
            ["acme", "beta"]
        );
        assert!(parse_integrations("").unwrap().is_empty());
        assert!(parse_integrations("not valid/id").is_err());
    }
}
