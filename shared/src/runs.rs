//! The run record: what every sync run leaves behind, readable by id and listable newest first.
//!
//! Persisted as one JSON document by the state store (only a few fields are keys), so the record can grow
//! without a store migration. Holds no secret and no personal data beyond record ids and the canonical
//! values of conflicts (which users need to see to understand who won).
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{DateWindow, Direction, IntegrationId, ScopeEntry, System, Trigger, Workflow};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub integration_id: IntegrationId,
    pub workflow: Workflow,
    pub trigger: Trigger,
    pub window: DateWindow,
    pub direction: Direction,
    pub dry_run: bool,
    pub status: RunStatus,
    pub started_at: Timestamp,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// Counts per side and action, e.g. `counts["timetrack"]["create"] = 3`.
    #[serde(default)]
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
    #[serde(default)]
    pub conflicts: Vec<ConflictReport>,
    #[serde(default)]
    pub failures: Vec<RecordFailure>,
    /// Records skipped with a reason (direction, unmapped type, parked, open entry, ...).
    #[serde(default)]
    pub skipped: Vec<SkipReport>,
    /// The plan, for dry runs (and for continued runs, what was left).
    #[serde(default)]
    pub plan: Option<serde_json::Value>,
    /// Set when the run stopped near its deadline and a continuation picks up.
    #[serde(default)]
    pub continuation: Option<Continuation>,
    /// The run this one continues (for `Trigger::Continuation`).
    #[serde(default)]
    pub continues_run_id: Option<String>,
    /// A run-level error (the run could not complete at all), with context; never a secret.
    #[serde(default)]
    pub error: Option<String>,
    /// The webhook events a targeted run covered (`Trigger::Webhook`); empty (and not written) otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<String>,
    /// The narrowed scope of a targeted run and what became of its hints; `None` for window runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<TargetReport>,
}

/// What a targeted run synced and how each of its hints was resolved. Every event id of the run is in
/// exactly one of `synced`, `gone`, `stale`, `ignored` or `unresolved`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetReport {
    /// How many hints the run got (duplicates included).
    pub hints: u64,
    /// How many distinct records they named.
    pub records: u64,
    /// The persons and days the run listed, coalesced (one entry per person and adjacent days).
    pub entries: Vec<ScopeEntry>,
    /// Events whose record exists: its person and days are in `entries`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synced: Vec<String>,
    /// Events whose record is gone in Personio but mapped: delete candidates, confirmed as usual.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<String>,
    /// Events whose record is gone and was never mapped: nothing to do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<String>,
    /// Events of a family this workflow does not sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// Events whose record could not be read for a record-level reason (listed in `failures` too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Finished; every record was synced or skipped with a reason.
    Succeeded,
    /// Finished, but some records failed (they are retried next run).
    CompletedWithFailures,
    /// Stopped near the deadline; a continuation run carries on.
    Continued,
    /// Could not run (credentials, settings, an API down for the whole run).
    Failed,
}

impl RunRecord {
    /// For a targeted (webhook) run: should the queue redeliver the events it covered? Yes unless it
    /// finished cleanly. `failed` and `continued` did not finish; `completed_with_failures` left
    /// records that failed — redelivery retries them, and parking (after
    /// `sync.max_failures_before_parking` failures) ends the loop, the dead-letter queue catches the
    /// rest. Hints converge, so a redelivered batch rewrites nothing that already synced.
    pub fn needs_redelivery(&self) -> bool {
        !matches!(self.status, RunStatus::Succeeded)
    }
}

impl RunStatus {
    /// A finished run moves the watermark; `Continued` and `Failed` do not.
    pub fn moves_watermark(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::CompletedWithFailures
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictReport {
    pub personio_id: Option<String>,
    pub timetrack_id: Option<String>,
    pub personio: Option<serde_json::Value>,
    pub timetrack: Option<serde_json::Value>,
    pub winner: System,
    /// What the winner's version did to the other side: `update`, `delete`, `recreate`, `parked`.
    pub resolution: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordFailure {
    pub system: Option<System>,
    pub record_id: Option<String>,
    pub action: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkipReport {
    pub system: Option<System>,
    pub record_id: Option<String>,
    pub reason: String,
}

/// Where a continuation picks up. Re-planning the same window is idempotent (applied actions already
/// updated their mappings), so the window and direction are all that is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    pub window: DateWindow,
    pub direction: Direction,
    pub dry_run: bool,
    /// How many continuations came before this one (guards against endless chains).
    pub sequence: u32,
}
