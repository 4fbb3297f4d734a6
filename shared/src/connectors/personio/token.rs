//! The cached OAuth access token of one Personio client.
//!
//! A token lives 24 h and may be used in parallel, so one token serves every call; it is refreshed 60 s
//! before it expires, and when a resource call answers 401 (revoked early). A generation number tells
//! "the token I used was refused" apart from "someone already refreshed it", so concurrent 401s cause one
//! refresh, not one each.
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use tokio::time::Instant;

/// Refresh this long before the announced expiry.
pub(crate) const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Used when the token answer has no `expires_in` (the documented default).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(86_400);

/// The token endpoint's success body. `Debug` is derived, and `SecretString` prints `[REDACTED]`.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenAnswer {
    pub access_token: SecretString,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct CachedToken {
    pub token: SecretString,
    pub refresh_at: Instant,
    pub generation: u64,
}

#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    current: Option<CachedToken>,
    generation: u64,
}

impl TokenCache {
    /// The cached token if it is still fresh at `now`.
    pub(crate) fn fresh(&self, now: Instant) -> Option<(SecretString, u64)> {
        self.current
            .as_ref()
            .filter(|t| now < t.refresh_at)
            .map(|t| (t.token.clone(), t.generation))
    }

    /// Stores a new token received at `now`; returns its generation.
    pub(crate) fn store(&mut self, answer: TokenAnswer, now: Instant) -> (SecretString, u64) {
        let lifetime = answer
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_LIFETIME);
        self.generation += 1;
        let token = CachedToken {
            token: answer.access_token,
            refresh_at: now + lifetime.saturating_sub(EXPIRY_MARGIN),
            generation: self.generation,
        };
        let out = (token.token.clone(), token.generation);
        self.current = Some(token);
        out
    }

    /// Forgets the token of `generation` (refused by the server); a newer token is kept.
    pub(crate) fn invalidate(&mut self, generation: u64) {
        if self
            .current
            .as_ref()
            .is_some_and(|t| t.generation == generation)
        {
            self.current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn answer(token: &str, expires_in: Option<u64>) -> TokenAnswer {
        TokenAnswer {
            access_token: SecretString::from(token.to_string()),
            expires_in,
        }
    }

    #[test]
    fn token_is_reused_until_sixty_seconds_before_expiry() {
        let now = Instant::now();
        let mut cache = TokenCache::default();
        assert!(cache.fresh(now).is_none());
        cache.store(answer("papi-1", Some(3600)), now);
        let (token, _) = cache.fresh(now + Duration::from_secs(3539)).unwrap();
        assert_eq!(token.expose_secret(), "papi-1");
        assert!(cache.fresh(now + Duration::from_secs(3540)).is_none());
    }

    #[test]
    fn invalidating_an_old_generation_keeps_the_newer_token() {
        let now = Instant::now();
        let mut cache = TokenCache::default();
        let (_, old) = cache.store(answer("papi-1", None), now);
        let (_, new) = cache.store(answer("papi-2", None), now);
        cache.invalidate(old);
        assert_eq!(cache.fresh(now).unwrap().1, new);
        cache.invalidate(new);
        assert!(cache.fresh(now).is_none());
    }

    #[test]
    fn token_answer_debug_hides_the_token() {
        let parsed: TokenAnswer = serde_json::from_str(
            r#"{"access_token":"papi-Zk3Q","token_type":"Bearer","expires_in":86400,"scope":"personio:persons:read"}"#,
        )
        .unwrap();
        assert_eq!(parsed.expires_in, Some(86400));
        assert!(!format!("{parsed:?}").contains("papi-Zk3Q"));
    }
}
