//! Personio webhooks (`personio-api-v2.md` §8): managing the subscription (`/v2/webhooks`) and reading a
//! webhook's events (`/v2/webhooks/{id}/events`, the last 30 days) to replay what a receiver missed.
//!
//! The same [`PersonioClient`] does it: its token, retries, rate limits, paging and typed errors apply.
//! Read types are tolerant like the other Personio types (sparse answers, unknown enum values kept), and
//! [`WebhookEvent`] also reads the envelope Personio POSTs to a receiver ([`WebhookEvent::from_json`]),
//! so a delivered event and a replayed one are the same type. Secrets (the webhook token, custom header
//! values) are [`SecretString`]s: they go into request bodies only and never into `Debug` output.
use std::collections::BTreeMap;

use jiff::Timestamp;
use reqwest::header::LOCATION;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use super::envelope::{created_id, unwrap_single};
use super::{PersonioClient, PersonioError};
use crate::connectors::lenient::{self, open_enum};
use crate::connectors::rest::{decode, decode_value, encode};
use crate::connectors::WireListing;

/// Page size asked for when listing webhooks and their events (the most the simulator allows; Personio
/// documents no limit for these lists).
pub const MAX_WEBHOOK_LIMIT: u32 = 100;

open_enum! {
    /// Whether Personio delivers to the webhook (`DISABLED` is Personio's default on create).
    WebhookStatus { Enabled = "ENABLED", Disabled = "DISABLED" }
}

open_enum! {
    /// How deliveries authenticate: `TOKEN` sends the token verbatim as `Authorization` (Personio's
    /// default), `CUSTOM` sends up to 3 custom headers, `NONE` nothing.
    WebhookAuthType { None = "NONE", Token = "TOKEN", Custom = "CUSTOM" }
}

open_enum! {
    /// The name of a webhook event (§8 "Event names").
    WebhookEventName {
        PersonCreated = "person.created",
        PersonUpdated = "person.updated",
        PersonDeleted = "person.deleted",
        EmploymentCreated = "employment.created",
        EmploymentUpdated = "employment.updated",
        EmploymentCostCentersUpdated = "employment.updated.cost-centers",
        EmploymentDeleted = "employment.deleted",
        EmploymentStarted = "employment.started",
        EmploymentTerminated = "employment.terminated",
        AttendancePeriodCreated = "attendance-period.created",
        AttendancePeriodUpdated = "attendance-period.updated",
        AttendancePeriodDeleted = "attendance-period.deleted",
        AbsencePeriodCreated = "absence-period.created",
        AbsencePeriodTimerangeUpdated = "absence-period.updated.timerange",
        AbsencePeriodStatusUpdated = "absence-period.updated.status",
        AbsencePeriodDeleted = "absence-period.deleted",
        Ping = "ping",
    }
}

/// What kind of record an event is about: the part of its name before the first dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookSubject {
    Person,
    Employment,
    AttendancePeriod,
    AbsencePeriod,
    /// `ping`, `document.*`, or a name this client does not know.
    Other,
}

impl WebhookEventName {
    pub fn subject(&self) -> WebhookSubject {
        match self.as_str().split('.').next() {
            Some("person") => WebhookSubject::Person,
            Some("employment") => WebhookSubject::Employment,
            Some("attendance-period") => WebhookSubject::AttendancePeriod,
            Some("absence-period") => WebhookSubject::AbsencePeriod,
            _ => WebhookSubject::Other,
        }
    }

    /// True for the `*.deleted` events (the record is gone; a GET confirms it).
    pub fn is_delete(&self) -> bool {
        self.as_str().ends_with(".deleted")
    }
}

/// A registered webhook as Personio shows it. The token is never shown; of the custom headers only the
/// names are kept (their values may be secrets).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Webhook {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<WebhookStatus>,
    #[serde(default)]
    pub auth_type: Option<WebhookAuthType>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub enabled_events: Vec<WebhookEventName>,
    #[serde(default, rename = "custom_headers", deserialize_with = "header_names")]
    pub custom_header_names: Vec<String>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// The body of `POST /v2/webhooks`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct NewWebhook {
    /// HTTPS URL Personio POSTs events to.
    pub url: String,
    pub description: String,
    pub status: Option<WebhookStatus>,
    pub auth_type: Option<WebhookAuthType>,
    /// Sent verbatim as `Authorization` on every delivery (include any `Bearer ` prefix yourself).
    #[serde(serialize_with = "expose_optional")]
    pub token: Option<SecretString>,
    /// Only with `auth_type` CUSTOM; at most 3.
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "expose_map"
    )]
    pub custom_headers: BTreeMap<String, SecretString>,
    pub enabled_events: Vec<WebhookEventName>,
}

