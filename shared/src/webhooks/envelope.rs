//! Personio's webhook envelope (personio-api-v2.md §8) and what the product makes of it: a validated
//! [`WebhookEvent`] with a stable event id, the workflow it concerns, and the [`QueuedEvent`] message that
//! travels through the queue to that workflow's function.
//!
//! Webhooks are *dataless*: `payload.id` names the record that changed, nothing else is trusted. The
//! envelope carries no event id, so the product derives one ([`event_id`]) from what identifies a
//! delivery: integration, event name, resource id and time. A retried or duplicated delivery gets the same
//! id, which is the queue's deduplication id.
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::domain::{IntegrationId, Workflow};

/// The event Personio sends to test a subscription (`POST /v2/webhooks/{id}/ping`).
pub const PING_EVENT: &str = "ping";

/// Why a delivery's body is not a usable envelope (answered 400; the message names the field).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the body is not a JSON object: {0}")]
    NotJson(String),
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{field} must be {expected}")]
    Invalid {
        field: &'static str,
        expected: &'static str,
    },
}

/// A delivery's envelope, validated: `company_id`, `event_name`, `occurred_at` (RFC 3339) and `payload`
/// (an object) are required; `payload.id` must be a string unless the event is a `ping`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub company_id: String,
    pub event_name: String,
    pub occurred_at: Timestamp,
    /// `payload.id`; `None` only for a `ping`.
    pub resource_id: Option<String>,
}

/// What the receiver does with an event, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRoute {
    /// Personio's test event: acknowledged, nothing to sync.
    Ping,
    /// An event of a record family one of the workflows syncs.
    Workflow(Workflow),
    /// An event no workflow needs (`document.*`, a name Personio adds later): acknowledged, dropped.
    Ignored,
}

/// The workflow an event name concerns (issue 14 §3): persons and employments → employees, attendance
/// periods → time entries, absence periods → absences.
pub fn route_of(event_name: &str) -> EventRoute {
    if event_name == PING_EVENT {
        return EventRoute::Ping;
    }
    match event_name.split('.').next().unwrap_or_default() {
        "person" | "employment" => EventRoute::Workflow(Workflow::Employees),
        "attendance-period" => EventRoute::Workflow(Workflow::TimeEntries),
        "absence-period" => EventRoute::Workflow(Workflow::Absences),
        _ => EventRoute::Ignored,
    }
}

/// The event names a workflow subscribes to (personio-api-v2.md §8).
pub fn event_names_of(workflow: Workflow) -> &'static [&'static str] {
    match workflow {
        Workflow::Employees => &[
            "person.created",
            "person.updated",
            "person.deleted",
            "employment.created",
            "employment.updated",
            "employment.deleted",
            "employment.started",
            "employment.terminated",
        ],
        Workflow::TimeEntries => &[
            "attendance-period.created",
            "attendance-period.updated",
            "attendance-period.deleted",
        ],
        Workflow::Absences => &[
            "absence-period.created",
            "absence-period.updated.timerange",
            "absence-period.updated.status",
            "absence-period.deleted",
        ],
    }
}

#[derive(Deserialize)]
struct RawEnvelope {
    company_id: Option<Value>,
    event_name: Option<Value>,
    occurred_at: Option<Value>,
    payload: Option<Value>,
}

