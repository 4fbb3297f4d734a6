//! The API function. Wiring only: reads the [`Config`] once, builds the ports and serves the router
//! under the Lambda runtime, or — with `--listen 127.0.0.1:PORT` — as a local HTTP server for the demo.
use shared::service::lambda::init_tracing;
use shared::service::{Config, ServiceContext};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let listen = listen_address(std::env::args().skip(1))?;
    let config = Config::from_env()?;
    let aws = shared::aws::load_aws_config().await;
    let context = ServiceContext::new(&config, &aws);
    let state = api::ApiState::production(&config, &aws, &context);
    let app = match api::console::Console::from_env(&aws, state.clock.clone())? {
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
