//! Contract tests of the Personio client's webhook methods (`shared::connectors::personio::webhooks`)
//! against the Personio simulator: managing the subscription, reading a webhook's events for a replay,
//! and reading a delivered envelope with the same type.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use jiff::civil::date;
use secrecy::SecretString;
use shared::connectors::http::RetryPolicy;
use shared::connectors::personio::*;
use shared::connectors::ErrorClass;
use simulators::personio::model::AttendanceType;
use simulators::personio::WebhookConfig;
use simulators::{PersonioConfig, PersonioSim, Seed};

const CLIENT_ID: &str = "papi-sim-client-id";
const CLIENT_SECRET: &str = "papi-sim-client-secret";
const TOKEN: &str = "Bearer receiver-token-7";

async fn start() -> (PersonioSim, PersonioClient) {
    let config = PersonioConfig {
        webhooks: WebhookConfig {
            delivery_timeout: Duration::from_secs(2),
            retry_base_delay: Duration::from_millis(20),
            ..WebhookConfig::default()
        },
        ..PersonioConfig::default()
    };
    let sim = PersonioSim::start(config, &Seed::company(date(2026, 11, 27)))
        .await
        .unwrap();
    let client = PersonioClient::new(PersonioClientConfig {
        base_url: sim.base_url(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy::quick(3),
        rate_limit: None,
        ..PersonioClientConfig::new(CLIENT_ID, SecretString::from(CLIENT_SECRET.to_string()))
    })
    .unwrap();
    (sim, client)
}

fn subscription(url: &str, events: Vec<WebhookEventName>) -> NewWebhook {
    NewWebhook::enabled_with_token(
        url,
        "TimeTrack sync",
        SecretString::from(TOKEN.to_string()),
        events,
    )
}

/// Adds a WORK period of person 1009 through the simulator's own edit path (records an event).
fn add_attendance(sim: &PersonioSim, day: i8, hour: i8) -> String {
    let start = date(2026, 12, day).at(hour, 0, 0, 0);
    let end = date(2026, 12, day).at(hour, 30, 0, 0);
    sim.state()
        .add_attendance("1009", AttendanceType::Work, start, Some(end))
}

#[tokio::test]
async fn webhook_client_creates_gets_updates_and_deletes_a_subscription() {
    let (sim, client) = start().await;
    let created = client
        .create_webhook(&subscription(
            "https://receiver.example/personio",
            vec![
                WebhookEventName::AttendancePeriodCreated,
                WebhookEventName::AbsencePeriodTimerangeUpdated,
            ],
        ))
        .await
        .unwrap();
    assert!(!created.id.is_empty());
    assert_eq!(created.url, "https://receiver.example/personio");
    assert_eq!(created.status, Some(WebhookStatus::Enabled));
    assert_eq!(created.auth_type, Some(WebhookAuthType::Token));
    assert_eq!(
        created.enabled_events,
        [
            WebhookEventName::AttendancePeriodCreated,
            WebhookEventName::AbsencePeriodTimerangeUpdated
        ]
    );
    assert!(created.created_at.is_some());
    assert!(!format!("{created:?}").contains("receiver-token"));
    // The simulator holds the token the client sent.
    assert_eq!(
        sim.webhooks().webhooks()[0].token.as_deref(),
        Some(TOKEN),
        "sent verbatim"
    );

    assert_eq!(client.get_webhook(&created.id).await.unwrap(), created);

    let updated = client
        .update_webhook(
            &created.id,
            &WebhookPatch {
                status: Some(WebhookStatus::Disabled),
                enabled_events: Some(vec![WebhookEventName::PersonUpdated]),
                ..WebhookPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.status, Some(WebhookStatus::Disabled));
    assert_eq!(updated.enabled_events, [WebhookEventName::PersonUpdated]);
    assert_eq!(updated.url, created.url, "untouched fields stay");
    assert_eq!(client.get_webhook(&created.id).await.unwrap(), updated);

    client.delete_webhook(&created.id).await.unwrap();
    let gone = client.get_webhook(&created.id).await.unwrap_err();
    assert_eq!(gone.class(), ErrorClass::NotFound, "{gone}");
    let again = client.delete_webhook(&created.id).await.unwrap_err();
    assert_eq!(again.status(), Some(404));
}

#[tokio::test]
async fn webhook_client_lists_every_page_of_webhooks() {
    let (_sim, client) = start().await;
    let mut ids = Vec::new();
    for n in 0..(MAX_WEBHOOK_LIMIT + 3) {
        let webhook = client
            .create_webhook(&subscription(
                &format!("https://receiver{n}.example/hook"),
                vec![WebhookEventName::PersonCreated],
            ))
            .await
            .unwrap();
        ids.push(webhook.id);
    }
    let listing = client.list_webhooks().await.unwrap();
    assert!(listing.is_clean());
    let listed: Vec<String> = listing.items.into_iter().map(|w| w.id).collect();
    assert_eq!(listed, ids, "two pages, in registration order");
}

#[tokio::test]
async fn webhook_client_refusals_are_typed_errors() {
    let (_sim, client) = start().await;
    let plain_http = client
        .create_webhook(&subscription(
            "http://receiver.example/hook",
            vec![WebhookEventName::PersonCreated],
        ))
        .await
        .unwrap_err();
    assert_eq!(plain_http.class(), ErrorClass::Validation, "{plain_http}");
    assert_eq!(plain_http.status(), Some(422));

    let no_events = client
        .create_webhook(&subscription("https://receiver.example/hook", Vec::new()))
        .await
        .unwrap_err();
    assert_eq!(no_events.status(), Some(400), "{no_events}");

    let first = subscription(
        "https://receiver.example/hook",
        vec![WebhookEventName::PersonCreated],
    );
    client.create_webhook(&first).await.unwrap();
    let twice = client.create_webhook(&first).await.unwrap_err();
    assert_eq!(twice.class(), ErrorClass::Conflict, "{twice}");
    assert!(
        !twice.to_string().contains("receiver-token"),
        "errors never carry the token"
    );
}

#[tokio::test]
async fn webhook_client_replays_events_since_a_time_across_pages() {
    let (sim, client) = start().await;
    // Nobody listens on port 9: deliveries fail, the events are listed all the same.
    let hook = client
        .create_webhook(&subscription(
            "http://127.0.0.1:9/hook",
            vec![
                WebhookEventName::AttendancePeriodCreated,
                WebhookEventName::AttendancePeriodDeleted,
            ],
        ))
        .await
        .unwrap();
    let mut early = Vec::new();
    for hour in 6..11 {
        early.push(add_attendance(&sim, 1, hour));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Events carry milliseconds; a replay asks from the millisecond of `since`.
    let since = jiff::Timestamp::from_millisecond(jiff::Timestamp::now().as_millisecond()).unwrap();
    let mut late = Vec::new();
    for day in 2..=22 {
        for hour in 6..11 {
            late.push(add_attendance(&sim, day, hour));
        }
    }
    sim.state().delete_attendance(&early[0]);

    let replay = client.webhook_events_since(&hook.id, since).await.unwrap();
    assert!(replay.is_clean(), "{:?}", replay.malformed);
    assert_eq!(replay.items.len(), late.len() + 1, "more than one page");
    let created: Vec<&str> = replay
        .items
        .iter()
        .filter(|e| e.name == WebhookEventName::AttendancePeriodCreated)
        .map(|e| e.resource_id.as_deref().unwrap())
        .collect();
    assert_eq!(created, late.iter().map(String::as_str).collect::<Vec<_>>());
    let last = replay.items.last().unwrap();
    assert_eq!(last.name, WebhookEventName::AttendancePeriodDeleted);
    assert!(last.name.is_delete());
    assert_eq!(last.resource_id.as_deref(), Some(early[0].as_str()));
    assert!(replay.items.iter().all(|e| e.company_id == sim.company_id()
        && e.occurred_at >= since
        && e.id.is_some()
        && e.subject() == WebhookSubject::AttendancePeriod));

    let deletes = client
        .list_webhook_events(
            &hook.id,
            &WebhookEventFilter {
                names: vec![WebhookEventName::AttendancePeriodDeleted],
                ..WebhookEventFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(deletes.items.len(), 1);
    let before = client
        .list_webhook_events(
            &hook.id,
            &WebhookEventFilter {
                // Inclusive, at millisecond precision: the millisecond before `since`.
                occurred_until: Some(since - jiff::SignedDuration::from_millis(1)),
                ..WebhookEventFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(before.items.len(), early.len());
}

#[tokio::test]
async fn webhook_client_replay_finds_an_event_that_was_never_delivered() {
    let (sim, client) = start().await;
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push((headers, body));
            axum::http::StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/personio", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let hook = client
        .create_webhook(&subscription(
            &url,
            vec![WebhookEventName::AttendancePeriodCreated],
        ))
        .await
        .unwrap();
    let since = jiff::Timestamp::now();
    sim.webhooks().update(|knobs| knobs.drop_next = 1);
    let missed = add_attendance(&sim, 3, 8);
    let delivered = add_attendance(&sim, 3, 9);
    sim.webhooks()
        .wait_for_delivered(1, Duration::from_secs(10))
        .await
        .expect("the second event is delivered");

    // What the receiver got reads as the same type the replay returns.
    let (headers, body) = received.lock().unwrap()[0].clone();
    assert_eq!(headers["authorization"], TOKEN);
    let event = WebhookEvent::from_json(&body).unwrap();
    assert_eq!(event.name, WebhookEventName::AttendancePeriodCreated);
    assert_eq!(event.resource_id.as_deref(), Some(delivered.as_str()));
    assert_eq!(event.company_id, sim.company_id());
    assert_eq!(event.id, None);

    let replay = client.webhook_events_since(&hook.id, since).await.unwrap();
    let statuses: Vec<(Option<&str>, Option<&str>)> = replay
        .items
        .iter()
        .map(|e| (e.resource_id.as_deref(), e.delivery_status.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some(missed.as_str()), Some("DROPPED")),
            (Some(delivered.as_str()), Some("DELIVERED"))
        ]
    );
    let replayed = &replay.items[1];
    assert_eq!(
        (replayed.name.clone(), replayed.occurred_at),
        (event.name, event.occurred_at),
        "delivered and listed event agree"
    );
}
