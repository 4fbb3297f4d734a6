//! Employees: the candidates of both systems with their link status, a filter, checkboxes, and
//! "Import selected" / "Export selected" — first as a preview of what would be created, then for real.
use axum::body::Bytes;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::layout::{self, problem_box, Frame, Nav};
use super::plan::Names;
use super::runs::run_body;
use super::{plain, see_other, text, Ctx};
use crate::console::auth::Role;

fn status_label(status: &str) -> &str {
    match status {
        "linked" => "linked",
        "linkable_by_email" => "can be linked (same e-mail)",
        "linkable_by_personal_number" => "can be linked (same personal number)",
        "ambiguous" => "ambiguous",
        "unmatched" => "only in one system",
        other => other,
    }
}

fn name_of(side: Option<&Value>) -> String {
    side.map(|p| format!("{} {}", text(p, "first_name"), text(p, "last_name")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn table(frame: &Frame<'_>, candidates: &Value, selected: &[(String, String)]) -> Markup {
    let rows: Vec<Value> = candidates
        .get("candidates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_selected = |k: &str, v: &str| selected.iter().any(|(a, b)| a == k && b == v);
    html! {
        form method="post" action=(frame.href(Nav::Employees)) {
            (frame.csrf())
            div class="row" {
                div class="field" {
                    label for="filter" { "Filter" }
                    input type="text" id="filter" data-filter-table="candidates" placeholder="name, e-mail or status";
                }
            }
            table id="candidates" {
                caption class="visually-hidden" { "Employees in Personio and TimeTrack" }
                thead { tr {
                    th scope="col" { "Import" }
                    th scope="col" { "Export" }
                    th scope="col" { "Name" }
                    th scope="col" { "E-mail" }
                    th scope="col" { "Employment" }
                    th scope="col" { "Link status" }
                    th scope="col" { "In" }
                } }
                tbody {
                    @for c in &rows {
                        @let personio = c.get("personio");
                        @let timetrack = c.get("timetrack");
                        @let pid = c.get("personio_id").map(plain).filter(|s| !s.is_empty());
                        @let tid = c.get("timetrack_id").map(plain).filter(|s| !s.is_empty());
                        @let status = text(c, "status");
                        @let name = if personio.is_some() { name_of(personio) } else { name_of(timetrack) };
                        tr {
                            td {
                                @if let (Some(p), None) = (&pid, &tid) {
                                    input type="checkbox" name="import" value=(p) id=(format!("import-{p}")) checked[is_selected("import", p)] aria-label=(format!("Import {name} into TimeTrack"));
                                }
                            }
                            td {
                                @if let (None, Some(t)) = (&pid, &tid) {
                                    input type="checkbox" name="export" value=(t) id=(format!("export-{t}")) checked[is_selected("export", t)] aria-label=(format!("Export {name} to Personio"));
                                }
                            }
                            td { (name) }
                            td { (personio.or(timetrack).map(|s| text(s, "email")).unwrap_or_default()) }
                            td {
                                @if let Some(s) = personio.and_then(|p| p.get("status")).and_then(Value::as_str) { (s.to_lowercase()) }
                                @else if let Some(t) = timetrack { @if t.get("enabled") == Some(&Value::Bool(false)) { "disabled in TimeTrack" } @else { "enabled in TimeTrack" } }
                            }
                            td { (status_label(status)) @if let Some(r) = c.get("reason").filter(|r| !r.is_null()) { " — " (plain(r).replace('_', " ")) } }
                            td {
                                @match (&pid, &tid) {
                                    (Some(_), Some(_)) => "both",
                                    (Some(_), None) => "Personio",
                                    (None, Some(_)) => "TimeTrack",
                                    (None, None) => "",
                                }
                            }
                        }
                    }
                }
            }
            div class="row" {
                button type="submit" name="action" value="preview" { "Preview import and export of the selected" }
                button type="submit" name="action" value="run" class="secondary" { "Import and export the selected" }
            }
        }
    }
}

/// `GET /console/{id}/employees`.
pub async fn list(ctx: Ctx) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Employees, "see the employees") {
        return page;
    }
    let frame = ctx.frame(Nav::Employees);
    let content = match ctx.api.get(&ctx.api_path("/employees/candidates")).await {
        Ok(c) => html! {
            p { "Tick the Personio employees to import into TimeTrack and the TimeTrack users to export to Personio. Linked employees sync on every run." }
            (table(&frame, &c, &[]))
        },
        Err(p) => problem_box(&p, true),
    };
    layout::page(&frame, "Employees", content)
}

/// `POST /console/{id}/employees`: a manual employees sync naming the ticked records.
pub async fn submit(ctx: Ctx, body: Bytes) -> Response {
    if let Some(page) = ctx.refusal(Role::Admin, Nav::Employees, "import or export employees") {
        return page;
    }
    let frame = ctx.frame(Nav::Employees);
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let values = |key: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let preview = values("action").first().map(String::as_str) != Some("run");
    let import = values("import");
    let export: Vec<i64> = values("export")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let candidates = ctx.api.get(&ctx.api_path("/employees/candidates")).await;
    if import.is_empty() && export.is_empty() {
        let content = html! {
            div class="problem" role="alert" { "Nothing is selected. Tick at least one employee to import or export." }
            @if let Ok(c) = &candidates { (table(&frame, c, &fields)) }
        };
        return layout::page_with_status(
            axum::http::StatusCode::BAD_REQUEST,
            &frame,
            "Employees",
            content,
        );
    }
    let answer = ctx
        .api
        .post(
            &ctx.api_path("/sync/employees"),
            Some(
                json!({"import_person_ids": import, "export_user_ids": export, "dry_run": preview}),
            ),
        )
        .await;
    match answer {
        Err(p) => {
            let content = html! {
                (problem_box(&p, true))
                @if let Ok(c) = &candidates { (table(&frame, c, &fields)) }
            };
            layout::page(&frame, "Employees", content)
        }
        Ok(a) if !preview || a.status == 202 => see_other(&format!(
            "{}/{}",
            frame.href(Nav::Runs),
            text(&a.body, "run_id")
        )),
        Ok(a) => {
            let names = Names {
                tz: Some(ctx.tz.clone()),
                ..Names::default()
            };
            let content = html! {
                h2 { "Preview" }
                (layout::notice("This is a preview: nothing was written. Check what would be created, then import and export for real."))
                (run_body(&frame, &a.body, &names))
                @if let Ok(c) = &candidates { (table(&frame, c, &fields)) }
            };
            layout::page(&frame, "Employees", content)
        }
    }
}
