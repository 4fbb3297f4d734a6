//! The console session: cookies, the CSRF check, and the middleware that lets only signed-in users
//! through.
//!
//! - The Cognito ID token and refresh token live in `HttpOnly`, `SameSite=Strict` cookies, `Secure` and
//!   `__Host-`-prefixed unless the request came to a loopback host (the local demo on 127.0.0.1 speaks
//!   plain HTTP, where a browser would drop a `Secure` cookie).
//! - An expired ID token is renewed with the refresh token (`REFRESH_TOKEN_AUTH`) on the next request,
//!   and the new token is set on the response; without a refresh token, or when renewal is refused, the
//!   user is sent to the sign-in page.
//! - CSRF: a random token, set as a cookie at the first visit of the sign-in page and embedded in
//!   every form; every `POST` must carry it as the `csrf` field (double-submit cookie). Together with
//!   `SameSite=Strict` a cross-site form cannot act in the user's name. The check runs here, for every
//!   `POST` under the session, so that no handler can forget it.
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use rand::RngCore;

use super::auth::{AuthError, Identity};
use super::pages::layout;
use super::Console;

/// A signed-in request: who, the CSRF token to embed in forms, and whether cookies are `Secure`.
#[derive(Debug, Clone)]
pub struct Session {
    pub identity: Identity,
    pub csrf: String,
    pub secure: bool,
}

/// The cookies of a session.
#[derive(Debug, Clone, Copy)]
pub enum CookieKind {
    IdToken,
    RefreshToken,
    Csrf,
    /// Cognito's session for the new-password challenge, between the two sign-in steps.
    Challenge,
}

impl CookieKind {
    pub fn name(self, secure: bool) -> &'static str {
        match (self, secure) {
            (CookieKind::IdToken, true) => "__Host-console-id",
            (CookieKind::IdToken, false) => "console-id",
            (CookieKind::RefreshToken, true) => "__Host-console-refresh",
            (CookieKind::RefreshToken, false) => "console-refresh",
            (CookieKind::Csrf, true) => "__Host-console-csrf",
            (CookieKind::Csrf, false) => "console-csrf",
            (CookieKind::Challenge, true) => "__Host-console-challenge",
            (CookieKind::Challenge, false) => "console-challenge",
        }
    }
}

/// Whether cookies may be `Secure`: everywhere except a loopback host (`127.0.0.1`, `localhost`,
/// `[::1]`), which the local demo serves over plain HTTP.
pub fn secure_for(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    !(name == "127.0.0.1" || name == "localhost" || name == "::1")
}

