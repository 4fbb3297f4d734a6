//! Requests, time and memory of the scheduled employees sync at company scale (issue 16): N people, each
//! a Personio person with one ACTIVE employment (so Personio states every status and no employment needs
//! reading) and, where the run says so, a TimeTrack user with the same e-mail. Through the real handler
//! and binding (`WorkflowService<EmployeesBinding>`), the real clients and both in-process simulators,
//! settings "all active", auto-add on, leaver policy `deactivate`, run after run:
//!
//! 1. **first sync, different data**: a fresh store; Personio has everyone, TimeTrack only every other
//!    person (even k): the half TimeTrack has is linked by e-mail, the other half is created there
//!    (auto-add of a scheduled run);
//! 2. **first sync, agreeing**: a fresh store over the two systems that now hold the same people:
//!    everyone is linked (adopted), nothing written;
//! 3. **steady state**: the same again;
//! 4. **1 % changed on each side**: the last name of every hundredth person changes in Personio (→ the
//!    name follows Personio: one `PUT /users/{id}`), and of another hundredth in TimeTrack (names are
//!    synced both ways when only one side changed — Personio is master only in conflicts —: one
//!    `PATCH /v2/persons/{id}`);
//! 5. **1 % deleted / terminated on each side**: Personio never deletes an employee — a leaver's
//!    employment becomes INACTIVE —: every hundredth person is terminated (→ under `deactivate` their
//!    user is disabled: one `DELETE /users/{id}`, TimeTrack's deactivation). In TimeTrack a deleted
//!    user is a disabled one (`DELETE /users/{id}`; the user stays listed with `enabled: false`):
//!    another hundredth is disabled there. Status follows Personio and cannot be written to it, and
//!    TimeTrack's API cannot re-enable a user, so no write can answer that change: the minimum has no
//!    write for it and the run reports each such pair as a refused record (a failure of that record,
//!    not of the run).
//!
//! No payroll push: that is a time-entries mode (a month of attendances pushed to Personio); the
//! employees workflow has no counterpart (its Personio writes are the export of chosen TimeTrack users,
//! which is not a scheduled bulk run).
//!
//! **Minimum** (from the systems' contents and the bench's own changes, never from what the code did):
//! 1 token, Personio persons at 50 a page (its maximum), one employments request for each person whose
//! status Personio leaves open (none here), TimeTrack users at 1,000 a page (a page short of the limit
//! ends the walk), and one write per needed change: a `POST /users` per active person without a
//! TimeTrack user of the same e-mail, a `PUT` per name changed in Personio, a `PATCH` per name changed
//! in TimeTrack, a `DELETE` per terminated person. No confirmation GETs: both sides are listed whole.
//! **Bound**: that minimum at the advertised rates — Personio persons 30 req/s (burst 30), TimeTrack
//! 10 req/s (burst 10, the client's ceiling; TimeTrack documents none), one phase after the other.
//!
//! Paced mode (`employees-paced-N`): the same runs at 100 people; at larger sizes the two read-only
//! kinds only (agreeing, steady; both systems seeded with everyone) unless `BENCH_PACED_WRITES=1`.
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use shared::domain::IntegrationId;
use shared::settings::{EmployeeSelection, EmployeeSettings, IntegrationSettings, LeaverPolicy};
use shared::store::StateStore;
use shared::workflows::employees::binding::EmployeesBinding;
use simulators::personio::model as p;
use simulators::personio::state::default_employment;
use simulators::RateLimit;

use crate::e2e;
use crate::scale::{
    cursor_pages, short_page_pages, Kind, Minimum, Mode, RunResult, TIMETRACK_BURST,
    TIMETRACK_PAGE, TIMETRACK_RATE,
};
use crate::workflow_run::{measures_writes, BenchService, Row, Systems, INTEGRATION};

const SCHEDULED_EVENT: &str = include_str!("../../fixtures/events/scheduled-employees.json");
/// Personio's persons page maximum (`GET /v2/persons?limit=` 1–50).
const PERSONS_PAGE: usize = 50;

/// The generated company: persons with an ACTIVE employment; TimeTrack users for everyone
/// (`all_users`) or for every other person (even k).
fn seed(people: usize, all_users: bool) -> anyhow::Result<simulators::Seed> {
    let mut seed = e2e::company(people, 0)?;
    let created: Timestamp = "2024-01-02T08:00:00Z".parse()?;
    for k in 0..people {
        seed.personio.employments.push(p::Employment {
            id: format!("e{k:05}"),
            ..default_employment(&e2e::person_id(k), jiff::civil::date(2024, 1, 2), created)
        });
    }
    if !all_users {
        let odd: HashSet<i64> = (0..people)
            .filter(|k| k % 2 == 1)
            .map(e2e::user_id)
            .collect();
        seed.timetrack.users.retain(|u| !odd.contains(&u.id));
    }
    Ok(seed)
}

/// What each system holds when a run starts.
struct Contents {
    persons: usize,
    /// Persons whose status Personio leaves open (their employment must be read).
    open_status: usize,
    /// Active persons with an e-mail no TimeTrack user has (ignoring case): to create.
    to_create: usize,
    users: usize,
}

