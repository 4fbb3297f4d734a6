//! Issue 14's Must-show: Personio webhooks end to end **through the real binaries**.
//!
//! A change in the Personio simulator → the simulator delivers the dataless event to the `api` binary
//! (`api --listen`, registered through its own `PUT /integrations/{id}/webhooks`) → SQS FIFO on moto →
//! [`EventSourceMapping`](integration_tests::event_source_mapping::EventSourceMapping) does what
//! Lambda's event source mapping does → the real workflow binary (`time-entries`, `absences`,
//! `employees`, warm under a fake Lambda Runtime API) → the simulators. Each test asserts the end state
//! of both systems, the queues and the run records (trigger `webhook`, `event_ids`).
//!
//! `webhooks_e2e.rs` covers the same path with the handler called in-process (and the receiver's
//! router in-process); this file proves the binaries, as deployed, do it.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test webhook_binaries`.
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use integration_tests::binary_edge::{last_saturday, today, BinaryEdge, MAX_RECEIVES, WAIT};
use integration_tests::event_source_mapping::PumpReport;
use integration_tests::lambda_process::Outcome;
use integration_tests::writes;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::ToSpan;
use serde_json::json;
use shared::domain::{System, Trigger, Workflow};
use shared::runs::{RunRecord, RunStatus};
use shared::settings::{
    AbsenceTypeMapping, IntegrationSettings, LeaverPolicy, TimeEntryMode, TimestampMode,
    WindowSetting,
};
use shared::store::StateStore;
use shared::webhooks::{TokenStore, WebhookTokens};
use simulators::personio::model::{
    AbsenceBoundary, AbsenceStatus, AttendanceType, EmploymentStatus,
};
use simulators::personio::AttemptOutcome;
use simulators::{Fault, FaultRule};

/// Jürgen Müller, Lena Vogt, Hans-Peter: linked employees of the seed company.
const JUERGEN: &str = "1002";
const LENA: &str = "1005";
const HANS_PETER: &str = "1010";

const TE: Workflow = Workflow::TimeEntries;
const AB: Workflow = Workflow::Absences;
const EM: Workflow = Workflow::Employees;

fn te_settings() -> IntegrationSettings {
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Europe/Berlin".into();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    settings.time_entries.master = System::Personio;
    settings.personio.attendance_skip_approval = false;
    settings.windows.time_entries = WindowSetting {
        lookback_days: 30,
        lookahead_days: 0,
    };
    settings
}

fn employees_settings() -> IntegrationSettings {
    let mut settings = IntegrationSettings::example();
    settings.employees.personal_number_attribute = Some("personal_number".to_string());
    settings.employees.leaver_policy = LeaverPolicy::Deactivate;
    settings
}

/// The edge with `workflow`'s function, synced by a scheduled run through the binary, subscribed
/// with the simulator's company.
async fn synced_edge(settings: &IntegrationSettings, workflow: Workflow) -> BinaryEdge {
    let edge = BinaryEdge::start(settings, &[workflow]).await;
    let run = edge.scheduled(workflow).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    edge.subscribe_company().await;
    edge
}

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("Europe/Berlin")
}

/// TimeTrack attendances of `person`'s user starting on `day` (Berlin): (from, to), local.
fn tt_on(edge: &BinaryEdge, person: &str, day: Date) -> Vec<(DateTime, DateTime)> {
    let username = edge.username(person);
    let mut entries: Vec<_> = edge
        .timetrack
        .state()
        .live_attendances()
        .filter(|a| {
            a.user.eq_ignore_ascii_case(&username) && a.from.to_zoned(berlin()).date() == day
        })
        .map(|a| {
            (
                a.from.to_zoned(berlin()).datetime(),
                a.to.to_zoned(berlin()).datetime(),
            )
        })
        .collect();
    entries.sort();
    entries
}

fn add_work(edge: &BinaryEdge, person: &str, day: Date, from: i8, to: i8) -> String {
    edge.personio.state().add_attendance(
        person,
        AttendanceType::Work,
        day.at(from, 0, 0, 0),
        Some(day.at(to, 0, 0, 0)),
    )
}

