//! The edge shared by the Lambda functions: turning an invocation (scheduled event, continuation, API
//! Gateway request) into an engine run and the run into an answer. Functions' `main.rs` files only build a
//! [`ServiceContext`] from the environment and hand events to a [`WorkflowService`].
pub mod context;
pub mod invocation;
pub mod lambda;
pub mod lambda_event;
pub mod manual_sync;
pub mod problem;
pub mod setup;
pub mod workflow;

pub use context::ServiceContext;
pub use invocation::InvocationError;
pub use lambda_event::{HttpRequest, InvocationEvent};
pub use manual_sync::{ExplicitSelection, ManualSync};
pub use problem::Problem;
pub use setup::SetupError;
pub use workflow::{BindInput, BoundWorkflow, RunIo, WorkflowBinding, WorkflowService};
