//! `PUT /integrations/{id}/credentials` and `POST /integrations/{id}/connect`: storing the secret and
//! checking that both systems accept it.
//!
//! Decision: a `PUT` stores the credentials even when a check fails, and reports which side failed and
//! why. Setup usually gets one side right before the other (the TimeTrack admin may not have created
//! the API key yet); refusing to store would make the user type the working half again. Runs refuse to
//! start while a side is broken anyway (its client errors), and `POST .../connect` re-checks later.
//!
//! Answers never contain a secret: the body is parsed by [`Credentials::from_secret_json`], whose errors
//! name fields only, and check failures are the clients' errors, which exclude secrets and tokens.
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use shared::audit::{credential_changes, AuditAction};
use shared::credentials::{Credentials, CredentialsError};
use shared::service::{context::ClientFactory, Problem};

use super::audit::AuditContext;
use crate::extract::{Ids, JsonBody};
use crate::problem::{credentials_problem, ApiProblem};
use crate::ApiState;

/// The outcome of checking one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideCheck {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SideCheck {
    fn from_result<E: std::fmt::Display>(r: Result<(), E>) -> Self {
        match r {
            Ok(()) => Self {
                ok: true,
                error: None,
            },
            Err(e) => Self {
                ok: false,
                error: Some(e.to_string()),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectReport {
    /// Whether this request stored the credentials (`PUT` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<bool>,
    pub personio: SideCheck,
    pub timetrack: SideCheck,
}

/// Obtains a Personio token and reads one person; reads one TimeTrack user. Both at once.
pub async fn check_connection(clients: &ClientFactory, credentials: &Credentials) -> ConnectReport {
    let personio = async {
        let client = clients.personio(credentials)?;
        client.check().await.map_err(|e| e.to_string())
    };
    let timetrack = async {
        let client = clients.timetrack(credentials)?;
        client.check().await.map_err(|e| e.to_string())
    };
    let (p, t) = futures::join!(personio, timetrack);
    ConnectReport {
        stored: None,
        personio: SideCheck::from_result(p),
        timetrack: SideCheck::from_result(t),
    }
}

pub async fn put_credentials(
    State(state): State<ApiState>,
    ids: Ids,
    audit: AuditContext,
    JsonBody(body): JsonBody,
) -> Result<Json<ConnectReport>, ApiProblem> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiProblem(Problem::invalid_body("the body is not UTF-8 text")))?;
    let credentials = Credentials::from_secret_json(text).map_err(|e| match e {
        CredentialsError::Invalid { reason } => ApiProblem(Problem::new(
            422,
            "invalid-credentials",
            "Invalid credentials document",
            reason,
        )),
        other => credentials_problem(&other),
    })?;
    // What was stored before, only to tell which fields changed (unreadable: reported as added).
    let before = state
        .credentials
        .credentials(&ids.integration_id)
        .await
        .ok();
    state
        .credentials
        .store(&ids.integration_id, &credentials)
        .await
        .map_err(|e| credentials_problem(&e))?;
    audit
        .record(
            &state,
            &ids.integration_id,
            AuditAction::CredentialsStored,
            None,
            credential_changes(before.as_ref(), &credentials),
        )
        .await;
    let mut report = check_connection(&state.clients, &credentials).await;
    report.stored = Some(true);
    tracing::info!(
        integration_id = %ids.integration_id,
        personio_ok = report.personio.ok,
        timetrack_ok = report.timetrack.ok,
        "credentials stored and checked"
    );
    Ok(Json(report))
}

pub async fn connect(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<ConnectReport>, ApiProblem> {
    let credentials = state
        .credentials
        .credentials(&ids.integration_id)
        .await
        .map_err(|e| credentials_problem(&e))?;
    Ok(Json(check_connection(&state.clients, &credentials).await))
}
