//! Settings: time zone, employee selection, leaver policy, time-entry mode and master, windows,
//! behaviour — one form. The API's 422 (and 400) field problems are shown next to their fields, which
//! are named by the same JSON paths the API reports (`windows.time_entries.lookback_days`).
use axum::body::Bytes;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use shared::service::Problem;
use shared::settings::IntegrationSettings;

use super::layout::{self, problem_box, Frame, Nav};
use super::sync::field_problems;
use super::{plain, Ctx};
use crate::console::auth::Role;

/// How a field is edited.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    /// A yes/no select.
    Bool,
    /// A select of (value, label).
    Choice(&'static [(&'static str, &'static str)]),
    /// Comma-separated strings.
    TextList,
    /// Comma-separated numbers.
    NumberList,
    /// Text; empty means `null`.
    OptionalText,
}

/// The form's fields: (JSON path, label, kind). The selection's sub-fields are assembled by type.
const FIELDS: &[(&str, &str, Kind)] = &[
    (
        "time_zone",
        "Time zone (IANA, e.g. Europe/Berlin)",
        Kind::Text,
    ),
    (
        "timetrack_timestamp_mode",
        "TimeTrack timestamps are",
        Kind::Choice(&[
            ("utc", "UTC"),
            ("local_wall_clock", "local wall-clock time"),
        ]),
    ),
    (
        "employees.selection.type",
        "Employees to import",
        Kind::Choice(&[
            ("all_active", "all active Personio employees"),
            ("ids", "the Personio ids listed below"),
            ("org_units", "the departments, teams or offices below"),
        ]),
    ),
    (
        "employees.selection.ids",
        "Personio ids (comma-separated)",
        Kind::TextList,
    ),
    (
        "employees.selection.departments",
        "Departments (ids, comma-separated)",
        Kind::TextList,
    ),
    (
        "employees.selection.teams",
        "Teams (ids, comma-separated)",
        Kind::TextList,
    ),
    (
        "employees.selection.offices",
        "Offices (ids, comma-separated)",
        Kind::TextList,
    ),
    (
        "employees.export_user_ids",
        "TimeTrack users to export (ids, comma-separated)",
        Kind::NumberList,
    ),
    (
        "employees.link_by_personal_number",
        "Link by personal number when the e-mail finds nothing",
        Kind::Bool,
    ),
    (
        "employees.personal_number_attribute",
        "Personio attribute with the personal number",
        Kind::OptionalText,
    ),
    (
        "employees.leaver_policy",
        "When someone leaves in Personio",
        Kind::Choice(&[
            ("deactivate", "deactivate the TimeTrack user"),
            ("ignore", "leave the TimeTrack user alone"),
        ]),
    ),
    (
        "employees.auto_add",
        "Add new hires on scheduled runs",
        Kind::Bool,
    ),
    (
        "time_entries.mode",
        "Time entries",
        Kind::Choice(&[
            ("bidirectional", "both ways"),
            ("push", "TimeTrack → Personio only (payroll push)"),
        ]),
    ),
    (
        "time_entries.master",
        "Time entries: master when both changed",
        Kind::Choice(&[("timetrack", "TimeTrack"), ("personio", "Personio")]),
    ),
    (
        "windows.employees.lookback_days",
        "Employees: days back",
        Kind::Number,
    ),
    (
        "windows.employees.lookahead_days",
        "Employees: days ahead",
        Kind::Number,
    ),
    (
        "windows.time_entries.lookback_days",
        "Time entries: days back",
        Kind::Number,
    ),
    (
        "windows.time_entries.lookahead_days",
        "Time entries: days ahead",
        Kind::Number,
    ),
    (
        "windows.absences.lookback_days",
        "Absences: days back",
        Kind::Number,
    ),
    (
        "windows.absences.lookahead_days",
        "Absences: days ahead",
        Kind::Number,
    ),
    (
        "windows.max_manual_days",
        "Longest manual sync (days)",
        Kind::Number,
    ),
    (
        "personio.skip_approval",
        "Absences arrive approved in Personio",
        Kind::Bool,
    ),
    (
        "personio.attendance_skip_approval",
        "Attendances arrive approved in Personio",
        Kind::Bool,
    ),
    (
        "sync.max_failures_before_parking",
        "Failures before a record is parked",
        Kind::Number,
    ),
    ("sync.concurrency", "Writes in flight at once", Kind::Number),
];

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

