//! The real binaries of the product as separate processes, the way the webhook path runs in AWS:
//!
//! - [`WarmFunction`]: a workflow function's binary (`target/debug/<name>`) kept warm under a fake
//!   Lambda Runtime API that serves **any number** of invocations, one at a time, as a warm Lambda
//!   sandbox does (the crash suite's [`crate::lambda_process::FakeRuntime`] serves one and then idles).
//!   The event source mapping ([`crate::event_source_mapping`]) and the tests invoke it with
//!   [`WarmFunction::invoke`].
//! - [`ApiProcess`]: the api binary serving its router locally (`api --listen 127.0.0.1:PORT`, as
//!   `make demo` runs it): the webhook receiver Personio delivers to. It can be stopped and restarted on
//!   the same port (a receiver that is down answers nothing; Personio retries).
//!
//! Both get the production environment of the SAM template pointed at moto and the simulators.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::lambda_process::{function_binary, FunctionEnv, Outcome};

/// One invocation waiting for the function to ask for it.
struct Pending {
    event: Value,
    answer: oneshot::Sender<Outcome>,
}

struct WarmState {
    incoming: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Value>>,
}

/// A fake Lambda Runtime API that hands out the events given to [`WarmRuntime::send`] in order.
pub struct WarmRuntime {
    addr: SocketAddr,
    sender: mpsc::UnboundedSender<Pending>,
    state: Arc<WarmState>,
    task: JoinHandle<()>,
}

impl Drop for WarmRuntime {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn next(State(state): State<Arc<WarmState>>) -> Response {
    let pending = state.incoming.lock().await.recv().await;
    let Some(pending) = pending else {
        std::future::pending::<()>().await;
        return StatusCode::NO_CONTENT.into_response();
    };
    let id = uuid::Uuid::new_v4().to_string();
    state
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id.clone(), pending.answer);
    let deadline = jiff::Timestamp::now().as_millisecond() + 15 * 60 * 1000;
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", id);
    put("lambda-runtime-deadline-ms", deadline.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-central-1:123456789012:function:webhook-e2e".to_string(),
    );
    put(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".to_string(),
    );
    put("content-type", "application/json".to_string());
    (StatusCode::OK, headers, pending.event.to_string()).into_response()
}

