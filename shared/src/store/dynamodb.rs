//! DynamoDB adapter of the [`StateStore`](super::StateStore).
//!
//! Single-table design (full table of item types in `docs/state-store.md`): partition key `pk`, sort key
//! `sk`, both strings; TTL on the numeric attribute `expires_at` (epoch seconds).
//!
//! | item | `pk` | `sk` |
//! |---|---|---|
//! | settings | `INT#<id>` | `SETTINGS` |
//! | watermark | `INT#<id>` | `WM#<workflow>` |
//! | lease | `INT#<id>` | `LEASE#<workflow>` |
//! | mapping | `INT#<id>#MAP#<kind>` | `M#<mapping_id>` |
//! | run | `INT#<id>#RUN` | `<started_at, 9 fraction digits>Z#<run_id>` |
//! | run lookup | `INT#<id>#RUNID` | `<run_id>` (attribute `run_sk` points at the run item) |
//! | audit | `INT#<id>#AUDIT` | `<at, 9 fraction digits>Z#<audit_id>` |
//! | webhook state | `INT#<id>` | `WEBHOOK` (attributes `subscription`, `company_id`, `last_delivery`, `replayed_until_<workflow>`, each written alone) |
//!
//! Runs sort by start time whatever their id looks like; the lookup item makes `get_run` by id one extra
//! `GetItem`. Both are written in one transaction so neither can exist without the other.
//!
//! Expressions are kept to plain, long-standing DynamoDB syntax (conditions, `BETWEEN`,
//! `attribute_not_exists`) so that moto, which answers unsupported expressions with a 500, behaves like
//! the real service.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ScalarAttributeType, Select,
    TableStatus, TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use futures::stream::{self, StreamExt, TryStreamExt};
use jiff::civil::Date;
use jiff::Timestamp;

use super::keys::{
    audit_sort_key, decode_cursor, encode_cursor, lease_expiry_ms, run_sort_key, timestamp_from_ms,
};
use super::{
    Lease, Mapping, PendingIntent, RunPage, StateStore, StoreError, Watermark, WebhookDelivery,
    WebhookState, WebhookSubscription,
};
use crate::audit::{AuditPage, AuditRecord};
use crate::domain::{DateWindow, EntityKind, IntegrationId, Workflow};
use crate::runs::{ParkReason, RunRecord};
use crate::settings::IntegrationSettings;

type Item = HashMap<String, AttributeValue>;

/// How long run records are kept before DynamoDB's TTL removes them.
pub const DEFAULT_RUN_RETENTION: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// How long audit records are kept before DynamoDB's TTL removes them (docs/adr/0019-audit-trail.md).
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// Extra time a lease item lives after its expiry before TTL may delete it. Expiry itself is decided by
/// `expires_at_ms`; TTL only tidies up (and deletes lazily, hours late), so it must never be the judge.
const LEASE_TTL_SLACK_SECS: i64 = 24 * 60 * 60;

/// The TTL attribute (epoch seconds) enabled on the table.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The global secondary index that holds the mappings of one kind and anchor day in one partition
/// (ADR 0029): a windowed run (a slice, a targeted run's days) reads its days' mappings instead of the
/// whole kind. Hash key [`DAY_KEY_ATTRIBUTE`], range key `sk`, every attribute projected.
pub const MAPPINGS_BY_DAY_INDEX: &str = "mappings-by-day";
/// The index's hash key on mapping items: `INT#<id>#MAP#<kind>#D#<YYYY-MM-DD>` (`#D#none` without an
/// anchor date).
pub const DAY_KEY_ATTRIBUTE: &str = "day_pk";
/// Windows of at most this many days are read through [`MAPPINGS_BY_DAY_INDEX`], one Query per day
/// (a month's window: 31 + 1); longer ones (a year of absences) with one filtered Query of the kind.
const INDEXED_WINDOW_DAYS: i32 = 62;
/// Day Queries in flight at once.
const DAY_QUERY_CONCURRENCY: usize = 8;

/// The [`StateStore`] backed by one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table_name: String,
    run_retention: Duration,
    audit_retention: Duration,
    query_page_size: Option<i32>,
    /// The mapping partitions (`mapping_pk`) this process saw marked as wholly in
    /// [`MAPPINGS_BY_DAY_INDEX`] ([`DynamoStore::ensure_day_index`]): checked once per process.
    day_indexed: Arc<Mutex<HashSet<String>>>,
}

/// A string attribute of the table's key schema (the table's and the index's keys are all strings).
fn string_attribute(
    name: &str,
) -> Result<AttributeDefinition, aws_smithy_types::error::operation::BuildError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
}

/// One element of a key schema (the table's or the index's).
fn key_element(
    name: &str,
    key_type: KeyType,
) -> Result<KeySchemaElement, aws_smithy_types::error::operation::BuildError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
}

impl DynamoStore {
    pub fn new(client: Client, table_name: String) -> Self {
        Self {
            client,
            table_name,
            run_retention: DEFAULT_RUN_RETENTION,
            audit_retention: DEFAULT_AUDIT_RETENTION,
            query_page_size: None,
            day_indexed: Arc::default(),
        }
    }

    /// Run records expire `retention` after their start (default [`DEFAULT_RUN_RETENTION`]).
    pub fn with_run_retention(mut self, retention: Duration) -> Self {
        self.run_retention = retention;
        self
    }

    /// Audit records expire `retention` after they were made (default [`DEFAULT_AUDIT_RETENTION`]).
    pub fn with_audit_retention(mut self, retention: Duration) -> Self {
        self.audit_retention = retention;
        self
    }

