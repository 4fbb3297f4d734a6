//! Requests, time and memory of the scheduled time-entries sync at company scale (issue 16): companies of
//! 100, 1,000 and 5,000 people with a month of attendances (a WORK and a BREAK period each in Personio),
//! through the real handler, the real clients and both in-process simulators, run after run on the same
//! two systems:
//!
//! 1. **payroll push of a month**: TimeTrack has the month, Personio nothing (mode push);
//! 2. **first sync, agreeing systems**: a fresh state store (no entry mappings), both sides hold the same
//!    entries (mode bidirectional, master TimeTrack from here on);
//! 3. **steady state**: the same again;
//! 4. **1 % changed on each side**: 1 % of the entries end 15 min later in TimeTrack, another 1 % in
//!    Personio;
//! 5. **1 % deleted on each side**: 1 % deleted in TimeTrack, another 1 % in Personio;
//! 6. **first sync, different data**: a fresh store; Personio keeps only the even working days,
//!    TimeTrack only the odd ones.
//!
//! For each run the **minimum** requests are computed from the two systems' contents at the start of
//! the run and from the changes the benchmark made — never from what the code under test did: every
//! list at its maximum page size (Personio attendance periods 100, TimeTrack 1,000 — TimeTrack's paging
//! ends on a short page, so ⌊n/1000⌋ + 1), one token, one write per needed change (a Personio entry is two
//! periods: two POSTs or two DELETEs; a changed end time two PATCHes, the WORK end and the BREAK that
//! sits in the middle of the entry; TimeTrack one request per entry),
//! and one confirmation GET per mapped record missing from its listing. The TimeTrack user list (one page)
//! is part of the minimum: TimeTrack attendances name their user by username only.
//!
//! The **rate-limit bound** is that minimum sent at the advertised rates, one phase after another as the
//! runner does: Personio's attendance-period endpoint at 10 req/s (burst 10; not published — the same
//! as the 10 req/s observed on absence periods), TimeTrack at the client's ceiling of 10 req/s (burst
//! 10; TimeTrack documents none). Two modes:
//! - **unpaced**: no latency, no server limits, no client ceiling: requests, CPU and memory at full
//!   size; the bound is computed, not waited for;
//! - **paced**: 20 ms per request, Personio's limits on (advertised in `x-ratelimit-*`), the clients'
//!   defaults: the wall time is compared with the bound (sizes where that takes minutes, not hours).
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use secrecy::SecretString;
use serde::Serialize;
use shared::connectors::personio::PersonioClientConfig;
use shared::connectors::timetrack::TimeTrackClientConfig;
use shared::credentials::{Credentials, StaticCredentials};
use shared::domain::{EntityKind, IntegrationId, System};
use shared::engine::{ManualClock, RecordingScheduler};
use shared::service::context::ClientFactory;
use shared::service::{ServiceContext, WorkflowService};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting};
use shared::store::{Mapping, StateStore};
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model as p;
use simulators::{
    PersonioConfig, PersonioSim, RateLimit, RequestLogEntry, TimeTrackConfig, TimeTrackSim,
};

use crate::e2e;
use crate::workflow_run::{api_writes, timed_run, BenchService, Unlimited};

/// Working days of attendances per person (the 20 weekdays before the run, inside the 30-day window).
pub(crate) const DAYS: usize = 20;
/// Personio's attendance-period page size (its maximum).
const PERSONIO_PAGE: usize = 100;
/// TimeTrack's maximum page size.
pub(crate) const TIMETRACK_PAGE: usize = 1000;
/// The rates the bound is computed with (see the module doc).
pub(crate) const PERSONIO_ATTENDANCE_RATE: f64 = 10.0;
pub(crate) const PERSONIO_ATTENDANCE_BURST: f64 = 10.0;
pub(crate) const TIMETRACK_RATE: f64 = 10.0;
pub(crate) const TIMETRACK_BURST: f64 = 10.0;
/// Companies up to this size use `DynamoStore` on moto when `AWS_ENDPOINT_URL` is set
/// (`BENCH_MOTO_MAX_PEOPLE`, default 100); larger ones `MemoryStore` — moto answers a few hundred
/// writes a second, and a 5,000-person push writes 100,000 mappings.
pub(crate) fn moto_max_people() -> usize {
    std::env::var("BENCH_MOTO_MAX_PEOPLE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(100)
}

/// Which store a company of `people` uses, for the report.
pub(crate) fn store_label(people: usize) -> &'static str {
    if people <= moto_max_people() && e2e::moto_endpoint().is_some() {
        "DynamoStore (moto)"
    } else {
        "MemoryStore"
    }
}

