//! The audit trail: who changed what in an integration, and when.
//!
//! Every change made through the API — credentials, settings, schedules, parked-record releases, manual
//! syncs — leaves an [`AuditRecord`] in the state store ([`crate::store::StateStore::put_audit`]), readable
//! newest first. The record names the [`Caller`] as the edge authenticated it (an IAM principal, a Cognito
//! user), the route, and *what* changed as a list of [`FieldChange`]s: field names always, values only
//! where they are not secret. Credentials changes carry field names and "changed / unchanged" only, and any
//! field whose name marks it as a secret is redacted ([`is_secret_field`]), so that reading the trail never
//! reveals a credential.
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credentials::Credentials;
use crate::domain::IntegrationId;

/// Who made a change, as authenticated by the edge (API Gateway's IAM authorizer, a Cognito JWT). The
/// domain does not care how: the edge fills this in, never from a header the client could set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Caller {
    /// An IAM principal (SigV4): its ARN, e.g. `arn:aws:sts::123456789012:assumed-role/ops/jane`.
    Iam { arn: String },
    /// A user of the console's Cognito user pool: username and the stable `sub`.
    CognitoUser { username: String, sub: String },
    /// No authenticated principal: the local server (`api --listen`) and tests.
    #[default]
    Unauthenticated,
}

impl Caller {
    /// The caller API Gateway authenticated, from the `requestContext.authorizer` object of an HTTP API
    /// (payload 2.0) event: a Cognito user (JWT claims `sub` and `cognito:username`) or an IAM principal
    /// (`iam.userArn`). Anything else is `Unauthenticated`.
    pub fn from_authorizer(authorizer: &Value) -> Self {
        let claim = |name: &str| {
            authorizer
                .pointer("/jwt/claims")
                .and_then(|c| c.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let Some(sub) = claim("sub") {
            let username = claim("cognito:username")
                .or_else(|| claim("username"))
                .unwrap_or_else(|| sub.clone());
            return Self::CognitoUser { username, sub };
        }
        match authorizer.pointer("/iam/userArn").and_then(Value::as_str) {
            Some(arn) if !arn.is_empty() => Self::Iam {
                arn: arn.to_string(),
            },
            _ => Self::Unauthenticated,
        }
    }
}

/// The route of a manual sync, as audit records name it.
pub const MANUAL_SYNC_ROUTE: &str = "POST /integrations/{integration_id}/sync/{workflow}";

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Iam { arn } => write!(f, "iam:{arn}"),
            Self::CognitoUser { username, .. } => write!(f, "cognito:{username}"),
            Self::Unauthenticated => f.write_str("unauthenticated"),
        }
    }
}

/// What kind of change a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    CredentialsStored,
    SettingsChanged,
    ScheduleChanged,
    ParkedReleased,
    ManualSync,
    /// A Personio webhook subscription registered or updated (token rotations included, never the token).
    WebhookSubscribed,
    WebhookRemoved,
}

/// How one field changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
    /// Written with the value it already had (credentials: the stored secret was replaced by an equal one).
    Unchanged,
}

/// One changed field: its JSON path (`sync.max_failures_before_parking`, `absence_types[0]`) and, unless
/// the field is secret, the values before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub change: ChangeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// The values are left out because the field is secret.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// One change to one integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub integration_id: IntegrationId,
    /// Unique within the integration; orders records made at the same instant.
    pub audit_id: String,
    pub at: Timestamp,
    pub caller: Caller,
    /// Method and route template, e.g. `PUT /integrations/{integration_id}/settings`.
    pub route: String,
    pub action: AuditAction,
    /// What the change was about beyond the fields: the workflow of a schedule or a sync, the mapping of a
    /// release, the status a manual sync was answered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub changes: Vec<FieldChange>,
}

/// A page of audit records, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Opaque; pass back to get the next page. `None` on the last page.
    pub next_cursor: Option<String>,
}

impl AuditRecord {
    /// A record made `at` by `caller`, with a fresh id.
    pub fn new(
        integration_id: IntegrationId,
        at: Timestamp,
        caller: Caller,
        route: impl Into<String>,
        action: AuditAction,
        changes: Vec<FieldChange>,
    ) -> Self {
        Self {
            integration_id,
            audit_id: crate::store::new_run_id(at),
            at,
            caller,
            route: route.into(),
            action,
            subject: None,
            changes,
        }
    }

    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// A manual sync that ran: the workflow and run as subject, the request's fields (window, dry run)
    /// as changes.
    pub fn manual_sync(
        integration_id: IntegrationId,
        at: Timestamp,
        caller: Caller,
        workflow: crate::domain::Workflow,
        run_id: Option<&str>,
        body: Option<&str>,
    ) -> Self {
        let fields = body
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .filter(Value::is_object)
            .map(|b| json_changes(None, &b))
            .unwrap_or_default();
        let subject = match run_id {
            Some(run) => format!("{workflow} run {run}"),
            None => workflow.as_str().to_string(),
        };
        Self::new(
            integration_id,
            at,
            caller,
            MANUAL_SYNC_ROUTE,
            AuditAction::ManualSync,
            fields,
        )
        .with_subject(subject)
    }
}

