//! Personio's gateway rate limiting as observed live (Spring Cloud Gateway token bucket): one bucket
//! per endpoint, each with its own limit (≈ 30 req/s on `/v2/persons`, ≈ 10 req/s on
//! `/v2/absence-periods`, personio-api-v2.md §9), `x-ratelimit-*` headers on every response, and a 429
//! without `Retry-After`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::faults::lock;

/// A token bucket: `burst` tokens, refilled at `replenish_per_sec`; each request takes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub replenish_per_sec: u32,
    pub burst: u32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

impl RateLimit {
    /// The per-endpoint limits observed on Personio's gateway (personio-api-v2.md §9): `/v2/persons`
    /// 30 req/s, `/v2/absence-periods` (and its `/breakdowns`) 10 req/s. Bursts are not documented; the
    /// bucket holds one second's worth. Endpoints not listed fall back to `PersonioConfig::rate_limit`.
    pub fn observed_per_endpoint() -> BTreeMap<String, RateLimit> {
        BTreeMap::from([
            (
                "/v2/persons".to_string(),
                RateLimit {
                    replenish_per_sec: 30,
                    burst: 30,
                },
            ),
            (
                "/v2/absence-periods".to_string(),
                RateLimit {
                    replenish_per_sec: 10,
                    burst: 10,
                },
            ),
        ])
    }
}

/// The buckets of all endpoints.
#[derive(Debug)]
pub(crate) struct Buckets {
    /// The limit of every endpoint without an entry in `per_endpoint`; `None` = unlimited.
    default: Option<RateLimit>,
    /// Limits by endpoint (as [`endpoint_of`] names it).
    per_endpoint: BTreeMap<String, RateLimit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// The endpoint a path is counted against: its first two segments (`/v2/persons/7/employments` →
/// `/v2/persons`), matching the per-endpoint limits seen live.
pub(crate) fn endpoint_of(path: &str) -> String {
    path.split('/').take(3).collect::<Vec<_>>().join("/")
}

impl Buckets {
    pub(crate) fn new(
        default: Option<RateLimit>,
        per_endpoint: BTreeMap<String, RateLimit>,
    ) -> Buckets {
        Buckets {
            default,
            per_endpoint,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The limit `endpoint` is held to, if any.
    fn limit_of(&self, endpoint: &str) -> Option<RateLimit> {
        self.per_endpoint.get(endpoint).copied().or(self.default)
    }

    pub(crate) fn reset(&self) {
        lock(&self.buckets).clear();
    }

    /// Takes a token for `path`. Ok carries the headers for the response; Err the headers of a 429.
    pub(crate) fn take(&self, path: &str) -> Result<HeaderMap, HeaderMap> {
        let endpoint = endpoint_of(path);
        let Some(limit) = self.limit_of(&endpoint) else {
            return Ok(HeaderMap::new());
        };
        let mut buckets = lock(&self.buckets);
        let now = Instant::now();
        let bucket = buckets.entry(endpoint).or_insert(Bucket {
            tokens: f64::from(limit.burst),
            refilled_at: now,
        });
        let elapsed = now.duration_since(bucket.refilled_at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * f64::from(limit.replenish_per_sec))
            .min(f64::from(limit.burst));
        bucket.refilled_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(headers(limit, bucket.tokens.floor() as u64))
        } else {
            Err(headers(limit, 0))
        }
    }

    /// Adds the headers of an exhausted bucket (for an injected 429).
    pub(crate) fn add_exhausted_headers(&self, path: &str, target: &mut HeaderMap) {
        let limit = self.limit_of(&endpoint_of(path)).unwrap_or(RateLimit {
            replenish_per_sec: 10,
            burst: 10,
        });
        target.extend(headers(limit, 0));
    }
}

fn headers(limit: RateLimit, remaining: u64) -> HeaderMap {
    let mut map = HeaderMap::new();
    let mut put = |name: &'static str, value: u64| {
        map.insert(HeaderName::from_static(name), HeaderValue::from(value));
    };
    put(
        "x-ratelimit-replenish-rate",
        u64::from(limit.replenish_per_sec),
    );
    put("x-ratelimit-burst-capacity", u64::from(limit.burst));
    put("x-ratelimit-requested-tokens", 1);
    put("x-ratelimit-remaining", remaining);
    map
}
