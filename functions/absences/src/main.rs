//! The absences workflow function: wiring only. Tracing, the production context (DynamoDB, Secrets
//! Manager, Scheduler) and the handler live in `shared::service`; the workflow in
//! `shared::workflows::absences`.
use shared::service::lambda::{serve_workflow, Error};
use shared::workflows::absences::binding::AbsencesBinding;

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_workflow(AbsencesBinding).await
}
