//! RFC 9457 problem details: every HTTP error the product answers is `application/problem+json` with a
//! stable `type`, a human `title` and a `detail` — never a bare 500, never a secret.
use serde::{Deserialize, Serialize};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One problem answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable identifier of the kind of problem (clients branch on it).
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field-level problems (invalid settings or request bodies list every one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl From<crate::settings::SettingsProblem> for FieldProblem {
    fn from(p: crate::settings::SettingsProblem) -> Self {
        Self {
            field: p.field,
            message: p.message,
        }
    }
}

fn type_uri(slug: &str) -> String {
    format!("urn:personio-timetrack-sync:problem:{slug}")
}

impl Problem {
    pub fn new(status: u16, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: type_uri(slug),
            title: title.to_string(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }
    pub fn with_errors(mut self, errors: Vec<FieldProblem>) -> Self {
        self.errors = errors;
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, "bad-request", "Bad request", detail)
    }
    pub fn invalid_body(detail: impl Into<String>) -> Self {
        Self::new(400, "invalid-body", "Invalid request body", detail)
    }
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, "payload-too-large", "Payload too large", detail)
    }
    pub fn invalid_id(detail: impl Into<String>) -> Self {
        Self::new(400, "invalid-id", "Invalid identifier", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "not-found", "Not found", detail)
    }
    pub fn unknown_integration(integration_id: &str) -> Self {
        Self::new(
            404,
            "unknown-integration",
            "Unknown integration",
            format!("integration {integration_id:?} has no settings; PUT its settings first"),
        )
    }
    pub fn unknown_workflow(workflow: &str) -> Self {
        Self::new(
            404,
            "unknown-workflow",
            "Unknown workflow",
            format!("unknown workflow {workflow:?}: expected employees, time-entries or absences"),
        )
    }
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, "method-not-allowed", "Method not allowed", detail)
    }
    pub fn already_running(detail: impl Into<String>) -> Self {
        Self::new(409, "already-running", "Already running", detail)
    }
    pub fn invalid_settings(detail: impl Into<String>, errors: Vec<FieldProblem>) -> Self {
        Self::new(422, "invalid-settings", "Invalid settings", detail).with_errors(errors)
    }
    pub fn not_connected(detail: impl Into<String>) -> Self {
        Self::new(422, "not-connected", "Integration not connected", detail)
    }
    pub fn upstream(detail: impl Into<String>) -> Self {
        Self::new(502, "upstream-failure", "An external system failed", detail)
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, "unavailable", "Temporarily unavailable", detail)
    }
}

// One place for every typed error that reaches an answer: each error type → its status and `type`.
// Handlers and the service use `?`; nothing else maps errors to problems.

impl From<crate::store::StoreError> for Problem {
    /// The API cannot answer now, but the request may be repeated (503).
    fn from(e: crate::store::StoreError) -> Self {
        Problem::unavailable(format!("the state store failed: {e}"))
    }
}

impl From<crate::engine::EngineError> for Problem {
    fn from(e: crate::engine::EngineError) -> Self {
        use crate::engine::EngineError;
        match e {
            EngineError::AlreadyRunning { .. } => Problem::already_running(e.to_string()),
            EngineError::NotContinuable { .. } => Problem::bad_request(e.to_string()),
            EngineError::Window(_) => Problem::invalid_settings(e.to_string(), Vec::new()),
            EngineError::Store(inner) => inner.into(),
        }
    }
}

impl From<crate::credentials::CredentialsError> for Problem {
    /// Absent or unusable credentials are the caller's to fix (422 `not-connected`); a Secrets Manager
    /// failure is ours (503). Messages never contain secret values.
    fn from(e: crate::credentials::CredentialsError) -> Self {
        use crate::credentials::CredentialsError;
        match &e {
            CredentialsError::NotFound { integration_id } => Problem::not_connected(format!(
                "no credentials are stored for integration {integration_id}; \
                 store them with PUT /integrations/{integration_id}/credentials"
            )),
            CredentialsError::Invalid { .. } => Problem::not_connected(e.to_string()),
            CredentialsError::Backend { .. } => Problem::unavailable(e.to_string()),
        }
    }
}

