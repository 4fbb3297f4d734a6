//! End to end: a full scheduled time-entries sync through the real Lambda handler
//! (`WorkflowService<TimeEntriesBinding>::handle`), the real HTTP clients and both in-process simulators,
//! on a generated company larger than the seed company: `people` employees, linked through employee
//! mappings, with `days` working days of attendances that exist in TimeTrack only. The first run creates
//! them all in Personio (WORK + BREAK periods); the second run finds everything in sync.
//!
//! The state store is [`MemoryStore`], or a `DynamoStore` on a fresh table when `AWS_ENDPOINT_URL` is
//! set (run under `scripts/with-moto.sh`: moto_server, never real AWS by accident).
//!
//! The simulators run in this process, on the same runtime, so the wall time includes the servers' work
//! and the peak RSS their state and request logs: an upper bound for the function alone.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{date, Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use secrecy::SecretString;
use serde_json::Value;
use shared::connectors::personio::PersonioClientConfig;
use shared::connectors::timetrack::TimeTrackClientConfig;
use shared::credentials::{Credentials, StaticCredentials};
use shared::domain::{EntityKind, IntegrationId, System};
use shared::engine::{ManualClock, RecordingScheduler};
use shared::runs::{RunRecord, RunStatus};
use shared::service::context::ClientFactory;
use shared::service::{ServiceContext, WorkflowService};
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting};
use shared::store::dynamodb::DynamoStore;
use shared::store::memory::MemoryStore;
use shared::store::{Mapping, StateStore};
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model as p;
use simulators::seed::LinkedEmployee;
use simulators::timetrack::model as t;
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};

use crate::memory::{peak_rss_kib, reset_peak_rss, HeapUse};
use crate::timing::Stopwatch;
use crate::workflow_run::{BenchService, Unlimited};
use crate::ALLOCATOR;

/// The morning the runs happen (a Tuesday); the window is the 30 days before it.
pub(crate) const NOW: &str = "2026-11-10T09:00:00Z";
pub(crate) const TODAY: Date = date(2026, 11, 10);
pub(crate) const ZONE: &str = "Europe/Berlin";
pub(crate) const SCHEDULED_EVENT: &str =
    include_str!("../../fixtures/events/scheduled-time-entries.json");

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct E2eConfig {
    pub people: usize,
    /// Working days (Mon–Fri before today) with one attendance per person; at most 20 fit the window.
    pub days: usize,
    /// `true`: the clients' default client-side rate limit (10 requests/s each); `false`: none.
    pub throttled: bool,
}

impl E2eConfig {
    pub(crate) fn label(&self) -> &'static str {
        if self.throttled {
            "default (10 req/s per client)"
        } else {
            "unthrottled"
        }
    }
}

/// One run as the benchmark saw it.
#[derive(Debug, Clone)]
pub(crate) struct RunMeasurement {
    pub wall: Duration,
    pub personio_requests: usize,
    pub timetrack_requests: usize,
    pub status: RunStatus,
    /// Writes per side and action (everything but `unchanged` and `skip`), from the run record.
    pub writes: BTreeMap<String, BTreeMap<String, u64>>,
    pub unchanged: u64,
    pub failures: usize,
    pub heap: HeapUse,
}

impl RunMeasurement {
    pub(crate) fn describe_writes(&self) -> String {
        let parts: Vec<String> = self
            .writes
            .iter()
            .flat_map(|(side, actions)| {
                actions
                    .iter()
                    .map(move |(action, n)| format!("{side} {action} {n}"))
            })
            .collect();
        let writes = if parts.is_empty() {
            "no writes".to_string()
        } else {
            parts.join(", ")
        };
        format!("{writes}; {} unchanged", self.unchanged)
    }
}

pub(crate) struct E2eResult {
    /// Attendances generated (= time entries to sync).
    pub entries: usize,
    pub first: RunMeasurement,
    pub second: RunMeasurement,
    /// Personio WORK periods after the first run (should equal `entries`).
    pub personio_work_periods: usize,
    /// Peak RSS over both runs, simulators included, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// The `days` weekdays before `today`, oldest first.
pub(crate) fn working_days(today: Date, days: usize) -> Vec<Date> {
    let mut out = Vec::with_capacity(days);
    let mut day = today;
    while out.len() < days {
        day = match day.checked_sub(1.day()) {
            Ok(d) => d,
            Err(_) => break,
        };
        if !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            out.push(day);
        }
    }
    out.reverse();
    out
}

/// The numeric Personio id of person `k` (also its personal number).
fn person_number(k: usize) -> i64 {
    5001 + k as i64
}

pub(crate) fn person_id(k: usize) -> String {
    person_number(k).to_string()
}

pub(crate) fn user_id(k: usize) -> i64 {
    501 + k as i64
}

pub(crate) fn username(k: usize) -> String {
    format!("bench.user{k:04}")
}

