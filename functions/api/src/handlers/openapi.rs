//! `GET /openapi.json`: the checked-in OpenAPI 3 document, compiled into the binary so that what is
//! served is what was reviewed (a test keeps it and [`crate::routes::ROUTES`] in agreement).
use axum::http::header;
use axum::response::IntoResponse;

pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