    /// Caps the items per Query request (`Limit`). Only useful to prove that paging works with small pages;
    /// by default DynamoDB's own 1 MB pages are used.
    pub fn with_query_page_size(mut self, items: i32) -> Self {
        self.query_page_size = Some(items.max(1));
        self
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
    }

    /// Creates the table (`pk`/`sk` strings, on-demand billing), waits until it is active and enables TTL
    /// on [`TTL_ATTRIBUTE`]. Idempotent: an existing table is accepted and only its TTL is ensured.
    pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
        let op = "create_table";
        let build = |e: aws_smithy_types::error::operation::BuildError| backend(op, e);
        let created = client
            .create_table()
            .table_name(name)
            .attribute_definitions(string_attribute("pk").map_err(build)?)
            .attribute_definitions(string_attribute("sk").map_err(build)?)
            .attribute_definitions(string_attribute(DAY_KEY_ATTRIBUTE).map_err(build)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(MAPPINGS_BY_DAY_INDEX)
                    .key_schema(key_element(DAY_KEY_ATTRIBUTE, KeyType::Hash).map_err(build)?)
                    .key_schema(key_element("sk", KeyType::Range).map_err(build)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(build)?,
            )
            .key_schema(key_element("pk", KeyType::Hash).map_err(build)?)
            .key_schema(key_element("sk", KeyType::Range).map_err(build)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        if let Err(err) = created {
            let exists = err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception());
            if !exists {
                return Err(backend(op, err));
            }
        }

        // A new table is CREATING for a few seconds on AWS (moto creates it ACTIVE).
        for _ in 0..120 {
            let described = client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| backend("describe_table", e))?;
            if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        let ttl = client
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| backend("describe_time_to_live", e))?;
        let enabled = ttl.time_to_live_description().is_some_and(|d| {
            matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            ) && d.attribute_name() == Some(TTL_ATTRIBUTE)
        });
        if !enabled {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(TTL_ATTRIBUTE)
                        .build()
                        .map_err(|e| backend("update_time_to_live", e))?,
                )
                .send()
                .await
                .map_err(|e| backend("update_time_to_live", e))?;
        }
        Ok(())
    }

    /// Sets one string attribute of the webhook-state item (or removes it with `None`).
    async fn set_webhook_attribute(
        &self,
        op: &str,
        integration_id: &IntegrationId,
        name: &str,
        value: Option<String>,
    ) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .key("pk", s(integration_pk(integration_id)))
            .key("sk", s(WEBHOOK_SK))
            .expression_attribute_names("#a", name);
        let update = match value {
            Some(v) => update
                .update_expression("SET #a = :v")
                .expression_attribute_values(":v", s(v)),
            None => update.update_expression("REMOVE #a"),
        };
        update.send().await.map_err(|e| backend(op, e))?;
        Ok(())
    }

    async fn get_item(&self, op: &str, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table_name)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(op, e))?;
        Ok(out.item)
    }

    /// All items of a partition (optionally filtered), following `LastEvaluatedKey` to the end.
    async fn query_all(
        &self,
        op: &str,
        pk: String,
        filter: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        self.query_pages(op, None, pk, filter, |page| {
            items.extend(page.iter().cloned());
        })
        .await?;
        Ok(items)
    }

    /// Every page of a partition of the table (`index` `None`, key `pk`) or of an index (its hash key
    /// attribute), each handed to `on_page` as it arrives, so a caller can keep only what it needs.
    async fn query_pages(
        &self,
        op: &str,
        index: Option<(&str, &str)>,
        key: String,
        filter: Option<(&str, Vec<(&str, AttributeValue)>)>,
        mut on_page: impl FnMut(&[Item]) + Send,
    ) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table_name)
                .expression_attribute_values(":pk", s(key.clone()))
                .set_limit(self.query_page_size)
                .set_exclusive_start_key(start.take());
            request = match index {
                // Global secondary indexes are read eventually consistent (they allow nothing else).
                Some((name, attribute)) => request
                    .index_name(name)
                    .key_condition_expression("#k = :pk")
                    .expression_attribute_names("#k", attribute),
                None => request
                    .key_condition_expression("pk = :pk")
                    .consistent_read(true),
            };
            if let Some((expression, values)) = &filter {
                request = request.filter_expression(*expression);
                for (name, value) in values {
                    request = request.expression_attribute_values(*name, value.clone());
                }
            }
            let out = request.send().await.map_err(|e| backend(op, e))?;
            on_page(out.items());
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(()),
            }
        }
    }

    /// The mappings of `window` (and those without an anchor date) through [`MAPPINGS_BY_DAY_INDEX`]:
    /// one Query per day, so the read is the window's mappings, not the kind's.
    async fn list_mappings_by_day(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: &DateWindow,
    ) -> Result<Vec<Mapping>, StoreError> {
        let just_indexed = self
            .ensure_day_index(integration_id, kind, Some(window))
            .await?;
        let mut keys = vec![mapping_day_key(integration_id, kind, None)];
        keys.extend(
            window
                .each_day()
                .map(|day| mapping_day_key(integration_id, kind, Some(day))),
        );
        let pages: Vec<Vec<Mapping>> = stream::iter(keys)
            .map(|key| async move {
                let mut mappings = Vec::new();
                let mut decoded = Ok(());
                self.query_pages(
                    "list_mappings",
                    Some((MAPPINGS_BY_DAY_INDEX, DAY_KEY_ATTRIBUTE)),
                    key,
                    None,
                    |page| {
                        for item in page {
                            match mapping_from_item(item) {
                                Ok(m) => mappings.push(m),
                                Err(e) => decoded = Err(e),
                            }
                        }
                    },
                )
                .await?;
                decoded.map(|()| mappings)
            })
            .buffer_unordered(DAY_QUERY_CONCURRENCY)
            .try_collect()
            .await?;
        let mut mappings: Vec<Mapping> = pages.into_iter().flatten().collect();
        if !just_indexed.is_empty() {
            // The index may not show them yet (eventually consistent): the base table's copies are
            // added unless the index returned the mapping (the higher version wins).
            let mut by_id: HashMap<String, Mapping> = mappings
                .drain(..)
                .map(|m| (m.mapping_id.clone(), m))
                .collect();
            for m in just_indexed {
                match by_id.get(&m.mapping_id) {
                    Some(seen) if seen.version >= m.version => {}
                    _ => {
                        by_id.insert(m.mapping_id.clone(), m);
                    }
                }
            }
            mappings = by_id.into_values().collect();
        }
        Ok(mappings)
    }

    /// Makes sure every mapping of the kind is in [`MAPPINGS_BY_DAY_INDEX`] before a read through it.
    /// Mappings written before the index existed lack `day_pk` and would be invisible to windowed
    /// reads; the first windowed read of a kind (per integration) walks the kind's partition once,
    /// sets `day_pk` on every item that lacks it (conditional on it still lacking it and still
    /// existing: a mapping re-put or deleted meanwhile is left as it is), and then writes the marker
    /// item `INT#<id>` / `MAPIDX#<kind>`. The marker is read once per process. Until the index has
    /// caught up with the new keys (it is eventually consistent), the run's `find_mappings` finds
    /// the mappings of listed records, as it does for any mapping the index does not show yet.
    ///
    /// Returns the mappings it added to the index that `window` covers (anchored in it, or without
    /// an anchor; none without a window), so the read that did the work returns them even before the
    /// index shows them.
    async fn ensure_day_index(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: Option<&DateWindow>,
    ) -> Result<Vec<Mapping>, StoreError> {
        let partition = mapping_pk(integration_id, kind);
        let known = |set: &Mutex<HashSet<String>>| {
            set.lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&partition)
        };
        if known(&self.day_indexed) {
            return Ok(Vec::new());
        }
        let marker_sk = day_index_marker_sk(kind);
        let marker = self
            .get_item(
                "ensure_day_index",
                integration_pk(integration_id),
                marker_sk.clone(),
            )
            .await?;
        let mut in_window = Vec::new();
        if marker.is_none() {
            let mut legacy: Vec<(String, String)> = Vec::new();
            let mut decoded = Ok(());
            self.query_pages("ensure_day_index", None, partition.clone(), None, |page| {
                for item in page.iter().filter(|i| !i.contains_key(DAY_KEY_ATTRIBUTE)) {
                    match mapping_from_item(item) {
                        Ok(m) => {
                            legacy.push((
                                mapping_sk(&m.mapping_id),
                                mapping_day_key(&m.integration_id, m.kind, m.anchor_date),
                            ));
                            let covered = match (window, m.anchor_date) {
                                (None, _) => false,
                                (Some(w), Some(day)) => w.contains(day),
                                (Some(_), None) => true,
                            };
                            if covered {
                                in_window.push(m);
                            }
                        }
                        Err(e) => decoded = Err(e),
                    }
                }
            })
            .await?;
            decoded?;
            let indexed = legacy.len();
            stream::iter(legacy)
                .map(|(sk, day_key)| {
                    let pk = partition.clone();
                    async move {
                        let result = self
                            .client
                            .update_item()
                            .table_name(&self.table_name)
                            .key("pk", s(pk))
                            .key("sk", s(sk))
                            .update_expression("SET #d = :d")
                            .condition_expression(
                                "attribute_exists(pk) AND attribute_not_exists(#d)",
                            )
                            .expression_attribute_names("#d", DAY_KEY_ATTRIBUTE)
                            .expression_attribute_values(":d", s(day_key))
                            .send()
                            .await;
                        match result {
                            Ok(_) => Ok(()),
                            Err(e)
                                if conditional_failed(&e, |e| {
                                    e.is_conditional_check_failed_exception()
                                }) =>
                            {
                                Ok(())
                            }
                            Err(e) => Err(backend("ensure_day_index", e)),
                        }
                    }
                })
                .buffer_unordered(DAY_QUERY_CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await?;
            self.client
                .put_item()
                .table_name(&self.table_name)
                .item("pk", s(integration_pk(integration_id)))
                .item("sk", s(marker_sk))
                .item("indexed_legacy_items", n(indexed as i64))
                .send()
                .await
                .map_err(|e| backend("ensure_day_index", e))?;
            if indexed > 0 {
                tracing::info!(
                    integration_id = %integration_id, kind = %kind, mappings = indexed,
                    "mappings written before the by-day index were added to it"
                );
            }
        }
        self.day_indexed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(partition);
        Ok(in_window)
    }

    /// How many items a partition of [`MAPPINGS_BY_DAY_INDEX`] holds (`Select: COUNT`: no item is
    /// read out).
    async fn count_index_partition(&self, key: String) -> Result<u64, StoreError> {
        let mut start: Option<Item> = None;
        let mut count: u64 = 0;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table_name)
                .index_name(MAPPINGS_BY_DAY_INDEX)
                .key_condition_expression("#k = :pk")
                .expression_attribute_names("#k", DAY_KEY_ATTRIBUTE)
                .expression_attribute_values(":pk", s(key.clone()))
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("count_mappings_by_day", e))?;
            count += u64::try_from(out.count()).unwrap_or(0);
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(count),
            }
        }
    }
}

