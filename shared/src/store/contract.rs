//! The behaviour every [`StateStore`] adapter must show, written once and run against each adapter
//! (`MemoryStore` in a unit test, `DynamoStore` against moto in an integration test), so that the engine's
//! unit tests on the memory store say something true about production.
//!
//! Each check uses its own integration id, so the suite can run against a store that already holds data
//! (only the ids starting with `contract-` are touched). Failures panic with a message naming the rule.
use std::time::Duration;

use jiff::civil::{date, Date};
use jiff::Timestamp;

use super::{Lease, Mapping, PendingIntent, StateStore, StoreError, Watermark};
use crate::audit::{AuditAction, AuditRecord, Caller, ChangeKind, FieldChange};
use crate::domain::{DateWindow, Direction, EntityKind, IntegrationId, System, Trigger, Workflow};
use crate::runs::{ParkReason, RunPlan, RunRecord, RunStatus};
use crate::settings::{AbsenceTypeMapping, IntegrationSettings};

/// Runs every contract check against `store`.
pub async fn store_contract_suite(store: &dyn StateStore) {
    settings_round_trip(store).await;
    mapping_versions_are_conditional(store).await;
    mappings_filter_by_window_and_kind(store).await;
    mappings_follow_their_anchor_and_are_found_by_record_id(store).await;
    watermarks_are_per_workflow(store).await;
    runs_are_found_by_id_and_listed_newest_first(store).await;
    run_paging_with_workflow_filter(store).await;
    leases_exclude_take_over_and_release(store).await;
    audit_records_append_and_page_newest_first(store).await;
    webhook_state_parts_are_written_alone(store).await;
}

/// The receiver, the API and the replay each write their own part of the webhook state; none overwrites
/// another's, a removed subscription leaves the rest, and the company is pinned once.
async fn webhook_state_parts_are_written_alone(store: &dyn StateStore) {
    use super::{WebhookDelivery, WebhookState, WebhookSubscription};
    let id = iid("webhooks");
    assert_eq!(
        store.get_webhook_state(&id).await.unwrap(),
        WebhookState::default(),
        "nothing written yet"
    );
    let sub = WebhookSubscription {
        webhook_id: "wh-1".into(),
        url: "https://example.test/integrations/x/webhooks/personio".into(),
        enabled_events: vec!["person.updated".into(), "absence-period.created".into()],
        registered_at: ts("2026-12-01T10:00:00Z"),
        token_rotated_at: ts("2026-12-01T10:00:00Z"),
    };
    store
        .put_webhook_subscription(&id, Some(&sub))
        .await
        .unwrap();
    let delivery = WebhookDelivery {
        received_at: ts("2026-12-01T10:05:00.123456789Z"),
        event_name: "person.updated".into(),
        enqueued: true,
    };
    store.record_webhook_delivery(&id, &delivery).await.unwrap();
    store
        .put_webhook_replay_mark(&id, Workflow::Absences, ts("2026-12-01T10:10:00Z"))
        .await
        .unwrap();
    store
        .put_webhook_replay_mark(&id, Workflow::Employees, ts("2026-12-01T10:11:00Z"))
        .await
        .unwrap();
    assert_eq!(
        store.pin_webhook_company(&id, "112233").await.unwrap(),
        "112233"
    );
    assert_eq!(
        store.pin_webhook_company(&id, "999").await.unwrap(),
        "112233",
        "a pinned company stays"
    );
    let state = store.get_webhook_state(&id).await.unwrap();
    assert_eq!(state.subscription.as_ref(), Some(&sub));
    assert_eq!(state.last_delivery.as_ref(), Some(&delivery));
    assert_eq!(
        state.replayed_until.get(&Workflow::Absences),
        Some(&ts("2026-12-01T10:10:00Z"))
    );
    assert_eq!(
        state.replayed_until.get(&Workflow::Employees),
        Some(&ts("2026-12-01T10:11:00Z"))
    );
    assert_eq!(state.replayed_until.get(&Workflow::TimeEntries), None);
    assert_eq!(state.company_id.as_deref(), Some("112233"));

    store
        .put_webhook_company(&id, Some("445566"))
        .await
        .unwrap();
    store.put_webhook_subscription(&id, None).await.unwrap();
    let state = store.get_webhook_state(&id).await.unwrap();
    assert_eq!(state.subscription, None);
    assert_eq!(state.company_id.as_deref(), Some("445566"));
    assert_eq!(state.last_delivery.as_ref(), Some(&delivery), "kept");
    store.put_webhook_company(&id, None).await.unwrap();
    assert_eq!(
        store.pin_webhook_company(&id, "778899").await.unwrap(),
        "778899",
        "a removed company can be pinned again"
    );
    assert_eq!(
        store
            .get_webhook_state(&iid("webhooks-other"))
            .await
            .unwrap(),
        WebhookState::default(),
        "per integration"
    );
}

