//! Running a service under the Lambda runtime: the only code that runs `lambda_runtime`, so that a
//! function's `main.rs` is one call. Failed invocations carry [`super::InvocationError`]'s short
//! `errorType` names.
use std::sync::Arc;

use jiff::Timestamp;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

use super::context::ServiceContext;
use super::invocation::InvocationError;
use super::lambda_event::WebhookInvocation;
use super::workflow::{WorkflowBinding, WorkflowService};
use crate::webhooks::consumer::consume;
use crate::webhooks::replay::replay;
use crate::webhooks::{EventQueue, SqsEventQueue};

pub type Error = lambda_runtime::Error;

/// Silences the runtime's echo of handled invocation errors (see [`init_tracing`]).
const NO_PANIC_ECHO: &str = "lambda_runtime::layers::panic=off";

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default `info`). Secrets never reach them:
/// they are `SecretString`s, and the clients' and credentials' errors are written to exclude them.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        // The runtime logs every failed invocation again under `lambda_runtime::layers::panic`, at ERROR,
        // as if it had panicked. The service already logged it once with its `error_type`; a real panic
        // is still printed by the panic hook and reported as the invocation's error.
        .add_directive(NO_PANIC_ECHO.parse().unwrap_or_default());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(true)
        .without_time() // CloudWatch stamps every line
        .try_init();
}

/// The invocation's deadline from the Lambda context (milliseconds since the epoch).
pub fn deadline_of(context: &lambda_runtime::Context) -> Option<Timestamp> {
    deadline_from_millis(context.deadline, Timestamp::now())
}

/// Below this, a `Lambda-Runtime-Deadline-Ms` value cannot be an epoch time (it would be before
/// 2001-09-09): it is a duration.
const EPOCH_MILLIS_FLOOR: i64 = 1_000_000_000_000;

/// Lambda sends the deadline as epoch milliseconds. The local emulator (`cargo lambda watch` 1.9, used
/// by `make demo`) sends the *timeout* instead (`600000`), which read as an epoch time lies in 1970 and
/// would make every run stop at once and defer all its work to a continuation. Such a value is read as
/// the duration it is, counted from `now`.
pub fn deadline_from_millis(ms: u64, now: Timestamp) -> Option<Timestamp> {
    let ms = i64::try_from(ms).ok()?;
    if ms < EPOCH_MILLIS_FLOOR {
        return now.checked_add(jiff::SignedDuration::from_millis(ms)).ok();
    }
    Timestamp::from_millisecond(ms).ok()
}

/// Serves a workflow function: builds the production context and the webhook queue from the
/// environment and hands every invocation to [`handle_workflow_invocation`].
pub async fn serve_workflow<B: WorkflowBinding + 'static>(binding: B) -> Result<(), Error> {
    init_tracing();
    let context = ServiceContext::from_env().await?;
    let aws = crate::aws::load_aws_config().await;
    let queue: Arc<dyn EventQueue> =
        Arc::new(SqsEventQueue::from_env(aws_sdk_sqs::Client::new(&aws)));
    let service = Arc::new(WorkflowService::new(context, binding));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let service = service.clone();
        let queue = queue.clone();
        async move {
            let deadline = deadline_of(&event.context);
            handle_workflow_invocation(&service, queue.as_ref(), event.payload, deadline).await
        }
    }))
    .await
}

/// One invocation of a workflow function: a batch of its webhook queue (answered with the messages to
/// redeliver, `{"batchItemFailures": [...]}`), the scheduled webhook replay (answered with its report),
/// or anything [`WorkflowService::handle`] serves (schedule, continuation, HTTP).
pub async fn handle_workflow_invocation<B: WorkflowBinding + 'static>(
    service: &WorkflowService<B>,
    queue: &dyn EventQueue,
    event: Value,
    deadline: Option<Timestamp>,
) -> Result<Value, InvocationError> {
    let workflow = service.binding.workflow();
    match WebhookInvocation::classify(&event) {
        None => service.handle(event, deadline).await,
        Some(Err(e)) => {
            tracing::warn!(error = %e, error_type = "InvalidEvent", "rejected invocation event");
            Err(InvocationError::InvalidEvent(e.to_string()))
        }
        Some(Ok(WebhookInvocation::QueueBatch(batch))) => {
            let answer = consume(&batch, workflow, service, deadline).await;
            serde_json::to_value(&answer).map_err(|e| InvocationError::Unavailable(e.to_string()))
        }
        Some(Ok(WebhookInvocation::Replay { integration_id })) => {
            let api = crate::webhooks::personio_api::for_integration(
                service.context.credentials.as_ref(),
                &service.context.clients,
                &integration_id,
            )
            .await
            .map_err(|p| InvocationError::from_problem(&p))?;
            let now = service.context.clock.now();
            let report = replay(
                &integration_id,
                workflow,
                service.context.store.as_ref(),
                &api,
                queue,
                now,
            )
            .await
            .map_err(|e| {
                let failure = InvocationError::Upstream(e.to_string());
                tracing::error!(error_type = failure.error_type(), error = %failure, "webhook replay failed");
                failure
            })?;
            serde_json::to_value(&report).map_err(|e| InvocationError::Unavailable(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_echo_filter_is_a_valid_directive() {
        assert!(NO_PANIC_ECHO
            .parse::<tracing_subscriber::filter::Directive>()
            .is_ok());
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
    }
}
