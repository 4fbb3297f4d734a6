//! HTTP clients of the two external APIs. Wire shapes of Personio v2 and TimeTrack live here and only here.
//!
//! - [`http`]: what both clients share: retry with capped exponential backoff, the client-side rate
//!   limiter, the server's rate-limit hints, timeouts and transport-error classification.
//! - `rest`: what both clients share above the transport: base and resource URLs, JSON bodies, the id
//!   of a created record.
//! - [`personio`]: Personio API v2 (OAuth client credentials, cursor paging, problem+json errors).
//! - [`timetrack`]: TimeTrack API v2 "ext" (key/secret headers, page-number paging, error envelope).
//!
//! Both clients return list results as a [`WireListing`]: one malformed record is reported next to the good
//! ones instead of failing the whole list, because one bad record must never stop a sync run. Both
//! clients' errors answer [`ErrorClass`] so that the sync engine decides what to do with a failed record
//! without knowing either API.
use serde::Serialize;

pub mod http;
mod lenient;
pub mod personio;
mod rest;
pub mod timetrack;

/// What a failed call means for the sync engine; each client error maps to exactly one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The record does not exist (or no longer exists): confirms a deletion.
    NotFound,
    /// Credentials, permissions or configuration are wrong: stop the run, nothing else will work either.
    Auth,
    /// The other system refused this record's content: record it for this record, retry next run.
    Validation,
    /// The write clashes with existing data (409, e.g. an overlapping absence).
    Conflict,
    /// Still rate limited after the client's own retries: back off and continue later.
    RateLimited,
    /// 5xx, timeout or connection failure after the client's own retries: worth retrying later.
    Transient,
    /// The answer could not be understood (bad JSON, missing fields, a paging loop).
    Decode,
}

impl ErrorClass {
    /// Should the whole run stop (rather than record this one record as failed and move on)?
    pub fn stops_run(self) -> bool {
        matches!(self, ErrorClass::Auth)
    }
}

/// Maps an HTTP status of a resource call to what it means for the engine.
pub(crate) fn class_of_status(status: u16) -> ErrorClass {
    match status {
        401 | 403 => ErrorClass::Auth,
        404 | 410 => ErrorClass::NotFound,
        409 => ErrorClass::Conflict,
        429 => ErrorClass::RateLimited,
        408 | 500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Validation,
    }
}

/// The result of a list call in wire types: the records that parsed, and the ones that did not. (The
/// engine's [`crate::engine::Listing`] is one side's records in canonical form, built from this.)
#[derive(Debug, Clone, PartialEq)]
pub struct WireListing<T> {
    pub items: Vec<T>,
    pub malformed: Vec<MalformedRecord>,
}

impl<T> Default for WireListing<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            malformed: Vec::new(),
        }
    }
}

impl<T> WireListing<T> {
    /// True when every record of the list parsed.
    pub fn is_clean(&self) -> bool {
        self.malformed.is_empty()
    }
}

/// One element of a list answer that could not be parsed into the wire type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MalformedRecord {
    /// The record's `id` if it had one that could be read (string or number).
    pub id: Option<String>,
    /// Why it failed to parse (the serde message: field names and the offending value's type).
    pub error: String,
}

impl<T: serde::de::DeserializeOwned> WireListing<T> {
    /// Parses each element separately so that one bad record does not hide the good ones.
    pub(crate) fn push_raw(&mut self, value: serde_json::Value) {
        let id = record_id(&value);
        match serde_json::from_value::<T>(value) {
            Ok(item) => self.items.push(item),
            Err(e) => self.malformed.push(MalformedRecord {
                id,
                error: e.to_string(),
            }),
        }
    }
}

/// The `id` of a raw JSON record, whether the API spelled it as a string or a number.
fn record_id(value: &serde_json::Value) -> Option<String> {
    match value.get("id")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod payload_props;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Thing {
        id: String,
        size: u32,
    }

    #[test]
    fn listing_keeps_good_records_and_reports_bad_ones_with_their_id() {
        let mut listing = WireListing::<Thing>::default();
        listing.push_raw(serde_json::json!({"id": "a", "size": 1}));
        listing.push_raw(serde_json::json!({"id": 7, "size": "big"}));
        listing.push_raw(serde_json::json!({"size": 2}));
        assert_eq!(
            listing.items,
            vec![Thing {
                id: "a".into(),
                size: 1
            }]
        );
        assert_eq!(listing.malformed.len(), 2);
        assert_eq!(listing.malformed[0].id.as_deref(), Some("7"));
        assert!(listing.malformed[0].error.contains("invalid type"));
        assert_eq!(listing.malformed[1].id, None);
        assert!(!listing.is_clean());
    }

    #[test]
    fn only_auth_stops_a_run() {
        assert!(ErrorClass::Auth.stops_run());
        assert!(!ErrorClass::Validation.stops_run());
        assert!(!ErrorClass::Transient.stops_run());
    }
}