// --- keys --------------------------------------------------------------------------------------

fn integration_pk(id: &IntegrationId) -> String {
    format!("INT#{id}")
}
fn mapping_pk(id: &IntegrationId, kind: EntityKind) -> String {
    format!("INT#{id}#MAP#{kind}")
}
/// The [`MAPPINGS_BY_DAY_INDEX`] partition of a kind's mappings anchored on `day` (`None`: unanchored).
fn mapping_day_key(id: &IntegrationId, kind: EntityKind, day: Option<Date>) -> String {
    match day {
        Some(day) => format!("{}#D#{day}", mapping_pk(id, kind)),
        None => format!("{}#D#none", mapping_pk(id, kind)),
    }
}
fn mapping_sk(mapping_id: &str) -> String {
    format!("M#{mapping_id}")
}
fn run_pk(id: &IntegrationId) -> String {
    format!("INT#{id}#RUN")
}
fn run_lookup_pk(id: &IntegrationId) -> String {
    format!("INT#{id}#RUNID")
}
fn audit_pk(id: &IntegrationId) -> String {
    format!("INT#{id}#AUDIT")
}
fn watermark_sk(workflow: Workflow) -> String {
    format!("WM#{workflow}")
}
fn lease_sk(workflow: Workflow) -> String {
    format!("LEASE#{workflow}")
}
/// The marker that every mapping of `kind` carries `day_pk` ([`DynamoStore::ensure_day_index`]).
fn day_index_marker_sk(kind: EntityKind) -> String {
    format!("MAPIDX#{kind}")
}
const SETTINGS_SK: &str = "SETTINGS";
const WEBHOOK_SK: &str = "WEBHOOK";

