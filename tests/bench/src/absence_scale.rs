//! Requests, time and memory of the scheduled absences sync at company scale (issue 16): N people with a
//! year of absences each in Personio (three vacation weeks, three sick days), the window a year wide
//! (182 days back, 182 ahead), through the real handler, the real clients (no client-side limit) and
//! both in-process simulators, run after run:
//!
//! 1. **first sync, Personio only**: TimeTrack holds no absences; every absence is created there
//!    (both type mappings have Personio as master);
//! 2. **steady state**: the same again, nothing to write;
//! 3. **first sync, agreeing**: a fresh state store (no absence mappings) over the two systems that now
//!    agree: every absence is adopted, nothing written.
//!
//! Unpaced only (no latency, no server limits); the rate-limit bound is computed from the minimum.
//! **Minimum**: 1 token, Personio absence types ⌈types/100⌉ and absence periods ⌈periods/100⌉ (its
//! maximum page size), TimeTrack users and absences at 1,000 a page (a page short of the limit ends
//! the walk), one TimeTrack POST per absence to create. No absence runs past the window, so TimeTrack's
//! second listing (for half last days past the window) is not needed.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use secrecy::SecretString;
use serde_json::Value;
use shared::connectors::personio::{PersonioClient, PersonioClientConfig};
use shared::connectors::timetrack::{TimeTrackClient, TimeTrackClientConfig};
use shared::credentials::{Credentials, StaticCredentials};
use shared::domain::{Direction, EntityKind, IntegrationId, System, Workflow};
use shared::engine::{ManualClock, RecordingScheduler};
use shared::runs::RunRecord;
use shared::service::context::ClientFactory;
use shared::service::{
    BindInput, BoundWorkflow, RunIo, ServiceContext, SetupError, WorkflowBinding, WorkflowService,
};
use shared::settings::{AbsenceTypeMapping, IntegrationSettings, WindowSetting};
use shared::store::{Mapping, StateStore};
use shared::workflows::absences::binding::AbsencesBinding;
use simulators::personio::model as p;
use simulators::timetrack::model as t;
use simulators::{PersonioConfig, PersonioSim, TimeTrackConfig, TimeTrackSim};

use crate::e2e;
use crate::memory::{peak_rss_kib, reset_peak_rss};
use crate::scale::{
    cpu_time, cursor_pages, short_page_pages, tally, Kind, Minimum, Mode, RunResult,
};
use crate::timing::Stopwatch;
use crate::ALLOCATOR;

const SCHEDULED_EVENT: &str = include_str!("../../fixtures/events/scheduled-absences.json");
const VACATION: &str = "b0a1c2d3-0000-4000-8000-000000000001";
const SICK: &str = "b0a1c2d3-0000-4000-8000-000000000002";
const URLAUB: i64 = 1;
const KRANKENSTAND: i64 = 5;
/// Half the window: 182 days back and ahead of today.
const HALF_WINDOW: i64 = 182;

/// The absences of person `k`: three vacation weeks (Monday–Friday) and three single sick days,
/// spread over the year around today and staggered by person.
fn year_of(k: usize) -> Vec<(&'static str, Date, Date)> {
    let today = e2e::TODAY;
    let monday = |weeks: i64| {
        let day = today.checked_add((weeks * 7).days()).unwrap_or(today);
        // Back to that week's Monday.
        let back = day.weekday().to_monday_zero_offset();
        day.checked_sub(i64::from(back).days()).unwrap_or(day)
    };
    let stagger = (k % 4) as i64;
    let mut out = Vec::new();
    for weeks in [-22 + stagger, -4 + stagger, 14 + stagger] {
        let start = monday(weeks);
        out.push((
            VACATION,
            start,
            start.checked_add(4.days()).unwrap_or(start),
        ));
    }
    for weeks in [-12 + stagger, 4 + stagger, 20 + stagger] {
        // A Wednesday.
        let day = monday(weeks).checked_add(2.days()).unwrap_or(today);
        out.push((SICK, day, day));
    }
    out
}

fn seed(people: usize) -> anyhow::Result<simulators::Seed> {
    let mut seed = e2e::company(people, 0)?;
    let created: Timestamp = "2024-01-02T08:00:00Z".parse()?;
    seed.personio.absence_types = vec![
        p::AbsenceType {
            id: VACATION.to_string(),
            name: "Vacation".to_string(),
            category: "PAID_VACATION".to_string(),
            unit: p::AbsenceUnit::Day,
        },
        p::AbsenceType {
            id: SICK.to_string(),
            name: "Sick leave".to_string(),
            category: "SICK_LEAVE".to_string(),
            unit: p::AbsenceUnit::Day,
        },
    ];
    seed.timetrack.absence_types = vec![
        t::AbsenceType {
            id: URLAUB,
            name: "Urlaub".to_string(),
            color: "#2e7d32".to_string(),
            is_plannable: true,
        },
        t::AbsenceType {
            id: KRANKENSTAND,
            name: "Krankenstand".to_string(),
            color: "#c62828".to_string(),
            is_plannable: false,
        },
    ];
    let boundary = |day: Date| p::AbsenceBoundary {
        date_time: day.at(0, 0, 0, 0),
        half: None,
    };
    for k in 0..people {
        for (n, (kind, from, to)) in year_of(k).into_iter().enumerate() {
            seed.personio.absence_periods.push(p::AbsencePeriod {
                id: format!("a{k:05}-{n}"),
                person: p::IdRef::new(e2e::person_id(k)),
                absence_type: p::IdRef::new(kind),
                starts_from: boundary(from),
                ends_at: Some(boundary(to)),
                timezone_id: e2e::ZONE.to_string(),
                comment: None,
                approval: p::Approval {
                    status: p::AbsenceStatus::Approved,
                },
                created_at: created,
                updated_at: created,
            });
        }
    }
    Ok(seed)
}

