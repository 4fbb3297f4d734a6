//! The workflow scenarios of the reliability suite on the seed company, shared by its tests: the
//! employees' first sync, time entries both directions, absences and the payroll push — each on fresh
//! simulators and a fresh moto table, run in-process through the workflow's Lambda handler — and what
//! an uninterrupted run of one does and leaves ([`Reference`]), which every faulty run must end at.
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::{json, Value};
use shared::credentials::{Credentials, StaticCredentials};
use shared::domain::{EntityKind, IntegrationId, System, Workflow};
use shared::engine::{ManualClock, RecordingScheduler};
use shared::runs::RunRecord;
use shared::service::{InvocationError, ServiceContext, WorkflowService};
use shared::settings::{AbsenceTypeMapping, IntegrationSettings, TimeEntryMode, TimestampMode};
use shared::store::dynamodb::DynamoStore;
use shared::store::StateStore;
use shared::workflows::absences::binding::AbsencesBinding;
use shared::workflows::employees::binding::EmployeesBinding;
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::{
    Fault, FaultRule, PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim,
};

use crate::convergence::{check_mappings, writes_in_logs, MappingCheck, Side, Snapshot, Write};
use crate::{
    fixture_event, fresh_table, link_employees_by_email, sim_clients, sim_login, start_simulators,
    unique, writes, Counts,
};

/// The in-process runs' client timeout; the "hang" lost answer outlasts it.
pub const CLIENT_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    EmployeesFirstSync,
    TimeEntriesBothWays,
    Absences,
    PayrollPush,
}

impl Scenario {
    pub fn workflow(self) -> Workflow {
        match self {
            Scenario::EmployeesFirstSync => Workflow::Employees,
            Scenario::TimeEntriesBothWays | Scenario::PayrollPush => Workflow::TimeEntries,
            Scenario::Absences => Workflow::Absences,
        }
    }

    pub fn kind(self) -> EntityKind {
        match self.workflow() {
            Workflow::Employees => EntityKind::Employee,
            Workflow::TimeEntries => EntityKind::TimeEntry,
            Workflow::Absences => EntityKind::Absence,
        }
    }

    pub fn binary(self) -> &'static str {
        self.workflow().as_str()
    }
}

/// One scenario on fresh simulators and a fresh table.
pub struct Setup {
    pub scenario: Scenario,
    pub personio: PersonioSim,
    pub timetrack: TimeTrackSim,
    pub store: Arc<DynamoStore>,
    pub table: String,
    pub id: IntegrationId,
    pub today: Date,
}

fn berlin_today(now: Timestamp) -> Date {
    now.to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"))
        .date()
}

/// Waits, when needed, until a stretch of `needed` from now stays inside one Berlin day.
///
/// Why: the scenarios' windows end on the Berlin "today" of the run's clock, and the seed fills every
/// day up to it. A crash test's run after the kill stands a lease TTL after the real clock (the killed
/// binary took its lease on the real clock, which a test cannot move). Started shortly before
/// midnight, that run's window is a day later than the reference's: the reference's first day falls
/// out of it, and the records of that day are missing for a reason that has nothing to do with the
/// crash (seen in CI at 22:45 UTC). Returns the instant the sweep may start at.
pub async fn clear_of_berlin_midnight(needed: Duration) -> Timestamp {
    let needed = jiff::SignedDuration::try_from(needed).expect("needed");
    if let Some(wait) = wait_for_one_berlin_day(Timestamp::now(), needed) {
        eprintln!(
            "waiting {wait:#} for Berlin midnight to pass: the sweep needs {needed:#} inside one day"
        );
        tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    }
    Timestamp::now()
}

/// How long to wait from `now` (none, or until 5 s past the next Berlin midnight) for `needed` to
/// fit inside one Berlin day.
fn wait_for_one_berlin_day(
    now: Timestamp,
    needed: jiff::SignedDuration,
) -> Option<jiff::SignedDuration> {
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").expect("zone");
    let next_midnight = berlin_today(now)
        .tomorrow()
        .expect("tomorrow")
        .to_zoned(zone)
        .expect("midnight")
        .timestamp();
    (now + needed >= next_midnight)
        .then(|| next_midnight.duration_since(now) + jiff::SignedDuration::from_secs(5))
}

