//! A workflow function's side of the queue: an SQS batch (Lambda event source mapping) becomes one
//! targeted run per integration, and the answer names the messages whose run did not finish, so that SQS
//! redelivers exactly those (`ReportBatchItemFailures`; after `maxReceiveCount` receives a message moves
//! to the dead-letter queue).
//!
//! A message that cannot be read fails alone: the other messages of the batch still run.
use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use jiff::Timestamp;
use tracing::{error, warn};

use super::envelope::QueuedEvent;
use crate::domain::{IntegrationId, Workflow};
use crate::engine::hint::ChangeHint;
use crate::service::{WorkflowBinding, WorkflowService};

/// Runs one integration's events as one targeted run ([`crate::service::WorkflowService`] implements
/// it with `run_hints`). `Err` (with the reason) when the run did not finish: another run held the
/// lease, the run failed, a backend was down — the events are retried.
#[async_trait]
pub(crate) trait EventBatchRunner: Send + Sync {
    async fn run_events(
        &self,
        integration_id: IntegrationId,
        events: Vec<QueuedEvent>,
        deadline: Option<Timestamp>,
    ) -> Result<(), String>;
}

/// The batch read: events grouped by integration (in arrival order), and the ids of messages that
/// could not be read.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ReadBatch {
    pub groups: BTreeMap<IntegrationId, Vec<(String, QueuedEvent)>>,
    pub unreadable: Vec<String>,
}

/// Reads a batch for `workflow`. A message whose body is not a [`QueuedEvent`], names an invalid
/// integration or belongs to another workflow's queue is unreadable.
pub(crate) fn read_batch(event: &SqsEvent, workflow: Workflow) -> ReadBatch {
    let mut batch = ReadBatch::default();
    for message in &event.records {
        let Some(message_id) = message.message_id.clone() else {
            // Without an id it cannot be reported; SQS deletes it with the batch. Never seen in practice.
            error!("an SQS message without a message id was dropped");
            continue;
        };
        let parsed = message
            .body
            .as_deref()
            .ok_or_else(|| "no body".to_string())
            .and_then(|b| serde_json::from_str::<QueuedEvent>(b).map_err(|e| e.to_string()))
            .and_then(|q| {
                let id = IntegrationId::new(q.integration_id.clone()).map_err(|e| e.to_string())?;
                match q.workflow() {
                    Some(w) if w == workflow => Ok((id, q)),
                    _ => Err(format!("event {} is not for {workflow}", q.event_name)),
                }
            });
        match parsed {
            Ok((id, q)) => batch.groups.entry(id).or_default().push((message_id, q)),
            Err(reason) => {
                warn!(
                    message_id,
                    reason, "unreadable queue message; it goes to the DLQ after its retries"
                );
                batch.unreadable.push(message_id);
            }
        }
    }
    batch
}

/// Consumes one SQS batch: one run per integration, the failures of the runs that did not finish and
/// the unreadable messages in the answer.
pub(crate) async fn consume(
    event: &SqsEvent,
    workflow: Workflow,
    runner: &dyn EventBatchRunner,
    deadline: Option<Timestamp>,
) -> SqsBatchResponse {
    let batch = read_batch(event, workflow);
    let mut failed = batch.unreadable;
    for (integration_id, messages) in batch.groups {
        let (ids, events): (Vec<String>, Vec<QueuedEvent>) = messages.into_iter().unzip();
        if let Err(reason) = runner
            .run_events(integration_id.clone(), events, deadline)
            .await
        {
            warn!(integration_id = %integration_id, workflow = %workflow, messages = ids.len(),
                reason, "targeted run did not finish; its messages are redelivered");
            failed.extend(ids);
        }
    }
    batch_response(failed)
}

/// `{"batchItemFailures": [{"itemIdentifier": ...}]}`.
pub(crate) fn batch_response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

#[async_trait]
impl<B: WorkflowBinding> EventBatchRunner for WorkflowService<B> {
    /// One targeted run (`run_hints`) for the events. Done only when it succeeded
    /// ([`crate::runs::RunRecord::needs_redelivery`], the engine's rule): a failed or continued run, one
    /// that completed with record failures (redelivery retries them until parking settles them) and an
    /// `Err` (another run holds the lease, a backend was down) are redelivered.
    async fn run_events(
        &self,
        integration_id: IntegrationId,
        events: Vec<QueuedEvent>,
        deadline: Option<Timestamp>,
    ) -> Result<(), String> {
        let hints: Vec<ChangeHint> = events.iter().filter_map(hint_of).collect();
        if hints.is_empty() {
            return Ok(());
        }
        match self.run_hints(integration_id, hints, deadline).await {
            Ok(run) if !run.needs_redelivery() => Ok(()),
            Ok(run) => Err(format!(
                "run {} ended {:?}{}",
                run.run_id,
                run.status,
                run.error.map(|e| format!(": {e}")).unwrap_or_default()
            )),
            Err(problem) => Err(format!("{}: {}", problem.title, problem.detail)),
        }
    }
}

