//! Simulator of TimeTrack API v2 "ext" (`timetrack-api.md`): key/secret header auth, users,
//! attendances and absences with page_number/limit paging, soft deletes, the `errors[]` envelope and
//! fault injection. Served both at `/api/v2/ext/...` and at `/<account>/api/v2/ext/...` (the latter
//! answers 404 for any other account, like an unknown subdomain would).

pub mod model;
mod pinned;
mod routes;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::{lock, FaultRule};
use crate::seed::{Seed, TimeTrackSeed};
use crate::server::{self, Controls, RequestLogEntry, ServerHandle, SimulatedApi};

pub use pinned::StateGuard;
pub use state::TimeTrackState;

/// The ext root below the host (and below `/<account>` in the templated form).
pub const EXT_ROOT: &str = "/api/v2/ext";

#[derive(Clone, Debug)]
pub struct TimeTrackConfig {
    pub account: String,
    pub api_key: String,
    pub api_secret: String,
    /// Added to every request before it is answered.
    pub latency: Option<Duration>,
}

impl Default for TimeTrackConfig {
    fn default() -> Self {
        TimeTrackConfig {
            account: "acme".to_string(),
            api_key: "tt-sim-key".to_string(),
            api_secret: "tt-sim-secret".to_string(),
            latency: None,
        }
    }
}

pub(crate) struct TimeTrackShared {
    pub(crate) config: TimeTrackConfig,
    pub(crate) state: Mutex<TimeTrackState>,
    /// The records' generation and the listings pinned for it (`pinned.rs`).
    pub(crate) pins: pinned::Pins,
    seed: Mutex<TimeTrackSeed>,
    controls: Controls,
    /// The API secret after [`TimeTrackSim::regenerate_secret`]; `None` = the config's.
    regenerated_secret: Mutex<Option<String>>,
}

impl TimeTrackShared {
    /// The records; a mutable access drops the pinned listings (see [`StateGuard`]).
    pub(crate) fn state(&self) -> StateGuard<'_> {
        self.pins.guard(&self.state)
    }
}

/// A running TimeTrack simulator; dropping it shuts the server down.
pub struct TimeTrackSim {
    shared: Arc<TimeTrackShared>,
    server: ServerHandle,
}

