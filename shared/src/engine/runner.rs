//! One sync run of one workflow of one integration, from lease to run record.
//!
//! Order of a run: resolve the window (continuation → the continued run's window; manual → the given
//! window; scheduled → from the watermark) → take the lease (another live run → [`EngineError::
//! AlreadyRunning`]) → write the run record (`Running`) — [`RunGate::start`] — → (the service prepares the
//! workflow here: credentials, clients, the workflow's reading; a failure closes the run as `Failed`
//! through [`RunGate::fail`]) → list both sides → load the mappings → confirm
//! mapped records missing from a listing by get-by-id → plan → apply (or, in a dry run, only report the
//! plan) → write the finished run record → move the watermark (finished, non-dry runs only) → release the
//! lease → schedule the continuation if the deadline stopped the run.
//!
//! A targeted run ([`RunGate::start_hints`]) takes the same gate and finish; between them it resolves
//! its change hints to a narrowed scope and lists only that (`targeted.rs`), and it neither moves the
//! watermark nor schedules a continuation.
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use thiserror::Error;

use super::apply::{report_plan, Applier, ApplyReport};
use super::clock::Clock;
use super::hint::ChangeHint;
use super::kind::{Record, SyncKind};
use super::planner::{considered_mappings, plan, SideState};
use super::port::{Listing, PortErrorClass, SidePort};
use super::scheduler::ContinuationScheduler;
use super::slices::{estimate_per_day, plan_slices, records_per_day};
use super::window::{scheduled_window, window_setting, WindowError};
use crate::domain::{DateWindow, Direction, EntityKind, IntegrationId, System, Trigger, Workflow};
use crate::runs::{Continuation, RunPlan, RunRecord, RunStatus};
use crate::settings::IntegrationSettings;
use crate::store::{new_run_id, Lease, Mapping, StateStore, StoreError, Watermark};
use crate::timezone::TimeZoneSetting;

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    pub integration_id: IntegrationId,
    pub workflow: Workflow,
    pub trigger: Trigger,
    /// `None`: the scheduled window from the watermark. Ignored for continuations.
    pub window: Option<DateWindow>,
    /// Ignored for continuations (they keep the continued run's).
    pub direction: Direction,
    /// Ignored for continuations (they keep the continued run's).
    pub dry_run: bool,
    /// The run this one continues; its `continuation` gives window, direction and dry-run flag.
    pub continues_run_id: Option<String>,
    /// When the invocation must be done (the Lambda deadline); `None` = no limit.
    pub deadline: Option<Timestamp>,
}

/// Tunables of the runner that are not integration settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerConfig {
    /// How long a lease lives without renewal: longer than any single invocation (Lambda max 15 min).
    pub lease_ttl: Duration,
    /// No write starts when the deadline is closer than this; the rest goes to a continuation.
    pub deadline_margin: Duration,
    /// The longest chain of continuations of one run (guards against a run that never progresses).
    pub max_continuations: u32,
    /// Records (of the larger side) a time slice of a dated kind's window run may hold at once (ADR
    /// 0029): the window is listed, planned and applied slice after slice, each sized from the records
    /// per day seen so far. `0` turns slicing off (one slice: the window).
    pub slice_records: usize,
}

/// The longest probed slice (days), far above any window a run has.
const MAX_PROBE_DAYS: i64 = 1_000;

/// 30,000 entries per slice: a working week of 5,000 people (25,000 entries) fits one slice, so the
/// cuts fall on weekends, where the days a cut re-reads are empty. Measured (docs/performance.md §4a,
/// 5,000 people, one month): 74.8–77.1 MiB of heap peak for the steady, changed and deleted runs at
/// request ratio 1.000–1.001; 15,000 gave 44.7–47.6 MiB but cut mid-week, at ratio 1.12–1.45.
pub const DEFAULT_SLICE_RECORDS: usize = 30_000;

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(15 * 60),
            deadline_margin: Duration::from_secs(30),
            max_continuations: 50,
            slice_records: DEFAULT_SLICE_RECORDS,
        }
    }
}