/// `replayed_until_<workflow>` on the webhook-state item.
fn replay_mark_attribute(workflow: Workflow) -> String {
    format!("replayed_until_{}", workflow.as_str())
}

// --- attribute helpers -------------------------------------------------------------------------

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}
fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn backend(operation: &str, err: impl std::error::Error) -> StoreError {
    StoreError::Backend {
        operation: operation.to_string(),
        message: DisplayErrorContext(err).to_string(),
    }
}

/// Reads the attributes of one item, reporting a missing or malformed one as `Corrupt` with the item key.
struct Decoder<'a> {
    item: &'a Item,
    key: String,
}

impl<'a> Decoder<'a> {
    fn new(item: &'a Item) -> Self {
        let part = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .map_or("?", String::as_str)
        };
        let key = format!("{}/{}", part("pk"), part("sk"));
        Self { item, key }
    }

    fn corrupt(&self, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            key: self.key.clone(),
            reason: reason.into(),
        }
    }

    fn opt_str(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
            Some(_) => Err(self.corrupt(format!("attribute {name} is not a string"))),
        }
    }

    fn str(&self, name: &str) -> Result<String, StoreError> {
        self.opt_str(name)?
            .ok_or_else(|| self.corrupt(format!("attribute {name} is missing")))
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        match self.item.get(name) {
            Some(AttributeValue::N(v)) => v
                .parse()
                .map_err(|_| self.corrupt(format!("attribute {name} is not a valid number"))),
            Some(_) => Err(self.corrupt(format!("attribute {name} is not a number"))),
            None => Err(self.corrupt(format!("attribute {name} is missing"))),
        }
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.str(name)?;
        raw.parse()
            .map_err(|e| self.corrupt(format!("attribute {name}: {e}")))
    }

    fn opt_parsed<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_str(name)?
            .map(|raw| {
                raw.parse()
                    .map_err(|e| self.corrupt(format!("attribute {name}: {e}")))
            })
            .transpose()
    }

    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        let raw = self.str(name)?;
        serde_json::from_str(&raw).map_err(|e| self.corrupt(format!("attribute {name}: {e}")))
    }

    fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        self.opt_str(name)?
            .map(|raw| {
                serde_json::from_str(&raw)
                    .map_err(|e| self.corrupt(format!("attribute {name}: {e}")))
            })
            .transpose()
    }
}

fn to_json(what: &str, value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        key: what.to_string(),
        reason: format!("cannot encode: {e}"),
    })
}

fn mapping_item(m: &Mapping) -> Result<Item, StoreError> {
    let mut item = Item::new();
    item.insert("pk".into(), s(mapping_pk(&m.integration_id, m.kind)));
    item.insert("sk".into(), s(mapping_sk(&m.mapping_id)));
    item.insert(
        DAY_KEY_ATTRIBUTE.into(),
        s(mapping_day_key(&m.integration_id, m.kind, m.anchor_date)),
    );
    item.insert("integration_id".into(), s(m.integration_id.as_str()));
    item.insert("kind".into(), s(m.kind.as_str()));
    item.insert("mapping_id".into(), s(&m.mapping_id));
    let optional = [
        ("personio_id", m.personio_id.clone()),
        ("timetrack_id", m.timetrack_id.clone()),
        ("fingerprint", m.fingerprint.clone()),
        ("anchor_date", m.anchor_date.map(|d| d.to_string())),
        ("last_error", m.last_error.clone()),
        ("parked", m.parked.as_ref().map(ToString::to_string)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.into(), s(value));
        }
    }
    if let Some(intent) = &m.intent {
        item.insert("intent".into(), s(to_json("mapping intent", intent)?));
    }
    item.insert("failures".into(), n(m.failures));
    item.insert("updated_at".into(), s(m.updated_at.to_string()));
    item.insert("version".into(), n(m.version));
    Ok(item)
}