/// The absences binding with explicit client configurations (no client-side limit), like
/// [`e2e::WithClients`] for time entries.
struct Unpaced {
    personio: PersonioClientConfig,
    timetrack: TimeTrackClientConfig,
}

#[async_trait]
impl WorkflowBinding for Unpaced {
    type Kind = <AbsencesBinding as WorkflowBinding>::Kind;
    type Context = <AbsencesBinding as WorkflowBinding>::Context;

    fn workflow(&self) -> Workflow {
        AbsencesBinding.workflow()
    }

    fn scheduled_direction(&self, settings: &IntegrationSettings) -> Direction {
        AbsencesBinding.scheduled_direction(settings)
    }

    fn bind(&self, input: BindInput<'_>) -> Result<Self::Context, SetupError> {
        AbsencesBinding.bind(input)
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
        AbsencesBinding
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

struct Bench {
    people: usize,
    personio: PersonioSim,
    timetrack: TimeTrackSim,
    pconf: PersonioConfig,
    tconf: TimeTrackConfig,
    now: Timestamp,
}

impl Bench {
    async fn store(&self) -> anyhow::Result<Arc<dyn StateStore>> {
        let store = e2e::store_for(self.people <= crate::scale::moto_max_people()).await?;
        let id = IntegrationId::new("bench")?;
        let mut settings = IntegrationSettings::example();
        settings.time_zone = e2e::ZONE.into();
        settings.absences.type_mappings = vec![
            AbsenceTypeMapping {
                timetrack_type_id: URLAUB,
                personio_type_id: VACATION.to_string(),
                master: System::Personio,
                half_day_timetrack_type_id: None,
            },
            AbsenceTypeMapping {
                timetrack_type_id: KRANKENSTAND,
                personio_type_id: SICK.to_string(),
                master: System::Personio,
                half_day_timetrack_type_id: None,
            },
        ];
        settings.windows.absences = WindowSetting {
            lookback_days: HALF_WINDOW as i32,
            lookahead_days: HALF_WINDOW as i32,
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

    fn service(&self, store: Arc<dyn StateStore>) -> anyhow::Result<WorkflowService<Unpaced>> {
        let personio_secret = SecretString::from(self.pconf.client_secret.clone());
        let key = SecretString::from(self.tconf.api_key.clone());
        let secret = SecretString::from(self.tconf.api_secret.clone());
        let credentials = StaticCredentials::new().with(
            IntegrationId::new("bench")?,
            Credentials {
                personio_client_id: self.pconf.client_id.clone(),
                personio_client_secret: personio_secret.clone(),
                timetrack_account: self.tconf.account.clone(),
                timetrack_api_key: key.clone(),
                timetrack_api_secret: secret.clone(),
            },
        );
        let timeout = Duration::from_secs(60);
        let mut pc = PersonioClientConfig::new(self.pconf.client_id.clone(), personio_secret);
        pc.base_url = self.personio.base_url();
        pc.timeout = timeout;
        pc.rate_limit = None;
        let mut tc = TimeTrackClientConfig::new(self.tconf.account.clone(), key, secret);
        tc.base_url_template = self.timetrack.base_url_template();
        tc.timeout = timeout;
        tc.rate_limit = None;
        Ok(WorkflowService::new(
            ServiceContext {
                store,
                credentials: Arc::new(credentials),
                scheduler: Arc::new(RecordingScheduler::default()),
                clock: Arc::new(ManualClock::new(self.now)),
                clients: ClientFactory {
                    personio_base_url: self.personio.base_url(),
                    timetrack_base_url_template: self.timetrack.base_url_template(),
                    timeout,
                },
            },
            Unpaced {
                personio: pc,
                timetrack: tc,
            },
        ))
    }

    /// (Personio absence periods, TimeTrack live absences, TimeTrack users, Personio absence types).
    fn contents(&self) -> (usize, usize, usize, usize) {
        let ps = self.personio.state();
        let (periods, types) = (ps.absence_periods.len(), ps.absence_types.len());
        drop(ps);
        let tt = self.timetrack.state();
        (periods, tt.live_absences().count(), tt.users.len(), types)
    }

    fn minimum(&self, tt_writes: u64) -> Minimum {
        let (periods, absences, users, types) = self.contents();
        Minimum {
            personio_pages: cursor_pages(periods, 100) + cursor_pages(types, 100),
            personio_token: 1,
            timetrack_pages: short_page_pages(absences, 1000) + short_page_pages(users, 1000),
            timetrack_writes: tt_writes,
            ..Minimum::default()
        }
    }

    async fn run(
        &self,
        service: &WorkflowService<Unpaced>,
        kind: Kind,
        minimum: Minimum,
    ) -> anyhow::Result<RunResult> {
        let (personio_before, timetrack_before, _, _) = self.contents();
        let event: Value =
            serde_json::from_str(&SCHEDULED_EVENT.replace("INTEGRATION_ID", "bench"))?;
        self.personio.clear_requests();
        self.timetrack.clear_requests();
        reset_peak_rss();
        let probe = ALLOCATOR.start();
        let cpu_before = cpu_time();
        let watch = Stopwatch::start();
        let out = service
            .handle(event, None)
            .await
            .map_err(|e| anyhow::anyhow!("the scheduled absences run failed: {e}"))?;
        let wall = watch.elapsed();
        let cpu = match (cpu_before, cpu_time()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => Duration::ZERO,
        };
        let heap = probe.finish();
        let rss = peak_rss_kib();
        let record: RunRecord = serde_json::from_value(out)?;
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
        let personio_requests = tally(&self.personio.requests());
        let timetrack_requests = tally(&self.timetrack.requests());
        let requests: u64 = personio_requests
            .values()
            .chain(timetrack_requests.values())
            .sum();
        let bound = minimum.rate_limit_bound();
        Ok(RunResult {
            people: self.people,
            mode: Mode::Unpaced,
            kind,
            label: kind.label(),
            personio_entries: personio_before,
            timetrack_entries: timetrack_before,
            personio_requests,
            timetrack_requests,
            requests,
            minimum,
            minimum_total: minimum.total(),
            ratio: requests as f64 / minimum.total().max(1) as f64,
            writes,
            status: format!("{:?}", record.status),
            failures: record.failures.len(),
            wall_ms: wall.as_secs_f64() * 1e3,
            rate_limit_bound_ms: bound.as_secs_f64() * 1e3,
            wall_over_bound: None,
            cpu_ms: cpu.as_secs_f64() * 1e3,
            heap_peak_bytes: heap.peak_bytes as u64,
            own_heap_peak_bytes: None,
            own_heap_retained_bytes: None,
            peak_rss_kib: rss,
            slice_records: None,
        })
    }
}

/// The three runs of the module doc for a company of `people`.
pub(crate) async fn measure(people: usize) -> anyhow::Result<Vec<RunResult>> {
    let seed = seed(people)?;
    let pconf = PersonioConfig::default();
    let tconf = TimeTrackConfig::default();
    let bench = Bench {
        people,
        personio: PersonioSim::start(pconf.clone(), &seed).await?,
        timetrack: TimeTrackSim::start(tconf.clone(), &seed).await?,
        pconf,
        tconf,
        now: e2e::NOW.parse()?,
    };
    let mut results = Vec::new();
    let store = bench.store().await?;
    let service = bench.service(store)?;
    let (periods, _, _, _) = bench.contents();
    let min = bench.minimum(periods as u64);
    results.push(bench.run(&service, Kind::AbsencesFirstSync, min).await?);
    let min = bench.minimum(0);
    results.push(bench.run(&service, Kind::AbsencesSteady, min).await?);
    let fresh = bench.service(bench.store().await?)?;
    let min = bench.minimum(0);
    results.push(bench.run(&fresh, Kind::AbsencesAgreeing, min).await?);
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_of_absences_lies_inside_the_window_on_working_days() {
        let from = e2e::TODAY.checked_sub(HALF_WINDOW.days()).unwrap();
        let to = e2e::TODAY.checked_add(HALF_WINDOW.days()).unwrap();
        for k in 0..8 {
            let year = year_of(k);
            assert_eq!(year.len(), 6);
            for (_, start, end) in year {
                assert!(from <= start && end <= to, "{start}..{end}");
                assert!(start <= end);
                assert!(!matches!(
                    start.weekday(),
                    jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
                ));
            }
        }
    }

    /// The sequence on a tiny company: every run succeeds, the first creates every absence in
    /// TimeTrack, the others write nothing, and requests are at least the minimum.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_absence_sequence_runs_on_a_small_company() {
        let results = measure(3).await.unwrap();
        assert_eq!(results.len(), 3);
        for r in &results {
            assert_eq!(r.status, "Succeeded", "{r:?}");
            assert_eq!(r.failures, 0, "{r:?}");
            assert!(r.requests >= r.minimum_total, "{r:?}");
        }
        assert_eq!(results[0].writes["timetrack"]["create"], 18);
        assert!(results[1].writes.is_empty(), "{:?}", results[1].writes);
        assert!(results[2].writes.is_empty(), "{:?}", results[2].writes);
    }
}
