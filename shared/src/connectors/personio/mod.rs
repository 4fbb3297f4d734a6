//! Client of Personio Public API v2 (`/v2/auth/token`, persons, employments, attendance periods,
//! absence types, absence periods).
//!
//! Authentication is OAuth client credentials: one token, cached until 60 s before it expires and
//! refreshed once when a resource call answers 401 (that call is then repeated once). Lists follow
//! `_meta.links.next.href` verbatim until there is no `next`; a repeated cursor stops with
//! [`PersonioError::PagingLoop`]. See the module docs of [`envelope`], [`filters`] and
//! [`crate::connectors::http`] for the tolerated shapes, filter spellings and retry rules.
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::connectors::http::{retries_failures, HttpCore, HttpResponse, RateLimit, RetryPolicy};
use crate::connectors::rest::{self, decode, decode_value, encode};
use crate::connectors::WireListing;

mod envelope;
mod error;
mod filters;
mod token;
mod types;
mod webhooks;

pub use error::{ApiErrorKind, PersonioError, Problem};
pub use filters::{
    AbsenceFilter, AttendanceFilter, PersonFilter, MAX_PERIODS_LIMIT, MAX_PERSONS_LIMIT,
};
pub use types::*;
pub use webhooks::{
    NewWebhook, Webhook, WebhookAuthType, WebhookEvent, WebhookEventFilter, WebhookEventName,
    WebhookPatch, WebhookStatus, WebhookSubject, MAX_WEBHOOK_LIMIT,
};

use envelope::{created_id, resolve_next, unwrap_single, Page, SeenPages};
use token::{TokenAnswer, TokenCache};

/// Everything a [`PersonioClient`] needs. `Debug` prints `[REDACTED]` for the secret.
#[derive(Debug, Clone)]
pub struct PersonioClientConfig {
    /// `https://api.personio.de` unless overridden; paths `/v2/...` are appended.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Per request, including reading the body.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// A ceiling on the request rate over all endpoints; below it the client follows the per-endpoint
    /// limits Personio advertises in its `x-ratelimit-*` headers. `None` = only the advertised limits.
    pub rate_limit: Option<RateLimit>,
    /// Sent as `X-Personio-App-ID` when set (UPPER_SNAKE_CASE by Personio's convention).
    pub app_id: Option<String>,
    /// Sent as `X-Personio-Partner-ID` when set.
    pub partner_id: Option<String>,
    /// Upper bound of pages one list call follows.
    pub max_pages: usize,
}

impl PersonioClientConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.personio.de";

    /// Defaults: production base URL, 30 s timeout, 4 attempts with backoff from 1 s, a ceiling of 50
    /// requests/s (above the highest per-endpoint rate observed on Personio's gateway, 30 req/s on
    /// persons, so the advertised limits set the pace; ADR 0020).
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            base_url: Self::DEFAULT_BASE_URL.to_string(),
            client_id: client_id.into(),
            client_secret,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            rate_limit: Some(RateLimit {
                requests_per_second: 50.0,
                burst: 50,
            }),
            app_id: None,
            partner_id: None,
            max_pages: 10_000,
        }
    }
}

/// A Personio API v2 client for one company's credentials. Cheap to share behind an `Arc`; all methods
/// take `&self` and may run concurrently.
#[derive(Debug)]
pub struct PersonioClient {
    base: Url,
    client_id: String,
    client_secret: SecretString,
    app_id: Option<HeaderValue>,
    partner_id: Option<HeaderValue>,
    max_pages: usize,
    http: HttpCore,
    token: Mutex<TokenCache>,
}

