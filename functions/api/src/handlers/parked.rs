//! `GET /integrations/{id}/parked` and `POST /integrations/{id}/parked/{kind}/{mapping_id}/release`.
//!
//! The engine parks a mapping after repeated failures or a write the other side refuses for good, and
//! from then on every run skips it with the reason. Fixing the cause in Personio or TimeTrack does not
//! by itself lead to a write, so an operator needs to see what is parked and to release it: releasing
//! clears the parked reason and the failure count, and the next run plans the record like any other
//! (if the cause persists, that run parks it again).
//!
//! Only ids, the reason and the failure bookkeeping are shown — never fingerprints or record values.
use axum::extract::State;
use axum::Json;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;
use shared::audit::{AuditAction, ChangeKind, FieldChange};
use shared::domain::EntityKind;
use shared::runs::ParkReason;
use shared::service::Problem;
use shared::store::{Mapping, StoreError};

use super::audit::AuditContext;
use super::require_settings;
use crate::extract::{Ids, MappingRef};

use crate::ApiState;

/// The kinds whose mappings can be parked, in the order the list shows them.
const KINDS: [EntityKind; 3] = [
    EntityKind::Employee,
    EntityKind::TimeEntry,
    EntityKind::Absence,
];

/// What an operator sees of a mapping: which records it links, why it is parked, and its failure
/// bookkeeping. `version` is the store's optimistic-concurrency version (it moves on every write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappingSummary {
    pub kind: EntityKind,
    pub mapping_id: String,
    pub personio_id: Option<String>,
    pub timetrack_id: Option<String>,
    pub anchor_date: Option<Date>,
    /// Why the mapping is parked (its text); `null` once released.
    pub parked: Option<ParkReason>,
    pub failures: u32,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl From<&Mapping> for MappingSummary {
    fn from(m: &Mapping) -> Self {
        Self {
            kind: m.kind,
            mapping_id: m.mapping_id.clone(),
            personio_id: m.personio_id.clone(),
            timetrack_id: m.timetrack_id.clone(),
            anchor_date: m.anchor_date,
            parked: m.parked.clone(),
            failures: m.failures,
            last_error: m.last_error.clone(),
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

/// The answer of `GET .../parked`.
#[derive(Debug, Serialize)]
pub struct ParkedList {
    /// Employees first, then time entries, then absences; within a kind by anchor date, then id.
    pub mappings: Vec<MappingSummary>,
}

/// `mapping` released: not parked, no failures, no last error, stamped `now`, at the next version (what
/// the store's conditional put expects, so that a change since it was read makes the put fail).
pub fn released(mapping: &Mapping, now: Timestamp) -> Mapping {
    Mapping {
        parked: None,
        failures: 0,
        last_error: None,
        updated_at: now,
        version: mapping.version + 1,
        ..mapping.clone()
    }
}

pub async fn list_parked(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<ParkedList>, Problem> {
    require_settings(&state, &ids.integration_id).await?;
    let mut mappings = Vec::new();
    for kind in KINDS {
        let mut parked: Vec<MappingSummary> = state
            .store
            .list_mappings(&ids.integration_id, kind, None)
            .await?
            .iter()
            .filter(|m| m.parked.is_some())
            .map(MappingSummary::from)
            .collect();
        parked.sort_by(|a, b| (a.anchor_date, &a.mapping_id).cmp(&(b.anchor_date, &b.mapping_id)));
        mappings.extend(parked);
    }
    Ok(Json(ParkedList { mappings }))
}

pub async fn release_parked(
    State(state): State<ApiState>,
    ids: Ids,
    audit: AuditContext,
    target: MappingRef,
) -> Result<Json<MappingSummary>, Problem> {
    require_settings(&state, &ids.integration_id).await?;
    // The store reads mappings per kind only; an operator call is rare enough for that to be fine.
    let mapping = state
        .store
        .list_mappings(&ids.integration_id, target.kind, None)
        .await?
        .into_iter()
        .find(|m| m.mapping_id == target.mapping_id)
        .ok_or_else(|| {
            Problem::new(
                404,
                "unknown-mapping",
                "Unknown mapping",
                format!(
                    "integration {} has no {} mapping {:?}",
                    ids.integration_id, target.kind, target.mapping_id
                ),
            )
        })?;
    if mapping.parked.is_none() {
        // The mapping exists but is not in the state the operation needs: a conflict, not a 404, so
        // that a repeated release (or one racing the next successful run) is told what happened.
        return Err(Problem::new(
            409,
            "not-parked",
            "Not parked",
            format!(
                "{} mapping {:?} of integration {} is not parked (released already, or cleared by a \
                 successful write)",
                target.kind, target.mapping_id, ids.integration_id
            ),
        ));
    }
    let released = released(&mapping, state.clock.now());
    state
        .store
        .put_mapping(&released)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => Problem::new(
                409,
                "concurrent-modification",
                "Changed concurrently",
                format!(
                    "{} mapping {:?} changed while it was being released (a run wrote it); \
                     list the parked mappings again and retry",
                    target.kind, target.mapping_id
                ),
            ),
            other => Problem::from(other),
        })?;
    let cleared = |field: &str, before: serde_json::Value| FieldChange {
        field: field.to_string(),
        change: ChangeKind::Removed,
        before: Some(before),
        after: None,
        redacted: false,
    };
    audit
        .record(
            &state,
            &ids.integration_id,
            AuditAction::ParkedReleased,
            Some(format!("{}/{}", target.kind, target.mapping_id)),
            vec![
                cleared(
                    "parked",
                    mapping.parked.as_ref().map(ToString::to_string).into(),
                ),
                cleared("failures", mapping.failures.into()),
            ],
        )
        .await;
    tracing::info!(
        integration_id = %ids.integration_id,
        kind = %target.kind,
        mapping_id = %target.mapping_id,
        "parked mapping released"
    );
    Ok(Json(MappingSummary::from(&released)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::IntegrationId;

    fn parked_mapping() -> Mapping {
        Mapping {
            integration_id: IntegrationId::new("acme").unwrap(),
            kind: EntityKind::TimeEntry,
            mapping_id: "m-1".into(),
            personio_id: Some("p1".into()),
            timetrack_id: Some("t1".into()),
            fingerprint: Some("fp".into()),
            anchor_date: Some(jiff::civil::date(2026, 3, 2)),
            intent: None,
            failures: 5,
            last_error: Some("HTTP 422".into()),
            parked: Some("5 consecutive failures".into()),
            updated_at: Timestamp::UNIX_EPOCH,
            version: 7,
        }
    }

    #[test]
    fn released_clears_the_parking_and_keeps_the_link() {
        let m = parked_mapping();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let r = released(&m, now);
        assert_eq!(r.parked, None);
        assert_eq!(r.failures, 0);
        assert_eq!(r.last_error, None);
        assert_eq!(r.version, 8);
        assert_eq!(r.updated_at, now);
        // What the next run compares with stays as it was.
        assert_eq!(r.fingerprint, m.fingerprint);
        assert_eq!(
            (r.personio_id, r.timetrack_id, r.anchor_date),
            (m.personio_id, m.timetrack_id, m.anchor_date)
        );
    }

    #[test]
    fn the_summary_shows_no_fingerprint_or_intent() {
        let json = serde_json::to_value(MappingSummary::from(&parked_mapping())).unwrap();
        assert_eq!(json["kind"], "time_entry");
        assert_eq!(json["anchor_date"], "2026-03-02");
        assert_eq!(json["parked"], "5 consecutive failures");
        assert!(json.get("fingerprint").is_none(), "{json}");
        assert!(json.get("intent").is_none(), "{json}");
    }
}
