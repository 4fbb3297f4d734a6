//! Simulator of Personio API v2 (`personio-api-v2.md`): OAuth2 client-credentials tokens, persons and
//! employments, attendance periods, absence types and absence periods, with cursor paging, the
//! documented validation errors, per-endpoint token-bucket rate limiting and fault injection.

mod auth;
pub mod model;
mod ratelimit;
mod routes;
pub mod state;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;

use crate::faults::{lock, Fault, FaultQueue, FaultRule};
use crate::seed::{PersonioSeed, Seed};
use crate::server::{self, RequestLog, RequestLogEntry, ServerHandle};

pub use ratelimit::RateLimit;
pub use state::{PersonioRules, PersonioState, WriteError};

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
    /// Added to every request before it is answered.
    pub latency: Option<Duration>,
    /// IANA zone of the company's local wall-clock times.
    pub company_time_zone: String,
}

impl Default for PersonioConfig {
    fn default() -> Self {
        PersonioConfig {
            client_id: "papi-sim-client-id".to_string(),
            client_secret: "papi-sim-client-secret".to_string(),
            token_ttl: Duration::from_secs(86_400),
            rate_limit: None,
            latency: None,
            company_time_zone: "Europe/Berlin".to_string(),
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
    faults: FaultQueue,
    log: RequestLog,
    buckets: ratelimit::Buckets,
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
        let shared = Arc::new(PersonioShared {
            state: Mutex::new(PersonioState::from_seed(
                &seed.personio,
                &config.company_time_zone,
            )),
            seed: Mutex::new(seed.personio.clone()),
            buckets: ratelimit::Buckets::new(config.rate_limit),
            tokens: auth::TokenStore::default(),
            faults: FaultQueue::default(),
            log: RequestLog::default(),
            base_url,
            config,
        });
        let router = routes::router()
            .merge(control_routes())
            .layer(axum::middleware::from_fn_with_state(shared.clone(), edge))
            .with_state(shared.clone());
        let server = server::spawn(listener, router)?;
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
        self.shared.faults.push(rule);
    }

    /// Every request answered so far (control API calls excluded), oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.log.snapshot()
    }

    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// The records, to inspect or change directly.
    pub fn state(&self) -> MutexGuard<'_, PersonioState> {
        self.shared.state()
    }

    /// Every token issued so far answers 401 from now on; clients must fetch a new one.
    pub fn revoke_tokens(&self) {
        self.shared.tokens.revoke_all();
    }
}

/// What wraps every request: the request log, then fault rules, rate limiting, latency and the bearer
/// check. The control API (`/_sim/...`) bypasses all of it.
async fn edge(State(sim): State<Arc<PersonioShared>>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    if path.starts_with("/_sim/") {
        return next.run(request).await;
    }
    let query = request.uri().query().map(str::to_string);
    let connection = server::connection_of(&request);
    let response = async {
        if let Some(latency) = sim.config.latency {
            tokio::time::sleep(latency).await;
        }
        match sim.faults.take(&method, &path) {
            Some(Fault::Status(code)) => {
                let mut response = wire::gateway_error(code);
                if code == 429 {
                    sim.buckets
                        .add_exhausted_headers(&path, response.headers_mut());
                }
                return response;
            }
            Some(Fault::Hang(duration)) => tokio::time::sleep(duration).await,
            Some(Fault::DropConnection) => {
                if let Some(connection) = &connection {
                    connection.kill();
                }
                return wire::gateway_error(500);
            }
            None => {}
        }
        let headers = match sim.buckets.take(&path) {
            Ok(headers) => headers,
            Err(mut too_many) => {
                let mut response = wire::gateway_error(429);
                response.headers_mut().extend(too_many.drain());
                return response;
            }
        };
        let mut response = if auth::needs_bearer(&path) {
            match sim.tokens.check(request.headers()) {
                Ok(()) => next.run(request).await,
                Err(response) => response,
            }
        } else {
            next.run(request).await
        };
        response.headers_mut().extend(headers);
        response
    }
    .await;
    let dropped = connection.is_some_and(|c| c.is_killed());
    sim.log.record(RequestLogEntry {
        method,
        api_path: path.clone(),
        path,
        query,
        status: if dropped {
            0
        } else {
            response.status().as_u16()
        },
    });
    response
}

fn control_routes() -> Router<Arc<PersonioShared>> {
    use axum::routing::{get, post};
    Router::new()
        .route("/_sim/state", get(control_state))
        .route("/_sim/requests", get(control_requests))
        .route("/_sim/faults", post(control_fault))
        .route("/_sim/reset", post(control_reset))
}

async fn control_state(State(sim): State<Arc<PersonioShared>>) -> Response {
    let seed = sim.state().to_seed();
    wire::json_ok(&serde_json::json!({ "personio": seed }))
}

async fn control_requests(State(sim): State<Arc<PersonioShared>>) -> Response {
    wire::json_ok(&serde_json::json!(sim.log.snapshot()))
}

async fn control_fault(
    State(sim): State<Arc<PersonioShared>>,
    body: axum::body::Bytes,
) -> Response {
    match serde_json::from_slice::<FaultRule>(&body) {
        Ok(rule) => {
            sim.faults.push(rule);
            wire::no_content()
        }
        Err(error) => wire::bad_request(&format!("Invalid fault rule: {error}")),
    }
}

/// Restores the seed records, forgets faults, the request log and rate-limit buckets (tokens stay valid).
async fn control_reset(State(sim): State<Arc<PersonioShared>>) -> Response {
    let seed = lock(&sim.seed).clone();
    *sim.state() = PersonioState::from_seed(&seed, &sim.config.company_time_zone);
    sim.faults.clear();
    sim.log.clear();
    sim.buckets.reset();
    wire::no_content()
}
