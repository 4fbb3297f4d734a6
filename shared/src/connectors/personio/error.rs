//! Typed errors of the Personio client.
//!
//! Two error shapes come back from Personio: the token endpoint speaks OAuth (`error`,
//! `error_description`), every resource endpoint speaks problem+json (`errors[]` with `title`, `detail`,
//! `type`). No variant ever carries the client secret or a token: the secret only goes into the token
//! request's form body, the token only into an `Authorization` header, and neither is echoed here.
use serde::Deserialize;
use thiserror::Error;

use crate::connectors::http::TransportError;
use crate::connectors::rest::JsonFailure;
use crate::connectors::{class_of_status, ErrorClass};

/// One entry of a problem+json `errors[]` array.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    /// A URI naming the error kind, e.g. `https://developer.personio.de/reference/errors#common.bad_request`.
    #[serde(default, rename = "type")]
    pub type_uri: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
}

/// The refusals of a write the sync treats differently from any other client error.
///
/// Personio gives these no error code (`type` is `null` or a generic URI) and the reference does not
/// document them (docs/personio-api-v2.md, attendance periods): the approved-period status code is
/// unknown and the overlap rule is third-party knowledge. So they are told apart by the text of the
/// problems, in [`ApiErrorKind::classify`] only, case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiErrorKind {
    /// 422: the attendance period is approved (CONFIRMED) and can no longer be changed.
    ApprovedPeriod,
    /// 422: the period overlaps another period of the same person.
    Overlap,
    /// Anything else: the status decides.
    #[default]
    Other,
}

impl ApiErrorKind {
    /// Classifies an answer by its status and problems' titles and details. Only 422 answers are
    /// classified (absences answer an overlap with 409 "Absence period conflict", which the status
    /// already says); "approved" wins over "overlap" when a problem names both, since an approved
    /// period cannot be written whatever else is wrong.
    pub fn classify(status: u16, problems: &[Problem]) -> Self {
        if status != 422 {
            return ApiErrorKind::Other;
        }
        let mentions = |word: &str| {
            problems
                .iter()
                .flat_map(|p| [p.title.as_deref(), p.detail.as_deref()])
                .flatten()
                .any(|text| contains_ignoring_case(text, word))
        };
        if mentions("approved") {
            ApiErrorKind::ApprovedPeriod
        } else if mentions("overlap") {
            ApiErrorKind::Overlap
        } else {
            ApiErrorKind::Other
        }
    }
}

/// `needle` (ASCII, lower case) occurs in `haystack`, ignoring ASCII case.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[derive(Debug, Error)]
pub enum PersonioError {
    /// The token endpoint refused the credentials: `error` is the OAuth code (`invalid_client`,
    /// `unauthorized_client`, `invalid_scope`, ...).
    #[error("Personio refused the API credentials (HTTP {status}): {error}{}", description.as_deref().map(|d| format!(" — {d}")).unwrap_or_default())]
    Auth {
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// A resource call answered with a non-success status.
    #[error(
        "Personio answered HTTP {status} to {method} {path}: {}",
        summarize(problems)
    )]
    Api {
        method: String,
        path: String,
        status: u16,
        problems: Vec<Problem>,
        trace_id: Option<String>,
        /// What the answer means beyond its status, read once from the problems.
        kind: ApiErrorKind,
    },
    /// No HTTP answer at all (timeout, connection refused or dropped), after the retries allowed.
    #[error("Personio unreachable: {0}")]
    Transport(#[from] TransportError),
    /// An answer that could not be read.
    #[error("cannot decode Personio's answer to {what}: {message}")]
    Decode { what: String, message: String },
    /// A `next` link led back to a page already read (a known Personio paging bug).
    #[error("Personio paging loop: next link {href} repeats a page already read")]
    PagingLoop { href: String },
    /// More pages than any sane list has; stops a runaway cursor chain.
    #[error("Personio paging stopped after {pages} pages")]
    TooManyPages { pages: usize },
    /// The client configuration is unusable (e.g. a base URL that is not a URL).
    #[error("invalid Personio client configuration: {0}")]
    Config(String),
}

