//! Reliability suite, item 2 (issue 15): upstream faults. Each kind is injected into the simulators
//! during a run of a seed-company scenario (the employees' first sync, or time entries both ways for
//! the attendance records); the run must end in a recorded state — a run record with the right status
//! in the table, never a panic — and a normal run afterwards ends both systems where an uninterrupted
//! run ends. Failed writes are retried next run and parked after `sync.max_failures_before_parking`.
//!
//! Kinds: 429 storms with rate headers (Personio) and without (TimeTrack), 500/502/503 bursts on
//! reads and on writes, hangs past the client timeout, dropped connections, an expired token, tokens
//! revoked mid-run, a TimeTrack secret regenerated mid-run, a truncated (malformed JSON) page, a
//! record missing a required field, a record with a malformed value, a Personio cursor that loops.
//! Figures: `--no-capture` prints one `FIGURES` line per kind.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test reliability_upstream --no-capture`.
use std::time::Duration;

use integration_tests::lambda_process::wait_until;
use integration_tests::scenarios::{assert_converges, reference, Scenario, Setup, CLIENT_TIMEOUT};
use jiff::Timestamp;
use secrecy::SecretString;
use shared::domain::EntityKind;
use shared::runs::{RunRecord, RunStatus};
use shared::store::StateStore;
use simulators::{Fault, FaultRule};

/// What a faulty run ended in, checked against the table: the run record the handler answered is the
/// one stored, with one of the `allowed` statuses.
async fn recorded(setup: &Setup, run: &RunRecord, allowed: &[RunStatus], what: &str) {
    assert!(
        allowed.contains(&run.status),
        "{what}: status {:?} not in {allowed:?}: {run:?}",
        run.status
    );
    let stored = setup.last_record().await.expect("a run record");
    assert_eq!(stored.run_id, run.run_id, "{what}");
    assert_eq!(stored.status, run.status, "{what}");
}

fn figures(kind: &str, setup: &Setup, run: &RunRecord) {
    println!(
        "FIGURES reliability_upstream kind={kind:?} faults_fired={} status={:?} failures={} skipped={} duplicates=0 records_lost=0",
        setup.personio.faults_fired() + setup.timetrack.faults_fired(),
        run.status,
        run.failures.len(),
        run.skipped.len()
    );
}

/// Injects `rules` (Personio's, TimeTrack's), runs, checks the record and the convergence after.
async fn fault_then_converge(
    scenario: Scenario,
    kind: &str,
    personio: Vec<FaultRule>,
    timetrack: Vec<FaultRule>,
    allowed: &[RunStatus],
) -> RunRecord {
    let now = Timestamp::now();
    let reference = reference(scenario, now).await;
    let setup = Setup::start(scenario, now).await;
    for rule in personio {
        setup.personio.inject(rule);
    }
    for rule in timetrack {
        setup.timetrack.inject(rule);
    }
    let first = setup.run(now).await;
    assert!(
        setup.personio.faults_fired() + setup.timetrack.faults_fired() > 0,
        "{kind}: the faults fired"
    );
    recorded(&setup, &first, allowed, kind).await;
    figures(kind, &setup, &first);
    setup.personio.clear_faults();
    setup.timetrack.clear_faults();
    assert_converges(&setup, &reference, now, kind).await;
    first
}

const RECOVERED: &[RunStatus] = &[RunStatus::Succeeded];
const RECORD_FAILED: &[RunStatus] = &[RunStatus::CompletedWithFailures];
const RUN_FAILED: &[RunStatus] = &[RunStatus::Failed];

fn get(path: &str, fault: Fault, times: u32) -> FaultRule {
    FaultRule::new(path, fault, times).with_method("GET")
}

#[tokio::test]
async fn a_429_storm_with_rate_headers_is_waited_out() {
    fault_then_converge(
        Scenario::EmployeesFirstSync,
        "429 storm with rate headers (Personio)",
        vec![get("/v2/persons", Fault::Status(429), 3)],
        vec![],
        RECOVERED,
    )
    .await;
}

#[tokio::test]
async fn a_429_storm_without_rate_headers_is_waited_out() {
    fault_then_converge(
        Scenario::EmployeesFirstSync,
        "429 storm without rate headers (TimeTrack)",
        vec![],
        vec![get("/users", Fault::Status(429), 3)],
        RECOVERED,
    )
    .await;
}

#[tokio::test]
async fn bursts_of_500_502_503_on_reads_are_retried() {
    fault_then_converge(
        Scenario::EmployeesFirstSync,
        "500/502/503 burst on reads",
        vec![
            get("/v2/persons", Fault::Status(500), 1),
            get("/v2/persons", Fault::Status(503), 1),
        ],
        vec![get("/users", Fault::Status(502), 2)],
        RECOVERED,
    )
    .await;
}