impl PersonioClient {
    pub fn new(config: PersonioClientConfig) -> Result<Self, PersonioError> {
        let base = rest::parse_base_url(&config.base_url).map_err(PersonioError::Config)?;
        let header = |name: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| {
                    HeaderValue::from_str(v)
                        .map_err(|_| PersonioError::Config(format!("{name} is not a valid header")))
                })
                .transpose()
        };
        let http = HttpCore::new(config.timeout, &config.retry, config.rate_limit)
            .map_err(PersonioError::Config)?;
        Ok(Self {
            app_id: header("app id", &config.app_id)?,
            partner_id: header("partner id", &config.partner_id)?,
            base,
            client_id: config.client_id,
            client_secret: config.client_secret,
            max_pages: config.max_pages.max(1),
            http,
            token: Mutex::new(TokenCache::default()),
        })
    }

    /// Connectivity check for setup: obtains a token and reads one person (`limit=1`).
    pub async fn check(&self) -> Result<(), PersonioError> {
        let mut url = self.url(&["v2", "persons"]);
        url.query_pairs_mut().append_pair("limit", "1");
        let response = self.call(Method::GET, url, None).await?;
        decode::<Page>(&response.body, "GET /v2/persons")?;
        Ok(())
    }

    // ----- persons -------------------------------------------------------------------------------

    pub async fn list_persons(
        &self,
        filter: &PersonFilter,
    ) -> Result<WireListing<Person>, PersonioError> {
        let mut url = self.url(&["v2", "persons"]);
        filter.apply(&mut url);
        self.list(url).await
    }

    pub async fn get_person(&self, id: &str) -> Result<Person, PersonioError> {
        self.get_one(self.url(&["v2", "persons", id])).await
    }

    /// Creates a person (and its first employment when given); returns the new person's id.
    pub async fn create_person(&self, person: &NewPerson) -> Result<String, PersonioError> {
        self.create(self.url(&["v2", "persons"]), person).await
    }

    pub async fn update_person(&self, id: &str, patch: &PersonPatch) -> Result<(), PersonioError> {
        self.write(Method::PATCH, self.url(&["v2", "persons", id]), Some(patch))
            .await
    }

    pub async fn delete_person(&self, id: &str) -> Result<(), PersonioError> {
        self.write::<()>(Method::DELETE, self.url(&["v2", "persons", id]), None)
            .await
    }

    // ----- employments ---------------------------------------------------------------------------

    /// All employments of a person, most recent first (Personio's order).
    pub async fn list_employments(
        &self,
        person_id: &str,
    ) -> Result<WireListing<Employment>, PersonioError> {
        let mut url = self.url(&["v2", "persons", person_id, "employments"]);
        url.query_pairs_mut()
            .append_pair("limit", &MAX_PERSONS_LIMIT.to_string());
        self.list(url).await
    }

    pub async fn get_employment(
        &self,
        person_id: &str,
        employment_id: &str,
    ) -> Result<Employment, PersonioError> {
        self.get_one(self.url(&["v2", "persons", person_id, "employments", employment_id]))
            .await
    }

    pub async fn update_employment(
        &self,
        person_id: &str,
        employment_id: &str,
        patch: &EmploymentPatch,
    ) -> Result<(), PersonioError> {
        let url = self.url(&["v2", "persons", person_id, "employments", employment_id]);
        self.write(Method::PATCH, url, Some(patch)).await
    }

    // ----- attendance periods --------------------------------------------------------------------

    pub async fn list_attendance_periods(
        &self,
        filter: &AttendanceFilter,
    ) -> Result<WireListing<AttendancePeriod>, PersonioError> {
        let mut url = self.url(&["v2", "attendance-periods"]);
        filter.apply(&mut url);
        self.list(url).await
    }

    pub async fn get_attendance_period(&self, id: &str) -> Result<AttendancePeriod, PersonioError> {
        self.get_one(self.url(&["v2", "attendance-periods", id]))
            .await
    }

    /// Creates an attendance period; `skip_approval` bypasses the approval the write would need.
    /// Returns the new period's id.
    pub async fn create_attendance_period(
        &self,
        period: &NewAttendancePeriod,
        skip_approval: bool,
    ) -> Result<String, PersonioError> {
        let mut url = self.url(&["v2", "attendance-periods"]);
        with_skip_approval(&mut url, skip_approval);
        self.create(url, period).await
    }

    pub async fn update_attendance_period(
        &self,
        id: &str,
        patch: &AttendancePatch,
        skip_approval: bool,
    ) -> Result<(), PersonioError> {
        let mut url = self.url(&["v2", "attendance-periods", id]);
        with_skip_approval(&mut url, skip_approval);
        self.write(Method::PATCH, url, Some(patch)).await
    }

    pub async fn delete_attendance_period(&self, id: &str) -> Result<(), PersonioError> {
        let url = self.url(&["v2", "attendance-periods", id]);
        self.write::<()>(Method::DELETE, url, None).await
    }

    // ----- absence types -------------------------------------------------------------------------

    pub async fn list_absence_types(&self) -> Result<WireListing<AbsenceType>, PersonioError> {
        let mut url = self.url(&["v2", "absence-types"]);
        url.query_pairs_mut()
            .append_pair("limit", &MAX_PERIODS_LIMIT.to_string());
        self.list(url).await
    }

    pub async fn get_absence_type(&self, id: &str) -> Result<AbsenceType, PersonioError> {
        self.get_one(self.url(&["v2", "absence-types", id])).await
    }

    // ----- absence periods -----------------------------------------------------------------------

    pub async fn list_absence_periods(
        &self,
        filter: &AbsenceFilter,
    ) -> Result<WireListing<AbsencePeriod>, PersonioError> {
        let mut url = self.url(&["v2", "absence-periods"]);
        filter.apply(&mut url);
        self.list(url).await
    }

    pub async fn get_absence_period(&self, id: &str) -> Result<AbsencePeriod, PersonioError> {
        self.get_one(self.url(&["v2", "absence-periods", id])).await
    }

    /// Creates an absence period; returns its id.
    pub async fn create_absence_period(
        &self,
        period: &NewAbsencePeriod,
        skip_approval: bool,
    ) -> Result<String, PersonioError> {
        let mut url = self.url(&["v2", "absence-periods"]);
        with_skip_approval(&mut url, skip_approval);
        self.create(url, period).await
    }

    pub async fn update_absence_period(
        &self,
        id: &str,
        patch: &AbsencePatch,
        skip_approval: bool,
    ) -> Result<(), PersonioError> {
        let mut url = self.url(&["v2", "absence-periods", id]);
        with_skip_approval(&mut url, skip_approval);
        self.write(Method::PATCH, url, Some(patch)).await
    }

    pub async fn delete_absence_period(&self, id: &str) -> Result<(), PersonioError> {
        let url = self.url(&["v2", "absence-periods", id]);
        self.write::<()>(Method::DELETE, url, None).await
    }

    // ----- machinery -----------------------------------------------------------------------------

    /// The base URL with `segments` appended, each percent-encoded as one path segment.
    fn url(&self, segments: &[&str]) -> Url {
        rest::endpoint(&self.base, segments)
    }

    /// A fresh access token, fetched when none is cached or the cached one is about to expire.
    async fn bearer(&self) -> Result<(SecretString, u64), PersonioError> {
        let mut cache = self.token.lock().await;
        if let Some(fresh) = cache.fresh(Instant::now()) {
            return Ok(fresh);
        }
        let answer = self.fetch_token().await?;
        Ok(cache.store(answer, Instant::now()))
    }

    async fn fetch_token(&self) -> Result<TokenAnswer, PersonioError> {
        let url = self.url(&["v2", "auth", "token"]);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        // No Accept header: Personio's token endpoint has refused a restrictive one. The token request
        // has no side effects, so failures are retried like a GET.
        let response = self
            .http
            .send(&Method::POST, url.path(), true, |client| {
                client.post(url.clone()).form(&form)
            })
            .await?;
        if !response.status.is_success() {
            return Err(error::token_error(response.status.as_u16(), &response.body));
        }
        // The serde message could quote the token, so it is not passed on.
        serde_json::from_slice::<TokenAnswer>(&response.body).map_err(|_| PersonioError::Decode {
            what: "POST /v2/auth/token".into(),
            message: "the token answer has no usable access_token".into(),
        })
    }

    /// Sends one resource request with the bearer token; on 401 refreshes the token once and repeats.
    /// Returns only successful answers.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, PersonioError> {
        let mut refreshed = false;
        loop {
            let (token, generation) = self.bearer().await?;
            let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| PersonioError::Decode {
                    what: "POST /v2/auth/token".into(),
                    message: "the access token is not a valid header value".into(),
                })?;
            auth.set_sensitive(true);
            let response = self
                .http
                .send(&method, url.path(), retries_failures(&method), |client| {
                    let mut request = client
                        .request(method.clone(), url.clone())
                        .header(AUTHORIZATION, auth.clone())
                        .header(ACCEPT, "application/json, application/problem+json");
                    if let Some(app) = &self.app_id {
                        request = request.header("X-Personio-App-ID", app.clone());
                    }
                    if let Some(partner) = &self.partner_id {
                        request = request.header("X-Personio-Partner-ID", partner.clone());
                    }
                    if let Some(bytes) = &body {
                        request = request
                            .header(CONTENT_TYPE, "application/json")
                            .body(bytes.clone());
                    }
                    request
                })
                .await?;
            if response.status.as_u16() == 401 && !refreshed {
                tracing::info!(
                    path = url.path(),
                    "Personio refused the token; refreshing once"
                );
                self.token.lock().await.invalidate(generation);
                refreshed = true;
                continue;
            }
            if !response.status.is_success() {
                return Err(error::api_error(
                    method.as_str(),
                    url.path(),
                    response.status.as_u16(),
                    &response.body,
                ));
            }
            return Ok(response);
        }
    }

    async fn get_one<T: DeserializeOwned>(&self, url: Url) -> Result<T, PersonioError> {
        let what = format!("GET {}", url.path());
        let response = self.call(Method::GET, url, None).await?;
        let value = decode::<serde_json::Value>(&response.body, &what)?;
        Ok(decode_value(unwrap_single(value), &what)?)
    }

    async fn create<B: Serialize>(&self, url: Url, body: &B) -> Result<String, PersonioError> {
        let what = format!("POST {}", url.path());
        let response = self
            .call(Method::POST, url, Some(encode(body, &what)?))
            .await?;
        let location = response.headers.get(LOCATION).and_then(|v| v.to_str().ok());
        created_id(&response.body, location).ok_or_else(|| PersonioError::Decode {
            what,
            message: "the create answer names no id".into(),
        })
    }

    async fn write<B: Serialize>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<(), PersonioError> {
        let what = format!("{method} {}", url.path());
        let bytes = body.map(|b| encode(b, &what)).transpose()?;
        self.call(method, url, bytes).await?;
        Ok(())
    }

    /// Follows the cursor chain from `first`, parsing each record on its own.
    async fn list<T: DeserializeOwned>(&self, first: Url) -> Result<WireListing<T>, PersonioError> {
        let what = format!("GET {}", first.path());
        let mut listing = WireListing::default();
        let mut seen = SeenPages::default();
        seen.first_visit(&first);
        let mut url = first;
        let mut pages = 0;
        loop {
            pages += 1;
            if pages > self.max_pages {
                return Err(PersonioError::TooManyPages {
                    pages: self.max_pages,
                });
            }
            let response = self.call(Method::GET, url, None).await?;
            let page = decode::<Page>(&response.body, &what)?;
            let next = page.next_href().map(str::to_string);
            for record in page.data {
                listing.push_raw(record);
            }
            let Some(href) = next else {
                return Ok(listing);
            };
            let next_url =
                resolve_next(&self.base, &href).map_err(|message| PersonioError::Decode {
                    what: what.clone(),
                    message,
                })?;
            if !seen.first_visit(&next_url) {
                return Err(PersonioError::PagingLoop { href });
            }
            url = next_url;
        }
    }
}

fn with_skip_approval(url: &mut Url, skip: bool) {
    url.query_pairs_mut()
        .append_pair("skip_approval", if skip { "true" } else { "false" });
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
