//! One module per group of routes. Handlers translate between HTTP and the shared crate's ports; the
//! decisions (validation, linking, syncing) live in `shared`. The manual-sync route's handler is
//! `shared::service::http::manual_sync`, the one the workflow functions serve as well.
pub mod absence_types;
pub mod audit;
pub mod candidates;
pub mod credentials;
pub mod openapi;
pub mod parked;
pub mod runs;
pub mod schedules;
pub mod settings;
pub mod webhooks;

use shared::domain::IntegrationId;
use shared::service::Problem;
use shared::settings::IntegrationSettings;

use crate::ApiState;

/// The integration's stored settings; an integration without settings does not exist (404).
pub(crate) async fn require_settings(
    state: &ApiState,
    id: &IntegrationId,
) -> Result<IntegrationSettings, Problem> {
    state
        .store
        .get_settings(id)
        .await?
        .ok_or_else(|| Problem::unknown_integration(id.as_str()))
}
