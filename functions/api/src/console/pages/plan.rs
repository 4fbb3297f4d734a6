//! A run's plan and results as readable tables: what would be (or was) created, updated, deleted,
//! which conflicts were won by whom, what was skipped and why — with names and dates, not only ids.
use std::collections::HashMap;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use maud::{html, Markup};
use serde_json::Value;

use super::layout::local_time;
use super::{plain, text};

/// Display names the tables use in place of ids: Personio person ids → "First Last", absence type
/// ids → their names.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub persons: HashMap<String, String>,
    pub absence_types: HashMap<String, String>,
    pub tz: Option<TimeZone>,
}

impl Names {
    /// The names in a candidates answer (`GET .../employees/candidates`).
    pub fn add_candidates(&mut self, candidates: &Value) {
        for c in candidates
            .get("candidates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(id), Some(p)) = (
                c.get("personio_id").and_then(Value::as_str),
                c.get("personio"),
            ) else {
                continue;
            };
            self.persons.insert(id.to_string(), full_name(p));
        }
    }

    /// The Personio absence-type names of an absence-types answer.
    pub fn add_absence_types(&mut self, types: &Value) {
        for t in types
            .get("personio")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(id), Some(name)) = (t.get("id"), t.get("name").and_then(Value::as_str)) {
                self.absence_types.insert(plain(id), name.to_string());
            }
        }
    }

    fn person(&self, id: &str) -> String {
        match self.persons.get(id) {
            Some(name) => format!("{name} (#{id})"),
            None => format!("person #{id}"),
        }
    }

    fn time(&self, ts: &str) -> String {
        match (ts.parse::<Timestamp>(), &self.tz) {
            (Ok(t), Some(tz)) => local_time(&t, tz),
            _ => ts.to_string(),
        }
    }

    /// A record value in words.
    pub fn describe(&self, v: &Value) -> String {
        if v.is_null() {
            return String::new();
        }
        if v.get("first_name").is_some() || v.get("last_name").is_some() {
            let mut s = full_name(v);
            if let Some(email) = v.get("email").and_then(Value::as_str) {
                s.push_str(&format!(" <{email}>"));
            }
            if v.get("active") == Some(&Value::Bool(false)) {
                s.push_str(" — left");
            }
            return s;
        }
        let who = v
            .get("employee")
            .and_then(Value::as_str)
            .map(|e| self.person(e));
        if let Some(type_id) = v.get("personio_type_id") {
            let type_id = plain(type_id);
            let type_name = self
                .absence_types
                .get(&type_id)
                .cloned()
                .unwrap_or_else(|| format!("type {type_id}"));
            let mut span = format!("{} – {}", text(v, "start"), text(v, "end"));
            if v.get("starts_midday") == Some(&Value::Bool(true)) {
                span.push_str(", from midday");
            }
            if v.get("ends_midday") == Some(&Value::Bool(true)) {
                span.push_str(", until midday");
            }
            return format!(
                "{}: {type_name}, {span} ({})",
                who.unwrap_or_default(),
                text(v, "status")
            );
        }
        if v.get("start").is_some() && v.get("end").is_some() {
            let mut s = format!(
                "{}: {} – {}",
                who.unwrap_or_default(),
                self.time(text(v, "start")),
                self.time(text(v, "end"))
            );
            if let Some(b) = v
                .get("break_minutes")
                .and_then(Value::as_u64)
                .filter(|b| *b > 0)
            {
                s.push_str(&format!(", {b} min break"));
            }
            let note = text(v, "note");
            if !note.is_empty() {
                s.push_str(&format!(" — “{note}”"));
            }
            return s;
        }
        v.to_string()
    }
}

fn full_name(v: &Value) -> String {
    format!("{} {}", text(v, "first_name"), text(v, "last_name"))
        .trim()
        .to_string()
}

fn system_name(v: &Value) -> &'static str {
    match v.as_str() {
        Some("personio") => "Personio",
        Some("timetrack") => "TimeTrack",
        _ => "",
    }
}

/// What an action does, in words.
fn action_label(action: &str) -> &str {
    match action {
        "create" => "Create",
        "adopt" => "Link (already equal)",
        "update" => "Update",
        "delete" => "Delete",
        "conflict" => "Conflict",
        "supersede" => "Replace stale copy",
        "forget_mapping" => "Forget link",
        "skip" => "Skip",
        other => other,
    }
}

