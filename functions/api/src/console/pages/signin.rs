//! Sign-in, the first-login new-password step, and sign-out.
//!
//! The sign-in forms are CSRF-protected too (against login CSRF): the sign-in page sets the CSRF
//! cookie when the browser has none, and both forms must echo it.
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, csrf_field, document, html_response};
use super::see_other;
use crate::console::session::{
    clear_cookie, new_csrf_token, read_cookie, same_token, secure_for, set_cookie, CookieKind,
    Session, REFRESH_COOKIE_SECONDS,
};
use crate::console::signin::{SignInError, SignInStep, Tokens};
use crate::console::Console;

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    reason: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    csrf: String,
    username: String,
    new_password: String,
    confirm_password: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a console path only (never another site).
fn safe_next(next: &str) -> String {
    if next.starts_with("/console/") && !next.starts_with("//") && !next.contains("://") {
        next.to_string()
    } else {
        "/console".to_string()
    }
}

fn reason_text(reason: Option<&str>) -> Option<&'static str> {
    match reason? {
        "expired" => Some("Your session has expired. Please sign in again."),
        "invalid" => Some("Your session was not accepted. Please sign in again."),
        "signed-out" => Some("Please sign in to use the console."),
        "bye" => Some("You are signed out."),
        _ => None,
    }
}

/// `GET /console/sign-in`.
pub async fn sign_in_form(headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    let secure = secure_for(&headers);
    let (csrf, fresh) = match read_cookie(&headers, CookieKind::Csrf, secure) {
        Some(c) => (c, false),
        None => (new_csrf_token(), true),
    };
    let next = safe_next(q.next.as_deref().unwrap_or_default());
    let notice = reason_text(q.reason.as_deref());
    let mut response = sign_in_page(StatusCode::OK, &csrf, &next, notice, None, "");
    if fresh {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(CookieKind::Csrf, &csrf, secure, None),
        );
    }
    response
}

fn sign_in_page(
    status: StatusCode,
    csrf: &str,
    next: &str,
    notice: Option<&str>,
    error: Option<&str>,
    username: &str,
) -> Response {
    let body = html! {
        header class="top" { span class="brand" { "Personio ⇄ TimeTrack" } }
        main id="main" class="sign-in" {
            h1 { "Sign in" }
            @if let Some(n) = notice { (layout::notice(n)) }
            @if let Some(e) = error { div class="problem" role="alert" { (e) } }
            form class="stack" method="post" action="/console/sign-in" {
                (csrf_field(csrf))
                input type="hidden" name="next" value=(next);
                div class="field" {
                    label for="username" { "User name or e-mail" }
                    input type="text" id="username" name="username" value=(username) autocomplete="username" required autofocus;
                }
                div class="field" {
                    label for="password" { "Password" }
                    input type="password" id="password" name="password" autocomplete="current-password" required;
                }
                div { button type="submit" { "Sign in" } }
            }
        }
    };
    html_response(status, document("Sign in", body))
}

fn new_password_page(
    status: StatusCode,
    csrf: &str,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let body: Markup = html! {
        header class="top" { span class="brand" { "Personio ⇄ TimeTrack" } }
        main id="main" class="sign-in" {
            h1 { "Choose a new password" }
            p { "This is your first sign-in with a temporary password. Choose your own password to continue." }
            @if let Some(e) = error { div class="problem" role="alert" { (e) } }
            form class="stack" method="post" action="/console/new-password" {
                (csrf_field(csrf))
                input type="hidden" name="next" value=(next);
                input type="hidden" name="username" value=(username);
                div class="field" {
                    label for="new_password" { "New password" }
                    input type="password" id="new_password" name="new_password" autocomplete="new-password" required autofocus;
                }
                div class="field" {
                    label for="confirm_password" { "Repeat the new password" }
                    input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required;
                }
                div { button type="submit" { "Set password and sign in" } }
            }
        }
    };
    html_response(status, document("Choose a new password", body))
}

/// The CSRF cookie, if the form's field carries the same token.
fn login_csrf(headers: &HeaderMap, sent: &str) -> Option<String> {
    read_cookie(headers, CookieKind::Csrf, secure_for(headers)).filter(|c| same_token(c, sent))
}

fn login_form_refused() -> Response {
    layout::status_page(
        StatusCode::FORBIDDEN,
        "Form refused",
        "The sign-in form did not carry this browser's security token. Reload the sign-in page and \
         try again.",
    )
}