impl NewWebhook {
    /// An ENABLED webhook authenticated by `token`, for `events`.
    pub fn enabled_with_token(
        url: impl Into<String>,
        description: impl Into<String>,
        token: SecretString,
        events: Vec<WebhookEventName>,
    ) -> Self {
        NewWebhook {
            url: url.into(),
            description: description.into(),
            status: Some(WebhookStatus::Enabled),
            auth_type: Some(WebhookAuthType::Token),
            token: Some(token),
            custom_headers: BTreeMap::new(),
            enabled_events: events,
        }
    }
}

/// The body of `PATCH /v2/webhooks/{id}`: only the fields that are set are sent.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub status: Option<WebhookStatus>,
    pub auth_type: Option<WebhookAuthType>,
    #[serde(serialize_with = "expose_optional")]
    pub token: Option<SecretString>,
    pub enabled_events: Option<Vec<WebhookEventName>>,
}

/// One event: delivered to a receiver, or listed by the events API for a replay. Dataless: it names
/// the record (`resource_id`) and never carries its data; the current state is read from the API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "WireEvent")]
pub struct WebhookEvent {
    /// The event's id where the events API gives one (deliveries carry none).
    pub id: Option<String>,
    pub company_id: String,
    pub name: WebhookEventName,
    pub occurred_at: Timestamp,
    /// `payload.id`: the person, employment, attendance period or absence period concerned.
    pub resource_id: Option<String>,
    /// `payload.person_id` (or `payload.person.id`) when Personio includes it (§8: unverified).
    pub person_id: Option<String>,
    /// The events API's delivery status of the event, when it gives one (e.g. `DELIVERED`, `FAILED`).
    pub delivery_status: Option<String>,
}

impl WebhookEvent {
    /// Reads the JSON envelope Personio POSTs to a receiver (or one element of the events API).
    pub fn from_json(body: &[u8]) -> Result<Self, PersonioError> {
        Ok(decode::<WebhookEvent>(body, "webhook event")?)
    }

    pub fn subject(&self) -> WebhookSubject {
        self.name.subject()
    }
}

/// The envelope as sent: `company_id`, `event_name`, `occurred_at` and `payload` required (§8).
#[derive(Deserialize)]
struct WireEvent {
    #[serde(default, deserialize_with = "lenient::opt_string_or_number")]
    id: Option<String>,
    #[serde(deserialize_with = "lenient::string_or_number")]
    company_id: String,
    event_name: WebhookEventName,
    occurred_at: String,
    payload: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    delivery_status: Option<String>,
}

impl TryFrom<WireEvent> for WebhookEvent {
    type Error = String;

    fn try_from(wire: WireEvent) -> Result<Self, String> {
        let occurred_at = wire.occurred_at.parse::<Timestamp>().map_err(|e| {
            format!(
                "occurred_at {:?} is not an RFC 3339 instant: {e}",
                wire.occurred_at
            )
        })?;
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let person_id = wire.payload.get("person_id").and_then(text).or_else(|| {
            wire.payload
                .get("person")
                .and_then(|p| p.get("id"))
                .and_then(text)
        });
        Ok(WebhookEvent {
            id: wire.id,
            company_id: wire.company_id,
            name: wire.event_name,
            occurred_at,
            resource_id: wire.payload.get("id").and_then(text),
            person_id,
            delivery_status: wire.delivery_status,
        })
    }
}

/// Filters of `GET /v2/webhooks/{id}/events`; all optional, ANDed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookEventFilter {
    /// `occurred_at.gte`: events at or after this instant.
    pub occurred_from: Option<Timestamp>,
    /// `occurred_at.lte`: events at or before this instant.
    pub occurred_until: Option<Timestamp>,
    /// `event_name`: any of these names (empty = all).
    pub names: Vec<WebhookEventName>,
}

