//! The REST plumbing both API clients share above the transport: base URLs from configuration,
//! resource URLs from path segments, JSON bodies in and out, and the id of a created record.
//!
//! It lives here rather than in each client because the two APIs agree on all of it; what differs
//! (auth headers, token refresh, error envelopes, paging, which envelope keys wrap a record) stays in
//! `personio` and `timetrack`. Nothing here knows either API's error type: a failure to read or write
//! JSON is a [`JsonFailure`], which each client turns into its own `Decode` error with `?`.
//!
//! Covered through the clients' own tests (URL building, base URL refusal, created ids, envelopes).
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

/// A JSON body that could not be read or written, named by the call it belongs to (`GET /v2/persons`),
/// with serde's message (which names fields and may quote a scalar value, but never the whole body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonFailure {
    pub what: String,
    pub message: String,
}

/// Parses a configured base URL (surrounding blanks ignored). Refuses anything but an http(s) URL that
/// can carry a path, so that [`endpoint`] can always append segments. The message quotes `raw`.
pub(crate) fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("base URL {raw:?}: {e}"))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(format!("base URL {raw:?} is not an http(s) URL"));
    }
    Ok(url)
}

/// `base` (query dropped) with `segments` appended, each percent-encoded as one path segment, so an id
/// containing `/` or `?` can never reach another resource.
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    // `parse_base_url` refused cannot-be-a-base URLs, so this always succeeds.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Reads a JSON answer of the call `what`.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, JsonFailure> {
    serde_json::from_slice(body).map_err(|e| JsonFailure {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// Converts an already parsed JSON answer of the call `what` into its wire type.
pub(crate) fn decode_value<T: DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> Result<T, JsonFailure> {
    serde_json::from_value(value).map_err(|e| JsonFailure {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// Writes the JSON request body of the call `what`.
pub(crate) fn encode<B: Serialize>(body: &B, what: &str) -> Result<Vec<u8>, JsonFailure> {
    serde_json::to_vec(body).map_err(|e| JsonFailure {
        what: what.to_string(),
        message: format!("cannot encode the request body: {e}"),
    })
}

/// A single-object answer: the object itself, or the object found under the first of `envelope_keys`
/// that holds one (`{"data": {...}}`). Anything else is returned unchanged.
pub(crate) fn unwrap_object(value: serde_json::Value, envelope_keys: &[&str]) -> serde_json::Value {
    match value {
        serde_json::Value::Object(mut map) => {
            for key in envelope_keys {
                if map.get(*key).is_some_and(serde_json::Value::is_object) {
                    if let Some(inner) = map.remove(*key) {
                        return inner;
                    }
                }
            }
            serde_json::Value::Object(map)
        }
        other => other,
    }
}

/// The last path segment of a `Location` header (`…/persons/4242` → `4242`), the fallback id of a create
/// answer whose body names none. `None` when there is no header or it ends without a segment.
pub(crate) fn location_id(location: Option<&str>) -> Option<&str> {
    location?
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
}