#[derive(Debug, Error)]
pub enum EngineError {
    /// Another run of this workflow holds the lease (the API answers 409).
    #[error("{workflow} is already running for integration {integration_id} (run {holder}, lease until {expires_at})")]
    AlreadyRunning {
        integration_id: IntegrationId,
        workflow: Workflow,
        holder: String,
        expires_at: Timestamp,
    },
    #[error("cannot continue run {run_id}: {reason}")]
    NotContinuable { run_id: String, reason: String },
    #[error("cannot compute the run window: {0}")]
    Window(#[from] WindowError),
    #[error("state store: {0}")]
    Store(#[from] StoreError),
}

/// Records a run already read by id (`None`: confirmed gone), reused by the confirmation step.
pub(super) type Prefetched<V> = std::collections::HashMap<(System, String), Option<Record<V>>>;

/// The event ids of `hints`, once each, in their order.
fn event_ids(hints: &[ChangeHint]) -> Vec<String> {
    let mut seen = HashSet::new();
    hints
        .iter()
        .filter(|h| seen.insert(h.event_id.as_str()))
        .map(|h| h.event_id.clone())
        .collect()
}

/// Today in `time_zone` (UTC when the zone is unknown) as a one-day window.
fn today_window(time_zone: &TimeZoneSetting, now: Timestamp) -> DateWindow {
    let today = time_zone
        .zone()
        .unwrap_or(&jiff::tz::TimeZone::UTC)
        .to_datetime(now)
        .date();
    DateWindow {
        from: today,
        to: today,
    }
}

/// Runs the engine for one kind; borrows everything, so a function builds one per invocation.
pub struct SyncRunner<'a, K: SyncKind> {
    pub kind: &'a K,
    pub store: &'a dyn StateStore,
    pub personio: &'a dyn SidePort<K::Value>,
    pub timetrack: &'a dyn SidePort<K::Value>,
    pub settings: &'a IntegrationSettings,
    pub clock: &'a dyn Clock,
    pub scheduler: &'a dyn ContinuationScheduler,
    pub config: RunnerConfig,
}

/// Window, direction, dry-run flag and continuation index of a run, once resolved.
pub(super) struct Scope {
    pub(super) window: DateWindow,
    pub(super) direction: Direction,
    pub(super) dry_run: bool,
    pub(super) sequence: u32,
}

/// A run-level failure: the run record gets status `Failed` with this message.
pub(super) struct RunFailure(pub(super) String);

/// The part of a run that needs no workflow: scope, lease and run record. [`RunGate::start`] opens a
/// run, [`SyncRunner::run_started`] syncs it, [`RunGate::fail`] closes one that could not sync. The
/// service's preparation step (credentials, clients, the workflow's reading) runs between the two, so
/// that every failure after an event is accepted ends in a run record.
pub struct RunGate<'a> {
    pub store: &'a dyn StateStore,
    pub settings: &'a IntegrationSettings,
    pub clock: &'a dyn Clock,
    pub scheduler: &'a dyn ContinuationScheduler,
    pub config: RunnerConfig,
}

/// A run that holds its lease and whose `Running` record is written.
pub struct StartedRun {
    request: RunRequest,
    scope: Scope,
    run_id: String,
    started_at: Timestamp,
    lease: Lease,
    record: RunRecord,
    /// Why the run cannot sync although it started (its window could not be computed from the settings).
    failure: Option<String>,
    /// The hints of a targeted run (`None`: a window run).
    hints: Option<Vec<ChangeHint>>,
}

impl StartedRun {
    pub fn run_id(&self) -> &str {
        &self.run_id
    }
}

impl<'a> RunGate<'a> {
    /// Resolves the scope, takes the lease and writes the `Running` record. `Err` only when no run could
    /// be started (already running, bad continuation, store unavailable). Settings from which no window
    /// can be computed still start a run — over the current UTC day — that can only fail, so that the
    /// failure is recorded.
    pub async fn start(&self, request: RunRequest) -> Result<StartedRun, EngineError> {
        self.open(request, None).await
    }

