//! The edge shared by the Lambda functions: turning an invocation (scheduled event, continuation, API
//! Gateway request, webhook batch) into an engine run and the run into an answer. Functions' `main.rs`
//! files only read the [`Config`], build a [`ServiceContext`] and hand events to a [`WorkflowService`]
//! ([`lambda`]) or serve the API router, which mounts the same manual-sync route ([`http`]).
pub(crate) mod config;
pub mod context;
pub mod http;
pub(crate) mod invocation;
pub mod lambda;
pub(crate) mod lambda_event;
pub(crate) mod manual_sync;
pub mod problem;
pub(crate) mod setup;
pub mod workflow;

pub use config::{Config, ConfigError};
pub use context::ServiceContext;
pub use http::{ManualSyncCall, ManualSyncRoutes, ManualSyncService};
pub use invocation::InvocationError;
pub use lambda_event::Invocation;
pub use manual_sync::{ExplicitSelection, ManualSync};
pub use problem::Problem;
pub use setup::SetupError;
pub use workflow::{BindInput, BoundWorkflow, RunIo, WorkflowBinding, WorkflowService};
