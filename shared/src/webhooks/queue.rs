//! The queue between the webhook receiver (and the replay) and the workflow functions: one SQS FIFO queue
//! per workflow (docs/adr/0024-webhook-queue.md). Message group = integration + workflow, deduplication id
//! = the event id, so that a delivery Personio retries or duplicates within SQS's five-minute window is
//! enqueued once, and one integration's events of one workflow are consumed in order.
use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use thiserror::Error;

use super::envelope::QueuedEvent;
use crate::domain::Workflow;

/// SQS takes at most ten messages per `SendMessageBatch`.
const SQS_BATCH: usize = 10;

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("no queue is configured for {0} (set {1})")]
    NotConfigured(Workflow, &'static str),
    #[error("the event {0} names no workflow")]
    NoWorkflow(String),
    #[error("queue error: {0}")]
    Backend(String),
}

/// Sends events to their workflow's queue.
#[async_trait]
pub trait EventQueue: Send + Sync {
    /// Enqueues every event on its workflow's queue; all or an error (a partial send is retried as a
    /// whole, the deduplication id makes that harmless).
    async fn enqueue(&self, events: &[QueuedEvent]) -> Result<(), QueueError>;
}

/// The environment variable holding a workflow's queue URL.
pub fn queue_url_env(workflow: Workflow) -> &'static str {
    match workflow {
        Workflow::Employees => "EMPLOYEES_QUEUE_URL",
        Workflow::TimeEntries => "TIME_ENTRIES_QUEUE_URL",
        Workflow::Absences => "ABSENCES_QUEUE_URL",
    }
}

/// The three queues on SQS.
#[derive(Debug, Clone)]
pub struct SqsEventQueue {
    client: aws_sdk_sqs::Client,
    urls: BTreeMap<Workflow, String>,
}

impl SqsEventQueue {
    pub fn new(client: aws_sdk_sqs::Client, urls: BTreeMap<Workflow, String>) -> Self {
        Self { client, urls }
    }

    pub fn url(&self, workflow: Workflow) -> Option<&str> {
        self.urls.get(&workflow).map(String::as_str)
    }
}

fn group_by_workflow(
    events: &[QueuedEvent],
) -> Result<BTreeMap<Workflow, Vec<&QueuedEvent>>, QueueError> {
    let mut by: BTreeMap<Workflow, Vec<&QueuedEvent>> = BTreeMap::new();
    for e in events {
        let w = e
            .workflow()
            .ok_or_else(|| QueueError::NoWorkflow(e.event_name.clone()))?;
        by.entry(w).or_default().push(e);
    }
    Ok(by)
}

#[async_trait]
impl EventQueue for SqsEventQueue {
    async fn enqueue(&self, events: &[QueuedEvent]) -> Result<(), QueueError> {
        for (workflow, events) in group_by_workflow(events)? {
            let url = self
                .url(workflow)
                .ok_or(QueueError::NotConfigured(workflow, queue_url_env(workflow)))?;
            for chunk in events.chunks(SQS_BATCH) {
                let mut batch = self.client.send_message_batch().queue_url(url);
                for (i, e) in chunk.iter().enumerate() {
                    let group = e
                        .message_group_id()
                        .ok_or_else(|| QueueError::NoWorkflow(e.event_name.clone()))?;
                    batch = batch.entries(
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(e.to_json())
                            .message_group_id(group)
                            .message_deduplication_id(&e.event_id)
                            .build()
                            .map_err(|err| QueueError::Backend(err.to_string()))?,
                    );
                }
                let out = batch.send().await.map_err(|e| {
                    QueueError::Backend(format!("SendMessageBatch: {}", DisplayErrorContext(e)))
                })?;
                if let Some(failed) = out.failed().first() {
                    return Err(QueueError::Backend(format!(
                        "SendMessageBatch refused {} of {} messages (first: {} {})",
                        out.failed().len(),
                        chunk.len(),
                        failed.code(),
                        failed.message().unwrap_or_default()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Events kept in memory per workflow, deduplicated by event id like a FIFO queue (unit tests).
#[cfg(any(test, feature = "testkit"))]
#[derive(Default)]
pub struct MemoryEventQueue {
    queues: std::sync::Mutex<std::collections::HashMap<Workflow, Vec<QueuedEvent>>>,
}

#[cfg(any(test, feature = "testkit"))]
impl MemoryEventQueue {
    pub fn messages(&self, workflow: Workflow) -> Vec<QueuedEvent> {
        self.queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&workflow)
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(any(test, feature = "testkit"))]
#[async_trait]
impl EventQueue for MemoryEventQueue {
    async fn enqueue(&self, events: &[QueuedEvent]) -> Result<(), QueueError> {
        let by = group_by_workflow(events)?;
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (w, events) in by {
            let q = queues.entry(w).or_default();
            for e in events {
                if !q.iter().any(|x| x.event_id == e.event_id) {
                    q.push(e.clone());
                }
            }
        }
        Ok(())
    }
}
