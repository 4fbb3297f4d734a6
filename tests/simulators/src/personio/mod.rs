//! Simulator of Personio API v2 (`personio-api-v2.md`): OAuth2 client-credentials tokens, persons and
//! employments, attendance periods, absence types and absence periods, with cursor paging, the
//! documented validation errors, per-endpoint token-bucket rate limiting and fault injection; and
//! webhooks (management API, dataless events on every change, delivery with Personio's retry rule).

mod auth;
pub mod model;
mod ratelimit;
mod routes;
pub mod state;
mod webhook_routes;
pub mod webhooks;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::faults::{lock, FaultRule};
use crate::seed::{PersonioSeed, Seed};
use crate::server::{self, Controls, RequestLogEntry, ServerHandle, SimulatedApi};

pub use ratelimit::RateLimit;
pub use state::{PersonioRules, PersonioState, WriteError};
pub use webhooks::{
    AttemptOutcome, AuthType, DeliveryAttempt, DeliveryStatus, Webhook, WebhookConfig,
    WebhookControl, WebhookEnvelope, WebhookEvent, WebhookKnobs, WebhookStatus,
};

/// How the simulated Personio account behaves.
#[derive(Clone, Debug)]
pub struct PersonioConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of issued access tokens (`expires_in`).
    pub token_ttl: Duration,
    /// Token bucket applied per endpoint (`/v2/persons`, `/v2/attendance-periods`, ...); `None` = unlimited
    /// and no `x-ratelimit-*` headers.
    pub rate_limit: Option<RateLimit>,
    /// Per-endpoint limits that replace `rate_limit` for their endpoint (keys as `/v2/persons`); see
    /// [`RateLimit::observed_per_endpoint`] for the ones seen live.
    pub endpoint_rate_limits: BTreeMap<String, RateLimit>,
    /// Added to every request before it is answered.
    pub latency: Option<Duration>,
    /// IANA zone of the company's local wall-clock times.
    pub company_time_zone: String,
    /// The `company_id` webhook events carry.
    pub company_id: String,
    /// Webhook delivery: timeout, retry delays, attempts and the initial knobs.
    pub webhooks: WebhookConfig,
}

impl Default for PersonioConfig {
    fn default() -> Self {
        PersonioConfig {
            client_id: "papi-sim-client-id".to_string(),
            client_secret: "papi-sim-client-secret".to_string(),
            token_ttl: Duration::from_secs(86_400),
            rate_limit: None,
            endpoint_rate_limits: BTreeMap::new(),
            latency: None,
            company_time_zone: "Europe/Berlin".to_string(),
            company_id: "112233".to_string(),
            webhooks: WebhookConfig::default(),
        }
    }
}

/// Everything the request handlers share.
pub(crate) struct PersonioShared {
    pub(crate) config: PersonioConfig,
    /// `http://127.0.0.1:PORT`, for absolute links.
    pub(crate) base_url: String,
    pub(crate) state: Mutex<PersonioState>,
    seed: Mutex<PersonioSeed>,
    pub(crate) tokens: auth::TokenStore,
    controls: Controls,
    buckets: ratelimit::Buckets,
    pub(crate) hooks: Arc<webhooks::WebhookHub>,
}

impl PersonioShared {
    pub(crate) fn state(&self) -> MutexGuard<'_, PersonioState> {
        lock(&self.state)
    }
}

/// A running Personio simulator; dropping it shuts the server down.
pub struct PersonioSim {
    shared: Arc<PersonioShared>,
    server: ServerHandle,
}

