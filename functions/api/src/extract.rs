//! Request extractors whose every failure is a [`Problem`](shared::service::Problem): path identifiers
//! validated once (integration id, workflow, run id, mapping kind and id), JSON bodies checked for
//! content type, size and syntax, and query strings.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use shared::domain::{EntityKind, IntegrationId, Workflow};
use shared::service::problem::FieldProblem;
use shared::service::Problem;

/// The identifiers a route's path carries, validated: `{integration_id}` always, `{workflow}` and
/// `{run_id}` where the route has them.
#[derive(Debug, Clone)]
pub struct Ids {
    pub integration_id: IntegrationId,
    pub workflow: Option<Workflow>,
    pub run_id: Option<String>,
}

impl Ids {
    /// The workflow of a route that has `{workflow}` in its path.
    pub fn workflow(&self) -> Result<Workflow, Problem> {
        self.workflow
            .ok_or_else(|| Problem::bad_request("the path names no workflow"))
    }
}

/// Longest accepted run id; the store's ids are far shorter, anything longer is not one of ours.
const MAX_RUN_ID_LEN: usize = 128;

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let raw = params
            .get("integration_id")
            .ok_or_else(|| Problem::bad_request("the path has no integration id"))?;
        let integration_id =
            IntegrationId::new(raw.clone()).map_err(|e| Problem::invalid_id(e.to_string()))?;
        let workflow = match params.get("workflow") {
            None => None,
            Some(w) => Some(
                w.parse::<Workflow>()
                    .map_err(|_| Problem::unknown_workflow(&shorten(w)))?,
            ),
        };
        let run_id = match params.get("run_id") {
            None => None,
            Some(r) => {
                let ok = !r.is_empty()
                    && r.len() <= MAX_RUN_ID_LEN
                    && r.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
                if !ok {
                    return Err(Problem::invalid_id(format!(
                        "invalid run id {:?}: use 1 to {MAX_RUN_ID_LEN} characters of A-Z, a-z, 0-9, '-', '_' and '.'",
                        shorten(r)
                    )));
                }
                Some(r.clone())
            }
        };
        Ok(Self {
            integration_id,
            workflow,
            run_id,
        })
    }
}

pub use shared::service::http::shorten;

/// A JSON request body: `Content-Type: application/json` (or `application/<x>+json`) required (415),
/// at most the body limit (413), syntactically valid JSON (400). The typed parse is left to
/// [`parse_json`], so that each route decides how a mismatch with its model is answered.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(Problem::unsupported_media_type(
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await?;
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
            return Err(Problem::invalid_body(format!(
                "the body is not valid JSON: {e}"
            )));
        }
        Ok(Self(bytes))
    }
}

pub fn is_json(value: Option<&header::HeaderValue>) -> bool {
    let Some(v) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media = v
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Deserialises a body into `T`; a mismatch is a 400 naming the JSON path where it happened.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.inner().to_string();
        Problem::invalid_body(format!("{field}: {message}"))
            .with_errors(vec![FieldProblem { field, message }])
    })
}

/// A query string parsed into `T`; failures are 400 problems.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Longest accepted mapping id; the engine's are UUIDs (36 characters).
const MAX_MAPPING_ID_LEN: usize = 128;

/// The mapping a route's path names: `{kind}` (an [`EntityKind`] spelling: `employee`, `time_entry`,
/// `absence`) and `{mapping_id}`. An unknown kind is a 404 (`unknown-kind`): like an unknown workflow,
/// the path names nothing that exists; a malformed mapping id is a 400 (`invalid-id`).
#[derive(Debug, Clone)]
pub struct MappingRef {
    pub kind: EntityKind,
    pub mapping_id: String,
}

/// `s` as an [`EntityKind`], by its stored spelling.
pub fn parse_kind(s: &str) -> Option<EntityKind> {
    [
        EntityKind::Employee,
        EntityKind::TimeEntry,
        EntityKind::Absence,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

impl<S: Send + Sync> FromRequestParts<S> for MappingRef {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let (Some(kind), Some(mapping_id)) = (params.get("kind"), params.get("mapping_id")) else {
            return Err(Problem::bad_request("the path names no mapping"));
        };
        let kind = parse_kind(kind).ok_or_else(|| {
            Problem::new(
                404,
                "unknown-kind",
                "Unknown kind",
                format!(
                    "unknown record kind {:?}: expected employee, time_entry or absence",
                    shorten(kind)
                ),
            )
        })?;
        let ok = !mapping_id.is_empty()
            && mapping_id.len() <= MAX_MAPPING_ID_LEN
            && mapping_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !ok {
            return Err(Problem::invalid_id(format!(
                "invalid mapping id {:?}: use 1 to {MAX_MAPPING_ID_LEN} characters of A-Z, a-z, 0-9, '-', '_' and '.'",
                shorten(mapping_id)
            )));
        }
        Ok(Self {
            kind,
            mapping_id: mapping_id.clone(),
        })
    }
}
