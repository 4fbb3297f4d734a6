//! One delegating [`StateStore`] for the tests that need the store to misbehave at a chosen call: it
//! hands every call to the real store (DynamoDB on moto) and lets an [`Interceptor`] act before it
//! (fail it with the store's typed error, as the DynamoDB adapter returns it for a lost conditional
//! write or a throttled request) and after it (wait at a barrier, write behind the caller's back).
//!
//! The concurrency tests gate lease attempts with it, the API tests race a run's write against a
//! release, and the AWS-fault tests inject conflicts and throttling at the n-th write.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use shared::audit::{AuditPage, AuditRecord};
use shared::domain::{DateWindow, EntityKind, IntegrationId, Workflow};
use shared::runs::RunRecord;
use shared::settings::IntegrationSettings;
use shared::store::{
    Lease, Mapping, RunPage, StateStore, StoreError, Watermark, WebhookDelivery, WebhookState,
    WebhookSubscription,
};

/// Which operation a call is, with the arguments an interceptor may look at.
#[derive(Debug, Clone, Copy)]
pub enum StoreCall<'a> {
    GetSettings,
    PutSettings,
    ListMappings {
        id: &'a IntegrationId,
        kind: EntityKind,
    },
    PutMapping(&'a Mapping),
    DeleteMapping,
    GetWatermark,
    PutWatermark,
    PutRun(&'a RunRecord),
    GetRun,
    ListRuns,
    AcquireLease,
    RenewLease,
    ReleaseLease,
    GetWebhookState,
    PutWebhookSubscription,
    PutWebhookCompany,
    PinWebhookCompany,
    RecordWebhookDelivery,
    PutWebhookReplayMark,
    PutAudit,
    ListAudit,
}

impl StoreCall<'_> {
    /// The operation's name, as the DynamoDB adapter names it in its errors.
    pub fn name(&self) -> &'static str {
        match self {
            StoreCall::GetSettings => "get_settings",
            StoreCall::PutSettings => "put_settings",
            StoreCall::ListMappings { .. } => "list_mappings",
            StoreCall::PutMapping(_) => "put_mapping",
            StoreCall::DeleteMapping => "delete_mapping",
            StoreCall::GetWatermark => "get_watermark",
            StoreCall::PutWatermark => "put_watermark",
            StoreCall::PutRun(_) => "put_run",
            StoreCall::GetRun => "get_run",
            StoreCall::ListRuns => "list_runs",
            StoreCall::AcquireLease => "acquire_lease",
            StoreCall::RenewLease => "renew_lease",
            StoreCall::ReleaseLease => "release_lease",
            StoreCall::GetWebhookState => "get_webhook_state",
            StoreCall::PutWebhookSubscription => "put_webhook_subscription",
            StoreCall::PutWebhookCompany => "put_webhook_company",
            StoreCall::PinWebhookCompany => "pin_webhook_company",
            StoreCall::RecordWebhookDelivery => "record_webhook_delivery",
            StoreCall::PutWebhookReplayMark => "put_webhook_replay_mark",
            StoreCall::PutAudit => "put_audit",
            StoreCall::ListAudit => "list_audit",
        }
    }
}

