//! `PUT /integrations/{id}/credentials` and `POST /integrations/{id}/connect`: storing the secret and
//! checking that both systems accept it.
//!
//! A document whose values can never work — a key given twice, an account that is no DNS label, a value
//! with CR/LF — is refused with 422 listing the fields, and nothing is stored.
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
use secrecy::ExposeSecret;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use shared::audit::{credential_changes, AuditAction};
use shared::credentials::{Credentials, CredentialsError};
use shared::service::problem::FieldProblem;
use shared::service::{context::ClientFactory, Problem};

use super::audit::AuditContext;
use crate::extract::{Ids, JsonBody};

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
) -> Result<Json<ConnectReport>, Problem> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::invalid_body("the body is not UTF-8 text"))?;
    let credentials = Credentials::from_secret_json(text).map_err(|e| match e {
        CredentialsError::Invalid { reason } => Problem::new(
            422,
            "invalid-credentials",
            "Invalid credentials document",
            reason,
        ),
        other => Problem::from(other),
    })?;
    let unusable = unusable_fields(text, &credentials);
    if !unusable.is_empty() {
        let detail = unusable
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Problem::new(
            422,
            "invalid-credentials",
            "Invalid credentials document",
            format!("nothing was stored: {detail}"),
        )
        .with_errors(unusable));
    }
    // What was stored before, only to tell which fields changed (unreadable: reported as added).
    let before = state
        .credentials
        .credentials(&ids.integration_id)
        .await
        .ok();
    state
        .credentials
        .store(&ids.integration_id, &credentials)
        .await?;
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

/// The top-level keys of a credentials document, each allowed once (serde refuses a repeated field;
/// a JSON object read as a map would silently keep the last value).
#[derive(Deserialize)]
#[allow(dead_code)] // only the duplicate check reads it
struct KeysOnce {
    personio_client_id: Option<IgnoredAny>,
    personio_client_secret: Option<IgnoredAny>,
    timetrack_account: Option<IgnoredAny>,
    timetrack_api_key: Option<IgnoredAny>,
    timetrack_api_secret: Option<IgnoredAny>,
}

/// Values that parse but can never work, by field (never quoting a secret): a key given twice, a
/// TimeTrack account that is not one DNS label (it becomes the host `<account>.…`), a value with a
/// control character such as CR or LF (no HTTP header or form can carry it).
fn unusable_fields(text: &str, c: &Credentials) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    if let Err(e) = serde_json::from_str::<KeysOnce>(text) {
        let message = e.to_string();
        if let Some(field) = message
            .strip_prefix("duplicate field `")
            .and_then(|rest| rest.split('`').next())
        {
            problems.push(FieldProblem {
                field: field.to_string(),
                message: "given more than once".to_string(),
            });
        }
    }
    let account = c.timetrack_account.trim();
    let label = account.len() <= 63
        && !account.starts_with('-')
        && !account.ends_with('-')
        && account
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
    if !label {
        problems.push(FieldProblem {
            field: "timetrack_account".to_string(),
            message: format!(
                "{account:?} is not a TimeTrack account name (letters, digits and inner hyphens, at most 63)"
            ),
        });
    }
    let values = [
        ("personio_client_id", c.personio_client_id.as_str()),
        (
            "personio_client_secret",
            c.personio_client_secret.expose_secret(),
        ),
        ("timetrack_api_key", c.timetrack_api_key.expose_secret()),
        (
            "timetrack_api_secret",
            c.timetrack_api_secret.expose_secret(),
        ),
    ];
    for (field, value) in values {
        if value.chars().any(char::is_control) {
            problems.push(FieldProblem {
                field: field.to_string(),
                message: "contains a control character (such as CR or LF)".to_string(),
            });
        }
    }
    problems
}

pub async fn connect(
    State(state): State<ApiState>,
    ids: Ids,
) -> Result<Json<ConnectReport>, Problem> {
    let credentials = state.credentials.credentials(&ids.integration_id).await?;
    Ok(Json(check_connection(&state.clients, &credentials).await))
}