/// Every answer of the pump was a batch answer (never a function error).
fn answered(report: &PumpReport) {
    for outcome in &report.outcomes {
        assert!(
            matches!(outcome, Outcome::Response(v) if v.get("batchItemFailures").is_some()),
            "{outcome:?}"
        );
    }
}

/// The run records of the webhook runs: all `succeeded`, trigger `webhook`, and together they list
/// every event the mapping deleted as done (and nothing else). Returns them.
async fn webhook_runs_cover(
    edge: &BinaryEdge,
    workflow: Workflow,
    report: &PumpReport,
) -> Vec<RunRecord> {
    let runs = edge.webhook_runs(workflow).await;
    assert!(!runs.is_empty(), "no webhook run recorded: {report:?}");
    for run in &runs {
        assert_eq!(run.trigger, Trigger::Webhook);
        assert_eq!(run.workflow, workflow);
        assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
        assert!(!run.event_ids.is_empty(), "{run:#?}");
    }
    let recorded: BTreeSet<&String> = runs.iter().flat_map(|r| &r.event_ids).collect();
    let done: BTreeSet<&String> = report.done_event_ids.iter().collect();
    assert_eq!(
        recorded, done,
        "the run records list exactly the events consumed"
    );
    runs
}

/// The writes of `runs` added up (side → action → how many).
fn total_writes(runs: &[RunRecord]) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut total: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for run in runs {
        for (side, actions) in writes(&run.counts) {
            for (action, n) in actions {
                *total
                    .entry(side.clone())
                    .or_default()
                    .entry(action)
                    .or_default() += n;
            }
        }
    }
    total
}

fn w(entries: &[(&str, &str, u64)]) -> BTreeMap<String, BTreeMap<String, u64>> {
    integration_tests::counts(entries)
}

/// The pump of `workflow` until `done`, all consumed: nothing failed, nothing left, nothing dead.
async fn pump_clean(edge: &BinaryEdge, workflow: Workflow, done: impl Fn() -> bool) -> PumpReport {
    let report = edge.pump(workflow, WAIT, done).await;
    answered(&report);
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(edge.depths(workflow).await, (0, 0), "{report:?}");
    report
}

/// Adds `more` into `into`.
fn merge(into: &mut PumpReport, more: PumpReport) {
    into.batches += more.batches;
    into.messages += more.messages;
    into.failed += more.failed;
    into.done_event_ids.extend(more.done_event_ids);
    into.failed_event_ids.extend(more.failed_event_ids);
    into.max_receive_count = into.max_receive_count.max(more.max_receive_count);
    into.outcomes.extend(more.outcomes);
}

#[tokio::test]
async fn webhook_binaries_attendance_created_updated_deleted() {
    let edge = synced_edge(&te_settings(), TE).await;
    let day = last_saturday();
    assert!(tt_on(&edge, JUERGEN, day).is_empty());

    let work = add_work(&edge, JUERGEN, day, 9, 17);
    let mut report = pump_clean(&edge, TE, || !tt_on(&edge, JUERGEN, day).is_empty()).await;
    assert_eq!(
        tt_on(&edge, JUERGEN, day),
        vec![(day.at(9, 0, 0, 0), day.at(17, 0, 0, 0))]
    );

    assert!(edge.personio.state().update_attendance(
        &work,
        day.at(10, 0, 0, 0),
        Some(day.at(18, 0, 0, 0))
    ));
    merge(
        &mut report,
        pump_clean(&edge, TE, || {
            tt_on(&edge, JUERGEN, day) == vec![(day.at(10, 0, 0, 0), day.at(18, 0, 0, 0))]
        })
        .await,
    );
    assert_eq!(
        tt_on(&edge, JUERGEN, day),
        vec![(day.at(10, 0, 0, 0), day.at(18, 0, 0, 0))]
    );

    assert!(edge.personio.state().delete_attendance(&work));
    merge(
        &mut report,
        pump_clean(&edge, TE, || tt_on(&edge, JUERGEN, day).is_empty()).await,
    );
    assert!(tt_on(&edge, JUERGEN, day).is_empty());
    assert!(
        !edge.personio.state().attendance_periods.contains_key(&work),
        "Personio keeps the delete"
    );

    let runs = webhook_runs_cover(&edge, TE, &report).await;
    assert_eq!(runs.len(), 3, "one targeted run per change: {runs:#?}");
    assert_eq!(
        total_writes(&runs),
        w(&[
            ("timetrack", "create", 1),
            ("timetrack", "update", 1),
            ("timetrack", "delete", 1)
        ]),
    );
    // The api's view has the last delivery.
    let (status, view) = edge
        .call(
            reqwest::Method::GET,
            &format!("/integrations/{}/webhooks", edge.id),
            None,
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["last_delivery"]["event_name"],
        json!("attendance-period.deleted"),
        "{view}"
    );
}