/// The value of cookie `kind` in the request, if present and non-empty.
pub fn read_cookie(headers: &HeaderMap, kind: CookieKind, secure: bool) -> Option<String> {
    let wanted = kind.name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == wanted)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` when `secure`. `max_age`
/// in seconds; `None` = a session cookie; `Some(0)` deletes it.
pub fn set_cookie(
    kind: CookieKind,
    value: &str,
    secure: bool,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut c = Cookie::build((kind.name(secure), value.to_string()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/");
    if let Some(seconds) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(seconds));
    }
    // A cookie built from our own names and token characters is always a valid header value.
    HeaderValue::from_str(&c.build().to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// Deletes cookie `kind`.
pub fn clear_cookie(kind: CookieKind, secure: bool) -> HeaderValue {
    set_cookie(kind, "", secure, Some(0))
}

/// How long the refresh-token cookie lives (Cognito's default refresh-token validity).
pub const REFRESH_COOKIE_SECONDS: i64 = 30 * 24 * 3600;

/// A fresh CSRF token: 32 random bytes, hex.
pub fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Equal strings, compared in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The `csrf` field of a URL-encoded form body.
pub fn form_csrf(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

/// Largest console form accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Middleware of every console route behind the sign-in: verifies (or renews) the session, checks the
/// CSRF token of a `POST`, and puts the [`Session`] into the request's extensions.
pub async fn require_session(
    State(console): State<Console>,
    request: Request,
    next: Next,
) -> Response {
    let secure = secure_for(request.headers());
    // The console is nested under `/console`, which the nested router's URI no longer shows.
    let back_to = format!(
        "/console{}",
        request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_default()
    );
    let to_sign_in = |reason: &str, clear: bool| {
        let target = format!(
            "/console/sign-in?reason={reason}&next={}",
            url::form_urlencoded::byte_serialize(back_to.as_bytes()).collect::<String>()
        );
        let mut response = Redirect::to(&target).into_response();
        if clear {
            for kind in [CookieKind::IdToken, CookieKind::RefreshToken] {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, clear_cookie(kind, secure));
            }
        }
        response
    };
    let headers = request.headers();
    let Some(csrf) = read_cookie(headers, CookieKind::Csrf, secure) else {
        return to_sign_in("signed-out", false);
    };
    let id_token = read_cookie(headers, CookieKind::IdToken, secure);
    let refresh_token = read_cookie(headers, CookieKind::RefreshToken, secure);
    let mut renewed: Option<String> = None;
    let verified = match id_token.as_deref() {
        None if refresh_token.is_none() => return to_sign_in("signed-out", false),
        // The ID-token cookie ended with the browser session; the refresh token may renew it.
        None => Err(AuthError::Expired(jiff::Timestamp::UNIX_EPOCH)),
        Some(token) => console.verifier.verify(token).await,
    };
    let identity = match verified {
        Ok(identity) => identity,
        Err(AuthError::Expired(_)) => {
            // Renew with the refresh token; without one, or when renewal is refused, sign in again.
            let Some(refresh) = refresh_token.as_deref() else {
                return to_sign_in("expired", true);
            };
            match console.signin.refresh(refresh).await {
                Ok(tokens) => match console.verifier.verify(&tokens.id_token).await {
                    Ok(identity) => {
                        renewed = Some(tokens.id_token);
                        identity
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "a renewed console token was not accepted");
                        return to_sign_in("invalid", true);
                    }
                },
                Err(e) => {
                    tracing::info!(error = %e, "console session could not be renewed");
                    return to_sign_in("expired", true);
                }
            }
        }
        Err(AuthError::KeySet(e)) => {
            tracing::error!(error = %e, "the user pool's keys could not be read");
            return layout::status_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is not available",
                "The console could not check your session with the sign-in service. Try again in a minute.",
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "console session token refused");
            return to_sign_in("invalid", true);
        }
    };
    let mut request = request;
    if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return layout::status_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Form too large",
                    "The form sent more than 64 KiB; nothing was changed.",
                )
            }
        };
        let sent = form_csrf(&bytes);
        if !sent.as_deref().is_some_and(|s| same_token(s, &csrf)) {
            tracing::warn!(path = %parts.uri.path(), "console form without a valid CSRF token refused");
            return layout::status_page(
                StatusCode::FORBIDDEN,
                "Form refused",
                "The form did not carry this session's security token (it may come from another site, \
                 or from before you signed in again). Nothing was changed; reload the page and try again.",
            );
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    request.extensions_mut().insert(Session {
        identity,
        csrf,
        secure,
    });
    let mut response = next.run(request).await;
    if let Some(token) = renewed {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(CookieKind::IdToken, &token, secure, None),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::HOST, HeaderValue::from_str(h).unwrap());
        m
    }

    #[test]
    fn cookies_are_secure_except_on_loopback() {
        assert!(!secure_for(&host("127.0.0.1:8080")));
        assert!(!secure_for(&host("localhost:3000")));
        assert!(!secure_for(&host("[::1]:8080")));
        assert!(secure_for(&host(
            "abc.execute-api.eu-central-1.amazonaws.com"
        )));
        assert!(secure_for(&host("127.0.0.1.evil.example")));
    }

    #[test]
    fn session_cookies_are_http_only_and_strict() {
        let c = set_cookie(CookieKind::IdToken, "tok", true, None);
        let c = c.to_str().unwrap();
        assert!(c.starts_with("__Host-console-id=tok"), "{c}");
        for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        let local = set_cookie(CookieKind::IdToken, "tok", false, None);
        assert!(!local.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn the_csrf_field_is_read_from_the_form_and_compared_whole() {
        assert_eq!(form_csrf(b"a=1&csrf=abc%20d").as_deref(), Some("abc d"));
        assert_eq!(form_csrf(b"a=1"), None);
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
        assert_ne!(new_csrf_token(), new_csrf_token());
    }

    #[test]
    fn a_cookie_is_read_by_its_name() {
        let mut m = HeaderMap::new();
        m.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; console-id=tok; console-csrf="),
        );
        assert_eq!(
            read_cookie(&m, CookieKind::IdToken, false).as_deref(),
            Some("tok")
        );
        assert_eq!(read_cookie(&m, CookieKind::Csrf, false), None);
        assert_eq!(read_cookie(&m, CookieKind::IdToken, true), None);
    }
}
