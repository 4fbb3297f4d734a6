//! Applying a plan: the only place that writes to the two systems and to the mappings.
//!
//! Guarantees (see `docs/sync-engine.md`):
//! - **No duplicate creates.** Before every create (including a conflict's re-create) the mapping is
//!   written with a [`PendingIntent`] naming the natural key; a run that dies between the create and
//!   the mapping update leaves the intent behind, and the next run adopts the twin instead of creating
//!   it again.
//! - **Mappings follow writes.** After each successful write the mapping is put (conditionally, by
//!   version) with both ids, the fingerprint of the value written, its anchor date, no intent and zero
//!   failures.
//! - **Superseded twins delete before they re-link.** Completing an interrupted update-by-recreate
//!   deletes the stale record first and writes the re-linked mapping second, so a crash in between
//!   leaves a state the "moved" rule recognises (never an orphaned, unmapped stale record).
//! - **One bad record never stops a run.** A failed write is recorded in the run and on its mapping
//!   (`failures`, `last_error`); repeated failures, or a permanent refusal, park the mapping.
//!   Only a `Fatal` port error (authentication, permissions) aborts the run.
//! - **Deadline.** No write starts once `stop_at` has passed; writes in flight finish.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use futures::stream::{self, StreamExt};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::clock::Clock;
use super::fingerprint::fingerprint;
use super::kind::{Record, SyncKind};
use super::plan::{Action, Conflict, Plan, Resolution};
use super::port::{PortError, PortErrorClass, SidePort};
use crate::domain::{IntegrationId, System};
use crate::runs::{
    ConflictReport, CountSide, Counted, ParkReason, RecordFailure,
    Resolution as ReportedResolution, RunCounts, SkipReport,
};
use crate::store::{Mapping, PendingIntent, StateStore, StoreError};

/// Everything `apply` needs; built by the runner (or by a test).
pub struct Applier<'a, K: SyncKind> {
    pub kind: &'a K,
    pub store: &'a dyn StateStore,
    pub personio: &'a dyn SidePort<K::Value>,
    pub timetrack: &'a dyn SidePort<K::Value>,
    pub clock: &'a dyn Clock,
    pub integration_id: &'a IntegrationId,
    pub run_id: &'a str,
    /// Writes in flight at once (at least 1).
    pub concurrency: usize,
    pub max_failures_before_parking: u32,
    /// No write starts at or after this instant (the deadline minus the safety margin).
    pub stop_at: Option<Timestamp>,
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    /// Per side (a system, or the mappings) and action.
    pub counts: RunCounts,
    pub conflicts: Vec<ConflictReport>,
    pub failures: Vec<RecordFailure>,
    pub skipped: Vec<SkipReport>,
    /// Actions not started because the deadline came near (or the run aborted), as plan JSON.
    pub deferred: Vec<Value>,
    /// Set when a fatal port error aborted the run.
    pub aborted: Option<String>,
    /// True when the deadline stopped the run before every action was started.
    pub stopped_at_deadline: bool,
}

impl ApplyReport {
    fn count(&mut self, side: impl Into<CountSide>, action: Counted) {
        self.counts.add(side, action, 1);
    }
}

/// What the counts and reports of a plan are, without applying it (dry runs).
pub(crate) fn report_plan<V: Serialize>(plan: &Plan<V>) -> ApplyReport {
    let mut report = ApplyReport::default();
    report
        .counts
        .add(CountSide::Mappings, Counted::Unchanged, plan.in_sync as u64);
    for action in &plan.actions {
        let (side, name) = count_key(action);
        report.count(side, name);
        match action {
            Action::Conflict(c) => report.conflicts.push(conflict_report(c)),
            Action::Skip(s) => report.skipped.push(SkipReport {
                system: s.system,
                record_id: s.record_id.clone(),
                reason: s.reason.to_string(),
            }),
            _ => {}
        }
    }
    report
}

/// `(side, action)` an action is counted under when it succeeds.
fn count_key<V>(action: &Action<V>) -> (CountSide, Counted) {
    match action {
        Action::Create { target, .. } => ((*target).into(), Counted::Create),
        Action::Adopt { .. } => (CountSide::Mappings, Counted::Adopt),
        Action::Update { target, .. } => ((*target).into(), Counted::Update),
        Action::Delete { target, .. } => ((*target).into(), Counted::Delete),
        Action::Conflict(c) => (
            c.loser().into(),
            match c.resolution {
                Resolution::Update => Counted::Update,
                Resolution::Delete => Counted::Delete,
                Resolution::Recreate => Counted::Create,
            },
        ),
        Action::Supersede { target, .. } => ((*target).into(), Counted::Delete),
        Action::ForgetMapping { .. } => (CountSide::Mappings, Counted::Forget),
        Action::Skip(s) => (s.system.into(), Counted::Skip),
    }
}

