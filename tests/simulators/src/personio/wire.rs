//! Personio wire conventions: problem+json errors, the list envelope with cursor links, the opaque
//! cursor, query-string and local date-time parsing, and rendering records with their derived fields.

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::civil::DateTime;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::model::{Employment, Person};
use super::state::{now_seconds, PersonioState, WriteError};

const ERRORS_DOC: &str = "https://developer.personio.de/reference/errors";

/// The error-type anchor Personio uses for a status (`common.bad_request`, ...).
fn error_type(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "common.bad_request",
        401 => "common.unauthorized",
        403 => "common.forbidden",
        404 => "common.resource_not_found",
        409 => "common.conflict",
        422 => "common.unprocessable_entity",
        429 => "common.too_many_requests",
        500 => "common.internal_server_error",
        502 => "common.bad_gateway",
        503 => "common.service_unavailable",
        504 => "common.gateway_timeout",
        _ => return None,
    })
}

/// A resource error: `application/problem+json` with `personio_trace_id`, `timestamp`, `errors[]`.
pub(crate) fn problem(status: u16, title: &str, detail: &str) -> Response {
    let body = json!({
        "personio_trace_id": uuid::Uuid::new_v4().to_string(),
        "timestamp": now_seconds().to_string(),
        "errors": [{
            "title": title,
            "detail": detail,
            "type": error_type(status).map(|t| format!("{ERRORS_DOC}#{t}")),
            "_meta": {},
        }],
    });
    with_json_body(status, "application/problem+json", &body)
}

pub(crate) fn bad_request(detail: &str) -> Response {
    problem(400, "Bad request", detail)
}

pub(crate) fn not_found() -> Response {
    problem(
        404,
        "Resource not found",
        "There is no resource for the specified id.",
    )
}

/// The error a fault rule or the gateway answers for a status code.
pub(crate) fn gateway_error(status: u16) -> Response {
    let title = match status {
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Error",
    };
    let detail = match status {
        429 => "Rate limit exceeded. Please retry later.",
        500..=599 => "The service is temporarily unable to handle the request.",
        _ => "The request could not be processed.",
    };
    problem(status, title, detail)
}

impl IntoResponse for WriteError {
    fn into_response(self) -> Response {
        problem(self.status, &self.title, &self.detail)
    }
}

/// The token endpoint's own error shape (OAuth2TokenErrorResponse), always HTTP 400.
pub(crate) fn token_error(error: &str, description: &str, meta: Value) -> Response {
    let body = json!({
        "timestamp": now_seconds().to_string(),
        "trace_id": uuid::Uuid::new_v4().to_string(),
        "error": error,
        "error_description": description,
        "error_uri": format!("{ERRORS_DOC}#credentials.oauth2.{error}"),
        "meta": meta,
    });
    with_json_body(400, "application/problem+json", &body)
}

pub(crate) fn with_json_body(status: u16, content_type: &'static str, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub(crate) fn json_ok(body: &Value) -> Response {
    with_json_body(200, "application/json", body)
}