/// The absence type mapping Vacation (Personio, the simulator's id) → 1 (TimeTrack), Personio master.
async fn absences_edge() -> BinaryEdge {
    let edge = BinaryEdge::start(&IntegrationSettings::example(), &[AB]).await;
    let vacation = edge
        .personio
        .state()
        .absence_type_id_by_name("Vacation")
        .expect("Vacation");
    let mut settings = IntegrationSettings::example();
    settings.absences.type_mappings = vec![AbsenceTypeMapping {
        timetrack_type_id: 1,
        personio_type_id: vacation,
        master: System::Personio,
        half_day_timetrack_type_id: Some(2),
    }];
    edge.store.put_settings(&edge.id, &settings).await.unwrap();
    let run = edge.scheduled(AB).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    edge.subscribe_company().await;
    edge
}

/// Monday two weeks or so ahead: a week the seed left free of absences for most people.
fn monday_ahead() -> Date {
    let mut day = today().checked_add(14.days()).expect("date");
    while day.weekday() != jiff::civil::Weekday::Monday {
        day = day.tomorrow().expect("date");
    }
    day
}

fn whole_day(day: Date) -> AbsenceBoundary {
    AbsenceBoundary {
        date_time: day.at(0, 0, 0, 0),
        half: None,
    }
}

#[tokio::test]
async fn webhook_binaries_absence_created_updated_deleted() {
    let edge = absences_edge().await;
    let vacation = edge
        .personio
        .state()
        .absence_type_id_by_name("Vacation")
        .expect("Vacation");
    let username = edge.username(LENA);
    let monday = monday_ahead();
    let wednesday = monday.checked_add(2.days()).unwrap();
    let friday = monday.checked_add(4.days()).unwrap();
    // Lena's TimeTrack absences starting that Monday: (from, to).
    let lenas = || -> Vec<(Date, Date)> {
        edge.timetrack
            .state()
            .live_absences()
            .filter(|a| a.user == username && a.from == monday)
            .map(|a| (a.from, a.to))
            .collect()
    };
    assert!(lenas().is_empty(), "the seed left that week free");
    let before = edge.timetrack.state().live_absences().count();

    let period = edge.personio.state().add_absence(
        LENA,
        &vacation,
        whole_day(monday),
        Some(whole_day(wednesday)),
        AbsenceStatus::Approved,
    );
    let mut report = pump_clean(&edge, AB, || !lenas().is_empty()).await;
    assert_eq!(lenas(), vec![(monday, wednesday)]);

    assert!(edge.personio.state().update_absence_dates(
        &period,
        whole_day(monday),
        Some(whole_day(friday))
    ));
    merge(
        &mut report,
        pump_clean(&edge, AB, || lenas() == vec![(monday, friday)]).await,
    );
    assert_eq!(lenas(), vec![(monday, friday)]);

    assert!(edge.personio.state().delete_absence(&period));
    merge(
        &mut report,
        pump_clean(&edge, AB, || lenas().is_empty()).await,
    );
    assert!(lenas().is_empty());
    assert_eq!(
        edge.timetrack.state().live_absences().count(),
        before,
        "nobody else's absences touched"
    );
    let runs = webhook_runs_cover(&edge, AB, &report).await;
    let total = total_writes(&runs);
    assert_eq!(
        total,
        w(&[
            ("timetrack", "create", 1),
            ("timetrack", "update", 1),
            ("timetrack", "delete", 1)
        ]),
        "one write per change, Personio untouched (it is the master)"
    );
}

