//! Personio webhooks end to end: a change in the Personio simulator → the simulator delivers the
//! dataless event to the receiver (the api router on 127.0.0.1, registered through
//! `PUT /integrations/{id}/webhooks`) → SQS FIFO on moto → the workflow function's handler, fed the way
//! Lambda's event source mapping feeds it ([`Edge::pump`]) → TimeTrack shows the change.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test webhooks_e2e`.
mod webhooks_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::civil::{date, Date};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value};
use shared::domain::{System, Workflow};
use shared::runs::RunStatus;
use shared::service::lambda::handle_workflow_invocation;
use shared::settings::{AbsenceTypeMapping, IntegrationSettings};
use shared::store::StateStore;
use shared::webhooks::{TokenStore, WebhookTokens};
use shared::workflows::absences::binding::AbsencesBinding;
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::personio::model::{AbsenceBoundary, AbsenceStatus, AttendanceType};
use simulators::personio::AttemptOutcome;
use webhooks_support::Edge;

const WAIT: Duration = Duration::from_secs(30);
const TE_NOW: &str = "2026-11-10T09:00:00Z";
/// Jürgen Müller, a linked employee of the seed company.
const JUERGEN: &str = "1002";
/// Lena Vogt, another linked employee.
const LENA: &str = "1005";

fn saturday() -> Date {
    date(2026, 11, 7)
}

/// The time-entries edge, synced by a scheduled run and subscribed with the simulator's company.
async fn time_entries_edge() -> (Edge, shared::service::WorkflowService<TimeEntriesBinding>) {
    webhooks_support::synced_time_entries_edge(TE_NOW.parse().unwrap()).await
}

impl Edge {
    /// TimeTrack attendances of `person`'s user starting on `day` (Berlin time): (from, to) local.
    fn tt_on(
        &self,
        person: &str,
        day: Date,
    ) -> Vec<(jiff::civil::DateTime, Option<jiff::civil::DateTime>)> {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let username = integration_tests::linked_username(&self.users, person);
        self.timetrack
            .state()
            .live_attendances()
            .filter(|a| {
                a.user.eq_ignore_ascii_case(&username)
                    && a.from.to_zoned(berlin.clone()).date() == day
            })
            .map(|a| {
                (
                    a.from.to_zoned(berlin.clone()).datetime(),
                    Some(a.to.to_zoned(berlin.clone()).datetime()),
                )
            })
            .collect()
    }

    fn add_work(&self, person: &str, day: Date, from: i8, to: i8) -> String {
        self.personio.state().add_attendance(
            person,
            AttendanceType::Work,
            day.at(from, 0, 0, 0),
            Some(day.at(to, 0, 0, 0)),
        )
    }

    /// Waits until the simulator has no delivery in flight for what was emitted so far.
    async fn delivered_all(&self) {
        self.delivered_all_within(WAIT).await;
    }

    async fn delivered_all_within(&self, timeout: Duration) {
        let total = self.personio.webhooks().events().len();
        self.personio
            .webhooks()
            .wait_until(timeout, |attempts| {
                attempts
                    .iter()
                    .filter(|a| a.outcome != AttemptOutcome::Retryable)
                    .count()
                    >= total
            })
            .await
            .expect("every event delivered or finally refused");
    }
}

