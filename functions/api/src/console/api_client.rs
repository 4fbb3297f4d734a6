//! The console's only way to read or change anything: the JSON API's own router, called in-process.
//!
//! Every console action is the JSON route a machine would call — same extractors, validation, handlers,
//! problem answers — so there is no second implementation of any logic, and what the console shows is
//! exactly what the API answers. The console only translates forms into JSON bodies and answers into
//! HTML. (In AWS the machine routes stay behind IAM at API Gateway; the console routes are
//! authenticated by the function itself, which then calls the router directly.)
use axum::body::{to_bytes, Body};
use axum::http::{header, Method, Request};
use axum::Router;
use serde_json::Value;
use shared::service::Problem;
use tower::ServiceExt;

/// Largest API answer the console reads (run records with plans are the largest).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The JSON API, with the Lambda invocation context of the console request (so that a manual sync
/// started from the console gets the invocation's deadline, as a direct API call would).
#[derive(Clone)]
pub struct ApiClient {
    router: Router,
    lambda: Option<lambda_http::Context>,
}

/// A successful answer: its status (200 or 202) and JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl ApiClient {
    pub fn new(router: Router, lambda: Option<lambda_http::Context>) -> Self {
        Self { router, lambda }
    }

    pub async fn get(&self, path: &str) -> Result<Value, Problem> {
        self.call(Method::GET, path, None).await.map(|a| a.body)
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> Result<Answer, Problem> {
        self.call(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Result<Value, Problem> {
        self.call(Method::PUT, path, Some(body))
            .await
            .map(|a| a.body)
    }

    /// One API call; any error answer comes back as its [`Problem`].
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, Problem> {
        let mut request = Request::builder().method(method).uri(path);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let mut request = request
            .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
            .map_err(|e| {
                Problem::bad_request(format!("the console built an invalid request: {e}"))
            })?;
        if let Some(context) = &self.lambda {
            request.extensions_mut().insert(context.clone());
        }
        let response = match self.router.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let bytes = to_bytes(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|e| Problem::unavailable(format!("the API answer could not be read: {e}")))?;
        if (200..300).contains(&status) {
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).map_err(|e| {
                    Problem::unavailable(format!(
                        "the API answered something that is not JSON: {e}"
                    ))
                })?
            };
            Ok(Answer { status, body })
        } else {
            Err(
                serde_json::from_slice::<Problem>(&bytes).unwrap_or_else(|_| {
                    Problem::new(
                        status,
                        "unavailable",
                        "Unexpected answer",
                        format!("the API answered HTTP {status}"),
                    )
                }),
            )
        }
    }
}