struct Bench {
    people: usize,
    systems: Systems,
}

impl Bench {
    fn contents(&self) -> Contents {
        let tt = self.systems.timetrack.state();
        let emails: HashSet<String> = tt.users.values().map(|u| u.email.to_lowercase()).collect();
        let users = tt.users.len();
        drop(tt);
        let ps = self.systems.personio.state();
        let mut open_status = 0;
        let mut to_create = 0;
        for person in ps.persons.values() {
            match ps.person_status(&person.id) {
                "ACTIVE" => {
                    let email = person.email.as_deref().unwrap_or_default().to_lowercase();
                    if !email.is_empty() && !emails.contains(&email) {
                        to_create += 1;
                    }
                }
                "INACTIVE" => {}
                _ => open_status += 1,
            }
        }
        Contents {
            persons: ps.persons.len(),
            open_status,
            to_create,
            users,
        }
    }

    /// Both full listings and the token.
    fn listing_minimum(c: &Contents) -> Minimum {
        Minimum {
            personio_token: 1,
            personio_pages: cursor_pages(c.persons, PERSONS_PAGE) + c.open_status as u64,
            timetrack_pages: short_page_pages(c.users, TIMETRACK_PAGE),
            ..Minimum::default()
        }
    }

    /// A store with the settings only (no employee mappings: the first sync links).
    async fn store(&self) -> anyhow::Result<Arc<dyn StateStore>> {
        let store = e2e::store_for(self.people <= crate::scale::moto_max_people()).await?;
        let id = IntegrationId::new(INTEGRATION)?;
        let mut settings = IntegrationSettings::example();
        settings.time_zone = e2e::ZONE.into();
        settings.employees = EmployeeSettings {
            selection: EmployeeSelection::AllActive,
            auto_add: true,
            leaver_policy: LeaverPolicy::Deactivate,
            ..EmployeeSettings::default()
        };
        store.put_settings(&id, &settings).await?;
        Ok(store)
    }

    async fn run(
        &self,
        service: &BenchService<EmployeesBinding>,
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
            personio_records: before.persons,
            timetrack_records: before.users,
            minimum,
            bound: bound(&minimum),
        }))
    }

    /// The person ids, in order.
    fn person_ids(&self) -> Vec<String> {
        self.systems
            .personio
            .state()
            .persons
            .keys()
            .cloned()
            .collect()
    }

    /// Every hundredth person, offset by `offset`.
    fn one_percent(ids: &[String], offset: usize) -> BTreeSet<String> {
        ids.iter()
            .enumerate()
            .filter(|(i, _)| i % 100 == offset)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The e-mails of `persons`, lowercase.
    fn emails_of(&self, persons: &BTreeSet<String>) -> HashSet<String> {
        self.systems
            .personio
            .state()
            .persons
            .values()
            .filter(|p| persons.contains(&p.id))
            .filter_map(|p| p.email.as_deref().map(str::to_lowercase))
            .collect()
    }

    /// New last names for 1 % of the persons in Personio and for the users of another 1 % in TimeTrack;
    /// returns how many of each changed.
    fn change_one_percent(&self) -> (usize, usize) {
        let ids = self.person_ids();
        let in_personio = Self::one_percent(&ids, 10);
        let in_timetrack = self.emails_of(&Self::one_percent(&ids, 60));
        let mut changed_p = 0;
        for person in self.systems.personio.state().persons.values_mut() {
            if in_personio.contains(&person.id) {
                person.last_name = format!("{} (Personio)", person.last_name);
                changed_p += 1;
            }
        }
        let mut changed_tt = 0;
        for user in self.systems.timetrack.state().users.values_mut() {
            if in_timetrack.contains(&user.email.to_lowercase()) {
                user.last_name = format!("{} (TimeTrack)", user.last_name);
                changed_tt += 1;
            }
        }
        (changed_p, changed_tt)
    }

    /// Terminates 1 % of the persons in Personio (their employment becomes INACTIVE) and disables the
    /// users of another 1 % in TimeTrack; returns how many of each.
    fn delete_one_percent(&self) -> (usize, usize) {
        let ids = self.person_ids();
        let terminated = Self::one_percent(&ids, 30);
        let disabled = self.emails_of(&Self::one_percent(&ids, 80));
        let mut n_terminated = 0;
        for employment in self.systems.personio.state().employments.values_mut() {
            if terminated.contains(&employment.person.id) {
                employment.status = p::EmploymentStatus::Inactive;
                employment.employment_end_date = e2e::TODAY.yesterday().ok();
                n_terminated += 1;
            }
        }
        let mut n_disabled = 0;
        for user in self.systems.timetrack.state().users.values_mut() {
            if user.enabled && disabled.contains(&user.email.to_lowercase()) {
                user.enabled = false;
                n_disabled += 1;
            }
        }
        (n_terminated, n_disabled)
    }
}

