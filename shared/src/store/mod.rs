//! The state-store port: everything the product persists besides the two external systems.
//!
//! One trait, two adapters: [`dynamodb::DynamoStore`] (single-table design, see `docs/state-store.md`) and
//! [`memory::MemoryStore`] for pure unit tests. The engine and the workflows see only [`StateStore`].
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audit::{AuditPage, AuditRecord};
use crate::domain::{DateWindow, EntityKind, IntegrationId, System, Workflow};
use crate::runs::{ParkReason, RunRecord};
use crate::settings::IntegrationSettings;

#[cfg(any(test, feature = "testkit"))]
pub mod contract;
pub mod dynamodb;
mod keys;
#[cfg(any(test, feature = "testkit"))]
pub mod memory;

pub use keys::new_run_id;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A conditional write lost: someone else changed the item since it was read.
    #[error("concurrent modification of {what}")]
    Conflict { what: String },
    /// The lease for this integration and workflow is held by another live run.
    #[error("{workflow} is already running for integration {integration_id} (run {holder}, lease until {expires_at})")]
    LeaseHeld {
        integration_id: IntegrationId,
        workflow: Workflow,
        holder: String,
        expires_at: Timestamp,
    },
    /// The lease this caller held was taken over or released (it expired).
    #[error("lease lost for {workflow} of integration {integration_id}")]
    LeaseLost {
        integration_id: IntegrationId,
        workflow: Workflow,
    },
    /// An item in the store could not be decoded (written by another version, or corrupted).
    #[error("corrupt item {key}: {reason}")]
    Corrupt { key: String, reason: String },
    /// The backend failed (network, throttling, permissions); carries the backend's message with context.
    #[error("state store backend error during {operation}: {message}")]
    Backend { operation: String, message: String },
}

/// A link between one Personio record and one TimeTrack record of a kind, and what was last synced.
///
/// A mapping may exist with only one side's id while a create is in flight: that is the *intent*,
/// written before the create so that a run dying between the create and the mapping update adopts the
/// twin next time instead of creating it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub integration_id: IntegrationId,
    pub kind: EntityKind,
    /// Stable id of the mapping itself; survives a side's id changing (TimeTrack absence re-create).
    pub mapping_id: String,
    pub personio_id: Option<String>,
    pub timetrack_id: Option<String>,
    /// Fingerprint of the canonical form last synced to both sides; `None` until the first sync completes.
    pub fingerprint: Option<String>,
    /// The day the record belongs to, so that a windowed run loads only mappings in its window.
    /// `None` for kinds without a date (employees).
    pub anchor_date: Option<Date>,
    pub intent: Option<PendingIntent>,
    /// Consecutive failures of the last attempts; reset on success.
    pub failures: u32,
    pub last_error: Option<String>,
    /// Set when the record is parked (too many failures, or a write the other side refuses for good).
    pub parked: Option<ParkReason>,
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version; incremented on every put.
    pub version: u64,
}

impl Mapping {
    /// Whether this mapping names one of the given record ids on its side.
    pub fn names_any(
        &self,
        personio_ids: &HashSet<String>,
        timetrack_ids: &HashSet<String>,
    ) -> bool {
        self.personio_id
            .as_ref()
            .is_some_and(|id| personio_ids.contains(id))
            || self
                .timetrack_id
                .as_ref()
                .is_some_and(|id| timetrack_ids.contains(id))
    }
}

/// A create that was about to happen in `target`, recorded before it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingIntent {
    pub target: System,
    /// The natural key by which the created twin will be found and adopted.
    pub natural_key: String,
    /// Fingerprint of the canonical value being written.
    pub fingerprint: String,
    pub run_id: String,
    pub created_at: Timestamp,
    /// The single writes of a create that takes several (a Personio time entry's WORK and BREAK
    /// periods), each recorded here *before* it is sent, in the port's own notation. A create whose
    /// writes stopped half way (or whose last answer was lost) leaves records that these account for;
    /// the next attempt gets them back to find and adopt or remove them. Kept until the create
    /// completes; empty for single-write creates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<String>,
}

/// Where scheduled runs of a workflow start their next window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    pub last_success_at: Timestamp,
    pub run_id: String,
}

/// Held by one run of one workflow of one integration at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub integration_id: IntegrationId,
    pub workflow: Workflow,
    /// Who holds it: the run id.
    pub holder: String,
    pub expires_at: Timestamp,
}

/// What the product keeps about an integration's Personio webhook (docs/workflows/webhooks.md): the
/// subscription it registered, the company its deliveries must come from, the last delivery received and
/// how far the replay has looked. Each part is written on its own ([`StateStore::put_webhook_subscription`],
/// [`StateStore::record_webhook_delivery`], ...), so the receiver, the API and the replay never overwrite
/// each other's part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookState {
    pub subscription: Option<WebhookSubscription>,
    /// The Personio company whose deliveries are accepted (`company_id` of the envelope).
    pub company_id: Option<String>,
    pub last_delivery: Option<WebhookDelivery>,
    /// Per workflow: its replay has enqueued every listed event that occurred before this instant.
    #[serde(default)]
    pub replayed_until: std::collections::BTreeMap<Workflow, Timestamp>,
}

/// The subscription registered with Personio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    /// Personio's webhook id.
    pub webhook_id: String,
    pub url: String,
    pub enabled_events: Vec<String>,
    pub registered_at: Timestamp,
    /// When the token was last rotated (or first issued).
    pub token_rotated_at: Timestamp,
}

