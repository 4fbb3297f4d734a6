//! The subscription with Personio, managed through the API (`PUT|GET|DELETE /integrations/{id}/webhooks`):
//! register or update it (status ENABLED, the events the settings need, the receiver URL, the token),
//! show Personio's view of it next to the last delivery received, remove it.
//!
//! The Personio side is the [`WebhookApi`] port (the Personio client implements it); the token lives in
//! the [`TokenStore`]; the product's record of the subscription in the [`StateStore`].
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;
use serde::Serialize;
use thiserror::Error;

use super::envelope::event_names_of;
use super::token::{TokenError, TokenStore, WebhookTokens};
use crate::domain::{IntegrationId, Workflow};
use crate::engine::Clock;
use crate::settings::{IntegrationSettings, TimeEntryMode};
use crate::store::{StateStore, StoreError, WebhookDelivery, WebhookSubscription};

/// What the product asks Personio to register.
#[derive(Debug, Clone)]
pub struct SubscriptionSpec {
    pub url: String,
    pub description: String,
    pub enabled_events: Vec<String>,
    /// Sent verbatim as `Authorization` with every delivery.
    pub token: SecretString,
}

/// A webhook as Personio shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteWebhook {
    pub id: String,
    pub url: String,
    /// `ENABLED` or `DISABLED` (Personio may disable a webhook whose deliveries keep failing).
    pub status: String,
    pub enabled_events: Vec<String>,
}

/// An event Personio lists for a webhook (`GET /v2/webhooks/{id}/events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEvent {
    pub company_id: Option<String>,
    pub event_name: String,
    pub occurred_at: Timestamp,
    /// `payload.id`.
    pub resource_id: Option<String>,
}

#[derive(Debug, Error)]
pub enum WebhookApiError {
    #[error("Personio has no webhook {0}")]
    NotFound(String),
    /// Personio refused the request (4xx other than 404): the detail is Personio's.
    #[error("Personio refused the webhook request ({status}): {detail}")]
    Refused { status: u16, detail: String },
    #[error("Personio's webhook API is unavailable: {0}")]
    Unavailable(String),
    /// Personio refused the integration's credentials: a setup problem, not an outage.
    #[error("Personio refused the integration's credentials: {0}")]
    NotConnected(String),
}

/// Personio's webhook management API, as the product uses it.
#[async_trait]
pub trait WebhookApi: Send + Sync {
    async fn create(&self, spec: &SubscriptionSpec) -> Result<RemoteWebhook, WebhookApiError>;
    async fn update(
        &self,
        webhook_id: &str,
        spec: &SubscriptionSpec,
    ) -> Result<RemoteWebhook, WebhookApiError>;
    async fn get(&self, webhook_id: &str) -> Result<RemoteWebhook, WebhookApiError>;
    async fn delete(&self, webhook_id: &str) -> Result<(), WebhookApiError>;
    /// Every event listed for the webhook that occurred at or after `since` (all pages).
    async fn events_since(
        &self,
        webhook_id: &str,
        since: Timestamp,
    ) -> Result<Vec<ListedEvent>, WebhookApiError>;
}

#[derive(Debug, Error)]
pub enum SubscriptionError {
    #[error("no receiver URL: send \"url\" in the body or set WEBHOOK_RECEIVER_BASE_URL")]
    NoUrl,
    #[error("the receiver URL must be an absolute http(s) URL: {0}")]
    BadUrl(String),
    #[error("integration {0} has no webhook subscription")]
    NotSubscribed(IntegrationId),
    #[error(transparent)]
    Personio(#[from] WebhookApiError),
    #[error("the webhook token store failed: {0}")]
    Tokens(#[from] TokenError),
    #[error("the state store failed: {0}")]
    Store(#[from] StoreError),
}

/// The body of `PUT /integrations/{id}/webhooks`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSubscription {
    /// The receiver URL; default: `WEBHOOK_RECEIVER_BASE_URL` + `/integrations/{id}/webhooks/personio`.
    #[serde(default)]
    pub url: Option<String>,
    /// Issue a new token; the old one stays accepted until the next rotation.
    #[serde(default)]
    pub rotate_token: bool,
    /// The Personio company whose events are accepted; when never set, the first authenticated
    /// delivery's company is pinned.
    #[serde(default)]
    pub company_id: Option<String>,
}

/// What `PUT` and `GET` answer. Never the token.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub integration_id: String,
    pub subscription: Option<WebhookSubscription>,
    /// Personio's view (`None` when there is no subscription).
    pub personio: Option<RemoteWebhook>,
    /// Why Personio's view is missing although a subscription is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personio_error: Option<String>,
    pub company_id: Option<String>,
    pub last_delivery: Option<WebhookDelivery>,
    pub replayed_until: std::collections::BTreeMap<Workflow, Timestamp>,
}

/// What a `PUT` did, for the answer and the audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    pub created: bool,
    pub token_rotated: bool,
}