fn set(v: &mut Value, path: &str, value: Value) {
    let mut keys = path.split('.').peekable();
    let mut at = v;
    while let Some(key) = keys.next() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Some(obj) = at.as_object_mut() else {
            return;
        };
        if keys.peek().is_none() {
            obj.insert(key.to_string(), value);
            return;
        }
        at = obj.entry(key.to_string()).or_insert_with(|| json!({}));
    }
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(items)) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        Some(other) => plain(other),
    }
}

fn dom_id(path: &str) -> String {
    path.replace(['.', '[', ']'], "-")
}

fn form_markup(frame: &Frame<'_>, settings: &Value, problem: Option<&Problem>) -> Markup {
    html! {
        form class="stack" method="post" action=(frame.href(Nav::Settings)) novalidate {
            (frame.csrf())
            @for (path, label, kind) in FIELDS {
                @let id = dom_id(path);
                @let value = shown(lookup(settings, path));
                @let has_problem = problem.is_some_and(|p| p.errors.iter().any(|e| e.field == *path));
                div class="field" {
                    label for=(id) { (label) }
                    @match kind {
                        Kind::Bool => {
                            select id=(id) name=(path) aria-invalid=[has_problem.then_some("true")] aria-describedby=[has_problem.then(|| format!("{id}-problem"))] {
                                option value="true" selected[value == "true"] { "yes" }
                                option value="false" selected[value == "false"] { "no" }
                            }
                        }
                        Kind::Choice(options) => {
                            select id=(id) name=(path) aria-invalid=[has_problem.then_some("true")] aria-describedby=[has_problem.then(|| format!("{id}-problem"))] {
                                @for (v, l) in *options { option value=(v) selected[value == *v] { (l) } }
                            }
                        }
                        Kind::Number => {
                            input type="text" inputmode="numeric" id=(id) name=(path) value=(value) aria-invalid=[has_problem.then_some("true")] aria-describedby=[has_problem.then(|| format!("{id}-problem"))];
                        }
                        _ => {
                            input type="text" id=(id) name=(path) value=(value) aria-invalid=[has_problem.then_some("true")] aria-describedby=[has_problem.then(|| format!("{id}-problem"))];
                        }
                    }
                    (field_problems(problem, path))
                }
            }
            div { button type="submit" { "Save settings" } }
        }
    }
}

/// `GET /console/{id}/settings` (a new integration starts from the defaults).
pub async fn form(ctx: Ctx) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Settings, "see the settings") {
        return page;
    }
    let frame = ctx.frame(Nav::Settings);
    let content = match &ctx.settings {
        Ok(s) => form_markup(&frame, s, None),
        Err(p) if p.status == 404 => html! {
            (layout::notice("This integration has no settings yet. Saving this form creates it."))
            (form_markup(&frame, &defaults(), None))
        },
        Err(p) => problem_box(p, true),
    };
    layout::page(&frame, "Settings", content)
}

fn defaults() -> Value {
    serde_json::to_value(IntegrationSettings::example()).unwrap_or(Value::Null)
}