/// (first name, last name, enabled) of the TimeTrack user with `email`.
fn tt_user(edge: &BinaryEdge, email: &str) -> Option<(String, String, bool)> {
    let t = edge.timetrack.state();
    t.users
        .values()
        .find(|u| u.email.eq_ignore_ascii_case(email))
        .map(|u| (u.first_name.clone(), u.last_name.clone(), u.enabled))
}

fn email_of(edge: &BinaryEdge, person: &str) -> String {
    edge.personio.state().persons[person]
        .email
        .clone()
        .expect("email")
}

#[tokio::test]
async fn webhook_binaries_person_created_and_renamed() {
    let edge = synced_edge(&employees_settings(), EM).await;
    let users_before = edge.timetrack.state().users.len();
    let email = "nina.neumann@acme.example";
    assert!(tt_user(&edge, email).is_none());

    let nina = edge
        .personio
        .state()
        .add_person("Nina", "Neumann", Some(email));
    let mut report = pump_clean(&edge, EM, || tt_user(&edge, email).is_some()).await;
    assert_eq!(
        tt_user(&edge, email),
        Some(("Nina".to_string(), "Neumann".to_string(), true)),
        "the hire reached TimeTrack"
    );
    assert_eq!(edge.timetrack.state().users.len(), users_before + 1);

    assert!(edge
        .personio
        .state()
        .set_person_name(&nina, "Nina", "Neumann-Roth"));
    assert!(edge
        .personio
        .state()
        .set_person_name(LENA, "Lena Marie", "Vogt-Berg"));
    let lena = email_of(&edge, LENA);
    merge(
        &mut report,
        pump_clean(&edge, EM, || {
            tt_user(&edge, email).map(|u| u.1) == Some("Neumann-Roth".to_string())
                && tt_user(&edge, &lena).map(|u| u.1) == Some("Vogt-Berg".to_string())
        })
        .await,
    );
    assert_eq!(
        tt_user(&edge, email),
        Some(("Nina".to_string(), "Neumann-Roth".to_string(), true))
    );
    assert_eq!(
        tt_user(&edge, &lena),
        Some(("Lena Marie".to_string(), "Vogt-Berg".to_string(), true))
    );
    assert_eq!(edge.timetrack.state().users.len(), users_before + 1);
    let runs = webhook_runs_cover(&edge, EM, &report).await;
    assert_eq!(
        total_writes(&runs)["timetrack"],
        w(&[("timetrack", "create", 1), ("timetrack", "update", 2)])["timetrack"],
        "{runs:#?}"
    );
}

#[tokio::test]
async fn webhook_binaries_employment_change_deactivates_the_user() {
    let edge = synced_edge(&employees_settings(), EM).await;
    let hans = email_of(&edge, HANS_PETER);
    let lena = email_of(&edge, LENA);
    let lena_before = tt_user(&edge, &lena);
    assert_eq!(tt_user(&edge, &hans).map(|u| u.2), Some(true));

    // Hans-Peter leaves: only his employment changes (event `employment.updated`).
    assert!(edge
        .personio
        .state()
        .set_person_employment_status(HANS_PETER, EmploymentStatus::Inactive));
    let names: Vec<String> = edge
        .personio
        .webhooks()
        .emitted()
        .iter()
        .map(|e| e.event_name.clone())
        .collect();
    assert_eq!(names, ["employment.updated"]);
    let report = pump_clean(&edge, EM, || {
        tt_user(&edge, &hans).map(|u| u.2) == Some(false)
    })
    .await;
    assert_eq!(
        tt_user(&edge, &hans).map(|u| u.2),
        Some(false),
        "the leaver's user is deactivated"
    );
    assert_eq!(tt_user(&edge, &lena), lena_before, "outside the scope");
    let runs = webhook_runs_cover(&edge, EM, &report).await;
    assert_eq!(
        total_writes(&runs),
        w(&[("timetrack", "update", 1)]),
        "{runs:#?}"
    );
    let entries = &runs[0].scope.as_ref().expect("scope").entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].person, HANS_PETER);
}

