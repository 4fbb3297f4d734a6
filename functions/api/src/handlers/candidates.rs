//! `GET /integrations/{id}/employees/candidates`: every Personio person and TimeTrack user with its
//! link status (linked / linkable_by_email / linkable_by_personal_number / ambiguous / unmatched), the
//! list a setup screen offers for import and export. The status comes from the employees workflow's
//! own [`link`], so the screen shows exactly what a run would do.
use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use shared::connectors::personio::PersonFilter;
use shared::connectors::ErrorClass;
use shared::domain::EntityKind;
use shared::service::Problem;
use shared::workflows::employees::linking::{link, linked_pairs, Candidate};
use shared::workflows::employees::ports::{person_view, user_view};
use shared::workflows::employees::view::{PersonioPersonView, TimeTrackUserView};

use super::require_settings;
use crate::extract::Ids;
use crate::problem::{credentials_problem, store_problem, ApiProblem};
use crate::ApiState;

/// A failure of a call to Personio or TimeTrack: refused credentials are the caller's to fix (422),
/// anything else is the other system's (502).
pub(crate) fn upstream_problem(system: &str, class: ErrorClass, message: String) -> ApiProblem {
    ApiProblem(if class == ErrorClass::Auth {
        Problem::not_connected(format!("{system}: {message}"))
    } else {
        Problem::upstream(format!("{system}: {message}"))
    })
}

/// The clients of an integration that exists and has credentials.
pub(crate) async fn clients(
    state: &ApiState,
    ids: &Ids,
) -> Result<
    (
        shared::settings::IntegrationSettings,
        shared::connectors::personio::PersonioClient,
        shared::connectors::timetrack::TimeTrackClient,
    ),
    ApiProblem,
> {
    let settings = require_settings(state, &ids.integration_id).await?;
    let credentials = state
        .credentials
        .credentials(&ids.integration_id)
        .await
        .map_err(|e| credentials_problem(&e))?;
    let personio = state
        .clients
        .personio(&credentials)
        .map_err(|e| ApiProblem(Problem::not_connected(format!("Personio client: {e}"))))?;
    let timetrack = state
        .clients
        .timetrack(&credentials)
        .map_err(|e| ApiProblem(Problem::not_connected(format!("TimeTrack client: {e}"))))?;
    Ok((settings, personio, timetrack))
}

#[derive(Debug, Serialize)]
pub struct PersonSummary {
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Serialize)]
pub struct CandidateEntry {
    #[serde(flatten)]
    pub candidate: Candidate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personio: Option<PersonSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timetrack: Option<UserSummary>,
}

#[derive(Debug, Serialize)]
pub struct Candidates {
    pub candidates: Vec<CandidateEntry>,
}

pub async fn list_candidates(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<Candidates>, ApiProblem> {
    let (settings, personio, timetrack) = clients(&state, &ids).await?;
    let employees = &settings.employees;
    let persons = personio
        .list_persons(&PersonFilter {
            limit: Some(50),
            ..PersonFilter::default()
        })
        .await
        .map_err(|e| upstream_problem("Personio", e.class(), e.to_string()))?;
    let users = timetrack
        .list_users(None)
        .await
        .map_err(|e| upstream_problem("TimeTrack", e.class(), e.to_string()))?;
    let mappings = state
        .store
        .list_mappings(&ids.integration_id, EntityKind::Employee, None)
        .await
        .map_err(|e| store_problem(&e))?;
    let existing = linked_pairs(&mappings);
    // Employments are not read: linking needs e-mails and personal numbers only.
    let person_views: Vec<PersonioPersonView> = persons
        .items
        .iter()
        .map(|p| person_view(p, None, employees.personal_number_attribute.as_deref()))
        .collect();
    let user_views: Vec<TimeTrackUserView> = users.items.iter().map(user_view).collect();
    let report = link(
        &person_views,
        &user_views,
        &existing,
        employees.link_by_personal_number,
    );
    let person_by_id: HashMap<&str, &PersonioPersonView> =
        person_views.iter().map(|p| (p.id.as_str(), p)).collect();
    let user_by_id: HashMap<i64, &TimeTrackUserView> =
        user_views.iter().map(|u| (u.id, u)).collect();
    let candidates = report
        .candidates()
        .into_iter()
        .map(|candidate| CandidateEntry {
            personio: candidate
                .personio_id
                .as_deref()
                .and_then(|id| person_by_id.get(id))
                .map(|p| PersonSummary {
                    first_name: p.first_name.clone(),
                    last_name: p.last_name.clone(),
                    email: p.email.clone(),
                }),
            timetrack: candidate
                .timetrack_id
                .and_then(|id| user_by_id.get(&id))
                .map(|u| UserSummary {
                    username: u.username.clone(),
                    first_name: u.first_name.clone(),
                    last_name: u.last_name.clone(),
                    email: u.email.clone(),
                    enabled: u.enabled,
                }),
            candidate,
        })
        .collect();
    Ok(Json(Candidates { candidates }))
}