fn answer(state: &WarmState, id: &str, outcome: Outcome) -> Response {
    let sender = state
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(id);
    match sender {
        Some(s) => {
            let _ = s.send(outcome);
            StatusCode::ACCEPTED.into_response()
        }
        None => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn response(
    State(state): State<Arc<WarmState>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    answer(&state, &id, Outcome::Response(value))
}

async fn error(
    State(state): State<Arc<WarmState>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    answer(&state, &id, Outcome::Error(value))
}

async fn init_error(State(state): State<Arc<WarmState>>, body: axum::body::Bytes) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    *state.init_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
    StatusCode::ACCEPTED.into_response()
}

impl WarmRuntime {
    /// Listens on a free port of 127.0.0.1.
    pub async fn serve() -> WarmRuntime {
        let (sender, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(WarmState {
            incoming: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake runtime API");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        WarmRuntime {
            addr,
            sender,
            state,
            task,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn api(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `event`; the receiver yields the function's answer once it posted one.
    pub fn send(&self, event: Value) -> oneshot::Receiver<Outcome> {
        let (answer, receiver) = oneshot::channel();
        let _ = self.sender.send(Pending { event, answer });
        receiver
    }

    /// What the function reported through `init/error`, if it failed to start.
    pub fn init_error(&self) -> Option<Value> {
        self.state
            .init_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The production environment of a function (the template's `Globals`), pointed at `env`.
fn production_env(command: &mut Command, env: &FunctionEnv, extra: &[(String, String)]) {
    command
        .env("TABLE_NAME", &env.table)
        .env("SECRET_PREFIX", &env.secret_prefix)
        .env("PERSONIO_BASE_URL", &env.personio_base_url)
        .env("TIMETRACK_BASE_URL", &env.timetrack_base_url_template)
        .env("SCHEDULE_GROUP", "webhook-e2e")
        .env(
            "SCHEDULER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/webhook-e2e",
        )
        .env(
            "EMPLOYEES_FUNCTION_ARN",
            "arn:aws:lambda:eu-central-1:123456789012:function:employees",
        )
        .env(
            "TIME_ENTRIES_FUNCTION_ARN",
            "arn:aws:lambda:eu-central-1:123456789012:function:time-entries",
        )
        .env(
            "ABSENCES_FUNCTION_ARN",
            "arn:aws:lambda:eu-central-1:123456789012:function:absences",
        )
        .env(
            "RUST_LOG",
            std::env::var("WEBHOOK_E2E_LOG").unwrap_or_else(|_| "warn".to_string()),
        );
    for (k, v) in extra {
        command.env(k, v);
    }
    // The functions log JSON to stdout (CloudWatch): shown with `WEBHOOK_E2E_LOG=info --no-capture`.
    let stdout = if std::env::var("WEBHOOK_E2E_LOG").is_ok() {
        Stdio::inherit()
    } else {
        Stdio::null()
    };
    command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit());
}

/// A workflow function's real binary, warm: one process serving every invocation sent to it.
pub struct WarmFunction {
    pub name: String,
    runtime: WarmRuntime,
    child: Mutex<Child>,
}

impl Drop for WarmFunction {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// How long one invocation may take before the test gives up on it (the function's own deadline is
/// Lambda's 15 minutes; no test invocation comes near this).
pub const INVOCATION_LIMIT: Duration = Duration::from_secs(120);

impl WarmFunction {
    /// Starts `target/debug/<name>` (built on demand by [`function_binary`]) with the production
    /// environment and `extra` variables (e.g. the `*_QUEUE_URL`s the template passes).
    pub async fn start(name: &str, env: &FunctionEnv, extra: &[(String, String)]) -> WarmFunction {
        let binary = function_binary(name);
        let runtime = WarmRuntime::serve().await;
        let mut command = Command::new(&binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", runtime.api())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "webhook-e2e");
        production_env(&mut command, env, extra);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
        WarmFunction {
            name: name.to_string(),
            runtime,
            child: Mutex::new(child),
        }
    }

    /// One invocation with `event`, as `Invoke` (RequestResponse) does; panics when the process
    /// died or did not answer within [`INVOCATION_LIMIT`].
    pub async fn invoke(&self, event: Value) -> Outcome {
        let answer = self.runtime.send(event);
        let started = std::time::Instant::now();
        tokio::pin!(answer);
        loop {
            tokio::select! {
                outcome = &mut answer => {
                    return outcome.unwrap_or_else(|_| panic!("{}: the runtime dropped the invocation", self.name));
                }
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    let exited = self.child.lock().unwrap_or_else(|p| p.into_inner()).try_wait();
                    if let Ok(Some(status)) = exited {
                        panic!("{} exited ({status}) during an invocation; init error: {:?}",
                            self.name, self.runtime.init_error());
                    }
                    assert!(started.elapsed() < INVOCATION_LIMIT, "{}: no answer within {INVOCATION_LIMIT:?}", self.name);
                }
            }
        }
    }

    /// [`invoke`](Self::invoke), expecting an answer (not a function error).
    pub async fn call(&self, event: Value) -> Value {
        match self.invoke(event).await {
            Outcome::Response(v) => v,
            Outcome::Error(e) => panic!("{} answered an error: {e}", self.name),
        }
    }
}

/// A free port of 127.0.0.1 (bound and released; good enough for a test on one machine).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The api binary serving locally: the webhook receiver and the subscription API.
pub struct ApiProcess {
    pub addr: SocketAddr,
    binary: PathBuf,
    env: FunctionEnv,
    extra: Vec<(String, String)>,
    child: Option<Child>,
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ApiProcess {
    /// `target/debug/api --listen 127.0.0.1:<free port>` with the production environment, `extra`
    /// variables and `WEBHOOK_RECEIVER_BASE_URL` = its own address (what Personio is told to call);
    /// returns once it accepts connections.
    pub async fn start(env: FunctionEnv, extra: &[(String, String)]) -> ApiProcess {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let mut api = ApiProcess {
            addr,
            binary: function_binary("api"),
            env,
            extra: extra.to_vec(),
            child: None,
        };
        api.restart().await;
        api
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: the receiver is down (connections refused) until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same port; returns once it accepts connections.
    pub async fn restart(&mut self) {
        self.stop();
        let mut command = Command::new(&self.binary);
        command
            .arg("--listen")
            .arg(self.addr.to_string())
            .env("WEBHOOK_RECEIVER_BASE_URL", self.base_url());
        production_env(&mut command, &self.env, &self.extra);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.binary.display()));
        let started = std::time::Instant::now();
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("api exited ({status}) before listening on {}", self.addr);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "api did not listen on {} within 30 s",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Some(child);
    }
}
