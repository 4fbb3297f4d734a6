//! The audit trail through the API on moto (DynamoDB, Secrets Manager, Scheduler): every change —
//! settings, credentials, a schedule, a parked-record release, a manual sync — made through the Lambda
//! entry point (API Gateway v2 events decoded by `lambda_http`, as in production) leaves one audit record
//! with the IAM principal API Gateway authenticated, the route template, the time and the changed fields;
//! `GET /integrations/{id}/audit` lists them newest first; a refused change leaves none; and neither the
//! answer nor the stored items contain a secret value.
mod api_support;

use api_support::{good_credentials_json, read, Answer, Harness};
use integration_tests::dynamodb_client;
use jiff::Timestamp;
use serde_json::{json, Value};
use shared::domain::EntityKind;
use shared::settings::IntegrationSettings;
use shared::store::{Mapping, StateStore};
use tower::ServiceExt;

const OPERATOR: &str = "arn:aws:sts::123456789012:assumed-role/hr-ops/jane";

/// An API Gateway HTTP API (payload 2.0) event signed by `OPERATOR`, through `lambda_http`'s decoder.
async fn as_operator(h: &Harness, method: &str, path: &str, body: Option<Value>) -> Answer {
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path.split('?').next().unwrap_or(path),
        "rawQueryString": path.split_once('?').map(|(_, q)| q).unwrap_or(""),
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.eu-central-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "authorizer": {"iam": {
                "accessKey": "ASIAEXAMPLE", "accountId": "123456789012", "callerId": "AROAEXAMPLE:jane",
                "principalOrgId": null, "userArn": OPERATOR, "userId": "AROAEXAMPLE:jane"}},
            "domainName": "abc123.execute-api.eu-central-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path.split('?').next().unwrap_or(path),
                     "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "awscurl/0.36"},
            "requestId": "audit-test",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Dec/2026:21:00:00 +0000",
            "timeEpoch": 1_796_158_800_000_u64
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    });
    let request = lambda_http::request::from_str(&event.to_string()).expect("a v2 event");
    read(h.router.clone().oneshot(request).await.expect("infallible")).await
}

fn parked_mapping(h: &Harness) -> Mapping {
    Mapping {
        integration_id: h.id.clone(),
        kind: EntityKind::Absence,
        mapping_id: "m-parked".into(),
        personio_id: Some("p-1".into()),
        timetrack_id: Some("t-1".into()),
        fingerprint: None,
        anchor_date: None,
        intent: None,
        failures: 5,
        last_error: Some("TimeTrack answered HTTP 422".into()),
        parked: Some("failed 5 times".into()),
        updated_at: Timestamp::from_second(1_700_000_000).expect("valid"),
        version: 1,
    }
}

