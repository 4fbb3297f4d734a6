//! The demo's configuration: the same environment variables the functions read (so that `demo setup`
//! creates exactly the resources the functions will look for), plus the simulators' root URLs for their
//! `/_sim/` control API.
use anyhow::{bail, Context, Result};
use shared::domain::IntegrationId;

/// Everything `demo setup` and `demo report` need to know about the local deployment.
#[derive(Debug, Clone)]
pub(crate) struct DemoConfig {
    pub integration_id: IntegrationId,
    pub table_name: String,
    pub secret_prefix: String,
    pub schedule_group: String,
    /// Root of the Personio simulator, e.g. `http://127.0.0.1:18080` (API and `/_sim/` control API).
    pub personio_sim_url: String,
    /// Root of the TimeTrack simulator, e.g. `http://127.0.0.1:18081` (the `/_sim/` control API; the
    /// functions use the `{account}` template in `TIMETRACK_BASE_URL`).
    pub timetrack_sim_url: String,
}

impl DemoConfig {
    /// Reads `DEMO_INTEGRATION_ID` (default `demo`), `TABLE_NAME`, `SECRET_PREFIX`, `SCHEDULE_GROUP`,
    /// `SIM_PERSONIO_URL` and `SIM_TIMETRACK_URL`.
    pub(crate) fn from_env() -> Result<Self> {
        let integration = optional("DEMO_INTEGRATION_ID").unwrap_or_else(|| "demo".to_string());
        Ok(Self {
            integration_id: IntegrationId::new(integration)
                .context("DEMO_INTEGRATION_ID is not a valid integration id")?,
            table_name: required("TABLE_NAME")?,
            secret_prefix: optional("SECRET_PREFIX")
                .unwrap_or_else(|| shared::credentials::DEFAULT_SECRET_PREFIX.to_string()),
            schedule_group: required("SCHEDULE_GROUP")?,
            personio_sim_url: trim_slash(required("SIM_PERSONIO_URL")?),
            timetrack_sim_url: trim_slash(required("SIM_TIMETRACK_URL")?),
        })
    }
}

fn optional(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn required(name: &str) -> Result<String> {
    match optional(name) {
        Some(v) => Ok(v),
        None => bail!("environment variable {name} is not set (scripts/demo.sh sets it)"),
    }
}

fn trim_slash(url: String) -> String {
    url.trim_end_matches('/').to_string()
}
