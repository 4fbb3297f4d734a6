//! The absences workflow plugged into the service: [`AbsencesBinding`] reads, once per run, what both
//! ports need — the type mapping from the settings, Personio's absence-type catalogue (units and names,
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
use crate::engine::PortErrorClass;
use crate::service::problem::FieldProblem;
use crate::service::{BindInput, BoundWorkflow, Problem, WorkflowBinding};
use crate::workflows::directory::EmployeeDirectory;

/// The absences workflow's binding (what `functions/absences` serves).
#[derive(Debug, Clone, Copy, Default)]
pub struct AbsencesBinding;

#[async_trait]
impl WorkflowBinding for AbsencesBinding {
    type Kind = AbsenceKind;

    fn workflow(&self) -> Workflow {
        Workflow::Absences
    }

    async fn bind(&self, input: BindInput<'_>) -> Result<BoundWorkflow<AbsenceKind>, Problem> {
        let types = AbsenceTypeMap::new(&input.settings.absences.type_mappings).map_err(|e| {
            Problem::invalid_settings(
                e.to_string(),
                vec![FieldProblem {
                    field: "absences.type_mappings".to_string(),
                    message: e.to_string(),
                }],
            )
        })?;
        let catalogue = input.personio.list_absence_types().await.map_err(|e| {
            let detail = format!("Personio absence types: {e}");
            if e.class() == ErrorClass::Auth {
                Problem::not_connected(detail)
            } else {
                Problem::upstream(detail)
            }
        })?;
        if !catalogue.malformed.is_empty() {
            tracing::warn!(
                count = catalogue.malformed.len(),
                "unreadable Personio absence types; their absences are reported as not syncable"
            );
        }
        let directory =
            EmployeeDirectory::load(input.store.as_ref(), input.integration_id, &input.timetrack)
                .await
                .map_err(|e| match e.class {
                    PortErrorClass::Fatal => Problem::not_connected(e.message),
                    _ => Problem::upstream(e.message),
                })?;
        let context = Arc::new(AbsenceContext {
            types: types.clone(),
            catalogue: personio_catalogue(&catalogue.items),
            directory,
            skip_approval_allowed: input.settings.personio.skip_approval,
        });
        Ok(BoundWorkflow {
            kind: AbsenceKind::new(types),
            personio: Box::new(PersonioAbsences::new(
                input.personio,
                context.clone(),
                AbsenceClaims {
                    store: input.store.clone(),
                    integration_id: input.integration_id.clone(),
                },
            )),
            timetrack: Box::new(TimeTrackAbsences::new(input.timetrack, context)),
        })
    }
}
