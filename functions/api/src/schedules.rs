//! The recurring schedules of the workflows, as the API reads and changes them. A small port over
//! [`EventBridgeScheduler`] so that the router does not depend on the AWS client directly; the tests
//! still use the real adapter against moto.
use async_trait::async_trait;
use shared::domain::{IntegrationId, Workflow};
use shared::scheduling::{EventBridgeScheduler, ScheduleError, WorkflowSchedule};

#[async_trait]
pub trait WorkflowSchedules: Send + Sync {
    /// `ScheduleError::NotFound` when the integration has no schedule for the workflow yet.
    async fn get(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
    ) -> Result<WorkflowSchedule, ScheduleError>;
    /// Creates or replaces the schedule (validated first: `ScheduleError::Invalid`).
    async fn put(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        schedule: &WorkflowSchedule,
    ) -> Result<(), ScheduleError>;
}

#[async_trait]
impl WorkflowSchedules for EventBridgeScheduler {
    async fn get(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
    ) -> Result<WorkflowSchedule, ScheduleError> {
        self.get_workflow_schedule(integration_id, workflow).await
    }

    async fn put(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        schedule: &WorkflowSchedule,
    ) -> Result<(), ScheduleError> {
        self.put_workflow_schedule(integration_id, workflow, schedule)
            .await
    }
}
