//! Absence types: both catalogues side by side, the mapping rows (TimeTrack type, its half-day type,
//! Personio type, master system), unmapped types seen in the data highlighted with their count, and a
//! form to add or remove a mapping (saved as `absences.type_mappings` of the settings).
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::service::Problem;

use super::layout::{self, problem_box, Frame, Nav};
use super::sync::field_problems;
use super::{plain, see_other, text, Ctx};
use crate::console::auth::Role;

#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    timetrack_type_id: String,
    #[serde(default)]
    half_day_timetrack_type_id: String,
    #[serde(default)]
    personio_type_id: String,
    #[serde(default)]
    master: String,
}

fn name_or_id(list: &[Value], id: &Value) -> String {
    list.iter()
        .find(|t| t.get("id").map(plain) == Some(plain(id)))
        .and_then(|t| t.get("name").and_then(Value::as_str))
        .map(|n| format!("{n} (#{})", plain(id)))
        .unwrap_or_else(|| format!("#{}", plain(id)))
}

fn content(
    frame: &Frame<'_>,
    types: &Value,
    settings: &Value,
    problem: Option<&Problem>,
) -> Markup {
    let list = |key: &str| -> Vec<Value> {
        types
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let personio = list("personio");
    let timetrack = list("timetrack");
    let mappings: Vec<Value> = settings
        .pointer("/absences/type_mappings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        @if let Some(p) = problem { (problem_box(p, true)) }
        h2 { "Mappings" }
        @if mappings.is_empty() {
            p { "No absence type is mapped yet: absences of unmapped types are skipped." }
        } @else {
            table id="mappings" {
                thead { tr { th scope="col" { "TimeTrack type" } th scope="col" { "Half-day type" } th scope="col" { "Personio type" } th scope="col" { "Master" } th scope="col" { span class="visually-hidden" { "Action" } } } }
                tbody {
                    @for (i, m) in mappings.iter().enumerate() {
                        tr {
                            td { (name_or_id(&timetrack, m.get("timetrack_type_id").unwrap_or(&Value::Null))) }
                            td { @if let Some(h) = m.get("half_day_timetrack_type_id").filter(|h| !h.is_null()) { (name_or_id(&timetrack, h)) } @else { "—" } }
                            td { (name_or_id(&personio, m.get("personio_type_id").unwrap_or(&Value::Null))) }
                            td { (if text(m, "master") == "personio" { "Personio" } else { "TimeTrack" }) }
                            td {
                                form class="inline" method="post" action=(frame.href(Nav::AbsenceTypes)) {
                                    (frame.csrf())
                                    input type="hidden" name="index" value=(i);
                                    button type="submit" name="action" value="remove" class="secondary" aria-label=(format!("Remove mapping {}", i + 1)) { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add a mapping" }
        form class="stack" method="post" action=(frame.href(Nav::AbsenceTypes)) {
            (frame.csrf())
            input type="hidden" name="action" value="add";
            div class="field" {
                label for="timetrack_type_id" { "TimeTrack type (id)" }
                input type="number" id="timetrack_type_id" name="timetrack_type_id" required list="timetrack-types";
                (field_problems(problem, &format!("absences.type_mappings[{}].timetrack_type_id", mappings.len())))
            }
            datalist id="timetrack-types" {
                @for t in &timetrack { option value=(plain(t.get("id").unwrap_or(&Value::Null))) { (text(t, "name")) } }
            }
            div class="field" {
                label for="half_day_timetrack_type_id" { "Half-day TimeTrack type (id, optional)" }
                input type="number" id="half_day_timetrack_type_id" name="half_day_timetrack_type_id" list="timetrack-types";
            }
            div class="field" {
                label for="personio_type_id" { "Personio type" }
                select id="personio_type_id" name="personio_type_id" {
                    @for t in &personio { option value=(plain(t.get("id").unwrap_or(&Value::Null))) { (text(t, "name")) } }
                }
            }
            div class="field" {
                label for="master" { "Master (wins conflicts)" }
                select id="master" name="master" {
                    option value="timetrack" { "TimeTrack" }
                    option value="personio" { "Personio" }
                }
            }
            div { button type="submit" { "Add mapping" } }
        }
        div class="columns" {
            section aria-labelledby="tt-heading" {
                h2 id="tt-heading" { "TimeTrack types seen" }
                p class="muted" {
                    "TimeTrack has no list of absence types; these occur on absences from "
                    (text(types, "timetrack_sampled_from")) " to " (text(types, "timetrack_sampled_to")) "."
                }
                table id="timetrack-types-table" {
                    thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Absences" } th scope="col" { "Mapped" } } }
                    tbody {
                        @for t in &timetrack {
                            @let mapped = t.get("mapped") == Some(&Value::Bool(true));
                            tr class=[(!mapped).then_some("highlight")] {
                                td { (plain(t.get("id").unwrap_or(&Value::Null))) }
                                td { (text(t, "name")) }
                                td { (plain(t.get("seen").unwrap_or(&Value::Null))) }
                                td { @if mapped { "yes" } @else { strong { "not mapped" } } }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="p-heading" {
                h2 id="p-heading" { "Personio types" }
                table id="personio-types-table" {
                    thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Category" } th scope="col" { "Unit" } } }
                    tbody {
                        @for t in &personio {
                            tr {
                                td { (plain(t.get("id").unwrap_or(&Value::Null))) }
                                td { (text(t, "name")) }
                                td { (text(t, "category")) }
                                td { (text(t, "unit")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/{id}/absence-types`.
pub async fn page(ctx: Ctx) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::AbsenceTypes, "see the absence types") {
        return page;
    }
    let frame = ctx.frame(Nav::AbsenceTypes);
    let types = ctx.api.get(&ctx.api_path("/absence-types")).await;
    let body = match (&ctx.settings, &types) {
        (Ok(settings), Ok(types)) => content(&frame, types, settings, None),
        (Err(p), _) | (_, Err(p)) => problem_box(p, true),
    };
    layout::page(&frame, "Absence types", body)
}

/// `POST /console/{id}/absence-types`: add or remove a mapping, then `PUT .../settings`.
pub async fn save(ctx: Ctx, Form(f): Form<MappingForm>) -> Response {
    if let Some(page) = ctx.refusal(
        Role::Admin,
        Nav::AbsenceTypes,
        "change the absence type mappings",
    ) {
        return page;
    }
    let frame = ctx.frame(Nav::AbsenceTypes);
    let mut settings = match &ctx.settings {
        Ok(s) => s.clone(),
        Err(p) => return layout::page(&frame, "Absence types", problem_box(p, true)),
    };
    let mut mappings: Vec<Value> = settings
        .pointer("/absences/type_mappings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if f.action == "remove" {
        if let Some(i) = f.index.filter(|i| *i < mappings.len()) {
            mappings.remove(i);
        }
    } else {
        // Numbers go as numbers; anything else as the text typed, so that the API names the field.
        let number = |s: &str| -> Value {
            s.trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(s.trim()))
        };
        let mut m = json!({
            "timetrack_type_id": number(&f.timetrack_type_id),
            "personio_type_id": f.personio_type_id,
            "master": if f.master == "personio" { "personio" } else { "timetrack" },
        });
        if !f.half_day_timetrack_type_id.trim().is_empty() {
            m["half_day_timetrack_type_id"] = number(&f.half_day_timetrack_type_id);
        }
        mappings.push(m);
    }
    if settings.get("absences").is_none_or(|a| !a.is_object()) {
        settings["absences"] = json!({});
    }
    settings["absences"]["type_mappings"] = Value::Array(mappings);
    match ctx.api.put(&ctx.api_path("/settings"), settings).await {
        Ok(_) => see_other(&ctx.page_path("/absence-types")),
        Err(p) => {
            let types = ctx
                .api
                .get(&ctx.api_path("/absence-types"))
                .await
                .unwrap_or(Value::Null);
            let current = ctx.settings.clone().unwrap_or(Value::Null);
            layout::page_with_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &frame,
                "Absence types",
                content(&frame, &types, &current, Some(&p)),
            )
        }
    }
}
