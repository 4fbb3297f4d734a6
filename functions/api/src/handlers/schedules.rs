//! `GET`/`PUT /integrations/{id}/workflows/{workflow}/schedule`: a workflow's recurring EventBridge
//! Scheduler schedule. The deployment's template creates defaults; this is how an operator changes
//! one integration's schedule without a redeploy.
use axum::extract::State;
use axum::Json;
use shared::audit::{json_changes, AuditAction};
use shared::scheduling::{ScheduleError, WorkflowSchedule};
use shared::service::Problem;

use super::audit::AuditContext;
use super::require_settings;
use crate::extract::{parse_json, Ids, JsonBody};
use crate::ApiState;

pub async fn get_schedule(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<WorkflowSchedule>, Problem> {
    let workflow = ids.workflow()?;
    require_settings(&state, &ids.integration_id).await?;
    let schedule = state.schedules.get(&ids.integration_id, workflow).await?;
    Ok(Json(schedule))
}

pub async fn put_schedule(
    State(state): State<ApiState>,
    ids: Ids,
    audit: AuditContext,
    JsonBody(body): JsonBody,
) -> Result<Json<WorkflowSchedule>, Problem> {
    let workflow = ids.workflow()?;
    let schedule: WorkflowSchedule = parse_json(&body)?;
    schedule.validate()?;
    require_settings(&state, &ids.integration_id).await?;
    // The schedule before the change, for the audit trail: none yet is a first PUT.
    let before = match state.schedules.get(&ids.integration_id, workflow).await {
        Ok(s) => serde_json::to_value(s).ok(),
        Err(ScheduleError::NotFound(_)) => None,
        Err(e) => return Err(Problem::from(e)),
    };
    state
        .schedules
        .put(&ids.integration_id, workflow, &schedule)
        .await?;
    let after = serde_json::to_value(&schedule).unwrap_or_default();
    audit
        .record(
            &state,
            &ids.integration_id,
            AuditAction::ScheduleChanged,
            Some(workflow.as_str().to_string()),
            json_changes(before.as_ref(), &after),
        )
        .await;
    Ok(Json(schedule))
}
