//! The run record: what every sync run leaves behind, readable by id and listable newest first.
//!
//! Persisted as one JSON document by the state store (only a few fields are keys), so the record can grow
//! without a store migration. Holds no secret and no personal data beyond record ids and the canonical
//! values of conflicts (which users need to see to understand who won).
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

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
    /// Counts per side and action, e.g. `counts.timetrack.create = 3` on the wire.
    #[serde(default)]
    pub counts: RunCounts,
    #[serde(default)]
    pub conflicts: Vec<ConflictReport>,
    #[serde(default)]
    pub failures: Vec<RecordFailure>,
    /// Records skipped with a reason (direction, unmapped type, parked, open entry, ...).
    #[serde(default)]
    pub skipped: Vec<SkipReport>,
    /// The plan, for dry runs (and for continued runs, what was left); `null` otherwise.
    #[serde(default)]
    pub plan: RunPlan,
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
    /// records that failed — redelivery retries them until each is synced or parked (after
    /// `sync.max_failures_before_parking` failures, or at once when refused). A run whose every failed
    /// record is now parked is done: the parked records are reported and wait for a release, and
    /// redelivering would only walk the message into the dead-letter queue and raise its alarm for
    /// records the operator already sees. Hints converge, so a redelivered batch rewrites nothing that
    /// already synced.
    pub fn needs_redelivery(&self) -> bool {
        match self.status {
            RunStatus::Succeeded => false,
            RunStatus::CompletedWithFailures => self.failures.iter().any(|f| !f.parked),
            _ => true,
        }
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
    /// What the winner's version did to the other side.
    pub resolution: Resolution,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordFailure {
    pub system: Option<System>,
    pub record_id: Option<String>,
    pub action: String,
    pub error: String,
    /// This failure parked the record (or found it parked): later runs skip it until it is released.
    /// Written only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parked: bool,
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

/// What a conflict's winner did to the other side, as reported in a run record.
///
/// The planner's [`crate::engine::Resolution`] plus [`Resolution::Parked`]: the planner never decides
/// to park, the apply step does when the loser's side refuses the write for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The loser's record was overwritten.
    Update,
    /// The winner deleted: the loser's record was deleted too.
    Delete,
    /// The loser deleted but the winner changed: the record was created again on the loser's side.
    Recreate,
    /// The loser's side refused the write for good; the pair is parked until a human releases it.
    Parked,
}

impl Resolution {
    /// The wire name (`update`, `delete`, `recreate`, `parked`).
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Update => "update",
            Resolution::Delete => "delete",
            Resolution::Recreate => "recreate",
            Resolution::Parked => "parked",
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<crate::engine::Resolution> for Resolution {
    fn from(planned: crate::engine::Resolution) -> Self {
        match planned {
            crate::engine::Resolution::Update => Resolution::Update,
            crate::engine::Resolution::Delete => Resolution::Delete,
            crate::engine::Resolution::Recreate => Resolution::Recreate,
        }
    }
}

/// What a run record says about the plan: `null` for a run that applied everything (or never got to
/// plan), the plan of a dry run, or what a continued run left for its continuation.
///
/// On the wire: `null`, `{"in_sync": n, "actions": [...]}` or `{"deferred": [...]}` — one shape per
/// case, so `untagged` tells them apart without a tag. The actions are the per-kind JSON of
/// [`crate::engine::Action::to_json`]: their values are workflow-specific, so they stay JSON here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RunPlan {
    /// No plan is reported (`null`).
    #[default]
    None,
    /// A dry run's plan: what the run would do and how many records were already in sync. (Fields
    /// in key order: the untyped plan was a JSON map, which writes its keys sorted.)
    Planned { actions: Vec<Value>, in_sync: u64 },
    /// A run stopped near its deadline: the actions it did not start.
    Deferred { deferred: Vec<Value> },
}

impl RunPlan {
    pub fn is_none(&self) -> bool {
        matches!(self, RunPlan::None)
    }
}

/// A side of a run's counts: one of the two systems, or the mappings (adopt, forget, unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CountSide {
    Mappings,
    Personio,
    TimeTrack,
}

impl CountSide {
    /// Every side, in wire order.
    pub const ALL: [CountSide; 3] = [
        CountSide::Mappings,
        CountSide::Personio,
        CountSide::TimeTrack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CountSide::Mappings => "mappings",
            CountSide::Personio => "personio",
            CountSide::TimeTrack => "timetrack",
        }
    }
}

impl From<System> for CountSide {
    fn from(system: System) -> Self {
        match system {
            System::Personio => CountSide::Personio,
            System::TimeTrack => CountSide::TimeTrack,
        }
    }
}

/// A record-level action without a system is a mapping action.
impl From<Option<System>> for CountSide {
    fn from(system: Option<System>) -> Self {
        system.map_or(CountSide::Mappings, CountSide::from)
    }
}

