//! What Lambda's SQS event source mapping does for a workflow function, written once for the webhook
//! end-to-end tests: `ReceiveMessage` (up to the batch size; FIFO hands one message group's messages
//! in order), the batch as an `SqsEvent` to the function (the real binary, [`WarmFunction`]), then
//! `DeleteMessage` for every message **not** named in the answer's `batchItemFailures`
//! (`FunctionResponseTypes: [ReportBatchItemFailures]`). Reported messages are left alone: they come
//! back after the queue's visibility timeout, and after `maxReceiveCount` receives SQS moves them to
//! the dead-letter queue. A function error (the invocation failed as a whole) leaves the whole batch.
//!
//! The queues are created as the template creates them (FIFO, explicit deduplication ids, a FIFO
//! dead-letter queue through a redrive policy), with a short visibility timeout for tests.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use serde_json::{json, Value};

use crate::lambda_process::Outcome;
use crate::warm_function::WarmFunction;

/// A workflow's FIFO queue and its dead-letter queue.
#[derive(Clone, Debug)]
pub struct QueuePair {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("queue arn")
}

/// Creates `<name>.fifo` with `<name>-dlq.fifo` as its dead-letter queue after `max_receives`
/// receives, and `visibility_secs` as its visibility timeout.
pub async fn create_fifo_pair(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    visibility_secs: i32,
    max_receives: u32,
) -> QueuePair {
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("create the DLQ");
    let dlq_url = dlq.queue_url().expect("DLQ url").to_string();
    let dlq_arn = queue_arn(sqs, &dlq_url).await;
    let queue = sqs
        .create_queue()
        .queue_name(format!("{name}.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_secs.to_string(),
        )
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}).to_string(),
        )
        .send()
        .await
        .expect("create the queue");
    let url = queue.queue_url().expect("queue url").to_string();
    let arn = queue_arn(sqs, &url).await;
    QueuePair { url, arn, dlq_url }
}

/// One message as Lambda puts it in an `SqsEvent` record.
fn record(message: &Message, queue_arn: &str) -> Value {
    let attributes: BTreeMap<String, String> = message
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "eu-central-1"
    })
}

/// The `event_id` of a queued event's body (the deduplication id), if it has one.
fn event_id(message: &Message) -> Option<String> {
    let body: Value = serde_json::from_str(message.body()?).ok()?;
    body["event_id"].as_str().map(str::to_string)
}

/// What the mapping did while pumping.
#[derive(Debug, Default, Clone)]
pub struct PumpReport {
    /// Invocations of the function.
    pub batches: usize,
    /// Messages handed to the function (a redelivered message counts each time).
    pub messages: usize,
    /// Messages the function reported in `batchItemFailures` (or all of a batch it failed as a whole).
    pub failed: usize,
    /// Event ids of the messages deleted (done), in order.
    pub done_event_ids: Vec<String>,
    /// Event ids of the messages reported failed, once per report.
    pub failed_event_ids: Vec<String>,
    /// The highest `ApproximateReceiveCount` seen.
    pub max_receive_count: u32,
    /// The function's answers, in order.
    pub outcomes: Vec<Outcome>,
}

/// The event source mapping of one queue to one function.
pub struct EventSourceMapping {
    pub sqs: aws_sdk_sqs::Client,
    pub queue: QueuePair,
    /// Lambda's `BatchSize` (at most 10 for FIFO).
    pub batch_size: i32,
}

impl EventSourceMapping {
    pub fn new(sqs: aws_sdk_sqs::Client, queue: QueuePair) -> Self {
        Self {
            sqs,
            queue,
            batch_size: 10,
        }
    }

    /// One poll: receives a batch and, if there is one, invokes `function` with it and deletes what it
    /// did not report. Returns whether there was a batch.
    pub async fn poll_once(&self, function: &WarmFunction, report: &mut PumpReport) -> bool {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue.url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("ReceiveMessage");
        let messages = received.messages().to_vec();
        if messages.is_empty() {
            return false;
        }
        for m in &messages {
            let count = m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|c| c.parse::<u32>().ok())
                .unwrap_or(0);
            report.max_receive_count = report.max_receive_count.max(count);
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| record(m, &self.queue.arn))
            .collect();
        let outcome = function.invoke(json!({ "Records": records })).await;
        let failed: Vec<String> = match &outcome {
            Outcome::Response(answer) => answer["batchItemFailures"]
                .as_array()
                .unwrap_or_else(|| panic!("a batch answer names its failures: {answer}"))
                .iter()
                .map(|f| {
                    f["itemIdentifier"]
                        .as_str()
                        .expect("itemIdentifier")
                        .to_string()
                })
                .collect(),
            // The invocation failed as a whole: Lambda retries the whole batch.
            Outcome::Error(_) => messages
                .iter()
                .filter_map(|m| m.message_id().map(str::to_string))
                .collect(),
        };
        report.batches += 1;
        report.messages += messages.len();
        report.failed += failed.len();
        report.outcomes.push(outcome);
        for m in &messages {
            let id = event_id(m).unwrap_or_else(|| "<unreadable>".to_string());
            if failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                report.failed_event_ids.push(id);
                continue;
            }
            self.sqs
                .delete_message()
                .queue_url(&self.queue.url)
                .receipt_handle(m.receipt_handle().expect("receipt handle"))
                .send()
                .await
                .expect("DeleteMessage");
            report.done_event_ids.push(id);
        }
        true
    }

    /// Polls (every 100 ms when the queue is empty) until `done()` holds and the queue gave nothing
    /// three polls in a row, or `timeout` passes.
    pub async fn pump(
        &self,
        function: &WarmFunction,
        timeout: Duration,
        done: impl Fn() -> bool,
    ) -> PumpReport {
        let start = Instant::now();
        let mut report = PumpReport::default();
        let mut idle = 0;
        while start.elapsed() < timeout {
            if self.poll_once(function, &mut report).await {
                idle = 0;
                continue;
            }
            idle += 1;
            if idle >= 3 && done() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        report
    }

    /// Messages in the queue (visible and in flight), without receiving them.
    pub async fn depth(&self) -> u64 {
        depth(&self.sqs, &self.queue.url).await
    }

    /// Messages in the dead-letter queue.
    pub async fn dead_letters(&self) -> u64 {
        depth(&self.sqs, &self.queue.dlq_url).await
    }

    /// The bodies in the dead-letter queue (received, then made visible again).
    pub async fn dead_letter_bodies(&self) -> Vec<String> {
        let mut all = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .send()
                .await
                .expect("ReceiveMessage");
            if out.messages().is_empty() {
                break;
            }
            all.extend(out.messages().iter().cloned());
        }
        for m in &all {
            self.sqs
                .change_message_visibility()
                .queue_url(&self.queue.dlq_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .visibility_timeout(0)
                .send()
                .await
                .expect("ChangeMessageVisibility");
        }
        all.iter()
            .filter_map(|m| m.body().map(str::to_string))
            .collect()
    }
}

/// `ApproximateNumberOfMessages` + `ApproximateNumberOfMessagesNotVisible` of `url`.
pub async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("GetQueueAttributes");
    let a = attrs.attributes().cloned().unwrap_or_default();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|k| a.get(k).and_then(|v| v.parse::<u64>().ok()))
    .sum()
}