/// Every string value of `v`, recursively.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_change_is_recorded_with_its_caller_route_and_fields_and_no_secret() {
    let h = Harness::start().await;
    let id = h.id.clone();
    h.store
        .put_mapping(&parked_mapping(&h))
        .await
        .expect("a parked mapping");

    // 1. settings: one field changed
    let mut settings = serde_json::to_value(IntegrationSettings::example()).expect("json");
    settings["time_zone"] = json!("America/New_York");
    as_operator(
        &h,
        "PUT",
        &format!("/integrations/{id}/settings"),
        Some(settings.clone()),
    )
    .await
    .assert_ok();
    // a refused change (422) is not a change: no record
    let mut invalid = settings.clone();
    invalid["time_zone"] = json!("Mars/Olympus_Mons");
    as_operator(
        &h,
        "PUT",
        &format!("/integrations/{id}/settings"),
        Some(invalid),
    )
    .await
    .assert_problem(422, "invalid-settings");

    // 2. a schedule
    as_operator(
        &h,
        "PUT",
        &format!("/integrations/{id}/workflows/absences/schedule"),
        Some(json!({"expression": "rate(1 day)", "enabled": true, "time_zone": "Europe/Berlin"})),
    )
    .await
    .assert_ok();

    // 3. a parked-record release
    as_operator(
        &h,
        "POST",
        &format!("/integrations/{id}/parked/absence/m-parked/release"),
        None,
    )
    .await
    .assert_ok();

    // 4. a manual sync (dry run)
    let sync = as_operator(
        &h,
        "POST",
        &format!("/integrations/{id}/sync/employees"),
        Some(json!({"dry_run": true})),
    )
    .await;
    assert!(matches!(sync.status.as_u16(), 200 | 202), "{sync:?}");

    // 5. credentials: the TimeTrack secret rotated, everything else the same (last: the simulator
    //    does not know the new secret, so a sync after it would fail)
    let new_secret = "rotated-tt-s3cret-value";
    let mut creds = good_credentials_json();
    let old_secret = creds["timetrack_api_secret"].as_str().unwrap().to_string();
    creds["timetrack_api_secret"] = json!(new_secret);
    let stored = as_operator(
        &h,
        "PUT",
        &format!("/integrations/{id}/credentials"),
        Some(creds.clone()),
    )
    .await;
    assert_eq!(stored.status.as_u16(), 200, "{stored:?}");

    let trail = as_operator(&h, "GET", &format!("/integrations/{id}/audit"), None).await;
    trail.assert_ok();
    let records = trail.json["records"].as_array().expect("records").clone();
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        vec![
            "credentials_stored",
            "manual_sync",
            "parked_released",
            "schedule_changed",
            "settings_changed"
        ],
        "one record per change, newest first: {records:#?}"
    );
    for r in &records {
        assert_eq!(r["caller"], json!({"kind": "iam", "arn": OPERATOR}), "{r}");
        assert_eq!(r["integration_id"], json!(id.as_str()));
        assert!(
            r["at"]
                .as_str()
                .is_some_and(|t| t.parse::<Timestamp>().is_ok()),
            "{r}"
        );
    }
    let routes: Vec<&str> = records
        .iter()
        .map(|r| r["route"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        routes,
        vec![
            "PUT /integrations/{integration_id}/credentials",
            "POST /integrations/{integration_id}/sync/{workflow}",
            "POST /integrations/{integration_id}/parked/{kind}/{mapping_id}/release",
            "PUT /integrations/{integration_id}/workflows/{workflow}/schedule",
            "PUT /integrations/{integration_id}/settings",
        ]
    );

    let settings_record = &records[4];
    assert_eq!(
        settings_record["changes"],
        json!([{"field": "time_zone", "change": "changed", "before": "Europe/Berlin", "after": "America/New_York"}])
    );
    let credentials_record = &records[0];
    let changed: Vec<(&str, &str)> = credentials_record["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap_or_default(),
                c["change"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            ("personio_client_id", "unchanged"),
            ("personio_client_secret", "unchanged"),
            ("timetrack_account", "unchanged"),
            ("timetrack_api_key", "unchanged"),
            ("timetrack_api_secret", "changed"),
        ]
    );
    assert_eq!(records[3]["subject"], json!("absences"));
    assert_eq!(records[2]["subject"], json!("absence/m-parked"));
    assert_eq!(records[2]["changes"][0]["before"], json!("failed 5 times"));
    assert!(
        records[1]["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("employees run ")),
        "{}",
        records[1]
    );
    assert_eq!(records[1]["changes"][0]["field"], json!("dry_run"));

    // No secret value — old or new — in the answer or in any stored audit item.
    let mut secrets: Vec<String> = Vec::new();
    strings(&good_credentials_json(), &mut secrets);
    secrets.retain(|s| s.len() >= 8);
    secrets.push(old_secret);
    secrets.push(new_secret.to_string());
    let items = dynamodb_client()
        .await
        .query()
        .table_name(h.store.table_name())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("INT#{id}#AUDIT")),
        )
        .send()
        .await
        .expect("query the audit partition");
    assert_eq!(items.count(), 5, "five audit items in the table");
    let stored_text = format!("{:?}", items.items());
    for secret in &secrets {
        assert!(
            !trail.text.contains(secret.as_str()),
            "a secret in the audit answer"
        );
        assert!(
            !stored_text.contains(secret.as_str()),
            "a secret in a stored audit item"
        );
    }
}

#[tokio::test]
async fn the_trail_pages_newest_first_and_refuses_bad_paging() {
    let h = Harness::start().await;
    let id = h.id.clone();
    for zone in ["Europe/Paris", "Europe/Madrid", "Europe/Rome"] {
        let mut settings = serde_json::to_value(IntegrationSettings::example()).expect("json");
        settings["time_zone"] = json!(zone);
        as_operator(
            &h,
            "PUT",
            &format!("/integrations/{id}/settings"),
            Some(settings),
        )
        .await
        .assert_ok();
    }
    let page1 = as_operator(
        &h,
        "GET",
        &format!("/integrations/{id}/audit?limit=2"),
        None,
    )
    .await;
    page1.assert_ok();
    let after = |a: &Answer| -> Vec<Value> {
        a.json["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["changes"][0]["after"].clone())
            .collect()
    };
    assert_eq!(
        after(&page1),
        vec![json!("Europe/Rome"), json!("Europe/Madrid")]
    );
    let cursor = page1.json["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let page2 = as_operator(
        &h,
        "GET",
        &format!("/integrations/{id}/audit?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    page2.assert_ok();
    assert_eq!(after(&page2), vec![json!("Europe/Paris")]);
    assert!(page2.json.get("next_cursor").is_none(), "{page2:?}");

    for bad in [
        "limit=0",
        "limit=101",
        "cursor=zz",
        "cursor=00ff",
        "unknown=1",
    ] {
        as_operator(&h, "GET", &format!("/integrations/{id}/audit?{bad}"), None)
            .await
            .assert_problem(400, "bad-request");
    }
    // An integration nobody changed has an empty trail.
    let empty = as_operator(&h, "GET", "/integrations/never-touched/audit", None).await;
    empty.assert_ok();
    assert_eq!(empty.json["records"], json!([]));
}
