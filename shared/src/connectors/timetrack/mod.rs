//! Client of the TimeTrack REST API v2 "ext" (`/users`, `/attendances`, `/absences`).
//!
//! Every request carries `X-TimeTrack-Api-Key`, `X-TimeTrack-Api-Secret` (both marked sensitive so they
//! never print) and `Content-Type: application/json`. Lists are pages of a bare JSON array, requested
//! with `page_number` (0-based) and `limit` (max 1000) until a page has fewer than `limit` rows; a
//! server that ignores `page_number` is caught by comparing each full page with the previous one.
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::connectors::http::{retries_failures, HttpCore, HttpResponse, RateLimit, RetryPolicy};
use crate::connectors::rest::{self, decode, decode_value, encode};
use crate::connectors::WireListing;

mod error;
mod types;

pub use error::{TimeTrackError, TimeTrackProblem, CODE_DELETED};
pub use types::*;

/// TimeTrack's maximum page size.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Everything a [`TimeTrackClient`] needs. `Debug` prints `[REDACTED]` for key and secret.
#[derive(Debug, Clone)]
pub struct TimeTrackClientConfig {
    /// Base URL; every `{account}` in it is replaced by `account`.
    pub base_url_template: String,
    pub account: String,
    pub api_key: SecretString,
    pub api_secret: SecretString,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub rate_limit: Option<RateLimit>,
    /// Rows per page, 1–1000 (default 1000).
    pub page_size: u32,
    /// Upper bound of pages one list call reads.
    pub max_pages: u32,
}

impl TimeTrackClientConfig {
    pub const DEFAULT_BASE_URL_TEMPLATE: &'static str =
        "https://{account}.timetrackenterprise.com/api/v2/ext";

    /// Defaults: production URL template, 30 s timeout, 4 attempts with backoff from 1 s, 10 requests/s
    /// (TimeTrack documents no limit; this keeps a sync run polite).
    pub fn new(
        account: impl Into<String>,
        api_key: SecretString,
        api_secret: SecretString,
    ) -> Self {
        Self {
            base_url_template: Self::DEFAULT_BASE_URL_TEMPLATE.to_string(),
            account: account.into(),
            api_key,
            api_secret,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            rate_limit: Some(RateLimit {
                requests_per_second: 10.0,
                burst: 10,
            }),
            page_size: MAX_PAGE_SIZE,
            max_pages: 1000,
        }
    }

    /// The base URL for this account.
    pub fn base_url(&self) -> Result<Url, TimeTrackError> {
        let account = self.account.trim();
        if self.base_url_template.contains("{account}") {
            let valid = !account.is_empty()
                && account
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid {
                return Err(TimeTrackError::Config(format!(
                    "account {account:?} must be letters, digits, '-', '_' or '.'"
                )));
            }
        }
        let raw = self.base_url_template.trim().replace("{account}", account);
        rest::parse_base_url(&raw).map_err(TimeTrackError::Config)
    }
}

/// Filters of GET /attendances. Timestamps are sent as `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttendanceQuery {
    /// Sent as `username` (the reference's examples; `user` is the documented alternative).
    pub username: Option<String>,
    pub from: Option<TimeTrackTimestamp>,
    pub to: Option<TimeTrackTimestamp>,
}

/// Filters of GET /absences.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AbsenceQuery {
    pub username: Option<String>,
    pub from: Option<jiff::civil::Date>,
    pub to: Option<jiff::civil::Date>,
    pub absence_type: Option<i64>,
}

/// A TimeTrack API client for one account. All methods take `&self` and may run concurrently.
#[derive(Debug)]
pub struct TimeTrackClient {
    base: Url,
    /// The account the base URL names (reported when TimeTrack does not know it).
    account: String,
    api_key: HeaderValue,
    api_secret: HeaderValue,
    page_size: u32,
    max_pages: u32,
    http: HttpCore,
}

impl TimeTrackClient {
    pub fn new(config: TimeTrackClientConfig) -> Result<Self, TimeTrackError> {
        let base = config.base_url()?;
        let sensitive = |name: &str, secret: &SecretString| {
            let mut value = HeaderValue::from_str(secret.expose_secret()).map_err(|_| {
                TimeTrackError::Config(format!("{name} is not a valid header value"))
            })?;
            value.set_sensitive(true);
            Ok::<_, TimeTrackError>(value)
        };
        let http = HttpCore::new(config.timeout, &config.retry, config.rate_limit)
            .map_err(TimeTrackError::Config)?;
        Ok(Self {
            api_key: sensitive("API key", &config.api_key)?,
            api_secret: sensitive("API secret", &config.api_secret)?,
            base,
            account: config.account.trim().to_string(),
            page_size: config.page_size.clamp(1, MAX_PAGE_SIZE),
            max_pages: config.max_pages.max(1),
            http,
        })
    }