/// A mapping whose anchor moves is listed in its new day's window only, a long window (over the
/// by-day index's 62 days) lists the same as short ones, and `find_mappings` finds mappings by either
/// side's record id wherever they are anchored.
async fn mappings_follow_their_anchor_and_are_found_by_record_id(store: &dyn StateStore) {
    use std::collections::HashSet;
    let id = iid("anchor-moves");
    let kind = EntityKind::TimeEntry;
    let mut moving = sample_mapping(&id, kind, "moving", Some(date(2026, 3, 5)));
    let staying = sample_mapping(&id, kind, "staying", Some(date(2026, 3, 6)));
    let undated = sample_mapping(&id, kind, "undated", None);
    for m in [&moving, &staying, &undated] {
        store.put_mapping(m).await.expect("put");
    }
    let idr = &id;
    let listed = |from: Date, to: Date| async move {
        let window = DateWindow::new(from, to).expect("ordered");
        sorted_ids(store.list_mappings(idr, kind, Some(&window)).await)
    };
    assert_eq!(
        listed(date(2026, 3, 5), date(2026, 3, 5)).await,
        ["moving", "undated"]
    );
    moving.anchor_date = Some(date(2026, 3, 20));
    moving.version = 2;
    store.put_mapping(&moving).await.expect("put moved");
    assert_eq!(
        listed(date(2026, 3, 5), date(2026, 3, 5)).await,
        ["undated"],
        "left its old day"
    );
    assert_eq!(
        listed(date(2026, 3, 20), date(2026, 3, 20)).await,
        ["moving", "undated"]
    );
    let long = listed(date(2025, 1, 1), date(2026, 12, 31)).await;
    assert_eq!(
        long,
        ["moving", "staying", "undated"],
        "a long window lists like short ones"
    );
    let moved = store
        .list_mappings(
            &id,
            kind,
            Some(&DateWindow::new(date(2026, 3, 20), date(2026, 3, 20)).expect("ordered")),
        )
        .await
        .expect("list")
        .into_iter()
        .find(|m| m.mapping_id == "moving")
        .expect("listed");
    assert_eq!(moved, moving, "read back whole");

    // Counted per anchor day of the window, without the unanchored ones.
    let counts = store
        .count_mappings_by_day(
            &id,
            kind,
            &DateWindow::new(date(2026, 3, 1), date(2026, 3, 31)).expect("ordered"),
        )
        .await
        .expect("count");
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [(date(2026, 3, 6), 1), (date(2026, 3, 20), 1)],
        "counted by anchor day"
    );
    assert!(store
        .count_mappings_by_day(
            &id,
            kind,
            &DateWindow::new(date(2026, 3, 7), date(2026, 3, 19)).expect("ordered"),
        )
        .await
        .expect("count empty")
        .is_empty());

    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<String>>();
    let found = sorted_ids(
        store
            .find_mappings(
                &id,
                kind,
                &ids(&["p-moving", "p-nobody"]),
                &ids(&["t-staying"]),
            )
            .await,
    );
    assert_eq!(found, ["moving", "staying"]);
    assert!(store
        .find_mappings(&id, EntityKind::Absence, &ids(&["p-moving"]), &ids(&[]))
        .await
        .expect("find other kind")
        .is_empty());
    assert!(store
        .find_mappings(
            &iid("anchor-moves-other"),
            kind,
            &ids(&["p-moving"]),
            &ids(&[])
        )
        .await
        .expect("find other integration")
        .is_empty());
}

