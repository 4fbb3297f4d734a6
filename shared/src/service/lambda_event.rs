//! What a function was invoked with, told apart by shape: the Scheduler's event
//! `{"integration_id", "trigger": "schedule"}`, a continuation `{"integration_id", "trigger":
//! "continuation", "run_id"}`, or an API Gateway HTTP API (payload 2.0) request. Only the fields the
//! product uses are read; anything else is an error with a clear message, never a guess.
use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use thiserror::Error;

use crate::audit::Caller;
use crate::domain::{IntegrationId, InvalidIntegrationId};

/// Bodies larger than this are refused (413) before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationEvent {
    Scheduled {
        integration_id: IntegrationId,
    },
    Continuation {
        integration_id: IntegrationId,
        run_id: String,
    },
    Http(HttpRequest),
}

/// The parts of an API Gateway HTTP API request the product reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    /// `{integration_id}`, `{workflow}`, ... as API Gateway extracted them.
    pub path_parameters: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// Header names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The decoded body (API Gateway base64-encodes binary bodies).
    pub body: Option<String>,
    /// Who API Gateway authenticated (`requestContext.authorizer`), for the audit trail.
    pub caller: Caller,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EventError {
    #[error("unrecognised invocation event: {0}")]
    Unrecognised(String),
    #[error("invalid integration id in the event: {0}")]
    IntegrationId(#[from] InvalidIntegrationId),
    #[error("the request body is not valid base64")]
    BadBase64,
    #[error("the request body is not UTF-8 text")]
    NotUtf8,
}

#[derive(Deserialize)]
struct ScheduledShape {
    integration_id: String,
    trigger: String,
    #[serde(default)]
    run_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpShape {
    request_context: HttpContext,
    #[serde(default)]
    raw_path: Option<String>,
    #[serde(default)]
    path_parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    query_string_parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

#[derive(Deserialize)]
struct HttpContext {
    http: HttpMethodPath,
    #[serde(default)]
    authorizer: Option<Value>,
}

#[derive(Deserialize)]
struct HttpMethodPath {
    method: String,
    path: String,
}

impl InvocationEvent {
    pub fn classify(event: Value) -> Result<Self, EventError> {
        if event.get("requestContext").is_some() {
            let shape: HttpShape = serde_json::from_value(event)
                .map_err(|e| EventError::Unrecognised(format!("API Gateway event: {e}")))?;
            let body = match shape.body {
                None => None,
                Some(b) if shape.is_base64_encoded => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b.as_bytes())
                        .map_err(|_| EventError::BadBase64)?;
                    Some(String::from_utf8(bytes).map_err(|_| EventError::NotUtf8)?)
                }
                Some(b) => Some(b),
            };
            return Ok(Self::Http(HttpRequest {
                method: shape.request_context.http.method.to_ascii_uppercase(),
                path: shape.raw_path.unwrap_or(shape.request_context.http.path),
                path_parameters: shape.path_parameters.unwrap_or_default(),
                query: shape.query_string_parameters.unwrap_or_default(),
                headers: shape
                    .headers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
                body,
                caller: shape
                    .request_context
                    .authorizer
                    .as_ref()
                    .map_or(Caller::Unauthenticated, Caller::from_authorizer),
            }));
        }
        let shape: ScheduledShape = serde_json::from_value(event).map_err(|e| {
            EventError::Unrecognised(format!(
                "expected {{\"integration_id\": ..., \"trigger\": \"schedule\"}}: {e}"
            ))
        })?;
        let integration_id = IntegrationId::new(shape.integration_id)?;
        match (shape.trigger.as_str(), shape.run_id) {
            ("schedule", _) => Ok(Self::Scheduled { integration_id }),
            ("continuation", Some(run_id)) if !run_id.is_empty() => Ok(Self::Continuation {
                integration_id,
                run_id,
            }),
            ("continuation", _) => Err(EventError::Unrecognised(
                "a continuation event needs the run_id it continues".into(),
            )),
            (other, _) => Err(EventError::Unrecognised(format!(
                "unknown trigger {other:?}: expected schedule or continuation"
            ))),
        }
    }
}

/// What else a workflow function is invoked with, besides an [`InvocationEvent`]: a batch from its
/// webhook queue (Lambda's SQS event source mapping) or the scheduled webhook replay
/// `{"integration_id", "trigger": "webhook-replay"}` (docs/workflows/webhooks.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookInvocation {
    QueueBatch(aws_lambda_events::event::sqs::SqsEvent),
    Replay { integration_id: IntegrationId },
}

/// The trigger of the scheduled webhook replay.
pub const WEBHOOK_REPLAY_TRIGGER: &str = "webhook-replay";

