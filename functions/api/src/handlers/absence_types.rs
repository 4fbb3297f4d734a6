//! `GET /integrations/{id}/absence-types`: what a setup screen needs to map absence types.
//!
//! Personio lists its absence types (`GET /v2/absence-types`). TimeTrack has no documented endpoint
//! listing absence types, so its side is the `(id, short name)` pairs seen on absences from
//! [`LOOKBACK_DAYS`] ago to [`LOOKAHEAD_DAYS`] ahead, with how often each was seen — a type nobody has
//! used recently does not need a mapping yet. Each TimeTrack type says whether the settings map it.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use jiff::ToSpan;
use serde::Serialize;
use shared::connectors::timetrack::AbsenceQuery;
use shared::connectors::ErrorClass;
use shared::domain::System;
use shared::service::workflow::today_in;
use shared::service::Problem;

use super::candidates::clients;
use crate::extract::Ids;
use crate::ApiState;
use shared::service::problem::upstream_problem;

pub const LOOKBACK_DAYS: i32 = 90;
pub const LOOKAHEAD_DAYS: i32 = 180;

#[derive(Debug, Serialize)]
pub struct PersonioAbsenceType {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TimeTrackAbsenceType {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Absences of this type seen in the sampled period.
    pub seen: u32,
    /// Whether a mapping of the settings names this type (full- or half-day).
    pub mapped: bool,
}

/// One configured type mapping, with the names both sides give its types. The half-day type is how
/// TimeTrack holds a half day (also the half first or last day of a longer absence, which is the
/// full-day part plus one half-day absence).
#[derive(Debug, Serialize)]
pub struct AbsenceTypeMappingView {
    pub personio_type_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personio_type_name: Option<String>,
    pub timetrack_type_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timetrack_type_name: Option<String>,
    /// `null`: no half-day type; half days of this mapping cannot be written to TimeTrack.
    pub half_day_timetrack_type_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_day_timetrack_type_name: Option<String>,
    pub master: System,
}

#[derive(Debug, Serialize)]
pub struct AbsenceTypes {
    pub personio: Vec<PersonioAbsenceType>,
    pub timetrack: Vec<TimeTrackAbsenceType>,
    /// The configured mappings (`settings.absences.type_mappings`), each with its half-day type.
    pub mappings: Vec<AbsenceTypeMappingView>,
    /// The period whose TimeTrack absences were sampled.
    pub timetrack_sampled_from: jiff::civil::Date,
    pub timetrack_sampled_to: jiff::civil::Date,
}

pub async fn list_absence_types(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<AbsenceTypes>, Problem> {
    let (settings, personio, timetrack) = clients(&state, &ids).await?;
    let today = today_in(&settings, state.clock.now())?;
    let window = |days: i32| {
        today
            .checked_add(days.days())
            .map_err(|e| Problem::bad_request(format!("date out of range: {e}")))
    };
    let from = window(-LOOKBACK_DAYS)?;
    let to = window(LOOKAHEAD_DAYS)?;
    let query = AbsenceQuery {
        from: Some(from),
        to: Some(to),
        ..AbsenceQuery::default()
    };
    let (types, absences) = futures::join!(
        personio.list_absence_types(),
        timetrack.list_absences(&query)
    );
    let types = types
        .map_err(|e| upstream_problem("Personio", e.class() == ErrorClass::Auth, &e.to_string()))?;
    let absences = absences.map_err(|e| {
        upstream_problem("TimeTrack", e.class() == ErrorClass::Auth, &e.to_string())
    })?;

    let mut seen: BTreeMap<i64, (Option<String>, u32)> = BTreeMap::new();
    for a in &absences.items {
        let entry = seen.entry(a.absence_type).or_insert((None, 0));
        entry.1 += 1;
        if entry.0.is_none() {
            entry.0 = a.absence_type_name.clone();
        }
    }
    let mappings = &settings.absences.type_mappings;
    let is_mapped = |id: i64| {
        mappings
            .iter()
            .any(|m| m.timetrack_type_id == id || m.half_day_timetrack_type_id == Some(id))
    };
    let personio_name = |id: &str| {
        types
            .items
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.name.clone())
    };
    let timetrack_name = |id: i64| seen.get(&id).and_then(|(name, _)| name.clone());
    let mapping_views = mappings
        .iter()
        .map(|m| AbsenceTypeMappingView {
            personio_type_id: m.personio_type_id.clone(),
            personio_type_name: personio_name(&m.personio_type_id),
            timetrack_type_id: m.timetrack_type_id,
            timetrack_type_name: timetrack_name(m.timetrack_type_id),
            half_day_timetrack_type_id: m.half_day_timetrack_type_id,
            half_day_timetrack_type_name: m.half_day_timetrack_type_id.and_then(timetrack_name),
            master: m.master,
        })
        .collect();
    Ok(Json(AbsenceTypes {
        mappings: mapping_views,
        personio: types
            .items
            .into_iter()
            .map(|t| PersonioAbsenceType {
                id: t.id,
                name: t.name,
                category: t.category,
                unit: t.unit.map(|u| u.as_str().to_string()),
            })
            .collect(),
        timetrack: seen
            .into_iter()
            .map(|(id, (name, count))| TimeTrackAbsenceType {
                id,
                name,
                seen: count,
                mapped: is_mapped(id),
            })
            .collect(),
        timetrack_sampled_from: from,
        timetrack_sampled_to: to,
    }))
}
