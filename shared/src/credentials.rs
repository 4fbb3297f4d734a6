//! The per-integration secret: Personio client id and secret, TimeTrack account, API key and secret.
//!
//! Secret values are `SecretString`s: their `Debug` prints `[REDACTED]` and they have no `Display`, so they
//! cannot reach logs, errors or run records by accident; code that needs the value calls `expose_secret()`
//! at the one place it goes on the wire.
use secrecy::SecretString;
use serde::Deserialize;

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