/// 201 `{ "id": ..., "_meta": { "links": { "self": { "href": ... } } } }`.
pub(crate) fn created(id: &str, self_href: String) -> Response {
    with_json_body(
        201,
        "application/json",
        &json!({ "id": id, "_meta": { "links": { "self": { "href": self_href } } } }),
    )
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

// ----- cursors -----

/// What an opaque cursor carries: the filters of the first request, the page size and the offset.
/// Filters resent beside a cursor are ignored, as the reference recommends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(rename = "f")]
    pub filters: Vec<(String, String)>,
    #[serde(rename = "l")]
    pub limit: usize,
    #[serde(rename = "o")]
    pub offset: usize,
    /// The listing this walk pins (see [`pinned`]); absent in cursors of unpinned listings.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<u64>,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("cur_{}", base64url_encode(&json))
    }

    pub(crate) fn decode(token: &str) -> Option<Cursor> {
        let bytes = base64url_decode(token.strip_prefix("cur_")?)?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// The resolved paging of a list request.
pub(crate) struct ListRequest {
    pub filters: Vec<(String, String)>,
    pub limit: usize,
    pub offset: usize,
    /// The pinned listing the cursor names, if any.
    pub snapshot: Option<u64>,
}

// ----- pinned listings -----

/// The ids of a filtered, sorted listing as its first page saw them, so that the following pages of
/// the same walk cost a lookup per row instead of filtering and sorting every record again (that was
/// quadratic in the company's size: 400 pages × 40,000 periods at 1,000 people, issue 16).
struct Pinned {
    id: u64,
    /// How many records the listed collection held when pinned: a walk whose collection grew or
    /// shrank since is listed afresh (its offset then applies to the new listing, as before).
    records: usize,
    ids: Arc<Vec<String>>,
}

/// The few most recent pinned listings of the process (a walk reads one at a time; a cursor whose
/// listing was dropped is listed afresh, so the cache never changes an answer's shape).
static PINNED: Mutex<Vec<Pinned>> = Mutex::new(Vec::new());
static NEXT_PIN: AtomicU64 = AtomicU64::new(1);
const PINNED_KEPT: usize = 8;

/// The listing `request` walks: the one its cursor pinned when that is still held and its collection
/// still has `records` records, else `list()` afresh (pinned for the following pages). Rows are
/// rendered from the current records, so a record changed or deleted since shows as it is now (or
/// not at all).
pub(crate) fn pinned(
    request: &ListRequest,
    records: usize,
    list: impl FnOnce() -> Vec<String>,
) -> (u64, Arc<Vec<String>>) {
    let mut held = PINNED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = request
        .snapshot
        .and_then(|id| held.iter().find(|p| p.id == id && p.records == records))
    {
        return (p.id, p.ids.clone());
    }
    drop(held);
    let ids = Arc::new(list());
    let id = NEXT_PIN.fetch_add(1, AtomicOrdering::Relaxed);
    held = PINNED.lock().unwrap_or_else(|e| e.into_inner());
    if held.len() >= PINNED_KEPT {
        held.remove(0);
    }
    held.push(Pinned {
        id,
        records,
        ids: ids.clone(),
    });
    (id, ids)
}

/// Forgets a pinned listing once its last page was served.
pub(crate) fn unpin(id: u64) {
    PINNED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| p.id != id);
}

/// One page of a pinned listing: the rows at the request's offset, looked up by `get` and rendered
/// (rows whose record is gone are left out), with a `next` cursor that names the pinned listing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pinned_page<T>(
    (pin, ids): (u64, Arc<Vec<String>>),
    get: impl Fn(&str) -> Option<T>,
    render: impl FnMut(T) -> Value,
    request: &ListRequest,
    base_url: &str,
    path: &str,
    raw_query: Option<&str>,
    next_relative: bool,
) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .skip(request.offset)
        .take(request.limit)
        .filter_map(|id| get(id))
        .map(render)
        .collect();
    let more = request.offset + request.limit < ids.len();
    if !more {
        unpin(pin);
    }
    envelope(
        data,
        more.then_some(pin),
        more,
        request,
        base_url,
        path,
        raw_query,
        next_relative,
    )
}

/// Splits a raw query into paging and filters; a cursor, when present, replaces everything else.
pub(crate) fn list_request(
    raw_query: Option<&str>,
    max_limit: usize,
    default_limit: usize,
) -> Result<ListRequest, Response> {
    let pairs = query_pairs(raw_query);
    if let Some((_, token)) = pairs.iter().find(|(k, _)| k == "cursor") {
        return match Cursor::decode(token) {
            Some(c) => Ok(ListRequest {
                filters: c.filters,
                limit: c.limit,
                offset: c.offset,
                snapshot: c.snapshot,
            }),
            None => Err(bad_request("Invalid cursor")),
        };
    }
    let mut limit = default_limit;
    let mut filters = Vec::new();
    for (key, value) in pairs {
        if key == "limit" {
            limit = match value.parse::<usize>() {
                Ok(n) if (1..=max_limit).contains(&n) => n,
                _ => return Err(bad_request("Provided request parameters are invalid.")),
            };
        } else {
            filters.push((key, value));
        }
    }
    Ok(ListRequest {
        filters,
        limit,
        offset: 0,
        snapshot: None,
    })
}

