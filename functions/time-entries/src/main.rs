//! The time-entries workflow function: wiring only. Tracing, the production context (DynamoDB, Secrets
//! Manager, Scheduler) and the handler live in `shared::service`; the workflow in
//! `shared::workflows::time_entries`.
use shared::service::lambda::{serve_workflow, Error};
use shared::workflows::time_entries::binding::TimeEntriesBinding;

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_workflow(TimeEntriesBinding).await
}