/// What a test does around the real store's calls. Both hooks default to doing nothing.
#[async_trait]
pub trait Interceptor: Send + Sync {
    /// Before the call reaches the store: `Err` fails the call with that error (the store is not
    /// called).
    async fn before(
        &self,
        _call: StoreCall<'_>,
        _inner: &dyn StateStore,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// After the store answered, before the caller sees the answer.
    async fn after(&self, _call: StoreCall<'_>, _inner: &dyn StateStore) {}
}

/// A [`StateStore`] that delegates to `inner` through an [`Interceptor`].
pub struct InterceptingStore {
    pub inner: Arc<dyn StateStore>,
    pub interceptor: Arc<dyn Interceptor>,
}

impl InterceptingStore {
    pub fn new(inner: Arc<dyn StateStore>, interceptor: Arc<dyn Interceptor>) -> Self {
        Self { inner, interceptor }
    }

    async fn around<T>(
        &self,
        call: StoreCall<'_>,
        op: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.interceptor.before(call, self.inner.as_ref()).await?;
        let result = op.await;
        self.interceptor.after(call, self.inner.as_ref()).await;
        result
    }
}

#[async_trait]
impl StateStore for InterceptingStore {
    async fn get_settings(
        &self,
        id: &IntegrationId,
    ) -> Result<Option<IntegrationSettings>, StoreError> {
        self.around(StoreCall::GetSettings, self.inner.get_settings(id))
            .await
    }
    async fn put_settings(
        &self,
        id: &IntegrationId,
        settings: &IntegrationSettings,
    ) -> Result<(), StoreError> {
        self.around(
            StoreCall::PutSettings,
            self.inner.put_settings(id, settings),
        )
        .await
    }
    async fn list_mappings(
        &self,
        id: &IntegrationId,
        kind: EntityKind,
        window: Option<&DateWindow>,
    ) -> Result<Vec<Mapping>, StoreError> {
        self.around(
            StoreCall::ListMappings { id, kind },
            self.inner.list_mappings(id, kind, window),
        )
        .await
    }
    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError> {
        self.around(
            StoreCall::PutMapping(mapping),
            self.inner.put_mapping(mapping),
        )
        .await
    }
    async fn delete_mapping(
        &self,
        id: &IntegrationId,
        kind: EntityKind,
        mapping_id: &str,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        self.around(
            StoreCall::DeleteMapping,
            self.inner
                .delete_mapping(id, kind, mapping_id, expected_version),
        )
        .await
    }
    async fn get_watermark(
        &self,
        id: &IntegrationId,
        workflow: Workflow,
    ) -> Result<Option<Watermark>, StoreError> {
        self.around(
            StoreCall::GetWatermark,
            self.inner.get_watermark(id, workflow),
        )
        .await
    }
    async fn put_watermark(
        &self,
        id: &IntegrationId,
        workflow: Workflow,
        watermark: &Watermark,
    ) -> Result<(), StoreError> {
        self.around(
            StoreCall::PutWatermark,
            self.inner.put_watermark(id, workflow, watermark),
        )
        .await
    }
    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.around(StoreCall::PutRun(run), self.inner.put_run(run))
            .await
    }
    async fn get_run(
        &self,
        id: &IntegrationId,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        self.around(StoreCall::GetRun, self.inner.get_run(id, run_id))
            .await
    }
    async fn list_runs(
        &self,
        id: &IntegrationId,
        workflow: Option<Workflow>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<RunPage, StoreError> {
        self.around(
            StoreCall::ListRuns,
            self.inner.list_runs(id, workflow, limit, cursor),
        )
        .await
    }
    async fn acquire_lease(
        &self,
        id: &IntegrationId,
        workflow: Workflow,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        self.around(
            StoreCall::AcquireLease,
            self.inner.acquire_lease(id, workflow, holder, now, ttl),
        )
        .await
    }
    async fn renew_lease(
        &self,
        lease: &Lease,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        self.around(
            StoreCall::RenewLease,
            self.inner.renew_lease(lease, now, ttl),
        )
        .await
    }
    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        self.around(StoreCall::ReleaseLease, self.inner.release_lease(lease))
            .await
    }
    async fn get_webhook_state(&self, id: &IntegrationId) -> Result<WebhookState, StoreError> {
        self.around(StoreCall::GetWebhookState, self.inner.get_webhook_state(id))
            .await
    }
    async fn put_webhook_subscription(
        &self,
        id: &IntegrationId,
        subscription: Option<&WebhookSubscription>,
    ) -> Result<(), StoreError> {
        self.around(
            StoreCall::PutWebhookSubscription,
            self.inner.put_webhook_subscription(id, subscription),
        )
        .await
    }
    async fn put_webhook_company(
        &self,
        id: &IntegrationId,
        company_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.around(
            StoreCall::PutWebhookCompany,
            self.inner.put_webhook_company(id, company_id),
        )
        .await
    }
    async fn pin_webhook_company(
        &self,
        id: &IntegrationId,
        company_id: &str,
    ) -> Result<String, StoreError> {
        self.around(
            StoreCall::PinWebhookCompany,
            self.inner.pin_webhook_company(id, company_id),
        )
        .await
    }
    async fn record_webhook_delivery(
        &self,
        id: &IntegrationId,
        delivery: &WebhookDelivery,
    ) -> Result<(), StoreError> {
        self.around(
            StoreCall::RecordWebhookDelivery,
            self.inner.record_webhook_delivery(id, delivery),
        )
        .await
    }
    async fn put_webhook_replay_mark(
        &self,
        id: &IntegrationId,
        workflow: Workflow,
        replayed_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.around(
            StoreCall::PutWebhookReplayMark,
            self.inner
                .put_webhook_replay_mark(id, workflow, replayed_until),
        )
        .await
    }
    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.around(StoreCall::PutAudit, self.inner.put_audit(record))
            .await
    }
    async fn list_audit(
        &self,
        id: &IntegrationId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        self.around(
            StoreCall::ListAudit,
            self.inner.list_audit(id, limit, cursor),
        )
        .await
    }
}

/// Fails calls of one operation with an error: `times` calls from the `nth` one (1-based) on.
pub struct FailCalls {
    operation: &'static str,
    nth: u32,
    times: u32,
    error: Box<dyn Fn() -> StoreError + Send + Sync>,
    seen: AtomicU32,
    failed: AtomicU32,
}

impl FailCalls {
    pub fn new(
        operation: &'static str,
        nth: u32,
        times: u32,
        error: impl Fn() -> StoreError + Send + Sync + 'static,
    ) -> Self {
        Self {
            operation,
            nth,
            times,
            error: Box::new(error),
            seen: AtomicU32::new(0),
            failed: AtomicU32::new(0),
        }
    }

    /// How many calls were failed so far.
    pub fn failed(&self) -> u32 {
        self.failed.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Interceptor for FailCalls {
    async fn before(&self, call: StoreCall<'_>, _inner: &dyn StateStore) -> Result<(), StoreError> {
        if call.name() != self.operation {
            return Ok(());
        }
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.nth && n < self.nth.saturating_add(self.times) {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err((self.error)());
        }
        Ok(())
    }
}

/// DynamoDB's throttling as the DynamoDB adapter reports it (a `Backend` error with the SDK's
/// service error code and message).
pub fn throttled(operation: &str) -> StoreError {
    StoreError::Backend {
        operation: operation.to_string(),
        message: "ProvisionedThroughputExceededException: The level of configured provisioned \
                  throughput for the table was exceeded. Consider increasing your provisioning level \
                  with the UpdateTable API."
            .to_string(),
    }
}

/// A lost conditional write, as the DynamoDB adapter reports `ConditionalCheckFailedException`.
pub fn conflict(what: &str) -> StoreError {
    StoreError::Conflict {
        what: what.to_string(),
    }
}

/// Records the name of every call, in order (for asserting what was and was not written).
#[derive(Default)]
pub struct CallLog {
    calls: Mutex<Vec<&'static str>>,
}

impl CallLog {
    pub fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Interceptor for CallLog {
    async fn after(&self, call: StoreCall<'_>, _inner: &dyn StateStore) {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(call.name());
    }
}
