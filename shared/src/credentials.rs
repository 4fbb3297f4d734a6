//! The per-integration secret: Personio client id and secret, TimeTrack account, API key and secret.
//!
//! Secret values are `SecretString`s: their `Debug` prints `[REDACTED]` and they have no `Display`, so they
//! cannot reach logs, errors or run records by accident; code that needs the value calls `expose_secret()`
//! at the one place it goes on the wire.
//!
//! Parsing never lets serde_json describe a value: its messages quote offending values ("invalid type:
//! string \"s3cr3t\""), so [`Credentials::from_secret_json`] checks the document field by field and reports
//! only field names, line and column.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use thiserror::Error;

use crate::domain::IntegrationId;

/// Prefix of the per-integration secret names when `SECRET_PREFIX` is not set.
pub const DEFAULT_SECRET_PREFIX: &str = "personio-timetrack-sync";

/// The JSON document stored in Secrets Manager for one integration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub personio_client_id: String,
    pub personio_client_secret: SecretString,
    pub timetrack_account: String,
    pub timetrack_api_key: SecretString,
    pub timetrack_api_secret: SecretString,
}

/// The fields of the secret document, in the order they are reported.
const FIELDS: [&str; 5] = [
    "personio_client_id",
    "personio_client_secret",
    "timetrack_account",
    "timetrack_api_key",
    "timetrack_api_secret",
];

#[derive(Debug, Error)]
pub enum CredentialsError {
    #[error("no credentials are stored for integration {integration_id}")]
    NotFound { integration_id: IntegrationId },
    /// The secret exists but is unusable; `reason` names fields, line and column, never a value.
    #[error("the credentials secret is invalid: {reason}")]
    Invalid { reason: String },
    #[error("credentials backend error: {message}")]
    Backend { message: String },
}

/// `<prefix>/<integration_id>`, the Secrets Manager name of an integration's secret.
pub fn secret_name(prefix: &str, integration_id: &IntegrationId) -> String {
    format!("{}/{}", prefix.trim_end_matches('/'), integration_id)
}

