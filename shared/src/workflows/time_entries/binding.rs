//! The time-entries workflow plugged into the service: [`TimeEntriesBinding`] reads, once per run, what
//! both ports need — the time zone and TimeTrack timestamp mode from the settings, the attendance
//! approval behaviour, and the employee links — and hands the engine [`TimeEntryKind`] and the two
//! ports.
//!
//! Modes: `bidirectional` runs both ways on the schedule; `push` makes scheduled runs write only to
//! Personio (TimeTrack → Personio), the payroll case. A manual request names its own direction.
use std::sync::Arc;

use async_trait::async_trait;

use super::kind::TimeEntryKind;
use super::ports::{PersonioTimeEntries, TimeEntryContext, TimeTrackTimeEntries};
use crate::domain::{Direction, Workflow};
use crate::engine::PortErrorClass;
use crate::service::problem::FieldProblem;
use crate::service::{BindInput, BoundWorkflow, Problem, WorkflowBinding};
use crate::settings::{IntegrationSettings, TimeEntryMode};
use crate::timezone::ZoneConverter;
use crate::workflows::directory::EmployeeDirectory;

/// The time-entries workflow's binding (what `functions/time-entries` serves).
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeEntriesBinding;

#[async_trait]
impl WorkflowBinding for TimeEntriesBinding {
    type Kind = TimeEntryKind;

    fn workflow(&self) -> Workflow {
        Workflow::TimeEntries
    }

    fn scheduled_direction(&self, settings: &IntegrationSettings) -> Direction {
        match settings.time_entries.mode {
            TimeEntryMode::Bidirectional => Direction::Both,
            TimeEntryMode::Push => Direction::ToPersonio,
        }
    }

    async fn bind(&self, input: BindInput<'_>) -> Result<BoundWorkflow<TimeEntryKind>, Problem> {
        let zone = ZoneConverter::new(&input.settings.time_zone).map_err(|e| {
            Problem::invalid_settings(
                e.to_string(),
                vec![FieldProblem {
                    field: "time_zone".to_string(),
                    message: e.to_string(),
                }],
            )
        })?;
        let directory =
            EmployeeDirectory::load(input.store.as_ref(), input.integration_id, &input.timetrack)
                .await
                .map_err(|e| match e.class {
                    PortErrorClass::Fatal => Problem::not_connected(e.message),
                    _ => Problem::upstream(e.message),
                })?;
        if directory.is_empty() {
            tracing::warn!(
                integration_id = %input.integration_id,
                "no linked employees: every time entry is reported as not syncable"
            );
        }
        let context = Arc::new(TimeEntryContext {
            zone: zone.clone(),
            mode: input.settings.timetrack_timestamp_mode,
            directory,
            skip_approval: input.settings.personio.attendance_skip_approval,
        });
        Ok(BoundWorkflow {
            kind: TimeEntryKind::new(zone, input.settings.time_entries.master),
            personio: Box::new(PersonioTimeEntries::new(input.personio, context.clone())),
            timetrack: Box::new(TimeTrackTimeEntries::new(input.timetrack, context)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_mode_schedules_only_towards_personio() {
        let mut settings = IntegrationSettings::example();
        settings.time_entries.mode = TimeEntryMode::Bidirectional;
        assert_eq!(
            TimeEntriesBinding.scheduled_direction(&settings),
            Direction::Both
        );
        settings.time_entries.mode = TimeEntryMode::Push;
        assert_eq!(
            TimeEntriesBinding.scheduled_direction(&settings),
            Direction::ToPersonio
        );
        assert_eq!(TimeEntriesBinding.workflow(), Workflow::TimeEntries);
    }
}
