//! Transport machinery both API clients share: retries with capped exponential backoff and jitter, a
//! client-side token-bucket rate limiter, the server's rate-limit hints, and request timeouts.
//!
//! Retry rules, and why:
//! - **429** is retried on every method: the server rejected the request without processing it.
//! - **5xx, timeouts and connection errors** are retried only on idempotent methods (GET, PUT, DELETE,
//!   PATCH). A POST that timed out may have created the record; repeating it could create a twin. The sync
//!   engine's intent-then-adopt protocol recovers a lost POST on the next run instead.
//! - **PATCH** counts as idempotent here: both APIs' PATCH bodies set fields to absolute values (no
//!   increments, no appends), so sending the same PATCH twice leaves the same state.
//!
//! Personio's gateway reports its token bucket on every answer (`x-ratelimit-remaining`,
//! `x-ratelimit-replenish-rate`); when it says no token is left, the next request waits about one
//! replenish interval instead of earning a 429. Personio's 429 carries no `Retry-After`; if one comes
//! anyway (seconds), it is honoured up to `max_delay`.
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use thiserror::Error;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts including the first one (1 = never retry).
    pub max_attempts: u32,
    /// Delay ceiling before the first retry; doubles per retry.
    pub base_delay: Duration,
    /// Upper bound of any single delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, backoff from 1 s (Personio's advice after a 429) up to 30 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// `max_attempts` with millisecond delays, for tests and local runs against the simulators.
    pub fn quick(max_attempts: u32) -> Self {
        Self {
            max_attempts,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        }
    }

    /// The upper bound of the delay before retry number `retry` (1-based): `base · 2^(retry-1)`, capped.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(31));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The delay before retry number `retry` given a uniform random number in `[0, 1)`: "equal jitter",
    /// i.e. between half the ceiling and the ceiling, so that parallel clients spread out but every
    /// client still backs off.
    pub fn delay(&self, retry: u32, unit_random: f64) -> Duration {
        let ceiling = self.ceiling(retry);
        let half = ceiling / 2;
        half + half.mul_f64(unit_random.clamp(0.0, 1.0))
    }

    fn jittered_delay(&self, retry: u32) -> Duration {
        self.delay(retry, rand::random::<f64>())
    }
}

/// Client-side request rate: a token bucket of `burst` tokens refilled at `requests_per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub requests_per_second: f64,
    pub burst: u32,
}

impl RateLimit {
    pub fn per_second(requests_per_second: f64) -> Self {
        Self {
            requests_per_second,
            burst: 1,
        }
    }
}

/// The token bucket behind [`RateLimit`]. Tokens may go negative: a caller reserves its token and sleeps
/// for the deficit outside the lock, so waiters are served in order without spinning.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    burst: f64,
    state: std::sync::Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Option<Self> {
        if !(limit.requests_per_second.is_finite() && limit.requests_per_second > 0.0) {
            return None;
        }
        let burst = f64::from(limit.burst.max(1));
        Some(Self {
            rate: limit.requests_per_second,
            burst,
            state: std::sync::Mutex::new(BucketState {
                tokens: burst,
                refilled_at: now,
            }),
        })
    }

    /// Takes one token at `now` and returns how long the caller must wait before using it.
    pub(crate) fn reserve(&self, now: Instant) -> Duration {
        // A poisoned lock only means another task panicked mid-update; the numbers are still usable.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(s.refilled_at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.rate).min(self.burst);
        s.refilled_at = now.max(s.refilled_at);
        s.tokens -= 1.0;
        if s.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-s.tokens / self.rate)
        }
    }
}

/// The server's rate-limit headers, when it sends them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RateLimitHint {
    pub remaining: Option<f64>,
    pub replenish_rate: Option<f64>,
}

impl RateLimitHint {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite())
        };
        Self {
            remaining: num("x-ratelimit-remaining"),
            replenish_rate: num("x-ratelimit-replenish-rate"),
        }
    }

    /// How long to hold the next request: one replenish interval (plus 10 % so the token has surely
    /// been refilled) when the bucket is empty.
    pub(crate) fn pause(&self) -> Option<Duration> {
        match (self.remaining, self.replenish_rate) {
            (Some(remaining), Some(rate)) if remaining < 1.0 && rate > 0.0 => {
                Some(Duration::from_secs_f64(1.1 / rate))
            }
            _ => None,
        }
    }
}

/// What went wrong below HTTP: no status code was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The request (or reading its answer) took longer than the configured timeout.
    Timeout,
    /// No connection could be made, or it was dropped before an answer arrived.
    Connect,
    /// Anything else the HTTP stack reported (body read error, protocol error).
    Other,
}

/// A request that never produced an HTTP status. The message names the method and path, never headers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind:?} error on {method} {path}: {message}")]
pub struct TransportError {
    pub kind: TransportKind,
    pub method: String,
    pub path: String,
    pub message: String,
}

/// A received answer, body read in full.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Whether 5xx, timeouts and connection errors may be retried for this method (see the module doc).
pub(crate) fn retries_failures(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::PATCH | Method::OPTIONS
    )
}

/// One HTTP client with the retry, rate-limit and timeout rules applied to every request.
#[derive(Debug)]
pub(crate) struct HttpCore {
    client: reqwest::Client,
    retry: RetryPolicy,
    bucket: Option<TokenBucket>,
    /// Earliest moment the next request may go out, from the server's rate-limit headers.
    not_before: Mutex<Option<Instant>>,
}

