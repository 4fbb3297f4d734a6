//! The HTTP plumbing both simulators share: a TCP listener whose connections a handler can kill
//! (so [`crate::Fault::DropConnection`] makes the client see a real connection error, not an HTTP
//! status), the request log, and a server handle that stops serving when dropped.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use axum::Router;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::faults::lock;

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
