//! Personio's webhooks drive targeted syncs (issue 14; docs/workflows/webhooks.md).
//!
//! ```text
//! Personio ──POST──▶ receiver (api function) ──SendMessage──▶ SQS FIFO, one queue per workflow
//!                      token, envelope, company                    │ event source mapping
//!                                                                  ▼
//!                                              workflow function: consumer → WorkflowService::run_hints
//! replay (schedule, each workflow function): GET /v2/webhooks/{id}/events since the mark → the same queue
//! ```
//!
//! - [`envelope`]: the delivery's envelope, the event id, the queue message, which workflow an event is for.
//! - [`token`]: the per-integration token (current + previous) in Secrets Manager, constant-time checks.
//! - [`queue`]: the queue port and its SQS FIFO adapter.
//! - [`receiver`]: the delivery's checks and enqueueing, no call to Personio or TimeTrack.
//! - [`consumer`]: an SQS batch → per-integration hint batches → the batch answer (partial failures).
//! - [`personio_api`]: the Personio client as the webhook API port.
//! - [`subscription`]: registering, reading and removing the subscription with Personio.
//! - [`replay`]: the safety net that enqueues the events Personio lists but the receiver never got.
pub(crate) mod consumer;
pub mod envelope;
pub mod personio_api;
pub mod queue;
pub mod receiver;
pub(crate) mod replay;
pub mod subscription;
pub(crate) mod token;

pub use envelope::{QueuedEvent, WebhookEvent};
pub use queue::{EventQueue, SqsEventQueue};
pub use receiver::{Receipt, ReceiveError, WebhookReceiver};
pub use replay::{replay, ReplayReport};
pub use subscription::{Subscriptions, WebhookApi};
pub use token::{SecretsManagerTokenStore, TokenStore, WebhookTokens};