/// The minimum at the advertised rates: Personio's persons endpoint (as the simulator advertises it)
/// and TimeTrack at the client's ceiling, one phase after the other; the token has its own bucket.
fn bound(min: &Minimum) -> Duration {
    let persons = RateLimit::observed_per_endpoint()
        .get("/v2/persons")
        .copied()
        .unwrap_or(RateLimit {
            replenish_per_sec: 30,
            burst: 30,
        });
    let phase = |n: u64, rate: f64, burst: f64| ((n as f64 - burst).max(0.0)) / rate;
    let personio = phase(
        min.personio() - min.personio_token,
        f64::from(persons.replenish_per_sec),
        f64::from(persons.burst),
    );
    let timetrack = phase(min.timetrack(), TIMETRACK_RATE, TIMETRACK_BURST);
    Duration::from_secs_f64(personio + timetrack)
}

/// The runs of the module doc for a company of `people` in `mode`.
pub(crate) async fn measure(people: usize, mode: Mode) -> anyhow::Result<Vec<RunResult>> {
    let writes = measures_writes(mode, people);
    let seed = seed(people, !writes)?;
    let bench = Bench {
        people,
        systems: Systems::start(&seed, mode).await?,
    };
    drop(seed);
    let mut results = Vec::new();

    // 1. First sync of different data: TimeTrack has every other person.
    if writes {
        let c = bench.contents();
        let mut min = Bench::listing_minimum(&c);
        min.timetrack_writes = c.to_create as u64;
        let service = bench
            .systems
            .service(bench.store().await?, EmployeesBinding)?;
        results.push(
            bench
                .run(
                    &service,
                    Kind::FirstSyncDifferent,
                    "employees: first sync, different data",
                    min,
                    &c,
                )
                .await?,
        );
    }

    // 2. First sync of agreeing systems, 3. steady state: a fresh store.
    let service = bench
        .systems
        .service(bench.store().await?, EmployeesBinding)?;
    for (kind, label) in [
        (Kind::FirstSyncAgreeing, "employees: first sync, agreeing"),
        (Kind::SteadyState, "employees: steady state"),
    ] {
        let c = bench.contents();
        let min = Bench::listing_minimum(&c);
        results.push(bench.run(&service, kind, label, min, &c).await?);
    }
    if !writes {
        return Ok(results);
    }

    // 4. 1 % changed on each side.
    let (changed_p, changed_tt) = bench.change_one_percent();
    let c = bench.contents();
    let mut min = Bench::listing_minimum(&c);
    min.timetrack_writes = changed_p as u64;
    min.personio_writes = changed_tt as u64;
    results.push(
        bench
            .run(
                &service,
                Kind::OnePercentChanged,
                "employees: 1 % changed each side",
                min,
                &c,
            )
            .await?,
    );

    // 5. 1 % terminated in Personio, 1 % disabled in TimeTrack (no write can answer the latter).
    let (terminated, _disabled) = bench.delete_one_percent();
    let c = bench.contents();
    let mut min = Bench::listing_minimum(&c);
    min.timetrack_writes = terminated as u64;
    results.push(
        bench
            .run(
                &service,
                Kind::OnePercentDeleted,
                "employees: 1 % terminated / disabled each side",
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
    fn the_bound_spends_each_sides_burst_then_its_rate() {
        let min = Minimum {
            personio_token: 1,
            personio_pages: 100,
            personio_writes: 30,
            timetrack_pages: 6,
            timetrack_writes: 54,
            ..Minimum::default()
        };
        // Personio: 130 requests, 30 free, 100 at 30/s; TimeTrack: 60, 10 free, 50 at 10/s.
        let expected = 100.0 / 30.0 + 5.0;
        assert!((bound(&min).as_secs_f64() - expected).abs() < 1e-9);
    }

    /// The sequence on a small company (two of each hundredth picked): every run reaches its end, the first
    /// creates the missing half, the agreeing and steady runs write nothing, the changes are written
    /// where the minimum says, and no run sends fewer requests than the minimum.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_employee_sequence_runs_on_a_small_company() {
        let results = measure(200, Mode::Unpaced).await.unwrap();
        let kinds: Vec<Kind> = results.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::FirstSyncDifferent,
                Kind::FirstSyncAgreeing,
                Kind::SteadyState,
                Kind::OnePercentChanged,
                Kind::OnePercentDeleted
            ]
        );
        for r in &results {
            assert!(r.requests >= r.minimum_total, "{r:?}");
        }
        for r in &results[..4] {
            assert_eq!(r.failures, 0, "{r:?}");
        }
        assert_eq!(results[0].writes["timetrack"]["create"], 100);
        assert_eq!(results[0].minimum.timetrack_writes, 100);
        assert!(results[1].writes.is_empty(), "{:?}", results[1].writes);
        assert!(results[2].writes.is_empty(), "{:?}", results[2].writes);
        assert_eq!(results[3].minimum.personio_writes, 2);
        assert_eq!(results[3].minimum.timetrack_writes, 2);
        assert_eq!(results[4].minimum.timetrack_writes, 2);
        // The two users disabled in TimeTrack cannot be answered with a write: refused, reported.
        assert_eq!(results[4].failures, 2, "{:?}", results[4]);
    }
}