    /// Starts a targeted run over the scope `hints` resolve to (docs/sync-engine.md, "Targeted runs"):
    /// the same lease and run record as every run, with trigger `webhook` and the hints' event ids. The
    /// request's window, dry-run flag and continuation are ignored: the scope comes from the hints
    /// inside the run, the run writes, and it never continues or moves the watermark.
    pub async fn start_hints(
        &self,
        mut request: RunRequest,
        hints: Vec<ChangeHint>,
    ) -> Result<StartedRun, EngineError> {
        request.trigger = Trigger::Webhook;
        request.window = None;
        request.dry_run = false;
        request.continues_run_id = None;
        self.open(request, Some(hints)).await
    }

    async fn open(
        &self,
        request: RunRequest,
        hints: Option<Vec<ChangeHint>>,
    ) -> Result<StartedRun, EngineError> {
        let started_at = self.clock.now();
        let run_id = new_run_id(started_at);
        let scope = match &hints {
            // Provisional: the run's record gets the span of its scope once the hints are resolved.
            Some(_) => Ok(Scope {
                window: today_window(&self.settings.time_zone, started_at),
                direction: request.direction,
                dry_run: false,
                sequence: 0,
            }),
            None => self.scope(&request, started_at).await,
        };
        let (scope, failure) = match scope {
            Ok(scope) => (scope, None),
            Err(EngineError::Window(e)) => {
                let today = started_at.to_zoned(jiff::tz::TimeZone::UTC).date();
                let scope = Scope {
                    window: request.window.unwrap_or(DateWindow {
                        from: today,
                        to: today,
                    }),
                    direction: request.direction,
                    dry_run: request.dry_run,
                    sequence: 0,
                };
                (
                    scope,
                    Some(format!("settings: cannot compute the run window: {e}")),
                )
            }
            Err(e) => return Err(e),
        };

        let lease = self
            .store
            .acquire_lease(
                &request.integration_id,
                request.workflow,
                &run_id,
                started_at,
                self.config.lease_ttl,
            )
            .await
            .map_err(|e| match e {
                StoreError::LeaseHeld {
                    integration_id,
                    workflow,
                    holder,
                    expires_at,
                } => EngineError::AlreadyRunning {
                    integration_id,
                    workflow,
                    holder,
                    expires_at,
                },
                other => EngineError::Store(other),
            })?;

        self.close_abandoned(&request, &run_id, started_at).await;

        let record = RunRecord {
            run_id: run_id.clone(),
            integration_id: request.integration_id.clone(),
            workflow: request.workflow,
            trigger: request.trigger,
            window: scope.window,
            direction: scope.direction,
            dry_run: scope.dry_run,
            status: RunStatus::Running,
            started_at,
            finished_at: None,
            duration_ms: None,
            counts: Default::default(),
            conflicts: Vec::new(),
            failures: Vec::new(),
            skipped: Vec::new(),
            plan: RunPlan::None,
            continuation: None,
            continues_run_id: request.continues_run_id.clone(),
            error: None,
            event_ids: hints.as_deref().map(event_ids).unwrap_or_default(),
            scope: None,
        };
        if let Err(e) = self.store.put_run(&record).await {
            self.release(&lease).await;
            return Err(e.into());
        }
        tracing::info!(
            run_id = %run_id, integration_id = %request.integration_id, workflow = %request.workflow,
            window = %scope.window, direction = scope.direction.as_str(), dry_run = scope.dry_run,
            "sync run started"
        );
        Ok(StartedRun {
            request,
            scope,
            run_id,
            started_at,
            lease,
            record,
            failure,
            hints,
        })
    }

    /// Closes a started run as `Failed` with `message` (which names the side and the cause, never a
    /// secret).
    pub async fn fail(
        &self,
        mut started: StartedRun,
        message: String,
    ) -> Result<RunRecord, EngineError> {
        started.record.status = RunStatus::Failed;
        started.record.error = Some(message);
        self.finish(started).await
    }