#[tokio::test]
async fn a_503_burst_on_writes_fails_those_records_only_and_the_next_run_writes_them() {
    let run = fault_then_converge(
        Scenario::EmployeesFirstSync,
        "503 burst on writes",
        vec![],
        vec![FaultRule::new("/users", Fault::Status(503), 50).with_method("POST")],
        RECORD_FAILED,
    )
    .await;
    assert!(!run.failures.is_empty());
}

#[tokio::test]
async fn hangs_past_the_client_timeout_are_retried() {
    let hang = Fault::Hang(CLIENT_TIMEOUT + Duration::from_secs(1));
    fault_then_converge(
        Scenario::EmployeesFirstSync,
        "hang past the client timeout",
        vec![get("/v2/persons", hang.clone(), 1)],
        vec![get("/users", hang, 1)],
        RECOVERED,
    )
    .await;
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    fault_then_converge(
        Scenario::EmployeesFirstSync,
        "dropped connection",
        vec![get("/v2/persons", Fault::DropConnection, 2)],
        vec![get("/users", Fault::DropConnection, 1)],
        RECOVERED,
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_renewed() {
    fault_then_converge(
        Scenario::EmployeesFirstSync,
        "token expired (401 on a read)",
        vec![get("/v2/persons", Fault::Status(401), 1)],
        vec![],
        RECOVERED,
    )
    .await;
}

#[tokio::test]
async fn a_truncated_page_fails_the_run_with_a_record() {
    let run = fault_then_converge(
        Scenario::EmployeesFirstSync,
        "malformed JSON (truncated page)",
        vec![get("/v2/persons", Fault::TruncateBody, 1)],
        vec![],
        RUN_FAILED,
    )
    .await;
    assert!(run.error.is_some(), "{run:?}");
}

#[tokio::test]
async fn a_looping_personio_cursor_fails_the_run_with_a_record() {
    let run = fault_then_converge(
        Scenario::EmployeesFirstSync,
        "Personio cursor loop",
        vec![get("/v2/persons", Fault::LoopCursor, 1)],
        vec![],
        RUN_FAILED,
    )
    .await;
    let error = run.error.unwrap_or_default();
    assert!(error.contains("loop"), "{error}");
}

#[tokio::test]
async fn a_record_missing_a_field_fails_alone() {
    let run = fault_then_converge(
        Scenario::TimeEntriesBothWays,
        "missing field in one record (TimeTrack attendance without user)",
        vec![],
        vec![get("/attendances", Fault::DropField("user".into()), 1)],
        &[RunStatus::Succeeded, RunStatus::CompletedWithFailures],
    )
    .await;
    // The unreadable record is reported, and its Personio twin is not created again in TimeTrack
    // meanwhile (before the fix it was: a duplicate the next run could not resolve).
    assert!(
        run.skipped
            .iter()
            .any(|s| s.reason.starts_with("rejected: unreadable")),
        "the record is reported: {run:?}"
    );
    assert!(
        run.skipped
            .iter()
            .any(|s| s.reason.starts_with("deferred:")),
        "creates onto TimeTrack wait: {run:?}"
    );
}

#[tokio::test]
async fn a_record_with_a_malformed_value_fails_alone() {
    let run = fault_then_converge(
        Scenario::TimeEntriesBothWays,
        "malformed value in one record (Personio period start)",
        vec![get(
            "/v2/attendance-periods",
            Fault::ReplaceField {
                field: "start".into(),
                value: serde_json::json!({"date_time": "soon"}),
            },
            1,
        )],
        vec![],
        &[RunStatus::Succeeded, RunStatus::CompletedWithFailures],
    )
    .await;
    assert!(!run.skipped.is_empty(), "the record is reported: {run:?}");
}

#[tokio::test]
async fn personio_tokens_revoked_mid_run_are_replaced() {
    let now = Timestamp::now();
    let scenario = Scenario::EmployeesFirstSync;
    let reference = reference(scenario, now).await;
    let setup = Setup::start(scenario, now).await;
    // The persons read waits; meanwhile every token issued so far is revoked.
    setup.personio.inject(get(
        "/v2/persons",
        Fault::Hang(Duration::from_millis(800)),
        1,
    ));
    let run = async { setup.run(now).await };
    let revoke = async {
        assert!(
            wait_until(Duration::from_secs(10), || !setup
                .personio
                .issued_tokens()
                .is_empty())
            .await
        );
        setup.personio.revoke_tokens();
    };
    let (first, ()) = tokio::join!(run, revoke);
    let kind = "Personio tokens revoked mid-run";
    assert!(
        setup.personio.issued_tokens().len() >= 2,
        "{kind}: a new token was fetched"
    );
    recorded(&setup, &first, RECOVERED, kind).await;
    figures(kind, &setup, &first);
    assert_converges(&setup, &reference, now, kind).await;
}

#[tokio::test]
async fn a_timetrack_secret_regenerated_mid_run_fails_with_a_record_until_it_is_updated() {
    let now = Timestamp::now();
    let scenario = Scenario::EmployeesFirstSync;
    let reference = reference(scenario, now).await;
    let setup = Setup::start(scenario, now).await;
    setup
        .timetrack
        .inject(get("/users", Fault::Hang(Duration::from_millis(800)), 1));
    let run = async { setup.run(now).await };
    let regenerate = async {
        assert!(
            wait_until(Duration::from_secs(10), || setup.timetrack.faults_fired()
                > 0)
            .await
        );
        setup.timetrack.regenerate_secret("tt-regenerated-secret");
    };
    let (first, ()) = tokio::join!(run, regenerate);
    let kind = "TimeTrack secret regenerated mid-run";
    recorded(
        &setup,
        &first,
        &[RunStatus::Failed, RunStatus::CompletedWithFailures],
        kind,
    )
    .await;
    let error = format!("{:?} {:?}", first.error, first.failures);
    assert!(
        !error.contains("tt-sim-secret") && !error.contains("tt-regenerated-secret"),
        "{kind}: no secret in the record: {error}"
    );
    figures(kind, &setup, &first);
    // Until the integration's credentials are updated, every run fails the same way, recorded.
    let again = setup.run(now).await;
    assert_eq!(again.status, first.status, "{kind}: {again:?}");
    // The admin stores the new secret: the next run converges.
    let mut context = setup.context(now);
    let mut login = setup.login();
    login.timetrack_api_secret = SecretString::from("tt-regenerated-secret".to_string());
    context.credentials = std::sync::Arc::new(
        shared::credentials::StaticCredentials::new().with(setup.id.clone(), login),
    );
    let (second, _) = setup.run_with(context.clone()).await;
    assert_ne!(second.status, RunStatus::Failed, "{kind}: {second:?}");
    let (third, _) = setup.run_with(context).await;
    assert_eq!(
        integration_tests::writes(&third.counts),
        reference.quiet,
        "{kind}: {third:?}"
    );
    assert_eq!(setup.snapshot().diff(&reference.snapshot), (vec![], vec![]));
}

/// A write TimeTrack refuses on every run (422) fails its record each run, is retried, and is parked
/// after `sync.max_failures_before_parking` failures; a parked record is not written again.
#[tokio::test]
async fn a_write_failing_every_run_is_retried_then_parked() {
    let now = Timestamp::now();
    let scenario = Scenario::EmployeesFirstSync;
    let setup = Setup::start(scenario, now).await;
    let mut settings = setup
        .store
        .get_settings(&setup.id)
        .await
        .expect("settings")
        .expect("stored");
    settings.sync.max_failures_before_parking = 2;
    setup
        .store
        .put_settings(&setup.id, &settings)
        .await
        .expect("settings");
    setup
        .timetrack
        .inject(FaultRule::new("/users", Fault::Status(422), 1000).with_method("POST"));
    let posts = |setup: &Setup| {
        setup
            .timetrack
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.api_path == "/users")
            .count()
    };
    let mut statuses = Vec::new();
    let mut attempts = Vec::new();
    for minute in 0..3 {
        let before = posts(&setup);
        // One minute apart: run ids (and `last_record`) order by start time.
        let run = setup
            .run(now + jiff::SignedDuration::from_mins(minute))
            .await;
        recorded(
            &setup,
            &run,
            &[RunStatus::CompletedWithFailures, RunStatus::Succeeded],
            "parking",
        )
        .await;
        statuses.push(run.status);
        attempts.push(posts(&setup) - before);
    }
    let parked: Vec<_> = setup
        .store
        .list_mappings(&setup.id, EntityKind::Employee, None)
        .await
        .expect("mappings")
        .into_iter()
        .filter(|m| m.parked.is_some())
        .collect();
    println!(
        "FIGURES reliability_upstream kind=\"write refused every run (parking)\" runs=3 statuses={statuses:?} posts_per_run={attempts:?} parked={}",
        parked.len()
    );
    assert_eq!(statuses[0], RunStatus::CompletedWithFailures);
    assert_eq!(statuses[1], RunStatus::CompletedWithFailures);
    assert!(
        attempts[0] > 0 && attempts[1] == attempts[0],
        "{attempts:?}"
    );
    assert_eq!(parked.len(), attempts[0], "each refused record is parked");
    assert_eq!(attempts[2], 0, "a parked record is not written again");
}