fn to_json<V: Serialize>(v: &V) -> Option<Value> {
    serde_json::to_value(v).ok()
}

fn conflict_report<V: Serialize>(c: &Conflict<V>) -> ConflictReport {
    ConflictReport {
        personio_id: c.personio.as_ref().map(|r| r.id.clone()),
        timetrack_id: c.timetrack.as_ref().map(|r| r.id.clone()),
        personio: c.personio.as_ref().and_then(|r| to_json(&r.value)),
        timetrack: c.timetrack.as_ref().and_then(|r| to_json(&r.value)),
        winner: c.winner,
        resolution: c.resolution.into(),
    }
}

/// The result of one action.
enum Outcome {
    Done {
        side: CountSide,
        action: Counted,
        conflict: Option<ConflictReport>,
    },
    Skipped(SkipReport),
    Failed {
        side: Option<System>,
        failure: RecordFailure,
        conflict: Option<ConflictReport>,
    },
    Deferred(Value),
    Aborted(String),
}

/// Context of a failed write, for the run's failure list and the mapping's failure count.
struct FailureContext {
    system: System,
    record_id: Option<String>,
    action: &'static str,
    /// The conflict being resolved, or what a refusal is reported as.
    conflict: Option<ConflictReport>,
}

struct Flags {
    stopping: AtomicBool,
    aborted: AtomicBool,
}

