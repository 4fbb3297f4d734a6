//! Requests, time and memory of the scheduled absences sync at company scale (issue 16): N people with a
//! year of absences each in Personio (three vacation weeks, three sick days: 6 N periods), the window a
//! year wide (182 days back, 182 ahead), through the real handler and binding
//! (`WorkflowService<AbsencesBinding>`), the real clients and both in-process simulators; both type
//! mappings have Personio as master. Run after run:
//!
//! 1. **first sync, Personio only**: TimeTrack holds no absences; every absence is created there;
//! 2. **steady state**: the same again, nothing to write;
//! 3. **first sync, agreeing**: a fresh state store (no absence mappings) over the two systems that now
//!    agree: every absence is adopted, nothing written;
//! 4. **1 % changed on each side**: every hundredth Personio period ends a day later, and another
//!    hundredth's TimeTrack absence does. TimeTrack can change an absence's status in place only, so a
//!    moved or extended Personio absence is a DELETE and a POST there (the fewest writes its API
//!    allows). A TimeTrack edit while Personio is unchanged is a one-sided change: the engine carries it
//!    to Personio (one PATCH) whatever the master — the type mapping's master (Personio) decides only
//!    conflicts, where both sides changed;
//! 5. **1 % deleted on each side**: every hundredth Personio period deleted (→ its TimeTrack absence
//!    deleted), and another hundredth's TimeTrack absence deleted (→ the Personio period deleted, for the
//!    same reason: one-sided, so the master does not restore it). Each deletion is confirmed by one GET
//!    of the missing record on its own side.
//!
//! **Minimum**: 1 token, Personio absence types ⌈types/100⌉ and absence periods ⌈periods/100⌉ (its
//! maximum page size), TimeTrack users and absences at 1,000 a page (a page short of the limit ends
//! the walk), and one write per needed change: a TimeTrack POST per absence to create, DELETE + POST per
//! Personio-side change, a Personio PATCH per TimeTrack-side change, a DELETE per deletion on the other
//! side, plus one confirmation GET per record missing from a listing. No absence runs past the window,
//! so TimeTrack's second listing (for half last days past the window) is not needed. **Bound**: the
//! minimum at the advertised rates (Personio absence periods 10 req/s, burst 10; TimeTrack at the
//! client's ceiling of 10 req/s), one phase after the other ([`Minimum::rate_limit_bound`]).
//!
//! Two modes, as [`crate::scale`]: unpaced (`absences-N`: no latency, no limits, the bound computed)
//! and paced (`absences-paced-N`: 20 ms per request, Personio's limits on and advertised, the clients'
//! defaults). Paced, all five runs at 100 people; at larger sizes the read-only ones only (the systems
//! are made to agree through an unpaced twin first; then first sync agreeing and steady state) unless
//! `BENCH_PACED_WRITES=1`: the first sync of 1,000 people creates 6,000 absences, ten minutes at 10 req/s.
use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use shared::domain::{EntityKind, IntegrationId, System};
use shared::settings::{AbsenceTypeMapping, IntegrationSettings, WindowSetting};
use shared::store::{Mapping, StateStore};
use shared::workflows::absences::binding::AbsencesBinding;
use simulators::personio::model as p;
use simulators::timetrack::model as t;

use crate::e2e;
use crate::scale::{cursor_pages, short_page_pages, Kind, Minimum, Mode, RunResult};
use crate::workflow_run::{measures_writes, BenchService, Row, Systems, INTEGRATION};

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

/// What each system holds when a run starts.
struct Contents {
    /// Personio absence periods and absence types.
    periods: usize,
    types: usize,
    /// TimeTrack live absences and users.
    absences: usize,
    users: usize,
}

struct Bench {
    people: usize,
    systems: Systems,
}

