//! What a workflow function was invoked with, classified once by shape:
//! - an API Gateway HTTP API (payload 2.0) request — `lambda_http`'s own [`LambdaRequest`], turned into
//!   an `http::Request` by `lambda_http` and served by the manual-sync edge ([`super::http`]);
//! - a batch of its webhook queue — `aws_lambda_events`' [`SqsEvent`];
//! - the product's own payloads, sent by EventBridge Scheduler: a scheduled run
//!   `{"integration_id", "trigger": "schedule"}`, a continuation `{"integration_id", "trigger":
//!   "continuation", "run_id"}` and the webhook replay `{"integration_id", "trigger": "webhook-replay"}`.
//!
//! Only the fields the product uses are read; anything else is an error with a clear message, never a
//! guess.
use aws_lambda_events::event::sqs::SqsEvent;
use base64::Engine as _;
use lambda_http::request::LambdaRequest;
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::domain::{IntegrationId, InvalidIntegrationId};

/// The trigger of the scheduled webhook replay.
pub(crate) const WEBHOOK_REPLAY_TRIGGER: &str = "webhook-replay";

#[derive(Debug)]
pub enum Invocation {
    /// An API Gateway request. `refused`: what makes it unreadable before any routing (a body flagged
    /// base64 that is not), answered as a 400 problem.
    Http {
        request: Box<LambdaRequest>,
        refused: Option<EventError>,
    },
    Scheduled {
        integration_id: IntegrationId,
    },
    Continuation {
        integration_id: IntegrationId,
        run_id: String,
    },
    QueueBatch(SqsEvent),
    Replay {
        integration_id: IntegrationId,
    },
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum EventError {
    #[error("unrecognised invocation event: {0}")]
    Unrecognised(String),
    #[error("invalid integration id in the event: {0}")]
    IntegrationId(#[from] InvalidIntegrationId),
    #[error("the request body is not valid base64")]
    BadBase64,
}

/// The product's own payloads (Scheduler targets' `Input`).
#[derive(Deserialize)]
struct ProductEvent {
    integration_id: String,
    trigger: String,
    #[serde(default)]
    run_id: Option<String>,
}

impl Invocation {
    pub fn classify(mut event: Value) -> Result<Self, EventError> {
        if event.get("requestContext").is_some() {
            // `lambda_http` panics on a body flagged base64 that is not: check first, and serve the
            // request without it (its answer is the 400).
            let mut refused = None;
            if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                let body = event
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if base64::engine::general_purpose::STANDARD
                    .decode(body.as_bytes())
                    .is_err()
                {
                    refused = Some(EventError::BadBase64);
                    event["body"] = Value::Null;
                    event["isBase64Encoded"] = Value::Bool(false);
                }
            }
            let request: LambdaRequest = serde_json::from_value(event)
                .map_err(|e| EventError::Unrecognised(format!("API Gateway event: {e}")))?;
            return Ok(Self::Http {
                request: Box::new(request),
                refused,
            });
        }
        if crate::webhooks::consumer::is_sqs_event(&event) {
            return serde_json::from_value(event)
                .map(Self::QueueBatch)
                .map_err(|e| EventError::Unrecognised(format!("SQS event: {e}")));
        }
        let shape: ProductEvent = serde_json::from_value(event).map_err(|e| {
            EventError::Unrecognised(format!(
                "expected {{\"integration_id\": ..., \"trigger\": \"schedule\"}}: {e}"
            ))
        })?;
        let integration_id = IntegrationId::new(shape.integration_id)?;
        match (shape.trigger.as_str(), shape.run_id) {
            ("schedule", _) => Ok(Self::Scheduled { integration_id }),
            (WEBHOOK_REPLAY_TRIGGER, _) => Ok(Self::Replay { integration_id }),
            ("continuation", Some(run_id)) if !run_id.is_empty() => Ok(Self::Continuation {
                integration_id,
                run_id,
            }),
            ("continuation", _) => Err(EventError::Unrecognised(
                "a continuation event needs the run_id it continues".into(),
            )),
            (other, _) => Err(EventError::Unrecognised(format!(
                "unknown trigger {other:?}: expected schedule, continuation or webhook-replay"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scheduled_and_continuation_events_are_recognised() {
        let e =
            Invocation::classify(json!({"integration_id": "acme", "trigger": "schedule"})).unwrap();
        assert!(
            matches!(e, Invocation::Scheduled { integration_id } if integration_id.as_str() == "acme")
        );
        let c = Invocation::classify(
            json!({"integration_id": "acme", "trigger": "continuation", "run_id": "r1"}),
        )
        .unwrap();
        assert!(matches!(c, Invocation::Continuation { run_id, .. } if run_id == "r1"));
    }

    #[test]
    fn queue_batches_and_replays_are_told_apart_from_other_events() {
        let sqs = json!({"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs",
            "attributes": {"MessageGroupId": "acme#absences"}}]});
        let Ok(Invocation::QueueBatch(batch)) = Invocation::classify(sqs) else {
            panic!("not a queue batch")
        };
        assert_eq!(batch.records[0].message_id.as_deref(), Some("m1"));
        let replay = json!({"integration_id": "acme", "trigger": "webhook-replay"});
        assert!(matches!(
            Invocation::classify(replay),
            Ok(Invocation::Replay { .. })
        ));
        let bad = json!({"integration_id": "a#b", "trigger": "webhook-replay"});
        assert!(Invocation::classify(bad).is_err());
    }

    #[test]
    fn malformed_events_are_errors_not_guesses() {
        for bad in [
            json!({}),
            json!({"integration_id": "acme"}),
            json!({"integration_id": "acme", "trigger": "cron"}),
            json!({"integration_id": "acme", "trigger": "continuation"}),
            json!({"integration_id": "a#b", "trigger": "schedule"}),
            json!({"Records": "nope"}),
            json!([1, 2]),
        ] {
            assert!(Invocation::classify(bad.clone()).is_err(), "{bad}");
        }
    }

    fn apigw(body: &str, base64: bool) -> Value {
        json!({
            "version": "2.0",
            "routeKey": "POST /integrations/{integration_id}/sync/absences",
            "rawPath": "/integrations/acme/sync/absences",
            "rawQueryString": "",
            "headers": {"Content-Type": "application/json"},
            "requestContext": {"http": {"method": "POST", "path": "/integrations/acme/sync/absences",
                "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl"},
                "stage": "$default", "requestId": "r", "routeKey": "x", "accountId": "1", "apiId": "a",
                "domainName": "api.example.com", "time": "t", "timeEpoch": 0},
            "pathParameters": {"integration_id": "acme"},
            "body": body,
            "isBase64Encoded": base64
        })
    }

    #[test]
    fn http_api_requests_are_lambda_http_requests() {
        let Ok(Invocation::Http { request, refused }) =
            Invocation::classify(apigw("eyJkcnlfcnVuIjp0cnVlfQ==", true))
        else {
            panic!("not http")
        };
        assert!(refused.is_none());
        let request: lambda_http::Request = (*request).into();
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), "/integrations/acme/sync/absences");
        assert_eq!(
            request.body().as_ref(),
            br#"{"dry_run":true}"#,
            "decoded by lambda_http"
        );
    }

    #[test]
    fn a_body_flagged_base64_that_is_not_is_refused_not_a_panic() {
        let Ok(Invocation::Http { request, refused }) = Invocation::classify(apigw("%%%", true))
        else {
            panic!("not http")
        };
        assert_eq!(refused, Some(EventError::BadBase64));
        let request: lambda_http::Request = (*request).into();
        assert!(request.body().is_empty());
    }
}
