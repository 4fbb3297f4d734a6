//! The HTTP plumbing both simulators share: a TCP listener whose connections a handler can kill
//! (so [`crate::Fault::DropConnection`] makes the client see a real connection error, not an HTTP
//! status), the request log, a server handle that stops serving when dropped, and the request edge
//! and `/_sim/` control API that wrap every simulated API the same way ([`SimulatedApi`], [`serve`]).
//!
//! What differs between the APIs (their error shapes, rate limiting, authentication, which part of the
//! path fault rules match) is asked of the API through [`SimulatedApi`]; the order of the steps is here
//! once, so both simulators log, fault and delay requests identically.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use axum::Router;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::faults::{lock, Fault, FaultQueue, FaultRule};

/// One request a simulator answered, for asserting paging, retries and write counts in tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestLogEntry {
    pub method: String,
    /// The path as received (for TimeTrack including `/api/v2/ext` or `/<account>/api/v2/ext`).
    pub path: String,
    /// The path relative to the API root: equal to `path` for Personio, relative to the ext root for
    /// TimeTrack (`/users/5`). Fault rules match on this one.
    pub api_path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The status answered; `0` when the connection was dropped on purpose.
    pub status: u16,
}

/// Append-only request log.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<Vec<RequestLogEntry>>,
}

impl RequestLog {
    pub(crate) fn record(&self, entry: RequestLogEntry) {
        lock(&self.entries).push(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<RequestLogEntry> {
        lock(&self.entries).clone()
    }

    pub(crate) fn clear(&self) {
        lock(&self.entries).clear();
    }
}

/// Lets a request handler close its own TCP connection before any response byte is written.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionHandle {
    killed: Arc<AtomicBool>,
}

impl ConnectionHandle {
    /// After this, every read and write on the connection fails, so hyper drops it unanswered.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

/// A TCP listener whose accepted streams carry a kill switch.
pub(crate) struct KillableListener {
    inner: TcpListener,
}

/// A TCP stream that fails all I/O once its [`ConnectionHandle`] was killed.
pub(crate) struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

fn killed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by fault injection",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl axum::serve::Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((inner, addr)) => {
                    let _ = inner.set_nodelay(true);
                    let stream = KillableStream {
                        inner,
                        killed: Arc::new(AtomicBool::new(false)),
                    };
                    return (stream, addr);
                }
                // Transient accept errors (e.g. too many open files): back off briefly and retry.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnectionHandle {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        ConnectionHandle {
            killed: stream.io().killed.clone(),
        }
    }
}

/// A running server; dropping it stops accepting connections.
#[derive(Debug)]
pub(crate) struct ServerHandle {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `addr` (port 0 = any free port) and returns the listener, so the caller can learn the
/// address before building the router (absolute links need it).
pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves `router` on `listener` in a background task.
pub(crate) fn spawn(listener: TcpListener, router: Router) -> anyhow::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let listener = KillableListener { inner: listener };
    let service = router.into_make_service_with_connect_info::<ConnectionHandle>();
    let task = tokio::spawn(async move {
        // The server only ends when aborted; an I/O error here would be a bug worth a log line.
        if let Err(error) = axum::serve(listener, service).await {
            tracing::error!(%error, "simulator server stopped");
        }
    });
    Ok(ServerHandle { addr, task })
}

/// Reads the connection handle a request arrived on (present on every request served by [`spawn`]).
pub(crate) fn connection_of(request: &axum::extract::Request) -> Option<ConnectionHandle> {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<ConnectionHandle>>()
        .map(|info| info.0.clone())
}

/// What tests (directly or through `/_sim/`) steer and observe in one simulator: the queued fault
/// rules and the log of answered requests.
#[derive(Debug, Default)]
pub(crate) struct Controls {
    faults: FaultQueue,
    log: RequestLog,
    /// Requests applied whose answer a fault is now losing or rewriting: lets a test act at the
    /// moment write k took effect (e.g. kill the process that sent it while its answer is held).
    applied_with_fault: std::sync::atomic::AtomicU32,
    /// Requests a fault rule fired on (of any kind).
    fired: std::sync::atomic::AtomicU32,
}