#[tokio::test]
async fn webhook_attendance_created_updated_deleted_reach_timetrack() {
    let (edge, service) = time_entries_edge().await;
    let day = saturday();
    assert!(edge.tt_on(JUERGEN, day).is_empty());

    let work = edge.add_work(JUERGEN, day, 9, 17);
    let report = edge
        .pump(&service, WAIT, || !edge.tt_on(JUERGEN, day).is_empty())
        .await;
    assert_eq!(edge.tt_on(JUERGEN, day).len(), 1, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");

    assert!(edge.personio.state().update_attendance(
        &work,
        day.at(10, 0, 0, 0),
        Some(day.at(18, 0, 0, 0))
    ));
    edge.pump(&service, WAIT, || {
        edge.tt_on(JUERGEN, day)
            .first()
            .map(|(from, _)| from.hour())
            == Some(10)
    })
    .await;
    assert_eq!(edge.tt_on(JUERGEN, day)[0].0, day.at(10, 0, 0, 0));

    assert!(edge.personio.state().delete_attendance(&work));
    edge.pump(&service, WAIT, || edge.tt_on(JUERGEN, day).is_empty())
        .await;
    assert!(edge.tt_on(JUERGEN, day).is_empty());

    // Every run was a webhook run, and the last delivery is on record for GET.
    let runs = edge
        .store
        .list_runs(&edge.id, Some(Workflow::TimeEntries), 20, None)
        .await
        .unwrap()
        .runs;
    let webhook_runs = runs
        .iter()
        .filter(|r| r.trigger == shared::domain::Trigger::Webhook)
        .count();
    assert!(webhook_runs >= 3, "{runs:#?}");
    let (status, view) = edge
        .call(
            reqwest::Method::GET,
            &format!("/integrations/{}/webhooks", edge.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        view["last_delivery"]["event_name"],
        json!("attendance-period.deleted"),
        "{view}"
    );
}

#[tokio::test]
async fn webhook_duplicate_and_out_of_order_deliveries_converge() {
    let (edge, service) = time_entries_edge().await;
    let day = saturday();
    edge.personio.webhooks().update(|k| {
        k.duplicate = true;
        k.out_of_order = true;
    });
    let work = edge.add_work(JUERGEN, day, 8, 12);
    assert!(edge.personio.state().update_attendance(
        &work,
        day.at(8, 0, 0, 0),
        Some(day.at(13, 0, 0, 0))
    ));
    // Release the held event (out of order holds each until the next arrives).
    edge.personio.webhooks().update(|k| k.out_of_order = false);
    let delivered = edge
        .personio
        .webhooks()
        .wait_for_delivered(4, WAIT)
        .await
        .expect("each event delivered twice")
        .len();
    assert!(delivered >= 4, "each event twice: {delivered}");
    edge.pump(&service, WAIT, || {
        edge.tt_on(JUERGEN, day).first().and_then(|(_, to)| *to) == Some(day.at(13, 0, 0, 0))
    })
    .await;
    assert_eq!(
        edge.tt_on(JUERGEN, day),
        vec![(day.at(8, 0, 0, 0), Some(day.at(13, 0, 0, 0)))],
        "one entry with the latest state, whatever the order and the copies"
    );
    // A second pass over the same events changes nothing.
    let before = edge.timetrack.state().attendances.clone();
    edge.personio.webhooks().update(|k| k.duplicate = false);
    let latest = edge.personio.webhooks().events();
    let last = latest.last().expect("an event").clone();
    let token = edge.tokens.tokens(&edge.id, true).await.unwrap().unwrap();
    use secrecy::ExposeSecret;
    let (status, _) = edge
        .deliver(
            Some(token.current.expose_secret()),
            &serde_json::to_vec(&last.envelope).unwrap(),
        )
        .await;
    assert_eq!(status, 202);
    edge.pump(&service, Duration::from_secs(5), || true).await;
    assert_eq!(edge.timetrack.state().attendances, before);
}

#[tokio::test]
async fn webhook_burst_of_500_events_is_consumed_and_converges() {
    let (edge, service) = time_entries_edge().await;
    let day = saturday();
    let work = edge.add_work(JUERGEN, day, 8, 9);
    // 499 edits of one entry, each a delivery: 500 events in all.
    for i in 0..499u16 {
        let minutes = i64::from(i % 50) + 1;
        let end = day
            .at(9, 0, 0, 0)
            .checked_add(jiff::SignedDuration::from_mins(minutes))
            .unwrap();
        assert!(edge
            .personio
            .state()
            .update_attendance(&work, day.at(8, 0, 0, 0), Some(end)));
    }
    let final_end = day
        .at(9, 0, 0, 0)
        .checked_add(jiff::SignedDuration::from_mins(49))
        .unwrap();
    edge.delivered_all_within(Duration::from_secs(240)).await;
    let delivered = edge.personio.webhooks().delivered();
    assert_eq!(delivered.len(), 500, "every delivery acknowledged");
    let report = edge
        .pump(&service, Duration::from_secs(120), || {
            edge.tt_on(JUERGEN, day).first().and_then(|(_, to)| *to) == Some(final_end)
        })
        .await;
    assert_eq!(
        edge.tt_on(JUERGEN, day),
        vec![(day.at(8, 0, 0, 0), Some(final_end))],
        "{report:?}"
    );
    assert_eq!(
        edge.depth(&edge.queues[&Workflow::TimeEntries].url).await,
        0
    );
    assert_eq!(
        edge.depth(&edge.queues[&Workflow::TimeEntries].dlq_url)
            .await,
        0,
        "nothing dead-lettered"
    );
    assert!(report.batches >= 1 && report.messages <= 500, "{report:?}");
}

#[tokio::test]
async fn webhook_receiver_5xx_is_retried_by_personio_and_the_change_arrives() {
    let (edge, service) = time_entries_edge().await;
    let day = saturday();
    edge.queue.fail_next.store(2, Ordering::SeqCst);
    edge.add_work(LENA, day, 7, 11);
    edge.delivered_all().await;
    let attempts = edge.personio.webhooks().attempts();
    let codes: Vec<Option<u16>> = attempts.iter().map(|a| a.response_status_code).collect();
    assert_eq!(
        codes,
        vec![Some(503), Some(503), Some(202)],
        "{attempts:#?}"
    );
    edge.pump(&service, WAIT, || !edge.tt_on(LENA, day).is_empty())
        .await;
    assert_eq!(edge.tt_on(LENA, day).len(), 1);
}

#[tokio::test]
async fn webhook_with_a_bad_token_is_refused_and_not_retried() {
    let (edge, service) = time_entries_edge().await;
    let day = saturday();
    // Our side rotated twice without telling Personio: the token it sends is no longer accepted.
    let rotated = WebhookTokens::fresh();
    edge.tokens.put_tokens(&edge.id, &rotated).await.unwrap();
    edge.add_work(JUERGEN, day, 9, 10);
    edge.delivered_all().await;
    let attempts = edge.personio.webhooks().attempts();
    assert_eq!(attempts.len(), 1, "a 401 is final: {attempts:#?}");
    assert_eq!(attempts[0].response_status_code, Some(401));
    assert_eq!(
        edge.depth(&edge.queues[&Workflow::TimeEntries].url).await,
        0
    );
    edge.pump(&service, Duration::from_secs(2), || true).await;
    assert!(edge.tt_on(JUERGEN, day).is_empty());
}

#[tokio::test]
async fn webhook_event_of_another_company_is_refused() {
    let edge = Edge::start(
        date(2026, 11, 10),
        &webhooks_support::time_entries_settings(),
        TE_NOW.parse().unwrap(),
    )
    .await;
    let service = edge.service(TimeEntriesBinding);
    edge.scheduled(&service).await;
    let (status, view) = edge
        .subscribe(json!({"company_id": "some-other-company"}))
        .await;
    assert_eq!(status, 201, "{view}");
    edge.add_work(JUERGEN, saturday(), 9, 10);
    edge.delivered_all().await;
    let attempts = edge.personio.webhooks().attempts();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0].response_status_code, Some(403));
    assert_eq!(
        edge.depth(&edge.queues[&Workflow::TimeEntries].url).await,
        0
    );
}

