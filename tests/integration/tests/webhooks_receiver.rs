//! The webhook receiver (`POST /integrations/{id}/webhooks/personio`) over real HTTP on the api router,
//! with the token in moto's Secrets Manager and the queues on moto's SQS (FIFO).
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test webhooks_receiver`.
mod webhooks_support;

use jiff::civil::date;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use shared::domain::Workflow;
use shared::settings::IntegrationSettings;
use shared::store::StateStore;
use shared::webhooks::envelope::event_id;
use shared::webhooks::receiver::MAX_WEBHOOK_BODY_BYTES;
use shared::webhooks::{TokenStore, WebhookTokens};
use webhooks_support::Edge;

const NOW: &str = "2026-11-10T09:00:00Z";
const COMPANY: &str = "112233";

/// An edge whose integration has a token and a company, without a Personio subscription.
async fn edge_with_token() -> (Edge, String) {
    let edge = Edge::start(
        date(2026, 11, 10),
        &IntegrationSettings::example(),
        NOW.parse().unwrap(),
    )
    .await;
    let tokens = WebhookTokens::fresh();
    edge.tokens.put_tokens(&edge.id, &tokens).await.unwrap();
    edge.store
        .put_webhook_company(&edge.id, Some(COMPANY))
        .await
        .unwrap();
    let token = tokens.current.expose_secret().to_string();
    (edge, token)
}

fn envelope(company: &str, name: &str, id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"company_id": company, "event_name": name,
        "occurred_at": "2026-11-10T08:59:00Z", "payload": {"id": id}, "meta": {}}))
    .unwrap()
}

#[tokio::test]
async fn webhook_receiver_enqueues_with_the_group_and_the_event_id_as_deduplication_id() {
    let (edge, token) = edge_with_token().await;
    let body = envelope(COMPANY, "attendance-period.updated", "att-1");
    let (status, answer) = edge.deliver(Some(&token), &body).await;
    assert_eq!(status, 202, "{answer}");
    let expected_id = event_id(
        &edge.id,
        "attendance-period.updated",
        "att-1",
        "2026-11-10T08:59:00Z".parse().unwrap(),
    );
    assert_eq!(answer["event_id"], json!(expected_id));
    assert_eq!(answer["workflow"], json!("time-entries"));
    // The same delivery again (Personio retried, or sent it twice): deduplicated by SQS.
    assert_eq!(edge.deliver(Some(&token), &body).await.0, 202);

    let messages = edge.peek(&edge.queues[&Workflow::TimeEntries].url).await;
    assert_eq!(messages.len(), 1, "one message for two deliveries");
    let m = &messages[0];
    let attr = |name: &str| {
        m.attributes()
            .and_then(|a| {
                a.iter()
                    .find(|(k, _)| k.as_str() == name)
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_default()
    };
    assert_eq!(attr("MessageGroupId"), format!("{}#time-entries", edge.id));
    assert_eq!(attr("MessageDeduplicationId"), expected_id);
    let queued: Value = serde_json::from_str(m.body().unwrap()).unwrap();
    assert_eq!(queued["resource_id"], json!("att-1"));
    assert_eq!(queued["integration_id"], json!(edge.id.as_str()));
    for w in [Workflow::Employees, Workflow::Absences] {
        assert_eq!(edge.depth(&edge.queues[&w].url).await, 0, "{w}");
    }
    let state = edge.store.get_webhook_state(&edge.id).await.unwrap();
    let last = state.last_delivery.expect("delivery recorded");
    assert_eq!(last.event_name, "attendance-period.updated");
    assert!(last.enqueued);
}

#[tokio::test]
async fn webhook_receiver_answers_a_bad_token_and_an_unknown_integration_alike() {
    let (edge, token) = edge_with_token().await;
    let body = envelope(COMPANY, "person.updated", "p-1");
    let (bad_status, bad) = edge.deliver(Some("not-the-token"), &body).await;
    let (none_status, none) = edge.deliver(None, &body).await;
    let unknown = edge
        .http
        .post(edge.url("/integrations/no-such-integration/webhooks/personio"))
        .header("authorization", &token)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let unknown_status = unknown.status().as_u16();
    let unknown_type = unknown
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!((bad_status, none_status, unknown_status), (401, 401, 401));
    assert_eq!(
        bad, unknown,
        "nothing tells a wrong token from an unknown integration"
    );
    assert_eq!(bad, none);
    assert_eq!(unknown_type.as_deref(), Some("application/problem+json"));
    assert!(!bad.to_string().contains(edge.id.as_str()));
    for w in Workflow::ALL {
        assert_eq!(edge.depth(&edge.queues[&w].url).await, 0);
    }
}

#[tokio::test]
async fn webhook_receiver_refuses_malformed_oversized_and_other_company_bodies() {
    let (edge, token) = edge_with_token().await;
    let (status, p) = edge
        .deliver(Some(&token), b"{\"company_id\": \"112233\"}")
        .await;
    assert_eq!(status, 400, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("event_name"), "{p}");
    let (status, p) = edge
        .deliver(
            Some(&token),
            &serde_json::to_vec(
                &json!({"company_id": COMPANY, "event_name": "person.updated",
                "occurred_at": "2026-11-10T08:59:00Z", "payload": {"id": 7}}),
            )
            .unwrap(),
        )
        .await;
    assert_eq!(status, 400, "payload.id must be a string: {p}");
    let big = vec![b' '; MAX_WEBHOOK_BODY_BYTES + 1];
    assert_eq!(edge.deliver(Some(&token), &big).await.0, 413);
    let (status, p) = edge
        .deliver(Some(&token), &envelope("999999", "person.updated", "p-1"))
        .await;
    assert_eq!(status, 403, "{p}");
    for w in Workflow::ALL {
        assert_eq!(edge.depth(&edge.queues[&w].url).await, 0);
    }
}

#[tokio::test]
async fn webhook_receiver_acknowledges_a_ping_and_unrouted_events_without_enqueueing() {
    let (edge, token) = edge_with_token().await;
    let ping = serde_json::to_vec(&json!({"company_id": COMPANY, "event_name": "ping",
        "occurred_at": "2026-11-10T08:59:00Z", "payload": {}}))
    .unwrap();
    let (status, answer) = edge.deliver(Some(&token), &ping).await;
    assert_eq!(
        (status, answer["status"].clone()),
        (200, json!("acknowledged"))
    );
    let (status, _) = edge
        .deliver(Some(&token), &envelope(COMPANY, "document.created", "d-1"))
        .await;
    assert_eq!(status, 200);
    for w in Workflow::ALL {
        assert_eq!(edge.depth(&edge.queues[&w].url).await, 0);
    }
    let state = edge.store.get_webhook_state(&edge.id).await.unwrap();
    assert_eq!(state.last_delivery.unwrap().event_name, "document.created");
}

#[tokio::test]
async fn webhook_receiver_accepts_the_previous_token_during_a_rotation() {
    let (edge, old) = edge_with_token().await;
    let rotated = edge
        .tokens
        .tokens(&edge.id, true)
        .await
        .unwrap()
        .unwrap()
        .rotated();
    edge.tokens.put_tokens(&edge.id, &rotated).await.unwrap();
    let new = rotated.current.expose_secret().to_string();
    for (token, resource) in [(&old, "p-old"), (&new, "p-new")] {
        let (status, _) = edge
            .deliver(Some(token), &envelope(COMPANY, "person.updated", resource))
            .await;
        assert_eq!(status, 202, "{resource}");
    }
    let third = rotated.rotated();
    edge.tokens.put_tokens(&edge.id, &third).await.unwrap();
    assert_eq!(
        edge.deliver(Some(&old), &envelope(COMPANY, "person.updated", "p-x"))
            .await
            .0,
        401,
        "two rotations later the first token is refused"
    );
}