impl Controls {
    pub(crate) fn inject(&self, rule: FaultRule) {
        self.faults.push(rule);
    }

    pub(crate) fn requests(&self) -> Vec<RequestLogEntry> {
        self.log.snapshot()
    }

    pub(crate) fn clear_requests(&self) {
        self.log.clear();
    }

    /// Forgets the pending fault rules (the request log stays).
    pub(crate) fn clear_faults(&self) {
        self.faults.clear();
    }

    /// How many requests a fault rule fired on so far.
    pub(crate) fn faults_fired(&self) -> u32 {
        self.fired.load(Ordering::SeqCst)
    }

    /// How many requests were applied with their answer then lost or rewritten by a fault.
    pub(crate) fn applied_with_fault(&self) -> u32 {
        self.applied_with_fault.load(Ordering::SeqCst)
    }

    /// Forgets pending faults and the request log (part of `/_sim/reset`).
    fn clear(&self) {
        self.faults.clear();
        self.log.clear();
    }
}

/// One simulated API as the shared edge and control API see it. Implemented by the state every
/// handler of that API shares.
pub(crate) trait SimulatedApi: Send + Sync + 'static {
    fn controls(&self) -> &Controls;

    /// Added to every API request before it is answered.
    fn latency(&self) -> Option<Duration>;

    /// The path relative to the API root, which fault rules match and the log records as `api_path`.
    /// `Err` is the answer for a request outside this API; it is given after faults had their turn.
    fn api_path(&self, path: &str) -> Result<String, Response>;

    /// The API's own error answer for a status a fault rule injects (also sent, as 500, on the
    /// connection a dropped-connection fault kills).
    fn fault_answer(&self, status: u16, api_path: &str) -> Response;

    /// Answers a request that got past faults: the API's own admission checks (rate limit,
    /// credentials), then `next`, the routes.
    fn admit(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send;

    /// The API's own 400 answer, for an unreadable fault rule posted to `/_sim/faults`.
    fn bad_request(&self, detail: &str) -> Response;

    /// The current records as `/_sim/state` shows them.
    fn state_json(&self) -> serde_json::Value;

    /// Restores the seed records and whatever else the API keeps between requests (`/_sim/reset`);
    /// faults and the request log are cleared by the caller.
    fn reset_records(&self);
}

/// Serves `api_routes` of `sim`, with the `/_sim/` control routes and the shared [`edge`], on
/// `listener` in a background task.
pub(crate) fn serve<A: SimulatedApi>(
    listener: TcpListener,
    sim: Arc<A>,
    api_routes: Router<Arc<A>>,
) -> anyhow::Result<ServerHandle> {
    let router = api_routes
        .merge(control_routes::<A>())
        .layer(axum::middleware::from_fn_with_state(sim.clone(), edge::<A>))
        .with_state(sim);
    spawn(listener, router)
}