#[tokio::test]
async fn webhook_dropped_event_is_recovered_by_the_replay() {
    let (edge, service) = time_entries_edge().await;
    let day = saturday();
    edge.personio.webhooks().update(|k| k.drop_next = 1);
    edge.add_work(JUERGEN, day, 14, 16);
    // Never delivered: nothing reaches the queue.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(edge.personio.webhooks().attempts().is_empty());
    assert_eq!(
        edge.depth(&edge.queues[&Workflow::TimeEntries].url).await,
        0
    );

    let report = handle_workflow_invocation(
        &service,
        &edge.sqs_queue,
        json!({"integration_id": edge.id.as_str(), "trigger": "webhook-replay"}),
        None,
    )
    .await
    .expect("replay");
    assert_eq!(report["enqueued"], json!(1), "{report}");
    edge.pump(&service, WAIT, || !edge.tt_on(JUERGEN, day).is_empty())
        .await;
    assert_eq!(
        edge.tt_on(JUERGEN, day),
        vec![(day.at(14, 0, 0, 0), Some(day.at(16, 0, 0, 0)))]
    );
    let state = edge.store.get_webhook_state(&edge.id).await.unwrap();
    assert!(state.replayed_until.contains_key(&Workflow::TimeEntries));
    assert_eq!(
        json!(state.replayed_until[&Workflow::TimeEntries]),
        report["until"],
        "the mark moved to the replay's time"
    );
    assert!(
        !state.replayed_until.contains_key(&Workflow::Absences),
        "each workflow keeps its own mark"
    );
}