impl WebhookEvent {
    /// Validates a delivery's body. Unknown fields (`meta`, more payload fields) are ignored.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let raw: RawEnvelope =
            serde_json::from_slice(body).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let company_id = match raw.company_id {
            None | Some(Value::Null) => return Err(EnvelopeError::Missing("company_id")),
            // Personio's schema says string; a number is the same id written differently.
            Some(Value::String(s)) if !s.trim().is_empty() => s,
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(EnvelopeError::Invalid {
                    field: "company_id",
                    expected: "a non-empty string",
                })
            }
        };
        let event_name = match raw.event_name {
            None | Some(Value::Null) => return Err(EnvelopeError::Missing("event_name")),
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 => s,
            Some(_) => {
                return Err(EnvelopeError::Invalid {
                    field: "event_name",
                    expected: "a non-empty string of at most 128 characters",
                })
            }
        };
        let occurred_at = match raw.occurred_at {
            None | Some(Value::Null) => return Err(EnvelopeError::Missing("occurred_at")),
            Some(Value::String(s)) => {
                s.parse::<Timestamp>().map_err(|_| EnvelopeError::Invalid {
                    field: "occurred_at",
                    expected: "an RFC 3339 date-time with an offset",
                })?
            }
            Some(_) => {
                return Err(EnvelopeError::Invalid {
                    field: "occurred_at",
                    expected: "an RFC 3339 date-time with an offset",
                })
            }
        };
        let payload = match raw.payload {
            None | Some(Value::Null) => return Err(EnvelopeError::Missing("payload")),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(EnvelopeError::Invalid {
                    field: "payload",
                    expected: "an object",
                })
            }
        };
        let resource_id = match payload.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 256 => Some(s.clone()),
            None | Some(Value::Null) if event_name == PING_EVENT => None,
            None | Some(Value::Null) => return Err(EnvelopeError::Missing("payload.id")),
            Some(_) => {
                return Err(EnvelopeError::Invalid {
                    field: "payload.id",
                    expected: "a non-empty string of at most 256 characters",
                })
            }
        };
        Ok(Self {
            company_id,
            event_name,
            occurred_at,
            resource_id,
        })
    }

    pub fn route(&self) -> EventRoute {
        route_of(&self.event_name)
    }

    /// The queue message of this event for `integration_id`; `None` for a ping (no resource).
    pub fn queued(&self, integration_id: &IntegrationId) -> Option<QueuedEvent> {
        let resource_id = self.resource_id.clone()?;
        Some(QueuedEvent {
            integration_id: integration_id.as_str().to_string(),
            event_id: event_id(
                integration_id,
                &self.event_name,
                &resource_id,
                self.occurred_at,
            ),
            event_name: self.event_name.clone(),
            resource_id,
            occurred_at: self.occurred_at,
        })
    }
}

/// The stable id of an event: SHA-256 (hex) of integration, event name, resource id and the time it
/// occurred (normalised to UTC, so that `+02:00` and `Z` spellings of one instant agree). Personio's
/// envelope has none; a redelivered or duplicated event gets the same id, a later change of the same
/// record a new one.
pub fn event_id(
    integration_id: &IntegrationId,
    event_name: &str,
    resource_id: &str,
    occurred_at: Timestamp,
) -> String {
    let mut hash = Sha256::new();
    for part in [
        integration_id.as_str(),
        event_name,
        resource_id,
        &occurred_at.to_string(),
    ] {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    hex::encode(hash.finalize())
}

/// The message body on a workflow's queue: one event of one integration, a hint and never data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedEvent {
    pub integration_id: String,
    pub event_id: String,
    pub event_name: String,
    pub resource_id: String,
    pub occurred_at: Timestamp,
}

impl QueuedEvent {
    /// The workflow whose queue carries this event (`None`: no workflow syncs it).
    pub fn workflow(&self) -> Option<Workflow> {
        match route_of(&self.event_name) {
            EventRoute::Workflow(w) => Some(w),
            EventRoute::Ping | EventRoute::Ignored => None,
        }
    }

    /// The FIFO message group: one per integration and workflow, so that one integration's backlog
    /// never holds up another's and a workflow's events of one integration are consumed in order.
    pub fn message_group_id(&self) -> Option<String> {
        Some(format!(
            "{}#{}",
            self.integration_id,
            self.workflow()?.as_str()
        ))
    }

