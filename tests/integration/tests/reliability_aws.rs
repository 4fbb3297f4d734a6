//! Reliability suite, item 3 (issue 15): AWS faults. DynamoDB conditional-write conflicts and
//! throttling (an [`InterceptingStore`] over the real moto table fails the n-th call of an operation
//! with the error the DynamoDB adapter returns for them), a missing and an unreadable secret (real
//! Secrets Manager on moto), and Scheduler errors when a run must continue (the real EventBridge
//! Scheduler client on moto, with a schedule group that does not exist). Each ends in a clear typed
//! error and a run record, with nothing half-written: the next normal run ends both systems where an
//! uninterrupted run ends. SQS redelivery (the webhook queues): a batch whose run did not finish comes
//! back after its visibility timeout and converges once; an event delivered twice writes once; a message
//! that keeps failing ends in the dead-letter queue with run records that say why — real SQS FIFO
//! queues on moto, consumed as Lambda's event source mapping does ([`webhooks_support::Edge::pump`]).
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test reliability_aws --no-capture`.
mod webhooks_support;

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

// ================================== SQS redelivery (webhook queues) ==============================

mod sqs {
    use std::time::Duration;

    use jiff::civil::{date, Date};
    use shared::domain::{System, Trigger, Workflow};
    use shared::runs::{RunRecord, RunStatus};
    use shared::store::StateStore;
    use shared::workflows::time_entries::binding::TimeEntriesBinding;
    use simulators::{Fault, FaultRule};

    use super::webhooks_support::{Edge, MAX_RECEIVES, VISIBILITY_SECS};

    const WAIT: Duration = Duration::from_secs(30);
    const NOW: &str = "2026-11-10T09:00:00Z";
    /// Lena Vogt, a linked employee of the seed company.
    const LENA: &str = "1005";

    fn saturday() -> Date {
        date(2026, 11, 7)
    }

    /// The time-entries edge in sync (a scheduled run) and subscribed with the simulator's company.
    async fn edge() -> (Edge, shared::service::WorkflowService<TimeEntriesBinding>) {
        super::webhooks_support::synced_time_entries_edge(NOW.parse().unwrap()).await
    }

    impl Edge {
        /// TimeTrack attendances of Lena's user that start on the Saturday (UTC day is enough here).
        fn lena_on_saturday(&self) -> usize {
            let username = integration_tests::linked_username(&self.users, LENA);
            self.timetrack
                .state()
                .live_attendances()
                .filter(|a| {
                    a.user.eq_ignore_ascii_case(&username)
                        && a.from.to_zoned(jiff::tz::TimeZone::UTC).date() == saturday()
                })
                .count()
        }

        /// Attendance creates TimeTrack answered with a 2xx: the writes that took effect.
        fn attendance_creates(&self) -> usize {
            self.timetrack
                .requests()
                .iter()
                .filter(|r| {
                    r.method == "POST"
                        && r.api_path.starts_with("/attendances")
                        && (200..300).contains(&r.status)
                })
                .count()
        }

        async fn wait_delivered(&self) {
            let total = self.personio.webhooks().events().len();
            self.personio
                .webhooks()
                .wait_until(WAIT, |attempts| {
                    attempts
                        .iter()
                        .filter(|a| a.outcome != simulators::personio::AttemptOutcome::Retryable)
                        .count()
                        >= total
                })
                .await
                .expect("every event delivered");
        }

        async fn webhook_runs(&self) -> Vec<RunRecord> {
            self.store
                .list_runs(&self.id, Some(Workflow::TimeEntries), 100, None)
                .await
                .expect("runs")
                .runs
                .into_iter()
                .filter(|r| r.trigger == Trigger::Webhook)
                .collect()
        }

        /// The next scheduled (full-window) run writes nothing: both systems agree.
        async fn settled(&self, service: &shared::service::WorkflowService<TimeEntriesBinding>) {
            let before = (
                self.timetrack.requests().len(),
                self.personio.requests().len(),
            );
            let run = self.scheduled(service).await;
            assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
            let writes = |log: Vec<simulators::RequestLogEntry>, skip: usize| {
                log.into_iter()
                    .skip(skip)
                    .filter(|r| r.method != "GET" && !r.api_path.contains("auth"))
                    .count()
            };
            assert_eq!(
                writes(self.timetrack.requests(), before.0),
                0,
                "TimeTrack writes after"
            );
            assert_eq!(
                writes(self.personio.requests(), before.1),
                0,
                "Personio writes after"
            );
        }
    }

    #[tokio::test]
    async fn sqs_a_batch_whose_run_failed_comes_back_after_its_visibility_timeout_and_writes_once()
    {
        let (edge, service) = edge().await;
        let day = saturday();
        let synced = edge.attendance_creates();
        // TimeTrack refuses every attendance write with a 503 during the first targeted run.
        edge.timetrack
            .inject(FaultRule::new("/attendances", Fault::Status(503), 1_000).with_method("POST"));
        edge.personio.state().add_attendance(
            LENA,
            simulators::personio::model::AttendanceType::Work,
            day.at(6, 0, 0, 0),
            Some(day.at(8, 0, 0, 0)),
        );
        edge.wait_delivered().await;
        let first = edge.pump(&service, Duration::from_secs(3), || true).await;
        assert!(
            first.failed >= 1,
            "the failed run's message is reported: {first:?}"
        );
        assert_eq!(
            first.answers[0]["batchItemFailures"]
                .as_array()
                .map(Vec::len),
            Some(1),
            "{first:?}"
        );
        assert_eq!(edge.lena_on_saturday(), 0);
        let queue = edge.queues[&Workflow::TimeEntries].clone();
        assert_eq!(
            edge.depth(&queue.url).await,
            1,
            "the message is still in the queue"
        );
        let runs = edge.webhook_runs().await;
        assert!(
            runs.iter()
                .any(|r| r.status == RunStatus::CompletedWithFailures
                    && r.failures.iter().any(|f| f.error.contains("503"))),
            "the run record says why: {runs:?}"
        );

        edge.timetrack.clear_faults();
        let started = std::time::Instant::now();
        let second = edge
            .pump(&service, WAIT, || edge.lena_on_saturday() > 0)
            .await;
        let waited = started.elapsed();
        assert!(second.messages >= 1 && second.failed == 0, "{second:?}");
        assert_eq!(edge.lena_on_saturday(), 1, "written once");
        assert_eq!(
            edge.attendance_creates() - synced,
            1,
            "one create took effect"
        );
        assert_eq!(edge.depth(&queue.url).await, 0);
        assert_eq!(edge.depth(&queue.dlq_url).await, 0);
        edge.settled(&service).await;
        println!(
            "FIGURES reliability_aws kind=\"sqs redelivery after a failed run\" receives={} \
             batch_item_failures={} redelivered_after_ms={} visibility_timeout_s={VISIBILITY_SECS} \
             duplicates=0 lost=0",
            first.messages + second.messages,
            first.failed,
            waited.as_millis()
        );
    }

    #[tokio::test]
    async fn sqs_a_batch_refused_by_a_held_lease_is_redelivered_and_converges() {
        let (edge, service) = edge().await;
        let day = saturday();
        let synced = edge.attendance_creates();
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let lease = edge
            .store
            .acquire_lease(
                &edge.id,
                Workflow::TimeEntries,
                "another-run",
                now,
                Duration::from_secs(900),
            )
            .await
            .expect("lease");
        edge.personio.state().add_attendance(
            LENA,
            simulators::personio::model::AttendanceType::Work,
            day.at(9, 0, 0, 0),
            Some(day.at(12, 0, 0, 0)),
        );
        edge.wait_delivered().await;
        let first = edge.pump(&service, Duration::from_secs(3), || true).await;
        assert!(first.failed >= 1, "{first:?}");
        assert_eq!(
            edge.lena_on_saturday(),
            0,
            "nothing written while the lease is held"
        );
        edge.store.release_lease(&lease).await.expect("release");
        let second = edge
            .pump(&service, WAIT, || edge.lena_on_saturday() > 0)
            .await;
        assert_eq!(second.failed, 0, "{second:?}");
        assert_eq!(edge.lena_on_saturday(), 1);
        assert_eq!(edge.attendance_creates() - synced, 1);
        edge.settled(&service).await;
        println!(
            "FIGURES reliability_aws kind=\"sqs redelivery after a held lease\" receives={} \
             batch_item_failures={} duplicates=0 lost=0",
            first.messages + second.messages,
            first.failed
        );
    }

    #[tokio::test]
    async fn sqs_the_same_event_delivered_twice_writes_once() {
        let (edge, service) = edge().await;
        let day = saturday();
        let synced = edge.attendance_creates();
        edge.personio.state().add_attendance(
            LENA,
            simulators::personio::model::AttendanceType::Work,
            day.at(13, 0, 0, 0),
            Some(day.at(15, 0, 0, 0)),
        );
        edge.wait_delivered().await;
        let queue = edge.queues[&Workflow::TimeEntries].clone();
        let waiting = edge.peek(&queue.url).await;
        assert_eq!(waiting.len(), 1);
        let original = waiting[0].clone();
        let group = original
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId))
            .cloned()
            .expect("a FIFO message has its group");
        let copy = |dedup: &str| {
            edge.sqs
                .send_message()
                .queue_url(&queue.url)
                .message_body(original.body().unwrap_or_default())
                .message_group_id(group.clone())
                .message_deduplication_id(dedup)
                .send()
        };
        // SQS at least once: one copy in the same batch, one after the first was consumed.
        copy("redelivered-1").await.expect("send copy");
        let first = edge
            .pump(&service, WAIT, || edge.lena_on_saturday() > 0)
            .await;
        copy("redelivered-2").await.expect("send copy");
        let second = edge.pump(&service, Duration::from_secs(3), || true).await;
        let consumed = first.messages + second.messages;
        assert_eq!(
            consumed, 3,
            "all three copies were consumed: {first:?} {second:?}"
        );
        assert_eq!(first.failed + second.failed, 0);
        assert_eq!(edge.lena_on_saturday(), 1, "one attendance");
        assert_eq!(edge.attendance_creates() - synced, 1, "written once");
        edge.settled(&service).await;
        println!(
            "FIGURES reliability_aws kind=\"sqs duplicate delivery\" copies_consumed={consumed} \
             creates=1 duplicates=0"
        );
    }

    #[tokio::test]
    async fn sqs_a_message_that_keeps_failing_ends_in_the_dlq_and_the_run_records_say_why() {
        let (edge, service) = edge().await;
        let day = saturday();
        let synced = edge.attendance_creates();
        edge.timetrack.inject(
            FaultRule::new("/attendances", Fault::Status(503), 100_000).with_method("POST"),
        );
        let attendance = edge.personio.state().add_attendance(
            LENA,
            simulators::personio::model::AttendanceType::Work,
            day.at(16, 0, 0, 0),
            Some(day.at(18, 0, 0, 0)),
        );
        edge.wait_delivered().await;
        let queue = edge.queues[&Workflow::TimeEntries].clone();
        let deadline = std::time::Instant::now() + WAIT;
        let mut receives = 0;
        while edge.depth(&queue.dlq_url).await == 0 && std::time::Instant::now() < deadline {
            receives += edge
                .pump(&service, Duration::from_secs(2), || true)
                .await
                .messages;
        }
        let dead = edge.peek(&queue.dlq_url).await;
        assert_eq!(dead.len(), 1, "the message is dead-lettered");
        let dead_event: shared::webhooks::QueuedEvent =
            serde_json::from_str(dead[0].body().unwrap_or_default()).expect("a queued event");
        assert_eq!(
            dead_event.resource_id, attendance,
            "the dead letter is the change"
        );
        assert_eq!(edge.depth(&queue.url).await, 0);
        assert_eq!(
            receives, MAX_RECEIVES as usize,
            "received maxReceiveCount times"
        );
        // Every receive ran and left a record naming the refused write.
        let runs = edge.webhook_runs().await;
        assert_eq!(runs.len(), MAX_RECEIVES as usize, "{runs:?}");
        for run in &runs {
            assert_eq!(run.status, RunStatus::CompletedWithFailures, "{run:?}");
            assert!(
                run.failures
                    .iter()
                    .any(|f| f.system == Some(System::TimeTrack) && f.error.contains("503")),
                "{run:?}"
            );
            assert!(
                !run.event_ids.is_empty(),
                "the record names its event: {run:?}"
            );
        }
        assert_eq!(edge.lena_on_saturday(), 0, "nothing half-written");
        // The change is not lost: once TimeTrack is back, the next scheduled run writes it, once.
        edge.timetrack.clear_faults();
        let run = edge.scheduled(&service).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
        assert_eq!(edge.lena_on_saturday(), 1);
        assert_eq!(edge.attendance_creates() - synced, 1);
        edge.settled(&service).await;
        println!(
            "FIGURES reliability_aws kind=\"sqs dead letter\" receives={receives} \
             max_receive_count={MAX_RECEIVES} run_records={} dlq=1 duplicates=0 lost=0",
            runs.len()
        );
    }
}
