//! Running a workflow service under the Lambda runtime: the only code that runs `lambda_runtime`, so
//! that a function's `main.rs` is one call. Every invocation is classified once
//! ([`Invocation::classify`]); HTTP requests go through `lambda_http`'s `Adapter` to the manual-sync
//! edge ([`super::http`]); failed invocations carry [`InvocationError`]'s short `errorType` names
//! through `Diagnostic`.
use std::sync::Arc;

use jiff::Timestamp;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

use axum::extract::FromRequest;
use axum::response::IntoResponse;
use lambda_http::request::LambdaRequest;
use tower::Service as _;
use tracing::{error, warn};

use super::config::Config;
use super::context::ServiceContext;
use super::http::{ManualSyncCall, ManualSyncService};
use super::invocation::InvocationError;
use super::lambda_event::{EventError, Invocation};
use super::problem::Problem;
use super::workflow::{RunOrder, WorkflowBinding, WorkflowService};
use crate::domain::{IntegrationId, Trigger};
use crate::runs::RunStatus;
use crate::webhooks::consumer::consume;
use crate::webhooks::replay::replay;
use crate::webhooks::{EventQueue, SqsEventQueue};

pub type Error = lambda_runtime::Error;

/// The runtime's echo of handled invocation errors, silenced (see [`init_tracing`]).
const PANIC_ECHO_TARGET: &str = "lambda_runtime::layers::panic";

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default `info`). Secrets never reach them:
/// they are `SecretString`s, and the clients' and credentials' errors are written to exclude them.
///
/// `RUST_LOG` is read as a [`Targets`](tracing_subscriber::filter::Targets) list (`info`,
/// `warn,shared=debug`): the `LogLevel` parameter of the template is one level. `EnvFilter`'s span and
/// field filters are not supported: they would bring a regex engine into every bootstrap (issue 16,
/// size). A value that does not parse falls back to `info`.
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false)
                .with_target(true)
                .without_time(), // CloudWatch stamps every line
        )
        .with(log_filter(std::env::var("RUST_LOG").ok().as_deref()))
        .try_init();
}

/// The filter of [`init_tracing`] for a `RUST_LOG` value.
fn log_filter(rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    rust_log
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
        // The runtime logs every failed invocation again under `lambda_runtime::layers::panic`, at ERROR,
        // as if it had panicked. The service already logged it once with its `error_type`; a real panic
        // is still printed by the panic hook and reported as the invocation's error.
        .with_target(PANIC_ECHO_TARGET, LevelFilter::OFF)
}

/// The invocation's deadline from the Lambda context (see [`deadline_from_millis`]).
pub fn deadline_of(context: &lambda_runtime::Context) -> Option<Timestamp> {
    deadline_from_millis(context.deadline, Timestamp::now())
}

/// Below this, a `Lambda-Runtime-Deadline-Ms` value cannot be an epoch time (it would be before
/// 2001-09-09): it is a duration.
const EPOCH_MILLIS_FLOOR: i64 = 1_000_000_000_000;

/// The one reading of a Lambda deadline, wherever it comes from (the runtime's context, the context
/// `lambda_http` hands a request). Lambda sends epoch milliseconds. The local emulator (`cargo lambda
/// watch` 1.9, used by `make demo`) sends the *timeout* instead (`600000`), which read as an epoch time
/// lies in 1970 and would make every run stop at once and defer all its work to a continuation: such a
/// value is read as the duration it is, counted from `now`. `0` is a context without a deadline
/// (`Context::default()`): no deadline.
pub fn deadline_from_millis(ms: u64, now: Timestamp) -> Option<Timestamp> {
    if ms == 0 {
        return None;
    }
    let ms = i64::try_from(ms).ok()?;
    if ms < EPOCH_MILLIS_FLOOR {
        return now.checked_add(jiff::SignedDuration::from_millis(ms)).ok();
    }
    Timestamp::from_millisecond(ms).ok()
}

