//! The page frame every console page shares (header with the integration switcher and the user,
//! navigation bar, main area), and the pieces pages are made of: problems as sentences, local times,
//! the CSRF field.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use shared::domain::IntegrationId;
use shared::service::Problem;

use crate::console::session::Session;

/// The pages of the navigation bar, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Runs,
    Sync,
    Parked,
    Connect,
    Employees,
    AbsenceTypes,
    Settings,
    Schedules,
}

impl Nav {
    pub const ALL: [Nav; 8] = [
        Nav::Runs,
        Nav::Sync,
        Nav::Parked,
        Nav::Connect,
        Nav::Employees,
        Nav::AbsenceTypes,
        Nav::Settings,
        Nav::Schedules,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Nav::Runs => "Runs",
            Nav::Sync => "Sync now",
            Nav::Parked => "Parked records",
            Nav::Connect => "Connect",
            Nav::Employees => "Employees",
            Nav::AbsenceTypes => "Absence types",
            Nav::Settings => "Settings",
            Nav::Schedules => "Schedules",
        }
    }

    /// The page's path below `/console/{integration}/`.
    pub fn slug(self) -> &'static str {
        match self {
            Nav::Runs => "runs",
            Nav::Sync => "sync",
            Nav::Parked => "parked",
            Nav::Connect => "connect",
            Nav::Employees => "employees",
            Nav::AbsenceTypes => "absence-types",
            Nav::Settings => "settings",
            Nav::Schedules => "schedules",
        }
    }
}

/// What the frame of an integration's page shows.
pub struct Frame<'a> {
    pub session: &'a Session,
    pub integration: &'a IntegrationId,
    /// The integrations the switcher offers.
    pub integrations: &'a [IntegrationId],
    pub active: Nav,
    /// The integration's time zone (times are shown in it).
    pub tz: TimeZone,
}

impl Frame<'_> {
    pub fn href(&self, nav: Nav) -> String {
        format!("/console/{}/{}", self.integration, nav.slug())
    }

    /// The hidden CSRF field every form carries.
    pub fn csrf(&self) -> Markup {
        csrf_field(&self.session.csrf)
    }

    /// `ts` in the integration's time zone, e.g. `2026-03-02 14:05 CET`.
    pub fn time(&self, ts: &Timestamp) -> String {
        local_time(ts, &self.tz)
    }

    /// A timestamp given as JSON text, in the integration's time zone (the text itself if it is none).
    pub fn time_str(&self, ts: &str) -> String {
        ts.parse::<Timestamp>()
            .map(|t| self.time(&t))
            .unwrap_or_else(|_| ts.to_string())
    }
}

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

pub fn local_time(ts: &Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The HTML document around `body`.
pub fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Personio ⇄ TimeTrack console" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to content" }
                (body)
                script src="/console/assets/console.js" defer {}
            }
        }
    }
}

/// An integration's page: header, navigation, `content` under an `h1` of `title`.
pub fn page(frame: &Frame<'_>, title: &str, content: Markup) -> Response {
    page_with_status(StatusCode::OK, frame, title, content)
}

pub fn page_with_status(
    status: StatusCode,
    frame: &Frame<'_>,
    title: &str,
    content: Markup,
) -> Response {
    let identity = &frame.session.identity;
    let body = html! {
        header class="top" {
            span class="brand" { "Personio ⇄ TimeTrack" }
            form method="get" action="/console/switch" {
                label for="integration-switch" { "Integration" }
                select id="integration-switch" name="integration" {
                    @for id in frame.integrations {
                        option value=(id) selected[id == frame.integration] { (id) }
                    }
                }
                button type="submit" class="secondary" { "Open" }
            }
            span class="who" {
                "Signed in as " strong { (identity.username) }
                " (" (identity.role.map(|r| r.label()).unwrap_or("no console role")) ")"
            }
            form method="post" action="/console/sign-out" {
                (frame.csrf())
                button type="submit" class="secondary" { "Sign out" }
            }
        }
        nav class="main" aria-label="Console pages" {
            ul {
                @for nav in Nav::ALL {
                    li {
                        a href=(frame.href(nav)) aria-current=[(nav == frame.active).then_some("page")] { (nav.label()) }
                    }
                }
            }
        }
        main id="main" {
            h1 { (title) }
            (content)
        }
    };
    html_response(status, document(title, body))
}

/// A page without the frame (errors before an integration is known, refusals of the middleware).
pub fn status_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        header class="top" { span class="brand" { "Personio ⇄ TimeTrack" } }
        main id="main" {
            h1 { (title) }
            p { (message) }
            p { a href="/console" { "Back to the console" } }
        }
    };
    html_response(status, document(title, body))
}

pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The console's pages are never framed by another site, and scripts come only from itself.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `text` as a sentence: first letter upper case, ending with a full stop.
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out = match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A problem answer of the API, in words: its title, its detail as a sentence, and every field problem
/// (unless `with_fields` is false because the page shows them next to their fields).
pub fn problem_box(problem: &Problem, with_fields: bool) -> Markup {
    html! {
        div class="problem" role="alert" {
            strong { (problem.title) } ": " (sentence(&problem.detail))
            @if with_fields && !problem.errors.is_empty() {
                ul {
                    @for e in &problem.errors {
                        li { code { (e.field) } " — " (sentence(&e.message)) }
                    }
                }
            }
        }
    }
}

pub fn notice(text: &str) -> Markup {
    html! { div class="notice" role="status" { (text) } }
}

/// `PreEscaped` shorthand for the few fixed entities pages use.
pub fn raw(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_become_sentences() {
        assert_eq!(
            sentence("integration acme has no settings"),
            "Integration acme has no settings."
        );
        assert_eq!(sentence("Done!"), "Done!");
        assert_eq!(sentence("über den Jordan"), "Über den Jordan.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn times_are_shown_in_the_integrations_zone() {
        let ts: Timestamp = "2026-03-02T13:05:00Z".parse().unwrap();
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(local_time(&ts, &berlin), "2026-03-02 14:05 CET");
    }
}
