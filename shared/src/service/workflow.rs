//! One workflow function's service: from an invocation to an engine run and back to an answer.
//!
//! A workflow plugs in through [`WorkflowBinding`]: a pure binding of the settings, then a reading step
//! that returns its [`SyncKind`] and the two [`SidePort`]s. The service calls both inside the run, after
//! [`RunGate::start`] took the lease and wrote the run record, so every failure leaves a record. Everything else — settings and
//! credentials loading, request validation, the HTTP API budget, mapping engine errors to problem
//! answers — is the same for the three workflows and lives here once.
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use tracing::{info, warn, Instrument};

use super::context::ServiceContext;
use super::manual_sync::{ExplicitSelection, ManualSync};
use super::problem::{FieldProblem, Problem};
use super::setup::SetupError;
use crate::connectors::personio::PersonioClient;
use crate::connectors::timetrack::TimeTrackClient;
use crate::domain::{Direction, IntegrationId, Trigger, Workflow};
use crate::engine::{
    ChangeHint, RunGate, RunRequest, RunnerConfig, SidePort, SyncKind, SyncRunner,
};
use crate::runs::RunRecord;
use crate::settings::IntegrationSettings;
use crate::store::StateStore;

/// What a workflow's binding gets: the settings and the request, nothing to call.
pub struct BindInput<'a> {
    pub integration_id: &'a IntegrationId,
    pub settings: &'a IntegrationSettings,
    /// Records named in a manual request (employees: ids to import/export now).
    pub selection: &'a ExplicitSelection,
    pub trigger: Trigger,
}

/// What a workflow's reading step gets: the run's clients and store.
pub struct RunIo<'a> {
    pub integration_id: &'a IntegrationId,
    pub settings: &'a IntegrationSettings,
    pub personio: Arc<PersonioClient>,
    pub timetrack: Arc<TimeTrackClient>,
    pub store: Arc<dyn StateStore>,
}

/// A workflow ready to run.
pub struct BoundWorkflow<K: SyncKind> {
    pub kind: K,
    pub personio: Box<dyn SidePort<K::Value>>,
    pub timetrack: Box<dyn SidePort<K::Value>>,
}

/// The one thing each workflow function provides: a pure binding (settings → context) and the reading
/// step the service calls inside the run, after the lease is taken and the run record written, so that a
/// failure of either ends in a `failed` run record.
#[async_trait]
pub trait WorkflowBinding: Send + Sync {
    type Kind: SyncKind;
    /// What the settings say this run needs, before anything is read.
    type Context: Send;

    fn workflow(&self) -> Workflow;

    /// The direction of scheduled runs (time entries in push mode: only to Personio).
    fn scheduled_direction(&self, _settings: &IntegrationSettings) -> Direction {
        Direction::Both
    }

    /// Pure: no I/O. Errors are settings problems.
    fn bind(&self, input: BindInput<'_>) -> Result<Self::Context, SetupError>;

    /// Reads what the ports need (employees: both sides and the links; absences and time entries: the
    /// employee directory, the absence-type catalogue) and builds the kind and the two ports.
    async fn prepare(
        &self,
        context: Self::Context,
        io: RunIo<'_>,
    ) -> Result<BoundWorkflow<Self::Kind>, SetupError>;
}

/// A run to start, before settings are known.
#[derive(Debug, Clone)]
pub struct RunOrder {
    pub integration_id: IntegrationId,
    pub trigger: Trigger,
    /// `None` for scheduled runs and continuations.
    pub manual: Option<ManualSync>,
    pub continues_run_id: Option<String>,
    pub deadline: Option<Timestamp>,
}

pub struct WorkflowService<B: WorkflowBinding> {
    pub context: ServiceContext,
    pub binding: B,
    pub runner: RunnerConfig,
}

impl<B: WorkflowBinding> WorkflowService<B> {
    pub fn new(context: ServiceContext, binding: B) -> Self {
        Self {
            context,
            binding,
            runner: RunnerConfig::default(),
        }
    }

    /// The stored settings, unvalidated. No settings: the integration does not exist (no run record).
    pub(crate) async fn stored_settings(
        &self,
        id: &IntegrationId,
    ) -> Result<IntegrationSettings, Problem> {
        self.context
            .store
            .get_settings(id)
            .await?
            .ok_or_else(|| Problem::unknown_integration(id.as_str()))
    }

    /// Runs one order to its run record (used by the handlers, the API function and the tests).
    ///
    /// Before a run starts only the settings' existence is checked (an unknown integration gets no run
    /// record). From then on every failure — invalid settings, credentials, clients, the workflow's
    /// reading — closes the run as `failed` with a reason naming the side and the cause, and is answered
    /// as the matching problem.
    pub async fn run(&self, order: RunOrder) -> Result<RunRecord, Problem> {
        self.run_order(order, None).await
    }