#[tokio::test]
async fn webhook_absence_created_reaches_timetrack() {
    let now: Timestamp = "2026-03-16T09:00:00Z".parse().unwrap();
    let edge_settings = {
        // The type ids are the simulator's: read them from a throwaway seed of the same day.
        IntegrationSettings::example()
    };
    let edge = Edge::start(date(2026, 3, 16), &edge_settings, now).await;
    let vacation = edge
        .personio
        .state()
        .absence_type_id_by_name("Vacation")
        .expect("Vacation");
    let mut settings = edge_settings.clone();
    settings.absences.type_mappings = vec![AbsenceTypeMapping {
        timetrack_type_id: 1,
        personio_type_id: vacation.clone(),
        master: System::Personio,
        half_day_timetrack_type_id: Some(2),
    }];
    edge.store.put_settings(&edge.id, &settings).await.unwrap();
    let service = edge.service(AbsencesBinding);
    let run = edge.scheduled(&service).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    edge.subscribe_company().await;

    let username = integration_tests::linked_username(&edge.users, LENA);
    let count = || {
        edge.timetrack
            .state()
            .live_absences()
            .filter(|a| a.user == username)
            .count()
    };
    let before = count();
    let day = |d: i8| AbsenceBoundary {
        date_time: date(2026, 4, d).at(0, 0, 0, 0),
        half: None,
    };
    edge.personio.state().add_absence(
        LENA,
        &vacation,
        day(20),
        Some(day(22)),
        AbsenceStatus::Approved,
    );
    let report = edge.pump(&service, WAIT, || count() > before).await;
    assert_eq!(count(), before + 1, "{report:?}");
    let answer: &Value = report.answers.last().unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]));
}