pub(crate) fn query_pairs(raw_query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Comma-separated values of a filter (`id=1,2` and repeated keys both end up here, one call each).
pub(crate) fn comma_list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Builds the `{_data, _meta}` page. `next_relative` makes the `next` href relative (`/v2/...`).
pub(crate) fn page(
    items: Vec<Value>,
    request: &ListRequest,
    base_url: &str,
    path: &str,
    raw_query: Option<&str>,
    next_relative: bool,
) -> Value {
    page_of(
        items,
        |v| v,
        request,
        base_url,
        path,
        raw_query,
        next_relative,
    )
}

/// [`page`] over records that are rendered with `render` only when they are on the page: serialising
/// every match for every page made listing a large company quadratic in its pages.
pub(crate) fn page_of<T>(
    items: Vec<T>,
    render: impl FnMut(T) -> Value,
    request: &ListRequest,
    base_url: &str,
    path: &str,
    raw_query: Option<&str>,
    next_relative: bool,
) -> Value {
    let total = items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip(request.offset)
        .take(request.limit)
        .map(render)
        .collect();
    let more = request.offset + request.limit < total;
    envelope(
        data,
        None,
        more,
        request,
        base_url,
        path,
        raw_query,
        next_relative,
    )
}

/// The `{_data, _meta}` envelope of a page, with a `next` link when `more` rows follow.
#[allow(clippy::too_many_arguments)]
fn envelope(
    data: Vec<Value>,
    snapshot: Option<u64>,
    more: bool,
    request: &ListRequest,
    base_url: &str,
    path: &str,
    raw_query: Option<&str>,
    next_relative: bool,
) -> Value {
    let self_href = match raw_query {
        Some(q) if !q.is_empty() => format!("{base_url}{path}?{q}"),
        _ => format!("{base_url}{path}"),
    };
    let mut links = json!({ "self": { "href": self_href } });
    if more {
        let cursor = Cursor {
            filters: request.filters.clone(),
            limit: request.limit,
            offset: request.offset + request.limit,
            snapshot,
        };
        let prefix = if next_relative { "" } else { base_url };
        links["next"] = json!({ "href": format!("{prefix}{path}?cursor={}", cursor.encode()) });
    }
    json!({ "_data": data, "_meta": { "links": links } })
}

// ----- time values -----

/// Why a local date-time was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LocalDateTimeError {
    /// Carried `Z` or a UTC offset, which Personio's local date-times must not.
    HasOffset,
    Malformed,
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]` (no offset). Fractional seconds are dropped.
pub(crate) fn parse_local_date_time(text: &str) -> Result<DateTime, LocalDateTimeError> {
    let time_part = text.split_once('T').map_or("", |(_, t)| t);
    if time_part.ends_with('Z')
        || time_part.ends_with('z')
        || time_part.contains('+')
        || time_part.contains('-')
    {
        return Err(LocalDateTimeError::HasOffset);
    }
    let parsed: DateTime = text.parse().map_err(|_| LocalDateTimeError::Malformed)?;
    Ok(parsed.with().subsec_nanosecond(0).build().unwrap_or(parsed))
}

/// Like [`parse_local_date_time`] but tolerating a trailing `Z` (read as local), for absence filters.
pub(crate) fn parse_local_date_time_lenient(text: &str) -> Option<DateTime> {
    let trimmed = text.strip_suffix('Z').unwrap_or(text);
    parse_local_date_time(trimmed).ok()
}

/// Parses an RFC 3339 instant (persons' `created_at`/`updated_at` filters).
pub(crate) fn parse_timestamp(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

// ----- rendering -----

pub(crate) fn render_person(state: &PersonioState, person: &Person, base_url: &str) -> Value {
    let mut value = serde_json::to_value(person).unwrap_or(Value::Null);
    let employments: Vec<Value> = state
        .employments_of(&person.id)
        .iter()
        .map(|e| json!({ "id": e.id }))
        .collect();
    if let Value::Object(map) = &mut value {
        map.insert("status".into(), json!(state.person_status(&person.id)));
        map.insert("employments".into(), Value::Array(employments));
        map.insert(
            "profile_picture".into(),
            json!({ "url": format!("{base_url}/v1/company/employees/{}/profile-picture", person.id) }),
        );
        map.insert(
            "_meta".into(),
            json!({ "links": { "employments": { "href": format!("{base_url}/v2/persons/{}/employments", person.id) } } }),
        );
    }
    value
}

pub(crate) fn render_employment(employment: &Employment, base_url: &str) -> Value {
    let mut value = serde_json::to_value(employment).unwrap_or(Value::Null);
    let mut links =
        json!({ "person": { "href": format!("{base_url}/v2/persons/{}", employment.person.id) } });
    if let Some(supervisor) = &employment.supervisor {
        links["supervisor"] = json!({ "href": format!("{base_url}/v2/persons/{}", supervisor.id) });
    }
    if let Value::Object(map) = &mut value {
        map.insert("_meta".into(), json!({ "links": links }));
    }
    value
}

pub(crate) fn to_value<T: Serialize>(record: &T) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A walk lists once: later pages reuse the listing its cursor pinned while the collection keeps
    /// its size, and list afresh when it grew or shrank or the pin is unknown.
    #[test]
    fn pinned_listings_are_reused_only_while_the_collection_keeps_its_size() {
        let first = ListRequest {
            filters: Vec::new(),
            limit: 2,
            offset: 0,
            snapshot: None,
        };
        let (pin, ids) = pinned(&first, 3, || vec!["a".into(), "b".into(), "c".into()]);
        let next = ListRequest {
            offset: 2,
            snapshot: Some(pin),
            ..first
        };
        let (same, again) = pinned(&next, 3, || panic!("listed again"));
        assert_eq!((same, &again), (pin, &ids));
        let (other, fresh) = pinned(&next, 4, || vec!["a".into()]);
        assert_ne!(other, pin);
        assert_eq!(*fresh, vec!["a".to_string()]);
        unpin(pin);
        let (relisted, _) = pinned(&next, 3, || vec!["z".into()]);
        assert_ne!(relisted, pin);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            filters: vec![("email".into(), "zoë@example.com".into())],
            limit: 7,
            offset: 14,
            snapshot: Some(3),
        };
        let token = cursor.encode();
        assert!(token.starts_with("cur_"));
        assert_eq!(Cursor::decode(&token), Some(cursor));
        assert_eq!(Cursor::decode("invalid-cursor-string"), None);
        assert_eq!(Cursor::decode("cur_!!!"), None);
    }

    #[test]
    fn local_date_times_refuse_offsets() {
        assert_eq!(
            parse_local_date_time("2025-03-03T08:00:00").map(|d| d.to_string()),
            Ok("2025-03-03T08:00:00".to_string())
        );
        assert!(parse_local_date_time("2025-03-03T08:00:00.000").is_ok());
        assert_eq!(
            parse_local_date_time("2025-03-03T08:00:00Z"),
            Err(LocalDateTimeError::HasOffset)
        );
        assert_eq!(
            parse_local_date_time("2025-03-03T08:00:00+01:00"),
            Err(LocalDateTimeError::HasOffset)
        );
        assert_eq!(
            parse_local_date_time("yesterday"),
            Err(LocalDateTimeError::Malformed)
        );
        assert!(parse_local_date_time_lenient("2025-03-03T00:00:00.000Z").is_some());
    }
}