    /// Connectivity check for setup: reads the first user (`page_number=0&limit=1`).
    pub async fn check(&self) -> Result<(), TimeTrackError> {
        let mut url = self.url(&["users"]);
        url.query_pairs_mut()
            .append_pair("page_number", "0")
            .append_pair("limit", "1");
        let response = self
            .call(Method::GET, url.clone(), None)
            .await
            .map_err(|e| error::listing_error(&self.account, e))?;
        rows(&response.body, url.path())?;
        Ok(())
    }

    // ----- users ---------------------------------------------------------------------------------

    /// All users, or those matching `username`.
    pub async fn list_users(
        &self,
        username: Option<&str>,
    ) -> Result<WireListing<User>, TimeTrackError> {
        let params: Vec<(&str, String)> = username
            .map(|u| vec![("username", u.to_string())])
            .unwrap_or_default();
        self.list(&["users"], &params).await
    }

    pub async fn get_user(&self, id: i64) -> Result<User, TimeTrackError> {
        self.get_one(&["users", &id.to_string()]).await
    }

    /// Creates a user; returns its id. The password goes only into the request body.
    pub async fn create_user(&self, user: &NewUser) -> Result<i64, TimeTrackError> {
        self.create(&["users"], user).await
    }

    /// Updates a user (never `enabled` or `username`, which TimeTrack refuses to change).
    pub async fn update_user(&self, id: i64, update: &UserUpdate) -> Result<(), TimeTrackError> {
        self.write(Method::PUT, &["users", &id.to_string()], Some(update))
            .await
    }

    /// DELETE /users/{id}. Undocumented effect; assumed to disable the user (`enabled: false`).
    pub async fn delete_user(&self, id: i64) -> Result<(), TimeTrackError> {
        self.write::<()>(Method::DELETE, &["users", &id.to_string()], None)
            .await
    }

    // ----- attendances ---------------------------------------------------------------------------

    pub async fn list_attendances(
        &self,
        query: &AttendanceQuery,
    ) -> Result<WireListing<Attendance>, TimeTrackError> {
        let mut params = Vec::new();
        if let Some(u) = &query.username {
            params.push(("username", u.clone()));
        }
        if let Some(from) = query.from {
            params.push(("from", from.to_wire()));
        }
        if let Some(to) = query.to {
            params.push(("to", to.to_wire()));
        }
        self.list(&["attendances"], &params).await
    }

    pub async fn get_attendance(&self, id: i64) -> Result<Attendance, TimeTrackError> {
        self.get_one(&["attendances", &id.to_string()]).await
    }

    pub async fn create_attendance(
        &self,
        attendance: &NewAttendance,
    ) -> Result<i64, TimeTrackError> {
        self.create(&["attendances"], attendance).await
    }

    pub async fn update_attendance(
        &self,
        id: i64,
        update: &AttendanceUpdate,
    ) -> Result<(), TimeTrackError> {
        self.write(Method::PUT, &["attendances", &id.to_string()], Some(update))
            .await
    }

    pub async fn delete_attendance(&self, id: i64) -> Result<(), TimeTrackError> {
        self.write::<()>(Method::DELETE, &["attendances", &id.to_string()], None)
            .await
    }

    // ----- absences ------------------------------------------------------------------------------

    pub async fn list_absences(
        &self,
        query: &AbsenceQuery,
    ) -> Result<WireListing<Absence>, TimeTrackError> {
        let mut params = Vec::new();
        if let Some(u) = &query.username {
            params.push(("username", u.clone()));
        }
        if let Some(from) = query.from {
            params.push(("from", from.to_string()));
        }
        if let Some(to) = query.to {
            params.push(("to", to.to_string()));
        }
        if let Some(t) = query.absence_type {
            params.push(("absenceType", t.to_string()));
        }
        self.list(&["absences"], &params).await
    }

    pub async fn get_absence(&self, id: i64) -> Result<Absence, TimeTrackError> {
        self.get_one(&["absences", &id.to_string()]).await
    }

    pub async fn create_absence(&self, absence: &NewAbsence) -> Result<i64, TimeTrackError> {
        self.create(&["absences"], absence).await
    }

    /// PUT /absences/{id} with only the status: the one change TimeTrack makes in place. Any other
    /// change is delete + create.
    pub async fn update_absence_status(
        &self,
        id: i64,
        status: AbsenceStatus,
    ) -> Result<(), TimeTrackError> {
        let body = AbsenceStatusUpdate { status };
        self.write(Method::PUT, &["absences", &id.to_string()], Some(&body))
            .await
    }

    pub async fn delete_absence(&self, id: i64) -> Result<(), TimeTrackError> {
        self.write::<()>(Method::DELETE, &["absences", &id.to_string()], None)
            .await
    }