impl WebhookEventFilter {
    fn apply(&self, url: &mut Url) {
        let mut query = url.query_pairs_mut();
        query.append_pair("limit", &MAX_WEBHOOK_LIMIT.to_string());
        if let Some(from) = self.occurred_from {
            query.append_pair("occurred_at.gte", &millis(from));
        }
        if let Some(until) = self.occurred_until {
            query.append_pair("occurred_at.lte", &millis(until));
        }
        if !self.names.is_empty() {
            let names: Vec<&str> = self.names.iter().map(WebhookEventName::as_str).collect();
            query.append_pair("event_name", &names.join(","));
        }
    }
}

impl PersonioClient {
    /// Registers a webhook; returns it as Personio stored it (with its id).
    pub async fn create_webhook(&self, webhook: &NewWebhook) -> Result<Webhook, PersonioError> {
        let url = self.url(&["v2", "webhooks"]);
        let what = format!("POST {}", url.path());
        let response = self
            .call(Method::POST, url, Some(encode(webhook, &what)?))
            .await?;
        // The answer is the webhook; if it is only `{id, _meta}` (the common created shape), read it.
        if let Some(created) = webhook_from_body(&response.body, &what) {
            return Ok(created);
        }
        let location = response.headers.get(LOCATION).and_then(|v| v.to_str().ok());
        let id = created_id(&response.body, location).ok_or_else(|| PersonioError::Decode {
            what,
            message: "the create answer names no id".into(),
        })?;
        self.get_webhook(&id).await
    }

    pub async fn get_webhook(&self, id: &str) -> Result<Webhook, PersonioError> {
        self.get_one(self.url(&["v2", "webhooks", id])).await
    }

    /// Every registered webhook of the company (all pages).
    pub async fn list_webhooks(&self) -> Result<WireListing<Webhook>, PersonioError> {
        let mut url = self.url(&["v2", "webhooks"]);
        url.query_pairs_mut()
            .append_pair("limit", &MAX_WEBHOOK_LIMIT.to_string());
        self.list(url).await
    }

    /// Changes the fields set in `patch`; returns the webhook as it is now (read back when Personio
    /// answers 204).
    pub async fn update_webhook(
        &self,
        id: &str,
        patch: &WebhookPatch,
    ) -> Result<Webhook, PersonioError> {
        let url = self.url(&["v2", "webhooks", id]);
        let what = format!("PATCH {}", url.path());
        let response = self
            .call(Method::PATCH, url, Some(encode(patch, &what)?))
            .await?;
        match webhook_from_body(&response.body, &what) {
            Some(updated) => Ok(updated),
            None => self.get_webhook(id).await,
        }
    }

    pub async fn delete_webhook(&self, id: &str) -> Result<(), PersonioError> {
        self.write::<()>(Method::DELETE, self.url(&["v2", "webhooks", id]), None)
            .await
    }

    /// The events of a webhook matching `filter` (all pages; Personio keeps the last 30 days).
    pub async fn list_webhook_events(
        &self,
        webhook_id: &str,
        filter: &WebhookEventFilter,
    ) -> Result<WireListing<WebhookEvent>, PersonioError> {
        let mut url = self.url(&["v2", "webhooks", webhook_id, "events"]);
        filter.apply(&mut url);
        self.list(url).await
    }

    /// Every event of a webhook that occurred at or after `since` (all pages), for a replay of what a
    /// receiver missed.
    pub async fn webhook_events_since(
        &self,
        webhook_id: &str,
        since: Timestamp,
    ) -> Result<WireListing<WebhookEvent>, PersonioError> {
        let filter = WebhookEventFilter {
            occurred_from: Some(since),
            ..WebhookEventFilter::default()
        };
        self.list_webhook_events(webhook_id, &filter).await
    }
}

/// An instant as the events API takes it, `2026-11-27T10:00:00.000Z`: cut (never rounded up) to the
/// millisecond `occurred_at` carries, so that `occurred_at.gte=<t>` keeps the events of `t`'s millisecond.
fn millis(t: Timestamp) -> String {
    let floored = Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t);
    format!("{floored:.3}")
}

/// The webhook in a create/update answer, if the answer carries one (bare or under `_data`).
fn webhook_from_body(body: &[u8], what: &str) -> Option<Webhook> {
    let value = decode::<serde_json::Value>(body, what).ok()?;
    decode_value::<Webhook>(unwrap_single(value), what).ok()
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<WebhookEventName>, D::Error> {
    Ok(Option::<Vec<WebhookEventName>>::deserialize(d)?.unwrap_or_default())
}

/// The names of `custom_headers`, given as a map (`{"X-Key": "..."}`) or a list of `{name, value}`.
fn header_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|h| h.get("name").and_then(|n| n.as_str()).map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

fn expose_optional<S: Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => s.serialize_str(secret.expose_secret()),
        None => s.serialize_none(),
    }
}