/// A mapping written before the by-day index existed (`write_legacy` writes it as an older version
/// did; on a store without an index, as `put_mapping` does) is found by a windowed read, counted by
/// day, and afterwards carried in the index (`in_index`); a mapping written later is found too.
pub async fn legacy_mappings_join_the_day_index<W, WF, I, IF>(
    store: &dyn StateStore,
    write_legacy: W,
    in_index: I,
) where
    W: Fn(Mapping) -> WF,
    WF: std::future::Future<Output = ()>,
    I: Fn(Mapping) -> IF,
    IF: std::future::Future<Output = bool>,
{
    let id = iid("legacy-index");
    let kind = EntityKind::TimeEntry;
    let old = sample_mapping(&id, kind, "written-before", Some(date(2026, 4, 2)));
    write_legacy(old.clone()).await;
    let window = DateWindow::new(date(2026, 4, 1), date(2026, 4, 3)).expect("ordered");
    let listed = store
        .list_mappings(&id, kind, Some(&window))
        .await
        .expect("windowed read");
    assert_eq!(
        listed,
        std::slice::from_ref(&old),
        "the old mapping is read by window"
    );
    assert!(
        in_index(old.clone()).await,
        "and is in the index afterwards"
    );
    let new = sample_mapping(&id, kind, "written-after", Some(date(2026, 4, 3)));
    store.put_mapping(&new).await.expect("put");
    let counts = store
        .count_mappings_by_day(&id, kind, &window)
        .await
        .expect("count");
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [(date(2026, 4, 2), 1), (date(2026, 4, 3), 1)]
    );
    let ids = sorted_ids(store.list_mappings(&id, kind, Some(&window)).await);
    assert_eq!(ids, ["written-after", "written-before"]);
}

/// The ids of a read's mappings, sorted (the stores promise no order).
fn sorted_ids(read: Result<Vec<Mapping>, StoreError>) -> Vec<String> {
    let mut ids: Vec<String> = read
        .expect("read mappings")
        .into_iter()
        .map(|m| m.mapping_id)
        .collect();
    ids.sort();
    ids
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("contract timestamps are valid literals")
}

fn iid(name: &str) -> IntegrationId {
    IntegrationId::new(format!("contract-{name}")).expect("contract ids are valid")
}

/// A mapping with every optional field filled when `anchor` is set, so round trips are checked fully.
pub fn sample_mapping(
    integration_id: &IntegrationId,
    kind: EntityKind,
    mapping_id: &str,
    anchor: Option<Date>,
) -> Mapping {
    Mapping {
        integration_id: integration_id.clone(),
        kind,
        mapping_id: mapping_id.to_string(),
        personio_id: Some(format!("p-{mapping_id}")),
        timetrack_id: anchor.map(|_| format!("t-{mapping_id}")),
        fingerprint: anchor.map(|_| "f00d".to_string()),
        anchor_date: anchor,
        intent: anchor.map(|_| PendingIntent {
            target: System::TimeTrack,
            natural_key: "anna.müller@example.com|2026-03-29".to_string(),
            fingerprint: "beef".to_string(),
            run_id: "run-0".to_string(),
            created_at: ts("2026-03-29T01:30:00.123456789Z"),
            parts: vec!["WORK|1006|2026-03-29T01:30:00|2026-03-29T02:00:00".to_string()],
        }),
        failures: 0,
        last_error: None,
        parked: None,
        updated_at: ts("2026-03-29T02:00:00.5Z"),
        version: 1,
    }
}

/// A run record of `workflow` that started at `started_at`.
pub fn sample_run(
    integration_id: &IntegrationId,
    run_id: &str,
    workflow: Workflow,
    started_at: Timestamp,
) -> RunRecord {
    RunRecord {
        run_id: run_id.to_string(),
        integration_id: integration_id.clone(),
        workflow,
        trigger: Trigger::Schedule,
        window: DateWindow::new(date(2026, 3, 1), date(2026, 3, 31))
            .expect("literal window is ordered"),
        direction: Direction::Both,
        dry_run: false,
        status: RunStatus::Running,
        started_at,
        finished_at: None,
        duration_ms: None,
        counts: Default::default(),
        conflicts: Vec::new(),
        failures: Vec::new(),
        skipped: Vec::new(),
        plan: RunPlan::None,
        continuation: None,
        continues_run_id: None,
        error: None,
        event_ids: Vec::new(),
        scope: None,
    }
}

