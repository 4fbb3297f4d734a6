//! Parked mappings through the API on a DynamoDB store (moto): the list shows what is parked and
//! nothing else, a release clears the parking with a conditional versioned write (read back from the
//! store), a second release is a 409 `not-parked`, and a run writing the mapping between the API's read
//! and its write makes the release a 409 `concurrent-modification` instead of overwriting the run.
mod api_support;

use std::sync::Arc;

use api_support::{Answer, Harness};
use async_trait::async_trait;
use integration_tests::intercepting_store::{InterceptingStore, Interceptor, StoreCall};
use jiff::civil::{date, Date};
use jiff::Timestamp;
use serde_json::json;
use shared::domain::{EntityKind, IntegrationId};
use shared::runs::ParkReason;
use shared::scheduling::{EventBridgeScheduler, SchedulerTargets};
use shared::store::dynamodb::DynamoStore;
use shared::store::{Mapping, StateStore};

fn mapping(
    h: &Harness,
    kind: EntityKind,
    mapping_id: &str,
    anchor_date: Option<Date>,
    parked: Option<&str>,
) -> Mapping {
    Mapping {
        integration_id: h.id.clone(),
        kind,
        mapping_id: mapping_id.to_string(),
        personio_id: Some(format!("p-{mapping_id}")),
        timetrack_id: Some(format!("t-{mapping_id}")),
        fingerprint: Some("sha256-of-the-canonical-value".into()),
        anchor_date,
        intent: None,
        failures: if parked.is_some() { 5 } else { 1 },
        last_error: Some("Personio answered HTTP 422".into()),
        parked: parked.map(ParkReason::from),
        updated_at: Timestamp::from_second(1_700_000_000).expect("valid timestamp"),
        version: 1,
    }
}

/// Stores `m` at version 1, then rewrites it until it has `version` (the store only accepts +1 steps).
async fn store_at_version(store: &DynamoStore, mut m: Mapping, version: u64) -> Mapping {
    m.version = 1;
    store.put_mapping(&m).await.expect("put mapping v1");
    while m.version < version {
        m.version += 1;
        store.put_mapping(&m).await.expect("put next version");
    }
    m
}

async fn stored(
    store: &DynamoStore,
    id: &IntegrationId,
    kind: EntityKind,
    mapping_id: &str,
) -> Mapping {
    store
        .list_mappings(id, kind, None)
        .await
        .expect("list mappings")
        .into_iter()
        .find(|m| m.mapping_id == mapping_id)
        .expect("the mapping is still stored")
}

fn release_path(h: &Harness, kind: &str, mapping_id: &str) -> String {
    format!("/integrations/{}/parked/{kind}/{mapping_id}/release", h.id)
}

async fn list(h: &Harness) -> Answer {
    h.call("GET", &format!("/integrations/{}/parked", h.id), None)
        .await
}