impl PersonioSim {
    /// Serves on a free port of 127.0.0.1.
    pub async fn start(config: PersonioConfig, seed: &Seed) -> anyhow::Result<PersonioSim> {
        PersonioSim::start_on(config, seed, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on a given address (the demo binary uses fixed ports).
    pub async fn start_on(
        config: PersonioConfig,
        seed: &Seed,
        addr: SocketAddr,
    ) -> anyhow::Result<PersonioSim> {
        jiff::tz::TimeZone::get(&config.company_time_zone)?;
        let (listener, local) = server::bind(addr).await?;
        let base_url = format!("http://{local}");
        let hooks = Arc::new(webhooks::WebhookHub::new(
            config.webhooks.clone(),
            config.company_id.clone(),
        )?);
        let shared = Arc::new(PersonioShared {
            state: Mutex::new(PersonioState::from_seed(
                &seed.personio,
                &config.company_time_zone,
                webhooks::EventSink(Some(hooks.clone())),
            )),
            hooks,
            seed: Mutex::new(seed.personio.clone()),
            buckets: ratelimit::Buckets::new(
                config.rate_limit,
                config.endpoint_rate_limits.clone(),
            ),
            tokens: auth::TokenStore::default(),
            controls: Controls::default(),
            base_url,
            config,
        });
        let server = server::serve(listener, shared.clone(), routes::router())?;
        Ok(PersonioSim { shared, server })
    }

    /// `http://127.0.0.1:PORT`; clients append `/v2/...`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Queues a fault rule.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.controls.inject(rule);
    }

    /// Every request answered so far (control API calls excluded), oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.controls.requests()
    }

    pub fn clear_requests(&self) {
        self.shared.controls.clear_requests();
    }

    /// The records, to inspect or change directly.
    pub fn state(&self) -> MutexGuard<'_, PersonioState> {
        self.shared.state()
    }

    /// Every access token issued so far (revoked and expired ones included), for leak checks.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.tokens.issued()
    }

    /// The webhooks: registered ones, recorded events, delivery attempts, knobs and wait helpers.
    pub fn webhooks(&self) -> WebhookControl {
        WebhookControl {
            hub: self.shared.hooks.clone(),
        }
    }

    /// The `company_id` every webhook event carries.
    pub fn company_id(&self) -> String {
        self.shared.config.company_id.clone()
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

    /// Every token issued so far answers 401 from now on; clients must fetch a new one.
    pub fn revoke_tokens(&self) {
        self.shared.tokens.revoke_all();
    }
}

/// Stopping the simulator also ends its webhook delivery queues (their tasks would otherwise wait for
/// events that can no longer come).
impl Drop for PersonioSim {
    fn drop(&mut self) {
        self.shared.hooks.reset();
    }
}

/// Personio's part of the shared edge ([`server::SimulatedApi`]): problem+json errors (with rate-limit
/// headers on a 429), the per-endpoint token buckets and the bearer check. The control API reset
/// restores the seed records and the rate-limit buckets; issued tokens stay valid.
impl SimulatedApi for PersonioShared {
    fn controls(&self) -> &Controls {
        &self.controls
    }

    fn latency(&self) -> Option<Duration> {
        self.config.latency
    }

    /// Personio is served at the host root: the whole path is the API path.
    fn api_path(&self, path: &str) -> Result<String, Response> {
        Ok(path.to_string())
    }

    fn fault_answer(&self, status: u16, api_path: &str) -> Response {
        let mut response = wire::gateway_error(status);
        if status == 429 {
            self.buckets
                .add_exhausted_headers(api_path, response.headers_mut());
        }
        response
    }

    async fn admit(&self, request: Request, next: Next) -> Response {
        let path = request.uri().path().to_string();
        let headers = match self.buckets.take(&path) {
            Ok(headers) => headers,
            Err(mut too_many) => {
                let mut response = wire::gateway_error(429);
                response.headers_mut().extend(too_many.drain());
                return response;
            }
        };
        let mut response = if auth::needs_bearer(&path) {
            match self.tokens.check(request.headers()) {
                Ok(()) => next.run(request).await,
                Err(response) => response,
            }
        } else {
            next.run(request).await
        };
        response.headers_mut().extend(headers);
        response
    }

    fn bad_request(&self, detail: &str) -> Response {
        wire::bad_request(detail)
    }

    fn state_json(&self) -> serde_json::Value {
        serde_json::json!({ "personio": self.state().to_seed() })
    }

    fn reset_records(&self) {
        let seed = lock(&self.seed).clone();
        self.hooks.reset();
        *self.state() = PersonioState::from_seed(
            &seed,
            &self.config.company_time_zone,
            webhooks::EventSink(Some(self.hooks.clone())),
        );
        self.buckets.reset();
    }
}