fn parse_kind(d: &Decoder<'_>) -> Result<EntityKind, StoreError> {
    let raw = d.str("kind")?;
    [
        EntityKind::Employee,
        EntityKind::TimeEntry,
        EntityKind::Absence,
    ]
    .into_iter()
    .find(|k| k.as_str() == raw)
    .ok_or_else(|| d.corrupt(format!("unknown kind {raw:?}")))
}

fn mapping_from_item(item: &Item) -> Result<Mapping, StoreError> {
    let d = Decoder::new(item);
    Ok(Mapping {
        integration_id: d.parsed("integration_id")?,
        kind: parse_kind(&d)?,
        mapping_id: d.str("mapping_id")?,
        personio_id: d.opt_str("personio_id")?,
        timetrack_id: d.opt_str("timetrack_id")?,
        fingerprint: d.opt_str("fingerprint")?,
        anchor_date: d.opt_parsed::<Date>("anchor_date")?,
        intent: d.opt_json::<PendingIntent>("intent")?,
        failures: d.num("failures")?,
        last_error: d.opt_str("last_error")?,
        parked: d.opt_str("parked")?.map(ParkReason::from),
        updated_at: d.parsed("updated_at")?,
        version: d.num("version")?,
    })
}

fn conditional_failed<E>(
    err: &aws_sdk_dynamodb::error::SdkError<E>,
    check: impl Fn(&E) -> bool,
) -> bool {
    err.as_service_error().is_some_and(check)
}

fn mapping_conflict(id: &IntegrationId, kind: EntityKind, mapping_id: &str) -> StoreError {
    StoreError::Conflict {
        what: format!("mapping {kind}/{mapping_id} of integration {id}"),
    }
}

/// TTL value (epoch seconds) `after` past `from`.
fn ttl_epoch_seconds(from: Timestamp, after: Duration) -> i64 {
    let after = i64::try_from(after.as_secs()).unwrap_or(i64::MAX);
    from.as_second().saturating_add(after)
}

#[async_trait]
impl StateStore for DynamoStore {
    async fn get_settings(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<Option<IntegrationSettings>, StoreError> {
        let item = self
            .get_item(
                "get_settings",
                integration_pk(integration_id),
                SETTINGS_SK.into(),
            )
            .await?;
        item.as_ref()
            .map(|item| Decoder::new(item).json("settings"))
            .transpose()
    }

    async fn put_settings(
        &self,
        integration_id: &IntegrationId,
        settings: &IntegrationSettings,
    ) -> Result<(), StoreError> {
        let json = to_json("settings", settings)?;
        self.client
            .update_item()
            .table_name(&self.table_name)
            .key("pk", s(integration_pk(integration_id)))
            .key("sk", s(SETTINGS_SK))
            .update_expression("SET settings = :s, updated_at = :u ADD version :one")
            .expression_attribute_values(":s", s(json))
            .expression_attribute_values(":u", s(Timestamp::now().to_string()))
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| backend("put_settings", e))?;
        Ok(())
    }

    async fn list_mappings(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: Option<&DateWindow>,
    ) -> Result<Vec<Mapping>, StoreError> {
        if let Some(w) = window {
            let days = w
                .from
                .until(w.to)
                .map(|span| span.get_days())
                .unwrap_or(i32::MAX);
            if days < INDEXED_WINDOW_DAYS {
                return self.list_mappings_by_day(integration_id, kind, w).await;
            }
        }
        // ISO dates compare as strings in date order, so BETWEEN works on the stored `YYYY-MM-DD`.
        let filter = window.map(|w| {
            (
                "attribute_not_exists(anchor_date) OR anchor_date BETWEEN :from AND :to",
                vec![
                    (":from", s(w.from.to_string())),
                    (":to", s(w.to.to_string())),
                ],
            )
        });
        let items = self
            .query_all("list_mappings", mapping_pk(integration_id, kind), filter)
            .await?;
        items.iter().map(mapping_from_item).collect()
    }