/// Whether a field's name marks it as secret: its values never enter an audit record.
pub fn is_secret_field(path: &str) -> bool {
    let last = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    ["secret", "token", "password", "api_key", "private_key"]
        .iter()
        .any(|marker| last.contains(marker))
}

/// The field-by-field difference between two JSON documents (objects are walked, arrays and scalars
/// compared whole). `before = None` means the document did not exist: every field is `Added`. Values of
/// secret fields ([`is_secret_field`]) are redacted.
pub fn json_changes(before: Option<&Value>, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let empty = Value::Object(serde_json::Map::new());
    walk("", Some(before.unwrap_or(&empty)), Some(after), &mut out);
    out
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    // An object that appears or disappears as a whole is reported leaf by leaf.
    let empty = Value::Object(serde_json::Map::new());
    let absent = |v: Option<&Value>| v.is_none_or(Value::is_null);
    let (before, after) = match (before, after) {
        (b, Some(a @ Value::Object(_))) if absent(b) => (Some(&empty), Some(a)),
        (Some(b @ Value::Object(_)), a) if absent(a) => (Some(b), Some(&empty)),
        other => other,
    };
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&child, b.get(key), a.get(key), out);
            }
        }
        (b, a) if b == a => {}
        (b, a) => {
            let change = match (b, a) {
                (None | Some(Value::Null), Some(_)) => ChangeKind::Added,
                (Some(_), None | Some(Value::Null)) => ChangeKind::Removed,
                _ => ChangeKind::Changed,
            };
            out.push(change_of(path, change, b.cloned(), a.cloned()));
        }
    }
}

fn change_of(
    field: &str,
    change: ChangeKind,
    before: Option<Value>,
    after: Option<Value>,
) -> FieldChange {
    let redacted = is_secret_field(field);
    let keep = |v: Option<Value>| {
        if redacted {
            None
        } else {
            v.filter(|v| !v.is_null())
        }
    };
    FieldChange {
        field: field.to_string(),
        change,
        before: keep(before),
        after: keep(after),
        redacted,
    }
}

/// Changes of secret fields compared by equality only: `(field name, before == after)` per field, `None`
/// for a field (or a whole document) that did not exist before. No value ever enters the result.
pub fn secret_changes<'a>(
    fields: impl IntoIterator<Item = (&'a str, Option<bool>)>,
) -> Vec<FieldChange> {
    fields
        .into_iter()
        .map(|(field, same)| FieldChange {
            field: field.to_string(),
            change: match same {
                None => ChangeKind::Added,
                Some(true) => ChangeKind::Unchanged,
                Some(false) => ChangeKind::Changed,
            },
            before: None,
            after: None,
            redacted: true,
        })
        .collect()
}

