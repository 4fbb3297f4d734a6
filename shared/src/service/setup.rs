//! Why a run that started could not sync: the failures of the run's preparation (settings, credentials,
//! clients, the workflow's reading of either side or of the store). Each becomes the `error` of a
//! `failed` run record — its text names the side and the cause, never a secret — and, for a manual
//! sync, the problem answer.
use thiserror::Error;

use super::problem::{FieldProblem, Problem};
use crate::credentials::CredentialsError;
use crate::engine::{PortError, PortErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetupError {
    /// The stored settings cannot be run; `errors` lists every field.
    #[error("invalid settings: {detail}")]
    InvalidSettings {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    /// Credentials missing or refused; `detail` names the side ("credentials: …", "TimeTrack list
    /// users: 401 …").
    #[error("not connected: {detail}")]
    NotConnected { detail: String },
    /// Personio or TimeTrack failed for the whole run (after the clients' retries); `detail` names it.
    #[error("{detail}")]
    Upstream { detail: String },
    /// The state store or the credentials backend failed.
    #[error("{detail}")]
    Unavailable { detail: String },
}

impl SetupError {
    pub fn invalid_settings(detail: impl Into<String>, errors: Vec<FieldProblem>) -> Self {
        Self::InvalidSettings {
            detail: detail.into(),
            errors,
        }
    }

    /// A port error of the preparation: fatal (authentication, permissions) is a setup problem, anything
    /// else the other system's.
    pub fn from_port(e: PortError) -> Self {
        if e.class == PortErrorClass::Fatal {
            Self::NotConnected { detail: e.message }
        } else {
            Self::Upstream { detail: e.message }
        }
    }

    pub fn from_credentials(e: CredentialsError) -> Self {
        match e {
            CredentialsError::NotFound { .. } => Self::NotConnected {
                detail: format!(
                    "credentials: {e}; store them with PUT /integrations/{{id}}/credentials"
                ),
            },
            CredentialsError::Invalid { .. } => Self::NotConnected {
                detail: format!("credentials: {e}"),
            },
            other => Self::Unavailable {
                detail: format!("credentials: {other}"),
            },
        }
    }

    /// The answer to a manual sync that failed this way; `run_id` is the failed run's record.
    pub fn problem(&self, run_id: &str) -> Problem {
        let detail = format!("{self} (run {run_id} failed)");
        match self {
            SetupError::InvalidSettings { errors, .. } => {
                Problem::invalid_settings(detail, errors.clone())
            }
            SetupError::NotConnected { .. } => Problem::not_connected(detail),
            SetupError::Upstream { .. } => Problem::upstream(detail),
            SetupError::Unavailable { .. } => Problem::unavailable(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IntegrationId;

    #[test]
    fn each_failure_names_its_side_and_maps_to_its_problem() {
        let refused = SetupError::from_port(PortError::new(
            PortErrorClass::Fatal,
            "TimeTrack list users: 401 Unauthorized",
        ));
        assert_eq!(
            refused.to_string(),
            "not connected: TimeTrack list users: 401 Unauthorized"
        );
        let p = refused.problem("r1");
        assert_eq!((p.status, p.detail.contains("run r1")), (422, true));
        let down = SetupError::from_port(PortError::new(
            PortErrorClass::Transient,
            "Personio list persons: 503",
        ));
        assert_eq!(down.problem("r1").status, 502);
        let missing = SetupError::from_credentials(CredentialsError::NotFound {
            integration_id: IntegrationId::new("acme").unwrap(),
        });
        assert!(missing
            .to_string()
            .starts_with("not connected: credentials:"));
        assert_eq!(missing.problem("r1").status, 422);
    }
}