#[tokio::test]
async fn webhook_binaries_duplicates_and_out_of_order_converge_with_one_write() {
    let edge = synced_edge(&te_settings(), TE).await;
    let day = last_saturday();
    edge.personio.webhooks().update(|k| {
        k.duplicate = true;
        k.out_of_order = true;
    });
    // Created, then updated; the out-of-order knob delivers the update first, each event twice.
    let work = add_work(&edge, LENA, day, 8, 12);
    assert!(edge.personio.state().update_attendance(
        &work,
        day.at(8, 0, 0, 0),
        Some(day.at(13, 0, 0, 0))
    ));
    // The held create is released now.
    edge.personio.webhooks().update(|k| k.out_of_order = false);
    edge.personio
        .webhooks()
        .wait_for_delivered(4, WAIT)
        .await
        .expect("each event delivered twice");
    let delivered: Vec<String> = edge
        .personio
        .webhooks()
        .delivered()
        .iter()
        .map(|a| a.event_name.clone())
        .collect();
    assert_eq!(delivered.len(), 4, "{delivered:?}");
    assert!(
        delivered[0].starts_with("attendance-period.updated"),
        "the update came first: {delivered:?}"
    );
    // The FIFO deduplication id is the event id: the copies are one message each.
    assert_eq!(edge.depths(TE).await, (2, 0));
    let want = vec![(day.at(8, 0, 0, 0), day.at(13, 0, 0, 0))];
    let report = pump_clean(&edge, TE, || tt_on(&edge, LENA, day) == want).await;
    assert_eq!(tt_on(&edge, LENA, day), want, "the latest state, once");
    let runs = webhook_runs_cover(&edge, TE, &report).await;
    assert_eq!(
        total_writes(&runs),
        w(&[("timetrack", "create", 1)]),
        "one write whatever the order and the copies: {runs:#?}"
    );

    // The same event delivered again later (after SQS's deduplication window in production: here a
    // fresh delivery of the same envelope after the message was consumed) costs a run writing nothing.
    edge.personio.webhooks().update(|k| k.duplicate = false);
    let last = edge
        .personio
        .webhooks()
        .events()
        .last()
        .expect("event")
        .envelope
        .clone();
    let before = edge.timetrack.state().attendances.clone();
    let (status, _) = edge
        .deliver(
            Some(&edge.token().await),
            &serde_json::to_value(&last).unwrap(),
        )
        .await;
    assert_eq!(status, 202);
    edge.pump(TE, Duration::from_secs(3), || true).await;
    assert_eq!(edge.timetrack.state().attendances, before);
}

