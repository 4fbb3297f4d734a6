//! The per-integration webhook token: the value Personio sends verbatim in `Authorization` with every
//! delivery (personio-api-v2.md §8, `auth_type` TOKEN). Kept in Secrets Manager under
//! `<SECRET_PREFIX>/<integration_id>/webhook-token` as `{"current": "...", "previous": "..."}`: both are
//! accepted, so that a rotation (new current, old kept as previous) never rejects a delivery Personio
//! sent with the old value. Compared in constant time ([`WebhookTokens::accepts`]). See
//! docs/adr/0025-webhook-receiver-auth.md.
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::domain::IntegrationId;

/// Random bytes in a token (256 bits), written as 64 hex characters.
const TOKEN_BYTES: usize = 32;

#[derive(Debug, Error)]
pub enum TokenError {
    /// The secret exists but is unusable; names the problem, never a value.
    #[error("the webhook token secret is invalid: {0}")]
    Invalid(String),
    #[error("webhook token backend error: {0}")]
    Backend(String),
}

/// The accepted tokens of one integration.
#[derive(Clone)]
pub struct WebhookTokens {
    pub current: SecretString,
    /// The value before the last rotation, still accepted until the next one.
    pub previous: Option<SecretString>,
}

impl std::fmt::Debug for WebhookTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTokens")
            .field("current", &"[redacted]")
            .field("previous", &self.previous.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The secret's document. `{}` (no current token) is what a removed subscription leaves: the secret stays
/// (no function may delete secrets) and no token is accepted.
#[derive(Serialize, Deserialize)]
struct TokenDocument {
    #[serde(default)]
    current: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<String>,
}

/// A fresh random token (256 bits from the OS-seeded CSPRNG, hex).
pub(crate) fn new_token() -> SecretString {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

impl WebhookTokens {
    /// A first token, nothing previous.
    pub fn fresh() -> Self {
        Self {
            current: new_token(),
            previous: None,
        }
    }

    /// A new current token; the current one becomes previous, the old previous is dropped.
    pub fn rotated(&self) -> Self {
        Self {
            current: new_token(),
            previous: Some(self.current.clone()),
        }
    }

    /// Whether `presented` (the `Authorization` header) is the current or the previous token. Both are
    /// compared, in constant time, whatever the first answer: the time taken tells nothing.
    pub fn accepts(&self, presented: &str) -> bool {
        let current = ct_eq(presented, self.current.expose_secret());
        let previous = match &self.previous {
            Some(p) => ct_eq(presented, p.expose_secret()),
            None => ct_eq(presented, DUMMY_TOKEN),
        };
        (current | (previous & u8::from(self.previous.is_some()))) != 0
    }

    pub fn to_secret_json(&self) -> String {
        let doc = TokenDocument {
            current: self.current.expose_secret().to_string(),
            previous: self
                .previous
                .as_ref()
                .map(|p| p.expose_secret().to_string()),
        };
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// `None` for the document of a removed subscription (`{}`).
    pub fn from_secret_json(json: &str) -> Result<Option<Self>, TokenError> {
        let doc: TokenDocument = serde_json::from_str(json).map_err(|e| {
            TokenError::Invalid(format!(
                "expected {{\"current\", \"previous\"}} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if doc.current.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            current: SecretString::from(doc.current),
            previous: doc
                .previous
                .filter(|p| !p.is_empty())
                .map(SecretString::from),
        }))
    }
}

/// Compared against when an integration has no tokens, so that an unknown integration costs the same
/// work as a wrong token (docs/adr/0025).
const DUMMY_TOKEN: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// 1 when equal. Lengths differ → 0, but the bytes are still compared (against themselves) so the time
/// depends only on the presented length, which the caller knows anyway.
fn ct_eq(presented: &str, expected: &str) -> u8 {
    let a = presented.as_bytes();
    let b = expected.as_bytes();
    if a.len() != b.len() {
        let _ = a.ct_eq(a);
        return 0;
    }
    a.ct_eq(b).unwrap_u8()
}

/// Where the tokens live.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The tokens of an integration; `None` when it has none (no subscription yet, or no integration).
    /// `fresh` bypasses any cache (the receiver retries once with it before refusing a delivery, so a
    /// token rotated by another container is picked up at once).
    async fn tokens(
        &self,
        integration_id: &IntegrationId,
        fresh: bool,
    ) -> Result<Option<WebhookTokens>, TokenError>;
    async fn put_tokens(
        &self,
        integration_id: &IntegrationId,
        tokens: &WebhookTokens,
    ) -> Result<(), TokenError>;
    async fn delete_tokens(&self, integration_id: &IntegrationId) -> Result<(), TokenError>;
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Tokens in memory (unit tests).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, WebhookTokens>>,
}

#[cfg(test)]
#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn tokens(
        &self,
        integration_id: &IntegrationId,
        _fresh: bool,
    ) -> Result<Option<WebhookTokens>, TokenError> {
        Ok(lock(&self.tokens).get(integration_id.as_str()).cloned())
    }
    async fn put_tokens(
        &self,
        integration_id: &IntegrationId,
        tokens: &WebhookTokens,
    ) -> Result<(), TokenError> {
        lock(&self.tokens).insert(integration_id.as_str().to_string(), tokens.clone());
        Ok(())
    }
    async fn delete_tokens(&self, integration_id: &IntegrationId) -> Result<(), TokenError> {
        lock(&self.tokens).remove(integration_id.as_str());
        Ok(())
    }
}

/// How long a warm container keeps tokens before asking Secrets Manager again.
pub(crate) const TOKEN_CACHE_TTL: Duration = Duration::from_secs(60);

/// Tokens in Secrets Manager, cached for [`TOKEN_CACHE_TTL`] (a miss is cached too, so that a flood of
/// deliveries to an unknown integration costs one read a minute).
pub struct SecretsManagerTokenStore {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    cache: Mutex<HashMap<String, (Instant, Option<WebhookTokens>)>>,
}

impl SecretsManagerTokenStore {
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: String) -> Self {
        Self {
            client,
            prefix,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `<prefix>/<integration_id>/webhook-token`.
    pub fn secret_name(&self, integration_id: &IntegrationId) -> String {
        format!(
            "{}/webhook-token",
            crate::credentials::secret_name(&self.prefix, integration_id)
        )
    }

    fn remember(&self, id: &IntegrationId, tokens: Option<WebhookTokens>) {
        lock(&self.cache).insert(id.as_str().to_string(), (Instant::now(), tokens));
    }
}

fn backend(op: &str, e: impl std::error::Error) -> TokenError {
    TokenError::Backend(format!("{op}: {}", DisplayErrorContext(e)))
}

#[async_trait]
impl TokenStore for SecretsManagerTokenStore {
    async fn tokens(
        &self,
        integration_id: &IntegrationId,
        fresh: bool,
    ) -> Result<Option<WebhookTokens>, TokenError> {
        if !fresh {
            if let Some((at, hit)) = lock(&self.cache).get(integration_id.as_str()) {
                if at.elapsed() < TOKEN_CACHE_TTL {
                    return Ok(hit.clone());
                }
            }
        }
        let result = self
            .client
            .get_secret_value()
            .secret_id(self.secret_name(integration_id))
            .send()
            .await;
        let tokens = match result {
            Ok(out) => match out.secret_string() {
                Some(json) => WebhookTokens::from_secret_json(json)?,
                None => return Err(TokenError::Invalid("the secret has no string value".into())),
            },
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception() || s.is_invalid_request_exception()
                }) =>
            {
                None
            }
            Err(e) => return Err(backend("GetSecretValue", e)),
        };
        self.remember(integration_id, tokens.clone());
        Ok(tokens)
    }

    async fn put_tokens(
        &self,
        integration_id: &IntegrationId,
        tokens: &WebhookTokens,
    ) -> Result<(), TokenError> {
        let name = self.secret_name(integration_id);
        let document = tokens.to_secret_json();
        crate::credentials::put_or_create_secret(
            &self.client,
            &name,
            "Personio webhook token of one integration (current, previous)",
            &document,
        )
        .await
        .map_err(|e| TokenError::Backend(e.to_string()))?;
        self.remember(integration_id, Some(tokens.clone()));
        Ok(())
    }

    /// Writes the empty document (`{}`): no token is accepted from then on. The secret itself stays — no
    /// function of the stack may delete secrets — and the next registration writes a fresh token into it.
    async fn delete_tokens(&self, integration_id: &IntegrationId) -> Result<(), TokenError> {
        let result = self
            .client
            .put_secret_value()
            .secret_id(self.secret_name(integration_id))
            .secret_string("{}")
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(backend("PutSecretValue", e)),
        }
        self.remember(integration_id, None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_and_previous_are_accepted_and_nothing_else() {
        let first = WebhookTokens::fresh();
        let first_value = first.current.expose_secret().to_string();
        assert_eq!(first_value.len(), 64);
        assert!(first.accepts(&first_value));
        assert!(!first.accepts(""));
        assert!(
            !first.accepts(DUMMY_TOKEN),
            "no previous: the dummy is never accepted"
        );
        assert!(!first.accepts(&first_value[..63]));
        let second = first.rotated();
        assert!(second.accepts(&first_value), "previous still accepted");
        assert!(second.accepts(second.current.expose_secret()));
        let third = second.rotated();
        assert!(
            !third.accepts(&first_value),
            "two rotations later it is gone"
        );
    }

    #[test]
    fn the_document_round_trips_and_debug_is_redacted() {
        let t = WebhookTokens::fresh().rotated();
        let back = WebhookTokens::from_secret_json(&t.to_secret_json())
            .unwrap()
            .unwrap();
        assert!(
            WebhookTokens::from_secret_json("{}").unwrap().is_none(),
            "removed"
        );
        assert!(back.accepts(t.current.expose_secret()));
        assert!(back.accepts(t.previous.as_ref().unwrap().expose_secret()));
        let debug = format!("{t:?}");
        assert!(!debug.contains(t.current.expose_secret()), "{debug}");
        let err = WebhookTokens::from_secret_json("{\"current\": \"abc\"")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("abc"), "{err}");
    }
}