/// Whether the paced mode also measures the write-heavy kinds (payroll push, first sync of different
/// data): `BENCH_PACED_WRITES=1`. Off by default: at the real limits they take 5–7 min at 100 people
/// and hours at 1,000.
pub(crate) fn paced_writes() -> bool {
    std::env::var("BENCH_PACED_WRITES").is_ok_and(|v| v.trim() == "1")
}

/// Records a time slice of the runner may hold (`BENCH_SLICE_RECORDS`; default the runner's,
/// `DEFAULT_SLICE_RECORDS`; `0`: unsliced), to measure memory and requests
/// against the slice size (ADR 0029).
pub(crate) fn slice_records() -> usize {
    std::env::var("BENCH_SLICE_RECORDS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(shared::engine::RunnerConfig::default().slice_records)
}

/// Per-request latency of the paced mode.
pub(crate) const PACED_LATENCY: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Unpaced,
    Paced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    PayrollPush,
    FirstSyncAgreeing,
    SteadyState,
    OnePercentChanged,
    OnePercentDeleted,
    FirstSyncDifferent,
    /// The absences workflow ([`crate::absence_scale`]).
    AbsencesFirstSync,
    AbsencesSteady,
    AbsencesAgreeing,
}

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::PayrollPush => "payroll push of a month",
            Kind::FirstSyncAgreeing => "first sync, agreeing",
            Kind::SteadyState => "steady state",
            Kind::OnePercentChanged => "1 % changed each side",
            Kind::OnePercentDeleted => "1 % deleted each side",
            Kind::FirstSyncDifferent => "first sync, different data",
            Kind::AbsencesFirstSync => "absences: first sync, Personio only",
            Kind::AbsencesSteady => "absences: steady state",
            Kind::AbsencesAgreeing => "absences: first sync, agreeing",
        }
    }
}

/// The fewest requests that answer a run's question, by what they are for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Minimum {
    pub personio_pages: u64,
    pub personio_token: u64,
    pub personio_writes: u64,
    pub personio_confirmations: u64,
    pub timetrack_pages: u64,
    pub timetrack_writes: u64,
    pub timetrack_confirmations: u64,
}

impl Minimum {
    pub(crate) fn personio(&self) -> u64 {
        self.personio_pages
            + self.personio_token
            + self.personio_writes
            + self.personio_confirmations
    }
    pub(crate) fn timetrack(&self) -> u64 {
        self.timetrack_pages + self.timetrack_writes + self.timetrack_confirmations
    }
    pub(crate) fn total(&self) -> u64 {
        self.personio() + self.timetrack()
    }

    /// Seconds the minimum takes at the advertised rates (burst first, then the replenish rate), the
    /// Personio phase and the TimeTrack phase one after the other. The token has its own bucket.
    pub(crate) fn rate_limit_bound(&self) -> Duration {
        let phase = |n: u64, rate: f64, burst: f64| ((n as f64 - burst).max(0.0)) / rate;
        let personio = phase(
            self.personio() - self.personio_token,
            PERSONIO_ATTENDANCE_RATE,
            PERSONIO_ATTENDANCE_BURST,
        );
        let timetrack = phase(self.timetrack(), TIMETRACK_RATE, TIMETRACK_BURST);
        Duration::from_secs_f64(personio + timetrack)
    }
}