/// What wraps every API request: latency, then fault rules, then the API's refusal of a path outside
/// it and its own admission, and finally the request log. The control API (`/_sim/...`) bypasses it.
async fn edge<A: SimulatedApi>(
    State(sim): State<Arc<A>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    if path.starts_with("/_sim/") {
        return next.run(request).await;
    }
    let query = request.uri().query().map(str::to_string);
    let connection = connection_of(&request);
    let relative = sim.api_path(&path);
    let api = relative
        .as_ref()
        .map_or_else(|_| path.clone(), Clone::clone);
    let self_href = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let response = async {
        if let Some(latency) = sim.latency() {
            tokio::time::sleep(latency).await;
        }
        let taken = sim.controls().faults.take(&method, &api);
        if taken.is_some() {
            sim.controls().fired.fetch_add(1, Ordering::SeqCst);
        }
        let after_apply = match taken {
            Some(fault) if fault.rewrites_answer() => Some(fault),
            Some(fault) => {
                if let Some(answer) = fire(sim.as_ref(), &fault, connection.as_ref(), &api).await {
                    return answer;
                }
                None
            }
            None => None,
        };
        if let Err(response) = relative {
            return response;
        }
        let applied = sim.admit(request, next).await;
        let Some(fault) = after_apply else {
            return applied;
        };
        sim.controls()
            .applied_with_fault
            .fetch_add(1, Ordering::SeqCst);
        match fault {
            // The request took effect; only its answer is lost.
            Fault::AfterApply(lost) => fire(sim.as_ref(), &lost, connection.as_ref(), &api)
                .await
                .unwrap_or(applied),
            rewrite => rewrite_answer(&rewrite, applied, &self_href).await,
        }
    }
    .await;
    let dropped = connection.is_some_and(|c| c.is_killed());
    sim.controls().log.record(RequestLogEntry {
        method,
        path,
        api_path: api,
        query,
        status: if dropped {
            0
        } else {
            response.status().as_u16()
        },
    });
    response
}

/// The applied request's answer with its body rewritten by a record fault ([`crate::faults::rewrite_body`]);
/// status and headers stay, except the length.
async fn rewrite_answer(fault: &Fault, answer: Response, self_href: &str) -> Response {
    let (mut parts, body) = answer.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "unreadable answer").into_response();
    };
    let rewritten = crate::faults::rewrite_body(fault, &bytes, self_href);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(rewritten))
}

/// Carries out a fault: `Some(answer)` replaces the API's answer; `None` (after a hang) lets it through.
async fn fire<A: SimulatedApi>(
    sim: &A,
    fault: &Fault,
    connection: Option<&ConnectionHandle>,
    api: &str,
) -> Option<Response> {
    match fault {
        Fault::Status(code) => Some(sim.fault_answer(*code, api)),
        Fault::Hang(duration) => {
            tokio::time::sleep(*duration).await;
            None
        }
        Fault::DropConnection => {
            if let Some(connection) = connection {
                connection.kill();
            }
            Some(sim.fault_answer(500, api))
        }
        // Nested "after apply" means the same as one level: the request was applied already.
        Fault::AfterApply(inner) => Box::pin(fire(sim, inner, connection, api)).await,
        // Record faults rewrite an applied answer (see `edge`); nested elsewhere they change nothing.
        Fault::TruncateBody
        | Fault::DropField(_)
        | Fault::ReplaceField { .. }
        | Fault::LoopCursor => None,
    }
}

fn control_routes<A: SimulatedApi>() -> Router<Arc<A>> {
    use axum::routing::{get, post};
    Router::new()
        .route("/_sim/state", get(control_state::<A>))
        .route("/_sim/requests", get(control_requests::<A>))
        .route("/_sim/faults", post(control_fault::<A>))
        .route("/_sim/reset", post(control_reset::<A>))
}

fn json_ok(body: &serde_json::Value) -> Response {
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn control_state<A: SimulatedApi>(State(sim): State<Arc<A>>) -> Response {
    json_ok(&sim.state_json())
}

async fn control_requests<A: SimulatedApi>(State(sim): State<Arc<A>>) -> Response {
    json_ok(&serde_json::json!(sim.controls().requests()))
}

async fn control_fault<A: SimulatedApi>(
    State(sim): State<Arc<A>>,
    body: axum::body::Bytes,
) -> Response {
    match serde_json::from_slice::<FaultRule>(&body) {
        Ok(rule) => {
            sim.controls().inject(rule);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => sim.bad_request(&format!("Invalid fault rule: {error}")),
    }
}

/// Restores the seed records and forgets faults and the request log (and whatever else the API resets).
async fn control_reset<A: SimulatedApi>(State(sim): State<Arc<A>>) -> Response {
    sim.reset_records();
    sim.controls().clear();
    StatusCode::NO_CONTENT.into_response()
}
