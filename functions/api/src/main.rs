//! The API function. Wiring only: builds the ports from the environment and serves the router under
//! the Lambda runtime, or — with `--listen 127.0.0.1:PORT` — as a local HTTP server for the demo.
use std::sync::Arc;

use shared::scheduling::EventBridgeScheduler;
use shared::service::lambda::init_tracing;
use shared::service::ServiceContext;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let listen = listen_address(std::env::args().skip(1))?;
    let context = ServiceContext::from_env().await?;
    let aws = shared::aws::load_aws_config().await;
    let schedules = EventBridgeScheduler::from_env(aws_sdk_scheduler::Client::new(&aws))?;
    let tokens = shared::webhooks::SecretsManagerTokenStore::new(
        aws_sdk_secretsmanager::Client::new(&aws),
        shared::credentials::secret_prefix_from_env(),
    );
    let queue = shared::webhooks::SqsEventQueue::from_env(aws_sdk_sqs::Client::new(&aws));
    let receiver_base_url = std::env::var("WEBHOOK_RECEIVER_BASE_URL")
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let state = api::ApiState::new(&context, Arc::new(schedules))
        .with_standard_workflows(&context)
        .with_webhooks(Arc::new(tokens), Arc::new(queue), receiver_base_url);
    let clock = state.clock.clone();
    let app = match api::console::Console::from_env(&aws, clock)? {
        Some(console) => api::console::with_console(api::router(state), console),
        None => api::router(state),
    };
    match listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            tracing::info!(address = %listener.local_addr()?, "serving the API locally");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
            Ok(())
        }
        None => lambda_http::run(app).await,
    }
}

/// `--listen ADDR` → `Some(ADDR)`; no arguments → Lambda mode.
fn listen_address(mut args: impl Iterator<Item = String>) -> Result<Option<String>, Error> {
    match (args.next().as_deref(), args.next(), args.next()) {
        (None, _, _) => Ok(None),
        (Some("--listen"), Some(addr), None) => Ok(Some(addr)),
        _ => Err("usage: api [--listen 127.0.0.1:PORT]".into()),
    }
}