/// Which credential fields a store changed, compared in memory: names and changed / unchanged only.
/// `before = None` (nothing stored yet, or unreadable) reports every field as added.
pub fn credential_changes(before: Option<&Credentials>, after: &Credentials) -> Vec<FieldChange> {
    let same = |f: fn(&Credentials) -> &str| before.map(|b| f(b) == f(after));
    secret_changes([
        (
            "personio_client_id",
            same(|c| c.personio_client_id.as_str()),
        ),
        (
            "personio_client_secret",
            same(|c| c.personio_client_secret.expose_secret()),
        ),
        ("timetrack_account", same(|c| c.timetrack_account.as_str())),
        (
            "timetrack_api_key",
            same(|c| c.timetrack_api_key.expose_secret()),
        ),
        (
            "timetrack_api_secret",
            same(|c| c.timetrack_api_secret.expose_secret()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_changes_name_every_changed_leaf_with_its_values() {
        let before = json!({"sync": {"max": 5, "dry": false}, "types": ["a"], "gone": 1});
        let after = json!({"sync": {"max": 7, "dry": false}, "types": ["a", "b"], "new": "x"});
        let changes = json_changes(Some(&before), &after);
        let summary: Vec<(&str, ChangeKind)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.change))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("gone", ChangeKind::Removed),
                ("new", ChangeKind::Added),
                ("sync.max", ChangeKind::Changed),
                ("types", ChangeKind::Changed),
            ]
        );
        assert_eq!(changes[2].before, Some(json!(5)));
        assert_eq!(changes[2].after, Some(json!(7)));
        assert!(json_changes(Some(&after), &after).is_empty());
    }

    #[test]
    fn a_new_document_is_all_added() {
        let changes = json_changes(None, &json!({"a": 1, "b": {"c": 2}}));
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| c.change == ChangeKind::Added));
        assert_eq!(changes[1].field, "b.c");
    }

    #[test]
    fn secret_fields_are_redacted_wherever_they_are() {
        for field in [
            "timetrack_api_secret",
            "webhook.token",
            "personio_client_secret",
            "timetrack_api_key",
            "x.admin_password",
        ] {
            assert!(is_secret_field(field), "{field}");
        }
        for field in [
            "absence_types",
            "sync.max_failures_before_parking",
            "key_date",
        ] {
            assert!(!is_secret_field(field), "{field}");
        }
        let changes = json_changes(
            Some(&json!({"webhook": {"token": "old-value"}})),
            &json!({"webhook": {"token": "new-value"}}),
        );
        assert_eq!(changes.len(), 1);
        assert!(changes[0].redacted && changes[0].before.is_none() && changes[0].after.is_none());
        let text = serde_json::to_string(&changes).unwrap();
        assert!(
            !text.contains("old-value") && !text.contains("new-value"),
            "{text}"
        );
    }

    #[test]
    fn secret_changes_carry_no_values() {
        let changes = secret_changes([("a_secret", Some(true)), ("b", Some(false)), ("c", None)]);
        let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.change).collect();
        assert_eq!(
            kinds,
            vec![
                ChangeKind::Unchanged,
                ChangeKind::Changed,
                ChangeKind::Added
            ]
        );
        assert!(changes.iter().all(|c| c.redacted && c.before.is_none()));
    }

    #[test]
    fn credential_changes_tell_which_field_changed_without_any_value() {
        let doc = |secret: &str| {
            Credentials::from_secret_json(&format!(
                r#"{{"personio_client_id":"id","personio_client_secret":"{secret}","timetrack_account":"acme","timetrack_api_key":"k-1","timetrack_api_secret":"s-1"}}"#
            ))
            .unwrap()
        };
        let (old, new) = (doc("old-secret-value"), doc("new-secret-value"));
        let changes = credential_changes(Some(&old), &new);
        let changed: Vec<&str> = changes
            .iter()
            .filter(|c| c.change == ChangeKind::Changed)
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(changed, vec!["personio_client_secret"]);
        assert_eq!(changes.len(), 5);
        let text = serde_json::to_string(&changes).unwrap();
        for value in ["old-secret-value", "new-secret-value", "k-1", "s-1"] {
            assert!(!text.contains(value), "{text}");
        }
        assert!(credential_changes(None, &new)
            .iter()
            .all(|c| c.change == ChangeKind::Added));
    }

    #[test]
    fn the_caller_comes_from_the_authorizer_context_only() {
        let iam = json!({"iam": {"accessKey": "ASIA", "userArn": "arn:aws:iam::1:user/jane"}});
        assert_eq!(
            Caller::from_authorizer(&iam),
            Caller::Iam {
                arn: "arn:aws:iam::1:user/jane".into()
            }
        );
        let jwt = json!({"jwt": {"claims": {"sub": "8f1e", "cognito:username": "jane"}}});
        assert_eq!(
            Caller::from_authorizer(&jwt),
            Caller::CognitoUser {
                username: "jane".into(),
                sub: "8f1e".into()
            }
        );
        assert_eq!(
            Caller::from_authorizer(&Value::Null),
            Caller::Unauthenticated
        );
        assert_eq!(
            Caller::from_authorizer(&json!({"iam": {"userArn": ""}})),
            Caller::Unauthenticated
        );
    }

    #[test]
    fn records_round_trip_through_json() {
        let record = AuditRecord::new(
            IntegrationId::new("acme").unwrap(),
            "2026-12-01T21:00:00Z".parse().unwrap(),
            Caller::Iam {
                arn: "arn:aws:iam::123456789012:user/jane".into(),
            },
            "PUT /integrations/{integration_id}/settings",
            AuditAction::SettingsChanged,
            json_changes(None, &json!({"a": 1})),
        )
        .with_subject("employees");
        let text = serde_json::to_string(&record).unwrap();
        assert!(
            text.contains(r#""caller":{"kind":"iam","arn":"arn:aws:iam::123456789012:user/jane"}"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<AuditRecord>(&text).unwrap(), record);
    }
}
