//! Property: whatever arrives — any method, path, headers, content type, body — the router never
//! answers 5xx (nor panics), and every 4xx is an `application/problem+json` problem with a stable type.
mod api_support;

use api_support::{send, Harness, PROBLEM_JSON};
use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tower::ServiceExt;

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_string()),
        Just("POST".to_string()),
        Just("PUT".to_string()),
        Just("DELETE".to_string()),
        Just("PATCH".to_string()),
        Just("OPTIONS".to_string()),
        Just("HEAD".to_string()),
        "[A-Z]{1,10}",
    ]
}

fn segment(id: String) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("integrations".to_string()),
        Just(id),
        Just("nobody".to_string()),
        Just("sync".to_string()),
        Just("employees".to_string()),
        Just("time-entries".to_string()),
        Just("absences".to_string()),
        Just("runs".to_string()),
        Just("settings".to_string()),
        Just("credentials".to_string()),
        Just("connect".to_string()),
        Just("candidates".to_string()),
        Just("absence-types".to_string()),
        Just("workflows".to_string()),
        Just("schedule".to_string()),
        Just("openapi.json".to_string()),
        Just("parked".to_string()),
        Just("release".to_string()),
        Just("employee".to_string()),
        Just("time_entry".to_string()),
        "[a-zA-Z0-9._~-]{0,12}",
        // percent-encoded arbitrary bytes (invalid UTF-8 included)
        proptest::collection::vec(any::<u8>(), 1..6)
            .prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect()),
    ]
}

/// A route of the API's table with each `{param}` replaced by a random segment, or random segments.
fn path(id: String) -> impl Strategy<Value = String> {
    let templated = (
        proptest::sample::select(api::ROUTES.to_vec()),
        segment(id.clone()),
        segment(id.clone()),
        segment(id.clone()),
    )
        .prop_map(|(route, a, b, c)| {
            route
                .path
                .replace("{integration_id}", &a)
                .replace("{workflow}", &b)
                .replace("{run_id}", &c)
                .replace("{kind}", &b)
                .replace("{mapping_id}", &c)
        });
    let random = proptest::collection::vec(segment(id), 0..7)
        .prop_map(|segments| format!("/{}", segments.join("/")));
    (
        prop_oneof![templated, random],
        proptest::option::of("[a-z]{1,6}=[a-zA-Z0-9%]{0,8}(&[a-z]{1,6}=[a-zA-Z0-9]{0,8}){0,3}"),
    )
        .prop_map(|(mut p, query)| {
            if let Some(q) = query {
                p.push('?');
                p.push_str(&q);
            }
            p
        })
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_string())),
        Just(Some("application/json; charset=utf-8".to_string())),
        Just(Some("application/problem+json".to_string())),
        Just(Some("text/plain".to_string())),
        Just(Some("multipart/form-data; boundary=x".to_string())),
        "[ -~]{0,30}".prop_map(Some),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        proptest::collection::vec(any::<u8>(), 0..200),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        Just(b"{}".to_vec()),
        Just(br#"{"dry_run": true}"#.to_vec()),
        Just(br#"{"expression": "rate(1 hour)", "enabled": true}"#.to_vec()),
        Just(br#"{"from": "2026-02-30", "direction": 7}"#.to_vec()),
        Just(br#"[1, 2, {"a": null}]"#.to_vec()),
        (1usize..4).prop_map(|n| vec![b'7'; n * 40 * 1024]),
    ]
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(("x-[a-z]{1,10}", "[ -~]{0,40}"), 0..4)
}

#[test]
fn malformed_requests_never_get_a_5xx_and_every_4xx_is_a_problem() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let h = runtime.block_on(Harness::start());
    let strategy = (
        method(),
        path(h.id.as_str().to_string()),
        content_type(),
        body(),
        extra_headers(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(method, path, ct, body, headers)| {
        let mut builder = Request::builder()
            .method(method.as_str())
            .uri(path.as_str());
        if let Some(ct) = &ct {
            builder = builder.header("content-type", ct.as_str());
        }
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let Ok(request) = builder.body(Body::from(body.clone())) else {
            // Not a request HTTP could carry (e.g. an invalid header value): nothing to test.
            return Ok(());
        };
        let response = runtime
            .block_on(h.router.clone().oneshot(request))
            .map_err(|e| TestCaseError::fail(format!("router error: {e}")))?;
        let answer = runtime.block_on(api_support::read(response));
        let status = answer.status.as_u16();
        if std::env::var_os("API_PROPS_TRACE").is_some() {
            eprintln!("{method} {path} -> {status}");
        }
        prop_assert!(
            status < 500,
            "{method} {path} ({ct:?}) → {status}: {}",
            answer.text
        );
        if status >= 400 {
            prop_assert_eq!(answer.content_type.as_deref(), Some(PROBLEM_JSON));
            if method != "HEAD" {
                prop_assert_eq!(answer.json["status"].as_u64(), Some(u64::from(status)));
                let ty = answer.json["type"].as_str().unwrap_or_default();
                prop_assert!(
                    ty.starts_with("urn:personio-timetrack-sync:problem:"),
                    "{} {} → {}",
                    method,
                    path,
                    answer.text
                );
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The harness still works after all of that.
    let answer = runtime.block_on(send(&h.router, "GET", "/openapi.json", None));
    answer.assert_ok();
}

/// The same property over a real socket: the router served by `axum::serve` on 127.0.0.1 (as
/// `api --listen` serves it for local runs and the demo), requests sent by an HTTP client, so hyper's
/// parsing and the body limit on a streamed body are part of what is checked.
#[test]
fn malformed_requests_to_the_local_server_never_get_a_5xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let h = runtime.block_on(Harness::start());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind a local port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let app = h.router.clone();
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = reqwest::Client::new();
    let strategy = (
        method(),
        path(h.id.as_str().to_string()),
        content_type(),
        body(),
        extra_headers(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(method, path, ct, body, headers)| {
        let Ok(m) = reqwest::Method::from_bytes(method.as_bytes()) else {
            return Ok(());
        };
        let mut request = client.request(m, format!("{base}{path}"));
        if let Some(ct) = &ct {
            request = request.header("content-type", ct.as_str());
        }
        for (k, v) in &headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let Ok(request) = request.body(body.clone()).build() else {
            // Not a request HTTP could carry (e.g. an invalid header value): nothing to test.
            return Ok(());
        };
        let response = runtime
            .block_on(client.execute(request))
            .map_err(|e| TestCaseError::fail(format!("{method} {path}: transport error {e}")))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = runtime.block_on(response.text()).unwrap_or_default();
        prop_assert!(status < 500, "{method} {path} ({ct:?}) → {status}: {text}");
        if status >= 400 {
            prop_assert_eq!(
                content_type.as_deref(),
                Some(PROBLEM_JSON),
                "{} {}",
                method,
                path
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
