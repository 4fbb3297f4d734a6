//! The DynamoDB state store against moto, with the real aws-sdk-dynamodb client.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test store_dynamodb`.
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use integration_tests::{dynamodb_client, fresh_table, unique};
use jiff::civil::date;
use jiff::Timestamp;
use shared::domain::{EntityKind, IntegrationId, Workflow};
use shared::store::contract::{sample_mapping, sample_run, store_contract_suite};
use shared::store::dynamodb::{DynamoStore, DEFAULT_RUN_RETENTION, TTL_ATTRIBUTE};
use shared::store::{StateStore, StoreError};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn iid(s: &str) -> IntegrationId {
    IntegrationId::new(s).unwrap()
}

#[tokio::test]
async fn dynamo_store_satisfies_the_store_contract() {
    let (store, _) = fresh_table().await;
    store_contract_suite(&store).await;
}

/// A mapping item as a version before the by-day index wrote it (no `day_pk`) is found by the first
/// windowed read, which puts it into the index (ADR 0029).
#[tokio::test]
async fn mappings_written_before_the_day_index_join_it_on_the_first_windowed_read() {
    let (store, table) = fresh_table().await;
    let client = dynamodb_client().await;
    let key = |m: &shared::store::Mapping| {
        (
            AttributeValue::S(format!("INT#{}#MAP#{}", m.integration_id, m.kind)),
            AttributeValue::S(format!("M#{}", m.mapping_id)),
        )
    };
    let legacy = |m: shared::store::Mapping| {
        let (store, client, table) = (store.clone(), client.clone(), table.clone());
        async move {
            store.put_mapping(&m).await.unwrap();
            let (pk, sk) = key(&m);
            client
                .update_item()
                .table_name(&table)
                .key("pk", pk)
                .key("sk", sk)
                .update_expression("REMOVE day_pk")
                .send()
                .await
                .unwrap();
            let item = client
                .get_item()
                .table_name(&table)
                .key("pk", key(&m).0)
                .key("sk", key(&m).1)
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .unwrap();
            assert!(!item.contains_key("day_pk"), "written as before the index");
        }
    };
    let in_index = |m: shared::store::Mapping| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let day = m.anchor_date.map_or("none".to_string(), |d| d.to_string());
            let out = client
                .query()
                .table_name(&table)
                .index_name("mappings-by-day")
                .key_condition_expression("day_pk = :d")
                .expression_attribute_values(
                    ":d",
                    AttributeValue::S(format!("INT#{}#MAP#{}#D#{day}", m.integration_id, m.kind)),
                )
                .send()
                .await
                .unwrap();
            out.items().iter().any(|i| i.get("sk") == Some(&key(&m).1))
        }
    };
    // Through a second store value (a new process): the marker item, not this process's memory,
    // says the kind is indexed.
    shared::store::contract::legacy_mappings_join_the_day_index(&store, legacy, in_index).await;
    let other_process = DynamoStore::new(client.clone(), table.clone());
    let id = iid("contract-legacy-index");
    let window = shared::domain::DateWindow::new(date(2026, 4, 1), date(2026, 4, 3)).unwrap();
    assert_eq!(
        other_process
            .list_mappings(&id, EntityKind::TimeEntry, Some(&window))
            .await
            .unwrap()
            .len(),
        2
    );
    let marker = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(format!("INT#{id}")))
        .key("sk", AttributeValue::S("MAPIDX#time_entry".to_string()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        marker["indexed_legacy_items"],
        AttributeValue::N("1".into())
    );
}

#[tokio::test]
async fn contract_holds_with_tiny_query_pages() {
    // Pages of one item force every Query to follow LastEvaluatedKey.
    let (store, _) = fresh_table().await;
    store_contract_suite(&store.with_query_page_size(1)).await;
}