fn settings(scenario: Scenario, personio: &PersonioSim) -> IntegrationSettings {
    let mut s = IntegrationSettings::example();
    s.sync.concurrency = 1;
    match scenario {
        Scenario::EmployeesFirstSync => {
            s.employees.personal_number_attribute = Some("personal_number".to_string());
        }
        Scenario::TimeEntriesBothWays | Scenario::PayrollPush => {
            s.time_zone = "Europe/Berlin".into();
            s.timetrack_timestamp_mode = TimestampMode::Utc;
            s.time_entries.master = System::TimeTrack;
            s.time_entries.mode = if scenario == Scenario::PayrollPush {
                TimeEntryMode::Push
            } else {
                TimeEntryMode::Bidirectional
            };
            s.personio.attendance_skip_approval = false;
            s.windows.time_entries.lookback_days = 14;
            s.windows.time_entries.lookahead_days = 0;
        }
        Scenario::Absences => {
            let (vacation, sick) = {
                let p = personio.state();
                (
                    p.absence_type_id_by_name("Vacation").expect("Vacation"),
                    p.absence_type_id_by_name("Sick leave").expect("Sick leave"),
                )
            };
            s.absences.type_mappings = vec![
                AbsenceTypeMapping {
                    timetrack_type_id: 1,
                    personio_type_id: vacation,
                    master: System::Personio,
                    half_day_timetrack_type_id: Some(2),
                },
                AbsenceTypeMapping {
                    timetrack_type_id: 5,
                    personio_type_id: sick,
                    master: System::TimeTrack,
                    half_day_timetrack_type_id: None,
                },
            ];
        }
    }
    s
}

impl Setup {
    pub async fn start(scenario: Scenario, now: Timestamp) -> Setup {
        let today = berlin_today(now);
        let (personio, timetrack) = start_simulators(&Seed::company(today)).await;
        let (store, table) = fresh_table().await;
        let store = Arc::new(store);
        let id = IntegrationId::new(unique("acme")).expect("integration id");
        store
            .put_settings(&id, &settings(scenario, &personio))
            .await
            .expect("settings");
        if scenario != Scenario::EmployeesFirstSync {
            link_employees_by_email(&store, &id, &personio, &timetrack, now).await;
        }
        Setup {
            scenario,
            personio,
            timetrack,
            store,
            table,
            id,
            today,
        }
    }

    /// The event the scenario's run gets: the scheduled event, or for the payroll push the manual
    /// sync request of the last 14 days towards Personio.
    pub fn event(&self) -> Value {
        match self.scenario {
            Scenario::PayrollPush => {
                let mut event = fixture_event("apigw-sync-time-entries.json", &self.id);
                let from = self.today.saturating_sub(jiff::Span::new().days(14));
                let body = json!({"from": from.to_string(), "to": self.today.to_string(), "direction": "to_personio"});
                event["body"] = Value::String(body.to_string());
                event
            }
            s => fixture_event(&format!("scheduled-{}.json", s.binary()), &self.id),
        }
    }

    /// The context an in-process run gets: the table, the simulators' login, a recording scheduler,
    /// a clock standing at `at`, clients with [`CLIENT_TIMEOUT`].
    pub fn context(&self, at: Timestamp) -> ServiceContext {
        ServiceContext {
            store: self.store.clone(),
            credentials: Arc::new(StaticCredentials::new().with(self.id.clone(), self.login())),
            scheduler: Arc::new(RecordingScheduler::default()),
            clock: Arc::new(ManualClock::new(at)),
            clients: sim_clients(&self.personio, &self.timetrack, CLIENT_TIMEOUT),
        }
    }

    /// The simulators' login.
    pub fn login(&self) -> Credentials {
        sim_login(&PersonioConfig::default(), &TimeTrackConfig::default())
    }

    /// The scenario's event through the workflow's handler on `context`, as Lambda calls it.
    pub async fn invoke(&self, context: ServiceContext) -> Result<Value, InvocationError> {
        let event = self.event();
        match self.scenario.workflow() {
            Workflow::Employees => {
                WorkflowService::new(context, EmployeesBinding)
                    .handle(event, None)
                    .await
            }
            Workflow::TimeEntries => {
                WorkflowService::new(context, TimeEntriesBinding)
                    .handle(event, None)
                    .await
            }
            Workflow::Absences => {
                WorkflowService::new(context, AbsencesBinding)
                    .handle(event, None)
                    .await
            }
        }
    }

    /// One run in this process (the handler, as Lambda calls it) on a clock standing at `at`: the
    /// run record it answered, or — when the invocation failed, as a scheduled run that fails does —
    /// the run record it left in the table (there must be one).
    pub async fn run(&self, at: Timestamp) -> RunRecord {
        self.run_with(self.context(at)).await.0
    }

    /// [`Self::run`] on `context`; also gives the invocation's error, if it failed.
    pub async fn run_with(&self, context: ServiceContext) -> (RunRecord, Option<InvocationError>) {
        match self.invoke(context).await {
            Ok(out) => (record_of(out), None),
            Err(e) => {
                let record = self
                    .last_record()
                    .await
                    .unwrap_or_else(|| panic!("a failed invocation leaves a run record: {e}"));
                assert_ne!(
                    record.status,
                    shared::runs::RunStatus::Running,
                    "the failed invocation left its own, finished run record: {e}"
                );
                (record, Some(e))
            }
        }
    }

