//! Reliability suite, item 1 (issue 15): a crash and a lost answer at every write of every workflow
//! scenario on the seed company; a normal run afterwards ends both systems exactly where an
//! uninterrupted run ends.
//!
//! Scenarios: the employees' first sync, time entries both directions, absences, the payroll push. For
//! each, an uninterrupted reference run on fresh simulators gives the writes (k = 1..n, from the
//! simulators' request logs) and the end state. Then, for a write k, on fresh simulators and a fresh
//! table:
//! - **crash**: the workflow's real binary (`target/debug/<name>`) runs the event under a fake Lambda
//!   Runtime API with the production context (DynamoDB and Secrets Manager on moto); the simulator
//!   applies write k and holds its answer (`after_apply` hang) and counts it; the test sees the count
//!   and SIGKILLs the process. The lease is left behind (a lease attempt right after is refused); it
//!   expires honestly by **moving the clock**: the next run runs in-process on a `ManualClock` standing
//!   16 minutes later, past the 15-minute lease TTL (`RunnerConfig::lease_ttl`).
//! - **lost answer**: write k is applied and its answer lost — a 504, a dropped connection, or an
//!   answer later than the client's 1.5 s timeout — in an in-process run.
//!
//! Then a normal run, and a third that must write nothing. Checked: the records of both simulators
//! equal the reference's (ids and stamps aside: zero duplicates, zero lost), the mappings agree with
//! both sides (every id names a live record, none is claimed twice, as many links as the reference).
//!
//! `make test` runs a sample (the first, middle and last write of each scenario; the lost-answer kind
//! rotates over them); `make test-long` runs every write × (crash + 3 lost-answer kinds).
//! Figures: `--no-capture` prints one `FIGURES` line per test.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test reliability_crash --no-capture`.
use std::time::Duration;

use integration_tests::convergence::sample_points;
use integration_tests::lambda_process::{
    function_binary, wait_until, FakeRuntime, FunctionEnv, FunctionProcess,
};
use integration_tests::scenarios::{
    assert_converges, clear_of_berlin_midnight, reference, Reference, Scenario, Setup,
    CLIENT_TIMEOUT,
};
use integration_tests::{secretsmanager_client, unique};
use jiff::{SignedDuration, Timestamp};
use shared::credentials::{CredentialsSource, SecretsManagerCredentials};
use shared::runs::RunStatus;
use shared::store::{StateStore, StoreError};
use simulators::Fault;

/// The lease TTL of the runner (`RunnerConfig::default().lease_ttl`); the run after a crash stands
/// this much plus a minute later.
const LEASE_TTL: Duration = Duration::from_secs(15 * 60);

/// How one faulty execution ended.
#[derive(Default)]
struct Tally {
    crashes: usize,
    lost_answers: usize,
    duplicates: usize,
    lost_records: usize,
    stale_running_records: usize,
    abandoned_closed: usize,
}

/// [`assert_converges`], counting into `tally`.
async fn converges(
    setup: &Setup,
    reference: &Reference,
    at: Timestamp,
    what: &str,
    tally: &mut Tally,
) {
    let (duplicates, lost) = assert_converges(setup, reference, at, what).await;
    tally.duplicates += duplicates;
    tally.lost_records += lost;
}

/// The three ways an answer is lost after the write was applied.
fn lost_answer(kind: usize) -> (&'static str, Fault) {
    match kind % 3 {
        0 => ("504", Fault::applied_then_status(504)),
        1 => ("dropped connection", Fault::applied_then_dropped()),
        _ => (
            "hang past the client timeout",
            Fault::applied_then_hang(CLIENT_TIMEOUT + Duration::from_secs(1)),
        ),
    }
}