#[tokio::test]
async fn of_two_writers_of_version_2_exactly_one_wins() {
    let (store, _) = fresh_table().await;
    let id = iid("acme");
    let v1 = sample_mapping(&id, EntityKind::Absence, "m", Some(date(2026, 3, 29)));
    store.put_mapping(&v1).await.unwrap();

    let mut left = v1.clone();
    left.version = 2;
    left.timetrack_id = Some("left".into());
    let mut right = v1.clone();
    right.version = 2;
    right.timetrack_id = Some("right".into());

    let (a, b) = tokio::join!(store.put_mapping(&left), store.put_mapping(&right));
    let wins = [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count();
    assert_eq!(wins, 1, "exactly one conditional write wins: {a:?} / {b:?}");
    let loser = if a.is_err() { a } else { b };
    assert!(matches!(loser, Err(StoreError::Conflict { .. })));

    let stored = store
        .list_mappings(&id, EntityKind::Absence, None)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].version, 2);
    let winner = if stored[0].timetrack_id.as_deref() == Some("left") {
        &left
    } else {
        &right
    };
    assert_eq!(
        &stored[0], winner,
        "the stored mapping is the winner's, whole"
    );
}

#[tokio::test]
async fn of_two_concurrent_acquires_exactly_one_wins() {
    let (store, _) = fresh_table().await;
    let id = iid("acme");
    let now = ts("2026-03-29T01:00:00Z");
    let ttl = Duration::from_secs(900);
    let (a, b) = tokio::join!(
        store.acquire_lease(&id, Workflow::Absences, "run-a", now, ttl),
        store.acquire_lease(&id, Workflow::Absences, "run-b", now, ttl),
    );
    let (winner, loser) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("exactly one acquire must win, got {other:?}"),
    };
    match loser {
        StoreError::LeaseHeld {
            holder, expires_at, ..
        } => {
            assert_eq!(holder, winner.holder, "the loser is told who holds it");
            assert_eq!(expires_at, winner.expires_at);
        }
        other => panic!("expected LeaseHeld, got {other:?}"),
    }
}

#[tokio::test]
async fn expired_lease_is_taken_over_and_the_old_holder_loses_it() {
    let (store, _) = fresh_table().await;
    let id = iid("acme");
    let ttl = Duration::from_secs(60);
    let old = store
        .acquire_lease(
            &id,
            Workflow::TimeEntries,
            "run-old",
            ts("2026-01-01T00:00:00Z"),
            ttl,
        )
        .await
        .unwrap();
    let later = ts("2026-01-01T00:01:00.001Z");
    let new = store
        .acquire_lease(&id, Workflow::TimeEntries, "run-new", later, ttl)
        .await
        .expect("an expired lease is free for takeover");
    assert_eq!(new.expires_at, ts("2026-01-01T00:02:00.001Z"));
    assert!(matches!(
        store.renew_lease(&old, later, ttl).await,
        Err(StoreError::LeaseLost { .. })
    ));
    store.release_lease(&old).await.unwrap();
    assert!(
        store.renew_lease(&new, later, ttl).await.is_ok(),
        "the stale holder's release left the new lease alone"
    );
}