/// The engine's hint of a queued event (`None` for a name that names no synced record).
pub(crate) fn hint_of(event: &QueuedEvent) -> Option<ChangeHint> {
    let (family, action) = ChangeHint::classify(&event.event_name)?;
    Some(ChangeHint {
        event_id: event.event_id.clone(),
        family,
        action,
        resource_id: event.resource_id.clone(),
        occurred_at: event.occurred_at,
    })
}

/// Whether a Lambda event is an SQS batch (`Records[*].eventSource == "aws:sqs"`).
pub(crate) fn is_sqs_event(event: &serde_json::Value) -> bool {
    event
        .get("Records")
        .and_then(serde_json::Value::as_array)
        .and_then(|r| r.first())
        .and_then(|m| m.get("eventSource"))
        .and_then(serde_json::Value::as_str)
        == Some("aws:sqs")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;
    use std::sync::Mutex;

    fn message(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m.event_source = Some("aws:sqs".into());
        m
    }

    fn queued(integration: &str, name: &str, resource: &str) -> String {
        QueuedEvent {
            integration_id: integration.into(),
            event_id: format!("{integration}-{resource}"),
            event_name: name.into(),
            resource_id: resource.into(),
            occurred_at: "2026-12-07T10:00:00Z".parse().unwrap(),
        }
        .to_json()
    }

    struct Runner {
        fail: &'static str,
        seen: Mutex<Vec<(String, usize)>>,
    }

    #[async_trait]
    impl EventBatchRunner for Runner {
        async fn run_events(
            &self,
            integration_id: IntegrationId,
            events: Vec<QueuedEvent>,
            _deadline: Option<Timestamp>,
        ) -> Result<(), String> {
            self.seen
                .lock()
                .unwrap()
                .push((integration_id.as_str().to_string(), events.len()));
            if integration_id.as_str() == self.fail {
                Err("AlreadyRunning".into())
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn one_run_per_integration_and_only_unfinished_or_unreadable_messages_fail() {
        let mut event = SqsEvent::default();
        event.records = vec![
            message("m1", &queued("acme", "attendance-period.created", "a1")),
            message("m2", &queued("busy", "attendance-period.updated", "a2")),
            message("m3", "{not json"),
            message("m4", &queued("acme", "attendance-period.deleted", "a3")),
            message("m5", &queued("acme", "person.updated", "p1")),
            message("m6", &queued("bad#id", "attendance-period.updated", "a4")),
        ];
        assert!(is_sqs_event(&serde_json::to_value(&event).unwrap()));
        let runner = Runner {
            fail: "busy",
            seen: Mutex::new(Vec::new()),
        };
        let answer = consume(&event, Workflow::TimeEntries, &runner, None).await;
        let mut failed: Vec<_> = answer
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        failed.sort();
        assert_eq!(failed, ["m2", "m3", "m5", "m6"]);
        assert_eq!(
            *runner.seen.lock().unwrap(),
            [("acme".to_string(), 2), ("busy".to_string(), 1)]
        );
        let wire = serde_json::to_value(&answer).unwrap();
        assert!(
            wire["batchItemFailures"][0]["itemIdentifier"].is_string(),
            "{wire}"
        );
    }

    /// The recorded shape of a Lambda SQS event (tests/fixtures/events): one good message, one unreadable.
    #[test]
    fn the_recorded_sqs_event_is_read_and_its_unreadable_message_named() {
        let text = include_str!("../../../tests/fixtures/events/sqs-webhook-time-entries.json")
            .replace("INTEGRATION_ID", "acme");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(is_sqs_event(&value));
        let event: SqsEvent = serde_json::from_value(value).unwrap();
        let batch = read_batch(&event, Workflow::TimeEntries);
        assert_eq!(batch.unreadable, ["2e1424d4-f796-459a-8184-9c92662be6da"]);
        let acme = &batch.groups[&IntegrationId::new("acme").unwrap()];
        assert_eq!(acme[0].0, "059f36b4-87a3-44ab-83d2-661975830a7d");
        let hint = hint_of(&acme[0].1).unwrap();
        assert_eq!(hint.resource_id, "3f0e6a52-8f1c-4c59-9d52-0b7f4a2c1e11");
        assert_eq!(
            hint.family,
            crate::engine::hint::HintFamily::AttendancePeriod
        );
        assert_eq!(hint.action, crate::engine::hint::HintAction::Updated);
        let replay = include_str!("../../../tests/fixtures/events/scheduled-webhook-replay.json")
            .replace("INTEGRATION_ID", "acme");
        let replay: serde_json::Value = serde_json::from_str(&replay).unwrap();
        assert!(matches!(
            crate::service::lambda_event::Invocation::classify(replay),
            Ok(crate::service::lambda_event::Invocation::Replay { .. })
        ));
    }

    #[test]
    fn other_events_are_not_sqs() {
        assert!(!is_sqs_event(
            &serde_json::json!({"integration_id": "a", "trigger": "schedule"})
        ));
        assert!(!is_sqs_event(
            &serde_json::json!({"Records": [{"eventSource": "aws:s3"}]})
        ));
    }
}