/// `POST /console/sign-in`.
pub async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let Some(csrf) = login_csrf(&headers, &form.csrf) else {
        return login_form_refused();
    };
    let secure = secure_for(&headers);
    let next = safe_next(&form.next);
    match console
        .signin
        .password(form.username.trim(), &form.password)
        .await
    {
        Ok(SignInStep::Done(tokens)) => signed_in(&console, tokens, secure, &next).await,
        Ok(SignInStep::NewPasswordRequired { session }) => {
            let mut response =
                new_password_page(StatusCode::OK, &csrf, &next, form.username.trim(), None);
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(CookieKind::Challenge, &session, secure, Some(300)),
            );
            response
        }
        Err(e) => {
            let status = match e {
                SignInError::Refused => StatusCode::UNAUTHORIZED,
                SignInError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            tracing::info!(error = %e, "console sign-in failed");
            sign_in_page(
                status,
                &csrf,
                &next,
                None,
                Some(&layout::sentence(&e.to_string())),
                form.username.trim(),
            )
        }
    }
}

/// `POST /console/new-password`.
pub async fn new_password(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    let Some(csrf) = login_csrf(&headers, &form.csrf) else {
        return login_form_refused();
    };
    let secure = secure_for(&headers);
    let next = safe_next(&form.next);
    if form.new_password != form.confirm_password {
        return new_password_page(
            StatusCode::BAD_REQUEST,
            &csrf,
            &next,
            &form.username,
            Some("The two passwords differ. Type the same new password twice."),
        );
    }
    let Some(challenge) = read_cookie(&headers, CookieKind::Challenge, secure) else {
        return sign_in_page(
            StatusCode::BAD_REQUEST,
            &csrf,
            &next,
            None,
            Some("The sign-in has expired. Sign in with your temporary password again."),
            &form.username,
        );
    };
    match console
        .signin
        .new_password(&challenge, &form.username, &form.new_password)
        .await
    {
        Ok(SignInStep::Done(tokens)) => {
            let mut response = signed_in(&console, tokens, secure, &next).await;
            response.headers_mut().append(
                header::SET_COOKIE,
                clear_cookie(CookieKind::Challenge, secure),
            );
            response
        }
        Ok(SignInStep::NewPasswordRequired { .. }) => new_password_page(
            StatusCode::BAD_REQUEST,
            &csrf,
            &next,
            &form.username,
            Some("The sign-in service asked for a new password again; choose another one."),
        ),
        Err(e @ SignInError::PasswordRejected(_)) => new_password_page(
            StatusCode::BAD_REQUEST,
            &csrf,
            &next,
            &form.username,
            Some(&layout::sentence(&e.to_string())),
        ),
        Err(e) => sign_in_page(
            StatusCode::BAD_REQUEST,
            &csrf,
            &next,
            None,
            Some(&layout::sentence(&e.to_string())),
            &form.username,
        ),
    }
}

/// Sets the session cookies after the token was verified like any later request's.
async fn signed_in(console: &Console, tokens: Tokens, secure: bool, next: &str) -> Response {
    if let Err(e) = console.verifier.verify(&tokens.id_token).await {
        tracing::warn!(error = %e, "a fresh Cognito token was not accepted");
        return layout::status_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in failed",
            "The sign-in service issued a token this console does not accept. Ask the administrator \
             to check the user pool settings.",
        );
    }
    let mut response = see_other(next);
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(CookieKind::IdToken, &tokens.id_token, secure, None),
    );
    if let Some(refresh) = &tokens.refresh_token {
        h.append(
            header::SET_COOKIE,
            set_cookie(
                CookieKind::RefreshToken,
                refresh,
                secure,
                Some(REFRESH_COOKIE_SECONDS),
            ),
        );
    }
    response
}

/// `POST /console/sign-out`: revokes the refresh token (best effort) and deletes the session cookies.
pub async fn sign_out(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
) -> Response {
    let secure = session.secure;
    if let Some(refresh) = read_cookie(&headers, CookieKind::RefreshToken, secure) {
        if let Err(e) = console.signin.revoke(&refresh).await {
            tracing::info!(error = %e, "refresh token not revoked at sign-out");
        }
    }
    let mut response = see_other("/console/sign-in?reason=bye");
    for kind in [
        CookieKind::IdToken,
        CookieKind::RefreshToken,
        CookieKind::Challenge,
    ] {
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear_cookie(kind, secure));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_the_browser_goes_only_to_a_console_page() {
        assert_eq!(safe_next("/console/acme/runs"), "/console/acme/runs");
        assert_eq!(safe_next("https://evil.example/"), "/console");
        assert_eq!(safe_next("//evil.example/console/"), "/console");
        assert_eq!(safe_next(""), "/console");
    }
}
