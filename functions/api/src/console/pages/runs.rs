//! Runs: the history (newest first) and one run's page; both refresh while a run is in progress.
use axum::extract::{Path, Query};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::layout::{self, problem_box, Frame, Nav};
use super::plan::{counts_text, plan_table, results_tables, Names};
use super::{plain, text, Ctx};
use crate::console::auth::Role;

/// Seconds between two reloads of a page that shows a running run.
const REFRESH_SECONDS: u32 = 3;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
    workflow: Option<String>,
}

pub fn status_label(status: &str) -> &str {
    match status {
        "running" => "running",
        "succeeded" => "succeeded",
        "completed_with_failures" => "completed with failures",
        "continued" => "continuing",
        "failed" => "failed",
        other => other,
    }
}

pub fn window_text(run: &Value) -> String {
    format!(
        "{} – {}",
        run.pointer("/window/from").map(plain).unwrap_or_default(),
        run.pointer("/window/to").map(plain).unwrap_or_default()
    )
}

pub fn direction_text(d: &str) -> &str {
    match d {
        "both" => "both ways",
        "to_personio" => "to Personio",
        "to_timetrack" => "to TimeTrack",
        other => other,
    }
}

fn len(run: &Value, key: &str) -> usize {
    run.get(key).and_then(Value::as_array).map_or(0, Vec::len)
}

/// `GET /console/{id}/runs`.
pub async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Runs, "see the runs") {
        return page;
    }
    let frame = ctx.frame(Nav::Runs);
    let mut path = ctx.api_path("/runs?limit=25");
    for (key, value) in [("cursor", &q.cursor), ("workflow", &q.workflow)] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            path.push_str(&format!(
                "&{key}={}",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            ));
        }
    }
    let answer = ctx.api.get(&path).await;
    let content = match &answer {
        Err(p) => problem_box(p, true),
        Ok(page) => {
            let runs: Vec<Value> = page
                .get("runs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let running = runs.iter().any(|r| text(r, "status") == "running");
            let next = page.get("next_cursor").and_then(Value::as_str);
            html! {
                form method="get" class="row" {
                    div class="field" {
                        label for="workflow" { "Workflow" }
                        select id="workflow" name="workflow" {
                            option value="" { "all" }
                            @for w in ["employees", "time-entries", "absences"] {
                                option value=(w) selected[q.workflow.as_deref() == Some(w)] { (w) }
                            }
                        }
                    }
                    button type="submit" class="secondary" { "Show" }
                }
                @if running {
                    p data-refresh-seconds=(REFRESH_SECONDS) class="notice" role="status" {
                        "A run is in progress; this page refreshes every " (REFRESH_SECONDS) " seconds."
                    }
                }
                @if runs.is_empty() {
                    p { "No runs yet. Start one on the " a href=(frame.href(Nav::Sync)) { "Sync now" } " page." }
                } @else {
                    table id="runs" {
                        caption class="visually-hidden" { "Runs, newest first" }
                        thead { tr {
                            th scope="col" { "Started" } th scope="col" { "Workflow" } th scope="col" { "Trigger" }
                            th scope="col" { "Status" } th scope="col" { "Period" } th scope="col" { "Changes" }
                            th scope="col" { "Conflicts" } th scope="col" { "Failures" } th scope="col" { "Skipped" }
                        } }
                        tbody {
                            @for r in &runs { (run_row(&frame, r)) }
                        }
                    }
                }
                @if let Some(cursor) = next {
                    p { a href=(format!("?cursor={cursor}&workflow={}", q.workflow.as_deref().unwrap_or_default())) { "Older runs" } }
                }
            }
        }
    };
    layout::page(&frame, "Runs", content)
}

fn run_row(frame: &Frame<'_>, r: &Value) -> maud::Markup {
    let status = text(r, "status");
    let href = format!("{}/{}", frame.href(Nav::Runs), text(r, "run_id"));
    html! {
        tr {
            td { a href=(href) { (frame.time_str(text(r, "started_at"))) } }
            td { (text(r, "workflow")) @if r.get("dry_run") == Some(&Value::Bool(true)) { " (preview)" } }
            td { (text(r, "trigger")) }
            td { span class=(format!("status status-{status}")) { (status_label(status)) } }
            td { (window_text(r)) ", " (direction_text(text(r, "direction"))) }
            td { (counts_text(r)) }
            td { (len(r, "conflicts")) }
            td { (len(r, "failures")) }
            td { (len(r, "skipped")) }
        }
    }
}