impl From<crate::scheduling::ScheduleError> for Problem {
    fn from(e: crate::scheduling::ScheduleError) -> Self {
        use crate::scheduling::ScheduleError;
        match e {
            ScheduleError::Invalid(msg) => {
                Problem::new(422, "invalid-schedule", "Invalid schedule", msg)
            }
            ScheduleError::NotFound(name) => Problem::new(
                404,
                "unknown-schedule",
                "No schedule",
                format!("there is no schedule {name} yet; create it with PUT"),
            ),
            other @ (ScheduleError::Backend { .. } | ScheduleError::MissingEnv(_)) => {
                Problem::unavailable(other.to_string())
            }
        }
    }
}

impl From<crate::webhooks::subscription::SubscriptionError> for Problem {
    fn from(e: crate::webhooks::subscription::SubscriptionError) -> Self {
        use crate::webhooks::subscription::{SubscriptionError, WebhookApiError};
        match &e {
            SubscriptionError::NoUrl | SubscriptionError::BadUrl(_) => {
                Problem::new(422, "invalid-request", "Invalid request", e.to_string())
            }
            SubscriptionError::NotSubscribed(_) => Problem::not_found(e.to_string()),
            SubscriptionError::Personio(
                WebhookApiError::Refused { .. }
                | WebhookApiError::NotFound(_)
                | WebhookApiError::Unavailable(_),
            ) => Problem::upstream(e.to_string()),
            SubscriptionError::Personio(WebhookApiError::NotConnected(_)) => {
                Problem::not_connected(e.to_string())
            }
            SubscriptionError::Tokens(_) | SubscriptionError::Store(_) => {
                Problem::unavailable(e.to_string())
            }
        }
    }
}

impl From<crate::webhooks::receiver::ReceiveError> for Problem {
    fn from(e: crate::webhooks::receiver::ReceiveError) -> Self {
        use crate::webhooks::receiver::ReceiveError;
        match &e {
            // One fixed text: it must not say which check failed.
            ReceiveError::Unauthorized => Problem::new(
                401,
                "unauthorized",
                "Unauthorized",
                "the request is not authorized for this webhook",
            ),
            ReceiveError::TooLarge(_) => Problem::payload_too_large(e.to_string()),
            ReceiveError::Malformed(_) => Problem::invalid_body(e.to_string()),
            ReceiveError::OtherCompany(_) => Problem::new(
                403,
                "other-company",
                "Event of another company",
                e.to_string(),
            ),
            ReceiveError::Unavailable(_) => Problem::unavailable(e.to_string()),
        }
    }
}

/// A failure of a call to Personio or TimeTrack (`system`): refused credentials are the caller's to
/// fix (422 `not-connected`), anything else is the other system's (502).
pub fn upstream_problem(system: &str, caller_must_fix: bool, message: &str) -> Problem {
    if caller_must_fix {
        Problem::not_connected(format!("{system}: {message}"))
    } else {
        Problem::upstream(format!("{system}: {message}"))
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_rfc9457_with_a_stable_type() {
        let p = Problem::already_running("employees is already running");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v["type"],
            "urn:personio-timetrack-sync:problem:already-running"
        );
        assert_eq!(v["status"], 409);
        assert!(v.get("errors").is_none(), "empty errors are omitted");
        let with = Problem::invalid_settings(
            "2 problems",
            vec![FieldProblem {
                field: "time_zone".into(),
                message: "unknown time zone".into(),
            }],
        );
        let v = serde_json::to_value(&with).unwrap();
        assert_eq!(v["errors"][0]["field"], "time_zone");
    }
}
