//! Reliability suite, item 3 (issue 15): AWS faults. DynamoDB conditional-write conflicts and
//! throttling (an [`InterceptingStore`] over the real moto table fails the n-th call of an operation
//! with the error the DynamoDB adapter returns for them), a missing and an unreadable secret (real
//! Secrets Manager on moto), and Scheduler errors when a run must continue (the real EventBridge
//! Scheduler client on moto, with a schedule group that does not exist). Each ends in a clear typed
//! error and a run record, with nothing half-written: the next normal run ends both systems where an
//! uninterrupted run ends. SQS redelivery is not covered: it comes with the webhooks.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test reliability_aws --no-capture`.
use std::sync::Arc;
use std::time::Duration;

use integration_tests::intercepting_store::{conflict, throttled, FailCalls, InterceptingStore};
use integration_tests::scenarios::{assert_converges, reference, Scenario, Setup};
use integration_tests::{aws, secretsmanager_client, unique};
use jiff::{SignedDuration, Timestamp};
use shared::credentials::SecretsManagerCredentials;
use shared::runs::{RunRecord, RunStatus};
use shared::scheduling::{EventBridgeScheduler, SchedulerTargets};
use shared::service::InvocationError;
use shared::store::StateStore;

fn figures(kind: &str, run: &RunRecord, error: &Option<InvocationError>) {
    println!(
        "FIGURES reliability_aws kind={kind:?} status={:?} invocation_error={:?} failures={}",
        run.status,
        error
            .as_ref()
            .map(|e| format!("{e:?}").split('(').next().unwrap_or("").to_string()),
        run.failures.len()
    );
}

/// Runs the employees' first sync with the store failing the `nth` `operation` call `times` times.
async fn store_fault(
    kind: &str,
    operation: &'static str,
    nth: u32,
    times: u32,
    error: fn(&str) -> shared::store::StoreError,
) -> (Setup, RunRecord, Option<InvocationError>, u32) {
    let now = Timestamp::now();
    let reference = reference(Scenario::EmployeesFirstSync, now).await;
    let setup = Setup::start(Scenario::EmployeesFirstSync, now).await;
    let failing = Arc::new(FailCalls::new(operation, nth, times, move || {
        error(operation)
    }));
    let mut context = setup.context(now);
    context.store = Arc::new(InterceptingStore::new(setup.store.clone(), failing.clone()));
    let (run, invocation) = setup.run_with(context).await;
    assert!(failing.failed() > 0, "{kind}: the fault fired");
    figures(kind, &run, &invocation);
    assert_ne!(
        run.status,
        RunStatus::Running,
        "{kind}: the run record is finished: {run:?}"
    );
    assert_converges(&setup, &reference, now, kind).await;
    let fired = failing.failed();
    (setup, run, invocation, fired)
}

#[tokio::test]
async fn a_lost_conditional_write_on_a_mapping_fails_that_record_only() {
    let (_, run, _, _) = store_fault(
        "DynamoDB conditional-write conflict on put_mapping",
        "put_mapping",
        2,
        1,
        conflict,
    )
    .await;
    assert_eq!(run.status, RunStatus::CompletedWithFailures, "{run:?}");
    assert!(
        run.failures
            .iter()
            .any(|f| f.error.contains("concurrent modification")),
        "{:?}",
        run.failures
    );
}

#[tokio::test]
async fn throttled_mapping_writes_fail_their_records_only() {
    let (_, run, _, _) = store_fault(
        "DynamoDB throttling on put_mapping",
        "put_mapping",
        1,
        2,
        throttled,
    )
    .await;
    assert_ne!(run.status, RunStatus::Succeeded, "{run:?}");
    let text = format!("{:?} {:?}", run.error, run.failures);
    assert!(text.contains("ProvisionedThroughputExceeded"), "{text}");
}

/// The watermark is written after the finished record: when that write is throttled the run stays
/// what it was (its records are synced and recorded) and only the watermark stays behind, so the next
/// scheduled run reads from the older watermark — more than needed, nothing missed.
#[tokio::test]
async fn a_throttled_watermark_write_keeps_the_finished_run_and_the_older_watermark() {
    let (setup, run, invocation, _) = store_fault(
        "DynamoDB throttling on put_watermark",
        "put_watermark",
        1,
        1,
        throttled,
    )
    .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?} / {invocation:?}");
    assert!(invocation.is_none());
    let stored = setup
        .store
        .get_run(&setup.id, &run.run_id)
        .await
        .expect("get");
    assert_eq!(stored.map(|r| r.status), Some(RunStatus::Succeeded));
}

