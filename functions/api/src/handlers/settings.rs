//! `GET`/`PUT /integrations/{id}/settings`. An integration exists once its settings are stored, so the
//! first `PUT` creates it. Nothing invalid is ever stored (ADR 0028):
//! - a document that does not match the settings model — an unknown field, a wrong type, a missing
//!   required field — is 400 `invalid-body`, naming the JSON path where it stopped matching (what the
//!   OpenAPI schema already rejects, like every other request body of this API);
//! - a document that matches the model but whose values cannot be run (an unknown time zone, a
//!   concurrency of 0, …) is 422 `invalid-settings` with every problem and its JSON path, so that a setup
//!   screen can mark all offending fields at once.
use axum::extract::State;
use axum::Json;
use shared::audit::{json_changes, AuditAction};
use shared::service::problem::FieldProblem;
use shared::service::Problem;
use shared::settings::{IntegrationSettings, SettingsError};

use super::audit::AuditContext;
use super::require_settings;
use crate::extract::{Ids, JsonBody};

use crate::ApiState;

pub async fn get_settings(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<IntegrationSettings>, Problem> {
    Ok(Json(require_settings(&state, &ids.integration_id).await?))
}

pub async fn put_settings(
    State(state): State<ApiState>,
    ids: Ids,
    audit: AuditContext,
    JsonBody(body): JsonBody,
) -> Result<Json<IntegrationSettings>, Problem> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::invalid_body("the body is not UTF-8 text"))?;
    let settings = IntegrationSettings::from_json(text).map_err(|e| {
        let SettingsError::Parse { path, message } = e;
        Problem::invalid_body(format!(
            "the settings do not match the model at {path}: {message}; nothing was stored"
        ))
        .with_errors(vec![FieldProblem {
            field: path,
            message,
        }])
    })?;
    if let Err(problems) = settings.validate() {
        let errors: Vec<FieldProblem> = problems.into_iter().map(FieldProblem::from).collect();
        return Err(Problem::invalid_settings(
            format!(
                "the settings have {} problem(s); nothing was stored",
                errors.len()
            ),
            errors,
        ));
    }
    let before = state.store.get_settings(&ids.integration_id).await?;
    state
        .store
        .put_settings(&ids.integration_id, &settings)
        .await?;
    let before = before.and_then(|b| serde_json::to_value(b).ok());
    let after = serde_json::to_value(&settings).unwrap_or_default();
    let changes = json_changes(before.as_ref(), &after);
    audit
        .record(
            &state,
            &ids.integration_id,
            AuditAction::SettingsChanged,
            None,
            changes,
        )
        .await;
    Ok(Json(settings))
}