    /// Writes the finished record, moves the watermark (finished, non-dry runs only), releases the lease
    /// and schedules the continuation if the deadline stopped the run.
    async fn finish(&self, started: StartedRun) -> Result<RunRecord, EngineError> {
        let StartedRun {
            request,
            scope,
            run_id,
            started_at,
            lease,
            mut record,
            hints,
            ..
        } = started;
        let finished_at = self.clock.now();
        record.finished_at = Some(finished_at);
        record.duration_ms = Some(
            u64::try_from(finished_at.as_millisecond() - started_at.as_millisecond()).unwrap_or(0),
        );
        let put = self.store.put_run(&record).await;
        // A targeted run synced a few persons and days, not the window: it must not move the watermark.
        if put.is_ok() && record.status.moves_watermark() && !scope.dry_run && hints.is_none() {
            let watermark = Watermark {
                last_success_at: started_at,
                run_id: run_id.clone(),
            };
            if let Err(e) = self
                .store
                .put_watermark(&request.integration_id, request.workflow, &watermark)
                .await
            {
                tracing::warn!(run_id = %run_id, error = %e, "watermark not moved");
            }
        }
        self.release(&lease).await;
        put?;

        if let Some(continuation) = &record.continuation {
            if let Err(e) = self
                .scheduler
                .schedule(
                    &request.integration_id,
                    request.workflow,
                    &run_id,
                    continuation,
                )
                .await
            {
                record.error = Some(e.to_string());
                self.store.put_run(&record).await?;
            }
        }
        tracing::info!(
            run_id = %run_id, status = ?record.status, failures = record.failures.len(),
            conflicts = record.conflicts.len(), error = record.error.as_deref().unwrap_or(""),
            "sync run finished"
        );
        Ok(record)
    }

    /// Closes the records of runs of this workflow that still say `Running` although this run now
    /// holds the lease: such a run died without finishing (its process was killed or timed out) and its
    /// lease expired. Without this their records would say `Running` forever. Best effort: a failure
    /// here is logged, never fails the new run.
    async fn close_abandoned(&self, request: &RunRequest, own_run_id: &str, now: Timestamp) {
        let page = match self
            .store
            .list_runs(&request.integration_id, Some(request.workflow), 10, None)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "abandoned runs not checked");
                return;
            }
        };
        for mut abandoned in page.runs.into_iter().filter(|r| {
            r.status == RunStatus::Running && r.run_id != own_run_id && r.started_at <= now
        }) {
            abandoned.status = RunStatus::Failed;
            abandoned.finished_at = Some(now);
            abandoned.error = Some(format!(
                "abandoned: the run stopped before it finished (its process ended or timed out); \
                 its lease expired and run {own_run_id} took over"
            ));
            if let Err(e) = self.store.put_run(&abandoned).await {
                tracing::warn!(run_id = %abandoned.run_id, error = %e, "abandoned run not closed");
            }
        }
    }

    async fn release(&self, lease: &Lease) {
        if let Err(e) = self.store.release_lease(lease).await {
            tracing::warn!(holder = %lease.holder, error = %e, "lease not released; it expires by itself");
        }
    }

    async fn scope(&self, request: &RunRequest, now: Timestamp) -> Result<Scope, EngineError> {
        if let Some(previous_id) = &request.continues_run_id {
            let not = |reason: &str| EngineError::NotContinuable {
                run_id: previous_id.clone(),
                reason: reason.to_string(),
            };
            let previous = self
                .store
                .get_run(&request.integration_id, previous_id)
                .await?
                .ok_or_else(|| not("no such run"))?;
            if previous.workflow != request.workflow {
                return Err(not("it is a run of another workflow"));
            }
            let c = previous
                .continuation
                .ok_or_else(|| not("it did not stop for a continuation"))?;
            if c.sequence > self.config.max_continuations {
                return Err(not("too many continuations in a row"));
            }
            return Ok(Scope {
                window: c.window,
                direction: c.direction,
                dry_run: c.dry_run,
                sequence: c.sequence,
            });
        }
        let window = match request.window {
            Some(w) => w,
            None => {
                let watermark = self
                    .store
                    .get_watermark(&request.integration_id, request.workflow)
                    .await?;
                scheduled_window(
                    window_setting(self.settings, request.workflow),
                    &self.settings.time_zone,
                    now,
                    watermark.as_ref(),
                )?
            }
        };
        Ok(Scope {
            window,
            direction: request.direction,
            dry_run: request.dry_run,
            sequence: 0,
        })
    }
}