impl WebhookInvocation {
    /// `None` when the event is neither (it is then an [`InvocationEvent`] or an error).
    pub fn classify(event: &Value) -> Option<Result<Self, EventError>> {
        if crate::webhooks::consumer::is_sqs_event(event) {
            return Some(
                serde_json::from_value(event.clone())
                    .map(Self::QueueBatch)
                    .map_err(|e| EventError::Unrecognised(format!("SQS event: {e}"))),
            );
        }
        if event.get("trigger").and_then(Value::as_str) == Some(WEBHOOK_REPLAY_TRIGGER) {
            let id = event
                .get("integration_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            return Some(
                IntegrationId::new(id)
                    .map(|integration_id| Self::Replay { integration_id })
                    .map_err(EventError::from),
            );
        }
        None
    }
}

/// An API Gateway HTTP API (payload 2.0) response with a JSON body.
pub fn http_response(status: u16, content_type: &str, body: &Value) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": content_type},
        "body": body.to_string(),
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_and_continuation_events_are_recognised() {
        let e = InvocationEvent::classify(json!({"integration_id": "acme", "trigger": "schedule"}))
            .unwrap();
        assert!(
            matches!(e, InvocationEvent::Scheduled { integration_id } if integration_id.as_str() == "acme")
        );
        let c = InvocationEvent::classify(
            json!({"integration_id": "acme", "trigger": "continuation", "run_id": "r1"}),
        )
        .unwrap();
        assert!(matches!(c, InvocationEvent::Continuation { run_id, .. } if run_id == "r1"));
    }

    #[test]
    fn queue_batches_and_replays_are_told_apart_from_other_events() {
        let sqs = json!({"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs",
            "attributes": {"MessageGroupId": "acme#absences"}}]});
        let Some(Ok(WebhookInvocation::QueueBatch(batch))) = WebhookInvocation::classify(&sqs)
        else {
            panic!("not a queue batch")
        };
        assert_eq!(batch.records[0].message_id.as_deref(), Some("m1"));
        let replay = json!({"integration_id": "acme", "trigger": "webhook-replay"});
        assert!(matches!(
            WebhookInvocation::classify(&replay),
            Some(Ok(WebhookInvocation::Replay { .. }))
        ));
        let bad = json!({"integration_id": "a#b", "trigger": "webhook-replay"});
        assert!(matches!(WebhookInvocation::classify(&bad), Some(Err(_))));
        let schedule = json!({"integration_id": "acme", "trigger": "schedule"});
        assert!(WebhookInvocation::classify(&schedule).is_none());
        assert!(InvocationEvent::classify(replay).is_err(), "not a schedule");
    }

    #[test]
    fn malformed_events_are_errors_not_guesses() {
        for bad in [
            json!({}),
            json!({"integration_id": "acme"}),
            json!({"integration_id": "acme", "trigger": "cron"}),
            json!({"integration_id": "acme", "trigger": "continuation"}),
            json!({"integration_id": "a#b", "trigger": "schedule"}),
            json!([1, 2]),
        ] {
            assert!(InvocationEvent::classify(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_api_requests_are_decoded() {
        let event = json!({
            "version": "2.0",
            "routeKey": "POST /integrations/{integration_id}/sync/{workflow}",
            "rawPath": "/integrations/acme/sync/absences",
            "headers": {"Content-Type": "application/json"},
            "requestContext": {"http": {"method": "post", "path": "/integrations/acme/sync/absences"}},
            "pathParameters": {"integration_id": "acme"},
            "body": "eyJkcnlfcnVuIjp0cnVlfQ==",
            "isBase64Encoded": true
        });
        let InvocationEvent::Http(req) = InvocationEvent::classify(event).unwrap() else {
            panic!("not http")
        };
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.body.as_deref(), Some(r#"{"dry_run":true}"#));
        assert_eq!(req.path_parameters["integration_id"], "acme");
        assert_eq!(req.caller, Caller::Unauthenticated, "no authorizer context");
    }

    #[test]
    fn the_caller_is_read_from_the_iam_authorizer_context() {
        let event = json!({
            "rawPath": "/integrations/acme/sync/absences",
            "requestContext": {
                "http": {"method": "POST", "path": "/integrations/acme/sync/absences"},
                "authorizer": {"iam": {"accessKey": "ASIAEXAMPLE", "userArn": "arn:aws:iam::123456789012:user/ops"}}
            },
            "headers": {"x-caller": "arn:aws:iam::123456789012:user/forged"},
            "pathParameters": {"integration_id": "acme", "workflow": "absences"}
        });
        let InvocationEvent::Http(req) = InvocationEvent::classify(event).unwrap() else {
            panic!("not http")
        };
        assert_eq!(
            req.caller,
            Caller::Iam {
                arn: "arn:aws:iam::123456789012:user/ops".into()
            }
        );
    }
}
