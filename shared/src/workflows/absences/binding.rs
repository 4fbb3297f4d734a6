//! The absences workflow plugged into the service: [`AbsencesBinding`] binds the settings (pure), then
//! reads inside the run, once, what both ports need — the type mapping from the settings, Personio's absence-type catalogue (units and names,
//! `GET /v2/absence-types`) and the employee links — and hands the engine [`AbsenceKind`] and the two
//! ports.
use std::sync::Arc;

use async_trait::async_trait;

use super::kind::AbsenceKind;
use super::ports::{AbsenceClaims, AbsenceContext, PersonioAbsences, TimeTrackAbsences};
use super::type_map::AbsenceTypeMap;
use super::wire::personio_catalogue;
use crate::connectors::ErrorClass;
use crate::domain::Workflow;
use crate::service::problem::FieldProblem;
use crate::service::{BindInput, BoundWorkflow, RunIo, SetupError, WorkflowBinding};
use crate::workflows::directory::EmployeeDirectory;

/// The absences workflow's binding (what `functions/absences` serves).
#[derive(Debug, Clone, Copy, Default)]
pub struct AbsencesBinding;

/// What the settings say an absences run needs: the type mapping and the approval rule.
#[derive(Debug, Clone)]
pub struct AbsencesContext {
    types: AbsenceTypeMap,
    skip_approval_allowed: bool,
}

#[async_trait]
impl WorkflowBinding for AbsencesBinding {
    type Kind = AbsenceKind;
    type Context = AbsencesContext;

    fn workflow(&self) -> Workflow {
        Workflow::Absences
    }

    fn bind(&self, input: BindInput<'_>) -> Result<AbsencesContext, SetupError> {
        let types = AbsenceTypeMap::new(&input.settings.absences.type_mappings).map_err(|e| {
            SetupError::invalid_settings(
                e.to_string(),
                vec![FieldProblem {
                    field: "absences.type_mappings".to_string(),
                    message: e.to_string(),
                }],
            )
        })?;
        Ok(AbsencesContext {
            types,
            skip_approval_allowed: input.settings.personio.skip_approval,
        })
    }

    /// Personio's absence-type catalogue and the employee directory.
    async fn prepare(
        &self,
        context: AbsencesContext,
        io: RunIo<'_>,
    ) -> Result<BoundWorkflow<AbsenceKind>, SetupError> {
        let catalogue = io.personio.list_absence_types().await.map_err(|e| {
            let detail = format!("Personio list absence types: {e}");
            if e.class() == ErrorClass::Auth {
                SetupError::NotConnected { detail }
            } else {
                SetupError::Upstream { detail }
            }
        })?;
        if !catalogue.malformed.is_empty() {
            tracing::warn!(
                count = catalogue.malformed.len(),
                "unreadable Personio absence types; their absences are reported as not syncable"
            );
        }
        let directory =
            EmployeeDirectory::load(io.store.as_ref(), io.integration_id, &io.timetrack)
                .await
                .map_err(SetupError::from_port)?;
        let types = context.types;
        let context = Arc::new(AbsenceContext {
            types: types.clone(),
            catalogue: personio_catalogue(&catalogue.items),
            directory,
            skip_approval_allowed: context.skip_approval_allowed,
        });
        Ok(BoundWorkflow {
            kind: AbsenceKind::new(types),
            personio: Box::new(PersonioAbsences::new(
                io.personio,
                context.clone(),
                AbsenceClaims {
                    store: io.store.clone(),
                    integration_id: io.integration_id.clone(),
                },
            )),
            timetrack: Box::new(TimeTrackAbsences::new(io.timetrack, context)),
        })
    }
}