#[tokio::test]
async fn the_list_shows_parked_mappings_of_every_kind_and_nothing_else() {
    let h = Harness::start().await;
    let empty = list(&h).await;
    empty.assert_ok();
    assert_eq!(empty.json, json!({"mappings": []}));

    let employee = mapping(
        &h,
        EntityKind::Employee,
        "emp-1",
        None,
        Some("refused: no e-mail"),
    );
    let entry = mapping(
        &h,
        EntityKind::TimeEntry,
        "te-1",
        Some(date(2026, 3, 2)),
        Some("approved period is locked"),
    );
    let absence = mapping(
        &h,
        EntityKind::Absence,
        "ab-1",
        Some(date(2026, 4, 1)),
        Some("5 consecutive failures"),
    );
    let healthy = mapping(
        &h,
        EntityKind::TimeEntry,
        "te-2",
        Some(date(2026, 3, 3)),
        None,
    );
    for m in [&employee, &absence, &healthy] {
        h.store.put_mapping(m).await.expect("put mapping");
    }
    let entry = store_at_version(&h.store, entry, 3).await;

    let answer = list(&h).await;
    answer.assert_ok();
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    let listed = answer.json["mappings"].as_array().expect("mappings array");
    let ids: Vec<&str> = listed
        .iter()
        .map(|m| m["mapping_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["emp-1", "te-1", "ab-1"], "{}", answer.text);
    assert_eq!(
        listed[1],
        json!({
            "kind": "time_entry",
            "mapping_id": "te-1",
            "personio_id": "p-te-1",
            "timetrack_id": "t-te-1",
            "anchor_date": "2026-03-02",
            "parked": "approved period is locked",
            "failures": 5,
            "last_error": "Personio answered HTTP 422",
            "updated_at": entry.updated_at.to_string(),
            "version": 3,
        })
    );
    assert_eq!(listed[0]["kind"], "employee");
    assert_eq!(listed[0]["anchor_date"], json!(null));
    assert_eq!(listed[2]["parked"], "5 consecutive failures");
    assert!(
        !answer.text.contains("sha256-of-the-canonical-value"),
        "no fingerprints: {}",
        answer.text
    );
}

#[tokio::test]
async fn a_release_clears_the_parking_and_a_second_release_is_a_conflict() {
    let h = Harness::start().await;
    let parked = mapping(
        &h,
        EntityKind::Absence,
        "ab-7",
        Some(date(2026, 5, 4)),
        Some("refused: half day in a multi-day absence"),
    );
    let parked = store_at_version(&h.store, parked, 2).await;

    let answer = h
        .call("POST", &release_path(&h, "absence", "ab-7"), None)
        .await;
    answer.assert_ok();
    assert_eq!(answer.json["mapping_id"], "ab-7");
    assert_eq!(answer.json["kind"], "absence");
    assert_eq!(answer.json["parked"], json!(null));
    assert_eq!(answer.json["failures"], 0);
    assert_eq!(answer.json["last_error"], json!(null));
    assert_eq!(answer.json["version"], 3);

    let after = stored(&h.store, &h.id, EntityKind::Absence, "ab-7").await;
    assert_eq!(after.parked, None);
    assert_eq!(after.failures, 0);
    assert_eq!(after.last_error, None);
    assert_eq!(after.version, parked.version + 1);
    assert!(after.updated_at > parked.updated_at);
    // The link and what was last synced are untouched: the next run compares with them as before.
    assert_eq!(after.fingerprint, parked.fingerprint);
    assert_eq!(
        (&after.personio_id, &after.timetrack_id, after.anchor_date),
        (
            &parked.personio_id,
            &parked.timetrack_id,
            parked.anchor_date
        )
    );
    assert_eq!(list(&h).await.json, json!({"mappings": []}));

    let again = h
        .call("POST", &release_path(&h, "absence", "ab-7"), None)
        .await;
    again.assert_problem(409, "not-parked");
    assert_eq!(
        stored(&h.store, &h.id, EntityKind::Absence, "ab-7")
            .await
            .version,
        after.version,
        "a refused release writes nothing"
    );
}

#[tokio::test]
async fn unknown_kinds_mappings_and_integrations_are_404_problems() {
    let h = Harness::start().await;
    let parked = mapping(&h, EntityKind::Employee, "emp-9", None, Some("refused"));
    h.store.put_mapping(&parked).await.expect("put mapping");

    h.call("POST", &release_path(&h, "payroll", "emp-9"), None)
        .await
        .assert_problem(404, "unknown-kind");
    // `time-entries` is the workflow's spelling; the kind is `time_entry`.
    h.call("POST", &release_path(&h, "time-entries", "emp-9"), None)
        .await
        .assert_problem(404, "unknown-kind");
    // The right id under another kind is not that mapping.
    h.call("POST", &release_path(&h, "absence", "emp-9"), None)
        .await
        .assert_problem(404, "unknown-mapping");
    h.call("POST", &release_path(&h, "employee", "emp-0"), None)
        .await
        .assert_problem(404, "unknown-mapping");
    h.call("POST", &release_path(&h, "employee", "emp%209"), None)
        .await
        .assert_problem(400, "invalid-id");

    h.call("GET", "/integrations/nobody/parked", None)
        .await
        .assert_problem(404, "unknown-integration");
    h.call(
        "POST",
        "/integrations/nobody/parked/employee/emp-9/release",
        None,
    )
    .await
    .assert_problem(404, "unknown-integration");
    assert_eq!(
        stored(&h.store, &h.id, EntityKind::Employee, "emp-9").await,
        parked,
        "nothing was written"
    );
}

/// The DynamoDB store, except that every `list_mappings` is followed by a write of the mapping
/// `racing_id` (as a run applying its plan would write it) before the stale list is returned: the
/// API's read-then-write always loses the race, deterministically. An [`Interceptor`] of the shared
/// [`InterceptingStore`].
struct RacingWrite {
    racing_id: String,
}

#[async_trait]
impl Interceptor for RacingWrite {
    async fn after(&self, call: StoreCall<'_>, inner: &dyn StateStore) {
        let StoreCall::ListMappings { id, kind } = call else {
            return;
        };
        let listed = inner.list_mappings(id, kind, None).await.expect("list");
        if let Some(m) = listed.iter().find(|m| m.mapping_id == self.racing_id) {
            let mut written = m.clone();
            written.version += 1;
            written.failures += 1;
            written.last_error = Some("written by a run meanwhile".into());
            inner.put_mapping(&written).await.expect("the racing write");
        }
    }
}

#[tokio::test]
async fn a_mapping_written_by_a_run_meanwhile_is_not_released_and_answers_409() {
    let h = Harness::start().await;
    let parked = mapping(
        &h,
        EntityKind::TimeEntry,
        "te-race",
        Some(date(2026, 3, 9)),
        Some("approved period is locked"),
    );
    h.store.put_mapping(&parked).await.expect("put mapping");

    let mut context = h.context.clone();
    context.store = Arc::new(InterceptingStore::new(
        h.store.clone(),
        Arc::new(RacingWrite {
            racing_id: "te-race".into(),
        }),
    ));
    let schedules = EventBridgeScheduler::new(
        h.scheduler_client.clone(),
        SchedulerTargets {
            group: h.schedule_group.clone(),
            role_arn: "arn:aws:iam::123456789012:role/scheduler".into(),
            employees_arn: "arn:aws:lambda:eu-central-1:123456789012:function:employees".into(),
            time_entries_arn: "arn:aws:lambda:eu-central-1:123456789012:function:time-entries"
                .into(),
            absences_arn: "arn:aws:lambda:eu-central-1:123456789012:function:absences".into(),
        },
    );
    let racing = api::router(api::ApiState::new(&context, Arc::new(schedules)));

    let answer = api_support::send(
        &racing,
        "POST",
        &release_path(&h, "time_entry", "te-race"),
        None,
    )
    .await;
    answer.assert_problem(409, "concurrent-modification");

    // What the run wrote stands; the release wrote nothing over it.
    let after = stored(&h.store, &h.id, EntityKind::TimeEntry, "te-race").await;
    assert_eq!(after.version, 2);
    assert_eq!(
        after.last_error.as_deref(),
        Some("written by a run meanwhile")
    );
    assert_eq!(after.parked, parked.parked);

    // Without the race (the ordinary router), the same release goes through.
    let answer = h
        .call("POST", &release_path(&h, "time_entry", "te-race"), None)
        .await;
    answer.assert_ok();
    assert_eq!(answer.json["version"], 3);
    assert_eq!(
        stored(&h.store, &h.id, EntityKind::TimeEntry, "te-race")
            .await
            .parked,
        None
    );
}

/// The whole loop on the employees workflow (simulators + moto): a parked pair is skipped by the next
/// run with its reason; once released, the next run plans it like any other record again.
#[tokio::test]
async fn a_released_mapping_is_planned_again_by_the_next_run() {
    let h = Harness::start().await;
    let sync = format!("/integrations/{}/sync/employees", h.id);
    h.call("POST", &sync, Some(json!({}))).await.assert_ok();
    let linked = h
        .store
        .list_mappings(&h.id, EntityKind::Employee, None)
        .await
        .expect("list mappings")
        .into_iter()
        .find(|m| m.personio_id.is_some() && m.timetrack_id.is_some())
        .expect("the first sync linked at least one pair");
    let mut parked = linked.clone();
    parked.version += 1;
    parked.failures = 5;
    parked.last_error = Some("TimeTrack answered HTTP 422".into());
    parked.parked = Some("5 consecutive failures".into());
    h.store
        .put_mapping(&parked)
        .await
        .expect("park the mapping");

    let skipped_as_parked = |run: &Answer| -> bool {
        run.json["skipped"]
            .as_array()
            .expect("skipped array")
            .iter()
            .any(|s| s["reason"] == "parked: 5 consecutive failures")
    };
    let run = h.call("POST", &sync, Some(json!({"dry_run": true}))).await;
    run.assert_ok();
    assert!(skipped_as_parked(&run), "{}", run.text);

    h.call(
        "POST",
        &release_path(&h, "employee", &linked.mapping_id),
        None,
    )
    .await
    .assert_ok();
    let run = h.call("POST", &sync, Some(json!({"dry_run": true}))).await;
    run.assert_ok();
    assert!(!skipped_as_parked(&run), "{}", run.text);
}
