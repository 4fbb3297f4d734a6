//! `demo report`: the runs as the product recorded them (run records in DynamoDB, oldest first) and what
//! actually changed in the two systems since the demo's first snapshot.
use std::fmt::Write as _;

use anyhow::{Context, Result};
use shared::runs::{RunRecord, RunStatus};
use shared::store::dynamodb::DynamoStore;
use shared::store::StateStore;

use crate::config::DemoConfig;
use crate::sim_state::{diff, CollectionChange, Snapshot};

/// How many examples of each kind of entry are shown (the counts are always complete).
const EXAMPLES: usize = 3;

pub(crate) async fn run(config: &DemoConfig, before: Option<Snapshot>) -> Result<String> {
    let aws = shared::aws::load_aws_config().await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let mut runs = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_runs(&config.integration_id, None, 100, cursor.as_deref())
            .await
            .context("listing the runs")?;
        runs.extend(page.runs);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    runs.reverse(); // the store lists newest first; a story reads oldest first

    let mut out = String::new();
    let _ = writeln!(
        out,
        "== Runs of integration {} ({} recorded) ==",
        config.integration_id,
        runs.len()
    );
    for (i, run) in runs.iter().enumerate() {
        out.push_str(&render_run(i + 1, run));
    }
    if let Some(before) = before {
        let after = Snapshot::fetch(&config.personio_sim_url, &config.timetrack_sim_url).await?;
        let _ = writeln!(
            out,
            "\n== What changed in the two systems since the demo started =="
        );
        for change in diff(&before, &after) {
            out.push_str(&render_change(&change));
        }
    }
    let failed = runs
        .iter()
        .filter(|r| r.status == RunStatus::Failed)
        .count();
    let _ = writeln!(
        out,
        "\n== Summary: {} runs, {} failed, {} with record failures, {} conflicts (incl. dry runs) ==",
        runs.len(),
        failed,
        runs.iter()
            .filter(|r| r.status == RunStatus::CompletedWithFailures)
            .count(),
        runs.iter().map(|r| r.conflicts.len()).sum::<usize>()
    );
    Ok(out)
}

fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "RUNNING",
        RunStatus::Succeeded => "SUCCEEDED",
        RunStatus::CompletedWithFailures => "COMPLETED WITH FAILURES",
        RunStatus::Continued => "CONTINUED",
        RunStatus::Failed => "FAILED",
    }
}

/// One run as a short block of text.
pub(crate) fn render_run(number: usize, run: &RunRecord) -> String {
    let mut out = String::new();
    let trigger = serde_json::to_value(run.trigger)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\n[{number}] {} · {trigger}{} · window {} · direction {} · {}{}",
        run.workflow,
        if run.dry_run { " (DRY RUN)" } else { "" },
        run.window,
        run.direction.as_str(),
        status_name(run.status),
        run.duration_ms
            .map(|ms| format!(" · {ms} ms"))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "    run id {}", run.run_id);
    if run.counts.is_empty() {
        let _ = writeln!(out, "    no writes");
    }
    for (side, actions) in &run.counts {
        let list = actions
            .iter()
            .map(|(action, n)| format!("{action} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let verb = if run.dry_run { "would" } else { "did" };
        let _ = writeln!(out, "    {side:<9} {verb}: {list}");
    }
    if !run.conflicts.is_empty() {
        let _ = writeln!(out, "    conflicts: {}", run.conflicts.len());
        for c in run.conflicts.iter().take(EXAMPLES) {
            let _ = writeln!(
                out,
                "      - Personio {} / TimeTrack {}: {} won ({})",
                c.personio_id.as_deref().unwrap_or("-"),
                c.timetrack_id.as_deref().unwrap_or("-"),
                c.winner,
                c.resolution
            );
        }
    }
    if !run.skipped.is_empty() {
        let _ = writeln!(out, "    skipped: {}", run.skipped.len());
        for s in run.skipped.iter().take(EXAMPLES) {
            let _ = writeln!(
                out,
                "      - {} {}: {}",
                s.system.map(|s| s.as_str()).unwrap_or("-"),
                s.record_id.as_deref().unwrap_or("-"),
                s.reason
            );
        }
    }
    if !run.failures.is_empty() {
        let _ = writeln!(out, "    record failures: {}", run.failures.len());
        for f in run.failures.iter().take(EXAMPLES) {
            let _ = writeln!(
                out,
                "      - {} {} {}: {}",
                f.action,
                f.system.map(|s| s.as_str()).unwrap_or("-"),
                f.record_id.as_deref().unwrap_or("-"),
                f.error
            );
        }
    }
    if let Some(error) = &run.error {
        let _ = writeln!(out, "    run error: {error}");
    }
    out
}

pub(crate) fn render_change(change: &CollectionChange) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<28} now {:>4} · created {} · updated {} · deleted {}",
        change.heading,
        change.total_after,
        change.created.len(),
        change.updated.len(),
        change.deleted.len()
    );
    for (sign, list) in [
        ('+', &change.created),
        ('~', &change.updated),
        ('-', &change.deleted),
    ] {
        for label in list.iter().take(EXAMPLES) {
            let _ = writeln!(out, "      {sign} {label}");
        }
        if list.len() > EXAMPLES {
            let _ = writeln!(out, "      {sign} … and {} more", list.len() - EXAMPLES);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> RunRecord {
        serde_json::from_value(json!({
            "run_id": "r-1",
            "integration_id": "demo",
            "workflow": "absences",
            "trigger": "manual",
            "window": {"from": "2026-10-01", "to": "2026-10-31"},
            "direction": "both",
            "dry_run": true,
            "status": "completed_with_failures",
            "started_at": "2026-11-27T10:00:00Z",
            "duration_ms": 812,
            "counts": {"timetrack": {"create": 2, "delete": 1}},
            "conflicts": [{"personio_id": "p9", "timetrack_id": "20009", "personio": null,
                           "timetrack": null, "winner": "personio", "resolution": "update"}],
            "skipped": [{"system": "timetrack", "record_id": "20012",
                         "reason": "absence type 3 (Sonderurlaub) is not mapped"}],
            "failures": [{"system": "personio", "record_id": "a7", "action": "update",
                          "error": "422 Period is approved"}]
        }))
        .unwrap()
    }

    #[test]
    fn a_run_shows_its_trigger_window_counts_conflicts_skips_and_failures() {
        let text = render_run(2, &record());
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(
            lines[1],
            "[2] absences · manual (DRY RUN) · window 2026-10-01..=2026-10-31 · direction both · COMPLETED WITH FAILURES · 812 ms"
        );
        assert!(
            lines.contains(&"timetrack would: create 2, delete 1"),
            "{text}"
        );
        assert!(
            lines.contains(&"- Personio p9 / TimeTrack 20009: personio won (update)"),
            "{text}"
        );
        assert!(
            lines.contains(&"- timetrack 20012: absence type 3 (Sonderurlaub) is not mapped"),
            "{text}"
        );
        assert!(
            lines.contains(&"- update personio a7: 422 Period is approved"),
            "{text}"
        );
    }

    #[test]
    fn long_lists_are_cut_to_examples_with_the_rest_counted() {
        let change = CollectionChange {
            heading: "TimeTrack users",
            total_after: 30,
            created: (1..=5).map(|i| format!("user {i}")).collect(),
            updated: vec![],
            deleted: vec![],
        };
        let text = render_change(&change);
        assert!(text.contains("created 5"), "{text}");
        assert!(
            text.contains("+ user 3") && !text.contains("+ user 4"),
            "{text}"
        );
        assert!(text.contains("… and 2 more"), "{text}");
    }
}
