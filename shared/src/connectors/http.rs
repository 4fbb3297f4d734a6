//! Transport machinery both API clients share: retries with capped exponential backoff and jitter, a
//! client-side token-bucket rate limiter, the server's rate-limit hints, and request timeouts.
//!
//! Retry rules, and why (the loop itself is [`backon`]'s; the policy and its jitter are ours):
//! - **429** is retried on every method: the server rejected the request without processing it.
//! - **5xx, timeouts and connection errors** are retried only on idempotent methods (GET, PUT, DELETE,
//!   PATCH). A POST that timed out may have created the record; repeating it could create a twin. The sync
//!   engine's intent-then-adopt protocol recovers a lost POST on the next run instead.
//! - **PATCH** counts as idempotent here: both APIs' PATCH bodies set fields to absolute values (no
//!   increments, no appends), so sending the same PATCH twice leaves the same state.
//!
//! Pacing, and why: Personio's gateway reports its token bucket on every answer, per endpoint
//! (`x-ratelimit-replenish-rate`, `x-ratelimit-burst-capacity`, `x-ratelimit-remaining`; ≈ 30 req/s on
//! persons, ≈ 10 req/s on absence periods). The client keeps a mirror of each endpoint's bucket
//! ([`EndpointPacer`]) and sends exactly as fast as that bucket refills — not slower (a fixed rate below
//! the advertised one wastes the budget of a long run), not faster (a 429 costs a one-second backoff).
//! The configured [`RateLimit`] is only a ceiling over all endpoints, for servers that advertise nothing
//! (TimeTrack) and for the first request before any header was seen. Personio's 429 carries no
//! `Retry-After`; if one comes anyway (seconds), it is honoured up to `max_delay`.
use std::collections::HashMap;
use std::time::Duration;

use backon::Retryable;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use thiserror::Error;
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

    /// The jittered delays before each retry, `max_attempts - 1` of them: the backoff [`backon`] sleeps.
    fn backoff(&self) -> impl Iterator<Item = Duration> + Send + Sync + Unpin {
        let policy = self.clone();
        (1..policy.max_attempts).map(move |retry| policy.jittered_delay(retry))
    }
}

/// An attempt worth another one: an answer whose status may be retried (429, or 5xx where failures
/// are retried), or no answer at all. The last one's answer is still returned to the caller.
enum Retry {
    Status(HttpResponse),
    Transport(TransportKind, String),
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
    pub burst: Option<f64>,
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
            burst: num("x-ratelimit-burst-capacity"),
        }
    }
}

/// The endpoint a request path is counted against by Personio's gateway: the API version segment and
/// the resource after it (`/v2/persons/7/employments` → `/v2/persons`); without a version segment, the
/// first two segments.
pub(crate) fn endpoint_key(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is_version =
        |s: &&str| s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit());
    let start = segments.iter().position(is_version).unwrap_or(0);
    let key: Vec<&str> = segments.iter().skip(start).take(2).copied().collect();
    format!("/{}", key.join("/"))
}

/// The client's mirror of the server's per-endpoint token buckets, built from the rate-limit headers.
///
/// Each bucket starts from the first answer's `remaining` (the floor of the server's tokens, so never
/// more than the server has), refills at the advertised rate up to the advertised burst, and gives one
/// token per request before it is sent. A single client that paces by it never finds the server's
/// bucket empty. When the server reports fewer tokens than the mirror can explain (another client shares
/// the budget, or a 429 came), the mirror drops to the server's figure.
#[derive(Debug, Default)]
pub(crate) struct EndpointPacer {
    buckets: std::sync::Mutex<HashMap<String, Mirror>>,
}

#[derive(Debug, Clone, Copy)]
struct Mirror {
    rate: f64,
    burst: f64,
    tokens: f64,
    refilled_at: Instant,
}

impl Mirror {
    fn refill(&mut self, now: Instant) {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refilled_at = now.max(self.refilled_at);
    }
}