impl<'a, K: SyncKind> SyncRunner<'a, K> {
    /// The run's gate (scope, lease, record) on this runner's store, settings, clock and scheduler.
    pub fn gate(&self) -> RunGate<'a> {
        RunGate {
            store: self.store,
            settings: self.settings,
            clock: self.clock,
            scheduler: self.scheduler,
            config: self.config,
        }
    }

    /// Runs the request. `Err` only when no run could be started (already running, bad continuation,
    /// store unavailable at start); a run that started always returns its record, `Failed` included.
    pub async fn run(&self, request: RunRequest) -> Result<RunRecord, EngineError> {
        let started = self.gate().start(request).await?;
        self.run_started(started).await
    }

    /// Syncs a run [`RunGate::start`] opened, and finishes it.
    pub async fn run_started(&self, mut started: StartedRun) -> Result<RunRecord, EngineError> {
        let gate = self.gate();
        if let Some(message) = started.failure.take() {
            return gate.fail(started, message).await;
        }
        let mut resume = None;
        let synced = match started.hints.clone() {
            Some(hints) => self
                .sync_targeted(&started.request, &started.scope, &started.run_id, hints)
                .await
                .map(|(report, plan_json, target)| {
                    started.record.window = target.window;
                    started.record.scope = Some(target.report);
                    (report, plan_json)
                }),
            None => self
                .sync_window(
                    &started.request,
                    &started.scope,
                    &started.run_id,
                    &mut started.lease,
                )
                .await
                .map(|(report, plan_json, resume_from)| {
                    resume = resume_from;
                    (report, plan_json)
                }),
        };
        let record = &mut started.record;
        match synced {
            Ok((report, plan_json)) => {
                let scope = &started.scope;
                record.counts = report.counts;
                record.conflicts = report.conflicts;
                record.failures = report.failures;
                record.skipped = report.skipped;
                record.status = if let Some(message) = report.aborted {
                    record.error = Some(message);
                    RunStatus::Failed
                } else if report.stopped_at_deadline {
                    // A targeted run is not continued by a schedule: its hints are redelivered (the
                    // queue consumer reports a `continued` webhook run as not done) and converge.
                    if started.hints.is_none() {
                        // The continuation resumes at the slice the deadline stopped: the slices
                        // before it are done (their mappings written).
                        let window = match resume {
                            Some(from) if from > scope.window.from && from <= scope.window.to => {
                                DateWindow {
                                    from,
                                    to: scope.window.to,
                                }
                            }
                            _ => scope.window,
                        };
                        record.continuation = Some(Continuation {
                            window,
                            direction: scope.direction,
                            dry_run: scope.dry_run,
                            sequence: scope.sequence + 1,
                        });
                    }
                    record.plan = RunPlan::Deferred {
                        deferred: report.deferred,
                    };
                    RunStatus::Continued
                } else if record.failures.is_empty() {
                    RunStatus::Succeeded
                } else {
                    RunStatus::CompletedWithFailures
                };
                if scope.dry_run {
                    record.plan = plan_json;
                }
            }
            Err(RunFailure(message)) => {
                record.status = RunStatus::Failed;
                record.error = Some(message);
            }
        }
        gate.finish(started).await
    }

    fn port(&self, system: System) -> &'a dyn SidePort<K::Value> {
        match system {
            System::Personio => self.personio,
            System::TimeTrack => self.timetrack,
        }
    }

    /// A window run, slice after slice (ADR 0029): each slice is listed, confirmed, planned and applied,
    /// and its mappings written, before the next is listed, so the run holds one slice at a time.
    ///
    /// The slices are planned from the mappings the store holds per anchor day (what the last runs
    /// saw, counted without loading them, see [`plan_slices`]): a window that fits
    /// [`RunnerConfig::slice_records`] is one slice and costs what an unsliced run costs; a larger
    /// one is cut where the days on both sides of the cut are lightest, because each cut makes both
    /// listings read the neighbouring day again (the ports read a day of margin on each side). A
    /// window without mappings (a first sync) is planned slice by slice from an estimate instead
    /// ([`estimate_per_day`]: the records per day listed so far by weekday, and for the days not seen
    /// an office week of the linked employees); with nothing to go by, the first slice is one day
    /// and the next ones grow fourfold while no day had records.
    ///
    /// A kind without dates, a dry run (its answer is one plan) and `slice_records = 0` run the window
    /// as one slice. Returns the merged report, the dry run's plan, and — when the deadline or an
    /// abort stopped a slice — the first day of that slice, where a continuation resumes.
    async fn sync_window(
        &self,
        request: &RunRequest,
        scope: &Scope,
        run_id: &str,
        lease: &mut Lease,
    ) -> Result<(ApplyReport, RunPlan, Option<Date>), RunFailure> {
        let sliced = self.config.slice_records > 0
            && !scope.dry_run
            && self.kind.kind() == EntityKind::TimeEntry;
        if !sliced {
            let (report, plan, _) = self.sync(request, scope, run_id, &scope.window).await?;
            return Ok((report, plan, None));
        }
        let window = scope.window;
        let per_day = self
            .store
            .count_mappings_by_day(&request.integration_id, self.kind.kind(), &window)
            .await
            .map_err(|e| RunFailure(format!("planning the time slices: {e}")))?;
        let mut planned = plan_slices(&window, &per_day, self.config.slice_records).into_iter();
        // Without mappings, the linked employees give the company's size for the first estimate.
        let people = if per_day.is_empty() {
            self.linked_people(&request.integration_id).await
        } else {
            0
        };
        let mut total = ApplyReport::default();
        let mut from = window.from;
        let mut probe_days: i64 = 1;
        // A window without mappings: the records per day listed so far, to plan the next slice.
        let mut seen: BTreeMap<Date, u64> = BTreeMap::new();
        loop {
            let slice = match planned.next() {
                Some(slice) => slice,
                None if !per_day.is_empty() => break,
                None => {
                    let rest = DateWindow {
                        from,
                        to: window.to,
                    };
                    let estimate = estimate_per_day(&rest, &seen, people);
                    match plan_slices(&rest, &estimate, self.config.slice_records).first() {
                        Some(first) => *first,
                        None => DateWindow {
                            from,
                            to: jiff::Span::new()
                                .try_days(probe_days - 1)
                                .ok()
                                .and_then(|span| from.checked_add(span).ok())
                                .map_or(window.to, |d| d.min(window.to)),
                        },
                    }
                }
            };
            let (report, _, listed) = self.sync(request, scope, run_id, &slice).await?;
            let stopped = report.stopped_at_deadline || report.aborted.is_some();
            merge_report(&mut total, report);
            if stopped {
                return Ok((total, RunPlan::None, Some(slice.from)));
            }
            let Ok(next) = slice.to.tomorrow() else { break };
            if next > window.to {
                break;
            }
            // The lease is held across slices: renewed between them, lost → the run stops.
            *lease = self
                .store
                .renew_lease(lease, self.clock.now(), self.config.lease_ttl)
                .await
                .map_err(|e| RunFailure(format!("between slices: {e}")))?;
            let records: u64 = listed.values().sum();
            for day in slice.each_day() {
                seen.insert(day, listed.get(&day).copied().unwrap_or(0));
            }
            // Capped: a window is never longer than a year or so, and a span must stay in range.
            probe_days = probe_days.saturating_mul(4).min(MAX_PROBE_DAYS);
            tracing::info!(slice = %slice, records, "slice done");
            from = next;
        }
        Ok((total, RunPlan::None, None))
    }

    /// How many employees are linked (employee mappings naming both sides): the company's size as
    /// the employees workflow left it, `0` when unknown (none, or the store failed: the run then
    /// probes its slices).
    async fn linked_people(&self, integration_id: &IntegrationId) -> u64 {
        match self
            .store
            .list_mappings(integration_id, EntityKind::Employee, None)
            .await
        {
            Ok(mappings) => mappings
                .iter()
                .filter(|m| m.personio_id.is_some() && m.timetrack_id.is_some())
                .count() as u64,
            Err(e) => {
                tracing::warn!(error = %e, "employee links not counted; slices are probed");
                0
            }
        }
    }

    /// List, confirm, plan, apply over `window` (the run's window or one slice of it). Returns the
    /// apply report, (for dry runs) the plan, and the records listed per anchor day (the larger side's).
    async fn sync(
        &self,
        request: &RunRequest,
        scope: &Scope,
        run_id: &str,
        window: &DateWindow,
    ) -> Result<(ApplyReport, RunPlan, BTreeMap<Date, u64>), RunFailure> {
        let scope = &Scope {
            window: *window,
            direction: scope.direction,
            dry_run: scope.dry_run,
            sequence: scope.sequence,
        };
        let (p, t) = futures::join!(
            self.personio.list(&scope.window),
            self.timetrack.list(&scope.window)
        );
        let p = p.map_err(|e| RunFailure(format!("listing personio: {e}")))?;
        let t = t.map_err(|e| RunFailure(format!("listing timetrack: {e}")))?;
        let listed = records_per_day(self.kind, &p, &t);
        let mappings = self
            .mappings(&request.integration_id, &scope.window, &p, &t)
            .await
            .map_err(|e| RunFailure(format!("loading mappings: {e}")))?;
        let mut personio = SideState {
            records: p.records,
            rejected: p.rejected,
            gone: BTreeSet::new(),
        };
        let mut timetrack = SideState {
            records: t.records,
            rejected: t.rejected,
            gone: BTreeSet::new(),
        };
        self.confirm_missing(
            &scope.window,
            &mappings,
            &mut personio,
            &mut timetrack,
            &Prefetched::new(),
        )
        .await?;
        let (report, plan_json) = self
            .plan_and_apply(request, scope, run_id, &personio, &timetrack, &mappings)
            .await?;
        Ok((report, plan_json, listed))
    }

    /// Plans the run from both sides' state and the mappings, then applies the plan (or, in a dry run,
    /// reports it).
    pub(super) async fn plan_and_apply(
        &self,
        request: &RunRequest,
        scope: &Scope,
        run_id: &str,
        personio: &SideState<K::Value>,
        timetrack: &SideState<K::Value>,
        mappings: &[Mapping],
    ) -> Result<(ApplyReport, RunPlan), RunFailure> {
        let plan = plan(
            self.kind,
            scope.direction,
            &scope.window,
            personio,
            timetrack,
            mappings,
        );
        if scope.dry_run {
            return Ok((report_plan(&plan), plan.to_report()));
        }
        let margin =
            SignedDuration::try_from(self.config.deadline_margin).unwrap_or(SignedDuration::ZERO);
        let applier = Applier {
            kind: self.kind,
            store: self.store,
            personio: self.personio,
            timetrack: self.timetrack,
            clock: self.clock,
            integration_id: &request.integration_id,
            run_id,
            concurrency: self.settings.sync.concurrency,
            max_failures_before_parking: self.settings.sync.max_failures_before_parking,
            stop_at: request
                .deadline
                .map(|d| d.saturating_sub(margin).unwrap_or(d)),
        };
        Ok((applier.apply(plan).await, RunPlan::None))
    }

    /// The mappings of the window, plus those of listed records anchored elsewhere (a record moved
    /// into the window must keep its mapping, or it would be created a second time).
    pub(super) async fn mappings<V>(
        &self,
        integration_id: &IntegrationId,
        window: &DateWindow,
        p: &Listing<V>,
        t: &Listing<V>,
    ) -> Result<Vec<Mapping>, StoreError> {
        let kind = self.kind.kind();
        let mut mappings = self
            .store
            .list_mappings(integration_id, kind, Some(window))
            .await?;
        let known: HashSet<(System, &str)> = mappings
            .iter()
            .flat_map(|m| {
                [
                    m.personio_id.as_deref().map(|id| (System::Personio, id)),
                    m.timetrack_id.as_deref().map(|id| (System::TimeTrack, id)),
                ]
            })
            .flatten()
            .collect();
        let mut personio_ids = HashSet::new();
        let mut timetrack_ids = HashSet::new();
        for r in &p.records {
            if !known.contains(&(System::Personio, r.id.as_str())) {
                personio_ids.insert(r.id.clone());
            }
        }
        for r in &t.records {
            if !known.contains(&(System::TimeTrack, r.id.as_str())) {
                timetrack_ids.insert(r.id.clone());
            }
        }
        if personio_ids.is_empty() && timetrack_ids.is_empty() {
            return Ok(mappings);
        }
        let loaded: HashSet<String> = mappings.iter().map(|m| m.mapping_id.clone()).collect();
        let extra: Vec<Mapping> = self
            .store
            .find_mappings(integration_id, kind, &personio_ids, &timetrack_ids)
            .await?
            .into_iter()
            .filter(|m| !loaded.contains(&m.mapping_id))
            .collect();
        mappings.extend(extra);
        Ok(mappings)
    }

    /// Get-by-id for every mapped record missing from its listing: found → present with the fetched
    /// value; `None` → confirmed gone; an error → left unconfirmed (the planner skips the mapping).
    /// What the run already read by id (`prefetched`) is reused instead of read again.
    pub(super) async fn confirm_missing(
        &self,
        window: &DateWindow,
        mappings: &[Mapping],
        personio: &mut SideState<K::Value>,
        timetrack: &mut SideState<K::Value>,
        prefetched: &Prefetched<K::Value>,
    ) -> Result<(), RunFailure> {
        let missing: Vec<(System, String)> = {
            let listed: foldhash::HashSet<(System, &str)> = personio
                .records
                .iter()
                .map(|r| (System::Personio, r.id.as_str()))
                .chain(
                    personio
                        .rejected
                        .iter()
                        .filter_map(|r| r.id.as_deref())
                        .map(|id| (System::Personio, id)),
                )
                .chain(
                    timetrack
                        .records
                        .iter()
                        .map(|r| (System::TimeTrack, r.id.as_str())),
                )
                .chain(
                    timetrack
                        .rejected
                        .iter()
                        .filter_map(|r| r.id.as_deref())
                        .map(|id| (System::TimeTrack, id)),
                )
                .collect();
            let mut missing = Vec::new();
            for m in considered_mappings(mappings, window, &listed) {
                if m.parked.is_some() {
                    continue;
                }
                for (system, id) in [
                    (System::Personio, &m.personio_id),
                    (System::TimeTrack, &m.timetrack_id),
                ] {
                    if let Some(id) = id {
                        if !listed.contains(&(system, id.as_str())) {
                            missing.push((system, id.clone()));
                        }
                    }
                }
            }
            missing
        };
        let results: Vec<_> = stream::iter(missing)
            .map(|(system, id)| async move {
                let result = match prefetched.get(&(system, id.clone())) {
                    Some(known) => Ok(known.clone()),
                    None => self.port(system).get(&id).await,
                };
                (system, id, result)
            })
            .buffer_unordered(self.settings.sync.concurrency.max(1))
            .collect()
            .await;
        for (system, id, result) in results {
            let side = match system {
                System::Personio => &mut *personio,
                System::TimeTrack => &mut *timetrack,
            };
            match result {
                Ok(Some(record)) => side.records.push(record),
                Ok(None) => {
                    side.gone.insert(id);
                }
                Err(e) if e.class == PortErrorClass::Fatal => {
                    return Err(RunFailure(format!("get {system} {id}: {e}")));
                }
                Err(e) if e.class == PortErrorClass::NotFound => {
                    side.gone.insert(id);
                }
                Err(e) => {
                    tracing::warn!(system = %system, id = %id, error = %e, "could not confirm a missing record");
                }
            }
        }
        Ok(())
    }
}

/// Adds a slice's report to the run's.
fn merge_report(total: &mut ApplyReport, slice: ApplyReport) {
    for (side, actions) in &slice.counts {
        for (action, n) in actions {
            total.counts.add(side, action, n);
        }
    }
    total.conflicts.extend(slice.conflicts);
    total.failures.extend(slice.failures);
    total.skipped.extend(slice.skipped);
    total.deferred.extend(slice.deferred);
    if total.aborted.is_none() {
        total.aborted = slice.aborted;
    }
    total.stopped_at_deadline |= slice.stopped_at_deadline;
}
