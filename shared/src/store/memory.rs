//! In-memory [`StateStore`](super::StateStore) for pure unit tests.
//!
//! Behaves like [`DynamoStore`](super::dynamodb::DynamoStore) in every way the trait documents
//! (conditional mapping versions, lease expiry and takeover, newest-first run paging with an opaque
//! cursor): both run the same contract suite ([`super::contract`]). The handle is cheap to clone and all
//! clones share one state, so a test can hand a clone to the engine and inspect what it wrote.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use super::keys::{
    audit_sort_key, decode_cursor, encode_cursor, lease_expiry_ms, lease_is_live, run_sort_key,
    timestamp_from_ms,
};
use super::{
    Lease, Mapping, RunPage, StateStore, StoreError, Watermark, WebhookDelivery, WebhookState,
    WebhookSubscription,
};
use crate::audit::{AuditPage, AuditRecord};
use crate::domain::{DateWindow, EntityKind, IntegrationId, Workflow};
use crate::runs::RunRecord;
use crate::settings::IntegrationSettings;

/// A [`StateStore`] kept in process memory. Not durable; for tests and local experiments only.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    settings: HashMap<IntegrationId, IntegrationSettings>,
    /// Keyed like the DynamoDB items: integration, kind, mapping id.
    mappings: BTreeMap<(IntegrationId, EntityKind, String), Mapping>,
    watermarks: HashMap<(IntegrationId, Workflow), Watermark>,
    /// Keyed by the run sort key, so a reverse range walk is "newest first".
    runs: BTreeMap<(IntegrationId, String), RunRecord>,
    /// run id → run sort key (the by-id lookup).
    run_keys: HashMap<(IntegrationId, String), String>,
    /// Leases with their expiry in epoch milliseconds (the precision the DynamoDB adapter keeps).
    leases: HashMap<(IntegrationId, Workflow), (String, i64)>,
    /// Keyed by the audit sort key, so a reverse range walk is "newest first".
    audit: BTreeMap<(IntegrationId, String), AuditRecord>,
    webhooks: HashMap<IntegrationId, WebhookState>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored mapping (all integrations and kinds), ordered by integration, kind and mapping id.
    pub fn mappings_snapshot(&self) -> Vec<Mapping> {
        self.lock().mappings.values().cloned().collect()
    }

    /// Every stored run record, newest first (all integrations).
    pub fn runs_snapshot(&self) -> Vec<RunRecord> {
        let inner = self.lock();
        let mut runs: Vec<(&String, &RunRecord)> = inner
            .runs
            .iter()
            .map(|((_, key), run)| (key, run))
            .collect();
        runs.sort_by(|a, b| b.0.cmp(a.0));
        runs.into_iter().map(|(_, run)| run.clone()).collect()
    }

    /// Every stored audit record, newest first (all integrations).
    pub fn audit_snapshot(&self) -> Vec<AuditRecord> {
        let inner = self.lock();
        let mut records: Vec<(&String, &AuditRecord)> = inner
            .audit
            .iter()
            .map(|((_, key), record)| (key, record))
            .collect();
        records.sort_by(|a, b| b.0.cmp(a.0));
        records.into_iter().map(|(_, r)| r.clone()).collect()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock (a failing assertion in a test) leaves the data consistent:
        // every mutation below is a single map operation.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn mapping_what(integration_id: &IntegrationId, kind: EntityKind, mapping_id: &str) -> String {
    format!("mapping {kind}/{mapping_id} of integration {integration_id}")
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn get_settings(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<Option<IntegrationSettings>, StoreError> {
        Ok(self.lock().settings.get(integration_id).cloned())
    }

    async fn put_settings(
        &self,
        integration_id: &IntegrationId,
        settings: &IntegrationSettings,
    ) -> Result<(), StoreError> {
        self.lock()
            .settings
            .insert(integration_id.clone(), settings.clone());
        Ok(())
    }

    async fn list_mappings(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: Option<&DateWindow>,
    ) -> Result<Vec<Mapping>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .mappings
            .iter()
            .filter(|((id, k, _), _)| id == integration_id && *k == kind)
            .map(|(_, m)| m)
            .filter(|m| match (window, m.anchor_date) {
                (Some(w), Some(day)) => w.contains(day),
                _ => true,
            })
            .cloned()
            .collect())
    }

    async fn count_mappings_by_day(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        window: &DateWindow,
    ) -> Result<std::collections::BTreeMap<jiff::civil::Date, u64>, StoreError> {
        let inner = self.lock();
        let mut days = std::collections::BTreeMap::new();
        for day in inner
            .mappings
            .iter()
            .filter(|((id, k, _), _)| id == integration_id && *k == kind)
            .filter_map(|(_, m)| m.anchor_date)
            .filter(|d| window.contains(*d))
        {
            *days.entry(day).or_insert(0) += 1;
        }
        Ok(days)
    }

    async fn find_mappings(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        personio_ids: &std::collections::HashSet<String>,
        timetrack_ids: &std::collections::HashSet<String>,
    ) -> Result<Vec<Mapping>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .mappings
            .iter()
            .filter(|((id, k, _), _)| id == integration_id && *k == kind)
            .map(|(_, m)| m)
            .filter(|m| m.names_any(personio_ids, timetrack_ids))
            .cloned()
            .collect())
    }

    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError> {
        let key = (
            mapping.integration_id.clone(),
            mapping.kind,
            mapping.mapping_id.clone(),
        );
        let mut inner = self.lock();
        let stored = inner.mappings.get(&key).map(|m| m.version);
        let expected = mapping.version.checked_sub(1);
        let ok = match (expected, stored) {
            (Some(0), None) => true,
            (Some(prev), Some(current)) => prev >= 1 && prev == current,
            _ => false,
        };
        if !ok {
            return Err(StoreError::Conflict {
                what: mapping_what(&mapping.integration_id, mapping.kind, &mapping.mapping_id),
            });
        }
        inner.mappings.insert(key, mapping.clone());
        Ok(())
    }

    async fn delete_mapping(
        &self,
        integration_id: &IntegrationId,
        kind: EntityKind,
        mapping_id: &str,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let key = (integration_id.clone(), kind, mapping_id.to_string());
        let mut inner = self.lock();
        match inner.mappings.get(&key) {
            Some(m) if m.version == expected_version => {
                inner.mappings.remove(&key);
                Ok(())
            }
            _ => Err(StoreError::Conflict {
                what: mapping_what(integration_id, kind, mapping_id),
            }),
        }
    }

    async fn get_watermark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
    ) -> Result<Option<Watermark>, StoreError> {
        Ok(self
            .lock()
            .watermarks
            .get(&(integration_id.clone(), workflow))
            .cloned())
    }

    async fn put_watermark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        watermark: &Watermark,
    ) -> Result<(), StoreError> {
        self.lock()
            .watermarks
            .insert((integration_id.clone(), workflow), watermark.clone());
        Ok(())
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let id = run.integration_id.clone();
        let sort_key = run_sort_key(run);
        let mut inner = self.lock();
        // A replacement with a different start time must not leave the old entry behind.
        if let Some(old_key) = inner
            .run_keys
            .insert((id.clone(), run.run_id.clone()), sort_key.clone())
        {
            if old_key != sort_key {
                inner.runs.remove(&(id.clone(), old_key));
            }
        }
        inner.runs.insert((id, sort_key), run.clone());
        Ok(())
    }

    async fn get_run(
        &self,
        integration_id: &IntegrationId,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .run_keys
            .get(&(integration_id.clone(), run_id.to_string()))
            .and_then(|key| inner.runs.get(&(integration_id.clone(), key.clone())))
            .cloned())
    }

    async fn list_runs(
        &self,
        integration_id: &IntegrationId,
        workflow: Option<Workflow>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<RunPage, StoreError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let inner = self.lock();
        let mut matching = inner
            .runs
            .iter()
            .rev()
            .filter(|((id, _), _)| id == integration_id)
            .filter(|((_, key), _)| after.as_ref().is_none_or(|after| key < after))
            .filter(|(_, run)| workflow.is_none_or(|w| run.workflow == w));
        let mut runs = Vec::new();
        let mut last_key = None;
        for ((_, key), run) in matching.by_ref().take(limit) {
            runs.push(run.clone());
            last_key = Some(key.clone());
        }
        let more = matching.next().is_some();
        Ok(RunPage {
            runs,
            next_cursor: if more {
                last_key.as_deref().map(encode_cursor)
            } else {
                None
            },
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
        let key = (integration_id.clone(), workflow);
        let mut inner = self.lock();
        if let Some((current, expires_ms)) = inner.leases.get(&key) {
            if current != holder && lease_is_live(*expires_ms, now) {
                return Err(StoreError::LeaseHeld {
                    integration_id: integration_id.clone(),
                    workflow,
                    holder: current.clone(),
                    expires_at: timestamp_from_ms(*expires_ms),
                });
            }
        }
        let expires_ms = lease_expiry_ms(now, ttl);
        inner.leases.insert(key, (holder.to_string(), expires_ms));
        Ok(Lease {
            integration_id: integration_id.clone(),
            workflow,
            holder: holder.to_string(),
            expires_at: timestamp_from_ms(expires_ms),
        })
    }

    async fn renew_lease(
        &self,
        lease: &Lease,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let key = (lease.integration_id.clone(), lease.workflow);
        let mut inner = self.lock();
        match inner.leases.get_mut(&key) {
            Some((current, expires_ms)) if *current == lease.holder => {
                *expires_ms = lease_expiry_ms(now, ttl);
                Ok(Lease {
                    expires_at: timestamp_from_ms(*expires_ms),
                    ..lease.clone()
                })
            }
            _ => Err(StoreError::LeaseLost {
                integration_id: lease.integration_id.clone(),
                workflow: lease.workflow,
            }),
        }
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let key = (lease.integration_id.clone(), lease.workflow);
        let mut inner = self.lock();
        if inner
            .leases
            .get(&key)
            .is_some_and(|(current, _)| *current == lease.holder)
        {
            inner.leases.remove(&key);
        }
        Ok(())
    }

    async fn get_webhook_state(
        &self,
        integration_id: &IntegrationId,
    ) -> Result<WebhookState, StoreError> {
        Ok(self
            .lock()
            .webhooks
            .get(integration_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn put_webhook_subscription(
        &self,
        integration_id: &IntegrationId,
        subscription: Option<&WebhookSubscription>,
    ) -> Result<(), StoreError> {
        self.lock()
            .webhooks
            .entry(integration_id.clone())
            .or_default()
            .subscription = subscription.cloned();
        Ok(())
    }

    async fn put_webhook_company(
        &self,
        integration_id: &IntegrationId,
        company_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.lock()
            .webhooks
            .entry(integration_id.clone())
            .or_default()
            .company_id = company_id.map(str::to_string);
        Ok(())
    }

    async fn pin_webhook_company(
        &self,
        integration_id: &IntegrationId,
        company_id: &str,
    ) -> Result<String, StoreError> {
        let mut inner = self.lock();
        let state = inner.webhooks.entry(integration_id.clone()).or_default();
        Ok(state
            .company_id
            .get_or_insert_with(|| company_id.to_string())
            .clone())
    }

    async fn record_webhook_delivery(
        &self,
        integration_id: &IntegrationId,
        delivery: &WebhookDelivery,
    ) -> Result<(), StoreError> {
        self.lock()
            .webhooks
            .entry(integration_id.clone())
            .or_default()
            .last_delivery = Some(delivery.clone());
        Ok(())
    }

    async fn put_webhook_replay_mark(
        &self,
        integration_id: &IntegrationId,
        workflow: Workflow,
        replayed_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock()
            .webhooks
            .entry(integration_id.clone())
            .or_default()
            .replayed_until
            .insert(workflow, replayed_until);
        Ok(())
    }

    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let key = (record.integration_id.clone(), audit_sort_key(record));
        let mut inner = self.lock();
        if inner.audit.contains_key(&key) {
            return Err(StoreError::Conflict {
                what: format!(
                    "audit record {} of integration {}",
                    record.audit_id, record.integration_id
                ),
            });
        }
        inner.audit.insert(key, record.clone());
        Ok(())
    }

    async fn list_audit(
        &self,
        integration_id: &IntegrationId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let inner = self.lock();
        let mut matching = inner
            .audit
            .iter()
            .rev()
            .filter(|((id, _), _)| id == integration_id)
            .filter(|((_, key), _)| after.as_ref().is_none_or(|after| key < after));
        let mut records = Vec::new();
        let mut last_key = None;
        for ((_, key), record) in matching.by_ref().take(limit) {
            records.push(record.clone());
            last_key = Some(key.clone());
        }
        let more = matching.next().is_some();
        Ok(AuditPage {
            records,
            next_cursor: if more {
                last_key.as_deref().map(encode_cursor)
            } else {
                None
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_satisfies_the_store_contract() {
        let store = MemoryStore::new();
        super::super::contract::store_contract_suite(&store).await;
        // No index to join: an "old" mapping is an ordinary one, and is read by window.
        super::super::contract::legacy_mappings_join_the_day_index(
            &store,
            |m| {
                let store = store.clone();
                async move { store.put_mapping(&m).await.expect("put") }
            },
            |_| async { true },
        )
        .await;
    }

    #[tokio::test]
    async fn clones_share_state_and_snapshot_shows_mappings() {
        let store = MemoryStore::new();
        let clone = store.clone();
        let id = IntegrationId::new("snap").unwrap();
        let m = super::super::contract::sample_mapping(&id, EntityKind::Employee, "m1", None);
        clone.put_mapping(&m).await.unwrap();
        assert_eq!(store.mappings_snapshot(), vec![m]);
    }
}
