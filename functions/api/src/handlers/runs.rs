//! `GET /integrations/{id}/runs` (newest first, paged) and `GET /integrations/{id}/runs/{run_id}`.
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use shared::domain::Workflow;
use shared::runs::RunRecord;
use shared::service::problem::FieldProblem;
use shared::service::Problem;
use shared::store::StoreError;

use super::require_settings;
use crate::extract::{shorten, Ids, QueryParams};

use crate::ApiState;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    limit: Option<String>,
    cursor: Option<String>,
    workflow: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RunsPage {
    pub runs: Vec<RunRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn field(field: &str, message: String) -> FieldProblem {
    FieldProblem {
        field: field.to_string(),
        message,
    }
}

pub async fn list_runs(
    State(state): State<ApiState>,
    ids: Ids,
    QueryParams(query): QueryParams<RunsQuery>,
) -> Result<Json<RunsPage>, Problem> {
    let mut problems = Vec::new();
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                problems.push(field(
                    "limit",
                    format!("{:?} is not a number from 1 to {MAX_LIMIT}", shorten(l)),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    let workflow = match query.workflow.as_deref() {
        None => None,
        Some(w) => match w.parse::<Workflow>() {
            Ok(w) => Some(w),
            Err(_) => {
                problems.push(field(
                    "workflow",
                    format!(
                        "unknown workflow {:?}: expected employees, time-entries or absences",
                        shorten(w)
                    ),
                ));
                None
            }
        },
    };
    let cursor = query.cursor.filter(|c| !c.is_empty());
    if let Some(c) = &cursor {
        if c.len() > 1024 || !c.chars().all(|ch| ch.is_ascii_hexdigit()) {
            problems.push(field(
                "cursor",
                "not a cursor returned by this API".to_string(),
            ));
        }
    }
    if !problems.is_empty() {
        let detail = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Problem::bad_request(detail).with_errors(problems));
    }
    require_settings(&state, &ids.integration_id).await?;
    let page = state
        .store
        .list_runs(&ids.integration_id, workflow, limit, cursor.as_deref())
        .await
        .map_err(|e| match &e {
            StoreError::Corrupt { key, .. } if key == "cursor" => {
                Problem::bad_request("cursor: not a cursor returned by this API")
            }
            _ => Problem::from(e),
        })?;
    Ok(Json(RunsPage {
        runs: page.runs,
        next_cursor: page.next_cursor,
    }))
}

pub async fn get_run(State(state): State<ApiState>, ids: Ids) -> Result<Json<RunRecord>, Problem> {
    let run_id = ids
        .run_id
        .clone()
        .ok_or_else(|| Problem::bad_request("the path names no run"))?;
    require_settings(&state, &ids.integration_id).await?;
    let run = state
        .store
        .get_run(&ids.integration_id, &run_id)
        .await
        ?
        .ok_or_else(|| {
            Problem::new(
                404,
                "unknown-run",
                "Unknown run",
                format!(
                    "integration {} has no run {run_id:?} (run records expire after their retention)",
                    ids.integration_id
                ),
            )
        })?;
    Ok(Json(run))
}
