//! The setup and operations HTTP API of the Personio ⇄ TimeTrack sync.
//!
//! One axum [`Router`] serves every route of [`routes::ROUTES`]; `main.rs` runs it under
//! `lambda_http` (API Gateway HTTP API, payload 2.0) or as a plain local HTTP server. Every error is an
//! RFC 9457 problem (`application/problem+json`, [`shared::service::Problem`]): the framework's own
//! rejections, unknown routes and wrong methods included ([`problem`]).
//!
//! Layout: [`extract`] (validated path ids, JSON bodies, queries), [`handlers`] (one module per route
//! group; the manual sync is `shared::service::http::manual_sync`, served in-process by the workflows'
//! services, the same handler the workflow functions serve under Lambda), [`schedules`] (the
//! workflow-schedule port over EventBridge Scheduler), [`routes`] (the route table), [`console`] (the
//! HR admin's web console under `/console`, behind a Cognito sign-in; it calls this router in-process).
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::Router;
use shared::credentials::CredentialsSource;
use shared::domain::Workflow;
use shared::engine::Clock;
use shared::service::context::ClientFactory;
use shared::service::http::MAX_BODY_BYTES;
use shared::service::{
    Config, ManualSyncRoutes, ManualSyncService, ServiceContext, WorkflowService,
};
use shared::store::StateStore;

pub mod console;
pub mod extract;
pub mod handlers;
pub mod problem;
pub mod routes;
pub mod schedules;

pub use handlers::openapi::OPENAPI_JSON;
pub use routes::{RouteId, RouteSpec, ROUTES};
pub use schedules::WorkflowSchedules;

/// What the handlers work with: the shared ports, all cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<dyn StateStore>,
    pub credentials: Arc<dyn CredentialsSource>,
    pub schedules: Arc<dyn WorkflowSchedules>,
    pub clients: ClientFactory,
    pub clock: Arc<dyn Clock>,
    /// The workflows whose manual sync this server runs in-process.
    pub workflows: Arc<BTreeMap<Workflow, Arc<dyn ManualSyncService>>>,
    /// The invocation deadline granted to a dispatched manual sync, counted from the request (`None`:
    /// only the Lambda invocation's own deadline, if any, and the workflow service's API budget).
    /// The runner stops starting writes a safety margin before that deadline and answers 202.
    pub sync_time_limit: Option<std::time::Duration>,
    /// The webhook receiver and subscription operations (`None`: those routes answer 503).
    pub webhooks: Option<Arc<handlers::webhooks::ApiWebhooks>>,
}

impl ApiState {
    /// The ports of `context`, no workflow served yet (see [`ApiState::with_workflow`]).
    pub fn new(context: &ServiceContext, schedules: Arc<dyn WorkflowSchedules>) -> Self {
        Self {
            store: context.store.clone(),
            credentials: context.credentials.clone(),
            schedules,
            clients: context.clients.clone(),
            clock: context.clock.clone(),
            workflows: Arc::new(BTreeMap::new()),
            sync_time_limit: None,
            webhooks: None,
        }
    }

    /// The production state from `config`: the ports of `context`, the workflow schedules on
    /// EventBridge Scheduler, the three workflows' manual sync, the webhook routes (tokens in Secrets
    /// Manager, events to SQS).
    pub fn production(
        config: &Config,
        aws: &aws_config::SdkConfig,
        context: &ServiceContext,
    ) -> Self {
        let schedules = shared::scheduling::EventBridgeScheduler::new(
            aws_sdk_scheduler::Client::new(aws),
            config.scheduler.clone(),
        );
        let tokens = shared::webhooks::SecretsManagerTokenStore::new(
            aws_sdk_secretsmanager::Client::new(aws),
            config.secret_prefix.clone(),
        );
        let queue = shared::webhooks::SqsEventQueue::new(
            aws_sdk_sqs::Client::new(aws),
            config.queues.clone(),
        );
        Self::new(context, Arc::new(schedules))
            .with_standard_workflows(context)
            .with_webhooks(
                Arc::new(tokens),
                Arc::new(queue),
                config.webhook_receiver_base_url.clone(),
            )
    }

    /// Serves the webhook receiver and the subscription routes with these ports.
    pub fn with_webhooks(
        mut self,
        tokens: Arc<dyn shared::webhooks::TokenStore>,
        queue: Arc<dyn shared::webhooks::EventQueue>,
        receiver_base_url: Option<String>,
    ) -> Self {
        self.webhooks = Some(Arc::new(handlers::webhooks::ApiWebhooks {
            receiver: shared::webhooks::WebhookReceiver {
                store: self.store.clone(),
                tokens: tokens.clone(),
                queue,
                clock: self.clock.clone(),
            },
            subscriptions: shared::webhooks::Subscriptions {
                store: self.store.clone(),
                tokens,
                clock: self.clock.clone(),
                receiver_base_url,
            },
        }));
        self
    }

    /// Serves `workflow`'s manual sync through `handler`.
    pub fn with_workflow(
        mut self,
        workflow: Workflow,
        handler: Arc<dyn ManualSyncService>,
    ) -> Self {
        Arc::make_mut(&mut self.workflows).insert(workflow, handler);
        self
    }

    /// Serves the manual sync of the three workflows, each with default service settings, on
    /// `context` (locally; in AWS these routes go to the workflows' own functions).
    pub fn with_standard_workflows(self, context: &ServiceContext) -> Self {
        use shared::workflows::absences::binding::AbsencesBinding;
        use shared::workflows::employees::binding::EmployeesBinding;
        use shared::workflows::time_entries::binding::TimeEntriesBinding;
        self.with_workflow(
            Workflow::Employees,
            Arc::new(WorkflowService::new(context.clone(), EmployeesBinding)),
        )
        .with_workflow(
            Workflow::TimeEntries,
            Arc::new(WorkflowService::new(context.clone(), TimeEntriesBinding)),
        )
        .with_workflow(
            Workflow::Absences,
            Arc::new(WorkflowService::new(context.clone(), AbsencesBinding)),
        )
    }
}

/// The manual-sync route's state: the served workflows and their deadline.
impl FromRef<ApiState> for ManualSyncRoutes {
    fn from_ref(state: &ApiState) -> Self {
        ManualSyncRoutes {
            services: state.workflows.clone(),
            time_limit: state.sync_time_limit,
            clock: state.clock.clone(),
        }
    }
}

/// The API: every route of [`ROUTES`], problem answers for unknown routes and wrong methods, bodies
/// limited to [`MAX_BODY_BYTES`] (413).
pub fn router(state: ApiState) -> Router {
    let mut router = Router::new();
    for route in ROUTES {
        router = router.route(route.path, routes::method_router(route.id));
    }
    router
        .fallback(problem::unknown_route)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(problem::ensure_problem))
        .with_state(state)
}

#[cfg(test)]
mod tests;