/// The plan of a dry run (`RunRecord.plan`) as a table.
pub fn plan_table(plan: &Value, names: &Names) -> Markup {
    let actions: Vec<&Value> = plan
        .get("actions")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let in_sync = plan.get("in_sync").and_then(Value::as_u64).unwrap_or(0);
    let count = |name: &str| actions.iter().filter(|a| text(a, "action") == name).count();
    let writes: Vec<&Value> = actions
        .iter()
        .copied()
        .filter(|a| text(a, "action") != "skip")
        .collect();
    html! {
        p {
            (count("create")) " to create, " (count("update")) " to update, " (count("delete"))
            " to delete, " (count("conflict")) " conflicts, " (count("skip")) " skipped, "
            (in_sync) " already in sync."
        }
        @if writes.is_empty() {
            p { "Nothing to write: both systems agree for this period." }
        } @else {
            table id="plan" {
                caption class="visually-hidden" { "Planned changes" }
                thead { tr { th scope="col" { "What" } th scope="col" { "In" } th scope="col" { "Record" } th scope="col" { "Details" } } }
                tbody {
                    @for a in &writes {
                        (action_row(a, names))
                    }
                }
            }
        }
        // Skips are listed, grouped by reason, with the run's results (the run record reports them too).
    }
}

/// Skips grouped by side and reason, with their count, folded away: a run over a long period skips
/// many records for the same few reasons.
fn skip_groups(id: &str, skips: &[(&Value, &str)]) -> Markup {
    let mut groups: Vec<(&'static str, &str, usize)> = Vec::new();
    for (system, reason) in skips {
        let side = system_name(system);
        match groups
            .iter_mut()
            .find(|(s, r, _)| *s == side && r == reason)
        {
            Some(g) => g.2 += 1,
            None => groups.push((side, reason, 1)),
        }
    }
    groups.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(b.1)));
    html! {
        details id=(id) {
            summary { (skips.len()) " records skipped, for " (groups.len()) " reasons (show)" }
            table {
                thead { tr { th scope="col" { "In" } th scope="col" { "Reason" } th scope="col" { "Records" } } }
                tbody {
                    @for (side, reason, n) in &groups {
                        tr { td { (side) } td { (layout_sentence(reason)) } td { (n) } }
                    }
                }
            }
        }
    }
}

fn layout_sentence(s: &str) -> String {
    super::layout::sentence(s)
}