impl EndpointPacer {
    /// Takes a token of `endpoint` at `now` for a request about to be sent and returns how long to wait
    /// before sending it (zero for an endpoint whose limits are not known yet).
    pub(crate) fn reserve(&self, endpoint: &str, now: Instant) -> Duration {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mirror) = buckets.get_mut(endpoint) else {
            return Duration::ZERO;
        };
        mirror.refill(now);
        mirror.tokens -= 1.0;
        if mirror.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-mirror.tokens / mirror.rate)
        }
    }

    /// Learns from an answer of `endpoint` received at `now` to a request sent at `sent_at`. A 429
    /// (`throttled`) empties the mirror: the server had no token when the request arrived.
    pub(crate) fn observe(
        &self,
        endpoint: &str,
        hint: &RateLimitHint,
        throttled: bool,
        sent_at: Instant,
        now: Instant,
    ) {
        let (Some(rate), Some(remaining)) = (hint.replenish_rate, hint.remaining) else {
            return;
        };
        if rate <= 0.0 {
            return;
        }
        let remaining = remaining.max(0.0);
        let burst = hint.burst.unwrap_or(remaining).max(remaining).max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mirror = buckets.entry(endpoint.to_string()).or_insert(Mirror {
            rate,
            burst,
            tokens: remaining,
            refilled_at: now,
        });
        mirror.refill(now);
        mirror.rate = rate;
        mirror.burst = burst;
        // The server counted `remaining` (+ less than one) somewhere between `sent_at` and `now`, and has
        // refilled since: it holds at most this many tokens now.
        let elapsed = now.saturating_duration_since(sent_at).as_secs_f64();
        let most = if throttled {
            0.0
        } else {
            remaining + 1.0 + elapsed * rate
        };
        mirror.tokens = mirror.tokens.min(most);
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
    /// The configured ceiling over all endpoints.
    bucket: Option<TokenBucket>,
    /// The server's advertised per-endpoint limits.
    pacer: EndpointPacer,
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
            pacer: EndpointPacer::default(),
        })
    }

    /// Sends the request `build` produces (called once per attempt), applying rate limits and retries.
    /// Returns the last answer whatever its status; only a request that never got one is an error.
    /// `retry_failures` overrides the method rule for requests that are safe to repeat although they
    /// are POSTs (the token request). The retry loop is [`backon`]'s, over [`RetryPolicy::backoff`].
    pub(crate) async fn send(
        &self,
        method: &Method,
        path: &str,
        retry_failures: bool,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<HttpResponse, TransportError> {
        let endpoint = endpoint_key(path);
        let once = || async {
            self.wait_for_turn(&endpoint).await;
            let sent_at = Instant::now();
            let response = self
                .attempt(build(&self.client))
                .await
                .map_err(|(kind, message)| Retry::Transport(kind, message))?;
            let status = response.status;
            let limited = status == StatusCode::TOO_MANY_REQUESTS;
            let hint = RateLimitHint::from_headers(&response.headers);
            self.pacer
                .observe(&endpoint, &hint, limited, sent_at, Instant::now());
            if limited || (status.is_server_error() && retry_failures) {
                return Err(Retry::Status(response));
            }
            Ok(response)
        };
        let mut attempt = 0u32;
        let outcome = once
            .retry(self.retry.backoff())
            .sleep(tokio::time::sleep)
            .when(|failed| retry_failures || matches!(failed, Retry::Status(_)))
            .adjust(|failed, delay| match (failed, delay) {
                (Retry::Status(response), Some(delay)) => Some(
                    retry_after(&response.headers)
                        .map_or(delay, |after| delay.max(after.min(self.retry.max_delay))),
                ),
                _ => delay,
            })
            .notify(|failed, delay| {
                attempt += 1;
                match failed {
                    Retry::Status(r) => tracing::warn!(%method, path, status = %r.status, attempt, ?delay, "retrying after HTTP status"),
                    Retry::Transport(kind, _) => tracing::warn!(%method, path, ?kind, attempt, ?delay, "retrying after transport error"),
                }
            })
            .await;
        match outcome {
            Ok(response) | Err(Retry::Status(response)) => Ok(response),
            Err(Retry::Transport(kind, message)) => Err(TransportError {
                kind,
                method: method.to_string(),
                path: path.to_string(),
                message,
            }),
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

    /// Waits for a token of the endpoint's advertised bucket and of the configured ceiling.
    async fn wait_for_turn(&self, endpoint: &str) {
        let now = Instant::now();
        let mut wait = self.pacer.reserve(endpoint, now).min(self.retry.max_delay);
        if let Some(bucket) = &self.bucket {
            wait = wait.max(bucket.reserve(now));
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
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

    fn hint(remaining: f64, rate: f64, burst: f64) -> RateLimitHint {
        RateLimitHint {
            remaining: Some(remaining),
            replenish_rate: Some(rate),
            burst: Some(burst),
        }
    }

    #[test]
    fn rate_limit_headers_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-replenish-rate", HeaderValue::from_static("10"));
        headers.insert("x-ratelimit-burst-capacity", HeaderValue::from_static("20"));
        assert_eq!(RateLimitHint::from_headers(&headers), hint(0.0, 10.0, 20.0));
        let none = RateLimitHint::from_headers(&HeaderMap::new());
        assert_eq!(none.remaining, None);
        assert_eq!(none.replenish_rate, None);
    }

    #[test]
    fn endpoints_are_keyed_by_version_and_resource() {
        assert_eq!(endpoint_key("/v2/persons"), "/v2/persons");
        assert_eq!(endpoint_key("/v2/persons/7/employments"), "/v2/persons");
        assert_eq!(
            endpoint_key("/proxy/personio/v2/absence-periods/9/breakdowns"),
            "/v2/absence-periods"
        );
        assert_eq!(endpoint_key("/oauth/token"), "/oauth/token");
    }

    #[test]
    fn an_unknown_endpoint_is_not_held() {
        let pacer = EndpointPacer::default();
        let now = Instant::now();
        assert_eq!(pacer.reserve("/v2/persons", now), Duration::ZERO);
        // Headers without a rate teach nothing.
        pacer.observe(
            "/v2/persons",
            &RateLimitHint {
                remaining: Some(0.0),
                replenish_rate: None,
                burst: None,
            },
            false,
            now,
            now,
        );
        assert_eq!(pacer.reserve("/v2/persons", now), Duration::ZERO);
    }

    #[test]
    fn the_pacer_spends_what_is_left_then_sends_at_the_advertised_rate() {
        let pacer = EndpointPacer::default();
        let t0 = Instant::now();
        // First answer: 10 req/s, burst 10, 2 tokens left.
        pacer.observe("/v2/absence-periods", &hint(2.0, 10.0, 10.0), false, t0, t0);
        assert_eq!(pacer.reserve("/v2/absence-periods", t0), Duration::ZERO);
        assert_eq!(pacer.reserve("/v2/absence-periods", t0), Duration::ZERO);
        // Then one request per 100 ms: the advertised rate, not a fixed 10 % slower pace.
        assert_eq!(
            pacer.reserve("/v2/absence-periods", t0),
            Duration::from_millis(100)
        );
        assert_eq!(
            pacer.reserve("/v2/absence-periods", t0),
            Duration::from_millis(200)
        );
        // Another endpoint is not held by this one's empty bucket.
        assert_eq!(pacer.reserve("/v2/persons", t0), Duration::ZERO);
        // A second later the debt is repaid and 8 tokens have accrued; the burst caps the savings.
        let later = t0 + Duration::from_secs(10);
        for _ in 0..10 {
            assert_eq!(pacer.reserve("/v2/absence-periods", later), Duration::ZERO);
        }
        assert_eq!(
            pacer.reserve("/v2/absence-periods", later),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn a_sequential_client_keeps_the_full_rate_despite_latency() {
        // Requests take 20 ms; the server reports 0 left on each answer. The mirror must not reset to 0
        // on every answer (which would add the latency to each interval): it keeps the tokens accrued
        // while the request was in flight.
        let pacer = EndpointPacer::default();
        let key = "/v2/persons";
        let latency = Duration::from_millis(20);
        let mut now = Instant::now();
        pacer.observe(key, &hint(0.0, 30.0, 30.0), false, now, now);
        let mut total = Duration::ZERO;
        for _ in 0..30 {
            let wait = pacer.reserve(key, now);
            total += wait;
            let sent = now + wait;
            now = sent + latency;
            pacer.observe(key, &hint(0.0, 30.0, 30.0), false, sent, now);
        }
        // 30 requests at 30 req/s: the waits plus the in-flight time add up to one second, not
        // 30 × (1/30 s + 20 ms) = 1.6 s.
        let elapsed = total + latency * 30;
        assert!(elapsed < Duration::from_millis(1050), "{elapsed:?}");
        assert!(elapsed >= Duration::from_millis(990), "{elapsed:?}");
    }

    #[test]
    fn a_server_with_fewer_tokens_than_the_mirror_corrects_it() {
        let pacer = EndpointPacer::default();
        let key = "/v2/persons";
        let t0 = Instant::now();
        pacer.observe(key, &hint(10.0, 10.0, 10.0), false, t0, t0);
        // Someone else spent the budget: the next answer says 0 left.
        pacer.observe(key, &hint(0.0, 10.0, 10.0), false, t0, t0);
        assert_eq!(pacer.reserve(key, t0), Duration::from_millis(0));
        assert_eq!(pacer.reserve(key, t0), Duration::from_millis(100));
        // A 429 empties it whatever it believed.
        let pacer = EndpointPacer::default();
        pacer.observe(key, &hint(10.0, 10.0, 10.0), false, t0, t0);
        pacer.observe(key, &hint(0.0, 10.0, 10.0), true, t0, t0);
        assert_eq!(pacer.reserve(key, t0), Duration::from_millis(100));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
    }
}