impl Bench {
    async fn store(&self) -> anyhow::Result<Arc<dyn StateStore>> {
        let store = e2e::store_for(self.people <= crate::scale::moto_max_people()).await?;
        let id = IntegrationId::new(INTEGRATION)?;
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
        let now: Timestamp = e2e::NOW.parse()?;
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
                    updated_at: now,
                    version: 1,
                })
                .await?;
        }
        Ok(store)
    }

    fn service(&self, store: Arc<dyn StateStore>) -> anyhow::Result<BenchService<AbsencesBinding>> {
        self.systems.service(store, AbsencesBinding)
    }

    fn contents(&self) -> Contents {
        let ps = self.systems.personio.state();
        let (periods, types) = (ps.absence_periods.len(), ps.absence_types.len());
        drop(ps);
        let tt = self.systems.timetrack.state();
        Contents {
            periods,
            types,
            absences: tt.live_absences().count(),
            users: tt.users.len(),
        }
    }

    /// Both listings at their maximum page sizes and the token.
    fn listing_minimum(c: &Contents) -> Minimum {
        Minimum {
            personio_pages: cursor_pages(c.periods, 100) + cursor_pages(c.types, 100),
            personio_token: 1,
            timetrack_pages: short_page_pages(c.absences, 1000) + short_page_pages(c.users, 1000),
            ..Minimum::default()
        }
    }

    async fn run(
        &self,
        service: &BenchService<AbsencesBinding>,
        kind: Kind,
        minimum: Minimum,
        before: &Contents,
    ) -> anyhow::Result<RunResult> {
        self.run_labelled(service, kind, kind.label(), minimum, before)
            .await
    }

    async fn run_labelled(
        &self,
        service: &BenchService<AbsencesBinding>,
        kind: Kind,
        label: &'static str,
        minimum: Minimum,
        before: &Contents,
    ) -> anyhow::Result<RunResult> {
        let measured = self.systems.run(service, SCHEDULED_EVENT).await?;
        Ok(measured.into_result(Row {
            people: self.people,
            mode: self.systems.mode,
            kind,
            label,
            personio_records: before.periods,
            timetrack_records: before.absences,
            minimum,
            // Personio's absence periods at 10 req/s (burst 10), TimeTrack at 10 req/s (burst 10).
            bound: minimum.rate_limit_bound(),
        }))
    }

    /// The (person, first day) of every Personio absence period, in order: the picks of the 1 % runs
    /// (both sides pick from this one list, at different offsets, so never the same absence).
    fn keys(&self) -> Vec<(String, Date)> {
        let mut keys: Vec<(String, Date)> = self
            .systems
            .personio
            .state()
            .absence_periods
            .values()
            .map(|a| (a.person.id.clone(), a.starts_from.date_time.date()))
            .collect();
        keys.sort();
        keys
    }

    fn one_percent(keys: &[(String, Date)], offset: usize) -> BTreeSet<(String, Date)> {
        keys.iter()
            .enumerate()
            .filter(|(i, _)| i % 100 == offset)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// The TimeTrack absences of `keys` (their user is the person's linked user), as (person, from).
    fn timetrack_key(a: &t::Absence) -> (String, Date) {
        (person_of_user(a.user_id), a.from)
    }

    /// 1 % of the Personio periods end a day later; the TimeTrack absences of another 1 % too.
    /// Returns how many changed on each side.
    fn change_one_percent(&self) -> (usize, usize) {
        let keys = self.keys();
        let in_personio = Self::one_percent(&keys, 10);
        let in_timetrack = Self::one_percent(&keys, 60);
        let mut changed_p = 0;
        for a in self.systems.personio.state().absence_periods.values_mut() {
            if in_personio.contains(&(a.person.id.clone(), a.starts_from.date_time.date())) {
                if let Some(end) = a.ends_at.as_mut() {
                    if let Ok(later) = end.date_time.checked_add(1.day()) {
                        end.date_time = later;
                        changed_p += 1;
                    }
                }
            }
        }
        let mut changed_tt = 0;
        for a in self.systems.timetrack.state().absences.values_mut() {
            if !a.deleted && in_timetrack.contains(&Self::timetrack_key(a)) {
                if let Ok(later) = a.to.checked_add(1.day()) {
                    a.to = later;
                    changed_tt += 1;
                }
            }
        }
        (changed_p, changed_tt)
    }

    /// Deletes 1 % of the Personio periods and (soft delete, as TimeTrack does) the TimeTrack absences
    /// of another 1 %. Returns how many on each side.
    fn delete_one_percent(&self) -> (usize, usize) {
        let keys = self.keys();
        let in_personio = Self::one_percent(&keys, 30);
        let in_timetrack = Self::one_percent(&keys, 80);
        let mut ps = self.systems.personio.state();
        let before = ps.absence_periods.len();
        ps.absence_periods.retain(|_, a| {
            !in_personio.contains(&(a.person.id.clone(), a.starts_from.date_time.date()))
        });
        let deleted_p = before - ps.absence_periods.len();
        drop(ps);
        let mut deleted_tt = 0;
        for a in self.systems.timetrack.state().absences.values_mut() {
            if !a.deleted && in_timetrack.contains(&Self::timetrack_key(a)) {
                a.deleted = true;
                deleted_tt += 1;
            }
        }
        (deleted_p, deleted_tt)
    }
}

