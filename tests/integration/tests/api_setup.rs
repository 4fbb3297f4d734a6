//! Setup through the API router: settings (validated, every problem listed), credentials stored in
//! Secrets Manager and checked against both simulators, the employee candidates with link status, and
//! the absence types of both sides.
mod api_support;

use api_support::{good_credentials_json, Harness};
use serde_json::{json, Value};
use shared::credentials::CredentialsSource;
use shared::domain::IntegrationId;
use shared::settings::IntegrationSettings;
use simulators::TimeTrackConfig;

fn fresh_id() -> IntegrationId {
    IntegrationId::new(integration_tests::unique("setup")).expect("id")
}

#[tokio::test]
async fn settings_are_stored_read_back_and_validated() {
    let h = Harness::start().await;
    let id = fresh_id();
    let path = format!("/integrations/{id}/settings");
    h.call("GET", &path, None)
        .await
        .assert_problem(404, "unknown-integration");

    let mut settings = serde_json::to_value(IntegrationSettings::example()).expect("json");
    settings["time_zone"] = json!("America/New_York");
    let put = h.call("PUT", &path, Some(settings.clone())).await;
    put.assert_ok();
    let got = h.call("GET", &path, None).await;
    got.assert_ok();
    assert_eq!(got.json, settings);

    let mut invalid = settings.clone();
    invalid["time_zone"] = json!("Mars/Olympus_Mons");
    invalid["sync"]["concurrency"] = json!(0);
    let answer = h.call("PUT", &path, Some(invalid)).await;
    answer.assert_problem(422, "invalid-settings");
    let mut fields: Vec<&str> = answer.json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["sync.concurrency", "time_zone"]);
    let unchanged = h.call("GET", &path, None).await;
    assert_eq!(unchanged.json, settings, "nothing invalid is stored");

    let mut mistyped = settings.clone();
    mistyped["windows"]["absences"]["lookback_days"] = json!("thirty");
    // ADR 0028: a document that does not match the model is 400, naming where it stopped matching.
    let answer = h.call("PUT", &path, Some(mistyped)).await;
    answer.assert_problem(400, "invalid-body");
    assert_eq!(
        answer.json["errors"][0]["field"], "windows.absences.lookback_days",
        "{}",
        answer.text
    );
    let mut unknown = settings.clone();
    unknown["sync"]["concurency"] = json!(4);
    let answer = h.call("PUT", &path, Some(unknown)).await;
    answer.assert_problem(400, "invalid-body");
    assert_eq!(
        answer.json["errors"][0]["field"], "sync.concurency",
        "{}",
        answer.text
    );
    let answer = h.call("PUT", &path, Some(json!({}))).await;
    answer.assert_problem(400, "invalid-body");
    assert!(answer.text.contains("time_zone"), "{}", answer.text);
    let unchanged = h.call("GET", &path, None).await;
    assert_eq!(
        unchanged.json, settings,
        "nothing that does not match is stored"
    );
    h.raw("PUT", &path, Some(("application/json", "{\"time_zone\": ")))
        .await
        .assert_problem(400, "invalid-body");
    h.raw("PUT", &path, Some(("text/plain", "time_zone=UTC")))
        .await
        .assert_problem(415, "unsupported-media-type");
    h.raw("PUT", &path, None)
        .await
        .assert_problem(415, "unsupported-media-type");
    h.call("DELETE", &path, None)
        .await
        .assert_problem(405, "method-not-allowed");
}

