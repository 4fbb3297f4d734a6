//! The receiver of Personio's webhook deliveries (`POST /integrations/{integration_id}/webhooks/personio`,
//! served by the api function without IAM auth). It answers within Personio's 3 s and calls neither
//! Personio nor TimeTrack: it checks the token, validates the envelope and the company, enqueues the event
//! on its workflow's queue and records the delivery. Everything else happens in the workflow functions.
//!
//! The order of the checks is deliberate (docs/adr/0025-webhook-receiver-auth.md): size first (cheap),
//! then the token — a wrong token and an unknown integration are the same 401 after the same work — and
//! only then the body, so that an unauthenticated caller learns nothing about the envelope rules or the
//! integration.
use std::sync::Arc;

use thiserror::Error;
use tracing::{info, warn};

use super::envelope::{EnvelopeError, EventRoute, WebhookEvent};
use super::queue::EventQueue;
use super::token::{TokenStore, WebhookTokens};
use crate::domain::{IntegrationId, Workflow};
use crate::engine::Clock;
use crate::store::{StateStore, WebhookDelivery};

/// Bodies larger than this are refused (413). Personio's envelopes are a few hundred bytes.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 16 * 1024;

/// What the receiver did with an accepted delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Put on the workflow's queue (answered 202).
    Enqueued {
        event_id: String,
        workflow: Workflow,
    },
    /// A ping or an event of no workflow: acknowledged, not enqueued (answered 200).
    Acknowledged { event_name: String },
}

