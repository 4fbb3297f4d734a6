//! The [`WebhookApi`] port on the Personio client (`shared::connectors::personio::webhooks`): the
//! subscription API and the replay talk to Personio through it, with the integration's credentials.
use async_trait::async_trait;
use jiff::Timestamp;

use super::subscription::{
    ListedEvent, RemoteWebhook, SubscriptionSpec, WebhookApi, WebhookApiError,
};
use crate::connectors::personio::{NewWebhook, WebhookEventName, WebhookPatch, WebhookStatus};
use crate::connectors::personio::{PersonioClient, PersonioError};
use crate::credentials::CredentialsSource;
use crate::domain::IntegrationId;
use crate::service::context::ClientFactory;
use crate::service::{Problem, SetupError};

/// Personio's webhook API for one integration.
pub struct PersonioWebhookApi {
    client: PersonioClient,
}

impl PersonioWebhookApi {
    pub fn new(client: PersonioClient) -> Self {
        Self { client }
    }
}

/// The Personio webhook API of `integration_id`, from its stored credentials. Missing credentials are a
/// 422 problem (not connected), a backend failure a 503.
pub async fn for_integration(
    credentials: &dyn CredentialsSource,
    clients: &ClientFactory,
    integration_id: &IntegrationId,
) -> Result<PersonioWebhookApi, Problem> {
    let c = credentials
        .credentials(integration_id)
        .await
        .map_err(|e| SetupError::from_credentials(e).problem("none"))
        .map_err(|mut p| {
            p.detail = p.detail.replace(" (run none failed)", "");
            p
        })?;
    let client = clients
        .personio(&c)
        .map_err(|e| Problem::not_connected(format!("Personio client: {e}")))?;
    Ok(PersonioWebhookApi::new(client))
}

fn api_error(e: PersonioError, webhook_id: Option<&str>) -> WebhookApiError {
    if e.class() == crate::connectors::ErrorClass::Auth {
        return WebhookApiError::NotConnected(e.to_string());
    }
    match &e {
        PersonioError::Api { status: 404, .. } => {
            WebhookApiError::NotFound(webhook_id.unwrap_or_default().to_string())
        }
        PersonioError::Api { status, .. } | PersonioError::Auth { status, .. }
            if (400..500).contains(status) && *status != 429 =>
        {
            WebhookApiError::Refused {
                status: *status,
                detail: e.to_string(),
            }
        }
        _ => WebhookApiError::Unavailable(e.to_string()),
    }
}

fn remote(w: crate::connectors::personio::Webhook) -> RemoteWebhook {
    RemoteWebhook {
        id: w.id,
        url: w.url,
        status: w
            .status
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "UNKNOWN".to_string()),
        enabled_events: w
            .enabled_events
            .iter()
            .map(|e| e.as_str().to_string())
            .collect(),
    }
}

fn names(spec: &SubscriptionSpec) -> Vec<WebhookEventName> {
    spec.enabled_events
        .iter()
        .map(|n| WebhookEventName::from_wire(n))
        .collect()
}

#[async_trait]
impl WebhookApi for PersonioWebhookApi {
    async fn create(&self, spec: &SubscriptionSpec) -> Result<RemoteWebhook, WebhookApiError> {
        let new = NewWebhook::enabled_with_token(
            spec.url.clone(),
            spec.description.clone(),
            spec.token.clone(),
            names(spec),
        );
        self.client
            .create_webhook(&new)
            .await
            .map(remote)
            .map_err(|e| api_error(e, None))
    }

    async fn update(
        &self,
        webhook_id: &str,
        spec: &SubscriptionSpec,
    ) -> Result<RemoteWebhook, WebhookApiError> {
        let patch = WebhookPatch {
            url: Some(spec.url.clone()),
            description: Some(spec.description.clone()),
            status: Some(WebhookStatus::Enabled),
            auth_type: Some(crate::connectors::personio::WebhookAuthType::Token),
            token: Some(spec.token.clone()),
            enabled_events: Some(names(spec)),
        };
        self.client
            .update_webhook(webhook_id, &patch)
            .await
            .map(remote)
            .map_err(|e| api_error(e, Some(webhook_id)))
    }

    async fn get(&self, webhook_id: &str) -> Result<RemoteWebhook, WebhookApiError> {
        self.client
            .get_webhook(webhook_id)
            .await
            .map(remote)
            .map_err(|e| api_error(e, Some(webhook_id)))
    }

    async fn delete(&self, webhook_id: &str) -> Result<(), WebhookApiError> {
        self.client
            .delete_webhook(webhook_id)
            .await
            .map_err(|e| api_error(e, Some(webhook_id)))
    }

    async fn events_since(
        &self,
        webhook_id: &str,
        since: Timestamp,
    ) -> Result<Vec<ListedEvent>, WebhookApiError> {
        let listing = self
            .client
            .webhook_events_since(webhook_id, since)
            .await
            .map_err(|e| api_error(e, Some(webhook_id)))?;
        if !listing.malformed.is_empty() {
            tracing::warn!(
                webhook_id,
                malformed = listing.malformed.len(),
                "listed webhook events that could not be read were skipped"
            );
        }
        Ok(listing
            .items
            .into_iter()
            .map(|e| ListedEvent {
                company_id: Some(e.company_id),
                event_name: e.name.as_str().to_string(),
                occurred_at: e.occurred_at,
                resource_id: e.resource_id,
            })
            .collect())
    }
}