fn check(answer: &Value, side: &str) -> (bool, String) {
    (
        answer[side]["ok"].as_bool().expect("ok flag"),
        answer[side]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn credentials_are_stored_and_both_sides_checked() {
    let h = Harness::start().await;
    let id = fresh_id();
    let path = format!("/integrations/{id}/credentials");

    let good = h.call("PUT", &path, Some(good_credentials_json())).await;
    good.assert_ok();
    assert_eq!(good.json["stored"], true);
    assert_eq!(
        check(&good.json, "personio"),
        (true, String::new()),
        "{}",
        good.text
    );
    assert_eq!(
        check(&good.json, "timetrack"),
        (true, String::new()),
        "{}",
        good.text
    );
    let stored = h.credentials.credentials(&id).await.expect("stored");
    assert_eq!(stored.timetrack_account, TimeTrackConfig::default().account);

    let connect = h
        .call("POST", &format!("/integrations/{id}/connect"), None)
        .await;
    connect.assert_ok();
    assert_eq!(connect.json["personio"]["ok"], true);
    assert_eq!(connect.json["timetrack"]["ok"], true);

    // Wrong Personio secret: Personio's OAuth error comes back, TimeTrack still works.
    let mut bad_personio = good_credentials_json();
    bad_personio["personio_client_secret"] = json!("wrong-personio-s3cret");
    let answer = h.call("PUT", &path, Some(bad_personio)).await;
    answer.assert_ok();
    let (ok, error) = check(&answer.json, "personio");
    assert!(!ok, "{}", answer.text);
    assert!(
        error.contains("unauthorized_client"),
        "the OAuth error: {error}"
    );
    assert!(check(&answer.json, "timetrack").0, "{}", answer.text);
    assert!(
        !answer.text.contains("wrong-personio-s3cret"),
        "secret echoed: {}",
        answer.text
    );
    // Stored anyway (see the module docs of the handler); connect re-checks what is stored.
    let connect = h
        .call("POST", &format!("/integrations/{id}/connect"), None)
        .await;
    assert_eq!(connect.json["personio"]["ok"], false, "{}", connect.text);

    // Wrong TimeTrack key.
    let mut bad_timetrack = good_credentials_json();
    bad_timetrack["timetrack_api_key"] = json!("wrong-tt-k3y");
    let answer = h.call("PUT", &path, Some(bad_timetrack)).await;
    answer.assert_ok();
    assert!(check(&answer.json, "personio").0, "{}", answer.text);
    let (ok, error) = check(&answer.json, "timetrack");
    assert!(!ok, "{}", answer.text);
    assert!(!error.is_empty());
    assert!(
        !answer.text.contains("wrong-tt-k3y"),
        "secret echoed: {}",
        answer.text
    );
}

#[tokio::test]
async fn credentials_problems() {
    let h = Harness::start().await;
    let id = fresh_id();
    let path = format!("/integrations/{id}/credentials");
    let mut incomplete = good_credentials_json();
    incomplete
        .as_object_mut()
        .expect("object")
        .remove("timetrack_api_secret");
    incomplete["personio_client_secret"] = json!("");
    let answer = h.call("PUT", &path, Some(incomplete)).await;
    answer.assert_problem(422, "invalid-credentials");
    assert!(answer.json["detail"]
        .as_str()
        .expect("detail")
        .contains("timetrack_api_secret"));
    h.raw(
        "PUT",
        &path,
        Some(("application/x-www-form-urlencoded", "a=b")),
    )
    .await
    .assert_problem(415, "unsupported-media-type");
    h.call("POST", &format!("/integrations/{id}/connect"), None)
        .await
        .assert_problem(422, "not-connected");
    assert!(
        h.credentials.credentials(&id).await.is_err(),
        "nothing stored"
    );
}

#[tokio::test]
async fn candidates_carry_their_link_status() {
    let h = Harness::start().await;
    let answer = h
        .call(
            "GET",
            &format!("/integrations/{}/employees/candidates", h.id),
            None,
        )
        .await;
    answer.assert_ok();
    let candidates = answer.json["candidates"].as_array().expect("candidates");
    let persons = h.personio.state().persons.len();
    let users = h.timetrack.state().users.len();
    let with_person = candidates
        .iter()
        .filter(|c| c["personio_id"].is_string())
        .count();
    let with_user = candidates
        .iter()
        .filter(|c| c["timetrack_id"].is_number())
        .count();
    assert_eq!(
        with_person, persons,
        "every person is listed once: {}",
        answer.text
    );
    assert_eq!(
        with_user, users,
        "every user is listed once: {}",
        answer.text
    );
    let statuses: Vec<&str> = candidates
        .iter()
        .filter_map(|c| c["status"].as_str())
        .collect();
    assert!(statuses.contains(&"linkable_by_email"), "{statuses:?}");
    assert!(statuses.contains(&"unmatched"), "{statuses:?}");
    for s in &statuses {
        assert!(
            [
                "linked",
                "linkable_by_email",
                "linkable_by_personal_number",
                "ambiguous",
                "unmatched"
            ]
            .contains(s),
            "{s}"
        );
    }
    // A person linkable by e-mail carries both sides' summary.
    let by_email = candidates
        .iter()
        .find(|c| c["status"] == "linkable_by_email")
        .expect("one");
    assert!(by_email["personio"]["last_name"].is_string(), "{by_email}");
    assert!(by_email["timetrack"]["username"].is_string(), "{by_email}");
    // Leavers show as such (issue 11 §3): the seed's Greta Löwe (1026) has left and is linkable to her
    // still-enabled user by e-mail, which a run would link and deactivate; an employee shows as active.
    let person = |id: &str| {
        candidates
            .iter()
            .find(|c| c["personio_id"] == id)
            .unwrap_or_else(|| panic!("no candidate for person {id}"))
    };
    let greta = person("1026");
    assert_eq!(greta["personio"]["status"], "left", "{greta}");
    assert_eq!(greta["status"], "linkable_by_email", "{greta}");
    assert_eq!(greta["timetrack"]["enabled"], true, "{greta}");
    assert_eq!(person("1005")["personio"]["status"], "active");

    h.call("GET", "/integrations/nobody/employees/candidates", None)
        .await
        .assert_problem(404, "unknown-integration");
}

#[tokio::test]
async fn candidates_and_absence_types_need_working_credentials() {
    let h = Harness::start().await;
    let mut wrong = good_credentials_json();
    wrong["personio_client_secret"] = json!("nope");
    h.call(
        "PUT",
        &format!("/integrations/{}/credentials", h.id),
        Some(wrong),
    )
    .await
    .assert_ok();
    h.call(
        "GET",
        &format!("/integrations/{}/employees/candidates", h.id),
        None,
    )
    .await
    .assert_problem(422, "not-connected");
    h.call(
        "GET",
        &format!("/integrations/{}/absence-types", h.id),
        None,
    )
    .await
    .assert_problem(422, "not-connected");
}

#[tokio::test]
async fn upstream_failures_are_502() {
    let h = Harness::start().await;
    h.timetrack.inject(simulators::FaultRule::new(
        "/",
        simulators::Fault::Status(500),
        100,
    ));
    let answer = h
        .call(
            "GET",
            &format!("/integrations/{}/employees/candidates", h.id),
            None,
        )
        .await;
    answer.assert_problem(502, "upstream-failure");
}

#[tokio::test]
async fn absence_types_of_both_sides() {
    let h = Harness::start().await;
    let answer = h
        .call(
            "GET",
            &format!("/integrations/{}/absence-types", h.id),
            None,
        )
        .await;
    answer.assert_ok();
    let personio = answer.json["personio"].as_array().expect("personio");
    assert_eq!(
        personio.len(),
        h.personio.state().absence_types.len(),
        "{}",
        answer.text
    );
    assert!(personio.iter().all(|t| t["id"].is_string()));
    let timetrack = answer.json["timetrack"].as_array().expect("timetrack");
    assert!(
        !timetrack.is_empty(),
        "the seed company has absences: {}",
        answer.text
    );
    let seen: u64 = timetrack.iter().filter_map(|t| t["seen"].as_u64()).sum();
    assert!(seen > 0);
    assert!(
        timetrack.iter().all(|t| t["mapped"] == false),
        "example settings map nothing"
    );
}

#[tokio::test]
async fn absence_types_show_each_mappings_half_day_type() {
    use shared::store::StateStore;
    let h = Harness::start().await;
    let vacation = h
        .personio
        .state()
        .absence_type_id_by_name("Vacation")
        .expect("Vacation type");
    let mut settings = IntegrationSettings::example();
    settings.absences.type_mappings = vec![shared::settings::AbsenceTypeMapping {
        timetrack_type_id: 1,
        personio_type_id: vacation.clone(),
        master: shared::domain::System::Personio,
        half_day_timetrack_type_id: Some(2),
    }];
    h.store
        .put_settings(&h.id, &settings)
        .await
        .expect("put settings");
    let answer = h
        .call(
            "GET",
            &format!("/integrations/{}/absence-types", h.id),
            None,
        )
        .await;
    answer.assert_ok();
    assert_eq!(
        answer.json["mappings"],
        json!([{
            "personio_type_id": vacation,
            "personio_type_name": "Vacation",
            "timetrack_type_id": 1,
            "timetrack_type_name": "Urlaub",
            "half_day_timetrack_type_id": 2,
            "half_day_timetrack_type_name": "Urlaub (½ Tag)",
            "master": "personio"
        }]),
        "{}",
        answer.text
    );
}

/// Issue 12 §2: values that parse but can never work — a key given twice, an account that is not one
/// DNS label, a key with CR/LF — are refused with 422 naming each field, and nothing is stored.
#[tokio::test]
async fn credentials_that_can_never_work_are_refused_and_nothing_is_stored() {
    let h = Harness::start().await;
    let id = fresh_id();
    let path = format!("/integrations/{id}/credentials");
    let good = good_credentials_json();
    let fields = |answer: &api_support::Answer| -> Vec<String> {
        answer.json["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|p| p["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };

    // The same key twice: the first value would be silently dropped.
    let text = good.to_string();
    let twice = format!(
        "{{\"personio_client_id\":\"first-id\",{}",
        text.trim_start_matches('{')
    );
    let answer = h
        .raw("PUT", &path, Some(("application/json", &twice)))
        .await;
    answer.assert_problem(422, "invalid-credentials");
    assert_eq!(fields(&answer), ["personio_client_id"], "{}", answer.text);

    let mut evil = good.clone();
    evil["timetrack_account"] = json!("evil.example/x#");
    let answer = h.call("PUT", &path, Some(evil)).await;
    answer.assert_problem(422, "invalid-credentials");
    assert_eq!(fields(&answer), ["timetrack_account"], "{}", answer.text);

    let mut split = good.clone();
    split["timetrack_api_key"] = json!("key-4711\r\nX-Injected: 1");
    split["personio_client_secret"] = json!("secret\n0815");
    let answer = h.call("PUT", &path, Some(split)).await;
    answer.assert_problem(422, "invalid-credentials");
    assert_eq!(
        fields(&answer),
        ["personio_client_secret", "timetrack_api_key"],
        "{}",
        answer.text
    );
    assert!(
        !answer.text.contains("4711") && !answer.text.contains("0815"),
        "a secret in the answer: {}",
        answer.text
    );

    assert!(
        h.credentials.credentials(&id).await.is_err(),
        "nothing stored"
    );
    // The good document is still accepted.
    h.call("PUT", &path, Some(good)).await.assert_ok();
}

/// Issue 12 §2 / ADR 0028: a TimeTrack account that does not exist is a setup problem, not an outage —
/// 422 `not-connected` naming the account wherever TimeTrack is called, the account in the side check of
/// PUT credentials and connect, and in the failed run's record; never 502 `upstream-failure`.
#[tokio::test]
async fn a_wrong_timetrack_account_is_not_connected_and_named_everywhere() {
    let h = Harness::start().await;
    let mut wrong = good_credentials_json();
    wrong["timetrack_account"] = json!("acme-typo");
    let stored = h
        .call(
            "PUT",
            &format!("/integrations/{}/credentials", h.id),
            Some(wrong),
        )
        .await;
    stored.assert_ok();
    let (personio_ok, _) = check(&stored.json, "personio");
    let (timetrack_ok, error) = check(&stored.json, "timetrack");
    assert!(personio_ok, "{}", stored.text);
    assert!(!timetrack_ok, "{}", stored.text);
    assert!(
        error.contains("\"acme-typo\"") && error.contains("not found"),
        "{error}"
    );
    let connect = h
        .call("POST", &format!("/integrations/{}/connect", h.id), None)
        .await;
    connect.assert_ok();
    assert_eq!(check(&connect.json, "timetrack"), (false, error.clone()));

    for route in ["employees/candidates", "absence-types"] {
        let answer = h
            .call("GET", &format!("/integrations/{}/{route}", h.id), None)
            .await;
        answer.assert_problem(422, "not-connected");
        assert!(
            answer.json["detail"]
                .as_str()
                .expect("detail")
                .contains("\"acme-typo\""),
            "{route}: {}",
            answer.text
        );
    }
    let sync = h
        .call(
            "POST",
            &format!("/integrations/{}/sync/employees", h.id),
            Some(json!({"dry_run": true})),
        )
        .await;
    sync.assert_problem(422, "not-connected");
    assert!(sync.text.contains("acme-typo"), "{}", sync.text);
    let runs = h
        .call("GET", &format!("/integrations/{}/runs", h.id), None)
        .await;
    runs.assert_ok();
    let run = &runs.json["runs"][0];
    assert_eq!(run["status"], "failed", "{}", runs.text);
    let reason = run["error"]
        .as_str()
        .expect("a failed run names its reason");
    assert!(
        reason.contains("\"acme-typo\"") && reason.contains("not connected"),
        "{reason}"
    );

    // A real outage of the right account is still the other system's (502), not a setup problem.
    h.call(
        "PUT",
        &format!("/integrations/{}/credentials", h.id),
        Some(good_credentials_json()),
    )
    .await
    .assert_ok();
    h.timetrack.inject(simulators::FaultRule::new(
        "/",
        simulators::Fault::Status(503),
        100,
    ));
    h.call(
        "GET",
        &format!("/integrations/{}/employees/candidates", h.id),
        None,
    )
    .await
    .assert_problem(502, "upstream-failure");
}
