//! Schedules: per workflow — enabled, interval (hourly, daily, or a custom expression), time zone.
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::service::Problem;

use super::layout::{self, problem_box, Frame, Nav};
use super::sync::field_problems;
use super::{text, Ctx};
use crate::console::auth::Role;

const WORKFLOWS: [(&str, &str); 3] = [
    ("employees", "Employees"),
    ("time-entries", "Time entries"),
    ("absences", "Absences"),
];

/// The intervals offered besides a custom expression.
const HOURLY: &str = "rate(1 hour)";
const DAILY: &str = "cron(0 6 * * ? *)";

#[derive(Deserialize)]
pub struct ScheduleForm {
    workflow: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    interval: String,
    #[serde(default)]
    expression: String,
    #[serde(default)]
    time_zone: String,
}

fn workflow_form(
    frame: &Frame<'_>,
    workflow: &str,
    label: &str,
    current: Option<&Value>,
    default_tz: &str,
    problem: Option<&Problem>,
) -> Markup {
    let expression = current.map(|c| text(c, "expression")).unwrap_or_default();
    let enabled = current.is_some_and(|c| c.get("enabled") == Some(&Value::Bool(true)));
    let tz = current
        .map(|c| text(c, "time_zone"))
        .filter(|t| !t.is_empty())
        .unwrap_or(default_tz);
    let interval = match expression {
        HOURLY => "hourly",
        DAILY => "daily",
        "" => "hourly",
        _ => "custom",
    };
    let id = |f: &str| format!("{workflow}-{f}");
    html! {
        form class="stack" method="post" action=(frame.href(Nav::Schedules)) {
            (frame.csrf())
            input type="hidden" name="workflow" value=(workflow);
            fieldset {
                legend { (label) @if current.is_none() { " — no schedule yet" } }
                div class="field" {
                    label for=(id("enabled")) { "Runs on schedule" }
                    select id=(id("enabled")) name="enabled" {
                        option value="true" selected[enabled] { "enabled" }
                        option value="false" selected[!enabled] { "disabled" }
                    }
                }
                div class="field" {
                    label for=(id("interval")) { "Interval" }
                    select id=(id("interval")) name="interval" {
                        option value="hourly" selected[interval == "hourly"] { "every hour" }
                        option value="daily" selected[interval == "daily"] { "daily at 06:00" }
                        option value="custom" selected[interval == "custom"] { "custom expression" }
                    }
                }
                div class="field" {
                    label for=(id("expression")) { "Custom expression (rate(…) or cron(…))" }
                    input type="text" id=(id("expression")) name="expression" value=(if interval == "custom" { expression } else { "" });
                    (field_problems(problem, "expression"))
                }
                div class="field" {
                    label for=(id("time_zone")) { "Time zone" }
                    input type="text" id=(id("time_zone")) name="time_zone" value=(tz);
                    (field_problems(problem, "time_zone"))
                }
                div { button type="submit" { "Save " (label.to_lowercase()) " schedule" } }
            }
        }
    }
}

async fn page_content(ctx: &Ctx, failed: Option<(&str, &Problem)>) -> Markup {
    let frame = ctx.frame(Nav::Schedules);
    let default_tz = ctx
        .settings
        .as_ref()
        .ok()
        .and_then(|s| s.get("time_zone"))
        .and_then(Value::as_str)
        .unwrap_or("Europe/Berlin")
        .to_string();
    let mut forms = Vec::new();
    for (workflow, label) in WORKFLOWS {
        let current = ctx
            .api
            .get(&ctx.api_path(&format!("/workflows/{workflow}/schedule")))
            .await;
        let problem = failed.filter(|(w, _)| *w == workflow).map(|(_, p)| p);
        let markup = match &current {
            Ok(c) => workflow_form(&frame, workflow, label, Some(c), &default_tz, problem),
            Err(p) if p.status == 404 => {
                workflow_form(&frame, workflow, label, None, &default_tz, problem)
            }
            Err(p) => problem_box(p, true),
        };
        forms.push(html! {
            @if let Some(p) = problem { (problem_box(p, false)) }
            (markup)
        });
    }
    html! {
        div class="columns" { @for f in &forms { div { (f) } } }
    }
}

/// `GET /console/{id}/schedules`.
pub async fn page(ctx: Ctx) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Schedules, "see the schedules") {
        return page;
    }
    let frame = ctx.frame(Nav::Schedules);
    let content = page_content(&ctx, None).await;
    layout::page(&frame, "Schedules", content)
}

/// `POST /console/{id}/schedules`: `PUT .../workflows/{workflow}/schedule`.
pub async fn save(ctx: Ctx, Form(f): Form<ScheduleForm>) -> Response {
    if let Some(page) = ctx.refusal(Role::Admin, Nav::Schedules, "change the schedules") {
        return page;
    }
    let frame = ctx.frame(Nav::Schedules);
    let Some((workflow, label)) = WORKFLOWS.iter().find(|(w, _)| *w == f.workflow) else {
        return super::not_found("No such workflow.");
    };
    let expression = match f.interval.as_str() {
        "daily" => DAILY.to_string(),
        "custom" => f.expression.trim().to_string(),
        _ => HOURLY.to_string(),
    };
    let body = json!({
        "expression": expression,
        "enabled": f.enabled == "true",
        "time_zone": f.time_zone.trim(),
    });
    match ctx
        .api
        .put(
            &ctx.api_path(&format!("/workflows/{workflow}/schedule")),
            body,
        )
        .await
    {
        Ok(_) => {
            let content = page_content(&ctx, None).await;
            layout::page(
                &frame,
                "Schedules",
                html! { (layout::notice(&format!("The {} schedule is saved.", label.to_lowercase()))) (content) },
            )
        }
        Err(p) => {
            let content = page_content(&ctx, Some((workflow, &p))).await;
            layout::page_with_status(
                axum::http::StatusCode::from_u16(p.status)
                    .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY),
                &frame,
                "Schedules",
                content,
            )
        }
    }
}