    async fn count_mappings_by_day(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: &DateWindow,
    ) -> Result<BTreeMap<Date, u64>, StoreError> {
        let days = window
            .from
            .until(window.to)
            .map(|span| span.get_days())
            .unwrap_or(i32::MAX);
        if days >= INDEXED_WINDOW_DAYS {
            let mut counts = BTreeMap::new();
            for m in self
                .list_mappings(integration_id, kind, Some(window))
                .await?
            {
                if let Some(day) = m.anchor_date.filter(|d| window.contains(*d)) {
                    *counts.entry(day).or_insert(0) += 1;
                }
            }
            return Ok(counts);
        }
        // Counts only plan slices: a mapping the index does not show yet only moves a cut.
        self.ensure_day_index(integration_id, kind, None).await?;
        let counted: Vec<(Date, u64)> = stream::iter(window.each_day())
            .map(|day| async move {
                let key = mapping_day_key(integration_id, kind, Some(day));
                self.count_index_partition(key).await.map(|n| (day, n))
            })
            .buffer_unordered(DAY_QUERY_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(counted.into_iter().filter(|(_, n)| *n > 0).collect())
    }

    async fn find_mappings(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        personio_ids: &std::collections::HashSet<String>,
        timetrack_ids: &std::collections::HashSet<String>,
    ) -> Result<Vec<Mapping>, StoreError> {
        // One walk of the kind's partition (consistent reads), keeping a page's matches only: the
        // memory is the matches plus one page, whatever the number of mappings.
        let mut found = Vec::new();
        let mut decoded = Ok(());
        self.query_pages(
            "find_mappings",
            None,
            mapping_pk(integration_id, kind),
            None,
            |page| {
                for item in page {
                    let names = |attribute: &str, ids: &std::collections::HashSet<String>| {
                        item.get(attribute)
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|id| ids.contains(id))
                    };
                    if names("personio_id", personio_ids) || names("timetrack_id", timetrack_ids) {
                        match mapping_from_item(item) {
                            Ok(m) => found.push(m),
                            Err(e) => decoded = Err(e),
                        }
                    }
                }
            },
        )
        .await?;
        decoded.map(|()| found)
    }

    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError> {
        let conflict =
            || mapping_conflict(&mapping.integration_id, mapping.kind, &mapping.mapping_id);
        let request = self
            .client
            .put_item()
            .table_name(&self.table_name)
            .set_item(Some(mapping_item(mapping)?));
        let request = match mapping.version {
            0 => return Err(conflict()),
            1 => request.condition_expression("attribute_not_exists(pk)"),
            v => request
                .condition_expression("version = :prev")
                .expression_attribute_values(":prev", n(v - 1)),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e, |e| e.is_conditional_check_failed_exception()) => {
                Err(conflict())
            }
            Err(e) => Err(backend("put_mapping", e)),
        }
    }

    async fn delete_mapping(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        mapping_id: &str,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table_name)
            .key("pk", s(mapping_pk(integration_id, kind)))
            .key("sk", s(mapping_sk(mapping_id)))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(expected_version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e, |e| e.is_conditional_check_failed_exception()) => {
                Err(mapping_conflict(integration_id, kind, mapping_id))
            }
            Err(e) => Err(backend("delete_mapping", e)),
        }
    }

    async fn get_watermark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
    ) -> Result<Option<Watermark>, StoreError> {
        let item = self
            .get_item(
                "get_watermark",
                integration_pk(integration_id),
                watermark_sk(workflow),
            )
            .await?;
        item.as_ref()
            .map(|item| {
                let d = Decoder::new(item);
                Ok(Watermark {
                    last_success_at: d.parsed("last_success_at")?,
                    run_id: d.str("run_id")?,
                })
            })
            .transpose()
    }

    async fn put_watermark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        watermark: &Watermark,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table_name)
            .item("pk", s(integration_pk(integration_id)))
            .item("sk", s(watermark_sk(workflow)))
            .item("last_success_at", s(watermark.last_success_at.to_string()))
            .item("run_id", s(&watermark.run_id))
            .send()
            .await
            .map_err(|e| backend("put_watermark", e))?;
        Ok(())
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let op = "put_run";
        let id = &run.integration_id;
        let sort_key = run_sort_key(run);
        let expires = n(ttl_epoch_seconds(run.started_at, self.run_retention));

        // A replacement whose start time changed must not leave its old run item behind.
        let previous = self
            .get_item(op, run_lookup_pk(id), run.run_id.clone())
            .await?
            .map(|item| Decoder::new(&item).str("run_sk"))
            .transpose()?
            .filter(|old| *old != sort_key);

        let run_item = Put::builder()
            .table_name(&self.table_name)
            .item("pk", s(run_pk(id)))
            .item("sk", s(&sort_key))
            .item("run_id", s(&run.run_id))
            .item("workflow", s(run.workflow.as_str()))
            .item("record", s(to_json("run record", run)?))
            .item(TTL_ATTRIBUTE, expires.clone())
            .build()
            .map_err(|e| backend(op, e))?;
        let lookup_item = Put::builder()
            .table_name(&self.table_name)
            .item("pk", s(run_lookup_pk(id)))
            .item("sk", s(&run.run_id))
            .item("run_sk", s(&sort_key))
            .item(TTL_ATTRIBUTE, expires)
            .build()
            .map_err(|e| backend(op, e))?;
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(run_item).build())
            .transact_items(TransactWriteItem::builder().put(lookup_item).build());
        if let Some(old) = previous {
            let delete_old = Delete::builder()
                .table_name(&self.table_name)
                .key("pk", s(run_pk(id)))
                .key("sk", s(old))
                .build()
                .map_err(|e| backend(op, e))?;
            request =
                request.transact_items(TransactWriteItem::builder().delete(delete_old).build());
        }
        request.send().await.map_err(|e| backend(op, e))?;
        Ok(())
    }

    async fn get_run(
        &self,
        integration_id: &IntegrationId,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        let op = "get_run";
        let Some(lookup) = self
            .get_item(op, run_lookup_pk(integration_id), run_id.to_string())
            .await?
        else {
            return Ok(None);
        };
        let sort_key = Decoder::new(&lookup).str("run_sk")?;
        let item = self.get_item(op, run_pk(integration_id), sort_key).await?;
        item.as_ref()
            .map(|item| Decoder::new(item).json("record"))
            .transpose()
    }

    async fn list_runs(
        &self,
        integration_id: &IntegrationId,
        workflow: Option<Workflow>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<RunPage, StoreError> {
        let op = "list_runs";
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let pk = run_pk(integration_id);
        let mut start: Option<Item> = cursor
            .map(decode_cursor)
            .transpose()?
            .map(|sk| HashMap::from([("pk".to_string(), s(&pk)), ("sk".to_string(), s(sk))]));
        // One more than the page, to know whether another page follows.
        let want = limit.saturating_add(1);
        let request_limit = self
            .query_page_size
            .unwrap_or_else(|| i32::try_from(want).unwrap_or(i32::MAX).min(1000));

        let mut found: Vec<(String, RunRecord)> = Vec::new();
        'pages: loop {
            let out = self
                .client
                .query()
                .table_name(&self.table_name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(request_limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(op, e))?;
            for item in out.items() {
                let d = Decoder::new(item);
                // The workflow filter runs here, not as a FilterExpression, so that `limit` counts
                // matching runs rather than items read.
                if let Some(w) = workflow {
                    if d.str("workflow")? != w.as_str() {
                        continue;
                    }
                }
                found.push((d.str("sk")?, d.json("record")?));
                if found.len() >= want {
                    break 'pages;
                }
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }

        let more = found.len() > limit;
        found.truncate(limit);
        let next_cursor = if more {
            found.last().map(|(sk, _)| encode_cursor(sk))
        } else {
            None
        };
        Ok(RunPage {
            runs: found.into_iter().map(|(_, run)| run).collect(),
            next_cursor,
        })
    }

    async fn acquire_lease(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let op = "acquire_lease";
        let expires_ms = lease_expiry_ms(now, ttl);
        let ttl_secs = (expires_ms / 1000).saturating_add(LEASE_TTL_SLACK_SECS);
        // The conditional put can fail and the lease then vanish (released) before we read it: retry.
        for _ in 0..3 {
            let result = self
                .client
                .put_item()
                .table_name(&self.table_name)
                .item("pk", s(integration_pk(integration_id)))
                .item("sk", s(lease_sk(workflow)))
                .item("holder", s(holder))
                .item("expires_at_ms", n(expires_ms))
                .item(TTL_ATTRIBUTE, n(ttl_secs))
                .condition_expression(
                    "attribute_not_exists(pk) OR expires_at_ms < :now OR holder = :holder",
                )
                .expression_attribute_values(":now", n(now.as_millisecond()))
                .expression_attribute_values(":holder", s(holder))
                .send()
                .await;
            match result {
                Ok(_) => {
                    return Ok(Lease {
                        integration_id: integration_id.clone(),
                        workflow,
                        holder: holder.to_string(),
                        expires_at: timestamp_from_ms(expires_ms),
                    })
                }
                Err(e) if conditional_failed(&e, |e| e.is_conditional_check_failed_exception()) => {
                    let current = self
                        .get_item(op, integration_pk(integration_id), lease_sk(workflow))
                        .await?;
                    if let Some(item) = current {
                        let d = Decoder::new(&item);
                        return Err(StoreError::LeaseHeld {
                            integration_id: integration_id.clone(),
                            workflow,
                            holder: d.str("holder")?,
                            expires_at: timestamp_from_ms(d.num("expires_at_ms")?),
                        });
                    }
                }
                Err(e) => return Err(backend(op, e)),
            }
        }
        Err(StoreError::Conflict {
            what: format!("lease for {workflow} of integration {integration_id}"),
        })
    }

    async fn renew_lease(
        &self,
        lease: &Lease,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let expires_ms = lease_expiry_ms(now, ttl);
        let ttl_secs = (expires_ms / 1000).saturating_add(LEASE_TTL_SLACK_SECS);
        let result = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .key("pk", s(integration_pk(&lease.integration_id)))
            .key("sk", s(lease_sk(lease.workflow)))
            .update_expression("SET expires_at_ms = :e, expires_at = :ttl")
            .condition_expression("holder = :holder")
            .expression_attribute_values(":e", n(expires_ms))
            .expression_attribute_values(":ttl", n(ttl_secs))
            .expression_attribute_values(":holder", s(&lease.holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Lease {
                expires_at: timestamp_from_ms(expires_ms),
                ..lease.clone()
            }),
            Err(e) if conditional_failed(&e, |e| e.is_conditional_check_failed_exception()) => {
                Err(StoreError::LeaseLost {
                    integration_id: lease.integration_id.clone(),
                    workflow: lease.workflow,
                })
            }
            Err(e) => Err(backend("renew_lease", e)),
        }
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table_name)
            .key("pk", s(integration_pk(&lease.integration_id)))
            .key("sk", s(lease_sk(lease.workflow)))
            .condition_expression("holder = :holder")
            .expression_attribute_values(":holder", s(&lease.holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone else holds it now (ours expired and was taken over): theirs is not ours to free.
            Err(e) if conditional_failed(&e, |e| e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(backend("release_lease", e)),
        }
    }

    async fn get_webhook_state(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<WebhookState, StoreError> {
        let Some(item) = self
            .get_item(
                "get_webhook_state",
                integration_pk(integration_id),
                WEBHOOK_SK.into(),
            )
            .await?
        else {
            return Ok(WebhookState::default());
        };
        let d = Decoder::new(&item);
        Ok(WebhookState {
            subscription: d.opt_json("subscription")?,
            company_id: d.opt_str("company_id")?,
            last_delivery: d.opt_json("last_delivery")?,
            replayed_until: Workflow::ALL
                .into_iter()
                .filter_map(|w| {
                    d.opt_parsed::<Timestamp>(&replay_mark_attribute(w))
                        .transpose()
                        .map(|t| t.map(|t| (w, t)))
                })
                .collect::<Result<_, _>>()?,
        })
    }

    async fn put_webhook_subscription(
        &self,
        integration_id: &IntegrationId,
        subscription: Option<&WebhookSubscription>,
    ) -> Result<(), StoreError> {
        let value = subscription
            .map(|sub| to_json("webhook subscription", sub))
            .transpose()?;
        self.set_webhook_attribute(
            "put_webhook_subscription",
            integration_id,
            "subscription",
            value,
        )
        .await
    }

    async fn put_webhook_company(
        &self,
        integration_id: &IntegrationId,
        company_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.set_webhook_attribute(
            "put_webhook_company",
            integration_id,
            "company_id",
            company_id.map(str::to_string),
        )
        .await
    }

    async fn pin_webhook_company(
        &self,
        integration_id: &IntegrationId,
        company_id: &str,
    ) -> Result<String, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .key("pk", s(integration_pk(integration_id)))
            .key("sk", s(WEBHOOK_SK))
            .update_expression("SET company_id = :c")
            .condition_expression("attribute_not_exists(company_id)")
            .expression_attribute_values(":c", s(company_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(company_id.to_string()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let state = self.get_webhook_state(integration_id).await?;
                state.company_id.ok_or_else(|| StoreError::Conflict {
                    what: format!("the webhook company of {integration_id}"),
                })
            }
            Err(e) => Err(backend("pin_webhook_company", e)),
        }
    }

    async fn record_webhook_delivery(
        &self,
        integration_id: &IntegrationId,
        delivery: &WebhookDelivery,
    ) -> Result<(), StoreError> {
        let value = to_json("webhook delivery", delivery)?;
        self.set_webhook_attribute(
            "record_webhook_delivery",
            integration_id,
            "last_delivery",
            Some(value),
        )
        .await
    }

    async fn put_webhook_replay_mark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        replayed_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.set_webhook_attribute(
            "put_webhook_replay_mark",
            integration_id,
            &replay_mark_attribute(workflow),
            Some(replayed_until.to_string()),
        )
        .await
    }

    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table_name)
            .item("pk", s(audit_pk(&record.integration_id)))
            .item("sk", s(audit_sort_key(record)))
            .item("audit_id", s(&record.audit_id))
            .item("record", s(to_json("audit record", record)?))
            .item(
                TTL_ATTRIBUTE,
                n(ttl_epoch_seconds(record.at, self.audit_retention)),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e, |e| e.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict {
                    what: format!(
                        "audit record {} of integration {}",
                        record.audit_id, record.integration_id
                    ),
                })
            }
            Err(e) => Err(backend("put_audit", e)),
        }
    }

    async fn list_audit(
        &self,
        integration_id: &IntegrationId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        let op = "list_audit";
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let pk = audit_pk(integration_id);
        let mut start: Option<Item> = cursor
            .map(decode_cursor)
            .transpose()?
            .map(|sk| HashMap::from([("pk".to_string(), s(&pk)), ("sk".to_string(), s(sk))]));
        // One more than the page, to know whether another page follows.
        let want = limit.saturating_add(1);
        let request_limit = self
            .query_page_size
            .unwrap_or_else(|| i32::try_from(want).unwrap_or(i32::MAX).min(1000));
        let mut found: Vec<(String, AuditRecord)> = Vec::new();
        'pages: loop {
            let out = self
                .client
                .query()
                .table_name(&self.table_name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(request_limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(op, e))?;
            for item in out.items() {
                let d = Decoder::new(item);
                found.push((d.str("sk")?, d.json("record")?));
                if found.len() >= want {
                    break 'pages;
                }
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        let more = found.len() > limit;
        found.truncate(limit);
        let next_cursor = if more {
            found.last().map(|(sk, _)| encode_cursor(sk))
        } else {
            None
        };
        Ok(AuditPage {
            records: found.into_iter().map(|(_, r)| r).collect(),
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_items_round_trip_every_field() {
        let id = IntegrationId::new("acme").unwrap();
        let full = super::super::contract::sample_mapping(
            &id,
            EntityKind::Absence,
            "m#1",
            Some(jiff::civil::date(2026, 3, 29)),
        );
        let item = mapping_item(&full).unwrap();
        assert_eq!(item["pk"], s("INT#acme#MAP#absence"));
        assert_eq!(item["sk"], s("M#m#1"));
        assert_eq!(mapping_from_item(&item).unwrap(), full);

        let sparse = super::super::contract::sample_mapping(&id, EntityKind::Employee, "e", None);
        let item = mapping_item(&sparse).unwrap();
        assert!(!item.contains_key("anchor_date") && !item.contains_key("intent"));
        assert_eq!(mapping_from_item(&item).unwrap(), sparse);
    }

    #[test]
    fn undecodable_items_are_corrupt_with_their_key() {
        let id = IntegrationId::new("acme").unwrap();
        let m = super::super::contract::sample_mapping(&id, EntityKind::Employee, "e", None);
        let mut item = mapping_item(&m).unwrap();
        item.insert("version".into(), s("two"));
        match mapping_from_item(&item) {
            Err(StoreError::Corrupt { key, reason }) => {
                assert_eq!(key, "INT#acme#MAP#employee/M#e");
                assert!(reason.contains("version"), "{reason}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        item.remove("version");
        assert!(matches!(
            mapping_from_item(&item),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn run_ttl_counts_from_the_start() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            ttl_epoch_seconds(start, DEFAULT_RUN_RETENTION),
            start.as_second() + 90 * 86_400
        );
    }
}
