//! The plan: what the planner decided, before anything is written. Applying it is separate
//! ([`super::apply`]); a dry run only reports it ([`Plan::to_json`]).
use std::fmt;

use serde::Serialize;
use serde_json::{json, Value};

use super::kind::Record;
use crate::domain::System;
use crate::runs::{ParkReason, RunPlan};
use crate::store::Mapping;

/// Everything one run would do, in a deterministic order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<V> {
    pub actions: Vec<Action<V>>,
    /// Mapped pairs found unchanged on both sides (the "nothing" row of the decision table).
    pub in_sync: usize,
}

impl<V> Default for Plan<V> {
    fn default() -> Self {
        Self {
            actions: Vec::new(),
            in_sync: 0,
        }
    }
}

impl<V> Plan<V> {
    /// Actions that would write to a system or to the mappings (everything but skips).
    pub fn changes(&self) -> impl Iterator<Item = &Action<V>> {
        self.actions
            .iter()
            .filter(|a| !matches!(a, Action::Skip(_)))
    }
}

/// One decision of the planner.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<V> {
    /// Create `source`'s value in `target`. `mapping` is the existing mapping with a pending intent
    /// whose twin was not found (the create is retried), `None` for a record seen for the first time.
    Create {
        target: System,
        source: Record<V>,
        mapping: Option<Mapping>,
    },
    /// Link two records that already hold the same canonical value, writing nothing to either system.
    /// `mapping` is `Some` when an existing mapping is completed or refreshed.
    Adopt {
        personio: Record<V>,
        timetrack: Record<V>,
        mapping: Option<Mapping>,
    },
    /// Overwrite `target_id` in `target` with the other side's changed value.
    Update {
        target: System,
        target_id: String,
        value: V,
        previous: Option<V>,
        mapping: Mapping,
    },
    /// Delete `target_id` in `target`: its counterpart is confirmed gone and it was not changed.
    Delete {
        target: System,
        target_id: String,
        mapping: Mapping,
    },
    /// Both sides disagree; the master system's version wins and is written to the other side.
    Conflict(Conflict<V>),
    /// An update that `target`'s port performs as create-new + delete-old was interrupted after the
    /// create ("superseded twin"): `target` still holds the stale record `stale_id` the mapping names,
    /// and an unmapped replacement that already holds the other side's current value. Deletes the
    /// stale record, then re-links `mapping` (as stored, still naming `stale_id`) to `personio` and
    /// `timetrack` (one of them the replacement) with their common fingerprint. No value is written.
    Supersede {
        target: System,
        stale_id: String,
        personio: Record<V>,
        timetrack: Record<V>,
        mapping: Mapping,
    },
    /// Both records are gone (or the mapping links nothing): drop the mapping.
    ForgetMapping { mapping: Mapping },
    /// Not synced this run, with the reason.
    Skip(Skip),
}

/// A conflict and how it is resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict<V> {
    pub cause: ConflictCause,
    pub winner: System,
    pub resolution: Resolution,
    /// Both versions as read (`None` for a side whose record is gone).
    pub personio: Option<Record<V>>,
    pub timetrack: Option<Record<V>>,
    /// `None` for twins found by natural key that are not linked yet.
    pub mapping: Option<Mapping>,
}

impl<V> Conflict<V> {
    /// The system the winner's version is written to.
    pub fn loser(&self) -> System {
        self.winner.other()
    }
    pub fn side(&self, system: System) -> Option<&Record<V>> {
        match system {
            System::Personio => self.personio.as_ref(),
            System::TimeTrack => self.timetrack.as_ref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictCause {
    /// Both sides changed since the last sync.
    BothChanged,
    /// One side deleted, the other changed.
    DeletedAndChanged,
    /// A new record's natural-key twin on the other side holds different content.
    LinkedWithDifferences,
}

/// What the winner's version does to the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The loser's record is overwritten.
    Update,
    /// The winner deleted: the loser's record is deleted too.
    Delete,
    /// The loser deleted but the winner changed: the record is created again on the loser's side.
    Recreate,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Update => "update",
            Resolution::Delete => "delete",
            Resolution::Recreate => "recreate",
        }
    }
}