    /// One targeted run of this workflow for a batch of hints of one integration (docs/sync-engine.md,
    /// "Targeted runs"): the engine on the persons and days the hints resolve to, with the same lease,
    /// run record (trigger `webhook`, the hints' event ids and the resolved scope), mappings and
    /// failure handling as every run; it does not move the scheduled watermark. Hints of a family this
    /// workflow does not sync are reported as ignored. Another live run of the workflow →
    /// `already_running` (409): the caller should let the batch be redelivered. A run whose status is
    /// `failed` or `continued` did not finish its hints: redeliver them too (hints converge).
    pub async fn run_hints(
        &self,
        integration_id: IntegrationId,
        hints: Vec<ChangeHint>,
        deadline: Option<Timestamp>,
    ) -> Result<RunRecord, Problem> {
        self.run_order(
            RunOrder {
                integration_id,
                trigger: Trigger::Webhook,
                manual: None,
                continues_run_id: None,
                deadline,
            },
            Some(hints),
        )
        .await
    }

    async fn run_order(
        &self,
        order: RunOrder,
        hints: Option<Vec<ChangeHint>>,
    ) -> Result<RunRecord, Problem> {
        let workflow = self.binding.workflow();
        let settings = self.stored_settings(&order.integration_id).await?;
        let (direction, dry_run, window, selection) = match &order.manual {
            Some(m) => (m.direction, m.dry_run, m.window, m.selection.clone()),
            None => (
                self.binding.scheduled_direction(&settings),
                false,
                None,
                ExplicitSelection::default(),
            ),
        };
        let gate = RunGate {
            store: self.context.store.as_ref(),
            settings: &settings,
            clock: self.context.clock.as_ref(),
            scheduler: self.context.scheduler.as_ref(),
            config: self.runner,
        };
        let request = RunRequest {
            integration_id: order.integration_id.clone(),
            workflow,
            trigger: order.trigger,
            window,
            direction,
            dry_run,
            continues_run_id: order.continues_run_id.clone(),
            deadline: order.deadline,
        };
        let started = match hints {
            Some(hints) => gate.start_hints(request, hints).await,
            None => gate.start(request).await,
        }?;
        let span = tracing::info_span!(
            "run",
            run_id = %started.run_id(),
            integration_id = %order.integration_id,
            workflow = %workflow,
        );
        async {
            let bound = match self.prepare(&order, &settings, &selection).await {
                Ok(bound) => bound,
                Err(e) => {
                    let run_id = started.run_id().to_string();
                    warn!(error = %e, "run failed before syncing");
                    gate.fail(started, e.to_string()).await?;
                    return Err(e.problem(&run_id));
                }
            };
            let runner = SyncRunner {
                kind: &bound.kind,
                store: self.context.store.as_ref(),
                personio: bound.personio.as_ref(),
                timetrack: bound.timetrack.as_ref(),
                settings: &settings,
                clock: self.context.clock.as_ref(),
                scheduler: self.context.scheduler.as_ref(),
                config: self.runner,
            };
            let run = runner.run_started(started).await?;
            info!(status = ?run.status, "run finished");
            Ok(run)
        }
        .instrument(span)
        .await
    }

    /// The run's preparation: settings, the pure binding, credentials, clients, the workflow's reading.
    async fn prepare(
        &self,
        order: &RunOrder,
        settings: &IntegrationSettings,
        selection: &ExplicitSelection,
    ) -> Result<BoundWorkflow<B::Kind>, SetupError> {
        let id = &order.integration_id;
        if let Err(problems) = settings.validate() {
            let errors: Vec<FieldProblem> = problems.into_iter().map(FieldProblem::from).collect();
            return Err(SetupError::invalid_settings(
                format!(
                    "the stored settings of {id} have {} problem(s) ({}); fix them with PUT /integrations/{id}/settings",
                    errors.len(),
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                errors,
            ));
        }
        let context = self.binding.bind(BindInput {
            integration_id: id,
            settings,
            selection,
            trigger: order.trigger,
        })?;
        let credentials = self
            .context
            .credentials
            .credentials(id)
            .await
            .map_err(SetupError::from_credentials)?;
        let personio =
            self.context
                .clients
                .personio(&credentials)
                .map_err(|e| SetupError::NotConnected {
                    detail: format!("Personio client: {e}"),
                })?;
        let timetrack =
            self.context
                .clients
                .timetrack(&credentials)
                .map_err(|e| SetupError::NotConnected {
                    detail: format!("TimeTrack client: {e}"),
                })?;
        self.binding
            .prepare(
                context,
                RunIo {
                    integration_id: id,
                    settings,
                    personio: Arc::new(personio),
                    timetrack: Arc::new(timetrack),
                    store: self.context.store.clone(),
                },
            )
            .await
    }
}

/// The integration's local date at `now`.
pub fn today_in(
    settings: &IntegrationSettings,
    now: Timestamp,
) -> Result<jiff::civil::Date, Problem> {
    let tz = settings
        .time_zone
        .zone()
        .map_err(|e| Problem::invalid_settings(e.to_string(), Vec::new()))?;
    Ok(tz.to_datetime(now).date())
}
