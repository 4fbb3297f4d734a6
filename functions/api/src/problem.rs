//! Every error the API answers is an RFC 9457 problem (`application/problem+json`, see
//! [`shared::service::Problem`]). This module turns problems into HTTP responses, maps the framework's
//! own rejections (bad JSON, wrong content type, oversize bodies, bad paths and queries) into problems,
//! and answers unknown routes and wrong methods — so that no client ever sees a bare text error.
use axum::body::Body;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::credentials::CredentialsError;
use shared::service::problem::CONTENT_TYPE as PROBLEM_CONTENT_TYPE;
use shared::service::Problem;
use shared::store::StoreError;

/// A [`Problem`] as an axum response. Handlers return `Result<_, ApiProblem>`.
#[derive(Debug, Clone)]
pub struct ApiProblem(pub Problem);

impl From<Problem> for ApiProblem {
    fn from(p: Problem) -> Self {
        Self(p)
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        problem_response(&self.0)
    }
}

/// The response for a problem: its status (500 only if the problem itself carries a nonsense status,
/// which no constructor does), `application/problem+json`, the problem as the body.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    response
}

/// A store failure: the API cannot answer now, but the request may be repeated (503).
pub fn store_problem(e: &StoreError) -> ApiProblem {
    ApiProblem(Problem::unavailable(format!("the state store failed: {e}")))
}

/// A credentials lookup failure. Absent or unusable credentials are the caller's to fix (422
/// `not-connected`); a Secrets Manager failure is ours (503). Messages never contain secret values.
pub fn credentials_problem(e: &CredentialsError) -> ApiProblem {
    ApiProblem(match e {
        CredentialsError::NotFound { integration_id } => Problem::not_connected(format!(
            "no credentials are stored for integration {integration_id}; \
             store them with PUT /integrations/{integration_id}/credentials"
        )),
        CredentialsError::Invalid { .. } => Problem::not_connected(e.to_string()),
        CredentialsError::Backend { .. } => Problem::unavailable(e.to_string()),
    })
}

/// Unknown route (the router's fallback).
pub async fn unknown_route(method: Method, uri: Uri) -> ApiProblem {
    ApiProblem(Problem::new(
        404,
        "unknown-route",
        "Unknown route",
        format!(
            "no route {method} {}; see GET /openapi.json for the routes",
            printable_path(&uri)
        ),
    ))
}

/// Known route, wrong method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiProblem {
    ApiProblem(Problem::method_not_allowed(format!(
        "{method} is not allowed on {}; see GET /openapi.json for the allowed methods",
        printable_path(&uri)
    )))
}

/// The request path for a message, cut short so a huge path is not echoed back whole.
fn printable_path(uri: &Uri) -> String {
    let path = uri.path();
    if path.len() > 200 {
        let mut end = 200;
        while !path.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &path[..end])
    } else {
        path.to_string()
    }
}

pub fn from_bytes_rejection(r: BytesRejection) -> ApiProblem {
    ApiProblem(if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::payload_too_large(format!(
            "the body is larger than {} bytes",
            shared::service::lambda_event::MAX_BODY_BYTES
        ))
    } else {
        Problem::bad_request(format!("the body could not be read: {}", r.body_text()))
    })
}

pub fn from_path_rejection(r: PathRejection) -> ApiProblem {
    // Every path parameter is an identifier; one that cannot even be decoded is an invalid id.
    ApiProblem(Problem::new(
        400,
        "invalid-id",
        "Invalid identifier",
        format!("invalid path parameters: {}", r.body_text()),
    ))
}

pub fn from_query_rejection(r: QueryRejection) -> ApiProblem {
    ApiProblem(Problem::bad_request(format!(
        "invalid query string: {}",
        r.body_text()
    )))
}

/// Last line of defence, applied to every response: an error response that is not a problem yet (a
/// rejection of some layer this module does not know about) becomes one with the same status, and a
/// 500 — which no handler produces on purpose — becomes a 503 problem.
pub async fn ensure_problem(request: Request<Body>, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    if is_problem && status != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let problem = match status.as_u16() {
        413 => Problem::payload_too_large("the request is too large"),
        415 => Problem::unsupported_media_type("send the body as application/json"),
        404 => Problem::not_found("not found"),
        405 => Problem::method_not_allowed("method not allowed"),
        500 => Problem::unavailable("the request could not be handled; try again"),
        s if (400..500).contains(&s) => Problem::new(
            s,
            "bad-request",
            status.canonical_reason().unwrap_or("Bad request"),
            "the request was rejected",
        ),
        s => Problem::new(
            s,
            "unavailable",
            status.canonical_reason().unwrap_or("Unavailable"),
            "the request could not be handled; try again",
        ),
    };
    problem_response(&problem)
}
