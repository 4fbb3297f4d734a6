//! Sync now: per workflow a period and a direction; "Preview" runs the dry run and shows its plan,
//! "Run" runs it for real and opens the run's page (which refreshes while the run goes on).
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use shared::service::Problem;

use super::layout::{self, problem_box, Frame, Nav};
use super::plan::Names;
use super::runs::{add_names, run_body};
use super::{see_other, text, Ctx};
use crate::console::auth::Role;

#[derive(Deserialize, Default, Clone)]
pub struct SyncForm {
    #[serde(default)]
    workflow: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    action: String,
}

const WORKFLOWS: [(&str, &str); 3] = [
    ("time-entries", "Time entries (attendances)"),
    ("absences", "Absences"),
    ("employees", "Employees"),
];

const DIRECTIONS: [(&str, &str); 3] = [
    ("both", "Both ways"),
    ("to_personio", "To Personio only (payroll push)"),
    ("to_timetrack", "To TimeTrack only"),
];

/// The problems of `field` in a problem answer, as sentences next to the field.
pub fn field_problems(problem: Option<&Problem>, field: &str) -> Markup {
    let messages: Vec<String> = problem
        .map(|p| {
            p.errors
                .iter()
                .filter(|e| {
                    e.field == field
                        || e.field.starts_with(&format!("{field}."))
                        || e.field.starts_with(&format!("{field}["))
                })
                .map(|e| layout::sentence(&e.message))
                .collect()
        })
        .unwrap_or_default();
    html! {
        @for m in &messages { span class="field-problem" id=(format!("{}-problem", field.replace(['.', '[', ']'], "-"))) { (m) } }
    }
}

fn form_markup(frame: &Frame<'_>, f: &SyncForm, problem: Option<&Problem>) -> Markup {
    html! {
        form class="stack" method="post" action=(frame.href(Nav::Sync)) {
            (frame.csrf())
            div class="field" {
                label for="workflow" { "Workflow" }
                select id="workflow" name="workflow" {
                    @for (value, label) in WORKFLOWS {
                        option value=(value) selected[f.workflow == value] { (label) }
                    }
                }
            }
            div class="row" {
                div class="field" {
                    label for="from" { "From" }
                    input type="date" id="from" name="from" value=(f.from);
                    (field_problems(problem, "from"))
                }
                div class="field" {
                    label for="to" { "To" }
                    input type="date" id="to" name="to" value=(f.to);
                    (field_problems(problem, "to"))
                }
            }
            p class="muted" { "Leave both dates empty for the workflow's scheduled period (since the last successful run)." }
            div class="field" {
                label for="direction" { "Direction" }
                select id="direction" name="direction" {
                    @for (value, label) in DIRECTIONS {
                        option value=(value) selected[f.direction == value] { (label) }
                    }
                }
                (field_problems(problem, "direction"))
            }
            div class="row" {
                button type="submit" name="action" value="preview" { "Preview" }
                button type="submit" name="action" value="run" class="secondary" { "Run" }
            }
        }
    }
}

/// `GET /console/{id}/sync`.
pub async fn form(ctx: Ctx) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Sync, "see this page") {
        return page;
    }
    let frame = ctx.frame(Nav::Sync);
    let content = html! {
        p { "Preview shows what a run would change, without writing anything. Run writes the changes." }
        (form_markup(&frame, &SyncForm { workflow: "time-entries".into(), direction: "both".into(), ..SyncForm::default() }, None))
    };
    layout::page(&frame, "Sync now", content)
}

/// The JSON body of a manual sync from the form.
pub fn sync_body(f: &SyncForm, dry_run: bool) -> Value {
    let mut body = Map::new();
    for (key, value) in [
        ("from", &f.from),
        ("to", &f.to),
        ("direction", &f.direction),
    ] {
        if !value.trim().is_empty() {
            body.insert(key.into(), json!(value.trim()));
        }
    }
    body.insert("dry_run".into(), json!(dry_run));
    Value::Object(body)
}

/// `POST /console/{id}/sync`: preview or run.
pub async fn submit(ctx: Ctx, Form(f): Form<SyncForm>) -> Response {
    if let Some(page) = ctx.refusal(Role::Admin, Nav::Sync, "start a sync") {
        return page;
    }
    let frame = ctx.frame(Nav::Sync);
    let preview = f.action != "run";
    let workflow = if WORKFLOWS.iter().any(|(w, _)| *w == f.workflow) {
        f.workflow.clone()
    } else {
        "time-entries".to_string()
    };
    let answer = ctx
        .api
        .post(
            &ctx.api_path(&format!("/sync/{workflow}")),
            Some(sync_body(&f, preview)),
        )
        .await;
    match answer {
        Err(p) => {
            let content = html! {
                (problem_box(&p, false))
                (form_markup(&frame, &f, Some(&p)))
            };
            layout::page_with_status(
                axum::http::StatusCode::from_u16(p.status)
                    .unwrap_or(axum::http::StatusCode::BAD_REQUEST),
                &frame,
                "Sync now",
                content,
            )
        }
        Ok(a) if !preview || a.status == 202 => {
            let run_id = text(&a.body, "run_id");
            see_other(&format!("{}/{run_id}", frame.href(Nav::Runs)))
        }
        Ok(a) => {
            let mut names = Names {
                tz: Some(ctx.tz.clone()),
                ..Names::default()
            };
            add_names(&ctx, &mut names, &workflow).await;
            let run_form = SyncForm {
                action: "run".into(),
                ..f.clone()
            };
            let run_button = html! {
                form method="post" action=(frame.href(Nav::Sync)) class="run-this" {
                    (frame.csrf())
                    input type="hidden" name="workflow" value=(workflow);
                    input type="hidden" name="from" value=(run_form.from);
                    input type="hidden" name="to" value=(run_form.to);
                    input type="hidden" name="direction" value=(run_form.direction);
                    button type="submit" name="action" value="run" { "Run this sync" }
                }
            };
            let content = html! {
                h2 id="preview" { "Preview" }
                (layout::notice("This is a preview: nothing was written. Check the plan, then run it."))
                (run_button)
                (run_body(&frame, &a.body, &names))
                h2 { "Another period or direction" }
                (form_markup(&frame, &f, None))
            };
            layout::page(&frame, "Sync now", content)
        }
    }
}