/// One measured run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunResult {
    pub people: usize,
    pub mode: Mode,
    pub kind: Kind,
    pub label: &'static str,
    /// Entries in each system when the run started.
    pub personio_entries: usize,
    pub timetrack_entries: usize,
    /// Requests by `METHOD /path` (ids as `{id}`), per system.
    pub personio_requests: BTreeMap<String, u64>,
    pub timetrack_requests: BTreeMap<String, u64>,
    pub requests: u64,
    pub minimum: Minimum,
    pub minimum_total: u64,
    pub ratio: f64,
    /// API writes by side (`personio`, `timetrack`) and action from the run record.
    pub writes: BTreeMap<String, BTreeMap<String, u64>>,
    pub status: String,
    pub failures: usize,
    pub wall_ms: f64,
    pub rate_limit_bound_ms: f64,
    /// Wall time over the bound; only meaningful in the paced mode.
    pub wall_over_bound: Option<f64>,
    /// CPU of the whole process (function and both simulators), user + system.
    pub cpu_ms: f64,
    /// Highest live heap during the run above its start (counting allocator; simulators included).
    pub heap_peak_bytes: u64,
    /// The same for the function's threads only: the simulators run on threads of their own
    /// ([`SimulatorRuntime`]), so this is what the function held at its peak — with the in-memory
    /// store's mappings, which on Lambda live in DynamoDB (`own_heap_retained_bytes` is what the run
    /// left in it). `None` where the simulators shared the function's threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_heap_peak_bytes: Option<u64>,
    /// What the function's threads still held after the run above its start (see above).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_heap_retained_bytes: Option<u64>,
    /// Peak RSS of the process during the run (simulators, their state and logs included).
    pub peak_rss_kib: Option<u64>,
    /// The runner's `slice_records` (time entries; `0` unsliced), `None` where not sliced (absences).
    pub slice_records: Option<usize>,
}

