//! EventBridge Scheduler, the product's only timer: one-time schedules that continue a run stopped near
//! its Lambda deadline, and the recurring schedule of each workflow that an operator can change through
//! the API (the deployment's defaults are defined in `infra/template.yaml`).
use async_trait::async_trait;
use aws_sdk_scheduler::error::DisplayErrorContext;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target,
};
use aws_sdk_scheduler::Client;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;

use crate::domain::{IntegrationId, Workflow};
use crate::engine::{ContinuationScheduler, SchedulerError};
use crate::runs::Continuation;

/// How long after a run stopped its continuation starts (EventBridge Scheduler fires at minute
/// granularity at best; a short pause also lets rate limits recover).
pub const CONTINUATION_DELAY: SignedDuration = SignedDuration::from_secs(60);

/// Where schedules live and whom they invoke, from the environment the template sets:
/// `SCHEDULE_GROUP`, `SCHEDULER_ROLE_ARN`, and `EMPLOYEES_FUNCTION_ARN`, `TIME_ENTRIES_FUNCTION_ARN`,
/// `ABSENCES_FUNCTION_ARN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerTargets {
    pub group: String,
    pub role_arn: String,
    pub employees_arn: String,
    pub time_entries_arn: String,
    pub absences_arn: String,
}

#[derive(Debug, Error)]
pub enum ScheduleError {
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    #[error("invalid schedule: {0}")]
    Invalid(String),
    #[error("schedule {0} does not exist")]
    NotFound(String),
    #[error("EventBridge Scheduler error during {operation}: {message}")]
    Backend { operation: String, message: String },
}

impl SchedulerTargets {
    pub fn from_env() -> Result<Self, ScheduleError> {
        fn var(name: &'static str) -> Result<String, ScheduleError> {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or(ScheduleError::MissingEnv(name))
        }
        Ok(Self {
            group: var("SCHEDULE_GROUP")?,
            role_arn: var("SCHEDULER_ROLE_ARN")?,
            employees_arn: var("EMPLOYEES_FUNCTION_ARN")?,
            time_entries_arn: var("TIME_ENTRIES_FUNCTION_ARN")?,
            absences_arn: var("ABSENCES_FUNCTION_ARN")?,
        })
    }

    pub fn function_arn(&self, workflow: Workflow) -> &str {
        match workflow {
            Workflow::Employees => &self.employees_arn,
            Workflow::TimeEntries => &self.time_entries_arn,
            Workflow::Absences => &self.absences_arn,
        }
    }
}

/// The recurring schedule of one workflow of one integration, as the API shows and accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSchedule {
    /// `rate(1 hour)`, `rate(30 minutes)`, `cron(0 6 * * ? *)`.
    pub expression: String,
    pub enabled: bool,
    /// IANA zone the cron expression is read in.
    #[serde(default = "utc")]
    pub time_zone: String,
}

fn utc() -> String {
    "UTC".to_string()
}

impl WorkflowSchedule {
    /// Checks the expression's shape before AWS sees it (the emulator accepts anything).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let e = self.expression.trim();
        if let Some(inner) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            let mut parts = inner.split_whitespace();
            let value = parts.next().and_then(|v| v.parse::<u32>().ok());
            let unit = parts.next();
            let ok_unit = matches!(
                (value, unit),
                (Some(1), Some("minute" | "hour" | "day"))
                    | (Some(2..), Some("minutes" | "hours" | "days"))
            );
            if !ok_unit || parts.next().is_some() {
                return Err(ScheduleError::Invalid(format!(
                    "{e:?}: use rate(<n> minute|minutes|hour|hours|day|days), e.g. rate(1 hour)"
                )));
            }
        } else if let Some(inner) = e.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            let fields = inner.split_whitespace().count();
            if fields != 6 {
                return Err(ScheduleError::Invalid(format!(
                    "{e:?}: a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), found {fields}"
                )));
            }
        } else {
            return Err(ScheduleError::Invalid(format!(
                "{e:?}: expected rate(...) or cron(...)"
            )));
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err(ScheduleError::Invalid(format!(
                "unknown time zone {:?}",
                self.time_zone
            )));
        }
        Ok(())
    }
}

/// The name of an integration's recurring schedule of a workflow (as in the template).
pub fn schedule_name(integration_id: &IntegrationId, workflow: Workflow) -> String {
    format!("{integration_id}-{}", workflow.as_str())
}

/// EventBridge Scheduler adapter: continuations (the engine's port) and workflow schedules (the API).
#[derive(Debug, Clone)]
pub struct EventBridgeScheduler {
    client: Client,
    targets: SchedulerTargets,
}

fn backend(operation: &str, e: impl std::error::Error) -> ScheduleError {
    ScheduleError::Backend {
        operation: operation.to_string(),
        message: DisplayErrorContext(e).to_string(),
    }
}

impl EventBridgeScheduler {
    pub fn new(client: Client, targets: SchedulerTargets) -> Self {
        Self { client, targets }
    }

    pub fn targets(&self) -> &SchedulerTargets {
        &self.targets
    }

