//! Contract tests of the TimeTrack simulator, over real HTTP with reqwest.

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use simulators::{Fault, FaultRule, Seed, TimeTrackConfig, TimeTrackSim};

async fn company_sim() -> TimeTrackSim {
    TimeTrackSim::start(
        TimeTrackConfig::default(),
        &Seed::company(jiff::civil::date(2026, 11, 27)),
    )
    .await
    .expect("simulator starts")
}

struct Api {
    base: String,
    http: Client,
}

impl Api {
    fn new(base: String) -> Api {
        Api {
            base,
            http: Client::new(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let config = TimeTrackConfig::default();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-TimeTrack-Api-Key", config.api_key)
            .header("X-TimeTrack-Api-Secret", config.api_secret);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
}

fn error_of(body: &Value) -> &Value {
    &body["errors"][0]
}

#[tokio::test]
async fn every_request_needs_key_and_secret() {
    let sim = company_sim().await;
    let url = format!("{}/users", sim.base_url());
    let missing = Client::new().get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(error_of(&body)["status"], 401);
    assert!(error_of(&body)["code"].is_number());

    let stale = Client::new()
        .get(&url)
        .header("X-TimeTrack-Api-Key", "tt-sim-key")
        .header("X-TimeTrack-Api-Secret", "an-old-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let body = stale.text().await.unwrap();
    assert!(!body.contains("an-old-secret"));

    let (status, users) = Api::new(sim.base_url()).get("/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(users.is_array(), "lists are bare arrays");
}

#[tokio::test]
async fn the_account_form_of_the_base_url_is_served_for_the_own_account_only() {
    let sim = company_sim().await;
    let template = sim.base_url_template();
    assert!(template.contains("/{account}/api/v2/ext"));
    let own = Api::new(template.replace("{account}", "acme"));
    let (status, users) = own.get("/users?username=juergen.mueller").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users[0]["firstName"], "Jürgen");
    let other = Api::new(template.replace("{account}", "globex"));
    assert_eq!(other.get("/users").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_page_by_page_number_and_limit() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    let live = sim.state().live_attendances().count();
    assert!(live > 100);
    let (_, default_page) = api.get("/attendances").await;
    assert_eq!(default_page.as_array().unwrap().len(), 50);

    let mut seen = Vec::new();
    for page in 0.. {
        let (status, rows) = api
            .get(&format!("/attendances?page_number={page}&limit=40"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let rows = rows.as_array().unwrap().clone();
        let last = rows.len() < 40;
        seen.extend(rows.into_iter().map(|r| r["id"].as_i64().unwrap()));
        if last {
            break;
        }
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), live);

    let (status, body) = api.get("/attendances?limit=1001").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body)["status"], 400);
    let (_, none) = api.get("/users?limit=0").await;
    assert_eq!(none, json!([]));
}

/// Pages are served from a pinned listing (issue 16), but a walk over changing data still shifts by
/// offset as a fresh listing does: after a delete through the API, or a change through the state
/// handle, page 1 is the page 1 of the records as they are now.
#[tokio::test]
async fn a_page_walk_sees_changes_made_between_its_pages() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    let ids = |rows: &Value| -> Vec<i64> {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let page = |n: usize| format!("/attendances?page_number={n}&limit=10");
    let all = |sim: &TimeTrackSim| -> Vec<i64> {
        let state = sim.state();
        let mut live: Vec<_> = state.live_attendances().map(|a| (a.from, a.id)).collect();
        live.sort();
        live.into_iter().map(|(_, id)| id).collect()
    };
    let first = ids(&api.get(&page(0)).await.1);
    assert_eq!(first, all(&sim)[..10]);
    // Unchanged: the same page again, and the next one, as a fresh listing gives them.
    assert_eq!(ids(&api.get(&page(0)).await.1), first);
    assert_eq!(ids(&api.get(&page(1)).await.1), all(&sim)[10..20]);

    let (status, _) = api.delete(&format!("/attendances/{}", first[0])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let shifted = ids(&api.get(&page(1)).await.1);
    assert_eq!(shifted, all(&sim)[10..20]);
    assert_eq!(shifted[0], all(&sim)[10]);
    assert!(!shifted.contains(&first[0]));

    // Through the state handle: the earliest entry moves to the end of the listing.
    let earliest = all(&sim)[0];
    {
        let mut state = sim.state();
        let entry = state.attendances.get_mut(&earliest).unwrap();
        entry.from += jiff::SignedDuration::from_hours(24 * 365);
        entry.to += jiff::SignedDuration::from_hours(24 * 365);
    }
    assert_eq!(ids(&api.get(&page(0)).await.1), all(&sim)[..10]);
    assert!(!ids(&api.get(&page(0)).await.1).contains(&earliest));
}

#[tokio::test]
async fn users_create_update_and_disable() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    let user = json!({"username": "niklas.strauss", "firstName": "Niklas", "lastName": "Strauß",
                      "email": "niklas.strauss@acme.example", "password": "Gehe1m-genug", "personalNumber": 1028,
                      "teamLead": false, "admin": 0, "language": "de"});
    let mut missing = user.clone();
    missing.as_object_mut().unwrap().remove("password");
    assert_eq!(api.post("/users", missing).await.0, StatusCode::BAD_REQUEST);
    let mut weak = user.clone();
    weak["password"] = json!("1234");
    let (status, body) = api.post("/users", weak).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body)["detail"]
        .as_str()
        .unwrap()
        .contains("password"));
    let mut taken = user.clone();
    taken["username"] = json!("Thomas.Mueller");
    assert_eq!(api.post("/users", taken).await.0, StatusCode::CONFLICT);

    let (status, created) = api.post("/users", user).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(created.get("password").is_none());
    assert_eq!(created["enabled"], true);
    assert_eq!(created["personalNumber"], 1028);
    let id = created["id"].as_i64().unwrap();

    let (status, body) = api
        .put(&format!("/users/{id}"), json!({"username": "niklas"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body)["status"], 400);
    assert_eq!(
        api.put(&format!("/users/{id}"), json!({"enabled": false}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (status, updated) = api
        .put(&format!("/users/{id}"), json!({"lastName": "Strauss"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["lastName"], "Strauss");

    let (status, _) = api.delete(&format!("/users/{id}")).await;
    assert!(status.is_success());
    let (status, disabled) = api.get(&format!("/users/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(api.get("/users/999999").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn attendances_filter_write_and_soft_delete() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    let (status, created) = api
        .post(
            "/attendances",
            json!({"username": "uwe.kuehn", "from": "2026-11-30T08:00:00Z", "to": "2026-11-30T16:30:00.000Z",
                   "breakMinutes": 30, "notes": "Inventur"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["user"], "uwe.kuehn");
    assert_eq!(created["from"], "2026-11-30T08:00:00.000Z");
    assert_eq!(created["workedMinutes"], 480);
    let id = created["id"].as_i64().unwrap();

    // `from` inclusive, `to` exclusive, on the entry's start.
    let (_, hit) = api
        .get(
            "/attendances?username=uwe.kuehn&from=2026-11-30T08:00:00.000Z&to=2026-11-30T08:00:01Z",
        )
        .await;
    assert_eq!(hit.as_array().unwrap().len(), 1);
    let (_, miss) = api
        .get("/attendances?user=uwe.kuehn&from=2026-11-29T00:00:00Z&to=2026-11-30T08:00:00Z")
        .await;
    assert_eq!(miss, json!([]));

    let (status, updated) = api
        .put(
            &format!("/attendances/{id}"),
            json!({"to": "2026-11-30T17:00:00Z", "breakMinutes": "45"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["workedMinutes"], 495);
    let (status, _) = api
        .post("/attendances", json!({"username": "uwe.kuehn", "from": "2026-12-01T10:00:00Z", "to": "2026-12-01T09:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .post("/attendances", json!({"username": "nobody", "from": "2026-12-01T08:00:00Z", "to": "2026-12-01T09:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = api.delete(&format!("/attendances/{id}")).await;
    assert!(status.is_success());
    let (status, body) = api.get(&format!("/attendances/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error_of(&body)["title"],
        "TimeEntry exist but it is deleted"
    );
    assert_eq!(error_of(&body)["code"], 15020);
    assert_eq!(error_of(&body)["status"], 404);
    let (_, after) = api
        .get("/attendances?username=uwe.kuehn&from=2026-11-30T00:00:00Z")
        .await;
    assert_eq!(after, json!([]), "deleted entries vanish from lists");
    assert!(
        sim.state().attendances[&id].deleted,
        "the record is kept, soft-deleted"
    );
    assert_eq!(
        api.put(&format!("/attendances/{id}"), json!({"notes": "x"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/attendances/987654").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn absences_change_only_their_status_in_place() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    let half_day = sim
        .state()
        .absence_type_by_name("Urlaub (½ Tag)")
        .unwrap()
        .id;
    let (status, created) = api
        .post("/absences", json!({"username": "uwe.kuehn", "from": "2026-12-21", "to": "2026-12-21", "absenceType": half_day}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], 0);
    assert_eq!(created["absenceTypeName"], "Urlaub (½ Tag)");
    assert!(created["user_id"].is_number() && created.get("day_segment").is_some());
    let id = created["id"].as_i64().unwrap();

    let (status, body) = api
        .put(
            &format!("/absences/{id}"),
            json!({"status": "1", "to": "2026-12-22"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body)["detail"].as_str().unwrap().contains("to"));
    let (status, approved) = api
        .put(&format!("/absences/{id}"), json!({"status": "1"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(approved["status"], 1);
    let (_, rejected) = api
        .put(&format!("/absences/{id}"), json!({"status": 2}))
        .await;
    assert_eq!(rejected["status"], 2);
    assert_eq!(
        api.put(&format!("/absences/{id}"), json!({"status": 7}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    let (_, listed) = api
        .get("/absences?username=uwe.kuehn&from=2026-12-21&to=2026-12-21")
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, by_type) = api
        .get(&format!(
            "/absences?absenceType={half_day}&from=2026-12-01&to=2026-12-31"
        ))
        .await;
    assert!(by_type
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["absenceType"] == half_day));

    assert_eq!(
        api.post(
            "/absences",
            json!({"username": "uwe.kuehn", "from": "2026-12-21"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(api.post("/absences", json!({"username": "uwe.kuehn", "from": "2026-12-21", "to": "2026-12-20", "absenceType": 1})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.post("/absences", json!({"username": "uwe.kuehn", "from": "2026-12-21", "to": "2026-12-21", "absenceType": 99})).await.0, StatusCode::BAD_REQUEST);

    let (status, _) = api.delete(&format!("/absences/{id}")).await;
    assert!(status.is_success());
    assert_eq!(
        api.get(&format!("/absences/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, listed) = api
        .get("/absences?username=uwe.kuehn&from=2026-12-21&to=2026-12-21")
        .await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn faults_use_the_errors_envelope_or_drop_the_connection() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    sim.inject(FaultRule::new("/users", Fault::Status(502), 1));
    sim.inject(FaultRule::new("/absences", Fault::DropConnection, 1).with_method("GET"));
    let (status, body) = api.get("/users").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error_of(&body)["status"], 502);
    assert_eq!(api.get("/users").await.0, StatusCode::OK);

    let error = Client::new()
        .get(format!("{}/absences", sim.base_url()))
        .header("X-TimeTrack-Api-Key", "tt-sim-key")
        .header("X-TimeTrack-Api-Secret", "tt-sim-secret")
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert_eq!(api.get("/absences").await.0, StatusCode::OK);
    let log: Vec<(String, u16)> = sim
        .requests()
        .into_iter()
        .map(|r| (r.api_path, r.status))
        .collect();
    assert_eq!(
        log,
        [
            ("/users".to_string(), 502),
            ("/users".to_string(), 200),
            ("/absences".to_string(), 0),
            ("/absences".to_string(), 200)
        ]
    );
}

#[tokio::test]
async fn control_api_resets_to_the_seed() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    let before = sim.state().live_absences().count();
    let id = *sim.state().absences.keys().next().unwrap();
    api.delete(&format!("/absences/{id}")).await;
    assert_eq!(sim.state().live_absences().count(), before - 1);
    let root = sim.base_url().replace("/api/v2/ext", "");
    let reset = Client::new()
        .post(format!("{root}/_sim/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.state().live_absences().count(), before);
    let state: Value = Client::new()
        .get(format!("{root}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["timetrack"]["absences"].as_array().unwrap().len(),
        before
    );
}

#[tokio::test]
async fn after_apply_faults_apply_the_write_then_lose_its_answer() {
    let sim = company_sim().await;
    let api = Api::new(sim.base_url());
    let count = |sim: &TimeTrackSim| {
        sim.state()
            .attendances
            .values()
            .filter(|a| !a.deleted)
            .count()
    };
    let before = count(&sim);
    sim.inject(
        FaultRule::new("/attendances", Fault::applied_then_status(504), 1).with_method("POST"),
    );
    let (status, body) = api
        .post("/attendances", json!({"username": "uwe.kuehn", "from": "2026-12-01T08:00:00Z", "to": "2026-12-01T09:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(error_of(&body)["status"], 504);
    assert_eq!(count(&sim), before + 1, "applied");

    sim.inject(
        FaultRule::new("/attendances", Fault::applied_then_dropped(), 1).with_method("POST"),
    );
    let config = TimeTrackConfig::default();
    let error = Client::new()
        .post(format!("{}/attendances", sim.base_url()))
        .header("X-TimeTrack-Api-Key", &config.api_key)
        .header("X-TimeTrack-Api-Secret", &config.api_secret)
        .json(&json!({"username": "uwe.kuehn", "from": "2026-12-02T08:00:00Z", "to": "2026-12-02T09:00:00Z"}))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert_eq!(count(&sim), before + 2);

    sim.inject(
        FaultRule::new(
            "/attendances",
            Fault::applied_then_hang(std::time::Duration::from_secs(5)),
            1,
        )
        .with_method("POST"),
    );
    let error = Client::new()
        .post(format!("{}/attendances", sim.base_url()))
        .header("X-TimeTrack-Api-Key", &config.api_key)
        .header("X-TimeTrack-Api-Secret", &config.api_secret)
        .timeout(std::time::Duration::from_millis(300))
        .json(&json!({"username": "uwe.kuehn", "from": "2026-12-03T08:00:00Z", "to": "2026-12-03T09:00:00Z"}))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(count(&sim), before + 3);

    // A delete whose answer is lost has deleted all the same.
    let id = sim
        .state()
        .absences
        .iter()
        .find(|(_, a)| !a.deleted)
        .map(|(id, _)| *id)
        .unwrap();
    sim.inject(
        FaultRule::new("/absences", Fault::applied_then_status(503), 1).with_method("DELETE"),
    );
    assert_eq!(
        api.delete(&format!("/absences/{id}")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        api.get(&format!("/absences/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}