impl<'a, K: SyncKind> Applier<'a, K> {
    fn port(&self, system: System) -> &'a dyn SidePort<K::Value> {
        match system {
            System::Personio => self.personio,
            System::TimeTrack => self.timetrack,
        }
    }

    /// Applies every action of `plan`, at most `concurrency` at a time.
    pub async fn apply(&self, plan: Plan<K::Value>) -> ApplyReport {
        let flags = Flags {
            stopping: AtomicBool::new(false),
            aborted: AtomicBool::new(false),
        };
        let report = Mutex::new(report_plan(&Plan::<K::Value> {
            actions: Vec::new(),
            in_sync: plan.in_sync,
        }));
        stream::iter(plan.actions)
            .map(|action| self.execute(action, &flags))
            .buffer_unordered(self.concurrency.max(1))
            .for_each(|outcome| {
                // The lock is never held across an await; poisoning would need a panic in here.
                let mut r = report.lock().unwrap_or_else(|e| e.into_inner());
                match outcome {
                    Outcome::Done {
                        side,
                        action,
                        conflict,
                    } => {
                        r.count(side, action);
                        r.conflicts.extend(conflict);
                    }
                    Outcome::Skipped(s) => {
                        r.count(s.system, Counted::Skip);
                        r.skipped.push(s);
                    }
                    Outcome::Failed {
                        side,
                        failure,
                        conflict,
                    } => {
                        r.count(side, Counted::Failed);
                        r.failures.push(failure);
                        r.conflicts.extend(conflict);
                    }
                    Outcome::Deferred(json) => r.deferred.push(json),
                    Outcome::Aborted(message) => {
                        r.aborted.get_or_insert(message);
                    }
                }
                futures::future::ready(())
            })
            .await;
        let mut report = report.into_inner().unwrap_or_else(|e| e.into_inner());
        report.stopped_at_deadline = flags.stopping.load(Ordering::SeqCst);
        report
    }

    async fn execute(&self, action: Action<K::Value>, flags: &Flags) -> Outcome {
        if let Action::Skip(s) = action {
            return Outcome::Skipped(SkipReport {
                system: s.system,
                record_id: s.record_id,
                reason: s.reason.to_string(),
            });
        }
        if flags.aborted.load(Ordering::SeqCst) {
            return Outcome::Deferred(action.to_json());
        }
        if let Some(stop_at) = self.stop_at {
            if flags.stopping.load(Ordering::SeqCst) || self.clock.now() >= stop_at {
                flags.stopping.store(true, Ordering::SeqCst);
                return Outcome::Deferred(action.to_json());
            }
        }
        let outcome = match action {
            Action::Create {
                target,
                source,
                mapping,
            } => self.create(target, &source, mapping).await,
            Action::Adopt {
                personio,
                timetrack,
                mapping,
            } => {
                match self.synced(
                    mapping.as_ref(),
                    &personio.id,
                    &timetrack.id,
                    &personio.value,
                ) {
                    Ok(m) => self.put(m, CountSide::Mappings, Counted::Adopt, None).await,
                    Err(e) => store_failure(None, Some(personio.id), "adopt", e),
                }
            }
            Action::Update {
                target,
                target_id,
                value,
                previous,
                mapping,
            } => {
                self.update(target, &target_id, &value, previous.as_ref(), mapping, None)
                    .await
            }
            Action::Delete {
                target,
                target_id,
                mapping,
            } => self.delete(target, &target_id, Some(mapping), None).await,
            Action::Conflict(c) => self.conflict(c).await,
            Action::Supersede {
                target,
                stale_id,
                personio,
                timetrack,
                mapping,
            } => {
                self.supersede(target, &stale_id, &personio, &timetrack, mapping)
                    .await
            }
            Action::ForgetMapping { mapping } => match self.forget(&mapping).await {
                Ok(()) => done(CountSide::Mappings, Counted::Forget, None),
                Err(e) => store_failure(None, mapping.personio_id.clone(), "forget", e),
            },
            Action::Skip(_) => unreachable!("skips returned above"),
        };
        if matches!(outcome, Outcome::Aborted(_)) {
            flags.aborted.store(true, Ordering::SeqCst);
        }
        outcome
    }

    /// The mapping after a successful write: both ids, fingerprint and anchor of `value`.
    fn synced(
        &self,
        base: Option<&Mapping>,
        personio_id: &str,
        timetrack_id: &str,
        value: &K::Value,
    ) -> Result<Mapping, StoreError> {
        let fp = fingerprint(value).map_err(|e| StoreError::Corrupt {
            key: "fingerprint".into(),
            reason: e.0,
        })?;
        let mut m = self.next_version(base, value);
        m.personio_id = Some(personio_id.to_string());
        m.timetrack_id = Some(timetrack_id.to_string());
        m.fingerprint = Some(fp);
        m.intent = None;
        m.failures = 0;
        m.last_error = None;
        m.parked = None;
        Ok(m)
    }

    /// `base` with its version bumped (what a conditional put expects), or a fresh mapping (version 1).
    fn next_version(&self, base: Option<&Mapping>, value: &K::Value) -> Mapping {
        let now = self.clock.now();
        let anchor_date = self.kind.anchor_date(value);
        match base {
            Some(m) => Mapping {
                version: m.version + 1,
                updated_at: now,
                anchor_date,
                ..m.clone()
            },
            None => Mapping {
                integration_id: self.integration_id.clone(),
                kind: self.kind.kind(),
                mapping_id: uuid::Uuid::new_v4().to_string(),
                personio_id: None,
                timetrack_id: None,
                fingerprint: None,
                anchor_date,
                intent: None,
                failures: 0,
                last_error: None,
                parked: None,
                updated_at: now,
                version: 1,
            },
        }
    }

    async fn put(
        &self,
        mapping: Mapping,
        side: CountSide,
        action: Counted,
        conflict: Option<ConflictReport>,
    ) -> Outcome {
        match self.store.put_mapping(&mapping).await {
            Ok(()) => done(side, action, conflict),
            Err(e) => store_failure(
                None,
                mapping.personio_id.or(mapping.timetrack_id),
                action.as_str(),
                e,
            ),
        }
    }

    async fn forget(&self, mapping: &Mapping) -> Result<(), StoreError> {
        self.store
            .delete_mapping(
                &mapping.integration_id,
                mapping.kind,
                &mapping.mapping_id,
                mapping.version,
            )
            .await
    }

    /// Writes the intent, creates `value` in `target`, then completes the mapping. `base` is the
    /// existing mapping (a retried intent or a re-create after a delete), `None` for a new record.
    async fn create_with_intent(
        &self,
        target: System,
        source_id: Option<&str>,
        value: &K::Value,
        base: Option<Mapping>,
        conflict: Option<ConflictReport>,
    ) -> Outcome {
        let fp = match fingerprint(value) {
            Ok(fp) => fp,
            Err(e) => {
                return store_failure(
                    Some(target),
                    source_id.map(String::from),
                    "create",
                    StoreError::Corrupt {
                        key: "fingerprint".into(),
                        reason: e.0,
                    },
                )
            }
        };
        // A retry of an intent keeps what earlier attempts recorded: their leftovers may still exist.
        let earlier = base
            .as_ref()
            .and_then(|m| m.intent.as_ref())
            .filter(|i| i.target == target)
            .map(|i| i.parts.clone());
        let mut intent = self.next_version(base.as_ref(), value);
        match target {
            System::Personio => intent.personio_id = None,
            System::TimeTrack => intent.timetrack_id = None,
        }
        if let Some(id) = source_id {
            match target.other() {
                System::Personio => intent.personio_id = Some(id.to_string()),
                System::TimeTrack => intent.timetrack_id = Some(id.to_string()),
            }
        }
        intent.intent = Some(PendingIntent {
            target,
            natural_key: self.kind.natural_key(value),
            fingerprint: fp,
            run_id: self.run_id.to_string(),
            created_at: self.clock.now(),
            parts: earlier.clone().unwrap_or_default(),
        });
        if let Err(e) = self.store.put_mapping(&intent).await {
            // Never create without the intent on record.
            return store_failure(Some(target), source_id.map(String::from), "create", e);
        }
        let journal = IntentJournal {
            store: self.store,
            clock: self.clock,
            earlier,
            mapping: Mutex::new(intent),
        };
        let created = self.port(target).create_recorded(value, &journal).await;
        // The mapping as the journal last stored it (its version moved with every recorded part).
        let intent = journal.into_mapping();
        match created {
            Ok(new_id) => {
                let (p, t) = match target {
                    System::Personio => (new_id, intent.timetrack_id.clone().unwrap_or_default()),
                    System::TimeTrack => (intent.personio_id.clone().unwrap_or_default(), new_id),
                };
                match self.synced(Some(&intent), &p, &t, value) {
                    Ok(m) => self.put(m, target.into(), Counted::Create, conflict).await,
                    Err(e) => store_failure(Some(target), Some(p), "create", e),
                }
            }
            Err(e) => {
                let ctx = FailureContext {
                    system: target,
                    record_id: source_id.map(String::from),
                    action: "create",
                    conflict,
                };
                self.fail(Some(intent), ctx, e, value).await
            }
        }
    }

    async fn create(
        &self,
        target: System,
        source: &Record<K::Value>,
        mapping: Option<Mapping>,
    ) -> Outcome {
        self.create_with_intent(target, Some(&source.id), &source.value, mapping, None)
            .await
    }

    async fn update(
        &self,
        target: System,
        target_id: &str,
        value: &K::Value,
        previous: Option<&K::Value>,
        mapping: Mapping,
        conflict: Option<ConflictReport>,
    ) -> Outcome {
        match self.port(target).update(target_id, value, previous).await {
            Ok(new_id) => {
                let (p, t) = match target {
                    System::Personio => (Some(new_id), mapping.timetrack_id.clone()),
                    System::TimeTrack => (mapping.personio_id.clone(), Some(new_id)),
                };
                let (Some(p), Some(t)) = (p, t) else {
                    return store_failure(
                        Some(target),
                        Some(target_id.to_string()),
                        "update",
                        StoreError::Corrupt {
                            key: mapping.mapping_id.clone(),
                            reason: "mapping of an update lacks the source id".into(),
                        },
                    );
                };
                match self.synced(Some(&mapping), &p, &t, value) {
                    Ok(m) => self.put(m, target.into(), Counted::Update, conflict).await,
                    Err(e) => store_failure(Some(target), Some(target_id.to_string()), "update", e),
                }
            }
            Err(e) => {
                let ctx = FailureContext {
                    system: target,
                    record_id: Some(target_id.to_string()),
                    action: "update",
                    conflict,
                };
                self.fail(Some(mapping), ctx, e, value).await
            }
        }
    }

    async fn delete(
        &self,
        target: System,
        target_id: &str,
        mapping: Option<Mapping>,
        conflict: Option<ConflictReport>,
    ) -> Outcome {
        match self.port(target).delete(target_id).await {
            Ok(()) => {}
            // Already gone: the goal is reached.
            Err(e) if e.class == PortErrorClass::NotFound => {}
            Err(e) => {
                let ctx = FailureContext {
                    system: target,
                    record_id: Some(target_id.to_string()),
                    action: "delete",
                    conflict,
                };
                return match mapping {
                    Some(m) => self.fail_no_value(m, ctx, e).await,
                    None => failed_outcome(ctx, &e),
                };
            }
        }
        if let Some(m) = &mapping {
            if let Err(e) = self.forget(m).await {
                return store_failure(Some(target), Some(target_id.to_string()), "delete", e);
            }
        }
        done(target.into(), Counted::Delete, conflict)
    }

    /// Completes an update that a port performs as create-new + delete-old and that was interrupted
    /// after the create (see [`Action::Supersede`]): deletes the stale record, then re-links the
    /// mapping to the replacement. This order is what keeps it crash-safe: dying between the two
    /// leaves the stale id gone and the replacement unmapped, which the next run's "moved" rule
    /// re-links; the other order would leave the stale record unmapped, to be created on the other
    /// side as a new one (a duplicate).
    async fn supersede(
        &self,
        target: System,
        stale_id: &str,
        personio: &Record<K::Value>,
        timetrack: &Record<K::Value>,
        mapping: Mapping,
    ) -> Outcome {
        match self.port(target).delete(stale_id).await {
            Ok(()) => {}
            // Already gone: the goal is reached.
            Err(e) if e.class == PortErrorClass::NotFound => {}
            Err(e) => {
                let ctx = FailureContext {
                    system: target,
                    record_id: Some(stale_id.to_string()),
                    action: "delete",
                    conflict: None,
                };
                return self.fail_no_value(mapping, ctx, e).await;
            }
        }
        match self.synced(Some(&mapping), &personio.id, &timetrack.id, &personio.value) {
            Ok(m) => self.put(m, target.into(), Counted::Delete, None).await,
            Err(e) => store_failure(Some(target), Some(stale_id.to_string()), "delete", e),
        }
    }

    async fn conflict(&self, c: Conflict<K::Value>) -> Outcome {
        let report = conflict_report(&c);
        let loser = c.loser();
        let winner_record = c.side(c.winner).cloned();
        let loser_record = c.side(loser).cloned();
        match (c.resolution, winner_record, loser_record) {
            (Resolution::Update, Some(w), Some(l)) => {
                // Link first (twins found by natural key), so failures are counted on a mapping.
                let mapping = match c.mapping {
                    // A pending intent's mapping names one side only: link the twin too, so that
                    // whichever side loses, the update's mapping has both ids.
                    Some(mut m) => {
                        let (p, t) = match c.winner {
                            System::Personio => (&w.id, &l.id),
                            System::TimeTrack => (&l.id, &w.id),
                        };
                        m.personio_id.get_or_insert_with(|| p.clone());
                        m.timetrack_id.get_or_insert_with(|| t.clone());
                        m
                    }
                    None => {
                        let mut link = self.next_version(None, &w.value);
                        let (p, t) = match c.winner {
                            System::Personio => (&w.id, &l.id),
                            System::TimeTrack => (&l.id, &w.id),
                        };
                        link.personio_id = Some(p.clone());
                        link.timetrack_id = Some(t.clone());
                        if let Err(e) = self.store.put_mapping(&link).await {
                            return store_failure(Some(loser), Some(l.id), "update", e);
                        }
                        link
                    }
                };
                self.update(
                    loser,
                    &l.id,
                    &w.value,
                    Some(&l.value),
                    mapping,
                    Some(report),
                )
                .await
            }
            (Resolution::Delete, _, Some(l)) => {
                self.delete(loser, &l.id, c.mapping, Some(report)).await
            }
            (Resolution::Recreate, Some(w), None) => {
                self.create_with_intent(loser, Some(&w.id), &w.value, c.mapping, Some(report))
                    .await
            }
            _ => store_failure(
                Some(loser),
                None,
                "conflict",
                StoreError::Corrupt {
                    key: "plan".into(),
                    reason: "conflict resolution without the records it needs".into(),
                },
            ),
        }
    }

    async fn fail(
        &self,
        mapping: Option<Mapping>,
        ctx: FailureContext,
        error: PortError,
        value: &K::Value,
    ) -> Outcome {
        match mapping {
            Some(m) => {
                let m = Mapping {
                    anchor_date: m.anchor_date.or(self.kind.anchor_date(value)),
                    ..m
                };
                self.fail_no_value(m, ctx, error).await
            }
            None => failed_outcome(ctx, &error),
        }
    }

    /// Records a failed write on its mapping (parking it when refused or failing too often).
    async fn fail_no_value(
        &self,
        m: Mapping,
        mut ctx: FailureContext,
        error: PortError,
    ) -> Outcome {
        if error.class == PortErrorClass::Fatal {
            // The run stops here; the mapping stays as it was (the write may or may not have happened).
            return Outcome::Aborted(format!(
                "{} {} on {}: {}",
                ctx.action,
                ctx.system,
                ctx.record_id.as_deref().unwrap_or("-"),
                error
            ));
        }
        let failures = m.failures.saturating_add(1);
        let parked = if error.class == PortErrorClass::Refused {
            Some(ParkReason::Refused {
                action: ctx.action.to_string(),
                system: ctx.system,
                message: error.message.clone(),
            })
        } else if failures >= self.max_failures_before_parking.max(1) {
            Some(ParkReason::RepeatedFailures {
                failures,
                last: format!("{} ({})", error.message, error.class),
            })
        } else {
            None
        };
        if error.class == PortErrorClass::Refused {
            let mut report = ctx.conflict.take().unwrap_or(ConflictReport {
                personio_id: m.personio_id.clone(),
                timetrack_id: m.timetrack_id.clone(),
                personio: None,
                timetrack: None,
                winner: ctx.system.other(),
                resolution: ReportedResolution::Parked,
            });
            report.resolution = ReportedResolution::Parked;
            ctx.conflict = Some(report);
        }
        let next = Mapping {
            failures,
            last_error: Some(format!("{}: {}", error.class, error.message)),
            parked: parked.or(m.parked.clone()),
            version: m.version + 1,
            updated_at: self.clock.now(),
            ..m
        };
        let mut outcome = failed_outcome(ctx, &error);
        let now_parked = next.parked.is_some();
        let stored = self.store.put_mapping(&next).await;
        if let Outcome::Failed { failure, .. } = &mut outcome {
            match stored {
                // Parked only once the store says so: an unrecorded park would not hold next run.
                Ok(()) => failure.parked = now_parked,
                Err(e) => {
                    failure.error =
                        format!("{}; recording the failure failed too: {e}", failure.error);
                }
            }
        }
        outcome
    }
}

