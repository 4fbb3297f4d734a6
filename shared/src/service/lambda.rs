//! Running a service under the Lambda runtime: the only code that touches `lambda_runtime`, so that a
//! function's `main.rs` is one call.
use std::sync::Arc;

use jiff::Timestamp;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

use super::context::ServiceContext;
use super::workflow::{WorkflowBinding, WorkflowService};

pub type Error = lambda_runtime::Error;

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default `info`). Secrets never reach them:
/// they are `SecretString`s, and the clients' and credentials' errors are written to exclude them.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
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
    i64::try_from(context.deadline)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
}

/// Serves a workflow function: builds the production context from the environment and hands every
/// invocation to [`WorkflowService::handle`].
pub async fn serve_workflow<B: WorkflowBinding + 'static>(binding: B) -> Result<(), Error> {
    init_tracing();
    let context = ServiceContext::from_env().await?;
    let service = Arc::new(WorkflowService::new(context, binding));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let service = service.clone();
        async move {
            let deadline = deadline_of(&event.context);
            service
                .handle(event.payload, deadline)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