/// Why a delivery was refused. Each maps to one problem answer; Personio retries only the 503.
#[derive(Debug, Error)]
pub enum ReceiveError {
    /// Wrong token, no token, unknown or malformed integration id: one answer for all.
    #[error("unauthorized")]
    Unauthorized,
    #[error("the body has {0} bytes; at most {MAX_WEBHOOK_BODY_BYTES} are accepted")]
    TooLarge(usize),
    #[error("invalid webhook envelope: {0}")]
    Malformed(#[from] EnvelopeError),
    /// `company_id` is not the integration's company.
    #[error("events of company {0:?} are not accepted by this integration")]
    OtherCompany(String),
    /// A backend failed (token store, state store, queue): the event was not enqueued.
    #[error("the event could not be accepted now: {0}")]
    Unavailable(String),
}

/// The receiver's ports.
#[derive(Clone)]
pub struct WebhookReceiver {
    pub store: Arc<dyn StateStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub queue: Arc<dyn EventQueue>,
    pub clock: Arc<dyn Clock>,
}

impl WebhookReceiver {
    /// Handles one delivery: the raw path id, the `Authorization` header and the body.
    pub async fn receive(
        &self,
        raw_integration_id: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<Receipt, ReceiveError> {
        if body.len() > MAX_WEBHOOK_BODY_BYTES {
            return Err(ReceiveError::TooLarge(body.len()));
        }
        let integration_id = self.authenticate(raw_integration_id, authorization).await?;
        let event = WebhookEvent::parse(body)?;
        self.check_company(&integration_id, &event.company_id)
            .await?;
        let receipt = match (event.route(), event.queued(&integration_id)) {
            (EventRoute::Workflow(workflow), Some(queued)) => {
                self.queue
                    .enqueue(std::slice::from_ref(&queued))
                    .await
                    .map_err(|e| ReceiveError::Unavailable(e.to_string()))?;
                Receipt::Enqueued {
                    event_id: queued.event_id,
                    workflow,
                }
            }
            _ => Receipt::Acknowledged {
                event_name: event.event_name.clone(),
            },
        };
        let delivery = WebhookDelivery {
            received_at: self.clock.now(),
            event_name: event.event_name.clone(),
            enqueued: matches!(receipt, Receipt::Enqueued { .. }),
        };
        // The event is on the queue; a failure to note the delivery must not make Personio send it again.
        if let Err(e) = self
            .store
            .record_webhook_delivery(&integration_id, &delivery)
            .await
        {
            warn!(integration_id = %integration_id, error = %e, "webhook delivery not recorded");
        }
        info!(integration_id = %integration_id, event_name = %event.event_name,
            enqueued = delivery.enqueued, "webhook delivery accepted");
        Ok(receipt)
    }

    /// The integration whose token `authorization` is. The same work for an unknown integration as for
    /// a wrong token: both read the secret (cached, then fresh) and compare against two values.
    async fn authenticate(
        &self,
        raw_integration_id: &str,
        authorization: Option<&str>,
    ) -> Result<IntegrationId, ReceiveError> {
        let presented = authorization.unwrap_or_default();
        let Ok(integration_id) = IntegrationId::new(raw_integration_id.to_string()) else {
            // Not an id we could have issued; compare anyway so the answer takes as long.
            let _ = WebhookTokens::fresh().accepts(presented);
            return Err(ReceiveError::Unauthorized);
        };
        for fresh in [false, true] {
            let tokens = self
                .tokens
                .tokens(&integration_id, fresh)
                .await
                .map_err(|e| ReceiveError::Unavailable(e.to_string()))?;
            let accepted = match &tokens {
                Some(t) => t.accepts(presented),
                None => {
                    let _ = WebhookTokens::fresh().accepts(presented);
                    false
                }
            };
            if accepted {
                return Ok(integration_id);
            }
        }
        warn!(integration_id = %integration_id, "webhook delivery refused: not authorized");
        Err(ReceiveError::Unauthorized)
    }

    /// The company the integration accepts events of: the one stored (set through the subscription API),
    /// or, when none is, the first authenticated delivery's (pinned from then on).
    async fn check_company(
        &self,
        integration_id: &IntegrationId,
        company_id: &str,
    ) -> Result<(), ReceiveError> {
        let state = self
            .store
            .get_webhook_state(integration_id)
            .await
            .map_err(|e| ReceiveError::Unavailable(e.to_string()))?;
        let expected = match state.company_id {
            Some(c) => c,
            None => self
                .store
                .pin_webhook_company(integration_id, company_id)
                .await
                .map_err(|e| ReceiveError::Unavailable(e.to_string()))?,
        };
        if expected == company_id {
            Ok(())
        } else {
            warn!(integration_id = %integration_id, company_id, "webhook event of another company refused");
            Err(ReceiveError::OtherCompany(company_id.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ManualClock;
    use crate::service::Problem;
    use crate::store::memory::MemoryStore;
    use crate::webhooks::queue::MemoryEventQueue;
    use crate::webhooks::token::MemoryTokenStore;
    use secrecy::ExposeSecret;
    use serde_json::json;

    struct Rig {
        receiver: WebhookReceiver,
        queue: Arc<MemoryEventQueue>,
        store: MemoryStore,
        token: String,
    }

    async fn rig() -> Rig {
        let store = MemoryStore::new();
        let tokens = Arc::new(MemoryTokenStore::default());
        let t = WebhookTokens::fresh();
        let token = t.current.expose_secret().to_string();
        let acme = IntegrationId::new("acme").unwrap();
        tokens.put_tokens(&acme, &t).await.unwrap();
        store
            .put_webhook_company(&acme, Some("112233"))
            .await
            .unwrap();
        let queue = Arc::new(MemoryEventQueue::default());
        let receiver = WebhookReceiver {
            store: Arc::new(store.clone()),
            tokens,
            queue: queue.clone(),
            clock: Arc::new(ManualClock::new("2026-12-07T10:00:00Z".parse().unwrap())),
        };
        Rig {
            receiver,
            queue,
            store,
            token,
        }
    }

    fn envelope(company: &str, name: &str, id: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({"company_id": company, "event_name": name,
            "occurred_at": "2026-12-07T09:59:00Z", "payload": {"id": id}, "meta": {}}))
        .unwrap()
    }

    #[tokio::test]
    async fn an_authorized_event_is_enqueued_once_and_recorded() {
        let r = rig().await;
        let body = envelope("112233", "absence-period.created", "ab-1");
        for _ in 0..2 {
            let got = r
                .receiver
                .receive("acme", Some(&r.token), &body)
                .await
                .unwrap();
            assert!(matches!(
                got,
                Receipt::Enqueued {
                    workflow: Workflow::Absences,
                    ..
                }
            ));
        }
        assert_eq!(
            r.queue.messages(Workflow::Absences).len(),
            1,
            "deduplicated"
        );
        let state = r
            .store
            .get_webhook_state(&IntegrationId::new("acme").unwrap())
            .await
            .unwrap();
        assert_eq!(
            state.last_delivery.unwrap().event_name,
            "absence-period.created"
        );
    }

    #[tokio::test]
    async fn wrong_token_and_unknown_integration_get_the_same_answer() {
        let r = rig().await;
        let body = envelope("112233", "person.updated", "p-1");
        let wrong = r
            .receiver
            .receive("acme", Some("nope"), &body)
            .await
            .unwrap_err();
        let none = r.receiver.receive("acme", None, &body).await.unwrap_err();
        let unknown = r
            .receiver
            .receive("ghost", Some(&r.token), &body)
            .await
            .unwrap_err();
        let invalid = r
            .receiver
            .receive("a#b", Some(&r.token), &body)
            .await
            .unwrap_err();
        let answers: Vec<_> = [wrong, none, unknown, invalid]
            .into_iter()
            .map(|e| serde_json::to_string(&Problem::from(e)).unwrap())
            .collect();
        assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
        assert!(answers[0].contains("401"));
        assert!(r.queue.messages(Workflow::Employees).is_empty());
    }

    #[tokio::test]
    async fn size_then_token_then_envelope_then_company() {
        let r = rig().await;
        let big = vec![b' '; MAX_WEBHOOK_BODY_BYTES + 1];
        assert!(matches!(
            r.receiver.receive("acme", Some("x"), &big).await,
            Err(ReceiveError::TooLarge(_))
        ));
        assert!(matches!(
            r.receiver.receive("acme", Some("x"), b"{}").await,
            Err(ReceiveError::Unauthorized)
        ));
        assert!(matches!(
            r.receiver.receive("acme", Some(&r.token), b"{}").await,
            Err(ReceiveError::Malformed(_))
        ));
        let other = envelope("999", "person.updated", "p-1");
        let e = r
            .receiver
            .receive("acme", Some(&r.token), &other)
            .await
            .unwrap_err();
        assert_eq!(Problem::from(e).status, 403);
    }

    #[tokio::test]
    async fn pings_and_unrouted_events_are_acknowledged_not_enqueued() {
        let r = rig().await;
        let ping = serde_json::to_vec(&json!({"company_id":"112233","event_name":"ping",
            "occurred_at":"2026-12-07T09:59:00Z","payload":{}}))
        .unwrap();
        for body in [ping, envelope("112233", "document.created", "d-1")] {
            assert!(matches!(
                r.receiver
                    .receive("acme", Some(&r.token), &body)
                    .await
                    .unwrap(),
                Receipt::Acknowledged { .. }
            ));
        }
        for w in Workflow::ALL {
            assert!(r.queue.messages(w).is_empty());
        }
    }

    #[tokio::test]
    async fn the_first_company_is_pinned_when_none_is_set() {
        let r = rig().await;
        let acme = IntegrationId::new("acme").unwrap();
        r.store.put_webhook_company(&acme, None).await.unwrap();
        r.receiver
            .receive(
                "acme",
                Some(&r.token),
                &envelope("445566", "person.updated", "p"),
            )
            .await
            .unwrap();
        let e = r
            .receiver
            .receive(
                "acme",
                Some(&r.token),
                &envelope("112233", "person.updated", "p"),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ReceiveError::OtherCompany(_)));
    }
}
