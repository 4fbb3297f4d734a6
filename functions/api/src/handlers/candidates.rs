//! `GET /integrations/{id}/employees/candidates`: every Personio person and TimeTrack user with its
//! link status (linked / linkable_by_email / linkable_by_personal_number / ambiguous / unmatched), the
//! list a setup screen offers for import and export, each person with `status` `active` or `left`. The
//! rows come from the employees workflow's own [`sweep`] and [`link`], so the screen shows exactly what
//! a run would do (a leaver with a linkable user is linked and, under `deactivate`, disabled).
use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use shared::engine::{PortError, PortErrorClass};
use shared::service::problem::upstream_problem;
use shared::service::Problem;
use shared::workflows::employees::canonical::is_active;
use shared::workflows::employees::linking::{link, Candidate};
use shared::workflows::employees::personio::PersonioPersonView;
use shared::workflows::employees::sweep::{sweep, SweepError, SweepInput};
use shared::workflows::employees::timetrack::TimeTrackUserView;

use super::require_settings;
use crate::extract::Ids;

use crate::ApiState;

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
    Problem,
> {
    let settings = require_settings(state, &ids.integration_id).await?;
    let credentials = state.credentials.credentials(&ids.integration_id).await?;
    let personio = state
        .clients
        .personio(&credentials)
        .map_err(|e| Problem::not_connected(format!("Personio client: {e}")))?;
    let timetrack = state
        .clients
        .timetrack(&credentials)
        .map_err(|e| Problem::not_connected(format!("TimeTrack client: {e}")))?;
    Ok((settings, personio, timetrack))
}

#[derive(Debug, Serialize)]
pub struct PersonSummary {
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Employed or left, as the sync reads it (a leaver with a linkable user is deactivated by runs).
    pub status: EmploymentState,
}

/// A Personio person's status as the sync reads it (Personio's person status, or the latest employment
/// when Personio leaves it open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentState {
    Active,
    Left,
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
) -> Result<Json<Candidates>, Problem> {
    let (settings, personio, timetrack) = clients(&state, &ids).await?;
    let employees = &settings.employees;
    // Employments are read where Personio leaves the status open, so that leavers show as such.
    let swept = sweep(SweepInput {
        personio: &personio,
        timetrack: &timetrack,
        store: state.store.as_ref(),
        integration_id: &ids.integration_id,
        personal_number_attribute: employees.personal_number_attribute.as_deref(),
        all_employments: false,
        concurrency: settings.sync.concurrency,
    })
    .await
    .map_err(|e| match e {
        SweepError::Personio(e) => port_problem("Personio", &e),
        SweepError::TimeTrack(e) => port_problem("TimeTrack", &e),
        SweepError::Store(e) => Problem::from(e),
    })?;
    let report = link(
        &swept.persons,
        &swept.users,
        &swept.existing,
        employees.link_by_personal_number,
    );
    let person_by_id: HashMap<&str, &PersonioPersonView> =
        swept.persons.iter().map(|p| (p.id.as_str(), p)).collect();
    let user_by_id: HashMap<i64, &TimeTrackUserView> =
        swept.users.iter().map(|u| (u.id, u)).collect();
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
                    status: if is_active(p) {
                        EmploymentState::Active
                    } else {
                        EmploymentState::Left
                    },
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

/// A sweep's failure to read one side: refused credentials are the caller's to fix (422), anything else
/// is the other system's (502).
fn port_problem(system: &str, e: &PortError) -> Problem {
    upstream_problem(system, e.class == PortErrorClass::Fatal, &e.message)
}