/// `GET /console/{id}/runs/{run_id}`.
pub async fn detail(ctx: Ctx, Path((_, run_id)): Path<(String, String)>) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Runs, "see the runs") {
        return page;
    }
    let frame = ctx.frame(Nav::Runs);
    let answer = ctx
        .api
        .get(&ctx.api_path(&format!(
            "/runs/{}",
            url::form_urlencoded::byte_serialize(run_id.as_bytes()).collect::<String>()
        )))
        .await;
    let run = match answer {
        Ok(run) => run,
        Err(p) => return layout::page(&frame, "Run", problem_box(&p, true)),
    };
    let mut names = Names {
        tz: Some(ctx.tz.clone()),
        ..Names::default()
    };
    if run.get("plan").is_some_and(|p| !p.is_null()) || len(&run, "conflicts") > 0 {
        add_names(&ctx, &mut names, text(&run, "workflow")).await;
    }
    let content = run_body(&frame, &run, &names);
    let title = format!(
        "Run of {} started {}",
        text(&run, "workflow"),
        frame.time_str(text(&run, "started_at"))
    );
    layout::page(&frame, &title, content)
}

/// The names a run's tables use (best effort: without them the tables show ids).
pub async fn add_names(ctx: &Ctx, names: &mut Names, workflow: &str) {
    if workflow != "employees" {
        if let Ok(c) = ctx.api.get(&ctx.api_path("/employees/candidates")).await {
            names.add_candidates(&c);
        }
    }
    if workflow == "absences" {
        if let Ok(t) = ctx.api.get(&ctx.api_path("/absence-types")).await {
            names.add_absence_types(&t);
        }
    }
}

/// A run record: summary, plan (previews), results.
pub fn run_body(frame: &Frame<'_>, run: &Value, names: &Names) -> maud::Markup {
    let status = text(run, "status");
    let running = status == "running" || status == "continued";
    let dry = run.get("dry_run") == Some(&Value::Bool(true));
    html! {
        @if running {
            p data-refresh-seconds=(REFRESH_SECONDS) class="notice" role="status" {
                "This run is still in progress; the page refreshes every " (REFRESH_SECONDS) " seconds until it ends."
            }
        }
        @if dry {
            @if let Some(plan) = run.get("plan").filter(|p| p.get("actions").is_some()) {
                h2 { "What this run would do" }
                (plan_table(plan, names))
            }
        }
        table class="summary" {
            caption class="visually-hidden" { "Run summary" }
            tbody {
                tr { th scope="row" { "Status" } td { span class=(format!("status status-{status}")) { (status_label(status)) } @if dry { " — preview, nothing was written" } } }
                tr { th scope="row" { "Workflow" } td { (text(run, "workflow")) } }
                tr { th scope="row" { "Trigger" } td { (text(run, "trigger")) } }
                tr { th scope="row" { "Period" } td { (window_text(run)) } }
                tr { th scope="row" { "Direction" } td { (direction_text(text(run, "direction"))) } }
                tr { th scope="row" { "Started" } td { (frame.time_str(text(run, "started_at"))) } }
                tr { th scope="row" { "Finished" } td { (run.get("finished_at").and_then(Value::as_str).map(|t| frame.time_str(t)).unwrap_or_else(|| "—".into())) } }
                tr { th scope="row" { "Changes" } td { (counts_text(run)) } }
                @if let Some(e) = run.get("error").and_then(Value::as_str) {
                    tr { th scope="row" { "Error" } td class="bad" { (layout::sentence(e)) } }
                }
                @if let Some(id) = run.get("continues_run_id").and_then(Value::as_str) {
                    tr { th scope="row" { "Continues" } td { a href=(format!("{}/{id}", frame.href(Nav::Runs))) { (id) } } }
                }
                tr { th scope="row" { "Run id" } td { code { (text(run, "run_id")) } } }
            }
        }
        @if !dry {
            @if let Some(plan) = run.get("plan").filter(|p| p.get("actions").is_some()) {
                h2 { "What was left to do" }
                (plan_table(plan, names))
            }
        }
        (results_tables(run, names))
    }
}
