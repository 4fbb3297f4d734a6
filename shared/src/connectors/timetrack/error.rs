//! Typed errors of the TimeTrack client, read from TimeTrack's envelope
//! `{"errors":[{"title","status","code","detail"}]}`. The API key and secret travel only in request
//! headers marked sensitive and never appear here.
use serde::Deserialize;
use thiserror::Error;

use crate::connectors::http::TransportError;
use crate::connectors::rest::JsonFailure;
use crate::connectors::{class_of_status, lenient, ErrorClass};

/// TimeTrack's application code for "TimeEntry exist but it is deleted" (records are soft-deleted).
pub const CODE_DELETED: i64 = 15020;

/// One entry of TimeTrack's `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct TimeTrackProblem {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub code: Option<i64>,
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, Error)]
pub enum TimeTrackError {
    /// The record existed but was deleted (404 with code 15020): a confirmed deletion.
    #[error("TimeTrack record at {path} is deleted{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Deleted {
        path: String,
        detail: Option<String>,
    },
    /// Any other non-success answer. 401/403 mean the API key or secret is wrong (the customer can
    /// regenerate the secret at any time).
    #[error(
        "TimeTrack answered HTTP {status} to {method} {path}: {}",
        summarize(problems)
    )]
    Api {
        method: String,
        path: String,
        status: u16,
        problems: Vec<TimeTrackProblem>,
    },
    /// The account does not exist: a collection listing (`GET /users`, `/attendances`, `/absences`)
    /// answered 404. A collection always exists, so the only thing that can be missing is the account
    /// the base URL names (`<account>.timetrackenterprise.com`; the simulator answers "Unknown account."
    /// at `/<account>/api/v2/ext`). A setup problem like a wrong key — never an outage to wait out.
    #[error(
        "TimeTrack account {account:?} was not found (HTTP {status} to {method} {path}); check timetrack_account in the credentials"
    )]
    UnknownAccount {
        account: String,
        method: String,
        path: String,
        status: u16,
    },
    /// No HTTP answer at all (timeout, connection refused or dropped), after the retries allowed.
    #[error("TimeTrack unreachable: {0}")]
    Transport(#[from] TransportError),
    #[error("cannot decode TimeTrack's answer to {what}: {message}")]
    Decode { what: String, message: String },
    /// The server returned the same full page again: it ignores `page_number`, and paging would never end.
    #[error("TimeTrack paging loop on {path}: page {page_number} repeats the previous page")]
    PagingLoop { path: String, page_number: u32 },
    /// More pages than the configured maximum.
    #[error("TimeTrack paging on {path} stopped after {pages} pages")]
    TooManyPages { path: String, pages: u32 },
    #[error("invalid TimeTrack client configuration: {0}")]
    Config(String),
}

impl From<JsonFailure> for TimeTrackError {
    fn from(failure: JsonFailure) -> Self {
        TimeTrackError::Decode {
            what: failure.what,
            message: failure.message,
        }
    }
}

impl TimeTrackError {
    /// What the failure means for the sync engine.
    pub fn class(&self) -> ErrorClass {
        match self {
            TimeTrackError::Deleted { .. } => ErrorClass::NotFound,
            TimeTrackError::Api { status, .. } => class_of_status(*status),
            TimeTrackError::UnknownAccount { .. } => ErrorClass::Auth,
            TimeTrackError::Transport(_) => ErrorClass::Transient,
            TimeTrackError::Decode { .. }
            | TimeTrackError::PagingLoop { .. }
            | TimeTrackError::TooManyPages { .. } => ErrorClass::Decode,
            TimeTrackError::Config(_) => ErrorClass::Auth,
        }
    }