impl From<JsonFailure> for PersonioError {
    fn from(failure: JsonFailure) -> Self {
        PersonioError::Decode {
            what: failure.what,
            message: failure.message,
        }
    }
}

impl PersonioError {
    /// What the failure means for the sync engine.
    pub fn class(&self) -> ErrorClass {
        match self {
            PersonioError::Auth { .. } | PersonioError::Config(_) => ErrorClass::Auth,
            PersonioError::Api { status, .. } => class_of_status(*status),
            PersonioError::Transport(_) => ErrorClass::Transient,
            PersonioError::Decode { .. }
            | PersonioError::PagingLoop { .. }
            | PersonioError::TooManyPages { .. } => ErrorClass::Decode,
        }
    }

    /// What a resource call's refusal means ([`ApiErrorKind::Other`] for every other error).
    pub fn kind(&self) -> ApiErrorKind {
        match self {
            PersonioError::Api { kind, .. } => *kind,
            _ => ApiErrorKind::Other,
        }
    }

    /// HTTP status of an answered call, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            PersonioError::Auth { status, .. } | PersonioError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn summarize(problems: &[Problem]) -> String {
    if problems.is_empty() {
        return "no error details".to_string();
    }
    problems
        .iter()
        .map(|p| match (&p.title, &p.detail) {
            (Some(t), Some(d)) => format!("{t}: {d}"),
            (Some(t), None) => t.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => p
                .type_uri
                .clone()
                .unwrap_or_else(|| "untitled error".into()),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The problem+json body of a failed resource call.
#[derive(Debug, Deserialize)]
struct ProblemBody {
    #[serde(default)]
    errors: Vec<Problem>,
    #[serde(default)]
    personio_trace_id: Option<String>,
    /// Some gateways answer with a single problem object instead of `errors[]`.
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// Builds the error of a failed resource call from its status and body. A body that is not
/// problem+json becomes a single problem holding (the start of) the body text.
pub(crate) fn api_error(method: &str, path: &str, status: u16, body: &[u8]) -> PersonioError {
    let (problems, trace_id) = match serde_json::from_slice::<ProblemBody>(body) {
        Ok(parsed) => {
            let mut problems = parsed.errors;
            if problems.is_empty() && (parsed.title.is_some() || parsed.detail.is_some()) {
                problems.push(Problem {
                    title: parsed.title,
                    detail: parsed.detail,
                    type_uri: None,
                    status: Some(status),
                });
            }
            (problems, parsed.personio_trace_id)
        }
        Err(_) => (text_problem(body), None),
    };
    PersonioError::Api {
        method: method.to_string(),
        path: path.to_string(),
        status,
        kind: ApiErrorKind::classify(status, &problems),
        problems,
        trace_id,
    }
}

fn text_problem(body: &[u8]) -> Vec<Problem> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    vec![Problem {
        detail: Some(text.chars().take(300).collect()),
        ..Problem::default()
    }]
}

/// The OAuth error body of the token endpoint.
#[derive(Debug, Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Builds the error of a failed token request. 4xx (but 429) means the credentials are wrong; 429 and
/// 5xx are not the customer's fault and keep their own class.
pub(crate) fn token_error(status: u16, body: &[u8]) -> PersonioError {
    if status == 429 || status >= 500 {
        return api_error("POST", "/v2/auth/token", status, body);
    }
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(parsed) => PersonioError::Auth {
            status,
            error: parsed.error,
            description: parsed.error_description,
        },
        Err(_) => {
            // A resource-style problem body, or no body at all.
            let description = match api_error("POST", "/v2/auth/token", status, body) {
                PersonioError::Api { problems, .. } if !problems.is_empty() => {
                    Some(summarize(&problems))
                }
                _ => None,
            };
            PersonioError::Auth {
                status,
                error: format!("http_{status}"),
                description,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_becomes_a_typed_api_error() {
        let body = br#"{"personio_trace_id":"a81c","timestamp":"2025-03-04T10:15:00Z",
            "errors":[{"title":"Bad request","detail":"Provided request parameters are invalid.",
            "type":"https://developer.personio.de/reference/errors#common.bad_request","_meta":{}}]}"#;
        let err = api_error("GET", "/v2/persons", 400, body);
        match &err {
            PersonioError::Api {
                status,
                problems,
                trace_id,
                ..
            } => {
                assert_eq!(*status, 400);
                assert_eq!(trace_id.as_deref(), Some("a81c"));
                assert_eq!(problems[0].title.as_deref(), Some("Bad request"));
                assert!(problems[0]
                    .type_uri
                    .as_deref()
                    .unwrap()
                    .ends_with("bad_request"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.class(), ErrorClass::Validation);
        assert!(err
            .to_string()
            .contains("Provided request parameters are invalid."));
    }

    #[test]
    fn statuses_map_to_engine_classes() {
        let class = |s| api_error("GET", "/x", s, b"").class();
        assert_eq!(class(404), ErrorClass::NotFound);
        assert_eq!(class(401), ErrorClass::Auth);
        assert_eq!(class(403), ErrorClass::Auth);
        assert_eq!(class(409), ErrorClass::Conflict);
        assert_eq!(class(422), ErrorClass::Validation);
        assert_eq!(class(429), ErrorClass::RateLimited);
        assert_eq!(class(503), ErrorClass::Transient);
    }

    #[test]
    fn oauth_errors_are_auth_errors_but_throttling_is_not() {
        let body = br#"{"timestamp":"2025-03-04T10:15:00Z","trace_id":"4f1c","error":"invalid_scope",
            "error_description":"One of the requested scopes is invalid.","error_uri":"https://x"}"#;
        match token_error(400, body) {
            PersonioError::Auth {
                error, description, ..
            } => {
                assert_eq!(error, "invalid_scope");
                assert_eq!(
                    description.as_deref(),
                    Some("One of the requested scopes is invalid.")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(token_error(401, b"").class(), ErrorClass::Auth);
        assert_eq!(token_error(429, b"").class(), ErrorClass::RateLimited);
        assert_eq!(token_error(502, b"").class(), ErrorClass::Transient);
    }

    #[test]
    fn a_non_json_error_body_is_kept_as_detail() {
        let err = api_error("GET", "/v2/persons", 502, b"<html>Bad Gateway</html>");
        assert!(err.to_string().contains("Bad Gateway"));
        assert_eq!(err.class(), ErrorClass::Transient);
    }

    #[test]
    fn approved_and_overlap_refusals_are_told_apart_once() {
        let answer = |status: u16, title: &str, detail: &str| {
            let body = serde_json::json!({"errors": [{"title": title, "detail": detail}]});
            api_error(
                "PATCH",
                "/v2/attendance-periods/1",
                status,
                body.to_string().as_bytes(),
            )
        };
        let approved = answer(
            422,
            "Period is approved",
            "The attendance period is approved and can no longer be changed.",
        );
        assert_eq!(approved.kind(), ApiErrorKind::ApprovedPeriod);
        let overlap = answer(
            422,
            "Overlapping attendance periods",
            "The period overlaps the existing attendance period 9 of this person.",
        );
        assert_eq!(overlap.kind(), ApiErrorKind::Overlap);
        assert_eq!(
            answer(422, "PERIOD IS APPROVED", "").kind(),
            ApiErrorKind::ApprovedPeriod,
            "case does not matter"
        );
        assert_eq!(
            answer(422, "Start date greater than end date", "").kind(),
            ApiErrorKind::Other
        );
        assert_eq!(
            answer(
                409,
                "Absence period conflict",
                "overlaps an approved absence"
            )
            .kind(),
            ApiErrorKind::Other,
            "only 422 answers are classified"
        );
        assert_eq!(
            answer(422, "Approved", "and overlapping").kind(),
            ApiErrorKind::ApprovedPeriod
        );
        assert_eq!(
            PersonioError::Config("x".into()).kind(),
            ApiErrorKind::Other
        );
    }
}