impl TimeTrackSim {
    pub async fn start(config: TimeTrackConfig, seed: &Seed) -> anyhow::Result<TimeTrackSim> {
        TimeTrackSim::start_on(config, seed, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_on(
        config: TimeTrackConfig,
        seed: &Seed,
        addr: SocketAddr,
    ) -> anyhow::Result<TimeTrackSim> {
        let (listener, _) = server::bind(addr).await?;
        let shared = Arc::new(TimeTrackShared {
            config,
            state: Mutex::new(TimeTrackState::from_seed(&seed.timetrack)),
            pins: pinned::Pins::default(),
            seed: Mutex::new(seed.timetrack.clone()),
            controls: Controls::default(),
            regenerated_secret: Mutex::new(None),
        });
        let server = server::serve(listener, shared.clone(), routes::router())?;
        Ok(TimeTrackSim { shared, server })
    }

    /// `http://127.0.0.1:PORT/api/v2/ext`.
    pub fn base_url(&self) -> String {
        format!("http://{}{EXT_ROOT}", self.server.addr)
    }

    /// `http://127.0.0.1:PORT/{account}/api/v2/ext`, with `{account}` literally, for clients that
    /// substitute the account like in `https://{account}.timetrackenterprise.com/api/v2/ext`.
    pub fn base_url_template(&self) -> String {
        format!("http://{}/{{account}}{EXT_ROOT}", self.server.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    pub fn inject(&self, rule: FaultRule) {
        self.shared.controls.inject(rule);
    }

    /// Every request answered so far (control API excluded), oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.controls.requests()
    }

    pub fn clear_requests(&self) {
        self.shared.controls.clear_requests();
    }

    /// The records, for tests to read and change directly (a change is seen by the next request).
    pub fn state(&self) -> StateGuard<'_> {
        self.shared.state()
    }

    /// How many requests a fault rule fired on so far.
    pub fn faults_fired(&self) -> u32 {
        self.shared.controls.faults_fired()
    }

    /// Forgets the pending fault rules (records and the request log stay).
    pub fn clear_faults(&self) {
        self.shared.controls.clear_faults();
    }

    /// How many requests were applied and then had their answer lost or rewritten by a fault.
    pub fn applied_with_fault(&self) -> u32 {
        self.shared.controls.applied_with_fault()
    }

    /// An admin regenerates the API secret: from now on only `secret` is accepted (the old one 401s).
    pub fn regenerate_secret(&self, secret: &str) {
        *lock(&self.shared.regenerated_secret) = Some(secret.to_string());
    }
}

/// The `errors[]` envelope TimeTrack answers errors with.
pub(crate) fn error(status: u16, code: u32, title: &str, detail: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body =
        json!({ "errors": [{ "title": title, "status": status, "code": code, "detail": detail }] });
    (
        status_code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Error codes the simulator uses (only 15020 is documented; the others are the simulator's own).
pub(crate) mod codes {
    pub(crate) const UNAUTHORIZED: u32 = 10_001;
    pub(crate) const VALIDATION: u32 = 10_002;
    pub(crate) const NOT_FOUND: u32 = 10_004;
    pub(crate) const DUPLICATE: u32 = 10_009;
    pub(crate) const NOT_UPDATABLE: u32 = 10_010;
    pub(crate) const SERVER: u32 = 10_500;
    /// Documented: "TimeEntry exist but it is deleted".
    pub(crate) const TIME_ENTRY_DELETED: u32 = 15_020;
    pub(crate) const ABSENCE_DELETED: u32 = 16_020;
}

fn fault_error(status: u16) -> Response {
    let title = match status {
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Error",
    };
    error(status, codes::SERVER, title, "Injected fault.")
}

/// Splits a request path into its ext-relative part, or an error for another account / a non-API path.
fn api_path(path: &str, account: &str) -> Result<String, Response> {
    if let Some(rest) = path.strip_prefix(EXT_ROOT) {
        return Ok(rest.to_string());
    }
    let trimmed = path.trim_start_matches('/');
    if let Some((first, rest)) = trimmed.split_once('/') {
        if let Some(api) = format!("/{rest}").strip_prefix(EXT_ROOT) {
            if first != account {
                return Err(error(
                    404,
                    codes::NOT_FOUND,
                    "Not Found",
                    "Unknown account.",
                ));
            }
            return Ok(api.to_string());
        }
    }
    Ok(path.to_string())
}

fn authorized(headers: &HeaderMap, config: &TimeTrackConfig, secret: Option<&str>) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-timetrack-api-key") == Some(config.api_key.as_str())
        && header("x-timetrack-api-secret") == Some(secret.unwrap_or(config.api_secret.as_str()))
}

/// TimeTrack's part of the shared edge ([`server::SimulatedApi`]): the `errors[]` envelope, account
/// routing (the ext root, alone or below `/<account>`) and the key/secret check.
impl SimulatedApi for TimeTrackShared {
    fn controls(&self) -> &Controls {
        &self.controls
    }

    fn latency(&self) -> Option<Duration> {
        self.config.latency
    }

    fn api_path(&self, path: &str) -> Result<String, Response> {
        api_path(path, &self.config.account)
    }

    fn fault_answer(&self, status: u16, _api_path: &str) -> Response {
        fault_error(status)
    }

    async fn admit(&self, request: Request, next: Next) -> Response {
        let secret = lock(&self.regenerated_secret).clone();
        if !authorized(request.headers(), &self.config, secret.as_deref()) {
            return error(
                401,
                codes::UNAUTHORIZED,
                "Unauthorized",
                "Missing or invalid X-TimeTrack-Api-Key / X-TimeTrack-Api-Secret.",
            );
        }
        next.run(request).await
    }

    fn bad_request(&self, detail: &str) -> Response {
        error(400, codes::VALIDATION, "Bad Request", detail)
    }

    fn state_json(&self) -> serde_json::Value {
        json!({ "timetrack": self.state().to_seed() })
    }

    fn reset_records(&self) {
        let seed = lock(&self.seed).clone();
        *self.state() = TimeTrackState::from_seed(&seed);
    }
}
