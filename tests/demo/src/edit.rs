//! `demo edit`: what users do between two runs, made through the two systems' real APIs (with the
//! product's own clients), so that the next run has something to sync in each direction and a conflict:
//!
//! 1. TimeTrack: Zoë Schäfer's pending vacation is approved there → the next run approves it in Personio.
//! 2. Personio: Lena Vogt's sick leave is deleted there → the next run deletes it in TimeTrack.
//! 3. Both: Ines Fröhlich's pending vacation is rejected in TimeTrack *and* deleted in Personio → a
//!    conflict; the vacation mapping's master (Personio) wins, so the TimeTrack absence is deleted.
use anyhow::{anyhow, Context, Result};
use serde_json::Value;
use shared::connectors::timetrack::AbsenceStatus;
use shared::service::context::ClientFactory;

use crate::config::DemoConfig;
use crate::setup::simulator_credentials;
use crate::sim_state::Snapshot;

pub(crate) async fn run(config: &DemoConfig) -> Result<()> {
    let snapshot = Snapshot::fetch(&config.personio_sim_url, &config.timetrack_sim_url).await?;
    let factory = ClientFactory {
        personio_base_url: config.personio_sim_url.clone(),
        timetrack_base_url_template: format!("{}/{{account}}/api/v2/ext", config.timetrack_sim_url),
        ..ClientFactory::default()
    };
    let credentials = simulator_credentials();
    let personio = factory
        .personio(&credentials)
        .map_err(|e| anyhow!("Personio client: {e}"))?;
    let timetrack = factory
        .timetrack(&credentials)
        .map_err(|e| anyhow!("TimeTrack client: {e}"))?;

    let zoe = timetrack_absence(&snapshot, "zoe.schaefer")?;
    timetrack
        .update_absence_status(zoe, AbsenceStatus::Approved)
        .await
        .context("approving Zoë Schäfer's vacation in TimeTrack")?;
    println!("  TimeTrack: approved Zoë Schäfer's pending vacation (absence {zoe})");

    let lena = personio_absence(&snapshot, "1005")?;
    personio
        .delete_absence_period(&lena)
        .await
        .context("deleting Lena Vogt's sick leave in Personio")?;
    println!("  Personio:  deleted Lena Vogt's sick leave (absence period {lena})");

    let ines_tt = timetrack_absence(&snapshot, "ines.froehlich")?;
    let ines_p = personio_absence(&snapshot, "1017")?;
    timetrack
        .update_absence_status(ines_tt, AbsenceStatus::Rejected)
        .await
        .context("rejecting Ines Fröhlich's vacation in TimeTrack")?;
    personio
        .delete_absence_period(&ines_p)
        .await
        .context("deleting Ines Fröhlich's vacation in Personio")?;
    println!(
        "  both:      Ines Fröhlich's vacation rejected in TimeTrack ({ines_tt}) and deleted in Personio ({ines_p})"
    );
    Ok(())
}

/// The first live absence of a TimeTrack user.
fn timetrack_absence(snapshot: &Snapshot, username: &str) -> Result<i64> {
    records(snapshot, "/timetrack/absences")
        .find(|a| {
            a.get("user").and_then(Value::as_str) == Some(username)
                && !a.get("deleted").and_then(Value::as_bool).unwrap_or(false)
        })
        .and_then(|a| a.get("id").and_then(Value::as_i64))
        .ok_or_else(|| anyhow!("no TimeTrack absence of {username} in the simulator"))
}

/// The first absence period of a Personio person.
fn personio_absence(snapshot: &Snapshot, person_id: &str) -> Result<String> {
    records(snapshot, "/personio/absence_periods")
        .find(|a| a.pointer("/person/id").and_then(Value::as_str) == Some(person_id))
        .and_then(|a| a.get("id").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| anyhow!("no Personio absence period of person {person_id} in the simulator"))
}

fn records<'a>(snapshot: &'a Snapshot, pointer: &str) -> impl Iterator<Item = &'a Value> {
    snapshot
        .0
        .pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}
