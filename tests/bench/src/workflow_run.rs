//! What the company-scale benches of the employees and absences workflows share (issue 16): both
//! simulators started in one of [`scale`](crate::scale)'s two modes (the same paced configuration as
//! the time entries: 20 ms per request, Personio's limits on and advertised), the real binding served by
//! the real `WorkflowService` — with the clients' defaults (paced) or without any client-side limit
//! (unpaced) — and one measured scheduled run turned into a [`RunResult`] row.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;
use shared::connectors::personio::{PersonioClient, PersonioClientConfig};
use shared::connectors::timetrack::{TimeTrackClient, TimeTrackClientConfig};
use shared::credentials::{Credentials, StaticCredentials};
use shared::domain::{Direction, IntegrationId, Workflow};
use shared::engine::{ManualClock, RecordingScheduler};
use shared::runs::RunRecord;
use shared::service::context::ClientFactory;
use shared::service::{
    BindInput, BoundWorkflow, RunIo, ServiceContext, SetupError, WorkflowBinding, WorkflowService,
};
use shared::settings::IntegrationSettings;
use shared::store::StateStore;
use simulators::{PersonioConfig, PersonioSim, RateLimit, Seed, TimeTrackConfig, TimeTrackSim};

use crate::memory::{peak_rss_kib, reset_peak_rss, HeapUse};
use crate::scale::{
    cpu_time, tally, Kind, Minimum, Mode, RunResult, PACED_LATENCY, PERSONIO_ATTENDANCE_BURST,
    PERSONIO_ATTENDANCE_RATE,
};
use crate::timing::Stopwatch;
use crate::ALLOCATOR;

/// The integration every bench run belongs to.
pub(crate) const INTEGRATION: &str = "bench";

/// A workflow binding whose clients are built from explicit configurations instead of the service's
/// [`ClientFactory`] (which has no rate-limit knob): the same workflow without client-side limits.
/// Everything else is the real binding.
pub(crate) struct Unlimited<B> {
    binding: B,
    personio: PersonioClientConfig,
    timetrack: TimeTrackClientConfig,
}

impl<B> Unlimited<B> {
    pub(crate) fn new(
        binding: B,
        personio: PersonioClientConfig,
        timetrack: TimeTrackClientConfig,
    ) -> Self {
        Self {
            binding,
            personio,
            timetrack,
        }
    }
}

#[async_trait]
impl<B: WorkflowBinding> WorkflowBinding for Unlimited<B> {
    type Kind = B::Kind;
    type Context = B::Context;

    fn workflow(&self) -> Workflow {
        self.binding.workflow()
    }

    fn scheduled_direction(&self, settings: &IntegrationSettings) -> Direction {
        self.binding.scheduled_direction(settings)
    }

    fn bind(&self, input: BindInput<'_>) -> Result<Self::Context, SetupError> {
        self.binding.bind(input)
    }

    async fn prepare(
        &self,
        context: Self::Context,
        io: RunIo<'_>,
    ) -> Result<BoundWorkflow<Self::Kind>, SetupError> {
        let personio =
            PersonioClient::new(self.personio.clone()).map_err(|e| SetupError::NotConnected {
                detail: format!("Personio client: {e}"),
            })?;
        let timetrack =
            TimeTrackClient::new(self.timetrack.clone()).map_err(|e| SetupError::NotConnected {
                detail: format!("TimeTrack client: {e}"),
            })?;
        self.binding
            .prepare(
                context,
                RunIo {
                    personio: Arc::new(personio),
                    timetrack: Arc::new(timetrack),
                    ..io
                },
            )
            .await
    }
}

/// The real binding with the clients' defaults (paced), or the same binding without client-side limits.
pub(crate) enum BenchService<B: WorkflowBinding> {
    Default(WorkflowService<B>),
    Unlimited(Box<WorkflowService<Unlimited<B>>>),
}

impl<B: WorkflowBinding> BenchService<B> {
    pub(crate) async fn handle(&self, event: Value) -> Result<Value, String> {
        match self {
            BenchService::Default(s) => s.handle(event, None).await.map_err(|e| e.to_string()),
            BenchService::Unlimited(s) => s.handle(event, None).await.map_err(|e| e.to_string()),
        }
    }
}

/// Both simulators of one bench, in one mode.
pub(crate) struct Systems {
    pub mode: Mode,
    pub personio: PersonioSim,
    pub timetrack: TimeTrackSim,
    /// Declared after the simulators: they are dropped first, then their runtime.
    _simulators: crate::scale::SimulatorRuntime,
    pconf: PersonioConfig,
    tconf: TimeTrackConfig,
    now: Timestamp,
}