/// The settings document from the form, on top of `base` (what is stored, so that fields the form does
/// not show, such as the absence-type mappings, are kept).
fn from_form(base: &Value, fields: &[(String, String)]) -> Value {
    let get = |path: &str| {
        fields
            .iter()
            .find(|(k, _)| k == path)
            .map(|(_, v)| v.trim().to_string())
    };
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    // Numbers go as numbers; anything else as typed, so that the API names the field in its answer.
    let number = |s: &str| -> Value {
        s.parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(s))
    };
    let mut doc = base.clone();
    for (path, _, kind) in FIELDS {
        if path.starts_with("employees.selection.") {
            continue;
        }
        let Some(raw) = get(path) else { continue };
        let value = match kind {
            Kind::Text | Kind::Choice(_) => json!(raw),
            Kind::OptionalText if raw.is_empty() => Value::Null,
            Kind::OptionalText => json!(raw),
            Kind::Number => number(&raw),
            Kind::Bool => json!(raw == "true"),
            Kind::TextList => json!(list(&raw)),
            Kind::NumberList => Value::Array(list(&raw).iter().map(|s| number(s)).collect()),
        };
        set(&mut doc, path, value);
    }
    let selection = match get("employees.selection.type").as_deref() {
        Some("ids") => {
            json!({"type": "ids", "ids": list(&get("employees.selection.ids").unwrap_or_default())})
        }
        Some("org_units") => json!({
            "type": "org_units",
            "departments": list(&get("employees.selection.departments").unwrap_or_default()),
            "teams": list(&get("employees.selection.teams").unwrap_or_default()),
            "offices": list(&get("employees.selection.offices").unwrap_or_default()),
        }),
        _ => json!({"type": "all_active"}),
    };
    set(&mut doc, "employees.selection", selection);
    doc
}

/// `POST /console/{id}/settings`: `PUT .../settings`.
pub async fn save(ctx: Ctx, body: Bytes) -> Response {
    if let Some(page) = ctx.refusal(Role::Admin, Nav::Settings, "change the settings") {
        return page;
    }
    let frame = ctx.frame(Nav::Settings);
    let base = match &ctx.settings {
        Ok(s) => s.clone(),
        Err(p) if p.status == 404 => defaults(),
        Err(p) => return layout::page(&frame, "Settings", problem_box(p, true)),
    };
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let doc = from_form(&base, &fields);
    match ctx.api.put(&ctx.api_path("/settings"), doc.clone()).await {
        Ok(saved) => layout::page(
            &frame,
            "Settings",
            html! { (layout::notice("The settings are saved.")) (form_markup(&frame, &saved, None)) },
        ),
        Err(p) => layout::page_with_status(
            axum::http::StatusCode::from_u16(p.status)
                .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY),
            &frame,
            "Settings",
            html! { (problem_box(&p, true)) (form_markup(&frame, &doc, Some(&p))) },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_rebuilds_the_document_and_keeps_what_it_does_not_show() {
        let mut base = defaults();
        base["absences"]["type_mappings"] =
            json!([{"timetrack_type_id": 1, "personio_type_id": "9", "master": "timetrack"}]);
        let fields = vec![
            ("time_zone".to_string(), "Europe/Vienna".to_string()),
            ("windows.time_entries.lookback_days".into(), "7".into()),
            ("sync.concurrency".into(), "many".into()),
            ("employees.auto_add".into(), "false".into()),
            ("employees.selection.type".into(), "ids".into()),
            ("employees.selection.ids".into(), "1, 2,".into()),
            ("employees.personal_number_attribute".into(), "".into()),
        ];
        let doc = from_form(&base, &fields);
        assert_eq!(doc["time_zone"], "Europe/Vienna");
        assert_eq!(doc["windows"]["time_entries"]["lookback_days"], 7);
        assert_eq!(
            doc["sync"]["concurrency"], "many",
            "left for the API to name"
        );
        assert_eq!(doc["employees"]["auto_add"], false);
        assert_eq!(
            doc["employees"]["selection"],
            json!({"type": "ids", "ids": ["1", "2"]})
        );
        assert_eq!(doc["employees"]["personal_number_attribute"], Value::Null);
        assert_eq!(doc["absences"], base["absences"]);
    }
}
