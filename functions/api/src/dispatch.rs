//! Manual sync served by the API function itself. In AWS, API Gateway sends
//! `POST /integrations/{id}/sync/{workflow}` straight to the workflow's own function; locally (and in
//! the demo) one server answers every route, so the API dispatches the request in-process to the
//! workflow's [`WorkflowService`]. Both paths run the very same `handle_http`.
use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;
use shared::service::{HttpRequest, WorkflowBinding, WorkflowService};

/// One workflow's manual-sync handler: an API Gateway (payload 2.0) request in, an API Gateway
/// response (`statusCode`, `headers`, `body`) out.
#[async_trait]
pub trait ManualSyncHandler: Send + Sync {
    async fn handle_http(&self, request: HttpRequest, deadline: Option<Timestamp>) -> Value;
}

#[async_trait]
impl<B: WorkflowBinding + 'static> ManualSyncHandler for WorkflowService<B> {
    async fn handle_http(&self, request: HttpRequest, deadline: Option<Timestamp>) -> Value {
        WorkflowService::handle_http(self, request, deadline).await
    }
}
