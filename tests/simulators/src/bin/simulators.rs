//! Serves both simulators on fixed ports for the demo and for humans:
//!
//! ```text
//! simulators [--personio-port 18080] [--timetrack-port 18081] [--seed FILE | --today YYYY-MM-DD]
//! simulators --today 2026-11-27 --write-seed tests/fixtures/seed/company.json   # regenerate the fixture
//! ```
//! Environment variables `SIM_PERSONIO_PORT`, `SIM_TIMETRACK_PORT`, `SIM_SEED`, `SIM_TODAY` work too.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};

struct Options {
    personio_port: u16,
    timetrack_port: u16,
    seed_file: Option<String>,
    today: Option<jiff::civil::Date>,
    write_seed: Option<String>,
}

fn options() -> anyhow::Result<Options> {
    let env = |name: &str| std::env::var(name).ok();
    let mut options = Options {
        personio_port: env("SIM_PERSONIO_PORT").map_or(Ok(18080), |v| v.parse())?,
        timetrack_port: env("SIM_TIMETRACK_PORT").map_or(Ok(18081), |v| v.parse())?,
        seed_file: env("SIM_SEED"),
        today: env("SIM_TODAY").map(|v| v.parse()).transpose()?,
        write_seed: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--personio-port" => options.personio_port = value()?.parse()?,
            "--timetrack-port" => options.timetrack_port = value()?.parse()?,
            "--seed" => options.seed_file = Some(value()?),
            "--today" => options.today = Some(value()?.parse()?),
            "--write-seed" => options.write_seed = Some(value()?),
            "--help" | "-h" => {
                println!(
                    "simulators [--personio-port N] [--timetrack-port N] [--seed FILE | --today YYYY-MM-DD] [--write-seed FILE]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let options = options()?;
    let seed = match (&options.seed_file, options.today) {
        (Some(file), _) => Seed::from_json_file(file).with_context(|| format!("reading {file}"))?,
        (None, today) => Seed::company(today.unwrap_or_else(|| jiff::Zoned::now().date())),
    };
    if let Some(path) = &options.write_seed {
        std::fs::write(path, seed.to_json_pretty()).with_context(|| format!("writing {path}"))?;
        println!("wrote {path}");
        return Ok(());
    }
    let personio_addr = SocketAddr::from(([127, 0, 0, 1], options.personio_port));
    let timetrack_addr = SocketAddr::from(([127, 0, 0, 1], options.timetrack_port));
    let personio = PersonioSim::start_on(PersonioConfig::default(), &seed, personio_addr).await?;
    let timetrack_config = TimeTrackConfig::default();
    let timetrack = TimeTrackSim::start_on(timetrack_config.clone(), &seed, timetrack_addr).await?;
    let personio_config = PersonioConfig::default();
    println!(
        "Personio simulator:  {}  (client id {})",
        personio.base_url(),
        personio_config.client_id
    );
    println!(
        "TimeTrack simulator: {}  (account {})",
        timetrack.base_url(),
        timetrack_config.account
    );
    println!("TimeTrack template:  {}", timetrack.base_url_template());
    println!("Control API: GET /_sim/state, GET /_sim/requests, POST /_sim/faults, POST /_sim/reset on each server");
    println!(
        "Personio webhooks: GET|POST /_sim/webhooks (knobs, events, attempts); company_id {}",
        personio.company_id()
    );
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