async fn settings_round_trip(store: &dyn StateStore) {
    let id = iid("settings");
    assert_eq!(
        store.get_settings(&id).await.expect("get_settings"),
        None,
        "unknown integration has no settings"
    );
    let mut settings = IntegrationSettings::example();
    store
        .put_settings(&id, &settings)
        .await
        .expect("put_settings");
    assert_eq!(
        store.get_settings(&id).await.expect("get"),
        Some(settings.clone())
    );

    settings.time_zone = "Europe/Vienna".into();
    settings.absences.type_mappings.push(AbsenceTypeMapping {
        timetrack_type_id: 7,
        personio_type_id: "urlaub".to_string(),
        master: System::Personio,
        half_day_timetrack_type_id: Some(8),
    });
    store.put_settings(&id, &settings).await.expect("overwrite");
    assert_eq!(
        store.get_settings(&id).await.expect("get"),
        Some(settings),
        "put_settings replaces the document"
    );
    assert_eq!(
        store
            .get_settings(&iid("settings-other"))
            .await
            .expect("get"),
        None,
        "settings are per integration"
    );
}

async fn mapping_versions_are_conditional(store: &dyn StateStore) {
    let id = iid("versions");
    let kind = EntityKind::Absence;
    let v1 = sample_mapping(&id, kind, "m-1", Some(date(2026, 3, 29)));
    store
        .put_mapping(&v1)
        .await
        .expect("version 1 of a new mapping");
    assert_conflict(
        store.put_mapping(&v1).await,
        "second version 1 of the same mapping",
    );

    let mut v0 = v1.clone();
    v0.mapping_id = "m-zero".to_string();
    v0.version = 0;
    assert_conflict(store.put_mapping(&v0).await, "version 0 is never valid");

    let mut v2 = v1.clone();
    v2.version = 2;
    v2.timetrack_id = Some("t-new".to_string());
    v2.intent = None;
    v2.failures = 3;
    v2.last_error = Some("TimeTrack answered 422: end before start".to_string());
    // A typed reason: the store keeps its text and reads it back into the same variant.
    v2.parked = Some(ParkReason::RepeatedFailures {
        failures: 5,
        last: "TimeTrack answered HTTP 500 (transient)".to_string(),
    });
    store
        .put_mapping(&v2)
        .await
        .expect("version 2 after version 1");
    assert_conflict(store.put_mapping(&v2).await, "stale writer of version 2");

    let mut v4 = v2.clone();
    v4.version = 4;
    assert_conflict(store.put_mapping(&v4).await, "skipping a version");

    let mut fresh_v2 = sample_mapping(&id, kind, "m-never-written", None);
    fresh_v2.version = 2;
    assert_conflict(
        store.put_mapping(&fresh_v2).await,
        "version 2 of a missing mapping",
    );

    let listed = store.list_mappings(&id, kind, None).await.expect("list");
    assert_eq!(
        listed,
        vec![v2.clone()],
        "every field round-trips; failed writes left nothing"
    );

    assert_conflict(
        store.delete_mapping(&id, kind, "m-1", 1).await,
        "delete with a stale version",
    );
    assert_conflict(
        store.delete_mapping(&id, kind, "m-missing", 1).await,
        "delete of a missing mapping",
    );
    store
        .delete_mapping(&id, kind, "m-1", 2)
        .await
        .expect("delete with the current version");
    assert!(store
        .list_mappings(&id, kind, None)
        .await
        .expect("list")
        .is_empty());
    store
        .put_mapping(&v1)
        .await
        .expect("after a delete the id starts again at version 1");
}

