//! One module per group of routes. Handlers translate between HTTP and the shared crate's ports; the
//! decisions (validation, linking, syncing) live in `shared`.
pub mod absence_types;
pub mod audit;
pub mod candidates;
pub mod credentials;
pub mod openapi;
pub mod parked;
pub mod runs;
pub mod schedules;
pub mod settings;
pub mod sync;
pub mod webhooks;

use shared::domain::IntegrationId;
use shared::service::Problem;
use shared::settings::IntegrationSettings;

use crate::problem::{store_problem, ApiProblem};
use crate::ApiState;

/// The integration's stored settings; an integration without settings does not exist (404).
pub(crate) async fn require_settings(
    state: &ApiState,
    id: &IntegrationId,
) -> Result<IntegrationSettings, ApiProblem> {
    state
        .store
        .get_settings(id)
        .await
        .map_err(|e| store_problem(&e))?
        .ok_or_else(|| ApiProblem(Problem::unknown_integration(id.as_str())))
}