impl Credentials {
    /// Parses the secret document, naming the missing, extra, mistyped or empty FIELD on error.
    pub fn from_secret_json(json: &str) -> Result<Self, CredentialsError> {
        let invalid = |reason: String| CredentialsError::Invalid { reason };
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            invalid(format!(
                "not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let object = value
            .as_object()
            .ok_or_else(|| invalid("the secret must be a JSON object".to_string()))?;

        let mut problems = Vec::new();
        let mut unknown: Vec<&str> = object
            .keys()
            .map(String::as_str)
            .filter(|k| !FIELDS.contains(k))
            .collect();
        unknown.sort_unstable();
        for key in unknown {
            problems.push(format!("unknown field {}", describe_key(key)));
        }
        for field in FIELDS {
            match object.get(field) {
                None => problems.push(format!("missing field {field}")),
                Some(serde_json::Value::String(v)) if v.trim().is_empty() => {
                    problems.push(format!("field {field} is empty"))
                }
                Some(serde_json::Value::String(_)) => {}
                Some(_) => problems.push(format!("field {field} must be a string")),
            }
        }
        if !problems.is_empty() {
            return Err(invalid(problems.join("; ")));
        }
        // Every field was checked above; should serde still object, report only where.
        serde_json::from_value(value).map_err(|e| {
            invalid(format!(
                "unexpected shape (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }

    /// The secret document, for storing it. The only place the secret values are put into a string.
    pub fn to_secret_json(&self) -> String {
        serde_json::json!({
            "personio_client_id": self.personio_client_id,
            "personio_client_secret": self.personio_client_secret.expose_secret(),
            "timetrack_account": self.timetrack_account,
            "timetrack_api_key": self.timetrack_api_key.expose_secret(),
            "timetrack_api_secret": self.timetrack_api_secret.expose_secret(),
        })
        .to_string()
    }
}

/// An unknown key is named only if it looks like a field name (someone may paste a secret as a key).
fn describe_key(key: &str) -> String {
    let looks_like_a_field = !key.is_empty()
        && key.len() <= 40
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if looks_like_a_field {
        key.to_string()
    } else {
        "(a key that is not a field name; not shown)".to_string()
    }
}

/// Where credentials come from (the port). Production: [`SecretsManagerCredentials`]; unit tests:
/// [`StaticCredentials`].
#[async_trait]
pub trait CredentialsSource: Send + Sync {
    async fn credentials(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<Credentials, CredentialsError>;
    /// Creates or replaces the integration's secret.
    async fn store(
        &self,
        integration_id: &IntegrationId,
        credentials: &Credentials,
    ) -> Result<(), CredentialsError>;
}

/// In-memory credentials for tests; clones share one map.
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials {
    inner: Arc<Mutex<HashMap<IntegrationId, Credentials>>>,
}

#[cfg(any(test, feature = "testkit"))]
impl StaticCredentials {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(self, integration_id: IntegrationId, credentials: Credentials) -> Self {
        lock(&self.inner).insert(integration_id, credentials);
        self
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each critical section is a single map operation, so a poisoned map is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(any(test, feature = "testkit"))]
#[async_trait]
impl CredentialsSource for StaticCredentials {
    async fn credentials(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<Credentials, CredentialsError> {
        lock(&self.inner)
            .get(integration_id)
            .cloned()
            .ok_or_else(|| CredentialsError::NotFound {
                integration_id: integration_id.clone(),
            })
    }

    async fn store(
        &self,
        integration_id: &IntegrationId,
        credentials: &Credentials,
    ) -> Result<(), CredentialsError> {
        lock(&self.inner).insert(integration_id.clone(), credentials.clone());
        Ok(())
    }
}

/// Credentials from AWS Secrets Manager (secret `<prefix>/<integration_id>`), cached per integration for
/// `cache_ttl` so that a warm Lambda does not fetch the secret on every invocation.
#[derive(Clone)]
pub struct SecretsManagerCredentials {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    cache_ttl: Duration,
    cache: Arc<Mutex<HashMap<IntegrationId, (Instant, Credentials)>>>,
}

impl std::fmt::Debug for SecretsManagerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerCredentials")
            .field("prefix", &self.prefix)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl SecretsManagerCredentials {
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        prefix: impl Into<String>,
        cache_ttl: Duration,
    ) -> Self {
        Self {
            client,
            prefix: prefix.into(),
            cache_ttl,
            cache: Arc::default(),
        }
    }

    pub fn secret_name(&self, integration_id: &IntegrationId) -> String {
        secret_name(&self.prefix, integration_id)
    }

    fn cached(&self, integration_id: &IntegrationId) -> Option<Credentials> {
        let cache = lock(&self.cache);
        cache
            .get(integration_id)
            .filter(|(fetched, _)| fetched.elapsed() < self.cache_ttl)
            .map(|(_, credentials)| credentials.clone())
    }

    fn remember(&self, integration_id: &IntegrationId, credentials: &Credentials) {
        lock(&self.cache).insert(
            integration_id.clone(),
            (Instant::now(), credentials.clone()),
        );
    }

    fn forget(&self, integration_id: &IntegrationId) {
        lock(&self.cache).remove(integration_id);
    }
}

/// A Secrets Manager write that failed: the operation and the SDK's error with its context (never the
/// secret's value).
#[derive(Debug, Error)]
#[error("{operation}: {detail}")]
pub(crate) struct SecretWriteError {
    operation: &'static str,
    detail: String,
}

impl SecretWriteError {
    fn of(operation: &'static str, err: impl std::error::Error) -> Self {
        Self {
            operation,
            detail: DisplayErrorContext(err).to_string(),
        }
    }
}

/// Writes `document` as the secret `name`, for every secret the product keeps (credentials, webhook
/// tokens). Updates are the common case; a missing secret is created, and a create that lost a race to
/// another creator falls back to an update once.
pub(crate) async fn put_or_create_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
    description: &str,
    document: &str,
) -> Result<(), SecretWriteError> {
    let put = client
        .put_secret_value()
        .secret_id(name)
        .secret_string(document)
        .send()
        .await;
    match put {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            let created = client
                .create_secret()
                .name(name)
                .description(description)
                .secret_string(document)
                .send()
                .await;
            match created {
                Ok(_) => Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_exists_exception()) =>
                {
                    client
                        .put_secret_value()
                        .secret_id(name)
                        .secret_string(document)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| SecretWriteError::of("PutSecretValue", e))
                }
                Err(e) => Err(SecretWriteError::of("CreateSecret", e)),
            }
        }
        Err(e) => Err(SecretWriteError::of("PutSecretValue", e)),
    }
}

fn backend(operation: &str, err: impl std::error::Error) -> CredentialsError {
    CredentialsError::Backend {
        message: format!("{operation}: {}", DisplayErrorContext(err)),
    }
}

#[async_trait]
impl CredentialsSource for SecretsManagerCredentials {
    async fn credentials(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<Credentials, CredentialsError> {
        if let Some(hit) = self.cached(integration_id) {
            return Ok(hit);
        }
        let result = self
            .client
            .get_secret_value()
            .secret_id(self.secret_name(integration_id))
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            // A secret scheduled for deletion answers InvalidRequest: for us it is as gone as a missing one.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception() || s.is_invalid_request_exception()
                }) =>
            {
                self.forget(integration_id);
                return Err(CredentialsError::NotFound {
                    integration_id: integration_id.clone(),
                });
            }
            Err(e) => return Err(backend("GetSecretValue", e)),
        };
        let json = output
            .secret_string()
            .ok_or_else(|| CredentialsError::Invalid {
                reason: "the secret has no string value (binary secrets are not supported)"
                    .to_string(),
            })?;
        let credentials = Credentials::from_secret_json(json)?;
        self.remember(integration_id, &credentials);
        Ok(credentials)
    }

    async fn store(
        &self,
        integration_id: &IntegrationId,
        credentials: &Credentials,
    ) -> Result<(), CredentialsError> {
        let name = self.secret_name(integration_id);
        let document = credentials.to_secret_json();
        put_or_create_secret(
            &self.client,
            &name,
            "Personio ⇄ TimeTrack sync credentials of one integration",
            &document,
        )
        .await
        .map_err(|e| CredentialsError::Backend {
            message: e.to_string(),
        })?;
        self.remember(integration_id, credentials);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRETS: [&str; 3] = ["pc-s3cr3t-Value", "tt-k3y-Value", "tt-s3cr3t-Value"];

    fn sample_json() -> String {
        format!(
            r#"{{"personio_client_id":"papi-client","personio_client_secret":"{}",
               "timetrack_account":"acme","timetrack_api_key":"{}","timetrack_api_secret":"{}"}}"#,
            SECRETS[0], SECRETS[1], SECRETS[2]
        )
    }

    fn reason(err: CredentialsError) -> String {
        match err {
            CredentialsError::Invalid { reason } => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn assert_no_secret(text: &str) {
        for secret in SECRETS {
            assert!(!text.contains(secret), "secret leaked into {text:?}");
        }
        assert!(
            !text.contains("s3cr3t"),
            "secret fragment leaked into {text:?}"
        );
    }

    #[test]
    fn parses_and_round_trips_through_the_secret_document() {
        let c = Credentials::from_secret_json(&sample_json()).unwrap();
        assert_eq!(c.personio_client_id, "papi-client");
        assert_eq!(c.timetrack_api_key.expose_secret(), SECRETS[1]);
        let again = Credentials::from_secret_json(&c.to_secret_json()).unwrap();
        assert_eq!(again.personio_client_secret.expose_secret(), SECRETS[0]);
        assert_eq!(again.timetrack_api_secret.expose_secret(), SECRETS[2]);
        assert_eq!(again.timetrack_account, "acme");
    }

    #[test]
    fn errors_name_the_field() {
        let missing = sample_json().replace(r#""timetrack_account":"acme","#, "");
        assert_eq!(
            reason(Credentials::from_secret_json(&missing).unwrap_err()),
            "missing field timetrack_account"
        );
        let extra = sample_json().replace("{", r#"{"region":"eu","#);
        assert_eq!(
            reason(Credentials::from_secret_json(&extra).unwrap_err()),
            "unknown field region"
        );
        let empty = sample_json().replace(r#""acme""#, r#""  ""#);
        assert_eq!(
            reason(Credentials::from_secret_json(&empty).unwrap_err()),
            "field timetrack_account is empty"
        );
        assert!(reason(Credentials::from_secret_json("[1]").unwrap_err()).contains("JSON object"));
    }

    #[test]
    fn secrets_never_leak_into_debug_display_or_errors() {
        let c = Credentials::from_secret_json(&sample_json()).unwrap();
        let debug = format!("{c:?}");
        assert!(
            debug.contains("papi-client"),
            "non-secret fields stay visible"
        );
        assert_no_secret(&debug);

        let broken_inputs = [
            // Syntax error right after a secret value.
            format!(r#"{{"personio_client_secret":"{}" "x":1}}"#, SECRETS[0]),
            // Truncated inside a secret value.
            format!(r#"{{"timetrack_api_key":"{}"#, SECRETS[1]),
            // A secret where a string is expected as a number, and as a nested value.
            sample_json().replace(&format!(r#""{}""#, SECRETS[0]), r#"{"s3cr3t":"s3cr3t"}"#),
            // A secret pasted as a key.
            sample_json().replace("{", &format!(r#"{{"{}":1,"#, SECRETS[2])),
            // Another document type entirely, with a secret inside.
            format!(r#""{}""#, SECRETS[1]),
        ];
        let mut errors: Vec<CredentialsError> = broken_inputs
            .iter()
            .map(|input| Credentials::from_secret_json(input).unwrap_err())
            .collect();
        errors.push(CredentialsError::NotFound {
            integration_id: IntegrationId::new("acme").unwrap(),
        });
        errors.push(CredentialsError::Backend {
            message: "GetSecretValue: timeout".into(),
        });
        for err in &errors {
            assert_no_secret(&format!("{err:?}"));
            assert_no_secret(&err.to_string());
        }
        // The syntax error says where.
        assert!(errors[0].to_string().contains("line 1, column"));
        assert!(errors[2]
            .to_string()
            .contains("field personio_client_secret must be a string"));
    }

    #[test]
    fn secret_names_join_prefix_and_integration() {
        let id = IntegrationId::new("acme-prod").unwrap();
        assert_eq!(secret_name("pts", &id), "pts/acme-prod");
        assert_eq!(secret_name("pts/", &id), "pts/acme-prod");
    }

    #[tokio::test]
    async fn static_credentials_serve_what_was_stored() {
        let id = IntegrationId::new("acme").unwrap();
        let source = StaticCredentials::new();
        assert!(matches!(
            source.credentials(&id).await,
            Err(CredentialsError::NotFound { .. })
        ));
        let c = Credentials::from_secret_json(&sample_json()).unwrap();
        source.clone().store(&id, &c).await.unwrap();
        assert_eq!(
            source.credentials(&id).await.unwrap().personio_client_id,
            "papi-client"
        );
    }
}