fn action_row(a: &Value, names: &Names) -> Markup {
    let action = text(a, "action");
    let (record, details) = match action {
        "conflict" => {
            let winner = system_name(a.get("winner").unwrap_or(&Value::Null));
            let p = a.pointer("/personio/value").unwrap_or(&Value::Null);
            let t = a.pointer("/timetrack/value").unwrap_or(&Value::Null);
            (
                format!(
                    "Personio: {} · TimeTrack: {}",
                    names.describe(p),
                    names.describe(t)
                ),
                format!(
                    "{winner} wins ({}); {}",
                    plain(a.get("cause").unwrap_or(&Value::Null)).replace('_', " "),
                    plain(a.get("resolution").unwrap_or(&Value::Null)).replace('_', " ")
                ),
            )
        }
        "skip" => (
            format!("#{}", plain(a.get("id").unwrap_or(&Value::Null))),
            text(a, "reason").to_string(),
        ),
        "update" => (
            names.describe(a.get("value").unwrap_or(&Value::Null)),
            match a.get("previous").filter(|p| !p.is_null()) {
                Some(prev) => format!("was: {}", names.describe(prev)),
                None => format!("#{}", plain(a.get("id").unwrap_or(&Value::Null))),
            },
        ),
        "delete" => (
            format!("#{}", plain(a.get("id").unwrap_or(&Value::Null))),
            "deleted on this side (gone on the other)".to_string(),
        ),
        _ => (
            names.describe(a.get("value").unwrap_or(&Value::Null)),
            [
                a.get("source_id").map(|s| format!("from #{}", plain(s))),
                a.get("personio_id")
                    .map(|s| format!("Personio #{}", plain(s))),
                a.get("timetrack_id")
                    .map(|s| format!("TimeTrack #{}", plain(s))),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        ),
    };
    html! {
        tr class=(format!("action-{action}")) {
            td { (action_label(action)) }
            td { (system_name(a.get("system").unwrap_or(&Value::Null))) }
            td { (record) }
            td { (details) }
        }
    }
}

/// A run's conflicts, failures and skips (what a finished run reports).
pub fn results_tables(run: &Value, names: &Names) -> Markup {
    let list = |key: &str| -> Vec<Value> {
        run.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let conflicts = list("conflicts");
    let failures = list("failures");
    let skipped = list("skipped");
    html! {
        h2 { "Conflicts (" (conflicts.len()) ")" }
        @if conflicts.is_empty() { p class="muted" { "None." } } @else {
            table {
                thead { tr { th scope="col" { "Personio" } th scope="col" { "TimeTrack" } th scope="col" { "Winner" } th scope="col" { "Resolution" } } }
                tbody {
                    @for c in &conflicts {
                        tr {
                            td { (names.describe(c.get("personio").unwrap_or(&Value::Null))) " " span class="muted" { (plain(c.get("personio_id").unwrap_or(&Value::Null))) } }
                            td { (names.describe(c.get("timetrack").unwrap_or(&Value::Null))) " " span class="muted" { (plain(c.get("timetrack_id").unwrap_or(&Value::Null))) } }
                            td { (system_name(c.get("winner").unwrap_or(&Value::Null))) }
                            td { (text(c, "resolution")) }
                        }
                    }
                }
            }
        }
        h2 { "Failures (" (failures.len()) ")" }
        @if failures.is_empty() { p class="muted" { "None." } } @else {
            table {
                thead { tr { th scope="col" { "In" } th scope="col" { "Record" } th scope="col" { "Action" } th scope="col" { "Error" } } }
                tbody {
                    @for f in &failures {
                        tr {
                            td { (system_name(f.get("system").unwrap_or(&Value::Null))) }
                            td { (plain(f.get("record_id").unwrap_or(&Value::Null))) }
                            td { (text(f, "action")) }
                            td { (text(f, "error")) }
                        }
                    }
                }
            }
        }
        h2 { "Skipped (" (skipped.len()) ")" }
        @if skipped.is_empty() { p class="muted" { "None." } } @else {
            (skip_groups("run-skips", &skipped.iter().map(|s| (s.get("system").unwrap_or(&Value::Null), text(s, "reason"))).collect::<Vec<_>>()))
        }
    }
}

/// An action counted in a run, in words.
fn done_label(action: &str) -> String {
    match action {
        "create" => "created".into(),
        "update" => "updated".into(),
        "delete" => "deleted".into(),
        "adopt" => "linked".into(),
        "skip" => "skipped".into(),
        "conflict" => "conflicts".into(),
        "supersede" => "replaced".into(),
        "forget_mapping" => "links forgotten".into(),
        other => other.replace('_', " "),
    }
}

/// `counts` (`{"timetrack": {"create": 3}}`) in words: "TimeTrack: 3 created".
pub fn counts_text(run: &Value) -> String {
    let Some(counts) = run.get("counts").and_then(Value::as_object) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (side, actions) in counts {
        let Some(actions) = actions.as_object() else {
            continue;
        };
        let items: Vec<String> = actions
            .iter()
            .filter(|(_, n)| n.as_u64().unwrap_or(0) > 0)
            .map(|(a, n)| format!("{} {}", plain(n), done_label(a)))
            .collect();
        if !items.is_empty() {
            let side = match side.as_str() {
                "personio" => "Personio",
                "timetrack" => "TimeTrack",
                "mappings" => "Links",
                other => other,
            };
            parts.push(format!("{side}: {}", items.join(", ")));
        }
    }
    if parts.is_empty() {
        "no changes".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_are_described_with_names_and_local_times() {
        let mut names = Names {
            tz: TimeZone::get("Europe/Berlin").ok(),
            ..Names::default()
        };
        names.persons.insert("7".into(), "Jürgen Müller".into());
        names.absence_types.insert("3".into(), "Urlaub".into());
        assert_eq!(
            names.describe(&json!({"first_name": "Jürgen", "last_name": "Müller", "email": "j@x.de", "active": true})),
            "Jürgen Müller <j@x.de>"
        );
        assert_eq!(
            names.describe(&json!({"employee": "7", "start": "2026-03-02T07:00:00Z", "end": "2026-03-02T15:30:00Z", "break_minutes": 30, "note": ""})),
            "Jürgen Müller (#7): 2026-03-02 08:00 CET – 2026-03-02 16:30 CET, 30 min break"
        );
        assert_eq!(
            names.describe(&json!({"employee": "7", "personio_type_id": "3", "start": "2026-03-02", "end": "2026-03-04", "starts_midday": false, "ends_midday": true, "status": "approved"})),
            "Jürgen Müller (#7): Urlaub, 2026-03-02 – 2026-03-04, until midday (approved)"
        );
    }

    #[test]
    fn counts_read_as_words() {
        let run = json!({"counts": {"timetrack": {"create": 2, "update": 0}, "personio": {}}});
        assert_eq!(counts_text(&run), "TimeTrack: 2 created");
        assert_eq!(counts_text(&json!({"counts": {}})), "no changes");
    }
}
