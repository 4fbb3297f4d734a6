//! Continuation scheduling: how a run that stopped near its Lambda deadline gets a follow-up invocation.
//!
//! The port is [`ContinuationScheduler`]; [`RecordingScheduler`] keeps requests in memory for tests, and
//! `crate::scheduling::EventBridgeScheduler` (the AWS adapter) creates a one-time EventBridge Scheduler
//! schedule that invokes the workflow's function with `{"integration_id": ..., "trigger":
//! "continuation", "run_id": ...}` and deletes itself after it fired.
use async_trait::async_trait;
use thiserror::Error;

use crate::domain::{IntegrationId, Workflow};
use crate::runs::Continuation;

#[derive(Debug, Error)]
pub enum SchedulerError {
    #[error("continuation scheduler is not configured: {0}")]
    NotConfigured(String),
    #[error("scheduling the continuation of run {run_id} failed: {message}")]
    Backend { run_id: String, message: String },
}

#[async_trait]
pub trait ContinuationScheduler: Send + Sync {
    /// Arranges for `workflow` of `integration_id` to be invoked again, continuing run `run_id`.
    async fn schedule(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        run_id: &str,
        continuation: &Continuation,
    ) -> Result<(), SchedulerError>;
}

/// One scheduled continuation, as recorded by [`RecordingScheduler`].
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledContinuation {
    pub integration_id: IntegrationId,
    pub workflow: Workflow,
    pub run_id: String,
    pub continuation: Continuation,
}

/// Keeps continuation requests in memory (tests, local runs).
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug, Default)]
pub struct RecordingScheduler {
    scheduled: std::sync::Mutex<Vec<ScheduledContinuation>>,
}

#[cfg(any(test, feature = "testkit"))]
impl RecordingScheduler {
    pub fn new() -> Self {
        Self::default()
    }
    /// Removes and returns everything scheduled so far.
    pub fn take(&self) -> Vec<ScheduledContinuation> {
        std::mem::take(&mut *self.scheduled.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(any(test, feature = "testkit"))]
#[async_trait]
impl ContinuationScheduler for RecordingScheduler {
    async fn schedule(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        run_id: &str,
        continuation: &Continuation,
    ) -> Result<(), SchedulerError> {
        self.scheduled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ScheduledContinuation {
                integration_id: integration_id.clone(),
                workflow,
                run_id: run_id.to_string(),
                continuation: continuation.clone(),
            });
        Ok(())
    }
}
