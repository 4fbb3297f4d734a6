//! Every error the API answers is an RFC 9457 problem (`application/problem+json`, see
//! [`shared::service::Problem`], which is an axum response, and whose `From` conversions of the typed
//! errors and the framework's rejections live in `shared::service::problem` and
//! `shared::service::http`). This module answers unknown routes and wrong methods and turns any error
//! response that is not a problem yet into one — so that no client ever sees a bare text error.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::service::problem::CONTENT_TYPE as PROBLEM_CONTENT_TYPE;
use shared::service::Problem;

/// The response for a problem (see [`Problem`]'s `IntoResponse`).
pub fn problem_response(problem: &Problem) -> Response {
    problem.clone().into_response()
}

/// Unknown route (the router's fallback).
pub async fn unknown_route(method: Method, uri: Uri) -> Problem {
    Problem::new(
        404,
        "unknown-route",
        "Unknown route",
        format!(
            "no route {method} {}; see GET /openapi.json for the routes",
            printable_path(&uri)
        ),
    )
}

/// Known route, wrong method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::method_not_allowed(format!(
        "{method} is not allowed on {}; see GET /openapi.json for the allowed methods",
        printable_path(&uri)
    ))
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