#[tokio::test]
async fn runs_page_newest_first_across_many_query_pages() {
    let (store, _) = fresh_table().await;
    let store = store.with_query_page_size(4);
    let id = iid("acme");
    let base = ts("2026-05-01T00:00:00Z");
    let workflows = [
        Workflow::Employees,
        Workflow::TimeEntries,
        Workflow::Absences,
    ];
    for i in 0..25i64 {
        let started = base
            .checked_add(jiff::SignedDuration::from_secs(i * 3600))
            .unwrap();
        // Ids deliberately not time-ordered: ordering must come from started_at.
        let run = sample_run(
            &id,
            &format!("run-{:02}", 99 - i),
            workflows[(i % 3) as usize],
            started,
        );
        store.put_run(&run).await.unwrap();
    }

    let mut started = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_runs(&id, None, 7, cursor.as_deref())
            .await
            .unwrap();
        assert!(page.runs.len() <= 7);
        started.extend(page.runs.iter().map(|r| r.started_at));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(started.len(), 25, "every run exactly once");
    assert!(
        started.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );

    let mut absences = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_runs(&id, Some(Workflow::Absences), 3, cursor.as_deref())
            .await
            .unwrap();
        assert!(page.runs.iter().all(|r| r.workflow == Workflow::Absences));
        absences.extend(page.runs.into_iter().map(|r| r.run_id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    // i % 3 == 2 for i in 0..25: 8 runs, newest (largest i, smallest id number) first.
    let expected: Vec<String> = (0..25i64)
        .rev()
        .filter(|i| i % 3 == 2)
        .map(|i| format!("run-{:02}", 99 - i))
        .collect();
    assert_eq!(absences, expected);
}

#[tokio::test]
async fn table_has_ttl_and_runs_and_leases_carry_it() {
    let client = dynamodb_client().await;
    let (store, table) = fresh_table().await;
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description().expect("TTL description");
    assert_eq!(description.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(
        description.time_to_live_status(),
        Some(&TimeToLiveStatus::Enabled)
    );

    let id = iid("acme");
    let started = ts("2026-02-01T12:00:00Z");
    let run = sample_run(&id, "run-ttl", Workflow::Absences, started);
    store.put_run(&run).await.unwrap();
    let short = store
        .clone()
        .with_run_retention(Duration::from_secs(7 * 86_400));
    let run7 = sample_run(&id, "run-ttl-7", Workflow::Absences, started);
    short.put_run(&run7).await.unwrap();

    let items = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("INT#acme#RUN".into()))
        .send()
        .await
        .unwrap();
    let expiry_of = |run_id: &str| {
        let item = items
            .items()
            .iter()
            .find(|i| i.get("run_id") == Some(&AttributeValue::S(run_id.into())))
            .unwrap_or_else(|| panic!("run item {run_id} missing"));
        item.get(TTL_ATTRIBUTE)
            .and_then(|v| v.as_n().ok())
            .expect("TTL attribute is a number")
            .parse::<i64>()
            .unwrap()
    };
    let retention = i64::try_from(DEFAULT_RUN_RETENTION.as_secs()).unwrap();
    assert_eq!(expiry_of("run-ttl"), started.as_second() + retention);
    assert_eq!(expiry_of("run-ttl-7"), started.as_second() + 7 * 86_400);

    let lease = store
        .acquire_lease(
            &id,
            Workflow::Absences,
            "run-ttl",
            started,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("INT#acme".into()))
        .key("sk", AttributeValue::S("LEASE#absences".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("lease item");
    let lease_ttl: i64 = item[TTL_ATTRIBUTE].as_n().unwrap().parse().unwrap();
    assert!(
        lease_ttl > lease.expires_at.as_second(),
        "TTL may only tidy up after the lease expired"
    );
}

#[tokio::test]
async fn settings_round_trip_and_count_versions() {
    let client = dynamodb_client().await;
    let (store, table) = fresh_table().await;
    let id = iid("acme");
    let mut settings = shared::settings::IntegrationSettings::example();
    store.put_settings(&id, &settings).await.unwrap();
    settings.sync.concurrency = 8;
    store.put_settings(&id, &settings).await.unwrap();
    assert_eq!(store.get_settings(&id).await.unwrap(), Some(settings));
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("INT#acme".into()))
        .key("sk", AttributeValue::S("SETTINGS".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("settings item");
    assert_eq!(item["version"], AttributeValue::N("2".into()));
}

#[tokio::test]
async fn create_table_is_idempotent() {
    let client = dynamodb_client().await;
    let name = unique("state");
    DynamoStore::create_table(&client, &name).await.unwrap();
    DynamoStore::create_table(&client, &name)
        .await
        .expect("second create accepts the existing table");
}

#[tokio::test]
async fn corrupt_items_and_backend_failures_are_typed() {
    let client = dynamodb_client().await;
    let (store, table) = fresh_table().await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("INT#acme".into()))
        .item("sk", AttributeValue::S("SETTINGS".into()))
        .item("settings", AttributeValue::S("{not json".into()))
        .send()
        .await
        .unwrap();
    match store.get_settings(&iid("acme")).await {
        Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "INT#acme/SETTINGS"),
        other => panic!("expected Corrupt, got {other:?}"),
    }

    let missing = DynamoStore::new(client, unique("no-such-table"));
    match missing
        .get_watermark(&iid("acme"), Workflow::Employees)
        .await
    {
        Err(StoreError::Backend { operation, message }) => {
            assert_eq!(operation, "get_watermark");
            assert!(message.contains("ResourceNotFound"), "{message}");
        }
        other => panic!("expected Backend, got {other:?}"),
    }
}