impl fmt::Display for CountSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is counted per side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counted {
    /// A twin pair linked by natural key (mappings).
    Adopt,
    Create,
    Delete,
    /// A write (or its mapping update) that failed; retried next run.
    Failed,
    /// A mapping dropped because both records are gone (mappings).
    Forget,
    /// A record not synced this run, with a reason in `skipped`.
    Skip,
    /// Pairs already in sync (mappings).
    Unchanged,
    Update,
}

impl Counted {
    /// Every action, in wire order.
    pub const ALL: [Counted; 8] = [
        Counted::Adopt,
        Counted::Create,
        Counted::Delete,
        Counted::Failed,
        Counted::Forget,
        Counted::Skip,
        Counted::Unchanged,
        Counted::Update,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Counted::Adopt => "adopt",
            Counted::Create => "create",
            Counted::Delete => "delete",
            Counted::Failed => "failed",
            Counted::Forget => "forget",
            Counted::Skip => "skip",
            Counted::Unchanged => "unchanged",
            Counted::Update => "update",
        }
    }

    /// A write to one of the systems or to the mappings (not `failed`, `skip` or `unchanged`).
    pub fn is_write(self) -> bool {
        !matches!(self, Counted::Failed | Counted::Skip | Counted::Unchanged)
    }
}

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run's counts per side and action.
///
/// On the wire `{"timetrack": {"create": 3}, ...}`: a side with nothing counted and an action counted
/// zero times are left out, exactly as the map this replaces wrote them (fields in key order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    #[serde(default, skip_serializing_if = "SideCounts::is_empty")]
    pub mappings: SideCounts,
    #[serde(default, skip_serializing_if = "SideCounts::is_empty")]
    pub personio: SideCounts,
    #[serde(default, skip_serializing_if = "SideCounts::is_empty")]
    pub timetrack: SideCounts,
}

impl RunCounts {
    pub fn side(&self, side: CountSide) -> &SideCounts {
        match side {
            CountSide::Mappings => &self.mappings,
            CountSide::Personio => &self.personio,
            CountSide::TimeTrack => &self.timetrack,
        }
    }

    pub fn side_mut(&mut self, side: CountSide) -> &mut SideCounts {
        match side {
            CountSide::Mappings => &mut self.mappings,
            CountSide::Personio => &mut self.personio,
            CountSide::TimeTrack => &mut self.timetrack,
        }
    }

    /// Adds `n` to `side`'s `action`.
    pub fn add(&mut self, side: impl Into<CountSide>, action: Counted, n: u64) {
        let slot = self.side_mut(side.into()).slot_mut(action);
        *slot = slot.saturating_add(n);
    }

    pub fn get(&self, side: CountSide, action: Counted) -> u64 {
        self.side(side).get(action)
    }

    /// Nothing counted on any side.
    pub fn is_empty(&self) -> bool {
        CountSide::ALL.iter().all(|s| self.side(*s).is_empty())
    }

    /// The sides with something counted, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (CountSide, &SideCounts)> + '_ {
        CountSide::ALL
            .into_iter()
            .map(|s| (s, self.side(s)))
            .filter(|(_, c)| !c.is_empty())
    }
}

impl<'a> IntoIterator for &'a RunCounts {
    type Item = (CountSide, &'a SideCounts);
    type IntoIter = Box<dyn Iterator<Item = Self::Item> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One side's counts per action (zero when nothing was counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideCounts {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub adopt: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub create: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delete: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub forget: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unchanged: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub update: u64,
}

impl SideCounts {
    pub fn get(&self, action: Counted) -> u64 {
        match action {
            Counted::Adopt => self.adopt,
            Counted::Create => self.create,
            Counted::Delete => self.delete,
            Counted::Failed => self.failed,
            Counted::Forget => self.forget,
            Counted::Skip => self.skip,
            Counted::Unchanged => self.unchanged,
            Counted::Update => self.update,
        }
    }