    /// Creates a one-time schedule `at(now + CONTINUATION_DELAY)` that invokes the workflow's function
    /// with a continuation event and deletes itself after it fired.
    pub async fn schedule_continuation(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        run_id: &str,
        now: Timestamp,
    ) -> Result<String, ScheduleError> {
        let at = now
            .checked_add(CONTINUATION_DELAY)
            .map_err(|e| ScheduleError::Invalid(e.to_string()))?;
        let name = format!("continue-{run_id}");
        let input = json!({
            "integration_id": integration_id.as_str(),
            "trigger": "continuation",
            "run_id": run_id,
        });
        self.client
            .create_schedule()
            .name(&name)
            .group_name(&self.targets.group)
            .description(format!(
                "Continues {workflow} run {run_id} of integration {integration_id}"
            ))
            .schedule_expression(format!("at({})", at.strftime("%Y-%m-%dT%H:%M:%S")))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(off_window()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target(
                self.targets.function_arn(workflow),
                &self.targets.role_arn,
                &input.to_string(),
            )?)
            .send()
            .await
            .map_err(|e| backend("CreateSchedule", e))?;
        Ok(name)
    }

    /// The recurring schedule of a workflow; `NotFound` when the integration has none yet.
    pub async fn get_workflow_schedule(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
    ) -> Result<WorkflowSchedule, ScheduleError> {
        let name = schedule_name(integration_id, workflow);
        let out = self
            .client
            .get_schedule()
            .name(&name)
            .group_name(&self.targets.group)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .map(|s| s.is_resource_not_found_exception())
                    .unwrap_or(false)
                {
                    ScheduleError::NotFound(name.clone())
                } else {
                    backend("GetSchedule", e)
                }
            })?;
        Ok(WorkflowSchedule {
            expression: out.schedule_expression().unwrap_or_default().to_string(),
            enabled: out.state() != Some(&ScheduleState::Disabled),
            time_zone: out
                .schedule_expression_timezone()
                .filter(|z| !z.is_empty())
                .unwrap_or("UTC")
                .to_string(),
        })
    }

    /// Creates or replaces the recurring schedule of a workflow (validated first).
    pub async fn put_workflow_schedule(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        schedule: &WorkflowSchedule,
    ) -> Result<(), ScheduleError> {
        schedule.validate()?;
        let name = schedule_name(integration_id, workflow);
        let input = json!({"integration_id": integration_id.as_str(), "trigger": "schedule"});
        let state = if schedule.enabled {
            ScheduleState::Enabled
        } else {
            ScheduleState::Disabled
        };
        let target = target(
            self.targets.function_arn(workflow),
            &self.targets.role_arn,
            &input.to_string(),
        )?;
        let exists = match self.get_workflow_schedule(integration_id, workflow).await {
            Ok(_) => true,
            Err(ScheduleError::NotFound(_)) => false,
            Err(e) => return Err(e),
        };
        let description = format!("{workflow} sync of integration {integration_id}");
        if exists {
            self.client
                .update_schedule()
                .name(&name)
                .group_name(&self.targets.group)
                .description(description)
                .schedule_expression(schedule.expression.trim())
                .schedule_expression_timezone(&schedule.time_zone)
                .state(state)
                .flexible_time_window(off_window()?)
                .target(target)
                .send()
                .await
                .map_err(|e| backend("UpdateSchedule", e))?;
        } else {
            self.client
                .create_schedule()
                .name(&name)
                .group_name(&self.targets.group)
                .description(description)
                .schedule_expression(schedule.expression.trim())
                .schedule_expression_timezone(&schedule.time_zone)
                .state(state)
                .flexible_time_window(off_window()?)
                .target(target)
                .send()
                .await
                .map_err(|e| backend("CreateSchedule", e))?;
        }
        Ok(())
    }
}

fn off_window() -> Result<FlexibleTimeWindow, ScheduleError> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| ScheduleError::Invalid(e.to_string()))
}

fn target(arn: &str, role_arn: &str, input: &str) -> Result<Target, ScheduleError> {
    Target::builder()
        .arn(arn)
        .role_arn(role_arn)
        .input(input)
        .build()
        .map_err(|e| ScheduleError::Invalid(e.to_string()))
}

#[async_trait]
impl ContinuationScheduler for EventBridgeScheduler {
    async fn schedule(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        run_id: &str,
        _continuation: &Continuation,
    ) -> Result<(), SchedulerError> {
        self.schedule_continuation(integration_id, workflow, run_id, Timestamp::now())
            .await
            .map(|_| ())
            .map_err(|e| SchedulerError::Backend {
                run_id: run_id.to_string(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(expression: &str) -> WorkflowSchedule {
        WorkflowSchedule {
            expression: expression.into(),
            enabled: true,
            time_zone: "Europe/Berlin".into(),
        }
    }

    #[test]
    fn accepts_rate_and_cron_expressions() {
        for ok in [
            "rate(1 hour)",
            "rate(15 minutes)",
            "rate(1 day)",
            "cron(0 6 * * ? *)",
        ] {
            s(ok).validate().unwrap();
        }
    }

    #[test]
    fn rejects_malformed_expressions_and_zones() {
        for bad in [
            "rate(1 hours)",
            "rate(0 minutes)",
            "rate(hourly)",
            "cron(0 6 * * ?)",
            "every hour",
            "",
        ] {
            assert!(s(bad).validate().is_err(), "{bad}");
        }
        let mut zone = s("rate(1 hour)");
        zone.time_zone = "Mars/Olympus".into();
        assert!(zone.validate().is_err());
    }

    #[test]
    fn schedule_names_match_the_template() {
        let id = IntegrationId::new("default").unwrap();
        assert_eq!(
            schedule_name(&id, Workflow::TimeEntries),
            "default-time-entries"
        );
    }
}
