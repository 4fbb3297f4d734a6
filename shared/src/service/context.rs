//! Everything a function needs besides the event, built once per Lambda container from its
//! [`Config`] and the AWS configuration, and shared by all invocations of the warm container.
use std::sync::Arc;
use std::time::Duration;

use super::config::Config;
use crate::connectors::personio::{PersonioClient, PersonioClientConfig};
use crate::connectors::timetrack::{TimeTrackClient, TimeTrackClientConfig};
use crate::credentials::{Credentials, CredentialsSource, SecretsManagerCredentials};
use crate::engine::{Clock, ContinuationScheduler, SystemClock};
use crate::store::dynamodb::DynamoStore;
use crate::store::StateStore;

/// How long credentials stay cached in a warm container before Secrets Manager is asked again (a
/// rotated TimeTrack secret is picked up within this time).
pub const CREDENTIALS_CACHE_TTL: Duration = Duration::from_secs(300);

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
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl ServiceContext {
    /// The production wiring from `config` and the loaded AWS configuration: DynamoDB, Secrets Manager
    /// (cached), EventBridge Scheduler, the system clock.
    pub fn new(config: &Config, aws: &aws_config::SdkConfig) -> Self {
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.table_name.clone(),
        );
        let credentials = SecretsManagerCredentials::new(
            aws_sdk_secretsmanager::Client::new(aws),
            config.secret_prefix.clone(),
            CREDENTIALS_CACHE_TTL,
        );
        let scheduler = crate::scheduling::EventBridgeScheduler::new(
            aws_sdk_scheduler::Client::new(aws),
            config.scheduler.clone(),
        );
        Self {
            store: Arc::new(store),
            credentials: Arc::new(credentials),
            scheduler: Arc::new(scheduler),
            clock: Arc::new(SystemClock),
            clients: config.clients.clone(),
        }
    }
}