/// The events an integration's settings need: every workflow's, except attendance periods when time
/// entries only go TimeTrack → Personio (push mode: Personio-side changes are not synced back).
pub fn required_events(settings: &IntegrationSettings) -> Vec<String> {
    Workflow::ALL
        .into_iter()
        .filter(|w| {
            !(*w == Workflow::TimeEntries && settings.time_entries.mode == TimeEntryMode::Push)
        })
        .flat_map(|w| event_names_of(w).iter().map(|n| n.to_string()))
        .collect()
}

/// The default receiver URL of an integration under `base` (the stack's API URL).
pub fn receiver_url(base: &str, integration_id: &IntegrationId) -> String {
    format!(
        "{}/integrations/{integration_id}/webhooks/personio",
        base.trim_end_matches('/')
    )
}

/// The subscription operations.
#[derive(Clone)]
pub struct Subscriptions {
    pub store: Arc<dyn StateStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub clock: Arc<dyn Clock>,
    /// `WEBHOOK_RECEIVER_BASE_URL`: the API's base URL (set from the stack's API URL).
    pub receiver_base_url: Option<String>,
}

impl Subscriptions {
    /// Registers (first time) or updates the subscription. The token is stored *before* Personio is
    /// told, so that from the moment Personio uses a new token the receiver accepts it (and the old one
    /// as previous).
    pub async fn put(
        &self,
        integration_id: &IntegrationId,
        settings: &IntegrationSettings,
        api: &dyn WebhookApi,
        request: &PutSubscription,
    ) -> Result<PutOutcome, SubscriptionError> {
        let url = match (&request.url, &self.receiver_base_url) {
            (Some(u), _) => u.trim().to_string(),
            (None, Some(base)) => receiver_url(base, integration_id),
            (None, None) => return Err(SubscriptionError::NoUrl),
        };
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {}
            _ => return Err(SubscriptionError::BadUrl(url)),
        }
        let now = self.clock.now();
        let state = self.store.get_webhook_state(integration_id).await?;
        let existing = self.tokens.tokens(integration_id, true).await?;
        let (tokens, token_rotated) = match existing {
            None => (WebhookTokens::fresh(), true),
            Some(t) if request.rotate_token => (t.rotated(), true),
            Some(t) => (t, false),
        };
        if token_rotated {
            self.tokens.put_tokens(integration_id, &tokens).await?;
        }
        if let Some(company) = request.company_id.as_deref().map(str::trim) {
            if !company.is_empty() {
                self.store
                    .put_webhook_company(integration_id, Some(company))
                    .await?;
            }
        }
        let spec = SubscriptionSpec {
            url: url.clone(),
            description: format!("Personio ⇄ TimeTrack sync, integration {integration_id}"),
            enabled_events: required_events(settings),
            token: tokens.current.clone(),
        };
        let (remote, created) = match &state.subscription {
            Some(sub) => match api.update(&sub.webhook_id, &spec).await {
                Ok(r) => (r, false),
                // Removed on Personio's side: register anew.
                Err(WebhookApiError::NotFound(_)) => (api.create(&spec).await?, true),
                Err(e) => return Err(e.into()),
            },
            None => (api.create(&spec).await?, true),
        };
        let record = WebhookSubscription {
            webhook_id: remote.id.clone(),
            url,
            enabled_events: spec.enabled_events,
            registered_at: match (&state.subscription, created) {
                (Some(sub), false) => sub.registered_at,
                _ => now,
            },
            token_rotated_at: match (&state.subscription, token_rotated) {
                (Some(sub), false) => sub.token_rotated_at,
                _ => now,
            },
        };
        self.store
            .put_webhook_subscription(integration_id, Some(&record))
            .await?;
        Ok(PutOutcome {
            created,
            token_rotated,
        })
    }

    /// The recorded subscription, Personio's view of it and the last delivery received. Personio being
    /// unavailable is reported in the view, not as an error: the product's own part is still worth seeing.
    pub async fn view(
        &self,
        integration_id: &IntegrationId,
        api: Option<&dyn WebhookApi>,
    ) -> Result<SubscriptionView, SubscriptionError> {
        let state = self.store.get_webhook_state(integration_id).await?;
        let (personio, personio_error) = match (&state.subscription, api) {
            (Some(sub), Some(api)) => match api.get(&sub.webhook_id).await {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(e.to_string())),
            },
            (Some(_), None) => (None, Some("no Personio credentials".to_string())),
            (None, _) => (None, None),
        };
        Ok(SubscriptionView {
            integration_id: integration_id.as_str().to_string(),
            subscription: state.subscription,
            personio,
            personio_error,
            company_id: state.company_id,
            last_delivery: state.last_delivery,
            replayed_until: state.replayed_until,
        })
    }

    /// Removes the subscription with Personio (already gone there is fine), then the record and the
    /// token: deliveries still in flight are refused from then on.
    pub async fn delete(
        &self,
        integration_id: &IntegrationId,
        api: &dyn WebhookApi,
    ) -> Result<WebhookSubscription, SubscriptionError> {
        let state = self.store.get_webhook_state(integration_id).await?;
        let sub = state
            .subscription
            .ok_or_else(|| SubscriptionError::NotSubscribed(integration_id.clone()))?;
        match api.delete(&sub.webhook_id).await {
            Ok(()) | Err(WebhookApiError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .put_webhook_subscription(integration_id, None)
            .await?;
        self.tokens.delete_tokens(integration_id).await?;
        Ok(sub)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::ManualClock;
    use crate::store::memory::MemoryStore;
    use crate::webhooks::token::MemoryTokenStore;
    use secrecy::ExposeSecret;
    use std::sync::Mutex;

    /// Personio's webhook API in memory: what was registered, with which token.
    #[derive(Default)]
    pub(crate) struct FakeApi {
        pub hooks: Mutex<Vec<(RemoteWebhook, String)>>,
        pub events: Mutex<Vec<ListedEvent>>,
    }

    #[async_trait]
    impl WebhookApi for FakeApi {
        async fn create(&self, spec: &SubscriptionSpec) -> Result<RemoteWebhook, WebhookApiError> {
            let mut hooks = self.hooks.lock().unwrap();
            let r = RemoteWebhook {
                id: format!("wh-{}", hooks.len() + 1),
                url: spec.url.clone(),
                status: "ENABLED".into(),
                enabled_events: spec.enabled_events.clone(),
            };
            hooks.push((r.clone(), spec.token.expose_secret().to_string()));
            Ok(r)
        }
        async fn update(
            &self,
            id: &str,
            spec: &SubscriptionSpec,
        ) -> Result<RemoteWebhook, WebhookApiError> {
            let mut hooks = self.hooks.lock().unwrap();
            let h = hooks
                .iter_mut()
                .find(|(r, _)| r.id == id)
                .ok_or_else(|| WebhookApiError::NotFound(id.into()))?;
            h.0.url = spec.url.clone();
            h.0.enabled_events = spec.enabled_events.clone();
            h.1 = spec.token.expose_secret().to_string();
            Ok(h.0.clone())
        }
        async fn get(&self, id: &str) -> Result<RemoteWebhook, WebhookApiError> {
            let hooks = self.hooks.lock().unwrap();
            hooks
                .iter()
                .find(|(r, _)| r.id == id)
                .map(|(r, _)| r.clone())
                .ok_or_else(|| WebhookApiError::NotFound(id.into()))
        }
        async fn delete(&self, id: &str) -> Result<(), WebhookApiError> {
            let mut hooks = self.hooks.lock().unwrap();
            let before = hooks.len();
            hooks.retain(|(r, _)| r.id != id);
            if hooks.len() == before {
                return Err(WebhookApiError::NotFound(id.into()));
            }
            Ok(())
        }
        async fn events_since(
            &self,
            _id: &str,
            since: Timestamp,
        ) -> Result<Vec<ListedEvent>, WebhookApiError> {
            Ok(self
                .events
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.occurred_at >= since)
                .cloned()
                .collect())
        }
    }

    fn subs(store: &MemoryStore, tokens: Arc<MemoryTokenStore>) -> Subscriptions {
        Subscriptions {
            store: Arc::new(store.clone()),
            tokens,
            clock: Arc::new(ManualClock::new("2026-12-07T10:00:00Z".parse().unwrap())),
            receiver_base_url: Some("https://api.example.test/".into()),
        }
    }

    #[tokio::test]
    async fn register_update_rotate_and_delete() {
        let store = MemoryStore::new();
        let tokens = Arc::new(MemoryTokenStore::default());
        let s = subs(&store, tokens.clone());
        let api = FakeApi::default();
        let acme = IntegrationId::new("acme").unwrap();
        let settings = IntegrationSettings::example();
        let first = s
            .put(&acme, &settings, &api, &PutSubscription::default())
            .await
            .unwrap();
        assert_eq!(
            first,
            PutOutcome {
                created: true,
                token_rotated: true
            }
        );
        let (hook, sent) = api.hooks.lock().unwrap()[0].clone();
        assert_eq!(
            hook.url,
            "https://api.example.test/integrations/acme/webhooks/personio"
        );
        assert!(hook
            .enabled_events
            .contains(&"attendance-period.updated".to_string()));
        let stored = tokens.tokens(&acme, true).await.unwrap().unwrap();
        assert!(stored.accepts(&sent), "Personio got the stored token");

        let again = s
            .put(&acme, &settings, &api, &PutSubscription::default())
            .await
            .unwrap();
        assert_eq!(
            again,
            PutOutcome {
                created: false,
                token_rotated: false
            }
        );
        assert_eq!(
            api.hooks.lock().unwrap().len(),
            1,
            "updated, not duplicated"
        );

        let rotate = PutSubscription {
            rotate_token: true,
            ..Default::default()
        };
        s.put(&acme, &settings, &api, &rotate).await.unwrap();
        let new_sent = api.hooks.lock().unwrap()[0].1.clone();
        assert_ne!(new_sent, sent);
        let stored = tokens.tokens(&acme, true).await.unwrap().unwrap();
        assert!(
            stored.accepts(&new_sent) && stored.accepts(&sent),
            "both during rotation"
        );

        let view = s.view(&acme, Some(&api)).await.unwrap();
        assert_eq!(view.personio.unwrap().status, "ENABLED");
        let json = serde_json::to_string(&s.view(&acme, Some(&api)).await.unwrap()).unwrap();
        assert!(!json.contains(&new_sent), "the token is never shown");

        s.delete(&acme, &api).await.unwrap();
        assert!(api.hooks.lock().unwrap().is_empty());
        assert!(tokens.tokens(&acme, true).await.unwrap().is_none());
        assert!(matches!(
            s.delete(&acme, &api).await,
            Err(SubscriptionError::NotSubscribed(_))
        ));
    }

    #[tokio::test]
    async fn push_mode_needs_no_attendance_events_and_a_url_is_required() {
        let mut settings = IntegrationSettings::example();
        settings.time_entries.mode = TimeEntryMode::Push;
        assert!(!required_events(&settings)
            .iter()
            .any(|e| e.starts_with("attendance-period")));
        let store = MemoryStore::new();
        let mut s = subs(&store, Arc::new(MemoryTokenStore::default()));
        s.receiver_base_url = None;
        let acme = IntegrationId::new("acme").unwrap();
        assert!(matches!(
            s.put(
                &acme,
                &settings,
                &FakeApi::default(),
                &PutSubscription::default()
            )
            .await,
            Err(SubscriptionError::NoUrl)
        ));
        let bad = PutSubscription {
            url: Some("ftp://x".into()),
            ..Default::default()
        };
        assert!(matches!(
            s.put(&acme, &settings, &FakeApi::default(), &bad).await,
            Err(SubscriptionError::BadUrl(_))
        ));
    }
}