/// The generated company: persons in Personio, users in TimeTrack, attendances in TimeTrack only.
pub(crate) fn company(people: usize, days: usize) -> anyhow::Result<Seed> {
    let zone = TimeZone::get(ZONE)?;
    let created: Timestamp = "2024-01-02T08:00:00Z".parse()?;
    let mut seed = Seed::empty();
    for k in 0..people {
        seed.add_linked_employee(LinkedEmployee {
            person_id: person_number(k),
            user_id: user_id(k),
            username: &username(k),
            domain: "bench.example",
            first_name: "Bench",
            last_name: &format!("Person {k}"),
            created,
        });
    }
    let days = working_days(TODAY, days);
    for k in 0..people {
        for (d, day) in days.iter().enumerate() {
            // 07:00–07:45 local starts, 8 h 30 with a 30 min break; a note on every fifth entry.
            let start = day.at(7, (15 * ((k + d) % 4)) as i8, 0, 0);
            let from = start.to_zoned(zone.clone())?.timestamp();
            let to = from.checked_add(8.hours().minutes(30))?;
            let break_minutes = 30;
            let worked = (to.as_second() - from.as_second()) / 60 - break_minutes;
            let id = 10_001 + seed.timetrack.attendances.len() as i64;
            seed.timetrack.attendances.push(t::Attendance {
                id,
                user: username(k),
                from,
                to,
                notes: ((k + d) % 5 == 0).then(|| "Kundentermin vor Ort".to_string()),
                manual: false,
                worked_minutes: worked,
                break_minutes,
                latitude_start: None,
                longitude_start: None,
                latitude_end: None,
                longitude_end: None,
                deleted: false,
            });
        }
    }
    Ok(seed)
}

/// Which state store the end-to-end runs use, for the report.
pub(crate) fn store_label() -> &'static str {
    if moto_endpoint().is_some() {
        "DynamoStore on moto_server (AWS_ENDPOINT_URL)"
    } else {
        "MemoryStore"
    }
}

pub(crate) fn moto_endpoint() -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// A fresh DynamoDB table when an AWS endpoint (moto) is configured, else the in-memory store.
async fn state_store() -> anyhow::Result<Arc<dyn StateStore>> {
    store_for(true).await
}

/// A fresh DynamoDB table when `dynamo` is asked for and an AWS endpoint (moto) is configured, else the
/// in-memory store.
pub(crate) async fn store_for(dynamo: bool) -> anyhow::Result<Arc<dyn StateStore>> {
    if !dynamo || moto_endpoint().is_none() {
        return Ok(Arc::new(MemoryStore::new()));
    }
    let client = aws_sdk_dynamodb::Client::new(&shared::aws::load_aws_config().await);
    let table = format!("bench-{}", Timestamp::now().as_nanosecond());
    DynamoStore::create_table(&client, &table).await?;
    Ok(Arc::new(DynamoStore::new(client, table)))
}

/// The real binding (default clients from the factory), or the same without client-side limits.
type Service = BenchService<TimeEntriesBinding>;

struct Harness {
    personio: PersonioSim,
    timetrack: TimeTrackSim,
    service: Service,
    event: Value,
}

async fn harness(config: E2eConfig, seed: &Seed) -> anyhow::Result<Harness> {
    let pconf = PersonioConfig::default();
    let tconf = TimeTrackConfig::default();
    let personio = PersonioSim::start(pconf.clone(), seed).await?;
    let timetrack = TimeTrackSim::start(tconf.clone(), seed).await?;
    let now: Timestamp = NOW.parse()?;

    let mut settings = IntegrationSettings::example();
    settings.time_zone = ZONE.into();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    settings.time_entries.master = System::TimeTrack;
    settings.personio.attendance_skip_approval = false;
    settings.windows.time_entries = WindowSetting {
        lookback_days: 30,
        lookahead_days: 0,
    };

    let store = state_store().await?;
    let id = IntegrationId::new("bench")?;
    store.put_settings(&id, &settings).await?;
    for k in 0..config.people {
        store
            .put_mapping(&Mapping {
                integration_id: id.clone(),
                kind: EntityKind::Employee,
                mapping_id: format!("employee-{}", person_id(k)),
                personio_id: Some(person_id(k)),
                timetrack_id: Some(user_id(k).to_string()),
                fingerprint: None,
                anchor_date: None,
                intent: None,
                failures: 0,
                last_error: None,
                parked: None,
                updated_at: now,
                version: 1,
            })
            .await?;
    }

    let personio_secret = SecretString::from(pconf.client_secret.clone());
    let timetrack_key = SecretString::from(tconf.api_key.clone());
    let timetrack_secret = SecretString::from(tconf.api_secret.clone());
    let credentials = StaticCredentials::new().with(
        id.clone(),
        Credentials {
            personio_client_id: pconf.client_id.clone(),
            personio_client_secret: personio_secret.clone(),
            timetrack_account: tconf.account.clone(),
            timetrack_api_key: timetrack_key.clone(),
            timetrack_api_secret: timetrack_secret.clone(),
        },
    );
    let timeout = Duration::from_secs(30);
    let context = ServiceContext {
        store,
        credentials: Arc::new(credentials),
        scheduler: Arc::new(RecordingScheduler::default()),
        clock: Arc::new(ManualClock::new(now)),
        clients: ClientFactory {
            personio_base_url: personio.base_url(),
            timetrack_base_url_template: timetrack.base_url_template(),
            timeout,
        },
    };
    let service = if config.throttled {
        BenchService::Default(WorkflowService::new(context, TimeEntriesBinding))
    } else {
        let mut pc = PersonioClientConfig::new(pconf.client_id.clone(), personio_secret);
        pc.base_url = personio.base_url();
        pc.timeout = timeout;
        pc.rate_limit = None;
        let mut tc =
            TimeTrackClientConfig::new(tconf.account.clone(), timetrack_key, timetrack_secret);
        tc.base_url_template = timetrack.base_url_template();
        tc.timeout = timeout;
        tc.rate_limit = None;
        BenchService::Unlimited(Box::new(WorkflowService::new(
            context,
            Unlimited::new(TimeEntriesBinding, pc, tc),
        )))
    };
    let event = serde_json::from_str(&SCHEDULED_EVENT.replace("INTEGRATION_ID", id.as_str()))?;
    Ok(Harness {
        personio,
        timetrack,
        service,
        event,
    })
}

