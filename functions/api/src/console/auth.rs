//! Verification of the Cognito ID token that a console session carries.
//!
//! The api function checks every token itself (API Gateway does not authorise the console routes):
//! the RS256 signature against the user pool's JSON Web Key Set, the issuer (always the pool's AWS URL,
//! `https://cognito-idp.<region>.amazonaws.com/<pool id>`), the audience (the console's app client),
//! `token_use = id` and the expiry — the last against the injected [`Clock`], so that expiry is tested
//! without waiting. The key set is fetched once and cached; a token signed with a key id the cache does
//! not know triggers one refetch (Cognito rotates keys), at most once a minute.
//!
//! Locally the key set comes from moto, which serves it at `<AWS_ENDPOINT_URL>/<pool id>/.well-known/
//! jwks.json` while still issuing tokens with the AWS issuer — so the fetch URL and the issuer are two
//! separate settings ([`CognitoPool`]).
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use shared::engine::Clock;
use thiserror::Error;
use tokio::sync::RwLock;

/// What a console user may do. `Admin` implies everything a `Viewer` may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads settings, runs and parked records (Cognito group `viewer`).
    Viewer,
    /// Also changes credentials, settings and schedules, runs syncs and releases parked records
    /// (Cognito group `admin`).
    Admin,
}

impl Role {
    /// The Cognito group that grants the role.
    pub fn group(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "administrator",
        }
    }
}

/// The signed-in user, as the verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub username: String,
    /// The strongest role the user's groups grant; `None`: signed in, but in no console group.
    pub role: Option<Role>,
    pub expires_at: Timestamp,
}

impl Identity {
    pub fn may(&self, needed: Role) -> bool {
        self.role.is_some_and(|r| r >= needed)
    }
}

/// Why a token was not accepted. None of the messages contain the token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("the session token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the session token was signed with an unknown key {0:?}")]
    UnknownKey(String),
    #[error("the session token is not valid: {0}")]
    Invalid(String),
    #[error("the session token was issued by {0:?}, not by the console's user pool")]
    WrongIssuer(String),
    #[error("the session token was issued for another app client")]
    WrongAudience,
    #[error("the session token is a {0:?} token, not an ID token")]
    WrongTokenUse(String),
    #[error("the session expired at {0}")]
    Expired(Timestamp),
    #[error("the user pool's signing keys could not be read: {0}")]
    KeySet(String),
}

/// The user pool the console signs in against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoPool {
    pub pool_id: String,
    pub client_id: String,
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    pub issuer: String,
    /// Where the key set is fetched: `<issuer>/.well-known/jwks.json` in AWS,
    /// `<AWS_ENDPOINT_URL>/<pool id>/.well-known/jwks.json` against moto.
    pub jwks_url: String,
}

impl CognitoPool {
    /// The pool `pool_id` (`<region>_<id>`, the region is read from it) and its app client. `endpoint`:
    /// the local AWS endpoint (`AWS_ENDPOINT_URL`), if any.
    pub fn new(pool_id: &str, client_id: &str, endpoint: Option<&str>) -> Self {
        let region = pool_id.split('_').next().unwrap_or_default();
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        let jwks_url = match endpoint.map(|e| e.trim_end_matches('/')) {
            Some(e) if !e.is_empty() => format!("{e}/{pool_id}/.well-known/jwks.json"),
            _ => format!("{issuer}/.well-known/jwks.json"),
        };
        Self {
            pool_id: pool_id.to_string(),
            client_id: client_id.to_string(),
            issuer,
            jwks_url,
        }
    }
}

/// The claims of a Cognito ID token that the console reads.
#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    exp: i64,
    token_use: String,
    #[serde(rename = "cognito:username")]
    username: Option<String>,
    sub: String,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

struct CachedKeys {
    keys: JwkSet,
    fetched_at: Timestamp,
}

/// How long a fetched key set is trusted before it is fetched again.
const KEYS_MAX_AGE: SignedDuration = SignedDuration::from_hours(1);
/// The shortest time between two fetches triggered by an unknown key id.
const REFETCH_MIN_INTERVAL: SignedDuration = SignedDuration::from_mins(1);

/// Verifies console session tokens against one user pool. Cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    pool: CognitoPool,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    cache: Arc<RwLock<Option<CachedKeys>>>,
}

impl TokenVerifier {
    pub fn new(pool: CognitoPool, http: reqwest::Client, clock: Arc<dyn Clock>) -> Self {
        Self {
            pool,
            http,
            clock,
            cache: Arc::new(RwLock::new(None)),
        }
    }

    pub fn pool(&self) -> &CognitoPool {
        &self.pool
    }