    pub fn to_json(&self) -> String {
        // A struct of strings and a timestamp always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn a_valid_envelope_is_read() {
        let e = WebhookEvent::parse(&body(
            json!({"company_id":"112233","event_name":"absence-period.created",
            "occurred_at":"2025-06-02T09:12:45Z","payload":{"id":"5d9e"},"meta":{}}),
        ))
        .unwrap();
        assert_eq!(e.company_id, "112233");
        assert_eq!(e.resource_id.as_deref(), Some("5d9e"));
        assert_eq!(e.route(), EventRoute::Workflow(Workflow::Absences));
    }

    #[test]
    fn missing_or_mistyped_fields_are_named() {
        let ok = json!({"company_id":"1","event_name":"person.updated","occurred_at":"2025-06-02T09:12:45Z","payload":{"id":"7"}});
        for (field, bad, expected) in [
            ("company_id", Value::Null, "company_id is required"),
            ("event_name", json!(3), "event_name must be"),
            ("occurred_at", json!("yesterday"), "occurred_at must be"),
            ("payload", json!([1]), "payload must be an object"),
            ("payload", json!({"id": 7}), "payload.id must be"),
            ("payload", json!({}), "payload.id is required"),
        ] {
            let mut v = ok.clone();
            v[field] = bad;
            let err = WebhookEvent::parse(&body(v)).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{field}: {err}");
        }
        assert!(matches!(
            WebhookEvent::parse(b"not json"),
            Err(EnvelopeError::NotJson(_))
        ));
        assert!(WebhookEvent::parse(&body(ok)).is_ok());
    }

    #[test]
    fn a_ping_needs_no_resource_id() {
        let e = WebhookEvent::parse(&body(json!({"company_id":"1","event_name":"ping",
            "occurred_at":"2025-06-02T09:12:45Z","payload":{}})))
        .unwrap();
        assert_eq!(e.route(), EventRoute::Ping);
        assert!(e.queued(&IntegrationId::new("acme").unwrap()).is_none());
    }

    #[test]
    fn events_route_to_their_workflow() {
        assert_eq!(
            route_of("employment.updated.cost-centers"),
            EventRoute::Workflow(Workflow::Employees)
        );
        assert_eq!(
            route_of("attendance-period.deleted"),
            EventRoute::Workflow(Workflow::TimeEntries)
        );
        assert_eq!(route_of("document.signed"), EventRoute::Ignored);
        for w in Workflow::ALL {
            for name in event_names_of(w) {
                assert_eq!(route_of(name), EventRoute::Workflow(w), "{name}");
            }
        }
    }

    #[test]
    fn the_event_id_is_stable_across_spellings_and_distinct_across_events() {
        let acme = IntegrationId::new("acme").unwrap();
        let t1: Timestamp = "2025-06-02T09:12:45Z".parse().unwrap();
        let t1b: Timestamp = "2025-06-02T11:12:45+02:00".parse().unwrap();
        let a = event_id(&acme, "person.updated", "7", t1);
        assert_eq!(a, event_id(&acme, "person.updated", "7", t1b));
        assert_eq!(a.len(), 64);
        assert_ne!(a, event_id(&acme, "person.updated", "8", t1));
        assert_ne!(a, event_id(&acme, "person.created", "7", t1));
        let other = IntegrationId::new("other").unwrap();
        assert_ne!(a, event_id(&other, "person.updated", "7", t1));
        // No ambiguity from joining: ("ab","c") and ("a","bc") differ.
        assert_ne!(
            event_id(&acme, "ab", "c", t1),
            event_id(&acme, "a", "bc", t1)
        );
    }

    #[test]
    fn the_queued_message_carries_group_and_round_trips() {
        let acme = IntegrationId::new("acme").unwrap();
        let e = WebhookEvent::parse(&body(
            json!({"company_id":"1","event_name":"attendance-period.updated",
            "occurred_at":"2025-06-02T09:12:45Z","payload":{"id":"a-1"}}),
        ))
        .unwrap();
        let q = e.queued(&acme).unwrap();
        assert_eq!(q.message_group_id().as_deref(), Some("acme#time-entries"));
        let back: QueuedEvent = serde_json::from_str(&q.to_json()).unwrap();
        assert_eq!(back, q);
    }
}