async fn mappings_filter_by_window_and_kind(store: &dyn StateStore) {
    let id = iid("window");
    let kind = EntityKind::TimeEntry;
    let before = sample_mapping(&id, kind, "before", Some(date(2026, 2, 28)));
    let first = sample_mapping(&id, kind, "first", Some(date(2026, 3, 1)));
    let last = sample_mapping(&id, kind, "last", Some(date(2026, 3, 31)));
    let after = sample_mapping(&id, kind, "after", Some(date(2026, 4, 1)));
    let undated = sample_mapping(&id, kind, "undated", None);
    let other_kind = sample_mapping(
        &id,
        EntityKind::Absence,
        "other-kind",
        Some(date(2026, 3, 5)),
    );
    let other_integration = sample_mapping(
        &iid("window-other"),
        kind,
        "other-int",
        Some(date(2026, 3, 5)),
    );
    for m in [
        &before,
        &first,
        &last,
        &after,
        &undated,
        &other_kind,
        &other_integration,
    ] {
        store.put_mapping(m).await.expect("put");
    }
    let window = DateWindow::new(date(2026, 3, 1), date(2026, 3, 31)).expect("ordered");
    let ids = sorted_ids(store.list_mappings(&id, kind, Some(&window)).await);
    assert_eq!(
        ids,
        ["first", "last", "undated"],
        "window is inclusive; undated always listed"
    );

    let all = sorted_ids(store.list_mappings(&id, kind, None).await);
    assert_eq!(all, ["after", "before", "first", "last", "undated"]);
}

async fn watermarks_are_per_workflow(store: &dyn StateStore) {
    let id = iid("watermarks");
    assert_eq!(
        store
            .get_watermark(&id, Workflow::Absences)
            .await
            .expect("get"),
        None
    );
    let w1 = Watermark {
        last_success_at: ts("2026-03-29T03:00:00.000001Z"),
        run_id: "r1".to_string(),
    };
    store
        .put_watermark(&id, Workflow::Absences, &w1)
        .await
        .expect("put");
    assert_eq!(
        store
            .get_watermark(&id, Workflow::Absences)
            .await
            .expect("get"),
        Some(w1)
    );
    assert_eq!(
        store
            .get_watermark(&id, Workflow::TimeEntries)
            .await
            .expect("get"),
        None,
        "watermarks are per workflow"
    );
    let w2 = Watermark {
        last_success_at: ts("2026-03-30T03:00:00Z"),
        run_id: "r2".to_string(),
    };
    store
        .put_watermark(&id, Workflow::Absences, &w2)
        .await
        .expect("overwrite");
    assert_eq!(
        store
            .get_watermark(&id, Workflow::Absences)
            .await
            .expect("get"),
        Some(w2)
    );
}

async fn runs_are_found_by_id_and_listed_newest_first(store: &dyn StateStore) {
    let id = iid("runs");
    let old = sample_run(&id, "r-old", Workflow::Absences, ts("2026-03-01T10:00:00Z"));
    let mid = sample_run(
        &id,
        "r-mid",
        Workflow::Absences,
        ts("2026-03-01T10:00:00.5Z"),
    );
    let new = sample_run(&id, "r-new", Workflow::Absences, ts("2026-03-02T09:00:00Z"));
    // Written out of order on purpose: the order comes from started_at, not from insertion.
    for run in [&mid, &new, &old] {
        store.put_run(run).await.expect("put_run");
    }
    let elsewhere = sample_run(
        &iid("runs-other"),
        "r-x",
        Workflow::Absences,
        ts("2026-03-05T00:00:00Z"),
    );
    store.put_run(&elsewhere).await.expect("put_run");

    assert_eq!(
        store.get_run(&id, "r-mid").await.expect("get"),
        Some(mid.clone())
    );
    assert_eq!(store.get_run(&id, "r-unknown").await.expect("get"), None);
    assert_eq!(
        store.get_run(&id, "r-x").await.expect("get"),
        None,
        "runs are per integration"
    );

    let mut finished = mid.clone();
    finished.status = RunStatus::Succeeded;
    finished.finished_at = Some(ts("2026-03-01T10:05:00Z"));
    finished.duration_ms = Some(300_000);
    finished.counts.timetrack.create = 3;
    store.put_run(&finished).await.expect("replace run");
    assert_eq!(
        store.get_run(&id, "r-mid").await.expect("get"),
        Some(finished.clone())
    );

    let page = store.list_runs(&id, None, 10, None).await.expect("list");
    assert_eq!(
        page.runs,
        vec![new, finished, old],
        "newest first, replaced run not duplicated"
    );
    assert_eq!(page.next_cursor, None, "everything fit on one page");
}