/// `n` events: a WORK entry on the last Saturday for each of five linked employees, then `n - 5`
/// edits round-robin; both systems end with each entry's last version.
async fn burst(n: usize) {
    assert!(n > 5);
    let edge = synced_edge(&te_settings(), TE).await;
    let day = last_saturday();
    let persons = [JUERGEN, LENA, HANS_PETER, "1003", "1004"];
    for p in persons {
        edge.username(p); // linked
    }
    let started = Instant::now();
    let entries: Vec<String> = persons
        .iter()
        .map(|p| add_work(&edge, p, day, 8, 9))
        .collect();
    let mut last_end = BTreeMap::new();
    for i in 0..n - 5 {
        let k = i % persons.len();
        let minutes = i64::try_from(i % 50).unwrap() + 1;
        let end = day.at(9, 0, 0, 0).checked_add(minutes.minutes()).unwrap();
        assert!(edge.personio.state().update_attendance(
            &entries[k],
            day.at(8, 0, 0, 0),
            Some(end)
        ));
        last_end.insert(persons[k], end);
    }
    edge.delivered_all(Duration::from_secs(240)).await;
    let delivered = edge.personio.webhooks().delivered().len();
    let deliver_time = started.elapsed();
    assert_eq!(delivered, n, "every delivery acknowledged");
    let want = |p: &str| vec![(day.at(8, 0, 0, 0), last_end[p])];
    let report = edge
        .pump(TE, Duration::from_secs(240), || {
            persons.iter().all(|p| tt_on(&edge, p, day) == want(p))
        })
        .await;
    answered(&report);
    for p in persons {
        assert_eq!(tt_on(&edge, p, day), want(p), "{report:?}");
    }
    assert_eq!(edge.depths(TE).await, (0, 0), "all consumed, nothing dead");
    assert_eq!(report.failed, 0, "{report:?}");
    let runs = webhook_runs_cover(&edge, TE, &report).await;
    let creates = total_writes(&runs)["timetrack"]["create"];
    assert_eq!(creates, 5, "one create per entry");
    println!(
        "FIGURES webhook burst: {n} events, delivered in {:.1} s, consumed in {} batches / {} runs, \
         {} messages, total {:.1} s",
        deliver_time.as_secs_f64(),
        report.batches,
        runs.len(),
        report.messages,
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn webhook_binaries_burst_of_100_events_converges() {
    burst(100).await;
}

#[tokio::test]
#[ignore = "long: 500 events through the binaries; `make test-long`"]
async fn webhook_binaries_burst_of_500_events_converges() {
    burst(500).await;
}

#[tokio::test]
async fn webhook_binaries_receiver_down_is_retried_by_personio_then_delivered() {
    let mut edge = synced_edge(&te_settings(), TE).await;
    let day = last_saturday();
    edge.api.stop();
    add_work(&edge, LENA, day, 7, 11);
    // At least one attempt met the stopped receiver.
    let failed_first = edge
        .personio
        .webhooks()
        .wait_until(WAIT, |a| !a.is_empty())
        .await
        .expect("an attempt");
    assert_eq!(
        failed_first[0].outcome,
        AttemptOutcome::Retryable,
        "{failed_first:#?}"
    );
    edge.api.restart().await;
    edge.delivered_all(WAIT).await;
    let attempts = edge.personio.webhooks().attempts();
    let last = attempts.last().expect("attempts");
    assert_eq!(last.response_status_code, Some(202), "{attempts:#?}");
    assert!(attempts.len() >= 2 && attempts.len() <= 6, "{attempts:#?}");
    assert!(attempts[..attempts.len() - 1]
        .iter()
        .all(|a| a.outcome == AttemptOutcome::Retryable));
    let report = pump_clean(&edge, TE, || !tt_on(&edge, LENA, day).is_empty()).await;
    assert_eq!(
        tt_on(&edge, LENA, day),
        vec![(day.at(7, 0, 0, 0), day.at(11, 0, 0, 0))]
    );
    let runs = webhook_runs_cover(&edge, TE, &report).await;
    assert_eq!(total_writes(&runs), w(&[("timetrack", "create", 1)]));
}

#[tokio::test]
async fn webhook_binaries_bad_token_is_refused_and_nothing_queued() {
    let mut edge = synced_edge(&te_settings(), TE).await;
    let day = last_saturday();
    let event = json!({
        "company_id": edge.personio.company_id(),
        "event_name": "attendance-period.created",
        "occurred_at": "2026-12-01T10:00:00Z",
        "payload": {"id": "123"}
    });
    // Straight to the receiver: a wrong token, no token — the same 401 problem.
    let (wrong, wrong_body) = edge.deliver(Some("not-the-token"), &event).await;
    let (missing, missing_body) = edge.deliver(None, &event).await;
    assert_eq!((wrong, missing), (401, 401));
    assert_eq!(wrong_body, missing_body, "reveals nothing");
    assert_eq!(
        wrong_body["status"],
        json!(401),
        "problem+json: {wrong_body}"
    );
    // The right token works (the receiver is not simply closed).
    let (ok, _) = edge.deliver(Some(&edge.token().await), &event).await;
    assert_eq!(ok, 202);
    edge.pump(TE, Duration::from_secs(3), || true).await;
    assert_eq!(edge.depths(TE).await, (0, 0));

    // Personio still sends a token our side no longer accepts (rotated twice behind its back). A
    // warm receiver caches the tokens for a minute (`TOKEN_CACHE_TTL`); a new instance reads them.
    edge.tokens
        .put_tokens(&edge.id, &WebhookTokens::fresh())
        .await
        .unwrap();
    edge.api.restart().await;
    add_work(&edge, JUERGEN, day, 9, 10);
    edge.delivered_all(WAIT).await;
    let attempts = edge.personio.webhooks().attempts();
    let last = attempts.last().expect("attempt");
    assert_eq!(last.response_status_code, Some(401), "{attempts:#?}");
    assert_eq!(
        attempts
            .iter()
            .filter(|a| a.event_name == "attendance-period.created")
            .count(),
        1,
        "a 401 is final: {attempts:#?}"
    );
    assert_eq!(edge.depths(TE).await, (0, 0), "nothing queued");
    edge.pump(TE, Duration::from_secs(2), || true).await;
    assert!(
        tt_on(&edge, JUERGEN, day).is_empty(),
        "nothing reached TimeTrack"
    );
}

#[tokio::test]
async fn webhook_binaries_event_of_another_company_is_refused_and_nothing_queued() {
    let edge = BinaryEdge::start(&te_settings(), &[TE]).await;
    let run = edge.scheduled(TE).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let (status, view) = edge
        .subscribe(json!({"company_id": "some-other-company"}))
        .await;
    assert_eq!(status, 201, "{view}");
    let day = last_saturday();
    add_work(&edge, JUERGEN, day, 9, 10);
    edge.delivered_all(WAIT).await;
    let attempts = edge.personio.webhooks().attempts();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0].response_status_code, Some(403));
    assert_eq!(edge.depths(TE).await, (0, 0), "nothing queued");
    edge.pump(TE, Duration::from_secs(2), || true).await;
    assert!(tt_on(&edge, JUERGEN, day).is_empty());
    assert!(edge.webhook_runs(TE).await.is_empty());
}