#[tokio::test]
async fn webhook_subscription_put_get_delete_against_the_simulator() {
    let edge = Edge::start(
        date(2026, 11, 10),
        &webhooks_support::time_entries_settings(),
        TE_NOW.parse().unwrap(),
    )
    .await;
    let (status, view) = edge.subscribe(json!({})).await;
    assert_eq!(status, 201, "{view}");
    let hooks = edge.personio.webhooks().webhooks();
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(
        hook.url,
        format!(
            "{}/integrations/{}/webhooks/personio",
            edge.base_url, edge.id
        )
    );
    assert_eq!(view["personio"]["status"], json!("ENABLED"));
    assert_eq!(view["personio"]["id"], json!(hook.id));
    assert!(hook
        .enabled_events
        .iter()
        .any(|e| e == "attendance-period.updated"));
    assert!(hook.enabled_events.iter().any(|e| e == "person.updated"));
    let stored = edge.tokens.tokens(&edge.id, true).await.unwrap().unwrap();
    assert!(
        stored.accepts(hook.token.as_deref().unwrap()),
        "Personio got our token"
    );
    assert!(
        !view.to_string().contains(hook.token.as_deref().unwrap()),
        "never shown"
    );

    // Again: updated, same webhook, same token.
    let (status, _) = edge.subscribe(json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(edge.personio.webhooks().webhooks().len(), 1);
    // Rotation: Personio gets a new token, the old one stays accepted as previous.
    let old = hook.token.clone().unwrap();
    let (status, _) = edge.subscribe(json!({"rotate_token": true})).await;
    assert_eq!(status, 200);
    let new = edge.personio.webhooks().webhooks()[0]
        .token
        .clone()
        .unwrap();
    assert_ne!(new, old);
    let stored = edge.tokens.tokens(&edge.id, true).await.unwrap().unwrap();
    assert!(stored.accepts(&new) && stored.accepts(&old));

    let (status, view) = edge
        .call(
            reqwest::Method::GET,
            &format!("/integrations/{}/webhooks", edge.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["subscription"]["webhook_id"], json!(hook.id));
    let audit = edge.store.list_audit(&edge.id, 10, None).await.unwrap();
    assert!(audit
        .records
        .iter()
        .any(|r| r.action == shared::audit::AuditAction::WebhookSubscribed));

    let (status, _) = edge
        .call(
            reqwest::Method::DELETE,
            &format!("/integrations/{}/webhooks", edge.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(edge.personio.webhooks().webhooks().is_empty());
    assert!(edge.tokens.tokens(&edge.id, true).await.unwrap().is_none());
    let (status, view) = edge
        .call(
            reqwest::Method::GET,
            &format!("/integrations/{}/webhooks", edge.id),
            None,
        )
        .await;
    assert_eq!((status, view["subscription"].clone()), (200, Value::Null));
    let (status, _) = edge
        .call(
            reqwest::Method::DELETE,
            &format!("/integrations/{}/webhooks", edge.id),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn webhook_person_change_reaches_timetrack() {
    use shared::workflows::employees::binding::EmployeesBinding;
    let mut settings = IntegrationSettings::example();
    settings.employees.personal_number_attribute = Some("personal_number".to_string());
    let edge = Edge::start(
        date(2026, 3, 16),
        &settings,
        "2026-03-16T09:00:00Z".parse().unwrap(),
    )
    .await;
    let service = edge.service(EmployeesBinding);
    let run = edge.scheduled(&service).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    edge.subscribe_company().await;
    let name_of = || {
        let email = edge.personio.state().persons[LENA]
            .email
            .clone()
            .expect("email");
        let t = edge.timetrack.state();
        let user = t
            .users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(&email))
            .expect("linked user");
        (user.first_name.clone(), user.last_name.clone())
    };
    assert!(edge
        .personio
        .state()
        .set_person_name(LENA, "Lena Marie", "Vogt-Berg"));
    let report = edge
        .pump(&service, WAIT, || name_of().1 == "Vogt-Berg")
        .await;
    assert_eq!(
        name_of(),
        ("Lena Marie".to_string(), "Vogt-Berg".to_string()),
        "{report:?}"
    );
    assert_eq!(report.failed, 0, "{report:?}");
}

#[tokio::test]
async fn webhook_malformed_queue_message_goes_to_the_dlq_without_failing_the_others() {
    let (edge, service) = time_entries_edge().await;
    let day = saturday();
    let queue = edge.queues[&Workflow::TimeEntries].clone();
    edge.sqs
        .send_message()
        .queue_url(&queue.url)
        .message_body("{\"not\": \"an event\"}")
        .message_group_id(format!("{}#time-entries", edge.id))
        .message_deduplication_id("malformed-1")
        .send()
        .await
        .unwrap();
    edge.add_work(LENA, day, 6, 8);
    // Until the good event reached TimeTrack and the bad message was received MAX_RECEIVES times.
    let report = edge
        .pump(&service, WAIT, || !edge.tt_on(LENA, day).is_empty())
        .await;
    assert_eq!(edge.tt_on(LENA, day).len(), 1, "{report:?}");
    let deadline = std::time::Instant::now() + WAIT;
    while edge.depth(&queue.dlq_url).await == 0 && std::time::Instant::now() < deadline {
        edge.pump(&service, Duration::from_secs(2), || true).await;
    }
    let dead = edge.peek(&queue.dlq_url).await;
    assert_eq!(dead.len(), 1, "the malformed message is dead-lettered");
    assert_eq!(dead[0].body(), Some("{\"not\": \"an event\"}"));
    assert_eq!(edge.depth(&queue.url).await, 0);
}
