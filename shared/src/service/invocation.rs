//! Why an invocation of a workflow function failed, under short stable names. Lambda reports a failed
//! invocation with an `errorType`; the runtime's default is the Rust type name of the error
//! (`&alloc::boxed::Box<dyn core::error::Error …>`), which says nothing to an operator. These names do,
//! and they stay stable for metric filters and alarms.
use thiserror::Error;

use super::problem::Problem;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvocationError {
    /// The event is not one this function understands (no HTTP request, schedule or continuation).
    #[error("{0}")]
    InvalidEvent(String),
    /// The event names an integration without settings.
    #[error("{0}")]
    UnknownIntegration(String),
    /// Another run of the workflow holds the lease.
    #[error("{0}")]
    AlreadyRunning(String),
    /// Credentials missing or refused by either system (the run record names the side).
    #[error("{0}")]
    NotConnected(String),
    /// The stored settings cannot be run.
    #[error("{0}")]
    InvalidSettings(String),
    /// Personio or TimeTrack failed for the whole run.
    #[error("{0}")]
    Upstream(String),
    /// The state store or another AWS service failed.
    #[error("{0}")]
    Unavailable(String),
    /// The run started and failed as a whole; its record says why.
    #[error("{0}")]
    RunFailed(String),
}

impl From<&Problem> for InvocationError {
    /// A problem the service answered for a background run, by its stable type.
    fn from(p: &Problem) -> Self {
        let text = p.detail.clone();
        match p.type_uri.rsplit(':').next().unwrap_or_default() {
            "already-running" => Self::AlreadyRunning(text),
            "not-connected" => Self::NotConnected(text),
            "invalid-settings" => Self::InvalidSettings(text),
            "unknown-integration" => Self::UnknownIntegration(text),
            "upstream-failure" => Self::Upstream(text),
            "unavailable" => Self::Unavailable(text),
            "bad-request" | "invalid-body" => Self::InvalidEvent(text),
            _ => Self::RunFailed(text),
        }
    }
}

impl InvocationError {
    /// The `errorType` Lambda reports.
    pub fn error_type(&self) -> &'static str {
        match self {
            InvocationError::InvalidEvent(_) => "InvalidEvent",
            InvocationError::UnknownIntegration(_) => "UnknownIntegration",
            InvocationError::AlreadyRunning(_) => "AlreadyRunning",
            InvocationError::NotConnected(_) => "NotConnected",
            InvocationError::InvalidSettings(_) => "InvalidSettings",
            InvocationError::Upstream(_) => "Upstream",
            InvocationError::Unavailable(_) => "Unavailable",
            InvocationError::RunFailed(_) => "RunFailed",
        }
    }
}

impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(e: InvocationError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_become_short_stable_error_types() {
        let cases = [
            (Problem::already_running("x"), "AlreadyRunning"),
            (Problem::not_connected("x"), "NotConnected"),
            (
                Problem::invalid_settings("x", Vec::new()),
                "InvalidSettings",
            ),
            (Problem::unknown_integration("acme"), "UnknownIntegration"),
            (Problem::upstream("x"), "Upstream"),
            (Problem::unavailable("x"), "Unavailable"),
            (Problem::bad_request("x"), "InvalidEvent"),
        ];
        for (problem, name) in cases {
            let d = lambda_runtime::Diagnostic::from(InvocationError::from(&problem));
            assert_eq!(d.error_type, name);
            assert_eq!(d.error_message, problem.detail);
        }
        let d =
            lambda_runtime::Diagnostic::from(InvocationError::RunFailed("run r1 failed".into()));
        assert_eq!(
            (d.error_type.as_str(), d.error_message.as_str()),
            ("RunFailed", "run r1 failed")
        );
    }
}
