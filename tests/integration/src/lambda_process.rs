//! A workflow function's real binary (`target/debug/<name>`) run as Lambda runs it: a separate process
//! that asks a fake Lambda Runtime API on 127.0.0.1 for its event, with the production context (the
//! DynamoDB table and Secrets Manager on moto, the simulators as Personio and TimeTrack). The crash
//! tests kill it with SIGKILL at a chosen moment; nothing in the process gets to clean up, exactly as
//! when Lambda's sandbox dies or times out.
//!
//! The fake runtime serves one event on the first `GET /2018-06-01/runtime/invocation/next`, keeps
//! every later `next` waiting (an idle Lambda), and records the function's answer or error.
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
use tokio::task::JoinHandle;

/// What the function answered through the runtime API.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct RuntimeState {
    event: Option<Value>,
    outcome: Option<Outcome>,
}

/// The fake Lambda Runtime API of one process.
pub struct FakeRuntime {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<RuntimeState>>,
    task: JoinHandle<()>,
}

impl Drop for FakeRuntime {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const REQUEST_ID: &str = "11111111-2222-3333-4444-555555555555";

async fn next(State(state): State<Arc<Mutex<RuntimeState>>>) -> Response {
    let event = state.lock().unwrap_or_else(|p| p.into_inner()).event.take();
    let Some(event) = event else {
        // An idle Lambda: the next event never comes.
        std::future::pending::<()>().await;
        return StatusCode::NO_CONTENT.into_response();
    };
    let deadline = jiff::Timestamp::now().as_millisecond() + 15 * 60 * 1000;
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", REQUEST_ID.to_string());
    put("lambda-runtime-deadline-ms", deadline.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-central-1:000000000000:function:crash-test".to_string(),
    );
    put(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".to_string(),
    );
    put("content-type", "application/json".to_string());
    (StatusCode::OK, headers, event.to_string()).into_response()
}

fn record(state: &Mutex<RuntimeState>, outcome: Outcome) -> Response {
    state.lock().unwrap_or_else(|p| p.into_inner()).outcome = Some(outcome);
    StatusCode::ACCEPTED.into_response()
}

async fn response(
    State(state): State<Arc<Mutex<RuntimeState>>>,
    Path(_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, Outcome::Response(value))
}

async fn error(
    State(state): State<Arc<Mutex<RuntimeState>>>,
    Path(_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, Outcome::Error(value))
}

async fn init_error(
    State(state): State<Arc<Mutex<RuntimeState>>>,
    body: axum::body::Bytes,
) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, Outcome::Error(value))
}

impl FakeRuntime {
    /// Serves `event` once, on a free port of 127.0.0.1.
    pub async fn serve(event: Value) -> FakeRuntime {
        let state = Arc::new(Mutex::new(RuntimeState {
            event: Some(event),
            outcome: None,
        }));
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
        FakeRuntime { addr, state, task }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn api(&self) -> String {
        self.addr.to_string()
    }

    /// The function's answer or error, once it posted one.
    pub fn outcome(&self) -> Option<Outcome> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .outcome
            .clone()
    }
}

/// Where the workflow binaries are: `target/debug/<name>` of this workspace (honours
/// `CARGO_TARGET_DIR`). Built on demand with `cargo build --workspace --bin <name>` (a no-op when
/// fresh; `--workspace` keeps the features of `make test`'s workspace build, where `-p <name>` alone
/// would rebuild every dependency with that crate's features), so a plain `cargo nextest run` needs no
/// extra step.
pub fn function_binary(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "--workspace", "--bin", name])
        .stdout(Stdio::null())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build --bin {name} failed");
    target.join("debug").join(name)
}

/// Where a function process talks to: the runtime API, the table, the secret prefix, the simulators.
pub struct FunctionEnv {
    pub table: String,
    pub secret_prefix: String,
    pub personio_base_url: String,
    pub timetrack_base_url_template: String,
}

/// A running function process; killed (SIGKILL) when dropped if still running.
pub struct FunctionProcess {
    child: Child,
}

impl FunctionProcess {
    /// Starts `binary` with the production environment the SAM template gives (AWS endpoint, region
    /// and credentials inherited from the test, i.e. moto).
    pub fn spawn(binary: &std::path::Path, runtime: &FakeRuntime, env: &FunctionEnv) -> Self {
        let name = binary
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("function")
            .to_string();
        let child = Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", runtime.api())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "crash-test")
            .env("TABLE_NAME", &env.table)
            .env("SECRET_PREFIX", &env.secret_prefix)
            .env("PERSONIO_BASE_URL", &env.personio_base_url)
            .env("TIMETRACK_BASE_URL", &env.timetrack_base_url_template)
            .env("SCHEDULE_GROUP", "crash-test")
            .env(
                "SCHEDULER_ROLE_ARN",
                "arn:aws:iam::123456789012:role/crash-test",
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
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
        FunctionProcess { child }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGKILL (Rust's `Child::kill` on Unix), then reaps it. Returns whether it was still running.
    pub fn kill(&mut self) -> bool {
        let running = !self.exited();
        let _ = self.child.kill();
        let _ = self.child.wait();
        running
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` every 20 ms until it holds or `limit` passes; returns whether it held.
pub async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}