/// Serves a workflow function: builds the production context and the webhook queue from `config` and
/// hands every invocation to [`WorkflowService::invoke`].
pub async fn serve_workflow<B: WorkflowBinding + 'static>(binding: B) -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let aws = crate::aws::load_aws_config().await;
    let context = ServiceContext::new(&config, &aws);
    let queue: Arc<dyn EventQueue> = Arc::new(SqsEventQueue::new(
        aws_sdk_sqs::Client::new(&aws),
        config.queues.clone(),
    ));
    let service = Arc::new(WorkflowService::new(context, binding));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let service = service.clone();
        let queue = queue.clone();
        async move {
            let deadline = deadline_of(&event.context);
            service
                .invoke(event.payload, Some(queue.as_ref()), event.context, deadline)
                .await
        }
    }))
    .await
}

/// One invocation of a workflow function with its webhook queue (see [`WorkflowService::invoke`]).
pub async fn handle_workflow_invocation<B: WorkflowBinding + 'static>(
    service: &WorkflowService<B>,
    queue: &dyn EventQueue,
    event: Value,
    deadline: Option<Timestamp>,
) -> Result<Value, InvocationError> {
    service
        .invoke(
            event,
            Some(queue),
            lambda_runtime::Context::default(),
            deadline,
        )
        .await
}

impl<B: WorkflowBinding> WorkflowService<B> {
    /// Handles one Lambda invocation without a webhook queue (scheduled runs, continuations, HTTP
    /// requests and queue batches; the webhook replay needs the queue). `deadline` is the
    /// invocation's deadline.
    ///
    /// HTTP requests always get an API Gateway response (problems included). Scheduled runs and
    /// continuations return the run record; a run that failed as a whole returns `Err`, so that the
    /// invocation counts as an error and the function's error alarm fires.
    pub async fn handle(
        &self,
        event: Value,
        deadline: Option<Timestamp>,
    ) -> Result<Value, InvocationError> {
        self.invoke(event, None, lambda_runtime::Context::default(), deadline)
            .await
    }

    /// One invocation, classified once ([`Invocation::classify`]): an API Gateway request served by
    /// the manual-sync edge through `lambda_http`'s `Adapter`; a schedule or continuation run; a batch
    /// of the webhook queue (answered with the messages to redeliver, `{"batchItemFailures": [...]}`);
    /// the scheduled webhook replay (answered with its report). Failures carry short stable
    /// `errorType`s ([`InvocationError`]).
    pub async fn invoke(
        &self,
        event: Value,
        queue: Option<&dyn EventQueue>,
        context: lambda_runtime::Context,
        deadline: Option<Timestamp>,
    ) -> Result<Value, InvocationError> {
        let invocation = Invocation::classify(event).map_err(|e| {
            warn!(error = %e, error_type = "InvalidEvent", "rejected invocation event");
            InvocationError::InvalidEvent(e.to_string())
        })?;
        match invocation {
            Invocation::Http { request, refused } => {
                self.answer_http(*request, refused, context, deadline).await
            }
            Invocation::Scheduled { integration_id } => {
                self.run_in_background(RunOrder {
                    integration_id,
                    trigger: Trigger::Schedule,
                    manual: None,
                    continues_run_id: None,
                    deadline,
                })
                .await
            }
            Invocation::Continuation {
                integration_id,
                run_id,
            } => {
                self.run_in_background(RunOrder {
                    integration_id,
                    trigger: Trigger::Continuation,
                    manual: None,
                    continues_run_id: Some(run_id),
                    deadline,
                })
                .await
            }
            Invocation::QueueBatch(batch) => {
                let answer = consume(&batch, self.binding.workflow(), self, deadline).await;
                serde_json::to_value(&answer)
                    .map_err(|e| InvocationError::Unavailable(e.to_string()))
            }
            Invocation::Replay { integration_id } => {
                let Some(queue) = queue else {
                    return Err(InvocationError::InvalidEvent(
                        "the webhook replay needs the function's webhook queue".into(),
                    ));
                };
                self.replay(&integration_id, queue).await
            }
        }
    }