async fn run_paging_with_workflow_filter(store: &dyn StateStore) {
    let id = iid("paging");
    let base = ts("2026-01-01T00:00:00Z");
    let mut absence_ids = Vec::new();
    for i in 0..7i64 {
        let workflow = if i % 3 == 1 {
            Workflow::TimeEntries
        } else {
            Workflow::Absences
        };
        let started = base
            .checked_add(jiff::SignedDuration::from_mins(i * 7))
            .expect("small offsets");
        let run = sample_run(&id, &format!("run-{i}"), workflow, started);
        store.put_run(&run).await.expect("put_run");
        if workflow == Workflow::Absences {
            absence_ids.push(run.run_id);
        }
    }
    absence_ids.reverse();

    // All runs, pages of 3: 3 + 3 + 1.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_runs(&id, None, 3, cursor.as_deref())
            .await
            .expect("list page");
        pages += 1;
        assert!(page.runs.len() <= 3, "a page never exceeds its limit");
        seen.extend(page.runs.into_iter().map(|r| r.run_id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "paging must terminate");
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("run-{i}")).collect();
    assert_eq!(
        seen, expected,
        "pages continue exactly where the last one ended"
    );
    assert_eq!(pages, 3);

    // Only absences, pages of 2: the filter applies before the limit.
    let first = store
        .list_runs(&id, Some(Workflow::Absences), 2, None)
        .await
        .expect("filtered page");
    let ids: Vec<&str> = first.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, [absence_ids[0].as_str(), absence_ids[1].as_str()]);
    let cursor = first.next_cursor.expect("more absences follow");
    let second = store
        .list_runs(&id, Some(Workflow::Absences), 10, Some(&cursor))
        .await
        .expect("filtered second page");
    let ids: Vec<String> = second.runs.iter().map(|r| r.run_id.clone()).collect();
    assert_eq!(ids, absence_ids[2..].to_vec());
    assert_eq!(second.next_cursor, None);

    assert!(
        matches!(
            store.list_runs(&id, None, 3, Some("not a cursor")).await,
            Err(StoreError::Corrupt { .. })
        ),
        "a cursor this store did not issue is rejected"
    );
}

async fn leases_exclude_take_over_and_release(store: &dyn StateStore) {
    let id = iid("leases");
    let wf = Workflow::TimeEntries;
    let ttl = Duration::from_secs(60);
    let t0 = ts("2026-03-29T01:00:00Z");

    let a = store
        .acquire_lease(&id, wf, "run-a", t0, ttl)
        .await
        .expect("free lease");
    assert_eq!(a.holder, "run-a");
    assert_eq!(a.expires_at, ts("2026-03-29T01:01:00Z"));

    match store
        .acquire_lease(&id, wf, "run-b", ts("2026-03-29T01:00:30Z"), ttl)
        .await
    {
        Err(StoreError::LeaseHeld {
            holder,
            expires_at,
            workflow,
            integration_id,
        }) => {
            assert_eq!(holder, "run-a");
            assert_eq!(expires_at, a.expires_at);
            assert_eq!(workflow, wf);
            assert_eq!(integration_id, id);
        }
        other => panic!("a live lease must exclude others, got {other:?}"),
    }
    // Held through its expiry instant.
    assert!(matches!(
        store
            .acquire_lease(&id, wf, "run-b", a.expires_at, ttl)
            .await,
        Err(StoreError::LeaseHeld { .. })
    ));
    // Other workflows and integrations are independent.
    store
        .acquire_lease(&id, Workflow::Absences, "run-b", t0, ttl)
        .await
        .expect("another workflow's lease is free");
    store
        .acquire_lease(&iid("leases-other"), wf, "run-b", t0, ttl)
        .await
        .expect("another integration's lease is free");

    // Re-acquire by the holder extends.
    let a2 = store
        .acquire_lease(&id, wf, "run-a", ts("2026-03-29T01:00:40Z"), ttl)
        .await
        .expect("holder may re-acquire");
    assert_eq!(a2.expires_at, ts("2026-03-29T01:01:40Z"));
    let a3 = store
        .renew_lease(&a2, ts("2026-03-29T01:01:00Z"), Duration::from_secs(120))
        .await
        .expect("holder renews");
    assert_eq!(a3.expires_at, ts("2026-03-29T01:03:00Z"));
    assert_eq!(a3.holder, "run-a");

    // After expiry another run takes over; the old holder has lost it.
    let after_expiry = ts("2026-03-29T01:03:00.001Z");
    let b = store
        .acquire_lease(&id, wf, "run-b", after_expiry, ttl)
        .await
        .expect("expired lease is taken over");
    assert_eq!(b.holder, "run-b");
    assert!(matches!(
        store.renew_lease(&a3, after_expiry, ttl).await,
        Err(StoreError::LeaseLost { .. })
    ));
    // Releasing a lost lease does nothing to the new holder's lease.
    store
        .release_lease(&a3)
        .await
        .expect("release of a lost lease is a no-op");
    match store
        .acquire_lease(&id, wf, "run-c", after_expiry, ttl)
        .await
    {
        Err(StoreError::LeaseHeld { holder, .. }) => assert_eq!(holder, "run-b"),
        other => panic!("run-b still holds the lease, got {other:?}"),
    }
    store.release_lease(&b).await.expect("holder releases");
    assert!(matches!(
        store.renew_lease(&b, after_expiry, ttl).await,
        Err(StoreError::LeaseLost { .. })
    ));
    let c: Lease = store
        .acquire_lease(&id, wf, "run-c", after_expiry, ttl)
        .await
        .expect("released lease is free");
    assert_eq!(c.holder, "run-c");
}

