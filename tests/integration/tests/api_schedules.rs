//! Workflow schedules through the API, read back with the Scheduler API directly (moto).
mod api_support;

use api_support::Harness;
use aws_sdk_scheduler::types::ScheduleState;
use serde_json::json;
use shared::domain::Workflow;
use shared::scheduling::schedule_name;

#[tokio::test]
async fn a_schedule_change_is_visible_through_the_scheduler_api() {
    let h = Harness::start().await;
    let path = format!("/integrations/{}/workflows/time-entries/schedule", h.id);
    h.call("GET", &path, None)
        .await
        .assert_problem(404, "unknown-schedule");

    let body =
        json!({"expression": "cron(0 6 * * ? *)", "enabled": false, "time_zone": "Europe/Berlin"});
    let put = h.call("PUT", &path, Some(body.clone())).await;
    put.assert_ok();
    assert_eq!(put.json, body);

    let direct = h
        .scheduler_client
        .get_schedule()
        .group_name(&h.schedule_group)
        .name(schedule_name(&h.id, Workflow::TimeEntries))
        .send()
        .await
        .expect("the schedule exists in EventBridge Scheduler");
    assert_eq!(direct.schedule_expression(), Some("cron(0 6 * * ? *)"));
    assert_eq!(direct.schedule_expression_timezone(), Some("Europe/Berlin"));
    assert_eq!(direct.state(), Some(&ScheduleState::Disabled));
    let target = direct.target().expect("target");
    assert!(
        target.arn().ends_with(":function:time-entries"),
        "{}",
        target.arn()
    );
    let input: serde_json::Value =
        serde_json::from_str(target.input().unwrap_or_default()).expect("input is JSON");
    assert_eq!(
        input,
        json!({"integration_id": h.id.as_str(), "trigger": "schedule"})
    );

    let get = h.call("GET", &path, None).await;
    get.assert_ok();
    assert_eq!(get.json, body);

    // Changing it again replaces it.
    let hourly = json!({"expression": "rate(1 hour)", "enabled": true, "time_zone": "UTC"});
    h.call("PUT", &path, Some(hourly.clone())).await.assert_ok();
    let direct = h
        .scheduler_client
        .get_schedule()
        .group_name(&h.schedule_group)
        .name(schedule_name(&h.id, Workflow::TimeEntries))
        .send()
        .await
        .expect("still there");
    assert_eq!(direct.schedule_expression(), Some("rate(1 hour)"));
    assert_eq!(direct.state(), Some(&ScheduleState::Enabled));
}

#[tokio::test]
async fn invalid_schedules_are_rejected_and_not_stored() {
    let h = Harness::start().await;
    let path = format!("/integrations/{}/workflows/absences/schedule", h.id);
    for (body, status, slug) in [
        (
            json!({"expression": "every hour", "enabled": true}),
            422,
            "invalid-schedule",
        ),
        (
            json!({"expression": "rate(0 hours)", "enabled": true}),
            422,
            "invalid-schedule",
        ),
        (
            json!({"expression": "cron(0 6 * *)", "enabled": true}),
            422,
            "invalid-schedule",
        ),
        (
            json!({"expression": "rate(1 hour)", "enabled": true, "time_zone": "Mars/Base"}),
            422,
            "invalid-schedule",
        ),
        (json!({"expression": "rate(1 hour)"}), 400, "invalid-body"),
        (
            json!({"expression": "rate(1 hour)", "enabled": "yes"}),
            400,
            "invalid-body",
        ),
        (
            json!({"expression": "rate(1 hour)", "enabled": true, "tz": "UTC"}),
            400,
            "invalid-body",
        ),
    ] {
        let answer = h.call("PUT", &path, Some(body.clone())).await;
        answer.assert_problem(status, slug);
    }
    h.call("GET", &path, None)
        .await
        .assert_problem(404, "unknown-schedule");
    h.call(
        "PUT",
        &format!("/integrations/{}/workflows/payroll/schedule", h.id),
        Some(json!({"expression": "rate(1 hour)", "enabled": true})),
    )
    .await
    .assert_problem(404, "unknown-workflow");
    h.call(
        "PUT",
        "/integrations/nobody/workflows/absences/schedule",
        Some(json!({"expression": "rate(1 hour)", "enabled": true})),
    )
    .await
    .assert_problem(404, "unknown-integration");
}