    /// HTTP status of an answered call, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            TimeTrackError::Deleted { .. } => Some(404),
            TimeTrackError::Api { status, .. } | TimeTrackError::UnknownAccount { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

fn summarize(problems: &[TimeTrackProblem]) -> String {
    if problems.is_empty() {
        return "no error details".to_string();
    }
    problems
        .iter()
        .map(|p| {
            let text = match (&p.title, &p.detail) {
                (Some(t), Some(d)) if t != d => format!("{t}: {d}"),
                (Some(t), _) => t.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => "untitled error".to_string(),
            };
            match p.code {
                Some(code) => format!("{text} (code {code})"),
                None => text,
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<TimeTrackProblem>,
}

/// The error of a failed collection listing: a 404 there means the account is unknown (see
/// [`TimeTrackError::UnknownAccount`]); anything else stays as it is.
pub(crate) fn listing_error(account: &str, error: TimeTrackError) -> TimeTrackError {
    match error {
        TimeTrackError::Api {
            method,
            path,
            status: 404,
            ..
        } => TimeTrackError::UnknownAccount {
            account: account.to_string(),
            method,
            path,
            status: 404,
        },
        other => other,
    }
}

/// Builds the error of a failed call from its status and body.
pub(crate) fn api_error(method: &str, path: &str, status: u16, body: &[u8]) -> TimeTrackError {
    let problems = match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => envelope.errors,
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                Vec::new()
            } else {
                vec![TimeTrackProblem {
                    detail: Some(text.chars().take(300).collect()),
                    ..TimeTrackProblem::default()
                }]
            }
        }
    };
    if status == 404 {
        if let Some(deleted) = problems.iter().find(|p| p.code == Some(CODE_DELETED)) {
            return TimeTrackError::Deleted {
                path: path.to_string(),
                detail: deleted.title.clone().or_else(|| deleted.detail.clone()),
            };
        }
    }
    TimeTrackError::Api {
        method: method.to_string(),
        path: path.to_string(),
        status,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_deleted_error_is_its_own_variant() {
        let body = br#"{"errors":[{"title":"TimeEntry exist but it is deleted","status":404,"code":15020,"detail":"TimeEntry exist but it is deleted"}]}"#;
        let err = api_error("GET", "/api/v2/ext/attendances/7", 404, body);
        assert!(matches!(err, TimeTrackError::Deleted { .. }), "{err:?}");
        assert_eq!(err.class(), ErrorClass::NotFound);
        assert!(err.to_string().contains("deleted"));
    }

    #[test]
    fn other_errors_keep_status_and_code() {
        let body = br#"{"errors":[{"title":"Validation failed","status":"400","code":"10001","detail":"from is required"}]}"#;
        let err = api_error("POST", "/api/v2/ext/attendances", 400, body);
        match &err {
            TimeTrackError::Api {
                status, problems, ..
            } => {
                assert_eq!(*status, 400);
                assert_eq!(problems[0].code, Some(10001));
                assert_eq!(problems[0].status, Some(400));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.class(), ErrorClass::Validation);
        assert!(err.to_string().contains("from is required"));
        let plain_404 = api_error("GET", "/x/1", 404, b"");
        assert!(matches!(plain_404, TimeTrackError::Api { status: 404, .. }));
        assert_eq!(plain_404.class(), ErrorClass::NotFound);
        assert_eq!(api_error("GET", "/x", 401, b"").class(), ErrorClass::Auth);
    }

    /// A 404 to a listing names the account and is a setup problem (Auth: the run stops, the API
    /// answers 422 not-connected), not a missing record; other failures of a listing stay what they are.
    #[test]
    fn a_listing_answered_404_is_an_unknown_account() {
        let body = br#"{"errors":[{"title":"Not Found","status":404,"code":10004,"detail":"Unknown account."}]}"#;
        let err = listing_error(
            "acme-typo",
            api_error("GET", "/acme-typo/api/v2/ext/users", 404, body),
        );
        assert!(
            matches!(&err, TimeTrackError::UnknownAccount { account, status: 404, .. } if account == "acme-typo"),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Auth);
        assert_eq!(err.status(), Some(404));
        assert!(err.to_string().contains("\"acme-typo\""), "{err}");
        let outage = listing_error("acme", api_error("GET", "/users", 503, b""));
        assert_eq!(outage.class(), ErrorClass::Transient);
        let refused = listing_error("acme", api_error("GET", "/users", 401, b""));
        assert!(matches!(refused, TimeTrackError::Api { status: 401, .. }));
    }
}