async fn lost_answer_at(
    scenario: Scenario,
    reference: &Reference,
    k: usize,
    kind: usize,
    now: Timestamp,
    tally: &mut Tally,
) {
    let write = &reference.writes[k - 1];
    let (name, fault) = lost_answer(kind);
    let what = format!(
        "{scenario:?}, write {k}/{} ({write}), {name}",
        reference.writes.len()
    );
    let setup = Setup::start(scenario, now).await;
    setup.inject(write, fault);
    let first = setup.run(now).await;
    assert_eq!(setup.faults_fired(), 1, "{what}: the fault hit: {first:?}");
    tally.lost_answers += 1;
    converges(&setup, reference, now, &what, tally).await;
}

async fn crash_at(
    scenario: Scenario,
    reference: &Reference,
    k: usize,
    now: Timestamp,
    tally: &mut Tally,
) {
    let write = &reference.writes[k - 1];
    let what = format!(
        "{scenario:?}, crash at write {k}/{} ({write})",
        reference.writes.len()
    );
    let setup = Setup::start(scenario, now).await;
    let secret_prefix = format!("/{}", unique("crash"));
    SecretsManagerCredentials::new(
        secretsmanager_client().await,
        secret_prefix.clone(),
        Duration::from_secs(60),
    )
    .store(&setup.id, &setup.login())
    .await
    .expect("secret stored");
    setup.inject(write, Fault::applied_then_hang(Duration::from_secs(120)));
    let runtime = FakeRuntime::serve(setup.event()).await;
    let mut process = FunctionProcess::spawn(
        &function_binary(scenario.binary()),
        &runtime,
        &FunctionEnv {
            table: setup.table.clone(),
            secret_prefix,
            personio_base_url: setup.personio.base_url(),
            timetrack_base_url_template: setup.timetrack.base_url_template(),
        },
    );
    let held = wait_until(Duration::from_secs(90), || {
        setup.faults_fired() == 1 || runtime.outcome().is_some()
    })
    .await;
    assert!(
        held && setup.faults_fired() == 1,
        "{what}: write k was applied and held (outcome {:?})",
        runtime.outcome()
    );
    assert!(
        process.kill(),
        "{what}: the process was still running when killed"
    );
    assert_eq!(runtime.outcome(), None, "{what}: killed before it answered");
    tally.crashes += 1;
    // The lease is left behind: a run now is refused.
    let probe = setup
        .store
        .acquire_lease(
            &setup.id,
            scenario.workflow(),
            "probe",
            Timestamp::now(),
            LEASE_TTL,
        )
        .await;
    assert!(
        matches!(probe, Err(StoreError::LeaseHeld { .. })),
        "{what}: the killed run's lease is left behind: {probe:?}"
    );
    let runs = setup
        .store
        .list_runs(&setup.id, Some(scenario.workflow()), 10, None)
        .await
        .expect("runs");
    tally.stale_running_records += runs
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Running)
        .count();
    // The lease expires: the next run stands past its TTL.
    // (Counted from the kill: the killed process took its lease on the system clock, after `now`.)
    let later = Timestamp::now()
        + SignedDuration::try_from(LEASE_TTL).expect("ttl")
        + SignedDuration::from_mins(1);
    converges(&setup, reference, later, &what, tally).await;
    // The killed run's record does not say `Running` forever: the run that took over closed it.
    let runs = setup
        .store
        .list_runs(&setup.id, Some(scenario.workflow()), 10, None)
        .await
        .expect("runs");
    let killed = runs
        .runs
        .iter()
        .find(|r| r.started_at < later - SignedDuration::from_mins(10))
        .expect("the killed run's record");
    assert_eq!(killed.status, RunStatus::Failed, "{what}: {killed:?}");
    assert!(
        killed.error.as_deref().unwrap_or("").contains("abandoned"),
        "{what}: {killed:?}"
    );
    tally.abandoned_closed += 1;
}