/// A record not synced this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub system: Option<System>,
    pub record_id: Option<String>,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The run's direction forbids writing to `target`; the mapping stays as it was so that a later
    /// two-way run picks the change up.
    Direction { target: System },
    /// The mapping is parked (too many failures or a permanent refusal), for this reason.
    Parked(ParkReason),
    /// The port could not read the record into canonical form.
    Rejected(String),
    /// A mapped record is missing from the listing and get-by-id did not confirm it gone.
    Unconfirmed,
    /// The canonical value could not be fingerprinted.
    Unfingerprintable(String),
    /// A record with no twin is not created on `target` while `target` listed records that could not
    /// be read and that no mapping claims: one of them may be its twin, and creating it would make a
    /// duplicate. Retried next run.
    TwinUnreadable { target: System, unreadable: usize },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Direction { target } => {
                write!(f, "direction: this run does not write to {target}")
            }
            SkipReason::Parked(why) => write!(f, "parked: {why}"),
            SkipReason::Rejected(why) => write!(f, "rejected: {why}"),
            SkipReason::Unconfirmed => f.write_str(
                "missing from the listing and not confirmed gone by get-by-id; retried next run",
            ),
            SkipReason::Unfingerprintable(why) => write!(f, "cannot fingerprint: {why}"),
            SkipReason::TwinUnreadable { target, unreadable } => write!(
                f,
                "deferred: {target} listed {unreadable} record(s) that could not be read, one of \
                 which may be this record's twin; not created in {target} until they read \
                 (retried next run)"
            ),
        }
    }
}

impl<V: Serialize> Action<V> {
    /// Short name of the action, as used in plans and counts.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Adopt { .. } => "adopt",
            Action::Update { .. } => "update",
            Action::Delete { .. } => "delete",
            Action::Conflict(_) => "conflict",
            Action::Supersede { .. } => "supersede",
            Action::ForgetMapping { .. } => "forget_mapping",
            Action::Skip(_) => "skip",
        }
    }

    /// The action as reported in a dry run's plan: kind, system, ids and values.
    pub fn to_json(&self) -> Value {
        fn val<V: Serialize>(v: &V) -> Value {
            serde_json::to_value(v).unwrap_or(Value::Null)
        }
        fn rec<V: Serialize>(r: Option<&Record<V>>) -> Value {
            r.map(|r| json!({"id": r.id, "value": val(&r.value)}))
                .unwrap_or(Value::Null)
        }
        match self {
            Action::Create {
                target,
                source,
                mapping,
            } => json!({
                "action": self.name(), "system": target, "source_id": source.id,
                "value": val(&source.value), "retry_of_intent": mapping.is_some(),
            }),
            Action::Adopt {
                personio,
                timetrack,
                ..
            } => json!({
                "action": self.name(), "personio_id": personio.id, "timetrack_id": timetrack.id,
                "value": val(&personio.value),
            }),
            Action::Update {
                target,
                target_id,
                value,
                previous,
                ..
            } => json!({
                "action": self.name(), "system": target, "id": target_id, "value": val(value),
                "previous": previous.as_ref().map(val),
            }),
            Action::Delete {
                target, target_id, ..
            } => json!({
                "action": self.name(), "system": target, "id": target_id,
            }),
            Action::Conflict(c) => json!({
                "action": self.name(), "cause": c.cause, "winner": c.winner,
                "resolution": c.resolution, "system": c.loser(),
                "personio": rec(c.personio.as_ref()), "timetrack": rec(c.timetrack.as_ref()),
            }),
            Action::Supersede {
                target,
                stale_id,
                personio,
                timetrack,
                ..
            } => json!({
                "action": self.name(), "system": target, "id": stale_id,
                "personio_id": personio.id, "timetrack_id": timetrack.id,
                "value": val(&personio.value),
            }),
            Action::ForgetMapping { mapping } => json!({
                "action": self.name(), "personio_id": mapping.personio_id,
                "timetrack_id": mapping.timetrack_id,
            }),
            Action::Skip(s) => json!({
                "action": self.name(), "system": s.system, "id": s.record_id,
                "reason": s.reason.to_string(),
            }),
        }
    }
}

impl<V: Serialize> Plan<V> {
    /// The plan as reported in a dry run's `RunRecord.plan`.
    pub fn to_report(&self) -> RunPlan {
        RunPlan::Planned {
            actions: self.actions.iter().map(Action::to_json).collect(),
            in_sync: self.in_sync as u64,
        }
    }
}
