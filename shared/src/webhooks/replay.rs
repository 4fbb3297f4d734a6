//! The safety net (issue 14 §5): Personio lists a webhook's events of the last 30 days
//! (`GET /v2/webhooks/{id}/events`). A scheduled replay in each workflow function lists the events since
//! its mark, enqueues those of its workflow on its own queue and moves the mark. A delivery the receiver
//! missed (Personio gave up, the receiver was down, the subscription was disabled) reaches the workflow
//! this way; one the receiver already enqueued is harmless twice — the run reads the current state, and
//! within SQS's five-minute window the deduplication id even drops it (docs/adr/0026-webhook-replay.md).
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use thiserror::Error;
use tracing::info;

use super::envelope::{event_id, route_of, EventRoute, QueuedEvent};
use super::queue::{EventQueue, QueueError};
use super::subscription::{WebhookApi, WebhookApiError};
use crate::domain::{IntegrationId, Workflow};
use crate::store::{StateStore, StoreError};

/// How far before its mark a replay looks again: Personio may list an event a little after it occurred.
pub(crate) const REPLAY_OVERLAP: SignedDuration = SignedDuration::from_mins(15);

/// Personio keeps events for 30 days; a replay never asks for more.
pub(crate) const EVENT_RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);

#[derive(Debug, Error)]
pub enum ReplayError {
    #[error("listing the webhook's events failed: {0}")]
    Personio(#[from] WebhookApiError),
    #[error("enqueueing the replayed events failed: {0}")]
    Queue(#[from] QueueError),
    #[error("the state store failed: {0}")]
    Store(#[from] StoreError),
}

/// What a replay did (the invocation's answer and log line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    pub integration_id: String,
    pub workflow: Workflow,
    /// `false` when the integration has no subscription (nothing to replay).
    pub subscribed: bool,
    pub since: Option<Timestamp>,
    pub until: Timestamp,
    pub listed: usize,
    pub enqueued: usize,
}

/// Replays `workflow`'s events of `integration_id` that occurred since the mark (or since the
/// subscription was registered), and moves the mark to `now`.
pub async fn replay(
    integration_id: &IntegrationId,
    workflow: Workflow,
    store: &dyn StateStore,
    api: &dyn WebhookApi,
    queue: &dyn EventQueue,
    now: Timestamp,
) -> Result<ReplayReport, ReplayError> {
    let state = store.get_webhook_state(integration_id).await?;
    let Some(sub) = state.subscription else {
        return Ok(ReplayReport {
            integration_id: integration_id.as_str().to_string(),
            workflow,
            subscribed: false,
            since: None,
            until: now,
            listed: 0,
            enqueued: 0,
        });
    };
    let from = state
        .replayed_until
        .get(&workflow)
        .copied()
        .unwrap_or(sub.registered_at);
    let oldest = now.checked_sub(EVENT_RETENTION).unwrap_or(now);
    let since = from.checked_sub(REPLAY_OVERLAP).unwrap_or(from).max(oldest);
    let listed = api.events_since(&sub.webhook_id, since).await?;
    let events: Vec<QueuedEvent> = listed
        .iter()
        .filter(|e| route_of(&e.event_name) == EventRoute::Workflow(workflow))
        // No upper bound: an event stamped after `now` (clock skew) is simply seen again next time.
        .filter(|e| e.occurred_at >= since)
        // Another company's event is no more trusted from the listing than from a delivery.
        .filter(|e| match (&state.company_id, &e.company_id) {
            (Some(ours), Some(theirs)) => ours == theirs,
            _ => true,
        })
        .filter_map(|e| {
            let resource_id = e.resource_id.clone()?;
            Some(QueuedEvent {
                integration_id: integration_id.as_str().to_string(),
                event_id: event_id(integration_id, &e.event_name, &resource_id, e.occurred_at),
                event_name: e.event_name.clone(),
                resource_id,
                occurred_at: e.occurred_at,
            })
        })
        .collect();
    if !events.is_empty() {
        queue.enqueue(&events).await?;
    }
    store
        .put_webhook_replay_mark(integration_id, workflow, now)
        .await?;
    info!(integration_id = %integration_id, workflow = %workflow, listed = listed.len(),
        enqueued = events.len(), since = %since, "webhook replay done");
    Ok(ReplayReport {
        integration_id: integration_id.as_str().to_string(),
        workflow,
        subscribed: true,
        since: Some(since),
        until: now,
        listed: listed.len(),
        enqueued: events.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::WebhookSubscription;
    use crate::webhooks::queue::MemoryEventQueue;
    use crate::webhooks::subscription::tests::FakeApi;
    use crate::webhooks::subscription::ListedEvent;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn listed(name: &str, id: &str, at: &str, company: &str) -> ListedEvent {
        ListedEvent {
            company_id: Some(company.into()),
            event_name: name.into(),
            occurred_at: ts(at),
            resource_id: Some(id.into()),
        }
    }

    #[tokio::test]
    async fn replays_its_workflows_events_since_the_mark_and_moves_it() {
        let store = MemoryStore::new();
        let acme = IntegrationId::new("acme").unwrap();
        let queue = MemoryEventQueue::default();
        let api = FakeApi::default();
        let none = replay(
            &acme,
            Workflow::Absences,
            &store,
            &api,
            &queue,
            ts("2026-12-07T10:00:00Z"),
        )
        .await
        .unwrap();
        assert!(!none.subscribed);

        store
            .put_webhook_subscription(
                &acme,
                Some(&WebhookSubscription {
                    webhook_id: "wh-1".into(),
                    url: "https://x.test/h".into(),
                    enabled_events: vec![],
                    registered_at: ts("2026-12-07T08:00:00Z"),
                    token_rotated_at: ts("2026-12-07T08:00:00Z"),
                }),
            )
            .await
            .unwrap();
        store.put_webhook_company(&acme, Some("1")).await.unwrap();
        *api.events.lock().unwrap() = vec![
            listed("absence-period.created", "a1", "2026-12-07T07:00:00Z", "1"), // before registration
            listed("absence-period.created", "a2", "2026-12-07T09:00:00Z", "1"),
            listed("absence-period.deleted", "a3", "2026-12-07T09:30:00Z", "2"), // other company
            listed("person.updated", "p1", "2026-12-07T09:30:00Z", "1"),         // other workflow
        ];
        let first = replay(
            &acme,
            Workflow::Absences,
            &store,
            &api,
            &queue,
            ts("2026-12-07T10:00:00Z"),
        )
        .await
        .unwrap();
        assert_eq!((first.listed, first.enqueued), (3, 1));
        assert_eq!(queue.messages(Workflow::Absences)[0].resource_id, "a2");
        assert_eq!(
            store.get_webhook_state(&acme).await.unwrap().replayed_until[&Workflow::Absences],
            ts("2026-12-07T10:00:00Z")
        );
        api.events.lock().unwrap().push(listed(
            "absence-period.updated.status",
            "a4",
            "2026-12-07T10:30:00Z",
            "1",
        ));
        let second = replay(
            &acme,
            Workflow::Absences,
            &store,
            &api,
            &queue,
            ts("2026-12-07T11:00:00Z"),
        )
        .await
        .unwrap();
        assert_eq!(
            second.since,
            Some(ts("2026-12-07T09:45:00Z")),
            "mark minus overlap"
        );
        assert_eq!(second.enqueued, 1);
        assert_eq!(queue.messages(Workflow::Absences).len(), 2);
    }
}