/// The journal of one create: every part a port records is added to the mapping's pending intent and
/// stored (conditional put, version + 1) before the port sends the write.
struct IntentJournal<'a> {
    store: &'a dyn StateStore,
    clock: &'a dyn Clock,
    earlier: Option<Vec<String>>,
    mapping: Mutex<Mapping>,
}

impl IntentJournal<'_> {
    fn into_mapping(self) -> Mapping {
        self.mapping.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl super::port::WriteJournal for IntentJournal<'_> {
    fn earlier(&self) -> Option<&[String]> {
        self.earlier.as_deref()
    }

    async fn record(&self, part: &str) -> Result<(), PortError> {
        // The lock is never held across the await: the port records its writes one at a time.
        let mut next = self
            .mapping
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(intent) = next.intent.as_mut() else {
            return Err(PortError::new(
                PortErrorClass::Transient,
                "state store: a create's journal has no intent to record in",
            ));
        };
        if intent.parts.iter().any(|p| p == part) {
            return Ok(()); // recorded by an earlier attempt already
        }
        intent.parts.push(part.to_string());
        next.version += 1;
        next.updated_at = self.clock.now();
        self.store.put_mapping(&next).await.map_err(|e| {
            PortError::new(
                PortErrorClass::Transient,
                format!("state store: recording a write of the create failed: {e}"),
            )
        })?;
        *self.mapping.lock().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(())
    }
}

fn done(side: CountSide, action: Counted, conflict: Option<ConflictReport>) -> Outcome {
    Outcome::Done {
        side,
        action,
        conflict,
    }
}

fn failed_outcome(ctx: FailureContext, error: &PortError) -> Outcome {
    if error.class == PortErrorClass::Fatal {
        return Outcome::Aborted(format!(
            "{} {} on {}: {}",
            ctx.action,
            ctx.system,
            ctx.record_id.as_deref().unwrap_or("-"),
            error
        ));
    }
    Outcome::Failed {
        side: Some(ctx.system),
        failure: RecordFailure {
            system: Some(ctx.system),
            record_id: ctx.record_id,
            action: ctx.action.to_string(),
            error: error.to_string(),
            parked: false,
        },
        conflict: ctx.conflict,
    }
}

fn store_failure(
    system: Option<System>,
    record_id: Option<String>,
    action: &'static str,
    error: StoreError,
) -> Outcome {
    Outcome::Failed {
        side: system,
        failure: RecordFailure {
            system,
            record_id,
            action: action.to_string(),
            error: format!("state store: {error}"),
            parked: false,
        },
        conflict: None,
    }
}
