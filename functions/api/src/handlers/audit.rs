//! The audit trail at the edge: [`AuditContext`] (who is calling which route, taken from what API Gateway
//! authenticated, never from a header the client sets), [`AuditContext::record`] (the one call a
//! changing handler makes after its change succeeded), and `GET /integrations/{id}/audit` (newest first,
//! paged like the runs list).
//!
//! Decision: a change is made first and recorded after. If the record cannot be written, the change
//! stands and the answer is still the change's own: the failure is logged at `error` level with the
//! caller, route and changed field names (the access log has the request as well), so the trail of that
//! change is in the logs instead of being lost, and a healthy change is not reported as failed.
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use serde::{Deserialize, Serialize};
use shared::audit::{AuditAction, AuditRecord, Caller, FieldChange};
use shared::domain::IntegrationId;
use shared::service::http::caller_of;
use shared::service::problem::FieldProblem;
use shared::service::Problem;
use shared::store::StoreError;

use crate::extract::{shorten, Ids, QueryParams};

use crate::ApiState;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

/// The caller and the route of the request being served.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub caller: Caller,
    /// `METHOD /route/template`, e.g. `PUT /integrations/{integration_id}/settings`.
    pub route: String,
}

impl<S: Send + Sync> FromRequestParts<S> for AuditContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let method = parts.method.as_str();
        let template = route_template(method, parts.uri.path())
            .map_or_else(|| parts.uri.path().to_string(), str::to_string);
        Ok(Self {
            caller: caller_of(&parts.extensions),
            route: format!("{method} {template}"),
        })
    }
}

/// The template of the route in [`crate::ROUTES`] that serves `method path` (a `{name}` segment matches
/// any one segment), so that records name the route, not the ids in it.
pub fn route_template(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    crate::ROUTES
        .iter()
        .filter(|r| r.method == method)
        .map(|r| r.path)
        .find(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(t, s)| {
                    (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                })
        })
}

impl AuditContext {
    /// Records a change made by this request (after it succeeded); see the module doc for failures.
    pub async fn record(
        &self,
        state: &ApiState,
        integration_id: &IntegrationId,
        action: AuditAction,
        subject: Option<String>,
        changes: Vec<FieldChange>,
    ) {
        let mut record = AuditRecord::new(
            integration_id.clone(),
            state.clock.now(),
            self.caller.clone(),
            self.route.clone(),
            action,
            changes,
        );
        record.subject = subject;
        if let Err(e) = state.store.put_audit(&record).await {
            let fields: Vec<&str> = record.changes.iter().map(|c| c.field.as_str()).collect();
            tracing::error!(
                integration_id = %integration_id,
                caller = %record.caller,
                route = %record.route,
                action = ?record.action,
                subject = ?record.subject,
                fields = ?fields,
                error = %e,
                "audit record not written; the change was made"
            );
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditList {
    pub records: Vec<AuditRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /integrations/{id}/audit?limit=&cursor=`. An integration nobody changed yet has an empty trail
/// (credentials may be stored before the settings that make an integration exist, so no 404 here).
pub async fn list_audit(
    State(state): State<ApiState>,
    ids: Ids,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditList>, Problem> {
    let mut problems = Vec::new();
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                problems.push(FieldProblem {
                    field: "limit".to_string(),
                    message: format!("{:?} is not a number from 1 to {MAX_LIMIT}", shorten(l)),
                });
                DEFAULT_LIMIT
            }
        },
    };
    let cursor = query.cursor.filter(|c| !c.is_empty());
    if let Some(c) = &cursor {
        if c.len() > 1024 || !c.chars().all(|ch| ch.is_ascii_hexdigit()) {
            problems.push(FieldProblem {
                field: "cursor".to_string(),
                message: "not a cursor returned by this API".to_string(),
            });
        }
    }
    if !problems.is_empty() {
        let detail = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Problem::bad_request(detail).with_errors(problems));
    }
    let page = state
        .store
        .list_audit(&ids.integration_id, limit, cursor.as_deref())
        .await
        .map_err(|e| match &e {
            StoreError::Corrupt { key, .. } if key == "cursor" => {
                Problem::bad_request("cursor: not a cursor returned by this API")
            }
            _ => Problem::from(e),
        })?;
    Ok(Json(AuditList {
        records: page.records,
        next_cursor: page.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(authorizer: serde_json::Value) -> axum::http::Extensions {
        use lambda_http::request::RequestContext;
        let value = serde_json::json!({
            "accountId": "123456789012", "apiId": "api", "domainName": "d", "domainPrefix": "p",
            "http": {"method": "PUT", "path": "/x", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "t"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 0,
            "authorizer": authorizer,
        });
        let mut extensions = axum::http::Extensions::new();
        extensions.insert(RequestContext::ApiGatewayV2(
            serde_json::from_value(value).expect("a v2 request context"),
        ));
        extensions
    }

    #[test]
    fn routes_are_named_by_their_template() {
        assert_eq!(
            route_template("PUT", "/integrations/acme/settings"),
            Some("/integrations/{integration_id}/settings")
        );
        assert_eq!(
            route_template("POST", "/integrations/acme/parked/absence/m-1/release"),
            Some("/integrations/{integration_id}/parked/{kind}/{mapping_id}/release")
        );
        assert_eq!(route_template("PUT", "/integrations/acme/unknown"), None);
        assert_eq!(
            route_template("DELETE", "/integrations/acme/settings"),
            None
        );
    }

    #[test]
    fn the_caller_is_the_iam_principal_or_the_cognito_user_api_gateway_authenticated() {
        let iam = context(serde_json::json!({"iam": {
            "accessKey": "AKIDEXAMPLE", "accountId": "123456789012", "callerId": "AIDA",
            "userArn": "arn:aws:sts::123456789012:assumed-role/ops/jane", "userId": "AIDA"}}));
        assert_eq!(
            caller_of(&iam),
            Caller::Iam {
                arn: "arn:aws:sts::123456789012:assumed-role/ops/jane".into()
            }
        );
        let jwt = context(serde_json::json!({"jwt": {
            "claims": {"sub": "8f1e", "cognito:username": "jane"}, "scopes": null}}));
        assert_eq!(
            caller_of(&jwt),
            Caller::CognitoUser {
                username: "jane".into(),
                sub: "8f1e".into()
            }
        );
        assert_eq!(
            caller_of(&context(serde_json::Value::Null)),
            Caller::Unauthenticated
        );
    }
}