    fn slot_mut(&mut self, action: Counted) -> &mut u64 {
        match action {
            Counted::Adopt => &mut self.adopt,
            Counted::Create => &mut self.create,
            Counted::Delete => &mut self.delete,
            Counted::Failed => &mut self.failed,
            Counted::Forget => &mut self.forget,
            Counted::Skip => &mut self.skip,
            Counted::Unchanged => &mut self.unchanged,
            Counted::Update => &mut self.update,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The actions counted at least once, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (Counted, u64)> + '_ {
        Counted::ALL
            .into_iter()
            .map(|a| (a, self.get(a)))
            .filter(|(_, n)| *n > 0)
    }
}

impl<'a> IntoIterator for &'a SideCounts {
    type Item = (Counted, u64);
    type IntoIter = Box<dyn Iterator<Item = Self::Item> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Why a mapping is parked (no longer synced until a human releases it).
///
/// Stored and shown as one line of text, the same text as before this type existed: the mapping
/// store keeps a string, and [`ParkReason::parse`] reads every text back into the variant that wrote
/// it (`parse(r.to_string()) == r`). Text no variant wrote (set by hand, by a test, or by an older
/// version) is kept verbatim as [`ParkReason::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParkReason {
    /// The other side refused a write for good (a permanent refusal parks at once).
    Refused {
        /// The write refused (`create`, `update`, `delete`).
        action: String,
        system: System,
        message: String,
    },
    /// The record's writes failed this many runs in a row; `last` is the last error and its class.
    RepeatedFailures { failures: u32, last: String },
    /// Any other reason, verbatim.
    Other(String),
}

const REFUSED_BY: &str = " refused by ";
const CONSECUTIVE: &str = " consecutive failures, last: ";

impl ParkReason {
    /// Reads a stored reason back; never fails (unknown text is [`ParkReason::Other`]).
    pub fn parse(text: &str) -> Self {
        if let Some((n, last)) = text.split_once(CONSECUTIVE) {
            if let Ok(failures) = n.parse::<u32>() {
                if failures.to_string() == n {
                    return ParkReason::RepeatedFailures {
                        failures,
                        last: last.to_string(),
                    };
                }
            }
        }
        if let Some((action, rest)) = text.split_once(REFUSED_BY) {
            let system = [System::Personio, System::TimeTrack]
                .into_iter()
                .find_map(|s| {
                    rest.strip_prefix(s.as_str())?
                        .strip_prefix(": ")
                        .map(|m| (s, m))
                });
            if let Some((system, message)) = system {
                if !action.is_empty() && !action.contains(char::is_whitespace) {
                    return ParkReason::Refused {
                        action: action.to_string(),
                        system,
                        message: message.to_string(),
                    };
                }
            }
        }
        ParkReason::Other(text.to_string())
    }
}

impl fmt::Display for ParkReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParkReason::Refused {
                action,
                system,
                message,
            } => write!(f, "{action}{REFUSED_BY}{system}: {message}"),
            ParkReason::RepeatedFailures { failures, last } => {
                write!(f, "{failures}{CONSECUTIVE}{last}")
            }
            ParkReason::Other(text) => f.write_str(text),
        }
    }
}

impl From<&str> for ParkReason {
    fn from(text: &str) -> Self {
        ParkReason::parse(text)
    }
}

impl From<String> for ParkReason {
    fn from(text: String) -> Self {
        ParkReason::parse(&text)
    }
}

