//! `GET`/`PUT /integrations/{id}/workflows/{workflow}/schedule`: a workflow's recurring EventBridge
//! Scheduler schedule. The deployment's template creates defaults; this is how an operator changes
//! one integration's schedule without a redeploy.
use axum::extract::State;
use axum::Json;
use shared::scheduling::{ScheduleError, WorkflowSchedule};
use shared::service::Problem;

use super::require_settings;
use crate::extract::{parse_json, Ids, JsonBody};
use crate::problem::ApiProblem;
use crate::ApiState;

fn schedule_problem(e: ScheduleError) -> ApiProblem {
    ApiProblem(match e {
        ScheduleError::Invalid(msg) => {
            Problem::new(422, "invalid-schedule", "Invalid schedule", msg)
        }
        ScheduleError::NotFound(name) => Problem::new(
            404,
            "unknown-schedule",
            "No schedule",
            format!("there is no schedule {name} yet; create it with PUT"),
        ),
        other @ (ScheduleError::Backend { .. } | ScheduleError::MissingEnv(_)) => {
            Problem::unavailable(other.to_string())
        }
    })
}

pub async fn get_schedule(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<WorkflowSchedule>, ApiProblem> {
    let workflow = ids.workflow()?;
    require_settings(&state, &ids.integration_id).await?;
    let schedule = state
        .schedules
        .get(&ids.integration_id, workflow)
        .await
        .map_err(schedule_problem)?;
    Ok(Json(schedule))
}

pub async fn put_schedule(
    State(state): State<ApiState>,
    ids: Ids,
    JsonBody(body): JsonBody,
) -> Result<Json<WorkflowSchedule>, ApiProblem> {
    let workflow = ids.workflow()?;
    let schedule: WorkflowSchedule = parse_json(&body)?;
    schedule.validate().map_err(schedule_problem)?;
    require_settings(&state, &ids.integration_id).await?;
    state
        .schedules
        .put(&ids.integration_id, workflow, &schedule)
        .await
        .map_err(schedule_problem)?;
    Ok(Json(schedule))
}