impl Systems {
    /// Starts both simulators on `seed`; paced: 20 ms per request on both, Personio's limits on and
    /// advertised (10 req/s burst 10 by default, its observed per-endpoint limits: persons 30 req/s,
    /// absence periods 10 req/s) — the configuration of [`crate::scale`]'s paced mode.
    pub(crate) async fn start(seed: &Seed, mode: Mode) -> anyhow::Result<Self> {
        let mut pconf = PersonioConfig::default();
        let mut tconf = TimeTrackConfig::default();
        if mode == Mode::Paced {
            pconf.latency = Some(PACED_LATENCY);
            pconf.rate_limit = Some(RateLimit {
                replenish_per_sec: PERSONIO_ATTENDANCE_RATE as u32,
                burst: PERSONIO_ATTENDANCE_BURST as u32,
            });
            pconf.endpoint_rate_limits = RateLimit::observed_per_endpoint();
            tconf.latency = Some(PACED_LATENCY);
        }
        let simulators = crate::scale::SimulatorRuntime::new()?;
        let (personio, timetrack) = simulators
            .start(pconf.clone(), tconf.clone(), seed.clone())
            .await?;
        Ok(Self {
            mode,
            personio,
            timetrack,
            _simulators: simulators,
            pconf,
            tconf,
            now: crate::e2e::NOW.parse()?,
        })
    }

    /// The service of `binding` over `store`: the clients' defaults when paced, no client-side limit
    /// when unpaced.
    pub(crate) fn service<B: WorkflowBinding>(
        &self,
        store: Arc<dyn StateStore>,
        binding: B,
    ) -> anyhow::Result<BenchService<B>> {
        let personio_secret = SecretString::from(self.pconf.client_secret.clone());
        let key = SecretString::from(self.tconf.api_key.clone());
        let secret = SecretString::from(self.tconf.api_secret.clone());
        let credentials = StaticCredentials::new().with(
            IntegrationId::new(INTEGRATION)?,
            Credentials {
                personio_client_id: self.pconf.client_id.clone(),
                personio_client_secret: personio_secret.clone(),
                timetrack_account: self.tconf.account.clone(),
                timetrack_api_key: key.clone(),
                timetrack_api_secret: secret.clone(),
            },
        );
        let timeout = Duration::from_secs(60);
        let context = ServiceContext {
            store,
            credentials: Arc::new(credentials),
            scheduler: Arc::new(RecordingScheduler::default()),
            clock: Arc::new(ManualClock::new(self.now)),
            clients: ClientFactory {
                personio_base_url: self.personio.base_url(),
                timetrack_base_url_template: self.timetrack.base_url_template(),
                timeout,
            },
        };
        Ok(match self.mode {
            Mode::Paced => BenchService::Default(WorkflowService::new(context, binding)),
            Mode::Unpaced => {
                let mut pc =
                    PersonioClientConfig::new(self.pconf.client_id.clone(), personio_secret);
                pc.base_url = self.personio.base_url();
                pc.timeout = timeout;
                pc.rate_limit = None;
                let mut tc = TimeTrackClientConfig::new(self.tconf.account.clone(), key, secret);
                tc.base_url_template = self.timetrack.base_url_template();
                tc.timeout = timeout;
                tc.rate_limit = None;
                BenchService::Unlimited(Box::new(WorkflowService::new(
                    context,
                    Unlimited::new(binding, pc, tc),
                )))
            }
        })
    }

    /// One scheduled run (`event`: a scheduled-event fixture), measured: requests per endpoint, writes
    /// from the run record, wall, CPU, heap and RSS.
    pub(crate) async fn run<B: WorkflowBinding>(
        &self,
        service: &BenchService<B>,
        event: &str,
    ) -> anyhow::Result<Measured> {
        let event: Value = serde_json::from_str(&event.replace("INTEGRATION_ID", INTEGRATION))?;
        self.personio.clear_requests();
        self.timetrack.clear_requests();
        let timed = timed_run(service.handle(event)).await?;
        let (record, heap) = (&timed.record, timed.heap);
        Ok(Measured {
            wall: timed.wall,
            cpu: timed.cpu,
            heap_peak_bytes: heap.peak_bytes as u64,
            own_heap_peak_bytes: heap.own_peak_bytes as u64,
            own_heap_retained_bytes: heap.own_retained_bytes as u64,
            peak_rss_kib: timed.peak_rss_kib,
            status: format!("{:?}", record.status),
            failures: record.failures.len(),
            failure_sample: record.failures.first().map(|f| format!("{f:?}")),
            writes: api_writes(record),
            personio_requests: tally(&self.personio.requests()),
            timetrack_requests: tally(&self.timetrack.requests()),
        })
    }
}

/// One scheduled run with what it cost: its run record, wall and CPU time (whole process), heap
/// ([`crate::memory`]) and peak RSS. Every company bench measures its runs through this.
pub(crate) struct TimedRun {
    pub record: RunRecord,
    pub wall: Duration,
    pub cpu: Duration,
    pub heap: HeapUse,
    pub peak_rss_kib: Option<u64>,
}