/// One delivery the receiver accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub received_at: Timestamp,
    pub event_name: String,
    /// Whether it was put on a queue (pings and events of no workflow are not).
    pub enqueued: bool,
}

/// A page of run records, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    /// Opaque; pass back to get the next page. `None` on the last page.
    pub next_cursor: Option<String>,
}

#[async_trait]
pub trait StateStore: Send + Sync {
    // --- settings -------------------------------------------------------------------------------
    async fn get_settings(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<Option<IntegrationSettings>, StoreError>;
    async fn put_settings(
        &self,
        integration_id: &IntegrationId,
        settings: &IntegrationSettings,
    ) -> Result<(), StoreError>;

    // --- mappings -------------------------------------------------------------------------------
    /// All mappings of a kind; with a window, only those whose `anchor_date` lies in it plus those
    /// without an anchor date.
    async fn list_mappings(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: Option<&DateWindow>,
    ) -> Result<Vec<Mapping>, StoreError>;
    /// The mappings of a kind that name one of `personio_ids` or `timetrack_ids`, wherever they are
    /// anchored: how a run finds the mappings of listed records it did not load by window (a record
    /// moved into the window, a mapping written moments ago) without holding every mapping at once.
    /// The default reads them all and keeps the matches; the adapters keep only matches as they read.
    async fn find_mappings(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        personio_ids: &HashSet<String>,
        timetrack_ids: &HashSet<String>,
    ) -> Result<Vec<Mapping>, StoreError> {
        Ok(self
            .list_mappings(integration_id, kind, None)
            .await?
            .into_iter()
            .filter(|m| m.names_any(personio_ids, timetrack_ids))
            .collect())
    }
    /// How many mappings of a kind are anchored on each day of `window` (days without any left out):
    /// the size of each day as the last runs saw it, for a run to plan its time slices (ADR 0029)
    /// without loading the mappings. The default lists the window's mappings and counts them; the
    /// adapters count without reading them out.
    async fn count_mappings_by_day(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: &DateWindow,
    ) -> Result<BTreeMap<Date, u64>, StoreError> {
        let mut days = BTreeMap::new();
        for m in self
            .list_mappings(integration_id, kind, Some(window))
            .await?
        {
            if let Some(day) = m.anchor_date.filter(|d| window.contains(*d)) {
                *days.entry(day).or_insert(0) += 1;
            }
        }
        Ok(days)
    }
    /// Writes `mapping` if the stored version equals `mapping.version - 1` (or, for version 1, if no
    /// mapping with that id exists). Returns `StoreError::Conflict` otherwise.
    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError>;
    /// Deletes the mapping if its stored version equals `expected_version`.
    async fn delete_mapping(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        mapping_id: &str,
        expected_version: u64,
    ) -> Result<(), StoreError>;

    // --- watermarks -----------------------------------------------------------------------------
    async fn get_watermark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
    ) -> Result<Option<Watermark>, StoreError>;
    async fn put_watermark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        watermark: &Watermark,
    ) -> Result<(), StoreError>;

    // --- runs -----------------------------------------------------------------------------------
    /// Creates or replaces a run record. Records expire (TTL) after the store's retention.
    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError>;
    async fn get_run(
        &self,
        integration_id: &IntegrationId,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError>;
    /// Newest first, optionally of one workflow only.
    async fn list_runs(
        &self,
        integration_id: &IntegrationId,
        workflow: Option<Workflow>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<RunPage, StoreError>;

    // --- leases ---------------------------------------------------------------------------------
    /// Takes the lease if it is free, expired, or already held by `holder`; otherwise `LeaseHeld`.
    async fn acquire_lease(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Lease, StoreError>;
    /// Extends a lease still held by its holder; `LeaseLost` if it was taken over.
    async fn renew_lease(
        &self,
        lease: &Lease,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Lease, StoreError>;
    /// Releases the lease if still held by its holder (a no-op otherwise).
    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError>;

    // --- webhooks -------------------------------------------------------------------------------
    /// The webhook state of an integration (all parts `None` when nothing was ever written).
    async fn get_webhook_state(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<WebhookState, StoreError>;
    /// Sets (or, with `None`, removes) the subscription; the other parts stay.
    async fn put_webhook_subscription(
        &self,
        integration_id: &IntegrationId,
        subscription: Option<&WebhookSubscription>,
    ) -> Result<(), StoreError>;
    /// Sets (or, with `None`, removes) the company whose deliveries are accepted.
    async fn put_webhook_company(
        &self,
        integration_id: &IntegrationId,
        company_id: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Sets the company only if none is set yet; returns the company that is set afterwards (the one
    /// given, or the one that was there).
    async fn pin_webhook_company(
        &self,
        integration_id: &IntegrationId,
        company_id: &str,
    ) -> Result<String, StoreError>;
    async fn record_webhook_delivery(
        &self,
        integration_id: &IntegrationId,
        delivery: &WebhookDelivery,
    ) -> Result<(), StoreError>;
    /// Sets how far `workflow`'s replay has looked (each workflow function replays its own events).
    async fn put_webhook_replay_mark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        replayed_until: Timestamp,
    ) -> Result<(), StoreError>;

    // --- audit trail ----------------------------------------------------------------------------
    /// Appends an audit record (never replaces one: a record with the same integration, time and id
    /// that already exists is a `Conflict`). Records expire (TTL) after the store's audit retention.
    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError>;
    /// Newest first; `limit` records at most, resuming after `cursor` (from a previous page).
    async fn list_audit(
        &self,
        integration_id: &IntegrationId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<AuditPage, StoreError>;
}