fn assert_conflict(result: Result<(), StoreError>, rule: &str) {
    match result {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("{rule}: expected Conflict, got {other:?}"),
    }
}

/// Audit records are appended (never replaced), listed newest first per integration, and paged with an
/// opaque cursor. A fresh integration id per call: the suite may run twice against one table.
async fn audit_records_append_and_page_newest_first(store: &dyn StateStore) {
    let id = iid(&format!("audit-{:08x}", rand::random::<u32>()));
    let caller = Caller::Iam {
        arn: "arn:aws:sts::123456789012:assumed-role/ops/jane".to_string(),
    };
    let record = |at: &str, action: AuditAction| {
        AuditRecord::new(
            id.clone(),
            ts(at),
            caller.clone(),
            "PUT /integrations/{integration_id}/settings",
            action,
            vec![FieldChange {
                field: "sync.max_failures_before_parking".to_string(),
                change: ChangeKind::Changed,
                before: Some(serde_json::json!(5)),
                after: Some(serde_json::json!(7)),
                redacted: false,
            }],
        )
    };
    let first = record("2026-03-01T10:00:00Z", AuditAction::SettingsChanged);
    let second =
        record("2026-03-01T10:00:00.5Z", AuditAction::CredentialsStored).with_subject("personio");
    let third = record("2026-03-02T09:00:00Z", AuditAction::ParkedReleased);
    // Out of order on purpose: the order comes from the time of the change.
    for r in [&second, &third, &first] {
        store.put_audit(r).await.expect("put_audit");
    }
    assert!(
        matches!(
            store.put_audit(&first).await,
            Err(StoreError::Conflict { .. })
        ),
        "an audit record is never replaced"
    );
    let other = AuditRecord::new(
        iid(&format!("audit-other-{:08x}", rand::random::<u32>())),
        ts("2026-03-05T00:00:00Z"),
        Caller::Unauthenticated,
        "POST /integrations/{integration_id}/sync/{workflow}",
        AuditAction::ManualSync,
        Vec::new(),
    );
    store.put_audit(&other).await.expect("put_audit");

    let all = store.list_audit(&id, 10, None).await.expect("list_audit");
    assert_eq!(
        all.records,
        vec![third.clone(), second.clone(), first.clone()],
        "newest first, only this integration's records, every field kept"
    );
    assert_eq!(all.next_cursor, None);

    let page1 = store.list_audit(&id, 2, None).await.expect("page 1");
    assert_eq!(page1.records, vec![third, second]);
    let cursor = page1.next_cursor.expect("a second page");
    let page2 = store
        .list_audit(&id, 2, Some(&cursor))
        .await
        .expect("page 2");
    assert_eq!(page2.records, vec![first]);
    assert_eq!(page2.next_cursor, None, "last page");
    assert!(
        matches!(
            store.list_audit(&id, 2, Some("not-a-cursor")).await,
            Err(StoreError::Corrupt { ref key, .. }) if key == "cursor"
        ),
        "a foreign cursor is refused"
    );
}