impl Harness {
    async fn run(&self) -> anyhow::Result<RunMeasurement> {
        self.personio.clear_requests();
        self.timetrack.clear_requests();
        let probe = ALLOCATOR.start();
        let watch = Stopwatch::start();
        let out = self
            .service
            .handle(self.event.clone())
            .await
            .map_err(|e| anyhow::anyhow!("the scheduled run failed: {e}"))?;
        let wall = watch.elapsed();
        let heap = probe.finish();
        let run: RunRecord = serde_json::from_value(out)?;
        let mut writes = BTreeMap::new();
        let mut unchanged = 0;
        for (side, actions) in &run.counts {
            for (action, n) in actions {
                match action.as_str() {
                    "unchanged" => unchanged += n,
                    "skip" => {}
                    _ => {
                        writes
                            .entry(side.to_string())
                            .or_insert_with(BTreeMap::new)
                            .insert(action.to_string(), n);
                    }
                }
            }
        }
        Ok(RunMeasurement {
            wall,
            personio_requests: self.personio.requests().len(),
            timetrack_requests: self.timetrack.requests().len(),
            status: run.status,
            writes,
            unchanged,
            failures: run.failures.len(),
            heap,
        })
    }
}

/// Generates the company, then runs the scheduled sync twice.
pub(crate) async fn measure(config: E2eConfig) -> anyhow::Result<E2eResult> {
    let seed = company(config.people, config.days)?;
    let entries = seed.timetrack.attendances.len();
    let harness = harness(config, &seed).await?;
    drop(seed);
    reset_peak_rss();
    let first = harness.run().await?;
    let personio_work_periods = harness
        .personio
        .state()
        .attendance_periods
        .values()
        .filter(|period| period.kind == p::AttendanceType::Work)
        .count();
    let second = harness.run().await?;
    Ok(E2eResult {
        entries,
        first,
        second,
        personio_work_periods,
        peak_rss_kib: peak_rss_kib(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_are_the_weekdays_before_today() {
        let days = working_days(TODAY, 6);
        assert_eq!(
            days,
            [
                date(2026, 11, 2),
                date(2026, 11, 3),
                date(2026, 11, 4),
                date(2026, 11, 5),
                date(2026, 11, 6),
                date(2026, 11, 9)
            ]
        );
        // 20 working days reach back 4 weeks: inside the 30-day window.
        assert_eq!(working_days(TODAY, 20)[0], date(2026, 10, 13));
    }

    #[test]
    fn company_has_linked_people_and_attendances_in_timetrack_only() {
        let seed = company(3, 4).unwrap();
        assert_eq!(seed.personio.persons.len(), 3);
        assert_eq!(seed.timetrack.users.len(), 3);
        assert_eq!(seed.timetrack.attendances.len(), 12);
        assert!(seed.personio.attendance_periods.is_empty());
        let a = &seed.timetrack.attendances[0];
        assert_eq!(a.user, "bench.user0000");
        // 07:00 Berlin in November (CET) is 06:00 UTC.
        assert_eq!(a.from, "2026-11-04T06:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(a.worked_minutes, 480);
    }

    /// The whole path on a tiny company, unthrottled: the first run creates every entry in Personio,
    /// the second writes nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn first_run_creates_everything_and_second_run_writes_nothing() {
        let r = measure(E2eConfig {
            people: 3,
            days: 4,
            throttled: false,
        })
        .await
        .unwrap();
        assert_eq!(r.entries, 12);
        assert_eq!(r.first.status, RunStatus::Succeeded);
        assert_eq!(r.first.failures, 0);
        assert_eq!(r.personio_work_periods, 12);
        assert_eq!(
            r.first.writes.get("personio").and_then(|a| a.get("create")),
            Some(&12)
        );
        assert_eq!(r.second.status, RunStatus::Succeeded);
        assert!(r.second.writes.is_empty(), "{:?}", r.second.writes);
        assert_eq!(r.second.unchanged, 12);
        assert!(r.first.personio_requests > 12 && r.second.timetrack_requests > 0);
    }
}