fn expose_map<S: Serializer>(
    headers: &BTreeMap<String, SecretString>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(headers.len()))?;
    for (name, value) in headers {
        map.serialize_entry(name, value.expose_secret())?;
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivered_envelope_reads_as_a_typed_event() {
        let body = br#"{"company_id":112233,"event_name":"absence-period.updated.status",
            "occurred_at":"2025-06-02T09:12:45.120Z","payload":{"id":"5d9e","person_id":7788},"meta":{}}"#;
        let event = WebhookEvent::from_json(body).unwrap();
        assert_eq!(event.company_id, "112233");
        assert_eq!(event.name, WebhookEventName::AbsencePeriodStatusUpdated);
        assert_eq!(event.subject(), WebhookSubject::AbsencePeriod);
        assert_eq!(event.resource_id.as_deref(), Some("5d9e"));
        assert_eq!(event.person_id.as_deref(), Some("7788"));
        assert_eq!(event.occurred_at.to_string(), "2025-06-02T09:12:45.12Z");
        assert_eq!(event.id, None);
    }

    #[test]
    fn unknown_names_are_kept_and_a_broken_envelope_is_a_decode_error() {
        let body = br#"{"company_id":"1","event_name":"document.signed","occurred_at":"2025-06-02T09:12:45Z","payload":{}}"#;
        let event = WebhookEvent::from_json(body).unwrap();
        assert_eq!(
            event.name,
            WebhookEventName::Other("document.signed".into())
        );
        assert_eq!(event.subject(), WebhookSubject::Other);
        assert!(!event.name.is_delete());
        assert!(WebhookEventName::PersonDeleted.is_delete());
        for broken in [
            &br#"{"company_id":"1","event_name":"person.created","payload":{}}"#[..],
            br#"{"company_id":"1","event_name":"person.created","occurred_at":"yesterday","payload":{}}"#,
            br#"{"company_id":"1","event_name":"person.created","occurred_at":"2025-06-02T09:12:45Z"}"#,
            b"not json",
        ] {
            let error = WebhookEvent::from_json(broken).unwrap_err();
            assert!(matches!(error, PersonioError::Decode { .. }), "{error}");
        }
    }

    #[test]
    fn secrets_are_sent_but_never_printed() {
        let mut webhook = NewWebhook::enabled_with_token(
            "https://receiver.example/hook",
            "sync",
            SecretString::from("Bearer tok-123".to_string()),
            vec![WebhookEventName::PersonCreated],
        );
        webhook
            .custom_headers
            .insert("X-Key".into(), SecretString::from("hdr-456".to_string()));
        let json = serde_json::to_value(&webhook).unwrap();
        assert_eq!(json["token"], "Bearer tok-123");
        assert_eq!(json["custom_headers"]["X-Key"], "hdr-456");
        assert_eq!(json["status"], "ENABLED");
        assert_eq!(
            json["enabled_events"],
            serde_json::json!(["person.created"])
        );
        let debug = format!("{webhook:?}");
        assert!(
            !debug.contains("tok-123") && !debug.contains("hdr-456"),
            "{debug}"
        );
        let patch = serde_json::to_value(WebhookPatch {
            status: Some(WebhookStatus::Disabled),
            ..WebhookPatch::default()
        })
        .unwrap();
        assert_eq!(patch, serde_json::json!({"status": "DISABLED"}));
    }

    #[test]
    fn event_filters_use_the_documented_query_names() {
        let mut url = Url::parse("https://api.personio.de/v2/webhooks/w/events").unwrap();
        WebhookEventFilter {
            occurred_from: Some("2026-11-27T10:00:00.0009999Z".parse().unwrap()),
            occurred_until: None,
            names: vec![
                WebhookEventName::AttendancePeriodCreated,
                WebhookEventName::AttendancePeriodDeleted,
            ],
        }
        .apply(&mut url);
        assert_eq!(
            url.query(),
            Some("limit=100&occurred_at.gte=2026-11-27T10%3A00%3A00.000Z&event_name=attendance-period.created%2Cattendance-period.deleted")
        );
    }
}