#[tokio::test]
async fn webhook_binaries_dropped_event_is_recovered_by_the_replay() {
    let edge = synced_edge(&te_settings(), TE).await;
    let day = last_saturday();
    edge.personio.webhooks().update(|k| k.drop_next = 1);
    add_work(&edge, JUERGEN, day, 14, 16);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(edge.personio.webhooks().attempts().is_empty(), "never sent");
    assert_eq!(edge.depths(TE).await, (0, 0));

    // What the replay schedule sends, through the binary.
    let replay = edge.replay(TE).await;
    assert_eq!(replay["enqueued"], json!(1), "{replay}");
    let report = pump_clean(&edge, TE, || !tt_on(&edge, JUERGEN, day).is_empty()).await;
    assert_eq!(
        tt_on(&edge, JUERGEN, day),
        vec![(day.at(14, 0, 0, 0), day.at(16, 0, 0, 0))]
    );
    let runs = webhook_runs_cover(&edge, TE, &report).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(total_writes(&runs), w(&[("timetrack", "create", 1)]));
    let state = edge.store.get_webhook_state(&edge.id).await.unwrap();
    assert_eq!(
        json!(state.replayed_until[&TE]),
        replay["until"],
        "the mark moved to the replay's time"
    );
    // A second replay finds the event again (the mark minus its overlap) and enqueues it with the
    // same id: consumed, it writes nothing.
    let again = edge.replay(TE).await;
    let before = edge.timetrack.state().attendances.clone();
    edge.pump(TE, Duration::from_secs(3), || true).await;
    assert_eq!(edge.timetrack.state().attendances, before, "{again}");
}

