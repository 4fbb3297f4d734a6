//! The HTTP edge of the manual sync, `POST /integrations/{integration_id}/sync/{workflow}`: one axum
//! extractor ([`ManualSyncCall`]) that reads and checks the request, one service trait
//! ([`ManualSyncService`], implemented by every [`WorkflowService`]) that runs it and answers, and the
//! axum handler ([`manual_sync`]) the API router mounts.
//!
//! The same extractor and service serve both deployments:
//! - in AWS, API Gateway sends the route straight to the workflow's own function; its API Gateway event
//!   becomes an `http::Request` through `lambda_http`'s own conversion and `Adapter` (see
//!   [`super::lambda`]), with API Gateway's path parameters;
//! - locally (`api --listen`, the demo, the API tests) the API's axum router mounts [`manual_sync`],
//!   which hands the request to the workflow's service in-process: no JSON round trip.
//!
//! Every refusal is a [`Problem`] (`application/problem+json`), which is an axum response here.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde_json::{json, Value};
use tracing::error;

use super::lambda::deadline_from_millis;
use super::manual_sync::ManualSync;
use super::problem::{Problem, CONTENT_TYPE as PROBLEM_CONTENT_TYPE};
use super::workflow::{today_in, RunOrder, WorkflowBinding, WorkflowService};
use crate::audit::{AuditRecord, Caller};
use crate::domain::{IntegrationId, Trigger, Workflow};
use crate::engine::Clock;
use crate::runs::RunStatus;

/// Bodies larger than this are refused (413) before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How much of API Gateway's 30 s integration timeout a manual run may use before it answers 202 and
/// carries on as a continuation.
pub const HTTP_RUN_BUDGET: Duration = Duration::from_secs(25);

impl IntoResponse for Problem {
    /// Its status (503 only if the problem carries a status HTTP does not know, which no constructor
    /// does), `application/problem+json`, the problem as the body.
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        response
    }
}

impl From<BytesRejection> for Problem {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::payload_too_large(format!("the body is larger than {MAX_BODY_BYTES} bytes"))
        } else {
            Problem::bad_request(format!("the body could not be read: {}", r.body_text()))
        }
    }
}

impl From<PathRejection> for Problem {
    /// Every path parameter is an identifier; one that cannot even be decoded is an invalid id.
    fn from(r: PathRejection) -> Self {
        Problem::invalid_id(format!("invalid path parameters: {}", r.body_text()))
    }
}

impl From<QueryRejection> for Problem {
    fn from(r: QueryRejection) -> Self {
        Problem::bad_request(format!("invalid query string: {}", r.body_text()))
    }
}

/// Cuts user input that is echoed in a message to a readable length.
pub fn shorten(s: &str) -> String {
    if s.chars().count() > 64 {
        format!("{}…", s.chars().take(64).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The principal API Gateway authenticated (`requestContext.authorizer`: a Cognito user or an IAM
/// principal), never a header the client sets; [`Caller::Unauthenticated`] outside API Gateway.
pub fn caller_of(extensions: &axum::http::Extensions) -> Caller {
    #[allow(unreachable_patterns)]
    let authorizer = match extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(c)) => c.authorizer.as_ref(),
        _ => None,
    };
    authorizer
        .and_then(|a| serde_json::to_value(a).ok())
        .map_or(Caller::Unauthenticated, |a| Caller::from_authorizer(&a))
}

/// A manual-sync request, read and checked at the edge: the path's ids, the caller, the body as text
/// and the invocation's deadline. What the body says is parsed by [`ManualSync::parse`] once the
/// integration's settings are known.
#[derive(Debug, Clone)]
pub struct ManualSyncCall {
    pub integration_id: IntegrationId,
    /// `None` when the path does not name it: API Gateway's route for a workflow function names the
    /// workflow literally (`/sync/employees`), so the function serves its own.
    pub workflow: Option<Workflow>,
    pub caller: Caller,
    pub content_type: Option<String>,
    /// `None`: no body.
    pub body: Option<String>,
    /// The Lambda invocation's deadline when served under the Lambda runtime.
    pub deadline: Option<Timestamp>,
}

impl<S: Send + Sync> FromRequest<S> for ManualSyncCall {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        if parts.method != Method::POST {
            return Err(Problem::method_not_allowed(format!(
                "{} is not allowed here; use POST",
                parts.method
            )));
        }
        // The axum router's match when routed by it; API Gateway's `pathParameters` otherwise.
        let params =
            match Path::<HashMap<String, String>>::from_request_parts(&mut parts, state).await {
                Ok(Path(params)) => params,
                Err(PathRejection::MissingPathParams(_)) => parts
                    .extensions
                    .path_parameters()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                Err(other) => return Err(other.into()),
            };
        let raw = params
            .get("integration_id")
            .ok_or_else(|| Problem::bad_request("the path has no integration id"))?;
        let integration_id =
            IntegrationId::new(raw.clone()).map_err(|e| Problem::invalid_id(e.to_string()))?;
        let workflow = match params.get("workflow") {
            None => None,
            Some(w) => Some(
                w.parse::<Workflow>()
                    .map_err(|_| Problem::unknown_workflow(&shorten(w)))?,
            ),
        };
        let caller = caller_of(&parts.extensions);
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let deadline = parts
            .extensions
            .lambda_context_ref()
            .and_then(|c| deadline_from_millis(c.deadline, Timestamp::now()));
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state).await?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(Problem::payload_too_large(format!(
                "the body has {} bytes; at most {MAX_BODY_BYTES} are accepted",
                bytes.len()
            )));
        }
        let body = if bytes.is_empty() {
            None
        } else {
            Some(
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| Problem::invalid_body("the request body is not UTF-8 text"))?,
            )
        };
        Ok(Self {
            integration_id,
            workflow,
            caller,
            content_type,
            body,
            deadline,
        })
    }
}

