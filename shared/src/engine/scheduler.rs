//! Continuation scheduling: how a run that stopped near its Lambda deadline gets a follow-up invocation.
//!
//! The port is [`ContinuationScheduler`]; [`RecordingScheduler`] keeps requests in memory for tests, and
//! [`EventBridgeScheduler`] creates a one-time EventBridge Scheduler schedule that invokes the
//! workflow's function with `{"integration_id": ..., "trigger": "continuation", "run_id": ...}` and
//! deletes itself after it fired.
use std::sync::Mutex;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledContinuation {
    pub integration_id: IntegrationId,
    pub workflow: Workflow,
    pub run_id: String,
    pub continuation: Continuation,
}

/// Keeps continuation requests in memory (tests, local runs).
#[derive(Debug, Default)]
pub struct RecordingScheduler {
    scheduled: Mutex<Vec<ScheduledContinuation>>,
}

impl RecordingScheduler {
    pub fn new() -> Self {
        Self::default()
    }
    /// Removes and returns everything scheduled so far.
    pub fn take(&self) -> Vec<ScheduledContinuation> {
        std::mem::take(&mut *self.scheduled.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

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

/// Environment variables the EventBridge adapter reads (set by `infra/template.yaml`).
pub const ENV_SCHEDULE_GROUP: &str = "SCHEDULE_GROUP";
pub const ENV_SCHEDULER_ROLE_ARN: &str = "SCHEDULER_ROLE_ARN";

/// The environment variable holding the ARN of `workflow`'s function.
pub fn function_arn_env(workflow: Workflow) -> &'static str {
    match workflow {
        Workflow::Employees => "EMPLOYEES_FUNCTION_ARN",
        Workflow::TimeEntries => "TIME_ENTRIES_FUNCTION_ARN",
        Workflow::Absences => "ABSENCES_FUNCTION_ARN",
    }
}

/// Creates a one-time EventBridge Scheduler schedule `at(now + delay)` (UTC) in `group`, targeting
/// the workflow's function with the continuation event, deleted by the service after it fired.
#[derive(Debug, Clone)]
pub struct EventBridgeScheduler {
    client: aws_sdk_scheduler::Client,
    group: String,
    role_arn: String,
    function_arn: String,
    delay: std::time::Duration,
}

impl EventBridgeScheduler {
    pub fn new(
        client: aws_sdk_scheduler::Client,
        group: impl Into<String>,
        role_arn: impl Into<String>,
        function_arn: impl Into<String>,
    ) -> Self {
        Self {
            client,
            group: group.into(),
            role_arn: role_arn.into(),
            function_arn: function_arn.into(),
            delay: std::time::Duration::from_secs(60),
        }
    }

    /// Reads group, role and the function ARN of `workflow` from the environment.
    pub fn from_env(
        client: aws_sdk_scheduler::Client,
        workflow: Workflow,
    ) -> Result<Self, SchedulerError> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| SchedulerError::NotConfigured(format!("{name} is not set")))
        };
        Ok(Self::new(
            client,
            var(ENV_SCHEDULE_GROUP)?,
            var(ENV_SCHEDULER_ROLE_ARN)?,
            var(function_arn_env(workflow))?,
        ))
    }

    /// How long after the stop the continuation fires (default 60 s; the schedule needs a future time).
    pub fn with_delay(mut self, delay: std::time::Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The schedule name of the continuation of `run_id` (at most 64 of `[0-9A-Za-z-_.]`).
    pub fn schedule_name(run_id: &str) -> String {
        let safe: String = run_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .take(58)
            .collect();
        format!("cont-{safe}")
    }
}

#[async_trait]
impl ContinuationScheduler for EventBridgeScheduler {
    async fn schedule(
        &self,
        integration_id: &IntegrationId,
        _workflow: Workflow,
        run_id: &str,
        _continuation: &Continuation,
    ) -> Result<(), SchedulerError> {
        use aws_sdk_scheduler::types::{
            ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
        };
        let backend = |message: String| SchedulerError::Backend {
            run_id: run_id.to_string(),
            message,
        };
        let delay =
            jiff::SignedDuration::try_from(self.delay).unwrap_or(jiff::SignedDuration::ZERO);
        let now = jiff::Timestamp::now();
        let at = now.saturating_add(delay).unwrap_or(now);
        let input = serde_json::json!({
            "integration_id": integration_id.as_str(),
            "trigger": "continuation",
            "run_id": run_id,
        });
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| backend(e.to_string()))?;
        let target = Target::builder()
            .arn(&self.function_arn)
            .role_arn(&self.role_arn)
            .input(input.to_string())
            .build()
            .map_err(|e| backend(e.to_string()))?;
        self.client
            .create_schedule()
            .name(Self::schedule_name(run_id))
            .group_name(&self.group)
            .schedule_expression(format!("at({})", at.strftime("%Y-%m-%dT%H:%M:%S")))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .description(format!("continuation of sync run {run_id}"))
            .send()
            .await
            .map_err(|e| backend(aws_sdk_scheduler::error::DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}