/// A time entry TimeTrack refuses with 422 on every create, on an integration that parks a record
/// after `max_failures` failures: pumps until the message left the queue (done or dead-lettered).
/// Returns (the pump's report, the webhook runs' statuses, whether the mapping is parked, DLQ depth).
async fn refused_record(max_failures: u32) -> (PumpReport, Vec<RunStatus>, bool, u64) {
    let mut settings = te_settings();
    settings.sync.max_failures_before_parking = max_failures;
    let edge = synced_edge(&settings, TE).await;
    let day = last_saturday();
    edge.timetrack
        .inject(FaultRule::new("/attendances", Fault::Status(422), 100).with_method("POST"));
    add_work(&edge, JUERGEN, day, 9, 12);
    edge.delivered_all(WAIT).await;
    let started = Instant::now();
    let mut report = PumpReport::default();
    while started.elapsed() < Duration::from_secs(60) {
        merge(
            &mut report,
            edge.pump(TE, Duration::from_secs(3), || true).await,
        );
        if edge.mapping(TE).depth().await == 0 {
            break;
        }
    }
    answered(&report);
    assert_eq!(edge.mapping(TE).depth().await, 0, "no endless redelivery");
    assert!(report.max_receive_count <= MAX_RECEIVES, "{report:?}");
    let runs = edge.webhook_runs(TE).await;
    let statuses: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
    let dead = edge.mapping(TE).dead_letters().await;
    println!(
        "FIGURES webhook refused record (parking after {max_failures}): {} receives, statuses \
         {statuses:?}, DLQ {dead}, {} POSTs refused",
        report.batches,
        edge.timetrack.faults_fired()
    );
    assert!(
        tt_on(&edge, JUERGEN, day).is_empty(),
        "TimeTrack refused it"
    );
    assert_eq!(statuses[0], RunStatus::CompletedWithFailures, "{runs:#?}");
    assert!(!runs[0].failures.is_empty(), "{runs:#?}");
    assert_eq!(
        report.failed_event_ids[0], runs[0].event_ids[0],
        "a completed_with_failures run's message is reported in batchItemFailures"
    );
    let parked = edge
        .store
        .list_mappings(&edge.id, shared::domain::EntityKind::TimeEntry, None)
        .await
        .expect("mappings")
        .iter()
        .any(|m| m.parked.is_some());
    (report, statuses, parked, dead)
}

/// ADR 0024: a run that completed with record failures is redelivered until parking settles the
/// record. The run that parks it (the 3rd failure here) reports the failure as `parked`, so its message
/// is done: no further receive, no dead letter, and the record waits in the parked list for a release.
#[tokio::test]
async fn webhook_binaries_completed_with_failures_is_redelivered_until_parked() {
    let (report, statuses, parked, dead) = refused_record(3).await;
    assert!(parked, "the refused record is parked");
    assert_eq!(
        statuses,
        [
            RunStatus::CompletedWithFailures,
            RunStatus::CompletedWithFailures,
            RunStatus::CompletedWithFailures,
        ],
        "the parking run ends the redelivery: {report:?}"
    );
    assert_eq!(report.done_event_ids.len(), 1, "{report:?}");
    assert_eq!(dead, 0, "parked, not dead-lettered");
}

/// The same with the product's defaults: `sync.max_failures_before_parking` 5 and
/// `WebhookMaxReceiveCount` 5. The 5th receive's run parks the record; before the fix its
/// `completed_with_failures` still asked for redelivery, so SQS moved the message to the DLQ and fired
/// the DLQ alarm for a record already parked and reported (observed: 5 receives, DLQ 1). Now the parking
/// run's failure is marked `parked` and the message is done.
#[tokio::test]
async fn webhook_binaries_refused_record_with_default_thresholds_is_parked_not_dead_lettered() {
    let (report, statuses, parked, dead) = refused_record(5).await;
    assert!(parked, "the refused record is parked");
    assert_eq!(report.done_event_ids.len(), 1, "{report:?}");
    assert_eq!(
        dead, 0,
        "parked, not dead-lettered: {report:?} {statuses:?}"
    );
}
