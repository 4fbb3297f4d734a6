//! Personio's gateway rate limiting as observed live (Spring Cloud Gateway token bucket): one bucket
//! per endpoint, `x-ratelimit-*` headers on every response, and a 429 without `Retry-After`.

use std::collections::HashMap;
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

/// The buckets of all endpoints.
#[derive(Debug)]
pub(crate) struct Buckets {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// The endpoint a path is counted against: its first two segments (`/v2/persons/7/employments` →
/// `/v2/persons`), matching the per-endpoint limits seen live.
fn endpoint_of(path: &str) -> String {
    path.split('/').take(3).collect::<Vec<_>>().join("/")
}

impl Buckets {
    pub(crate) fn new(limit: Option<RateLimit>) -> Buckets {
        Buckets {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn reset(&self) {
        lock(&self.buckets).clear();
    }

    /// Takes a token for `path`. Ok carries the headers for the response; Err the headers of a 429.
    pub(crate) fn take(&self, path: &str) -> Result<HeaderMap, HeaderMap> {
        let Some(limit) = self.limit else {
            return Ok(HeaderMap::new());
        };
        let mut buckets = lock(&self.buckets);
        let now = Instant::now();
        let bucket = buckets.entry(endpoint_of(path)).or_insert(Bucket {
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
    pub(crate) fn add_exhausted_headers(&self, _path: &str, target: &mut HeaderMap) {
        let limit = self.limit.unwrap_or(RateLimit {
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