    /// An API Gateway request through `lambda_http`: its request conversion, the manual-sync edge, its
    /// response conversion. Every answer is an API Gateway response, problems included.
    async fn answer_http(
        &self,
        request: LambdaRequest,
        refused: Option<EventError>,
        context: lambda_runtime::Context,
        deadline: Option<Timestamp>,
    ) -> Result<Value, InvocationError> {
        let serve = tower::service_fn(|request: lambda_http::Request| {
            let refused = refused.clone();
            async move {
                let response = match refused {
                    // A body API Gateway flagged base64 that is not: the caller's mistake, a 400.
                    Some(e) => Problem::bad_request(e.to_string()).into_response(),
                    None => self.answer_request(request, deadline).await,
                };
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let mut adapter = lambda_http::Adapter::from(serve);
        let answer = match adapter.call(LambdaEvent::new(request, context)).await {
            Ok(answer) => answer,
            Err(never) => match never {},
        };
        serde_json::to_value(&answer).map_err(|e| InvocationError::Unavailable(e.to_string()))
    }

    async fn answer_request(
        &self,
        request: lambda_http::Request,
        deadline: Option<Timestamp>,
    ) -> axum::response::Response {
        let request = request.map(axum::body::Body::new);
        match ManualSyncCall::from_request(request, &()).await {
            Ok(mut call) => {
                if deadline.is_some() {
                    call.deadline = deadline;
                }
                ManualSyncService::manual_sync(self, call).await
            }
            Err(problem) => problem.into_response(),
        }
    }

    async fn run_in_background(&self, order: RunOrder) -> Result<Value, InvocationError> {
        let failure = match self.run(order).await {
            Ok(run) if run.status == RunStatus::Failed => InvocationError::RunFailed(format!(
                "run {} failed: {}",
                run.run_id,
                run.error.unwrap_or_default()
            )),
            Ok(run) => {
                return serde_json::to_value(&run)
                    .map_err(|e| InvocationError::Unavailable(e.to_string()))
            }
            Err(p) => InvocationError::from(&p),
        };
        error!(error_type = failure.error_type(), error = %failure, "invocation failed");
        Err(failure)
    }

    async fn replay(
        &self,
        integration_id: &IntegrationId,
        queue: &dyn EventQueue,
    ) -> Result<Value, InvocationError> {
        let api = crate::webhooks::personio_api::for_integration(
            self.context.credentials.as_ref(),
            &self.context.clients,
            integration_id,
        )
        .await
        .map_err(|p| InvocationError::from(&p))?;
        let now = self.context.clock.now();
        let report = replay(
            integration_id,
            self.binding.workflow(),
            self.context.store.as_ref(),
            &api,
            queue,
            now,
        )
        .await
        .map_err(|e| {
            let failure = InvocationError::Upstream(e.to_string());
            error!(error_type = failure.error_type(), error = %failure, "webhook replay failed");
            failure
        })?;
        serde_json::to_value(&report).map_err(|e| InvocationError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_filter_reads_rust_log_and_always_silences_the_runtime_echo() {
        use tracing::Level;
        let default = log_filter(None);
        assert!(default.would_enable("shared::engine", &Level::INFO));
        assert!(!default.would_enable("shared::engine", &Level::DEBUG));
        assert!(!default.would_enable(PANIC_ECHO_TARGET, &Level::ERROR));

        let per_target = log_filter(Some("warn,shared::engine=debug"));
        assert!(per_target.would_enable("shared::engine::runner", &Level::DEBUG));
        assert!(!per_target.would_enable("shared::store", &Level::INFO));
        assert!(per_target.would_enable("shared::store", &Level::WARN));
        assert!(!per_target.would_enable(PANIC_ECHO_TARGET, &Level::ERROR));

        // The template's `LogLevel` is one level; junk and an empty value fall back to `info`.
        assert!(log_filter(Some("debug")).would_enable("api", &Level::DEBUG));
        for junk in ["", "  ", "shared=[{x}]=?"] {
            let filter = log_filter(Some(junk));
            assert!(filter.would_enable("api", &Level::INFO), "{junk:?}");
            assert!(!filter.would_enable("api", &Level::DEBUG), "{junk:?}");
        }
    }

    #[test]
    fn an_epoch_deadline_is_taken_as_is_and_a_small_one_as_a_duration() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let epoch = 1_795_770_000_000; // 2026-11-27T10:20:00Z
        assert_eq!(
            deadline_from_millis(epoch, now),
            Some(Timestamp::from_millisecond(1_795_770_000_000).unwrap())
        );
        assert_eq!(
            deadline_from_millis(600_000, now),
            Some("2026-11-27T10:10:00Z".parse().unwrap()),
            "cargo lambda watch sends the timeout"
        );
        assert_eq!(deadline_from_millis(u64::MAX, now), None);
        assert_eq!(
            deadline_from_millis(0, now),
            None,
            "a context without a deadline"
        );
    }
}
