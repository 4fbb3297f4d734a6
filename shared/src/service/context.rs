//! Everything a function needs besides the event, built once per Lambda container from the environment
//! (`TABLE_NAME`, `SECRET_PREFIX`, `PERSONIO_BASE_URL`, `TIMETRACK_BASE_URL`, the Scheduler variables and
//! the standard AWS ones) and shared by all invocations of the warm container.
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::connectors::personio::{PersonioClient, PersonioClientConfig};
use crate::connectors::timetrack::{TimeTrackClient, TimeTrackClientConfig};
use crate::credentials::{Credentials, CredentialsSource, SecretsManagerCredentials};
use crate::engine::{Clock, ContinuationScheduler, SystemClock};
use crate::store::dynamodb::DynamoStore;
use crate::store::StateStore;

/// How long credentials stay cached in a warm container before Secrets Manager is asked again (a
/// rotated TimeTrack secret is picked up within this time).
pub const CREDENTIALS_CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Error)]
pub enum ContextError {
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    #[error("cannot set up {what}: {message}")]
    Setup { what: &'static str, message: String },
}

/// The ports a function works with. Tests build it from in-memory or moto-backed adapters directly.
#[derive(Clone)]
pub struct ServiceContext {
    pub store: Arc<dyn StateStore>,
    pub credentials: Arc<dyn CredentialsSource>,
    pub scheduler: Arc<dyn ContinuationScheduler>,
    pub clock: Arc<dyn Clock>,
    /// Builds the two clients from an integration's credentials (base URLs from the environment).
    pub clients: ClientFactory,
}

/// Base URLs and tuning of the two clients.
#[derive(Debug, Clone)]
pub struct ClientFactory {
    pub personio_base_url: String,
    pub timetrack_base_url_template: String,
    pub timeout: Duration,
}

impl Default for ClientFactory {
    fn default() -> Self {
        Self {
            personio_base_url: PersonioClientConfig::DEFAULT_BASE_URL.to_string(),
            timetrack_base_url_template: TimeTrackClientConfig::DEFAULT_BASE_URL_TEMPLATE
                .to_string(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl ClientFactory {
    /// Defaults overridden by `PERSONIO_BASE_URL` / `TIMETRACK_BASE_URL` when set.
    pub fn from_env() -> Self {
        let mut f = Self::default();
        if let Some(v) = non_empty_env("PERSONIO_BASE_URL") {
            f.personio_base_url = v;
        }
        if let Some(v) = non_empty_env("TIMETRACK_BASE_URL") {
            f.timetrack_base_url_template = v;
        }
        f
    }

    pub fn personio(&self, c: &Credentials) -> Result<PersonioClient, String> {
        let mut config = PersonioClientConfig::new(
            c.personio_client_id.clone(),
            c.personio_client_secret.clone(),
        );
        config.base_url = self.personio_base_url.clone();
        config.timeout = self.timeout;
        PersonioClient::new(config).map_err(|e| e.to_string())
    }

    pub fn timetrack(&self, c: &Credentials) -> Result<TimeTrackClient, String> {
        let mut config = TimeTrackClientConfig::new(
            c.timetrack_account.clone(),
            c.timetrack_api_key.clone(),
            c.timetrack_api_secret.clone(),
        );
        config.base_url_template = self.timetrack_base_url_template.clone();
        config.timeout = self.timeout;
        TimeTrackClient::new(config).map_err(|e| e.to_string())
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl ServiceContext {
    /// The production wiring: DynamoDB, Secrets Manager (cached), EventBridge Scheduler, the system clock.
    pub async fn from_env() -> Result<Self, ContextError> {
        let table = non_empty_env("TABLE_NAME").ok_or(ContextError::MissingEnv("TABLE_NAME"))?;
        let prefix = non_empty_env("SECRET_PREFIX")
            .unwrap_or_else(|| crate::credentials::DEFAULT_SECRET_PREFIX.to_string());
        let aws = crate::aws::load_aws_config().await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
        let credentials = SecretsManagerCredentials::new(
            aws_sdk_secretsmanager::Client::new(&aws),
            prefix,
            CREDENTIALS_CACHE_TTL,
        );
        let scheduler =
            crate::scheduling::EventBridgeScheduler::from_env(aws_sdk_scheduler::Client::new(&aws))
                .map_err(|e| ContextError::Setup {
                    what: "the continuation scheduler",
                    message: e.to_string(),
                })?;
        Ok(Self {
            store: Arc::new(store),
            credentials: Arc::new(credentials),
            scheduler: Arc::new(scheduler),
            clock: Arc::new(SystemClock),
            clients: ClientFactory::from_env(),
        })
    }
}
