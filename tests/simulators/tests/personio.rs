//! Contract tests of the Personio simulator, over real HTTP with reqwest.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use simulators::personio::model::{AttendanceStatus, AttendanceType};
use simulators::{Fault, FaultRule, PersonioConfig, PersonioSim, RateLimit, Seed};

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 27)
}

async fn company_sim() -> PersonioSim {
    PersonioSim::start(PersonioConfig::default(), &Seed::company(today()))
        .await
        .expect("simulator starts")
}

async fn empty_sim() -> PersonioSim {
    PersonioSim::start(PersonioConfig::default(), &Seed::empty())
        .await
        .expect("simulator starts")
}

async fn token_for(sim: &PersonioSim) -> String {
    let config = PersonioConfig::default();
    let response = Client::new()
        .post(format!("{}/v2/auth/token", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// An authorised client for one simulator.
struct Api {
    base: String,
    token: String,
    http: Client,
}

impl Api {
    async fn new(sim: &PersonioSim) -> Api {
        Api {
            base: sim.base_url(),
            token: token_for(sim).await,
            http: Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    async fn delete(&self, path: &str) -> StatusCode {
        self.http
            .delete(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Follows `next` links (relative or absolute) and returns every item.
    async fn all_pages(&self, first: &str) -> (Vec<Value>, Vec<String>) {
        let mut items = Vec::new();
        let mut nexts = Vec::new();
        let mut path = first.to_string();
        loop {
            let (status, body) = self.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            items.extend(body["_data"].as_array().unwrap().iter().cloned());
            match body["_meta"]["links"]["next"]["href"].as_str() {
                Some(next) => {
                    nexts.push(next.to_string());
                    path = next.to_string();
                }
                None => return (items, nexts),
            }
        }
    }
}

fn first_error(body: &Value) -> (&str, &str) {
    (
        body["errors"][0]["title"].as_str().unwrap_or_default(),
        body["errors"][0]["detail"].as_str().unwrap_or_default(),
    )
}

// ---------------- authentication ----------------

#[tokio::test]
async fn token_is_issued_for_form_encoded_client_credentials() {
    let sim = empty_sim().await;
    let response = Client::new()
        .post(format!("{}/v2/auth/token", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "papi-sim-client-id"),
            ("client_secret", "papi-sim-client-secret"),
            ("scope", "personio:persons:read personio:absences:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().unwrap().starts_with("papi-"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
    assert_eq!(
        body["scope"],
        "personio:persons:read personio:absences:read"
    );
}

async fn token_error(sim: &PersonioSim, form: &[(&str, &str)]) -> Value {
    let response = Client::new()
        .post(format!("{}/v2/auth/token", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn token_endpoint_answers_the_documented_oauth_errors() {
    let sim = empty_sim().await;
    let missing = token_error(
        &sim,
        &[("grant_type", "client_credentials"), ("client_id", "x")],
    )
    .await;
    assert_eq!(missing["error"], "invalid_request");
    assert_eq!(
        missing["meta"]["missing_parameters"],
        json!(["client_secret"])
    );

    let unknown = token_error(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "papi-someone-else"),
            ("client_secret", "papi-sim-client-secret"),
        ],
    )
    .await;
    assert_eq!(unknown["error"], "invalid_client");

    let wrong_secret = token_error(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "papi-sim-client-id"),
            ("client_secret", "guess"),
        ],
    )
    .await;
    assert_eq!(wrong_secret["error"], "unauthorized_client");
    assert!(!wrong_secret.to_string().contains("guess"));

    let bad_grant = token_error(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", "papi-sim-client-id"),
            ("client_secret", "papi-sim-client-secret"),
        ],
    )
    .await;
    assert_eq!(bad_grant["error"], "invalid_grant");

    let json_body = Client::new()
        .post(format!("{}/v2/auth/token", sim.base_url()))
        .json(&json!({"grant_type": "client_credentials", "client_id": "papi-sim-client-id", "client_secret": "papi-sim-client-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    let body: Value = json_body.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("application/x-www-form-urlencoded"));
}

#[tokio::test]
async fn resources_need_a_valid_bearer_token() {
    let sim = company_sim().await;
    let url = format!("{}/v2/persons", sim.base_url());
    let missing = Client::new().get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = missing.json().await.unwrap();
    assert!(body["personio_trace_id"].is_string());
    assert_eq!(first_error(&body).0, "Unauthorized");

    let invalid = Client::new()
        .get(&url)
        .bearer_auth("papi-made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNAUTHORIZED);

    let api = Api::new(&sim).await;
    assert_eq!(api.get("/v2/persons").await.0, StatusCode::OK);
    sim.revoke_tokens();
    assert_eq!(api.get("/v2/persons").await.0, StatusCode::UNAUTHORIZED);
    let fresh = Api::new(&sim).await;
    assert_eq!(fresh.get("/v2/persons").await.0, StatusCode::OK);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let config = PersonioConfig {
        token_ttl: Duration::ZERO,
        ..PersonioConfig::default()
    };
    let sim = PersonioSim::start(config, &Seed::empty()).await.unwrap();
    let api = Api::new(&sim).await;
    let (status, body) = api.get("/v2/persons").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(first_error(&body).1.contains("expired"));
}

// ---------------- persons and employments ----------------

#[tokio::test]
async fn persons_page_with_relative_next_links_and_opaque_cursors() {
    let sim = company_sim().await;
    let api = Api::new(&sim).await;
    let (items, nexts) = api.all_pages("/v2/persons").await;
    let total = sim.state().persons.len();
    assert_eq!(items.len(), total);
    assert_eq!(nexts.len(), total.div_ceil(10) - 1);
    assert!(nexts
        .iter()
        .all(|n| n.starts_with("/v2/persons?cursor=cur_")));
    let mut ids: Vec<&str> = items.iter().map(|p| p["id"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), total);

    // The cursor carries filters and limit; filters resent beside it are ignored.
    let (_, first) = api.get("/v2/persons?limit=2&status=ACTIVE").await;
    let next = first["_meta"]["links"]["next"]["href"].as_str().unwrap();
    let (status, second) = api.get(&format!("{next}&status=INACTIVE&limit=50")).await;
    assert_eq!(status, StatusCode::OK);
    let page = second["_data"].as_array().unwrap();
    assert_eq!(page.len(), 2);
    assert!(page.iter().all(|p| p["status"] == "ACTIVE"));

    let (status, body) = api.get("/v2/persons?cursor=invalid-cursor-string").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error(&body).0, "Bad request");
    assert_eq!(
        api.get("/v2/persons?limit=51").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.get("/v2/persons?limit=0").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn persons_filters_and_their_errors() {
    let sim = company_sim().await;
    let api = Api::new(&sim).await;
    let (_, body) = api
        .get("/v2/persons?email=ZOE.SCHAEFER@acme.example,lena.vogt@acme.example")
        .await;
    let names: Vec<&str> = body["_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Zoë", "Lena"]);

    let (_, inactive) = api.get("/v2/persons?status=INACTIVE").await;
    assert_eq!(inactive["_data"][0]["last_name"], "Löwe");
    assert_eq!(inactive["_data"].as_array().unwrap().len(), 1);

    let (_, recent) = api
        .get("/v2/persons?created_at.gt=2026-11-25T00:00:00Z")
        .await;
    assert_eq!(recent["_data"][0]["first_name"], "Niklas");
    assert_eq!(recent["_data"].as_array().unwrap().len(), 1);

    let (status, body) = api.get("/v2/persons?id.nooperator=1001").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error(&body).1, "Provided filter encoding is invalid.");
    let (status, body) = api.get("/v2/persons?created_at.lt=wrong-date-format").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        first_error(&body).1,
        "Provided request parameters are invalid."
    );
}

#[tokio::test]
async fn person_lifecycle_create_read_patch_delete() {
    let sim = company_sim().await;
    let api = Api::new(&sim).await;
    let (status, body) = api.post("/v2/persons", json!({"first_name": "Ada"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = api
        .post(
            "/v2/persons",
            json!({"first_name": "Jürgen", "last_name": "Doppel", "email": "Juergen.Mueller@acme.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "e-mail is unique");

    let (status, created) = api
        .post(
            "/v2/persons",
            json!({"first_name": "Uwe", "last_name": "Kühn", "email": "uwe.kuehn@acme.example",
                   "gender": "MALE", "custom_attributes": [{"id": "dynamic_8462301.personal_number", "value": 1100}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["_meta"]["links"]["self"]["href"],
        format!("{}/v2/persons/{id}", sim.base_url())
    );
    let (status, person) = api.get(&format!("/v2/persons/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(person["last_name"], "Kühn");
    assert_eq!(person["status"], "ACTIVE");
    assert_eq!(person["custom_attributes"][0]["value"], 1100);
    let before = person["updated_at"].as_str().unwrap().to_string();

    let (status, _) = api
        .patch(
            &format!("/v2/persons/{id}"),
            json!({"first_name": "Uwe-Karl"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, person) = api.get(&format!("/v2/persons/{id}")).await;
    assert_eq!(person["first_name"], "Uwe-Karl");
    assert!(person["updated_at"].as_str().unwrap() > before.as_str());

    let (status, employments) = api.get(&format!("/v2/persons/{id}/employments")).await;
    assert_eq!(status, StatusCode::OK);
    let employment_id = employments["_data"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = api
        .patch(
            &format!("/v2/persons/{id}/employments/{employment_id}"),
            json!({"status": "INACTIVE", "weekly_working_hours": 20}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, employment) = api
        .get(&format!("/v2/persons/{id}/employments/{employment_id}"))
        .await;
    assert_eq!(employment["weekly_working_hours"], 20.0);
    let (_, person) = api.get(&format!("/v2/persons/{id}")).await;
    assert_eq!(person["status"], "INACTIVE");
    let (status, _) = api
        .patch(
            &format!("/v2/persons/{id}/employments/{employment_id}"),
            json!({"termination": {"type": "QUIT"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    assert_eq!(
        api.delete(&format!("/v2/persons/{id}")).await,
        StatusCode::NO_CONTENT
    );
    let (status, body) = api.get(&format!("/v2/persons/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(first_error(&body).0, "Resource not found");
}

#[tokio::test]
async fn unknown_routes_answer_not_found() {
    let sim = empty_sim().await;
    let api = Api::new(&sim).await;
    let (status, body) = api.get("/v2/absence-period").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(first_error(&body).0, "Not Found");
    assert_eq!(
        first_error(&body).1,
        "The endpoint with /v2/absence-period was not found."
    );
}

// ---------------- attendance periods ----------------

#[tokio::test]
async fn attendance_pages_carry_absolute_next_links() {
    let sim = company_sim().await;
    let api = Api::new(&sim).await;
    let (items, nexts) = api.all_pages("/v2/attendance-periods?limit=100").await;
    let total = sim.state().attendance_periods.len();
    assert!(total > 300, "the seed holds a month of attendances");
    assert_eq!(items.len(), total);
    assert!(!nexts.is_empty());
    let absolute = format!("{}/v2/attendance-periods?cursor=", sim.base_url());
    assert!(nexts.iter().all(|n| n.starts_with(&absolute)));
    // Default order: person, start.
    let keys: Vec<(usize, String, String)> = items
        .iter()
        .map(|a| {
            let person = a["person"]["id"].as_str().unwrap().to_string();
            (
                person.len(),
                person,
                a["start"]["date_time"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn attendance_filters_and_query_errors() {
    let sim = company_sim().await;
    let api = Api::new(&sim).await;
    let (status, body) = api
        .get("/v2/attendance-periods?person.id=1002,1003&start.date_time.gte=2026-11-20T00:00:00&start.date_time.lte=2026-11-26T23:59:59")
        .await;
    assert_eq!(status, StatusCode::OK);
    let data = body["_data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(data.iter().all(|a| {
        let person = a["person"]["id"].as_str().unwrap();
        let start = a["start"]["date_time"].as_str().unwrap();
        (person == "1002" || person == "1003")
            && ("2026-11-20"..="2026-11-26T23:59:59").contains(&start)
    }));
    let ids: Vec<&str> = data
        .iter()
        .take(2)
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let (_, by_id) = api
        .get(&format!(
            "/v2/attendance-periods?id={}&id={}",
            ids[0], ids[1]
        ))
        .await;
    assert_eq!(by_id["_data"].as_array().unwrap().len(), 2);

    for bad in [
        "/v2/attendance-periods?updated_at.gte=2023-01-01T12:00:00Z",
        "/v2/attendance-periods?start.date_time.gte=2025-03-03T08:00:00%2B01:00",
        "/v2/attendance-periods?start.date_time.gte=tomorrow",
        "/v2/attendance-periods?starts_at=2025-03-03T08:00:00",
    ] {
        let (status, body) = api.get(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(first_error(&body).1, "Invalid request content.", "{bad}");
    }
}

fn period(person: &str, kind: &str, start: &str, end: &str) -> Value {
    json!({"person": {"id": person}, "type": kind, "start": {"date_time": start}, "end": {"date_time": end}})
}

#[tokio::test]
async fn attendance_writes_are_validated() {
    let sim = empty_sim().await;
    let person = sim
        .state()
        .add_person("Björn", "Weiß", Some("bjoern@example.com"));
    let api = Api::new(&sim).await;
    let post = |body: Value| {
        let api = &api;
        async move { api.post("/v2/attendance-periods", body).await }
    };

    let (status, body) = post(period(
        &person,
        "WORK",
        "2026-11-02T17:00:00",
        "2026-11-02T09:00:00",
    ))
    .await;
    assert_eq!(
        (status, first_error(&body).0),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Start date greater than end date"
        )
    );
    let (status, body) = post(period(
        &person,
        "WORK",
        "2026-11-02T09:00:00",
        "2026-11-03T10:00:00",
    ))
    .await;
    assert_eq!(
        (status, first_error(&body).0),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Period time range too long"
        )
    );
    let mut with_project = period(
        &person,
        "BREAK",
        "2026-11-02T12:00:00",
        "2026-11-02T12:30:00",
    );
    with_project["project"] = json!({"id": "p-1"});
    let (status, body) = post(with_project).await;
    assert_eq!(
        (status, first_error(&body).0),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Break periods with project"
        )
    );
    let (status, _) = post(period(
        &person,
        "WORK",
        "2026-11-02T09:00:00Z",
        "2026-11-02T17:00:00Z",
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = post(json!({"person": {"id": person}, "type": "NAP", "start": {"date_time": "2026-11-02T09:00:00"}})).await;
    assert_eq!(
        (status, first_error(&body).1),
        (StatusCode::BAD_REQUEST, "Invalid type field")
    );
    let (status, body) = post(json!({"type": "WORK"})).await;
    assert_eq!(
        (status, first_error(&body).1),
        (StatusCode::BAD_REQUEST, "Missing required parameters")
    );
    let (status, body) = post(period(
        &person,
        "WORK",
        "2026-11-02T22:00:00",
        "2026-11-03T06:00:00",
    ))
    .await;
    assert_eq!(
        (status, first_error(&body).0),
        (StatusCode::UNPROCESSABLE_ENTITY, "Period crosses midnight")
    );

    let (status, work) = post(period(
        &person,
        "WORK",
        "2026-11-02T09:00:00",
        "2026-11-02T17:00:00",
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = post(period(
        &person,
        "WORK",
        "2026-11-02T16:00:00",
        "2026-11-02T18:00:00",
    ))
    .await;
    assert_eq!(
        (status, first_error(&body).0),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Overlapping attendance periods"
        )
    );
    let (status, _) = post(period(
        &person,
        "BREAK",
        "2026-11-02T12:00:00",
        "2026-11-02T12:30:00",
    ))
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a break may lie inside working time"
    );
    let (status, _) = post(period(
        &person,
        "BREAK",
        "2026-11-02T12:15:00",
        "2026-11-02T12:45:00",
    ))
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "breaks may not overlap breaks"
    );
    let (status, _) = post(period(
        &person,
        "WORK",
        "2026-11-02T17:00:00",
        "2026-11-03T00:00:00",
    ))
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "ending exactly at midnight is allowed"
    );

    let id = work["id"].as_str().unwrap();
    let (status, stored) = api.get(&format!("/v2/attendance-periods/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["approval"]["status"], "PENDING");
    assert_eq!(stored["start"]["date_time"], "2026-11-02T09:00:00");
    assert_eq!(stored["attribution_date"], "2026-11-02");

    sim.state().rules.reject_midnight_crossing = false;
    let (status, _) = post(period(
        &person,
        "WORK",
        "2026-11-05T22:00:00",
        "2026-11-06T06:00:00",
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn approved_attendance_is_locked_and_skip_approval_confirms() {
    let sim = empty_sim().await;
    let person = sim.state().add_person("Lena", "Vogt", None);
    let api = Api::new(&sim).await;
    let (status, confirmed) = api
        .post(
            "/v2/attendance-periods?skip_approval=true",
            period(
                &person,
                "WORK",
                "2026-11-02T09:00:00",
                "2026-11-02T17:00:00",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let confirmed = confirmed["id"].as_str().unwrap().to_string();
    assert_eq!(
        sim.state().attendance_periods[&confirmed].approval.status,
        AttendanceStatus::Confirmed
    );
    let (status, body) = api
        .patch(
            &format!("/v2/attendance-periods/{confirmed}"),
            json!({"comment": "changed"}),
        )
        .await;
    assert_eq!(
        (status, first_error(&body).0),
        (StatusCode::UNPROCESSABLE_ENTITY, "Period is approved")
    );
    assert_eq!(
        api.delete(&format!("/v2/attendance-periods/{confirmed}"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let pending = sim.state().add_attendance(
        &person,
        AttendanceType::Work,
        "2026-11-03T09:00:00".parse().unwrap(),
        Some("2026-11-03T17:00:00".parse().unwrap()),
    );
    let before = sim.state().attendance_periods[&pending].updated_at;
    let (status, _) = api
        .patch(
            &format!("/v2/attendance-periods/{pending}"),
            json!({"end": {"date_time": "2026-11-03T18:00:00"}, "comment": "Überstunde"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, stored) = api.get(&format!("/v2/attendance-periods/{pending}")).await;
    assert_eq!(stored["end"]["date_time"], "2026-11-03T18:00:00");
    assert_eq!(stored["comment"], "Überstunde");
    assert!(sim.state().attendance_periods[&pending].updated_at > before);
    let (status, _) = api
        .patch(
            &format!("/v2/attendance-periods/{pending}"),
            json!({"type": "BREAK"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "type cannot change");

    assert!(sim.state().approve_attendance(&pending));
    assert_eq!(
        api.delete(&format!("/v2/attendance-periods/{pending}"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    sim.state()
        .set_attendance_status(&pending, AttendanceStatus::Pending);
    assert_eq!(
        api.delete(&format!("/v2/attendance-periods/{pending}"))
            .await,
        StatusCode::NO_CONTENT
    );
    let (status, _) = api.get(&format!("/v2/attendance-periods/{pending}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// ---------------- absences ----------------

#[tokio::test]
async fn absence_types_are_listed_and_readable() {
    let sim = empty_sim().await;
    let api = Api::new(&sim).await;
    let (status, body) = api.get("/v2/absence-types").await;
    assert_eq!(status, StatusCode::OK);
    let types = body["_data"].as_array().unwrap();
    let vacation = types.iter().find(|t| t["name"] == "Vacation").unwrap();
    assert_eq!(vacation["unit"], "DAY");
    assert_eq!(vacation["category"], "PAID_VACATION");
    let overtime = types
        .iter()
        .find(|t| t["name"] == "Overtime compensation")
        .unwrap();
    assert_eq!(overtime["unit"], "HOUR");
    let (status, one) = api
        .get(&format!(
            "/v2/absence-types/{}",
            vacation["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&one, vacation);
    assert_eq!(
        api.get("/v2/absence-types/nope").await.0,
        StatusCode::NOT_FOUND
    );
}

fn absence(person: &str, kind: &str, from: (&str, Value), to: (&str, Value)) -> Value {
    json!({"person": {"id": person}, "absence_type": {"id": kind},
           "starts_from": {"date_time": from.0, "type": from.1},
           "ends_at": {"date_time": to.0, "type": to.1}})
}

#[tokio::test]
async fn absence_lifecycle_and_validations() {
    let sim = empty_sim().await;
    let person = sim.state().add_person("Zoë", "Schäfer", None);
    let vacation = sim.state().absence_type_id_by_name("Vacation").unwrap();
    let api = Api::new(&sim).await;
    let null = Value::Null;

    let (status, created) = api
        .post(
            "/v2/absence-periods",
            absence(
                &person,
                &vacation,
                ("2026-12-07T00:00:00", null.clone()),
                ("2026-12-11T00:00:00", json!("FIRST_HALF")),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (_, stored) = api.get(&format!("/v2/absence-periods/{id}")).await;
    assert_eq!(stored["approval"]["status"], "PENDING");
    assert_eq!(stored["timezone_id"], "Europe/Berlin");
    assert_eq!(stored["ends_at"]["type"], "FIRST_HALF");

    // Overlap → 409; the afternoon of the last day is still free.
    let (status, body) = api
        .post(
            "/v2/absence-periods",
            absence(
                &person,
                &vacation,
                ("2026-12-09T00:00:00", null.clone()),
                ("2026-12-09T00:00:00", null.clone()),
            ),
        )
        .await;
    assert_eq!(
        (status, first_error(&body).0),
        (StatusCode::CONFLICT, "Absence period conflict")
    );
    let (status, afternoon) = api
        .post(
            "/v2/absence-periods?skip_approval=true",
            absence(
                &person,
                &vacation,
                ("2026-12-11T00:00:00", json!("SECOND_HALF")),
                ("2026-12-11T00:00:00", json!("SECOND_HALF")),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, afternoon) = api
        .get(&format!(
            "/v2/absence-periods/{}",
            afternoon["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(afternoon["approval"]["status"], "APPROVED");

    let (status, _) = api
        .post(
            "/v2/absence-periods",
            absence(
                &person,
                &vacation,
                ("2026-12-14T00:00:00", json!("SECOND_HALF")),
                ("2026-12-14T00:00:00", json!("FIRST_HALF")),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = api
        .post(
            "/v2/absence-periods",
            json!({"person": {"id": person}, "absence_type": {"id": vacation}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Range filters match overlapping absences, with millis and a trailing Z tolerated.
    let (_, listed) = api
        .get(&format!("/v2/absence-periods?person.id={person}&starts_from.date_time.gte=2026-12-10T00:00:00.000Z&ends_at.date_time.lte=2026-12-10T23:59:59.000"))
        .await;
    let listed: Vec<&str> = listed["_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [id.as_str()]);

    let (status, _) = api
        .patch(
            &format!("/v2/absence-periods/{id}"),
            json!({"ends_at": {"date_time": "2026-12-10T00:00:00", "type": null}, "comment": "verkürzt"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, stored) = api.get(&format!("/v2/absence-periods/{id}")).await;
    assert_eq!(stored["ends_at"]["date_time"], "2026-12-10T00:00:00");
    assert_eq!(stored["comment"], "verkürzt");
    let (status, _) = api
        .patch(
            &format!("/v2/absence-periods/{id}"),
            json!({"absence_type": {"id": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    assert_eq!(
        api.delete(&format!("/v2/absence-periods/{id}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(&format!("/v2/absence-periods/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.delete(&format!("/v2/absence-periods/{id}")).await,
        StatusCode::NOT_FOUND
    );
}

// ---------------- rate limiting and faults ----------------

#[tokio::test]
async fn rate_limit_headers_and_429_without_retry_after() {
    let config = PersonioConfig {
        // No replenishment: the outcome does not depend on how fast the requests run.
        rate_limit: Some(RateLimit {
            replenish_per_sec: 0,
            burst: 3,
        }),
        ..PersonioConfig::default()
    };
    let sim = PersonioSim::start(config, &Seed::empty()).await.unwrap();
    let token = token_for(&sim).await; // the token endpoint has its own bucket
    let client = Client::new();
    let url = format!("{}/v2/persons", sim.base_url());
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-ratelimit-burst-capacity"], "3");
        assert_eq!(response.headers()["x-ratelimit-replenish-rate"], "0");
        assert_eq!(response.headers()["x-ratelimit-requested-tokens"], "1");
        remaining.push(
            response.headers()["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let limited = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().get("retry-after").is_none());
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(
        limited.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = limited.json().await.unwrap();
    assert_eq!(first_error(&body).0, "Too Many Requests");
    // Another endpoint has its own bucket.
    let other = client
        .get(format!("{}/v2/absence-types", sim.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_endpoint_advertises_its_own_limit() {
    // No replenishment: the outcome does not depend on how fast the requests run.
    let config = PersonioConfig {
        rate_limit: Some(RateLimit {
            replenish_per_sec: 0,
            burst: 5,
        }),
        endpoint_rate_limits: [(
            "/v2/persons".to_string(),
            RateLimit {
                replenish_per_sec: 0,
                burst: 1,
            },
        )]
        .into(),
        ..PersonioConfig::default()
    };
    let sim = PersonioSim::start(config, &Seed::empty()).await.unwrap();
    let token = token_for(&sim).await;
    let client = Client::new();
    let get = |path: &str| {
        client
            .get(format!("{}{path}", sim.base_url()))
            .bearer_auth(&token)
            .send()
    };
    let persons = get("/v2/persons").await.unwrap();
    assert_eq!(persons.status(), StatusCode::OK);
    assert_eq!(persons.headers()["x-ratelimit-burst-capacity"], "1");
    assert_eq!(persons.headers()["x-ratelimit-remaining"], "0");
    // A sub-resource counts against its endpoint's bucket.
    let employments = get("/v2/persons/1/employments").await.unwrap();
    assert_eq!(employments.status(), StatusCode::TOO_MANY_REQUESTS);
    let attendances = get("/v2/attendance-periods").await.unwrap();
    assert_eq!(attendances.status(), StatusCode::OK);
    assert_eq!(attendances.headers()["x-ratelimit-burst-capacity"], "5");
    assert_eq!(attendances.headers()["x-ratelimit-remaining"], "4");
    let observed = RateLimit::observed_per_endpoint();
    assert_eq!(observed["/v2/persons"].replenish_per_sec, 30);
    assert_eq!(observed["/v2/absence-periods"].replenish_per_sec, 10);
}

#[tokio::test]
async fn status_faults_fire_for_the_given_number_of_matching_requests() {
    let sim = company_sim().await;
    let api = Api::new(&sim).await;
    sim.inject(FaultRule::new("/v2/persons", Fault::Status(503), 2).with_method("GET"));
    sim.inject(FaultRule::new("/v2/absence-periods", Fault::Status(429), 1));
    let (status, body) = api.get("/v2/persons").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first_error(&body).0, "Service Unavailable");
    assert_eq!(
        api.get("/v2/attendance-periods?limit=1").await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.get("/v2/persons/1001").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(api.get("/v2/persons").await.0, StatusCode::OK);

    let response = Client::new()
        .get(format!("{}/v2/absence-periods", sim.base_url()))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("x-ratelimit-remaining").is_some());
    assert!(response.headers().get("retry-after").is_none());
    assert_eq!(api.get("/v2/absence-periods").await.0, StatusCode::OK);

    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v2/persons"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn hang_fault_outlasts_the_client_timeout() {
    let sim = empty_sim().await;
    let api = Api::new(&sim).await;
    sim.inject(FaultRule::new(
        "/v2/absence-types",
        Fault::Hang(Duration::from_secs(30)),
        1,
    ));
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = impatient
        .get(format!("{}/v2/absence-types", sim.base_url()))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(api.get("/v2/absence-types").await.0, StatusCode::OK);
}

#[tokio::test]
async fn drop_connection_fault_is_a_transport_error() {
    let sim = empty_sim().await;
    let api = Api::new(&sim).await;
    sim.inject(FaultRule::new("/v2/persons", Fault::DropConnection, 1).with_method("POST"));
    let error = Client::new()
        .post(format!("{}/v2/persons", sim.base_url()))
        .bearer_auth(&api.token)
        .json(&json!({"first_name": "Ada", "last_name": "Lovelace"}))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert!(
        sim.state().persons.is_empty(),
        "the dropped request wrote nothing"
    );
    let (status, _) = api
        .post(
            "/v2/persons",
            json!({"first_name": "Ada", "last_name": "Lovelace"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let logged: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/persons")
        .map(|r| r.status)
        .collect();
    assert_eq!(logged, [0, 201]);
}

#[tokio::test]
async fn control_api_exposes_state_faults_and_reset() {
    let sim = company_sim().await;
    let api = Api::new(&sim).await;
    let client = Client::new();
    let state: Value = client
        .get(format!("{}/_sim/state", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["personio"]["persons"].as_array().unwrap().len(),
        sim.state().persons.len()
    );
    let response = client
        .post(format!("{}/_sim/faults", sim.base_url()))
        .json(&json!({"method": "DELETE", "path_prefix": "/v2/persons", "fault": {"status": 500}, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.delete("/v2/persons/1001").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(api.delete("/v2/persons/1001").await, StatusCode::NO_CONTENT);
    assert!(!sim.state().persons.contains_key("1001"));
    let response = client
        .post(format!("{}/_sim/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(sim.state().persons.contains_key("1001"));
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn after_apply_faults_apply_the_write_then_lose_its_answer() {
    let sim = empty_sim().await;
    let person = sim
        .state()
        .add_person("Björn", "Weiß", Some("bjoern@example.com"));
    let api = Api::new(&sim).await;
    let posts = "/v2/attendance-periods";
    sim.inject(FaultRule::new(posts, Fault::applied_then_status(504), 1).with_method("POST"));
    let (status, body) = api
        .post(
            posts,
            period(
                &person,
                "WORK",
                "2026-11-02T08:00:00",
                "2026-11-02T12:00:00",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(first_error(&body).0, "Gateway Timeout");
    assert_eq!(sim.state().attendance_periods.len(), 1, "applied");

    // Dropped: the client sees a connection error, the period exists all the same.
    sim.inject(FaultRule::new(posts, Fault::applied_then_dropped(), 1).with_method("POST"));
    let error = api
        .http
        .post(api.url(posts))
        .bearer_auth(&api.token)
        .json(&period(
            &person,
            "BREAK",
            "2026-11-02T10:00:00",
            "2026-11-02T10:30:00",
        ))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert_eq!(sim.state().attendance_periods.len(), 2);

    // Hang: applied at once, answered after the client gave up.
    sim.inject(
        FaultRule::new(posts, Fault::applied_then_hang(Duration::from_secs(5)), 1)
            .with_method("POST"),
    );
    let error = api
        .http
        .post(api.url(posts))
        .bearer_auth(&api.token)
        .timeout(Duration::from_millis(300))
        .json(&period(
            &person,
            "WORK",
            "2026-11-03T08:00:00",
            "2026-11-03T12:00:00",
        ))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(sim.state().attendance_periods.len(), 3);

    // Deletes too: the period is gone although the answer was a 502.
    let id = sim
        .state()
        .attendance_periods
        .keys()
        .next()
        .cloned()
        .unwrap();
    sim.inject(FaultRule::new(posts, Fault::applied_then_status(502), 1).with_method("DELETE"));
    assert_eq!(
        api.delete(&format!("{posts}/{id}")).await,
        StatusCode::BAD_GATEWAY
    );
    assert!(!sim.state().attendance_periods.contains_key(&id));
    // The log shows what the client saw (the token request first; the hung answer is logged late).
    let logged: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(logged[1..4], [504, 0, 502], "{logged:?}");
}