    // ----- machinery -----------------------------------------------------------------------------

    /// The base URL with `segments` appended, each percent-encoded as one path segment.
    fn url(&self, segments: &[&str]) -> Url {
        rest::endpoint(&self.base, segments)
    }

    /// Sends one request with the API headers; returns only successful answers.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, TimeTrackError> {
        let response = self
            .http
            .send(&method, url.path(), retries_failures(&method), |client| {
                let request = client
                    .request(method.clone(), url.clone())
                    .header("X-TimeTrack-Api-Key", self.api_key.clone())
                    .header("X-TimeTrack-Api-Secret", self.api_secret.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .header(ACCEPT, "application/json");
                match &body {
                    Some(bytes) => request.body(bytes.clone()),
                    None => request,
                }
            })
            .await?;
        if !response.status.is_success() {
            return Err(error::api_error(
                method.as_str(),
                url.path(),
                response.status.as_u16(),
                &response.body,
            ));
        }
        Ok(response)
    }

    async fn get_one<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T, TimeTrackError> {
        let url = self.url(segments);
        let what = format!("GET {}", url.path());
        let response = self.call(Method::GET, url, None).await?;
        let value: serde_json::Value = decode(&response.body, &what)?;
        // A single record comes bare, or wrapped in `data` like some list answers.
        Ok(decode_value(rest::unwrap_object(value, &["data"]), &what)?)
    }

    async fn create<B: Serialize>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<i64, TimeTrackError> {
        let url = self.url(segments);
        let what = format!("POST {}", url.path());
        let bytes = encode(body, &what)?;
        let response = self.call(Method::POST, url, Some(bytes)).await?;
        let location = response.headers.get(LOCATION).and_then(|v| v.to_str().ok());
        created_id(&response.body, location).ok_or_else(|| TimeTrackError::Decode {
            what,
            message: "the create answer names no numeric id".into(),
        })
    }

    async fn write<B: Serialize>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
    ) -> Result<(), TimeTrackError> {
        let url = self.url(segments);
        let what = format!("{method} {}", url.path());
        let bytes = body.map(|b| encode(b, &what)).transpose()?;
        self.call(method, url, bytes).await?;
        Ok(())
    }

    /// Reads pages `0, 1, 2, …` until one has fewer than `page_size` rows.
    async fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        params: &[(&str, String)],
    ) -> Result<WireListing<T>, TimeTrackError> {
        let mut listing = WireListing::default();
        let mut previous: Option<Vec<serde_json::Value>> = None;
        for page_number in 0..self.max_pages {
            let mut url = self.url(segments);
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
                q.append_pair("page_number", &page_number.to_string())
                    .append_pair("limit", &self.page_size.to_string());
            }
            let response = self
                .call(Method::GET, url.clone(), None)
                .await
                .map_err(|e| error::listing_error(&self.account, e))?;
            let page = rows(&response.body, url.path())?;
            let full = page.len() >= self.page_size as usize;
            if full && previous.as_ref() == Some(&page) {
                return Err(TimeTrackError::PagingLoop {
                    path: url.path().to_string(),
                    page_number,
                });
            }
            for record in &page {
                listing.push_raw(record.clone());
            }
            if !full {
                return Ok(listing);
            }
            previous = Some(page);
        }
        Err(TimeTrackError::TooManyPages {
            path: self.url(segments).path().to_string(),
            pages: self.max_pages,
        })
    }
}

/// A list answer: a bare JSON array (tolerating `{"data": [...]}`).
fn rows(body: &[u8], path: &str) -> Result<Vec<serde_json::Value>, TimeTrackError> {
    let what = format!("GET {path}");
    match decode::<serde_json::Value>(body, &what)? {
        serde_json::Value::Array(rows) => Ok(rows),
        serde_json::Value::Object(mut map) => match map.remove("data") {
            Some(serde_json::Value::Array(rows)) => Ok(rows),
            _ => Err(TimeTrackError::Decode {
                what,
                message: "expected a JSON array of records".into(),
            }),
        },
        serde_json::Value::Null => Ok(Vec::new()),
        _ => Err(TimeTrackError::Decode {
            what,
            message: "expected a JSON array of records".into(),
        }),
    }
}

/// The id of a created record: `id` (number or numeric string) of the answer object, of `data`, of the
/// first element of an array answer, else the last segment of a `Location` header.
fn created_id(body: &[u8], location: Option<&str>) -> Option<i64> {
    let as_id = |v: &serde_json::Value| match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let from_body = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            [
                v.get("id"),
                v.get("ID"),
                v.get("data").and_then(|d| d.get("id")),
                v.get(0).and_then(|d| d.get("id")),
            ]
            .into_iter()
            .flatten()
            .find_map(as_id)
        });
    from_body.or_else(|| rest::location_id(location)?.parse().ok())
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
