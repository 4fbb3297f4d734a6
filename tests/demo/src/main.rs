//! The demo's helper binary, driven by `scripts/demo.sh` (`make demo`):
//!
//! ```text
//! demo setup [ENV]       create table, secret, settings, schedule group + schedules (like a deployment);
//!                        with ENV, also the webhook queues, their URLs written to ENV
//! demo webhook ...       a Personio change carried by a webhook (see `webhook.rs`)
//! demo edit             change records in both systems (one each way and a conflict), through their APIs
//! demo snapshot FILE     save both simulators' records (the "before" picture)
//! demo report [FILE]     print the run records and, given a snapshot, what changed in both systems
//! demo console-users ENV  the console's user pool, app client, groups and admin user (make console)
//! ```
//! Configuration comes from the environment (see [`config::DemoConfig::from_env`]) — the same variables
//! the functions read, so setup creates exactly what they look for.
mod config;
mod console;
mod edit;
mod report;
mod setup;
mod sim_state;
mod webhook;

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::config::DemoConfig;
use crate::sim_state::Snapshot;

const USAGE: &str =
    "usage: demo setup [QUEUES_ENV_FILE] | demo webhook register API_URL | demo webhook edit|wait DIR | demo webhook report DIR ANSWER_FILE | demo edit | demo snapshot FILE | demo report [SNAPSHOT_FILE] | demo console-users ENV_FILE";

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["setup", rest @ ..] if rest.len() <= 1 => {
            let config = DemoConfig::from_env()?;
            println!("demo setup for integration {}:", config.integration_id);
            let targets = shared::scheduling::SchedulerTargets::from_env().context(
                "the scheduler targets (SCHEDULE_GROUP, SCHEDULER_ROLE_ARN, *_FUNCTION_ARN)",
            )?;
            setup::run(&config, targets).await?;
            match rest.first() {
                Some(env_file) => setup::webhook_queues(&config, Path::new(env_file)).await,
                None => Ok(()),
            }
        }
        ["webhook", "register", api_url] => {
            webhook::register(&DemoConfig::from_env()?, api_url).await
        }
        ["webhook", "edit", dir] => webhook::edit(&DemoConfig::from_env()?, Path::new(dir)).await,
        ["webhook", "wait", dir] => webhook::wait(&DemoConfig::from_env()?, Path::new(dir)).await,
        ["webhook", "report", dir, answer] => {
            webhook::report(&DemoConfig::from_env()?, Path::new(dir), Path::new(answer)).await
        }
        ["edit"] => {
            let config = DemoConfig::from_env()?;
            edit::run(&config).await
        }
        ["snapshot", file] => {
            let config = DemoConfig::from_env()?;
            let snapshot =
                Snapshot::fetch(&config.personio_sim_url, &config.timetrack_sim_url).await?;
            let text = serde_json::to_string(&snapshot.0)?;
            std::fs::write(file, text).with_context(|| format!("writing {file}"))
        }
        ["report", rest @ ..] if rest.len() <= 1 => {
            let config = DemoConfig::from_env()?;
            let before = match rest.first() {
                Some(file) => {
                    let text =
                        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
                    Some(Snapshot(
                        serde_json::from_str(&text).with_context(|| format!("parsing {file}"))?,
                    ))
                }
                None => None,
            };
            print!("{}", report::run(&config, before).await?);
            Ok(())
        }
        ["console-users", env_file] => console::run(env_file).await,
        ["--help" | "-h" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}