/// CPU time of this process so far (user + system), from `/proc/self/stat` (clock ticks of 10 ms).
pub(crate) fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain blanks).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// `METHOD /path` with every segment that holds a digit written `{id}`.
pub(crate) fn endpoint(entry: &RequestLogEntry) -> String {
    let path: Vec<String> = entry
        .api_path
        .split('/')
        .map(|s| {
            if s.chars().any(|c| c.is_ascii_digit()) && !is_version(s) {
                "{id}".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("{} {}", entry.method, path.join("/"))
}

fn is_version(segment: &str) -> bool {
    segment.len() > 1
        && segment.starts_with('v')
        && segment[1..].chars().all(|c| c.is_ascii_digit())
}

pub(crate) fn tally(log: &[RequestLogEntry]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for entry in log {
        *out.entry(endpoint(entry)).or_insert(0) += 1;
    }
    out
}

/// Pages a cursor-paged listing of `rows` needs (at least one).
pub(crate) fn cursor_pages(rows: usize, page: usize) -> u64 {
    rows.div_ceil(page).max(1) as u64
}

/// Pages a listing that ends on a short page needs: a full last page must be followed by an empty one.
pub(crate) fn short_page_pages(rows: usize, page: usize) -> u64 {
    (rows / page + 1) as u64
}

/// The (person, local day) of each entry in each system.
type EntryKey = (String, jiff::civil::Date);

struct Contents {
    /// Personio WORK periods by their entry, and the number of periods (WORK + BREAK) in all.
    personio: BTreeSet<EntryKey>,
    personio_periods: usize,
    timetrack: BTreeSet<EntryKey>,
    /// TimeTrack users.
    users: usize,
}

/// The simulators' own tokio runtime, on threads marked foreign ([`crate::memory::mark_thread_foreign`])
/// so that a run's heap can be told apart from theirs: they stand for two remote services, whose
/// records and request work a Lambda would not hold. Shut down without blocking when dropped (it is
/// dropped inside the benchmark's runtime).
pub(crate) struct SimulatorRuntime(Option<tokio::runtime::Runtime>);

impl SimulatorRuntime {
    pub(crate) fn new() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("simulators")
            .on_thread_start(crate::memory::mark_thread_foreign)
            .enable_all()
            .build()?;
        Ok(Self(Some(runtime)))
    }

    /// Starts both simulators with `seed` on this runtime.
    pub(crate) async fn start(
        &self,
        pconf: PersonioConfig,
        tconf: TimeTrackConfig,
        seed: simulators::Seed,
    ) -> anyhow::Result<(PersonioSim, TimeTrackSim)> {
        let runtime = self
            .0
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the simulators' runtime is shut down"))?;
        runtime
            .spawn(async move {
                let personio = PersonioSim::start(pconf, &seed).await?;
                let timetrack = TimeTrackSim::start(tconf, &seed).await?;
                anyhow::Ok((personio, timetrack))
            })
            .await?
    }
}

impl Drop for SimulatorRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

struct Bench {
    people: usize,
    mode: Mode,
    personio: PersonioSim,
    timetrack: TimeTrackSim,
    /// Declared after the simulators: they are dropped first, then their runtime.
    _simulators: SimulatorRuntime,
    /// usernames → person ids.
    persons_of: HashMap<String, String>,
    zone: TimeZone,
    now: Timestamp,
    pconf: PersonioConfig,
    tconf: TimeTrackConfig,
}

impl Bench {
    async fn start(people: usize, mode: Mode) -> anyhow::Result<Bench> {
        let seed = e2e::company(people, DAYS)?;
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
        let simulators = SimulatorRuntime::new()?;
        let (personio, timetrack) = simulators.start(pconf.clone(), tconf.clone(), seed).await?;
        let persons_of = (0..people)
            .map(|k| (e2e::username(k), e2e::person_id(k)))
            .collect();
        Ok(Bench {
            people,
            mode,
            personio,
            timetrack,
            _simulators: simulators,
            persons_of,
            zone: TimeZone::get(e2e::ZONE)?,
            now: e2e::NOW.parse()?,
            pconf,
            tconf,
        })
    }

    fn contents(&self) -> Contents {
        let personio_state = self.personio.state();
        let personio = personio_state
            .attendance_periods
            .values()
            .filter(|a| a.kind == p::AttendanceType::Work)
            .map(|a| (a.person.id.clone(), a.attribution_date))
            .collect();
        let personio_periods = personio_state.attendance_periods.len();
        drop(personio_state);
        let users = self.timetrack.state().users.len();
        let timetrack = self
            .timetrack
            .state()
            .live_attendances()
            .filter_map(|a| {
                let person = self.persons_of.get(&a.user)?.clone();
                Some((person, a.from.to_zoned(self.zone.clone()).date()))
            })
            .collect();
        Contents {
            personio,
            personio_periods,
            timetrack,
            users,
        }
    }

    /// A store with the employee mappings only and the settings for `mode`.
    async fn store(&self, push: bool) -> anyhow::Result<Arc<dyn StateStore>> {
        let store = e2e::store_for(self.people <= moto_max_people()).await?;
        let id = IntegrationId::new("bench")?;
        let mut settings = IntegrationSettings::example();
        settings.time_zone = e2e::ZONE.into();
        settings.timetrack_timestamp_mode = TimestampMode::Utc;
        settings.time_entries.mode = if push {
            TimeEntryMode::Push
        } else {
            TimeEntryMode::Bidirectional
        };
        settings.time_entries.master = System::TimeTrack;
        settings.personio.attendance_skip_approval = false;
        settings.windows.time_entries = WindowSetting {
            lookback_days: 30,
            lookahead_days: 0,
        };
        store.put_settings(&id, &settings).await?;
        for k in 0..self.people {
            store
                .put_mapping(&Mapping {
                    integration_id: id.clone(),
                    kind: EntityKind::Employee,
                    mapping_id: format!("employee-{}", e2e::person_id(k)),
                    personio_id: Some(e2e::person_id(k)),
                    timetrack_id: Some(e2e::user_id(k).to_string()),
                    fingerprint: None,
                    anchor_date: None,
                    intent: None,
                    failures: 0,
                    last_error: None,
                    parked: None,
                    updated_at: self.now,
                    version: 1,
                })
                .await?;
        }
        Ok(store)
    }

    /// Switches the stored settings between push and bidirectional.
    async fn set_push(&self, store: &Arc<dyn StateStore>, push: bool) -> anyhow::Result<()> {
        let id = IntegrationId::new("bench")?;
        let mut settings = store
            .get_settings(&id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no settings"))?;
        settings.time_entries.mode = if push {
            TimeEntryMode::Push
        } else {
            TimeEntryMode::Bidirectional
        };
        store.put_settings(&id, &settings).await?;
        Ok(())
    }

    /// The service over `store`: the clients' defaults (paced) or no client-side limit (unpaced).
    fn service(&self, store: Arc<dyn StateStore>) -> anyhow::Result<Service> {
        let personio_secret = SecretString::from(self.pconf.client_secret.clone());
        let key = SecretString::from(self.tconf.api_key.clone());
        let secret = SecretString::from(self.tconf.api_secret.clone());
        let id = IntegrationId::new("bench")?;
        let credentials = StaticCredentials::new().with(
            id,
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
            Mode::Paced => {
                let mut service = WorkflowService::new(context, TimeEntriesBinding);
                service.runner.slice_records = slice_records();
                BenchService::Default(service)
            }
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
                let mut service =
                    WorkflowService::new(context, Unlimited::new(TimeEntriesBinding, pc, tc));
                service.runner.slice_records = slice_records();
                BenchService::Unlimited(Box::new(service))
            }
        })
    }

    async fn run(
        &self,
        service: &Service,
        kind: Kind,
        minimum: Minimum,
        before: &Contents,
    ) -> anyhow::Result<RunResult> {
        let event = serde_json::from_str(&e2e::SCHEDULED_EVENT.replace("INTEGRATION_ID", "bench"))?;
        self.personio.clear_requests();
        self.timetrack.clear_requests();
        let timed = timed_run(service.handle(event)).await?;
        let (record, heap, wall, cpu) = (&timed.record, timed.heap, timed.wall, timed.cpu);
        let personio_requests = tally(&self.personio.requests());
        let timetrack_requests = tally(&self.timetrack.requests());
        let requests: u64 = personio_requests
            .values()
            .chain(timetrack_requests.values())
            .sum();
        let bound = minimum.rate_limit_bound();
        Ok(RunResult {
            people: self.people,
            mode: self.mode,
            kind,
            label: kind.label(),
            personio_entries: before.personio.len(),
            timetrack_entries: before.timetrack.len(),
            personio_requests,
            timetrack_requests,
            requests,
            minimum,
            minimum_total: minimum.total(),
            ratio: requests as f64 / minimum.total().max(1) as f64,
            writes: api_writes(record),
            status: format!("{:?}", record.status),
            failures: record.failures.len(),
            wall_ms: wall.as_secs_f64() * 1e3,
            rate_limit_bound_ms: bound.as_secs_f64() * 1e3,
            wall_over_bound: (self.mode == Mode::Paced && !bound.is_zero())
                .then(|| wall.as_secs_f64() / bound.as_secs_f64()),
            cpu_ms: cpu.as_secs_f64() * 1e3,
            heap_peak_bytes: heap.peak_bytes as u64,
            own_heap_peak_bytes: Some(heap.own_peak_bytes as u64),
            own_heap_retained_bytes: Some(heap.own_retained_bytes as u64),
            peak_rss_kib: timed.peak_rss_kib,
            slice_records: Some(slice_records()),
        })
    }

    /// Lists of both systems at their maximum page sizes plus one token.
    fn listing_minimum(c: &Contents) -> Minimum {
        Minimum {
            personio_pages: cursor_pages(c.personio_periods, PERSONIO_PAGE),
            personio_token: 1,
            // The attendances, and the users (to resolve the usernames attendances carry).
            timetrack_pages: short_page_pages(c.timetrack.len(), TIMETRACK_PAGE)
                + short_page_pages(c.users, TIMETRACK_PAGE),
            ..Minimum::default()
        }
    }

    /// Every hundredth entry of each system (offset so that the two sides' picks never coincide).
    fn one_percent(keys: &BTreeSet<EntryKey>, offset: usize) -> Vec<EntryKey> {
        keys.iter()
            .enumerate()
            .filter(|(i, _)| i % 100 == offset)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// 1 % of TimeTrack entries end 15 min later; another 1 % of Personio WORK periods do.
    fn change_one_percent(&self, c: &Contents) -> (usize, usize) {
        let tt_keys = Self::one_percent(&c.timetrack, 10);
        let p_keys: BTreeSet<EntryKey> = Self::one_percent(&c.personio, 60).into_iter().collect();
        let users: HashMap<&String, &String> =
            self.persons_of.iter().map(|(u, p)| (p, u)).collect();
        let mut tt = self.timetrack.state();
        let wanted: BTreeSet<(String, jiff::civil::Date)> = tt_keys
            .iter()
            .filter_map(|(person, day)| Some((users.get(person)?.to_string(), *day)))
            .collect();
        let mut changed_tt = 0;
        for a in tt.attendances.values_mut() {
            let day = a.from.to_zoned(self.zone.clone()).date();
            if !a.deleted && wanted.contains(&(a.user.clone(), day)) {
                if let Ok(to) = a.to.checked_add(15.minutes()) {
                    a.to = to;
                    a.worked_minutes += 15;
                    changed_tt += 1;
                }
            }
        }
        drop(tt);
        let mut changed_p = 0;
        let mut personio = self.personio.state();
        for period in personio.attendance_periods.values_mut() {
            if period.kind == p::AttendanceType::Work
                && p_keys.contains(&(period.person.id.clone(), period.attribution_date))
            {
                if let Some(end) = period.end.as_mut() {
                    if let Ok(later) = end.date_time.checked_add(15.minutes()) {
                        end.date_time = later;
                        changed_p += 1;
                    }
                }
            }
        }
        (changed_tt, changed_p)
    }

    /// Deletes 1 % of TimeTrack entries (soft delete, as TimeTrack does) and another 1 % of Personio
    /// entries (all their periods).
    fn delete_one_percent(&self, c: &Contents) -> (usize, usize) {
        let tt_keys = Self::one_percent(&c.timetrack, 30);
        let p_keys: BTreeSet<EntryKey> = Self::one_percent(&c.personio, 80).into_iter().collect();
        self.delete_entries(&tt_keys.into_iter().collect(), &p_keys)
    }

    /// Deletes the TimeTrack entries `tt` and the Personio entries `personio`; returns how many of each.
    fn delete_entries(
        &self,
        tt_keys: &BTreeSet<EntryKey>,
        p_keys: &BTreeSet<EntryKey>,
    ) -> (usize, usize) {
        let mut deleted_tt = 0;
        let mut tt = self.timetrack.state();
        for a in tt.attendances.values_mut() {
            let Some(person) = self.persons_of.get(&a.user) else {
                continue;
            };
            let day = a.from.to_zoned(self.zone.clone()).date();
            if !a.deleted && tt_keys.contains(&(person.clone(), day)) {
                a.deleted = true;
                deleted_tt += 1;
            }
        }
        drop(tt);
        let mut personio = self.personio.state();
        let before = personio
            .attendance_periods
            .values()
            .filter(|a| a.kind == p::AttendanceType::Work)
            .count();
        personio
            .attendance_periods
            .retain(|_, a| !p_keys.contains(&(a.person.id.clone(), a.attribution_date)));
        let after = personio
            .attendance_periods
            .values()
            .filter(|a| a.kind == p::AttendanceType::Work)
            .count();
        (deleted_tt, before - after)
    }
}

/// The time-entries service of a bench: the real binding, paced or without client-side limits.
type Service = BenchService<TimeEntriesBinding>;

/// Runs the sequence of the module doc for a company of `people` in `mode`; in the paced mode the
/// write-heavy kinds are left out (their bound is hours) unless [`paced_writes`].
pub(crate) async fn measure(people: usize, mode: Mode) -> anyhow::Result<Vec<RunResult>> {
    let bench = Bench::start(people, mode).await?;
    let mut results = Vec::new();
    // The write-heavy kinds are skipped when paced (Personio is filled without measuring instead).
    let skip_writes = mode == Mode::Paced && !paced_writes();

    // 1. Payroll push.
    let push_store = bench.store(true).await?;
    if !skip_writes {
        let c = bench.contents();
        let mut min = Bench::listing_minimum(&c);
        let missing = c.timetrack.difference(&c.personio).count() as u64;
        min.personio_writes = 2 * missing;
        let service = bench.service(push_store.clone())?;
        results.push(bench.run(&service, Kind::PayrollPush, min, &c).await?);
    } else {
        // Paced: fill Personio without measuring (hours at the real limits), through an unpaced twin.
        fill_personio(&bench).await?;
    }
    drop(push_store);

    // 2. First sync of agreeing systems, 3. steady state: a fresh store, bidirectional.
    let store = bench.store(false).await?;
    let service = bench.service(store.clone())?;
    for kind in [Kind::FirstSyncAgreeing, Kind::SteadyState] {
        let c = bench.contents();
        let min = Bench::listing_minimum(&c);
        results.push(bench.run(&service, kind, min, &c).await?);
    }

    // 4. 1 % changed on each side: a Personio entry whose end moved needs its WORK period's end and its
    //    BREAK (placed in the middle of the entry) moved: two PATCHes; a TimeTrack entry one PUT.
    let before = bench.contents();
    let (changed_tt, changed_p) = bench.change_one_percent(&before);
    let c = bench.contents();
    let mut min = Bench::listing_minimum(&c);
    min.personio_writes = 2 * changed_tt as u64;
    min.timetrack_writes = changed_p as u64;
    results.push(
        bench
            .run(&service, Kind::OnePercentChanged, min, &c)
            .await?,
    );

    // 5. 1 % deleted on each side: confirm each, delete its counterpart.
    let before = bench.contents();
    let (deleted_tt, deleted_p) = bench.delete_one_percent(&before);
    let c = bench.contents();
    let mut min = Bench::listing_minimum(&c);
    min.personio_writes = 2 * deleted_tt as u64;
    min.timetrack_writes = deleted_p as u64;
    min.personio_confirmations = deleted_p as u64;
    min.timetrack_confirmations = deleted_tt as u64;
    results.push(
        bench
            .run(&service, Kind::OnePercentDeleted, min, &c)
            .await?,
    );
    drop(service);
    drop(store);

    // 6. First sync of different data: Personio keeps the even working days, TimeTrack the odd ones.
    if !skip_writes {
        let c = bench.contents();
        let days: Vec<jiff::civil::Date> = e2e::working_days(e2e::TODAY, DAYS);
        let odd =
            |day: &jiff::civil::Date| days.iter().position(|d| d == day).unwrap_or(0) % 2 == 1;
        let tt_drop: BTreeSet<EntryKey> = c
            .timetrack
            .iter()
            .filter(|(_, d)| !odd(d))
            .cloned()
            .collect();
        let p_drop: BTreeSet<EntryKey> =
            c.personio.iter().filter(|(_, d)| odd(d)).cloned().collect();
        bench.delete_entries(&tt_drop, &p_drop);
        let c = bench.contents();
        let mut min = Bench::listing_minimum(&c);
        min.personio_writes = 2 * c.timetrack.difference(&c.personio).count() as u64;
        min.timetrack_writes = c.personio.difference(&c.timetrack).count() as u64;
        let store = bench.store(false).await?;
        bench.set_push(&store, false).await?;
        let service = bench.service(store)?;
        results.push(
            bench
                .run(&service, Kind::FirstSyncDifferent, min, &c)
                .await?,
        );
    }
    Ok(results)
}

/// Pushes TimeTrack's month into the paced bench's Personio without the limits: a twin of the bench's
/// service whose clients talk to the same simulators, with the server's limits and latency switched
/// off for the duration.
async fn fill_personio(bench: &Bench) -> anyhow::Result<()> {
    let twin = Bench {
        mode: Mode::Unpaced,
        ..Bench::start(0, Mode::Unpaced).await?
    };
    // Copy the company's TimeTrack month into the twin's simulators, push it there, copy the result back.
    twin.timetrack.state().users = bench.timetrack.state().users.clone();
    twin.timetrack.state().attendances = bench.timetrack.state().attendances.clone();
    twin.personio.state().persons = bench.personio.state().persons.clone();
    let twin = Bench {
        people: bench.people,
        persons_of: bench.persons_of.clone(),
        ..twin
    };
    let store = twin.store(true).await?;
    let service = twin.service(store)?;
    let c = twin.contents();
    let run = twin
        .run(&service, Kind::PayrollPush, Bench::listing_minimum(&c), &c)
        .await?;
    if run.failures > 0 {
        anyhow::bail!("filling Personio failed for {} entries", run.failures);
    }
    let periods = twin.personio.state().attendance_periods.clone();
    bench.personio.state().attendance_periods = periods;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_counts_follow_each_apis_paging() {
        assert_eq!(cursor_pages(0, 100), 1);
        assert_eq!(cursor_pages(100, 100), 1);
        assert_eq!(cursor_pages(101, 100), 2);
        // TimeTrack stops on a short page: a full last page needs an empty one after it.
        assert_eq!(short_page_pages(0, 1000), 1);
        assert_eq!(short_page_pages(999, 1000), 1);
        assert_eq!(short_page_pages(1000, 1000), 2);
    }

    #[test]
    fn the_bound_spends_the_burst_then_the_rate() {
        let min = Minimum {
            personio_pages: 30,
            personio_token: 1,
            personio_writes: 20,
            timetrack_pages: 5,
            timetrack_writes: 25,
            ..Minimum::default()
        };
        assert_eq!(min.total(), 81);
        // Personio: 50 requests, 10 free, 40 at 10/s = 4 s; TimeTrack: 30, 10 free, 20 at 10/s = 2 s.
        assert_eq!(min.rate_limit_bound(), Duration::from_secs(6));
    }

    #[test]
    fn endpoints_name_ids_generically() {
        let entry = |method: &str, path: &str| RequestLogEntry {
            method: method.to_string(),
            path: path.to_string(),
            api_path: path.to_string(),
            query: None,
            status: 200,
        };
        assert_eq!(
            endpoint(&entry("GET", "/v2/attendance-periods/123")),
            "GET /v2/attendance-periods/{id}"
        );
        assert_eq!(endpoint(&entry("GET", "/attendances")), "GET /attendances");
    }

    /// The whole sequence on a tiny company: every run succeeds, the agreeing and steady runs write
    /// nothing, and the request counts are at least the minimum.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sequence_runs_on_a_small_company() {
        let results = measure(3, Mode::Unpaced).await.unwrap();
        let kinds: Vec<Kind> = results.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::PayrollPush,
                Kind::FirstSyncAgreeing,
                Kind::SteadyState,
                Kind::OnePercentChanged,
                Kind::OnePercentDeleted,
                Kind::FirstSyncDifferent
            ]
        );
        for r in &results {
            assert_eq!(r.status, "Succeeded", "{r:?}");
            assert_eq!(r.failures, 0, "{r:?}");
            assert!(r.requests >= r.minimum_total, "{r:?}");
        }
        assert_eq!(results[0].personio_entries, 0);
        assert_eq!(results[0].timetrack_entries, 3 * DAYS);
        assert!(results[1].writes.is_empty(), "{:?}", results[1].writes);
        assert!(results[2].writes.is_empty(), "{:?}", results[2].writes);
    }
}