/// Runs `points` of `scenario` (crash and/or lost answers) and prints the figures.
async fn sweep(scenario: Scenario, exhaustive: bool, crash: bool, lost: bool) {
    if crash {
        function_binary(scenario.binary());
    }
    // Every run of the sweep, and the run a lease TTL after each kill, must see the same Berlin day.
    let duration = if exhaustive {
        Duration::from_secs(60 * 60)
    } else {
        Duration::from_secs(5 * 60)
    };
    let after_the_last_run = if crash {
        LEASE_TTL + Duration::from_secs(2 * 60)
    } else {
        Duration::from_secs(2 * 60)
    };
    let now = clear_of_berlin_midnight(duration + after_the_last_run).await;
    let reference = reference(scenario, now).await;
    let n = reference.writes.len();
    let points: Vec<usize> = if exhaustive {
        (1..=n).collect()
    } else {
        sample_points(n)
    };
    let mut tally = Tally::default();
    for (i, k) in points.iter().copied().enumerate() {
        if crash {
            crash_at(scenario, &reference, k, now, &mut tally).await;
        }
        if lost {
            if exhaustive {
                for kind in 0..3 {
                    lost_answer_at(scenario, &reference, k, kind, now, &mut tally).await;
                }
            } else {
                lost_answer_at(scenario, &reference, k, i, now, &mut tally).await;
            }
        }
    }
    println!(
        "FIGURES reliability_crash scenario={scenario:?} writes={n} crash_points={} lost_answers={} \
         records_synced={} duplicates={} records_lost={} killed_runs_left_running={} closed_as_abandoned={}",
        tally.crashes,
        tally.lost_answers,
        reference.synced,
        tally.duplicates,
        tally.lost_records,
        tally.stale_running_records,
        tally.abandoned_closed
    );
}

#[tokio::test]
async fn employees_first_sync_survives_a_crash_at_sampled_writes() {
    sweep(Scenario::EmployeesFirstSync, false, true, false).await;
}

#[tokio::test]
async fn employees_first_sync_survives_a_lost_answer_at_sampled_writes() {
    sweep(Scenario::EmployeesFirstSync, false, false, true).await;
}

#[tokio::test]
async fn time_entries_both_ways_survive_a_crash_at_sampled_writes() {
    sweep(Scenario::TimeEntriesBothWays, false, true, false).await;
}

#[tokio::test]
async fn time_entries_both_ways_survive_a_lost_answer_at_sampled_writes() {
    sweep(Scenario::TimeEntriesBothWays, false, false, true).await;
}

#[tokio::test]
async fn absences_survive_a_crash_at_sampled_writes() {
    sweep(Scenario::Absences, false, true, false).await;
}

#[tokio::test]
async fn absences_survive_a_lost_answer_at_sampled_writes() {
    sweep(Scenario::Absences, false, false, true).await;
}

#[tokio::test]
async fn the_payroll_push_survives_a_crash_at_sampled_writes() {
    sweep(Scenario::PayrollPush, false, true, false).await;
}

#[tokio::test]
async fn the_payroll_push_survives_a_lost_answer_at_sampled_writes() {
    sweep(Scenario::PayrollPush, false, false, true).await;
}

#[tokio::test]
#[ignore = "long: every write of the employees' first sync × (crash + 3 lost answers)"]
async fn employees_first_sync_survives_a_crash_or_lost_answer_at_every_write() {
    sweep(Scenario::EmployeesFirstSync, true, true, true).await;
}

#[tokio::test]
#[ignore = "long: every write of time entries both ways × (crash + 3 lost answers)"]
async fn time_entries_both_ways_survive_a_crash_or_lost_answer_at_every_write() {
    sweep(Scenario::TimeEntriesBothWays, true, true, true).await;
}

#[tokio::test]
#[ignore = "long: every write of the absences run × (crash + 3 lost answers)"]
async fn absences_survive_a_crash_or_lost_answer_at_every_write() {
    sweep(Scenario::Absences, true, true, true).await;
}

#[tokio::test]
#[ignore = "long: every write of the payroll push × (crash + 3 lost answers)"]
async fn the_payroll_push_survives_a_crash_or_lost_answer_at_every_write() {
    sweep(Scenario::PayrollPush, true, true, true).await;
}