#[tokio::test]
async fn a_throttled_lease_is_a_typed_error_and_nothing_is_written() {
    let now = Timestamp::now();
    let setup = Setup::start(Scenario::EmployeesFirstSync, now).await;
    let failing = Arc::new(FailCalls::new("acquire_lease", 1, 1, || {
        throttled("acquire_lease")
    }));
    let mut context = setup.context(now);
    context.store = Arc::new(InterceptingStore::new(setup.store.clone(), failing));
    let result = setup.invoke(context).await;
    let kind = "DynamoDB throttling on acquire_lease";
    println!("FIGURES reliability_aws kind={kind:?} result={result:?}");
    assert!(
        matches!(result, Err(InvocationError::Unavailable(_))),
        "{kind}: {result:?}"
    );
    assert!(setup.personio.requests().is_empty() && setup.timetrack.requests().is_empty());
    assert!(setup.snapshot().diff(&setup.snapshot()).0.is_empty());
}

/// The credentials from Secrets Manager on moto under a fresh prefix, where `secret` (if any) is
/// stored as the integration's secret string.
async fn secrets_context(
    setup: &Setup,
    now: Timestamp,
    secret: Option<&str>,
) -> shared::service::ServiceContext {
    let client = secretsmanager_client().await;
    let prefix = format!("/{}", unique("aws-faults"));
    if let Some(value) = secret {
        client
            .create_secret()
            .name(shared::credentials::secret_name(&prefix, &setup.id))
            .secret_string(value)
            .send()
            .await
            .expect("secret created");
    }
    let mut context = setup.context(now);
    context.credentials = Arc::new(SecretsManagerCredentials::new(
        client,
        prefix,
        Duration::from_secs(1),
    ));
    context
}

async fn secret_fault(kind: &str, secret: Option<&str>) {
    let now = Timestamp::now();
    let setup = Setup::start(Scenario::EmployeesFirstSync, now).await;
    let context = secrets_context(&setup, now, secret).await;
    let (run, invocation) = setup.run_with(context).await;
    figures(kind, &run, &invocation);
    assert_eq!(run.status, RunStatus::Failed, "{kind}: {run:?}");
    assert!(
        matches!(invocation, Some(InvocationError::NotConnected(_))),
        "{kind}: {invocation:?}"
    );
    let writes = integration_tests::convergence::writes_in_logs(&setup.personio, &setup.timetrack);
    assert!(writes.is_empty(), "{kind}: nothing written: {writes:?}");
}

#[tokio::test]
async fn a_missing_secret_is_a_typed_error_with_a_failed_run_record() {
    secret_fault("missing secret", None).await;
}

#[tokio::test]
async fn an_unreadable_secret_is_a_typed_error_with_a_failed_run_record() {
    secret_fault("unreadable secret (not JSON)", Some("this is not json {")).await;
    secret_fault(
        "unreadable secret (fields missing)",
        Some(r#"{"personio_client_id": "x"}"#),
    )
    .await;
}

/// A run that must stop for the deadline schedules its continuation; when EventBridge Scheduler
/// refuses (here: the schedule group does not exist on moto), the run says so in its record and the
/// invocation fails with a typed error, and what was written is not lost: a later run finishes it.
#[tokio::test]
async fn a_scheduler_error_on_continuation_is_recorded_and_nothing_is_lost() {
    let now = Timestamp::now();
    let scenario = Scenario::EmployeesFirstSync;
    let reference = reference(scenario, now).await;
    let setup = Setup::start(scenario, now).await;
    let mut context = setup.context(now);
    let scheduler_client = aws_sdk_scheduler::Client::new(&aws().await);
    context.scheduler = Arc::new(EventBridgeScheduler::new(
        scheduler_client,
        SchedulerTargets {
            group: unique("missing-group"),
            role_arn: "arn:aws:iam::123456789012:role/scheduler".into(),
            employees_arn: "arn:aws:lambda:eu-central-1:123456789012:function:employees".into(),
            time_entries_arn: "arn:aws:lambda:eu-central-1:123456789012:function:time-entries"
                .into(),
            absences_arn: "arn:aws:lambda:eu-central-1:123456789012:function:absences".into(),
        },
    ));
    // The deadline is inside the runner's margin: no write starts, the work goes to a continuation.
    let deadline = now + SignedDuration::from_secs(5);
    let event = setup.event();
    let result = shared::service::WorkflowService::new(
        context,
        shared::workflows::employees::binding::EmployeesBinding,
    )
    .handle(event, Some(deadline))
    .await;
    let run = setup.last_record().await.expect("a run record");
    let kind = "Scheduler error on continuation";
    println!(
        "FIGURES reliability_aws kind={kind:?} status={:?} error={:?} result_is_err={}",
        run.status,
        run.error,
        result.is_err()
    );
    assert_ne!(run.status, RunStatus::Running, "{kind}: {run:?}");
    assert!(
        run.error.as_deref().unwrap_or("").contains("continuation") || result.is_err(),
        "{kind}: the failure to continue is told: {run:?} / {result:?}"
    );
    assert_converges(&setup, &reference, now, kind).await;
}