/// The person linked to TimeTrack user `user_id` (the generated company's numbering).
fn person_of_user(user_id: i64) -> String {
    let k = (user_id - e2e::user_id(0)).max(0) as usize;
    e2e::person_id(k)
}

/// Creates Personio's absences in the paced bench's TimeTrack without the limits: a first sync on an
/// unpaced twin of both simulators (Personio's state copied in), its TimeTrack absences copied back.
async fn fill_timetrack(bench: &Bench, seed: &simulators::Seed) -> anyhow::Result<()> {
    let twin = Bench {
        people: bench.people,
        systems: Systems::start(seed, Mode::Unpaced).await?,
    };
    let service = twin.service(twin.store().await?)?;
    let c = twin.contents();
    let run = twin
        .run(
            &service,
            Kind::AbsencesFirstSync,
            Bench::listing_minimum(&c),
            &c,
        )
        .await?;
    if run.failures > 0 {
        anyhow::bail!("filling TimeTrack failed for {} absences", run.failures);
    }
    let absences = twin.systems.timetrack.state().absences.clone();
    bench.systems.timetrack.state().absences = absences;
    Ok(())
}

/// The runs of the module doc for a company of `people` in `mode`.
pub(crate) async fn measure(people: usize, mode: Mode) -> anyhow::Result<Vec<RunResult>> {
    let seed = seed(people)?;
    let bench = Bench {
        people,
        systems: Systems::start(&seed, mode).await?,
    };
    let writes = measures_writes(mode, people);
    let mut results = Vec::new();
    if writes {
        // 1. First sync, Personio only; 2. steady state.
        let service = bench.service(bench.store().await?)?;
        let c = bench.contents();
        let mut min = Bench::listing_minimum(&c);
        min.timetrack_writes = c.periods as u64;
        results.push(
            bench
                .run(&service, Kind::AbsencesFirstSync, min, &c)
                .await?,
        );
        let c = bench.contents();
        let min = Bench::listing_minimum(&c);
        results.push(bench.run(&service, Kind::AbsencesSteady, min, &c).await?);
    } else {
        fill_timetrack(&bench, &seed).await?;
    }
    drop(seed);
    // 3. First sync of agreeing systems: a fresh store (and, paced without writes, the steady state
    //    after it on the same store).
    let service = bench.service(bench.store().await?)?;
    let c = bench.contents();
    let min = Bench::listing_minimum(&c);
    results.push(bench.run(&service, Kind::AbsencesAgreeing, min, &c).await?);
    if !writes {
        let c = bench.contents();
        let min = Bench::listing_minimum(&c);
        results.push(bench.run(&service, Kind::AbsencesSteady, min, &c).await?);
        return Ok(results);
    }

    // 4. 1 % changed on each side. A Personio absence that ends a day later: TimeTrack changes an
    //    absence's status in place only, so its counterpart is deleted and created again (two writes).
    //    A TimeTrack absence that ends a day later, Personio unchanged: a one-sided change, carried to
    //    Personio whatever the master (the master decides conflicts only): one PATCH.
    let (changed_p, changed_tt) = bench.change_one_percent();
    let c = bench.contents();
    let mut min = Bench::listing_minimum(&c);
    min.timetrack_writes = 2 * changed_p as u64;
    min.personio_writes = changed_tt as u64;
    results.push(
        bench
            .run_labelled(
                &service,
                Kind::OnePercentChanged,
                "absences: 1 % changed each side",
                min,
                &c,
            )
            .await?,
    );

    // 5. 1 % deleted on each side: each missing record confirmed by one GET on its side, its
    //    counterpart deleted (one DELETE). A TimeTrack deletion with Personio unchanged deletes the
    //    Personio absence (a one-sided change; the master decides conflicts only).
    let (deleted_p, deleted_tt) = bench.delete_one_percent();
    let c = bench.contents();
    let mut min = Bench::listing_minimum(&c);
    min.timetrack_writes = deleted_p as u64;
    min.personio_confirmations = deleted_p as u64;
    min.personio_writes = deleted_tt as u64;
    min.timetrack_confirmations = deleted_tt as u64;
    results.push(
        bench
            .run_labelled(
                &service,
                Kind::OnePercentDeleted,
                "absences: 1 % deleted each side",
                min,
                &c,
            )
            .await?,
    );
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

    /// The sequence on a small company (20 people, 120 absences: two Personio changes, one TimeTrack
    /// change and one deletion on each side): every run succeeds, the first creates every absence in
    /// TimeTrack, the steady and agreeing runs write nothing, the 1 % runs write what the minimum
    /// counts, and no run sends fewer requests than the minimum.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_absence_sequence_runs_on_a_small_company() {
        let results = measure(20, Mode::Unpaced).await.unwrap();
        let kinds: Vec<Kind> = results.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::AbsencesFirstSync,
                Kind::AbsencesSteady,
                Kind::AbsencesAgreeing,
                Kind::OnePercentChanged,
                Kind::OnePercentDeleted
            ]
        );
        for r in &results {
            assert_eq!(r.status, "Succeeded", "{r:?}");
            assert_eq!(r.failures, 0, "{r:?}");
            // Exactly the minimum: a write works from the run's listing, no read before it (ADR 0041).
            assert_eq!(r.requests, r.minimum_total, "{r:?}");
        }
        assert_eq!(results[0].writes["timetrack"]["create"], 120);
        assert!(results[1].writes.is_empty(), "{:?}", results[1].writes);
        assert!(results[2].writes.is_empty(), "{:?}", results[2].writes);
        let changed = &results[3];
        assert_eq!(changed.minimum.timetrack_writes, 4);
        assert_eq!(changed.minimum.personio_writes, 1);
        let deleted = &results[4];
        assert_eq!(deleted.minimum.timetrack_writes, 1);
        assert_eq!(deleted.minimum.personio_writes, 1);
        assert_eq!(deleted.minimum.personio_confirmations, 1);
        assert_eq!(deleted.minimum.timetrack_confirmations, 1);
        let sent = |r: &RunResult, side: &str, method: &str| -> u64 {
            let requests = if side == "personio" {
                &r.personio_requests
            } else {
                &r.timetrack_requests
            };
            requests
                .iter()
                .filter(|(endpoint, _)| endpoint.starts_with(method))
                .map(|(_, n)| n)
                .sum()
        };
        assert_eq!(
            sent(changed, "timetrack", "DELETE") + sent(changed, "timetrack", "POST"),
            4
        );
        assert_eq!(sent(changed, "personio", "PATCH"), 1);
        assert_eq!(sent(deleted, "timetrack", "DELETE"), 1);
        assert_eq!(sent(deleted, "personio", "DELETE"), 1);
    }
}