/// Runs `run` (a service's `handle` of a scheduled event) and measures it ([`TimedRun`]).
pub(crate) async fn timed_run(
    run: impl std::future::Future<Output = Result<Value, String>>,
) -> anyhow::Result<TimedRun> {
    reset_peak_rss();
    let probe = ALLOCATOR.start();
    let cpu_before = cpu_time();
    let watch = Stopwatch::start();
    let out = run
        .await
        .map_err(|e| anyhow::anyhow!("the scheduled run failed: {e}"))?;
    let wall = watch.elapsed();
    let cpu = match (cpu_before, cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    let heap = probe.finish();
    let peak_rss_kib = peak_rss_kib();
    Ok(TimedRun {
        record: serde_json::from_value(out)?,
        wall,
        cpu,
        heap,
        peak_rss_kib,
    })
}

/// The API writes of a run by side and action, from its run record: the store's own bookkeeping
/// (`mappings adopt`), unchanged records and skips are not requests.
pub(crate) fn api_writes(record: &RunRecord) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut writes = BTreeMap::new();
    for (side, actions) in &record.counts {
        if !matches!(side.as_str(), "personio" | "timetrack") {
            continue;
        }
        for (action, n) in actions {
            if !matches!(action.as_str(), "unchanged" | "skip") {
                writes
                    .entry(side.to_string())
                    .or_insert_with(BTreeMap::new)
                    .insert(action.to_string(), n);
            }
        }
    }
    writes
}

/// One measured run, before it is put into a row.
pub(crate) struct Measured {
    pub wall: Duration,
    pub cpu: Duration,
    pub heap_peak_bytes: u64,
    /// The function's threads only (the simulators run on their own, see `SimulatorRuntime`).
    pub own_heap_peak_bytes: u64,
    pub own_heap_retained_bytes: u64,
    pub peak_rss_kib: Option<u64>,
    pub status: String,
    pub failures: usize,
    /// The first failure of the run record (printed to stderr when a run had any).
    pub failure_sample: Option<String>,
    pub writes: BTreeMap<String, BTreeMap<String, u64>>,
    pub personio_requests: BTreeMap<String, u64>,
    pub timetrack_requests: BTreeMap<String, u64>,
}

/// What a row says besides the measurement.
pub(crate) struct Row {
    pub people: usize,
    pub mode: Mode,
    pub kind: Kind,
    pub label: &'static str,
    /// Records in each system when the run started.
    pub personio_records: usize,
    pub timetrack_records: usize,
    pub minimum: Minimum,
    /// The minimum at the advertised rates (each workflow knows its endpoints' rates).
    pub bound: Duration,
}

impl Measured {
    pub(crate) fn into_result(self, row: Row) -> RunResult {
        if let Some(sample) = &self.failure_sample {
            eprintln!(
                "bench: {} × {}: {} failures, e.g. {sample}",
                row.people, row.label, self.failures
            );
        }
        let requests: u64 = self
            .personio_requests
            .values()
            .chain(self.timetrack_requests.values())
            .sum();
        RunResult {
            people: row.people,
            mode: row.mode,
            kind: row.kind,
            label: row.label,
            personio_entries: row.personio_records,
            timetrack_entries: row.timetrack_records,
            personio_requests: self.personio_requests,
            timetrack_requests: self.timetrack_requests,
            requests,
            minimum: row.minimum,
            minimum_total: row.minimum.total(),
            ratio: requests as f64 / row.minimum.total().max(1) as f64,
            writes: self.writes,
            status: self.status,
            failures: self.failures,
            wall_ms: self.wall.as_secs_f64() * 1e3,
            rate_limit_bound_ms: row.bound.as_secs_f64() * 1e3,
            wall_over_bound: (row.mode == Mode::Paced && !row.bound.is_zero())
                .then(|| self.wall.as_secs_f64() / row.bound.as_secs_f64()),
            cpu_ms: self.cpu.as_secs_f64() * 1e3,
            heap_peak_bytes: self.heap_peak_bytes,
            own_heap_peak_bytes: Some(self.own_heap_peak_bytes),
            own_heap_retained_bytes: Some(self.own_heap_retained_bytes),
            peak_rss_kib: self.peak_rss_kib,
            slice_records: None,
        }
    }
}

/// Whether a paced bench of `people` also measures the kinds that write (first syncs that create, 1 %
/// changed or deleted): at 100 people (minutes at the real limits), larger companies only with
/// `BENCH_PACED_WRITES=1`; unpaced always.
pub(crate) fn measures_writes(mode: Mode, people: usize) -> bool {
    mode == Mode::Unpaced || people <= 100 || crate::scale::paced_writes()
}