impl HttpCore {
    /// Built from the transport settings both client configs carry: the per-request `timeout`, the
    /// `retry` policy and the optional client-side `rate_limit`.
    pub(crate) fn new(
        timeout: Duration,
        retry: &RetryPolicy,
        rate_limit: Option<RateLimit>,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!(
                "personio-timetrack-sync/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            retry: RetryPolicy {
                max_attempts: retry.max_attempts.max(1),
                ..retry.clone()
            },
            bucket: rate_limit.and_then(|limit| TokenBucket::new(limit, Instant::now())),
            not_before: Mutex::new(None),
        })
    }

    /// Sends the request `build` produces (called once per attempt), applying rate limits and retries.
    /// Returns the last answer whatever its status; only a request that never got one is an error.
    /// `retry_failures` overrides the method rule for requests that are safe to repeat although they
    /// are POSTs (the token request).
    pub(crate) async fn send(
        &self,
        method: &Method,
        path: &str,
        retry_failures: bool,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<HttpResponse, TransportError> {
        let mut attempt = 1;
        loop {
            self.wait_for_turn().await;
            let outcome = self.attempt(build(&self.client)).await;
            let last = attempt >= self.retry.max_attempts;
            match outcome {
                Ok(response) => {
                    let hint = RateLimitHint::from_headers(&response.headers);
                    if let Some(pause) = hint.pause() {
                        self.hold_until(Instant::now() + pause.min(self.retry.max_delay))
                            .await;
                    }
                    let status = response.status;
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && retry_failures);
                    if !retryable || last {
                        return Ok(response);
                    }
                    let mut delay = self.retry.jittered_delay(attempt);
                    if let Some(after) = retry_after(&response.headers) {
                        delay = delay.max(after.min(self.retry.max_delay));
                    }
                    tracing::warn!(%method, path, %status, attempt, ?delay, "retrying after HTTP status");
                    tokio::time::sleep(delay).await;
                }
                Err((kind, message)) => {
                    if !retry_failures || last {
                        return Err(TransportError {
                            kind,
                            method: method.to_string(),
                            path: path.to_string(),
                            message,
                        });
                    }
                    let delay = self.retry.jittered_delay(attempt);
                    tracing::warn!(%method, path, ?kind, attempt, ?delay, "retrying after transport error");
                    tokio::time::sleep(delay).await;
                }
            }
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        request: RequestBuilder,
    ) -> Result<HttpResponse, (TransportKind, String)> {
        let response = request.send().await.map_err(describe)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(describe)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn wait_for_turn(&self) {
        let hold = *self.not_before.lock().await;
        if let Some(until) = hold {
            tokio::time::sleep_until(until).await;
        }
        if let Some(bucket) = &self.bucket {
            let wait = bucket.reserve(Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
    }

    async fn hold_until(&self, until: Instant) {
        let mut guard = self.not_before.lock().await;
        *guard = Some(guard.map_or(until, |current| current.max(until)));
    }
}

/// `Retry-After` in seconds, if present (Personio does not send it; other gateways might).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Classifies a reqwest error and renders it with its causes but without the URL's query or headers.
fn describe(error: reqwest::Error) -> (TransportKind, String) {
    let kind = if error.is_timeout() {
        TransportKind::Timeout
    } else if error.is_connect() || is_dropped_connection(&error) {
        TransportKind::Connect
    } else {
        TransportKind::Other
    };
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    (kind, message)
}

/// A connection closed by the peer before or during the answer (hyper reports it as an incomplete
/// message or a reset rather than a connect error).
fn is_dropped_connection(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            ) {
                return true;
            }
        }
        let text = cause.to_string();
        if text.contains("connection closed") || text.contains("IncompleteMessage") {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_in_the_upper_half() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        let ceilings: Vec<u128> = (1..=6).map(|r| policy.ceiling(r).as_millis()).collect();
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000]);
        for retry in 1..=6 {
            let ceiling = policy.ceiling(retry);
            assert_eq!(policy.delay(retry, 0.0), ceiling / 2);
            assert_eq!(policy.delay(retry, 1.0), ceiling);
            let mid = policy.delay(retry, 0.5);
            assert!(mid > ceiling / 2 && mid < ceiling);
        }
        // Huge retry numbers must not overflow.
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn only_post_is_spared_failure_retries() {
        for m in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
            assert!(retries_failures(&m), "{m}");
        }
        assert!(!retries_failures(&Method::POST));
    }

    #[test]
    fn token_bucket_allows_the_burst_then_spaces_requests() {
        let start = Instant::now();
        let bucket = TokenBucket::new(
            RateLimit {
                requests_per_second: 2.0,
                burst: 2,
            },
            start,
        )
        .unwrap();
        assert_eq!(bucket.reserve(start), Duration::ZERO);
        assert_eq!(bucket.reserve(start), Duration::ZERO);
        assert_eq!(bucket.reserve(start), Duration::from_millis(500));
        assert_eq!(bucket.reserve(start), Duration::from_millis(1000));
        // Two seconds later the debt (-2 tokens) is repaid and one token is available again.
        let later = start + Duration::from_secs(3);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert!(TokenBucket::new(RateLimit::per_second(0.0), start).is_none());
    }

    #[test]
    fn server_hint_pauses_only_when_the_bucket_is_empty() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-replenish-rate", HeaderValue::from_static("10"));
        assert_eq!(
            RateLimitHint::from_headers(&headers).pause(),
            Some(Duration::from_millis(110))
        );
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("3"));
        assert_eq!(RateLimitHint::from_headers(&headers).pause(), None);
        assert_eq!(RateLimitHint::from_headers(&HeaderMap::new()).pause(), None);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
    }
}
