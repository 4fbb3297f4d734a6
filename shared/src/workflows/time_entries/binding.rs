//! The time-entries workflow plugged into the service: [`TimeEntriesBinding`] binds the settings (pure),
//! then reads inside the run, once, what both ports need — the time zone and TimeTrack timestamp mode from the settings, the attendance
//! approval behaviour, and the employee links — and hands the engine [`TimeEntryKind`] and the two
//! ports.
//!
//! Modes: `bidirectional` runs both ways on the schedule; `push` makes scheduled runs write only to
//! Personio (TimeTrack → Personio), the payroll case. A manual request names its own direction.
use std::sync::Arc;

use async_trait::async_trait;

use super::kind::TimeEntryKind;
use super::ports::{PersonioTimeEntries, TimeEntryContext, TimeTrackTimeEntries};
use crate::domain::{Direction, System, Workflow};
use crate::service::problem::FieldProblem;
use crate::service::{BindInput, BoundWorkflow, RunIo, SetupError, WorkflowBinding};
use crate::settings::{IntegrationSettings, TimeEntryMode, TimestampMode};
use crate::timezone::ZoneConverter;
use crate::workflows::directory::EmployeeDirectory;

/// What the settings say a time-entries run needs.
#[derive(Debug, Clone)]
pub struct TimeEntriesContext {
    zone: ZoneConverter,
    mode: TimestampMode,
    skip_approval: bool,
    master: System,
}

/// The time-entries workflow's binding (what `functions/time-entries` serves).
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeEntriesBinding;

#[async_trait]
impl WorkflowBinding for TimeEntriesBinding {
    type Kind = TimeEntryKind;
    type Context = TimeEntriesContext;

    fn workflow(&self) -> Workflow {
        Workflow::TimeEntries
    }

    fn scheduled_direction(&self, settings: &IntegrationSettings) -> Direction {
        match settings.time_entries.mode {
            TimeEntryMode::Bidirectional => Direction::Both,
            TimeEntryMode::Push => Direction::ToPersonio,
        }
    }

    fn bind(&self, input: BindInput<'_>) -> Result<TimeEntriesContext, SetupError> {
        let zone = input.settings.time_zone.converter().map_err(|e| {
            SetupError::invalid_settings(
                e.to_string(),
                vec![FieldProblem {
                    field: "time_zone".to_string(),
                    message: e.to_string(),
                }],
            )
        })?;
        Ok(TimeEntriesContext {
            zone,
            mode: input.settings.timetrack_timestamp_mode,
            skip_approval: input.settings.personio.attendance_skip_approval,
            master: input.settings.time_entries.master,
        })
    }

    /// The employee directory.
    async fn prepare(
        &self,
        context: TimeEntriesContext,
        io: RunIo<'_>,
    ) -> Result<BoundWorkflow<TimeEntryKind>, SetupError> {
        let directory =
            EmployeeDirectory::load(io.store.as_ref(), io.integration_id, &io.timetrack)
                .await
                .map_err(SetupError::from_port)?;
        if directory.is_empty() {
            tracing::warn!(
                integration_id = %io.integration_id,
                "no linked employees: every time entry is reported as not syncable"
            );
        }
        let TimeEntriesContext {
            zone,
            mode,
            skip_approval,
            master,
        } = context;
        let context = Arc::new(TimeEntryContext {
            zone: zone.clone(),
            mode,
            directory,
            skip_approval,
        });
        Ok(BoundWorkflow {
            kind: TimeEntryKind::new(zone, master),
            personio: Box::new(PersonioTimeEntries::new(io.personio, context.clone())),
            timetrack: Box::new(TimeTrackTimeEntries::new(io.timetrack, context)),
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
