//! Connect: enter or replace both systems' credentials (never shown back), and the check of each side
//! with its reason in words.
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use super::layout::{self, problem_box, Frame, Nav};
use super::Ctx;
use crate::console::auth::Role;

#[derive(Deserialize)]
pub struct CredentialsForm {
    personio_client_id: String,
    personio_client_secret: String,
    timetrack_account: String,
    timetrack_api_key: String,
    timetrack_api_secret: String,
}

/// The fields: (name, label, secret).
const FIELDS: [(&str, &str, bool); 5] = [
    ("personio_client_id", "Personio client id", false),
    ("personio_client_secret", "Personio client secret", true),
    ("timetrack_account", "TimeTrack account", false),
    ("timetrack_api_key", "TimeTrack API key", true),
    ("timetrack_api_secret", "TimeTrack API secret", true),
];

fn form_markup(frame: &Frame<'_>) -> Markup {
    html! {
        form class="stack" method="post" action=(frame.href(Nav::Connect)) {
            (frame.csrf())
            fieldset {
                legend { "Credentials" }
                p class="muted" { "Stored in AWS Secrets Manager. Secrets are never shown again; enter all five to replace them." }
                @for (name, label, secret) in FIELDS {
                    div class="field" {
                        label for=(name) { (label) }
                        input type=(if secret { "password" } else { "text" }) id=(name) name=(name) autocomplete="off" required;
                    }
                }
            }
            div { button type="submit" { "Save and connect" } }
        }
        form method="post" action=(format!("{}/check", frame.href(Nav::Connect))) {
            (frame.csrf())
            button type="submit" class="secondary" { "Check the stored credentials again" }
        }
    }
}

fn report(answer: &Value) -> Markup {
    let side = |key: &str, name: &str| {
        let ok = answer.pointer(&format!("/{key}/ok")) == Some(&Value::Bool(true));
        let error = answer
            .pointer(&format!("/{key}/error"))
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        html! {
            tr {
                th scope="row" { (name) }
                @if ok { td class="ok" { "Connected." } } @else { td class="bad" { "Not connected: " (layout::sentence(error)) } }
            }
        }
    };
    html! {
        h2 { "Check" }
        table id="connect-report" {
            tbody { (side("personio", "Personio")) (side("timetrack", "TimeTrack")) }
        }
    }
}

/// `GET /console/{id}/connect`.
pub async fn form(ctx: Ctx) -> Response {
    if let Some(page) = ctx.refusal(Role::Viewer, Nav::Connect, "see this page") {
        return page;
    }
    let frame = ctx.frame(Nav::Connect);
    layout::page(&frame, "Connect", form_markup(&frame))
}

/// `POST /console/{id}/connect`: `PUT .../credentials`.
pub async fn store(ctx: Ctx, Form(f): Form<CredentialsForm>) -> Response {
    if let Some(page) = ctx.refusal(Role::Admin, Nav::Connect, "change the credentials") {
        return page;
    }
    let frame = ctx.frame(Nav::Connect);
    let body = json!({
        "personio_client_id": f.personio_client_id.trim(),
        "personio_client_secret": f.personio_client_secret,
        "timetrack_account": f.timetrack_account.trim(),
        "timetrack_api_key": f.timetrack_api_key,
        "timetrack_api_secret": f.timetrack_api_secret,
    });
    let content = match ctx.api.put(&ctx.api_path("/credentials"), body).await {
        Ok(answer) => html! {
            (layout::notice("The credentials are stored."))
            (report(&answer))
            (form_markup(&frame))
        },
        Err(p) => html! { (problem_box(&p, true)) (form_markup(&frame)) },
    };
    layout::page(&frame, "Connect", content)
}

/// `POST /console/{id}/connect/check`: `POST .../connect`.
pub async fn check(ctx: Ctx) -> Response {
    if let Some(page) = ctx.refusal(Role::Admin, Nav::Connect, "check the credentials") {
        return page;
    }
    let frame = ctx.frame(Nav::Connect);
    let content = match ctx.api.post(&ctx.api_path("/connect"), None).await {
        Ok(answer) => html! { (report(&answer.body)) (form_markup(&frame)) },
        Err(p) => html! { (problem_box(&p, true)) (form_markup(&frame)) },
    };
    layout::page(&frame, "Connect", content)
}