    /// The newest run record of the scenario's workflow in the table.
    pub async fn last_record(&self) -> Option<RunRecord> {
        self.store
            .list_runs(&self.id, Some(self.scenario.workflow()), 1, None)
            .await
            .expect("list runs")
            .runs
            .into_iter()
            .next()
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.personio, &self.timetrack)
    }

    pub async fn mappings(&self) -> MappingCheck {
        check_mappings(
            self.store.as_ref(),
            &self.id,
            self.scenario.kind(),
            &self.personio,
            &self.timetrack,
        )
        .await
    }

    pub fn inject(&self, write: &Write, fault: Fault) {
        let rule = FaultRule::new(write.api_path.clone(), fault, 1)
            .with_method(write.method.clone())
            .after(write.skip);
        match write.side {
            Side::Personio => self.personio.inject(rule),
            Side::TimeTrack => self.timetrack.inject(rule),
        }
    }

    pub fn faults_fired(&self) -> u32 {
        self.personio.applied_with_fault() + self.timetrack.applied_with_fault()
    }
}

/// The run record a handler answered: the scheduled run's record, or the body of a manual sync's answer.
pub fn record_of(out: Value) -> RunRecord {
    let record = match out.get("statusCode") {
        Some(status) => {
            assert_eq!(status.as_u64(), Some(200), "manual sync answer: {out}");
            serde_json::from_str(out["body"].as_str().expect("body")).expect("json body")
        }
        None => out,
    };
    serde_json::from_value(record).expect("run record")
}

/// What an uninterrupted run does and leaves.
pub struct Reference {
    pub writes: Vec<Write>,
    pub snapshot: Snapshot,
    pub mappings: MappingCheck,
    /// The writes of the run after it (the seed's one absence TimeTrack refuses every run stays).
    pub quiet: Counts,
    pub synced: u64,
}

pub async fn reference(scenario: Scenario, now: Timestamp) -> Reference {
    let setup = Setup::start(scenario, now).await;
    let first = setup.run(now).await;
    let written = writes_in_logs(&setup.personio, &setup.timetrack);
    let second = setup.run(now).await;
    assert!(
        writes_in_logs(&setup.personio, &setup.timetrack).len() == written.len(),
        "{scenario:?}: the run after an uninterrupted run writes nothing: {second:?}"
    );
    let mappings = setup.mappings().await;
    assert!(mappings.problems.is_empty(), "{:?}", mappings.problems);
    let synced = writes(&first.counts)
        .iter()
        .filter(|(side, _)| side.as_str() != "mappings")
        .flat_map(|(_, actions)| actions.iter())
        .filter(|(action, _)| action.as_str() != "failed")
        .map(|(_, n)| *n)
        .sum();
    assert!(
        !written.is_empty(),
        "{scenario:?} writes something: {first:?}"
    );
    Reference {
        writes: written,
        snapshot: setup.snapshot(),
        mappings,
        quiet: writes(&second.counts),
        synced,
    }
}

/// The runs after a fault: a normal run at `at`, then a third that must write nothing (beyond what
/// the reference's quiet run writes); both systems end where the reference ends (no duplicate, no
/// lost record) and the mappings agree with both sides. Returns (duplicates, lost records) — both
/// zero, or the assertion failed.
pub async fn assert_converges(
    setup: &Setup,
    reference: &Reference,
    at: Timestamp,
    what: &str,
) -> (usize, usize) {
    let second = setup.run(at).await;
    assert_ne!(
        second.status,
        shared::runs::RunStatus::Failed,
        "{what}: {second:?}"
    );
    let third = setup.run(at + jiff::SignedDuration::from_mins(1)).await;
    assert_eq!(
        writes(&third.counts),
        reference.quiet,
        "{what}: the run after the normal run writes nothing: {third:?}"
    );
    let (extra, missing) = setup.snapshot().diff(&reference.snapshot);
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: both systems end where the uninterrupted run ends;\nextra: {extra:#?}\nmissing: {missing:#?}"
    );
    let mappings = setup.mappings().await;
    assert!(
        mappings.problems.is_empty(),
        "{what}: {:?}",
        mappings.problems
    );
    assert_eq!(mappings.linked, reference.mappings.linked, "{what}: links");
    (extra.len(), missing.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_that_would_cross_berlin_midnight_waits_until_it_has_passed() {
        let needed = jiff::SignedDuration::from_mins(21);
        // 22:30 UTC in winter is 23:30 in Berlin: 30 minutes left, enough.
        let early: Timestamp = "2026-12-07T22:30:00Z".parse().expect("ts");
        assert_eq!(wait_for_one_berlin_day(early, needed), None);
        // 22:45 UTC: 15 minutes left; wait until 23:00:05 UTC.
        let late: Timestamp = "2026-12-07T22:45:00Z".parse().expect("ts");
        assert_eq!(
            wait_for_one_berlin_day(late, needed),
            Some(jiff::SignedDuration::from_secs(15 * 60 + 5))
        );
        // Summer time: midnight in Berlin is 22:00 UTC.
        let summer: Timestamp = "2026-07-01T21:50:00Z".parse().expect("ts");
        assert_eq!(
            wait_for_one_berlin_day(summer, needed),
            Some(jiff::SignedDuration::from_secs(10 * 60 + 5))
        );
    }
}
