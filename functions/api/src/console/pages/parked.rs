//! Parked records with their reason, and "Release" (the next run retries them).
use axum::extract::{Path, Query};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::layout::{self, problem_box, Nav};
use super::{plain, see_other, text, Ctx};
use crate::console::auth::Role;

#[derive(Deserialize, Default)]
pub struct ParkedQuery {
    released: Option<String>,
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "employee" => "Employee",
        "time_entry" => "Time entry",
        "absence" => "Absence",
        other => other,
    }
}

/// `GET /console/{id}/parked`.
pub async fn list(ctx: Ctx, Query(q): Query<ParkedQuery>) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Parked, "see the parked records") {
        return page;
    }
    let frame = ctx.frame(Nav::Parked);
    let answer = ctx.api.get(&ctx.api_path("/parked")).await;
    let content = match &answer {
        Err(p) => problem_box(p, true),
        Ok(list) => {
            let mappings: Vec<Value> = list
                .get("mappings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            html! {
                p { "A record is parked after repeated failures, or when the other system refuses a write for good. Every run skips it until it is released. Fix the cause in Personio or TimeTrack first; if it persists, the next run parks the record again." }
                @if let Some(id) = &q.released {
                    (layout::notice(&format!("Released {id}. The next run retries it.")))
                }
                @if mappings.is_empty() {
                    p { "No parked records." }
                } @else {
                    table id="parked" {
                        caption class="visually-hidden" { "Parked records" }
                        thead { tr {
                            th scope="col" { "Kind" } th scope="col" { "Date" } th scope="col" { "Personio" } th scope="col" { "TimeTrack" }
                            th scope="col" { "Reason" } th scope="col" { "Last error" } th scope="col" { "Parked since" } th scope="col" { span class="visually-hidden" { "Action" } }
                        } }
                        tbody {
                            @for m in &mappings {
                                @let kind = text(m, "kind");
                                @let id = text(m, "mapping_id");
                                tr {
                                    td { (kind_label(kind)) }
                                    td { (plain(m.get("anchor_date").unwrap_or(&Value::Null))) }
                                    td { (plain(m.get("personio_id").unwrap_or(&Value::Null))) }
                                    td { (plain(m.get("timetrack_id").unwrap_or(&Value::Null))) }
                                    td { (layout::sentence(text(m, "parked"))) }
                                    td { (plain(m.get("last_error").unwrap_or(&Value::Null))) }
                                    td { (frame.time_str(text(m, "updated_at"))) }
                                    td {
                                        form class="inline" method="post" action=(format!("{}/{kind}/{id}/release", frame.href(Nav::Parked))) {
                                            (frame.csrf())
                                            button type="submit" aria-label=(format!("Release {} {id}", kind_label(kind).to_lowercase())) { "Release" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::page(&frame, "Parked records", content)
}

/// `POST /console/{id}/parked/{kind}/{mapping_id}/release`.
pub async fn release(
    ctx: Ctx,
    Path((_, kind, mapping_id)): Path<(String, String, String)>,
) -> Response {
    if let Some(page) = ctx.refusal(Role::Admin, Nav::Parked, "release parked records") {
        return page;
    }
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let answer = ctx
        .api
        .post(
            &ctx.api_path(&format!(
                "/parked/{}/{}/release",
                enc(&kind),
                enc(&mapping_id)
            )),
            None,
        )
        .await;
    match answer {
        Ok(_) => see_other(&format!(
            "{}?released={}",
            ctx.page_path("/parked"),
            enc(&mapping_id)
        )),
        Err(p) => {
            let frame = ctx.frame(Nav::Parked);
            layout::page_with_status(
                axum::http::StatusCode::from_u16(p.status)
                    .unwrap_or(axum::http::StatusCode::BAD_REQUEST),
                &frame,
                "Parked records",
                html! {
                    (problem_box(&p, true))
                    p { a href=(frame.href(Nav::Parked)) { "Back to the parked records" } }
                },
            )
        }
    }
}