/// What serves a workflow's manual sync: every [`WorkflowService`].
#[async_trait]
pub trait ManualSyncService: Send + Sync {
    fn workflow(&self) -> Workflow;

    /// Runs the sync `call` asks for and answers: the run record (200), a continued run (202), or a
    /// problem. A sync that ran leaves an audit record with the caller; a refused request changed
    /// nothing and leaves none.
    async fn manual_sync(&self, call: ManualSyncCall) -> Response;
}

/// The workflows whose manual sync a server runs in-process, and the deadline it grants them.
#[derive(Clone)]
pub struct ManualSyncRoutes {
    pub services: Arc<BTreeMap<Workflow, Arc<dyn ManualSyncService>>>,
    /// Counted from the request (`None`: only the Lambda invocation's deadline and the service's API
    /// budget). The runner stops starting writes a safety margin before it and answers 202.
    pub time_limit: Option<Duration>,
    pub clock: Arc<dyn Clock>,
}

/// The manual-sync route: the call handed to the service of the workflow the path names.
pub async fn manual_sync(
    State(routes): State<ManualSyncRoutes>,
    call: ManualSyncCall,
) -> Result<Response, Problem> {
    let workflow = call
        .workflow
        .ok_or_else(|| Problem::bad_request("the path names no workflow"))?;
    let service = routes.services.get(&workflow).ok_or_else(|| {
        Problem::new(
            404,
            "workflow-not-served",
            "Workflow not served here",
            format!("this server does not run the {workflow} workflow; call its own endpoint"),
        )
    })?;
    let limit = routes.time_limit.and_then(|d| {
        let d = SignedDuration::try_from(d).ok()?;
        routes.clock.now().checked_add(d).ok()
    });
    let deadline = match (call.deadline, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(service
        .manual_sync(ManualSyncCall { deadline, ..call })
        .await)
}

/// A JSON answer.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[async_trait]
impl<B: WorkflowBinding> ManualSyncService for WorkflowService<B> {
    fn workflow(&self) -> Workflow {
        self.binding.workflow()
    }

    async fn manual_sync(&self, call: ManualSyncCall) -> Response {
        let caller = call.caller.clone();
        let body = call.body.clone();
        match self.run_manual_sync(call).await {
            Ok((status, answer, integration_id)) => {
                let record = AuditRecord::manual_sync(
                    integration_id,
                    self.context.clock.now(),
                    caller,
                    self.binding.workflow(),
                    answer.get("run_id").and_then(Value::as_str),
                    body.as_deref(),
                );
                if let Err(e) = self.context.store.put_audit(&record).await {
                    error!(caller = %record.caller, subject = ?record.subject, error = %e,
                        "audit record of a manual sync not written; the sync ran");
                }
                json_response(status, &answer)
            }
            Err(p) => p.into_response(),
        }
    }
}

impl<B: WorkflowBinding> WorkflowService<B> {
    async fn run_manual_sync(
        &self,
        call: ManualSyncCall,
    ) -> Result<(StatusCode, Value, IntegrationId), Problem> {
        let workflow = self.binding.workflow();
        if let Some(w) = call.workflow {
            if w != workflow {
                return Err(Problem::unknown_workflow(w.as_str()));
            }
        }
        let integration_id = call.integration_id;
        if let Some(body) = &call.body {
            let json = call.content_type.as_deref().is_some_and(|ct| {
                ct.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
            if !body.trim().is_empty() && !json {
                return Err(Problem::unsupported_media_type(
                    "send the body as application/json",
                ));
            }
        }
        // Settings are validated inside the run (a failed run record says what is wrong); reading the
        // request only needs the day and the manual-window limit.
        let settings = self.stored_settings(&integration_id).await?;
        let now = self.context.clock.now();
        let today = today_in(&settings, now)
            .unwrap_or_else(|_| now.to_zoned(jiff::tz::TimeZone::UTC).date());
        let manual = ManualSync::parse(
            call.body.as_deref(),
            today,
            settings.windows.max_manual_days,
        )?;
        // The runner starts no write closer than `deadline_margin` to its deadline, so the deadline of an
        // HTTP run is the budget plus that margin: writes start for HTTP_RUN_BUDGET, then it continues.
        let now = self.context.clock.now();
        let work = SignedDuration::try_from(HTTP_RUN_BUDGET + self.runner.deadline_margin)
            .unwrap_or(SignedDuration::ZERO);
        let budget = now.checked_add(work).unwrap_or(now);
        let deadline = Some(match call.deadline {
            Some(d) if d < budget => d,
            _ => budget,
        });
        let run = self
            .run(RunOrder {
                integration_id: integration_id.clone(),
                trigger: Trigger::Manual,
                manual: Some(manual),
                continues_run_id: None,
                deadline,
            })
            .await?;
        if run.status == RunStatus::Continued {
            Ok((
                StatusCode::ACCEPTED,
                json!({
                    "run_id": run.run_id,
                    "status": "continued",
                    "detail": "the run did not finish within the API budget and continues in the background",
                    "href": format!("/integrations/{integration_id}/runs/{}", run.run_id),
                }),
                integration_id,
            ))
        } else {
            let record = serde_json::to_value(&run)
                .map_err(|e| Problem::unavailable(format!("the run record: {e}")))?;
            Ok((StatusCode::OK, record, integration_id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn extract(request: axum::http::Request<Body>) -> Result<ManualSyncCall, Problem> {
        ManualSyncCall::from_request(request, &()).await
    }

    fn post() -> axum::http::request::Builder {
        axum::http::Request::builder()
            .method("POST")
            .uri("/integrations/acme/sync/absences")
    }

    #[tokio::test]
    async fn a_problem_is_a_problem_json_response() {
        let response = Problem::already_running("busy").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            v["type"],
            "urn:personio-timetrack-sync:problem:already-running"
        );
    }

    /// Routed by axum: the ids come from the router's match.
    #[tokio::test]
    async fn the_router_path_gives_the_ids_and_the_body_is_text() {
        let router = axum::Router::new().route(
            "/integrations/{integration_id}/sync/{workflow}",
            axum::routing::post(|call: ManualSyncCall| async move {
                format!(
                    "{}|{:?}|{:?}",
                    call.integration_id, call.workflow, call.body
                )
            }),
        );
        let response = router
            .oneshot(
                post()
                    .header("content-type", "application/json")
                    .body(Body::from(r#"{"dry_run":true}"#))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"acme|Some(Absences)|Some("{\"dry_run\":true}")"#
        );
    }

    /// Not routed by axum (API Gateway routed it): no path parameters means no integration id.
    #[tokio::test]
    async fn refusals_are_problems() {
        let no_ids = extract(post().body(Body::empty()).unwrap())
            .await
            .unwrap_err();
        assert_eq!(no_ids.status, 400, "{no_ids}");
        let get = extract(
            axum::http::Request::builder()
                .method("GET")
                .uri("/x")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap_err();
        assert_eq!(get.status, 405, "{get}");
        assert!(get.detail.contains("use POST"), "{get}");
    }

    #[tokio::test]
    async fn a_body_that_is_not_utf8_is_a_400() {
        let router = axum::Router::new().route(
            "/integrations/{integration_id}/sync/{workflow}",
            axum::routing::post(|call: ManualSyncCall| async move { format!("{:?}", call.body) }),
        );
        let response = router
            .oneshot(post().body(Body::from(vec![0xFF_u8, 0xFE])).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn long_input_is_shortened() {
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten(&"x".repeat(100)).chars().count(), 65);
    }
}