    /// The identity in `token`, or why it is not accepted.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} is not RS256",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Malformed("the token names no key id".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.pool.client_id]);
        // Issuer and expiry are checked below: the issuer for a clearer message, the expiry against
        // the injected clock.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "aud", "iss", "sub"]
            .into_iter()
            .map(String::from)
            .collect();
        let data = decode::<IdClaims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                _ => AuthError::Invalid(e.to_string()),
            }
        })?;
        let claims = data.claims;
        if claims.iss != self.pool.issuer {
            return Err(AuthError::WrongIssuer(claims.iss));
        }
        if claims.token_use != "id" {
            return Err(AuthError::WrongTokenUse(claims.token_use));
        }
        let expires_at = Timestamp::from_second(claims.exp)
            .map_err(|e| AuthError::Invalid(format!("exp: {e}")))?;
        if expires_at <= self.clock.now() {
            return Err(AuthError::Expired(expires_at));
        }
        let role = if claims.groups.iter().any(|g| g == Role::Admin.group()) {
            Some(Role::Admin)
        } else if claims.groups.iter().any(|g| g == Role::Viewer.group()) {
            Some(Role::Viewer)
        } else {
            None
        };
        Ok(Identity {
            username: claims.username.unwrap_or(claims.sub),
            role,
            expires_at,
        })
    }

    /// The decoding key `kid`, from the cache or a fresh key set.
    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let now = self.clock.now();
        let stale = {
            let cache = self.cache.read().await;
            match cache.as_ref() {
                Some(c) if now.duration_since(c.fetched_at) < KEYS_MAX_AGE => {
                    if let Some(jwk) = c.keys.find(kid) {
                        return DecodingKey::from_jwk(jwk)
                            .map_err(|e| AuthError::KeySet(e.to_string()));
                    }
                    // Unknown key: refetch, unless the set was fetched just now.
                    now.duration_since(c.fetched_at) >= REFETCH_MIN_INTERVAL
                }
                _ => true,
            }
        };
        if !stale {
            return Err(AuthError::UnknownKey(kid.to_string()));
        }
        let keys = self.fetch_keys().await?;
        let found = keys.find(kid).map(DecodingKey::from_jwk);
        *self.cache.write().await = Some(CachedKeys {
            keys,
            fetched_at: now,
        });
        match found {
            Some(key) => key.map_err(|e| AuthError::KeySet(e.to_string())),
            None => Err(AuthError::UnknownKey(kid.to_string())),
        }
    }

    async fn fetch_keys(&self) -> Result<JwkSet, AuthError> {
        let response = self
            .http
            .get(&self.pool.jwks_url)
            .send()
            .await
            .map_err(|e| AuthError::KeySet(e.to_string()))?;
        if !response.status().is_success() {
            return Err(AuthError::KeySet(format!(
                "{} answered HTTP {}",
                self.pool.jwks_url,
                response.status()
            )));
        }
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| AuthError::KeySet(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_stays_the_aws_url_while_the_keys_follow_the_local_endpoint() {
        let pool = CognitoPool::new("eu-central-1_abc", "client", Some("http://127.0.0.1:5000/"));
        assert_eq!(
            pool.issuer,
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_abc"
        );
        assert_eq!(
            pool.jwks_url,
            "http://127.0.0.1:5000/eu-central-1_abc/.well-known/jwks.json"
        );
        let aws = CognitoPool::new("eu-central-1_abc", "client", None);
        assert_eq!(
            aws.jwks_url,
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_abc/.well-known/jwks.json"
        );
    }

    #[test]
    fn admin_may_do_what_a_viewer_may_and_more() {
        let id = |role| Identity {
            username: "anna".into(),
            role,
            expires_at: Timestamp::UNIX_EPOCH,
        };
        assert!(id(Some(Role::Admin)).may(Role::Viewer));
        assert!(id(Some(Role::Admin)).may(Role::Admin));
        assert!(id(Some(Role::Viewer)).may(Role::Viewer));
        assert!(!id(Some(Role::Viewer)).may(Role::Admin));
        assert!(!id(None).may(Role::Viewer));
    }

    #[tokio::test]
    async fn garbage_is_malformed_before_any_key_is_fetched() {
        let verifier = TokenVerifier::new(
            CognitoPool::new("eu-central-1_abc", "client", Some("http://127.0.0.1:9")),
            reqwest::Client::new(),
            Arc::new(shared::engine::SystemClock),
        );
        assert!(matches!(
            verifier.verify("not-a-token").await,
            Err(AuthError::Malformed(_))
        ));
    }
}