impl Serialize for ParkReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ParkReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(ParkReason::parse(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run records in the JSON the untyped report wrote (a dry run with its plan, a continued run
    /// with what it deferred and every resolution, a failed webhook run with empty counts).
    const RECORDED: [(&str, &str); 3] = [
        (
            "dry-run",
            include_str!("../../tests/fixtures/run-records/dry-run.json"),
        ),
        (
            "continued",
            include_str!("../../tests/fixtures/run-records/continued.json"),
        ),
        (
            "failed",
            include_str!("../../tests/fixtures/run-records/failed.json"),
        ),
    ];

    #[test]
    fn a_run_is_redelivered_until_its_every_failed_record_is_synced_or_parked() {
        let mut record: RunRecord = serde_json::from_str(RECORDED[2].1).unwrap();
        let failure = |parked| RecordFailure {
            system: Some(System::TimeTrack),
            record_id: Some("tt-1".into()),
            action: "create".into(),
            error: "422".into(),
            parked,
        };
        record.status = RunStatus::Failed;
        assert!(record.needs_redelivery());
        record.status = RunStatus::Continued;
        assert!(record.needs_redelivery());
        record.status = RunStatus::Succeeded;
        assert!(!record.needs_redelivery());
        record.status = RunStatus::CompletedWithFailures;
        record.failures = vec![failure(false), failure(true)];
        assert!(
            record.needs_redelivery(),
            "one failed record is not parked yet"
        );
        record.failures = vec![failure(true), failure(true)];
        assert!(
            !record.needs_redelivery(),
            "all parked: the message is done"
        );
        let json = serde_json::to_value(&record.failures).unwrap();
        assert_eq!(json[0]["parked"], true);
        let unparked = serde_json::to_value(failure(false)).unwrap();
        assert!(unparked.get("parked").is_none(), "written only when true");
    }

    #[test]
    fn recorded_run_records_read_and_write_back_byte_for_byte() {
        for (name, json) in RECORDED {
            let record: RunRecord =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                serde_json::to_string(&record).unwrap(),
                json.trim_end(),
                "{name}"
            );
        }
    }

    #[test]
    fn recorded_reports_read_into_their_types() {
        let dry: RunRecord = serde_json::from_str(RECORDED[0].1).unwrap();
        assert_eq!(dry.counts.mappings.unchanged, 12);
        assert_eq!(dry.counts.timetrack.get(Counted::Update), 1);
        assert_eq!(dry.conflicts[0].resolution, Resolution::Update);
        assert!(
            matches!(&dry.plan, RunPlan::Planned { in_sync: 12, actions } if actions.len() == 3)
        );

        let continued: RunRecord = serde_json::from_str(RECORDED[1].1).unwrap();
        let resolutions: Vec<_> = continued.conflicts.iter().map(|c| c.resolution).collect();
        assert_eq!(
            resolutions,
            [Resolution::Recreate, Resolution::Delete, Resolution::Parked]
        );
        assert!(matches!(&continued.plan, RunPlan::Deferred { deferred } if deferred.len() == 1));
        assert_eq!(
            continued.counts.get(CountSide::Personio, Counted::Failed),
            1
        );

        let failed: RunRecord = serde_json::from_str(RECORDED[2].1).unwrap();
        assert!(failed.counts.is_empty() && failed.plan.is_none());
    }

    #[test]
    fn a_record_written_before_counts_and_plan_existed_reads_with_empty_ones() {
        let mut v: Value = serde_json::from_str(RECORDED[2].1).unwrap();
        let object = v.as_object_mut().unwrap();
        object.remove("counts");
        object.remove("plan");
        let record: RunRecord = serde_json::from_value(v).unwrap();
        assert_eq!(record.counts, RunCounts::default());
        assert_eq!(record.plan, RunPlan::None);
    }

    #[test]
    fn an_unknown_resolution_is_an_error_not_a_guess() {
        let json = RECORDED[1].1.replace("\"recreate\"", "\"rewind\"");
        let error = serde_json::from_str::<RunRecord>(&json).unwrap_err();
        assert!(error.to_string().contains("rewind"), "{error}");
    }

    #[test]
    fn counts_leave_out_zeroes_and_empty_sides_and_add_up() {
        let mut counts = RunCounts::default();
        counts.add(System::TimeTrack, Counted::Create, 2);
        counts.add(None::<System>, Counted::Adopt, 1);
        counts.add(System::TimeTrack, Counted::Create, 1);
        counts.add(System::Personio, Counted::Unchanged, 0);
        assert_eq!(
            serde_json::to_string(&counts).unwrap(),
            r#"{"mappings":{"adopt":1},"timetrack":{"create":3}}"#
        );
        let sides: Vec<String> = counts.iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(sides, ["mappings", "timetrack"]);
        let actions: Vec<(Counted, u64)> = counts.timetrack.iter().collect();
        assert_eq!(actions, [(Counted::Create, 3)]);
        assert!(Counted::Create.is_write() && !Counted::Skip.is_write());
    }

    #[test]
    fn wire_names_match_serde() {
        for action in Counted::ALL {
            let mut side = SideCounts::default();
            *side.slot_mut(action) = 1;
            let json = serde_json::to_value(side).unwrap();
            assert_eq!(json, serde_json::json!({ action.as_str(): 1 }));
        }
        for resolution in [
            Resolution::Update,
            Resolution::Delete,
            Resolution::Recreate,
            Resolution::Parked,
        ] {
            assert_eq!(
                serde_json::to_value(resolution).unwrap(),
                resolution.as_str()
            );
        }
    }

    #[test]
    fn park_reasons_read_back_into_the_variant_that_wrote_them() {
        let refused = ParkReason::Refused {
            action: "update".into(),
            system: System::Personio,
            message: "the period is approved: locked".into(),
        };
        let repeated = ParkReason::RepeatedFailures {
            failures: 5,
            last: "TimeTrack answered HTTP 500 (transient)".into(),
        };
        assert_eq!(
            refused.to_string(),
            "update refused by personio: the period is approved: locked"
        );
        assert_eq!(
            repeated.to_string(),
            "5 consecutive failures, last: TimeTrack answered HTTP 500 (transient)"
        );
        for reason in [refused, repeated] {
            assert_eq!(ParkReason::parse(&reason.to_string()), reason);
            let json = serde_json::to_value(&reason).unwrap();
            assert_eq!(json, reason.to_string());
            assert_eq!(serde_json::from_value::<ParkReason>(json).unwrap(), reason);
        }
    }

    #[test]
    fn other_park_texts_are_kept_verbatim() {
        for text in [
            "approved period is locked",
            "too many failures",
            "007 consecutive failures, last: x",
            "update refused by nobody: x",
            "an update refused by personio: x",
            "",
        ] {
            let reason = ParkReason::parse(text);
            assert_eq!(reason, ParkReason::Other(text.to_string()), "{text:?}");
            assert_eq!(reason.to_string(), text);
        }
    }
}
