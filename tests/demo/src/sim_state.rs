//! The simulators' records, read through their `/_sim/state` control API, and what changed between two
//! snapshots. The run records say what the engine *decided*; this says what actually *happened* in each
//! system, which is what a demo viewer wants to check (and what would expose a run that claims writes it
//! did not make).
use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::Value;

/// Both simulators' records, in the seed format (`{"personio": {...}, "timetrack": {...}}`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot(pub Value);

impl Snapshot {
    /// Reads `GET <root>/_sim/state` of both simulators.
    pub(crate) async fn fetch(personio_root: &str, timetrack_root: &str) -> Result<Self> {
        let http = reqwest::Client::new();
        let mut merged = serde_json::Map::new();
        for (root, side) in [(personio_root, "personio"), (timetrack_root, "timetrack")] {
            let url = format!("{root}/_sim/state");
            let body: Value = http
                .get(&url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .with_context(|| format!("GET {url}"))?
                .json()
                .await
                .with_context(|| format!("GET {url}: not JSON"))?;
            let records = body.get(side).cloned().unwrap_or(body);
            merged.insert(side.to_string(), records);
        }
        Ok(Self(Value::Object(merged)))
    }

    fn records(&self, side: &str, collection: &str) -> Vec<&Value> {
        self.0
            .get(side)
            .and_then(|s| s.get(collection))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    /// Personio person id → "First Last", to name the owner of attendances and absences.
    fn person_names(&self) -> BTreeMap<String, String> {
        self.records("personio", "persons")
            .into_iter()
            .filter_map(|p| {
                let id = id_of(p)?;
                Some((id, join_name(p, "first_name", "last_name")))
            })
            .collect()
    }

    /// Live (not soft-deleted) records of one collection by id.
    fn live(&self, side: &str, collection: &str) -> BTreeMap<String, &Value> {
        self.records(side, collection)
            .into_iter()
            .filter(|r| !r.get("deleted").and_then(Value::as_bool).unwrap_or(false))
            .filter_map(|r| Some((id_of(r)?, r)))
            .collect()
    }
}

/// The collections the demo reports on: (side, collection, heading).
pub(crate) const COLLECTIONS: [(&str, &str, &str); 6] = [
    ("personio", "persons", "Personio persons"),
    ("timetrack", "users", "TimeTrack users"),
    (
        "personio",
        "attendance_periods",
        "Personio attendance periods",
    ),
    ("timetrack", "attendances", "TimeTrack attendances"),
    ("personio", "absence_periods", "Personio absence periods"),
    ("timetrack", "absences", "TimeTrack absences"),
];

/// What happened to one collection between two snapshots; entries are human-readable labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CollectionChange {
    pub heading: &'static str,
    pub total_after: usize,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
}

/// Compares two snapshots collection by collection (records matched by id; a TimeTrack soft delete counts
/// as a delete).
pub(crate) fn diff(before: &Snapshot, after: &Snapshot) -> Vec<CollectionChange> {
    let names_before = before.person_names();
    let mut names = after.person_names();
    for (id, name) in names_before {
        names.entry(id).or_insert(name);
    }
    COLLECTIONS
        .iter()
        .map(|&(side, collection, heading)| {
            let old = before.live(side, collection);
            let new = after.live(side, collection);
            let label = |r: &Value| describe(collection, r, &names);
            CollectionChange {
                heading,
                total_after: new.len(),
                created: new
                    .iter()
                    .filter(|(id, _)| !old.contains_key(*id))
                    .map(|(_, r)| label(r))
                    .collect(),
                updated: new
                    .iter()
                    .filter(|(id, r)| old.get(*id).is_some_and(|o| o != *r))
                    .map(|(_, r)| label(r))
                    .collect(),
                deleted: old
                    .iter()
                    .filter(|(id, _)| !new.contains_key(*id))
                    .map(|(_, r)| label(r))
                    .collect(),
            }
        })
        .collect()
}

fn id_of(record: &Value) -> Option<String> {
    match record.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn text<'a>(record: &'a Value, pointer: &str) -> &'a str {
    record
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("?")
}

fn join_name(record: &Value, first: &str, last: &str) -> String {
    format!(
        "{} {}",
        record.get(first).and_then(Value::as_str).unwrap_or(""),
        record.get(last).and_then(Value::as_str).unwrap_or("")
    )
    .trim()
    .to_string()
}

/// `2026-11-20T08:00:00` / `2026-11-20T07:00:00.000Z` → `2026-11-20 08:00` (the demo shows wall times as
/// each system stores them).
fn short_time(value: &str) -> String {
    let v = value.trim_end_matches('Z');
    match v.split_once('T') {
        Some((date, time)) => format!("{date} {}", time.get(..5).unwrap_or(time)),
        None => v.to_string(),
    }
}

fn describe(collection: &str, r: &Value, names: &BTreeMap<String, String>) -> String {
    let person = |r: &Value| {
        let id = text(r, "/person/id");
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("person {id}"))
    };
    match collection {
        "persons" => format!(
            "{} <{}>",
            join_name(r, "first_name", "last_name"),
            text(r, "/email")
        ),
        "users" => {
            let enabled = r.get("enabled").and_then(Value::as_bool).unwrap_or(true);
            format!(
                "{} ({}){}",
                join_name(r, "firstName", "lastName"),
                text(r, "/username"),
                if enabled { "" } else { " [disabled]" }
            )
        }
        "attendance_periods" => format!(
            "{} {} {} – {}",
            person(r),
            text(r, "/type"),
            short_time(text(r, "/start/date_time")),
            short_time(text(r, "/end/date_time"))
                .rsplit(' ')
                .next()
                .unwrap_or("?"),
        ),
        "attendances" => format!(
            "{} {} – {} (break {} min)",
            text(r, "/user"),
            short_time(text(r, "/from")),
            short_time(text(r, "/to")).rsplit(' ').next().unwrap_or("?"),
            r.get("breakMinutes").and_then(Value::as_i64).unwrap_or(0)
        ),
        "absence_periods" => format!(
            "{} {} – {} ({})",
            person(r),
            short_time(text(r, "/starts_from/date_time")),
            short_time(text(r, "/ends_at/date_time")),
            text(r, "/approval/status")
        ),
        "absences" => format!(
            "{} {} – {} {} (status {})",
            text(r, "/user"),
            text(r, "/from"),
            text(r, "/to"),
            text(r, "/absenceTypeName"),
            r.get("status").map(Value::to_string).unwrap_or_default()
        ),
        _ => id_of(r).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(users: Value, persons: Value, attendances: Value) -> Snapshot {
        Snapshot(json!({
            "personio": {"persons": persons, "attendance_periods": attendances},
            "timetrack": {"users": users},
        }))
    }

    #[test]
    fn diff_tells_created_updated_and_deleted_apart() {
        let before = snapshot(
            json!([
                {"id": 501, "username": "anna", "firstName": "Anna", "lastName": "Köhler", "enabled": true},
                {"id": 502, "username": "uwe", "firstName": "Uwe", "lastName": "Kühn", "enabled": true},
                {"id": 503, "username": "old", "firstName": "Old", "lastName": "User", "enabled": true}
            ]),
            json!([{"id": "1001", "first_name": "Jörg", "last_name": "Bär", "email": "j@x"}]),
            json!([
                {"id": "a1", "type": "WORK", "person": {"id": "1001"},
                 "start": {"date_time": "2026-11-20T08:00:00"}, "end": {"date_time": "2026-11-20T16:00:00"}}
            ]),
        );
        let after = snapshot(
            json!([
                {"id": 501, "username": "anna", "firstName": "Anna", "lastName": "Köhler", "enabled": true},
                {"id": 502, "username": "uwe", "firstName": "Uwe", "lastName": "Kühn", "enabled": false},
                {"id": 503, "username": "old", "firstName": "Old", "lastName": "User", "deleted": true},
                {"id": 504, "username": "niklas", "firstName": "Niklas", "lastName": "Strauß", "enabled": true}
            ]),
            json!([{"id": "1001", "first_name": "Jörg", "last_name": "Bär", "email": "j@x"}]),
            json!([]),
        );
        let changes = diff(&before, &after);
        let users = changes
            .iter()
            .find(|c| c.heading == "TimeTrack users")
            .unwrap();
        assert_eq!(users.created, ["Niklas Strauß (niklas)"]);
        assert_eq!(users.updated, ["Uwe Kühn (uwe) [disabled]"]);
        assert_eq!(users.deleted, ["Old User (old)"]);
        assert_eq!(users.total_after, 3, "a soft-deleted user no longer counts");

        let periods = changes
            .iter()
            .find(|c| c.heading == "Personio attendance periods")
            .unwrap();
        assert_eq!(periods.deleted, ["Jörg Bär WORK 2026-11-20 08:00 – 16:00"]);
        assert!(periods.created.is_empty() && periods.updated.is_empty());

        let persons = changes
            .iter()
            .find(|c| c.heading == "Personio persons")
            .unwrap();
        assert_eq!(persons.total_after, 1);
        assert!(
            persons.created.is_empty() && persons.updated.is_empty() && persons.deleted.is_empty()
        );
    }

    #[test]
    fn timestamps_are_shortened_to_minutes() {
        assert_eq!(short_time("2026-10-28T07:00:00.000Z"), "2026-10-28 07:00");
        assert_eq!(short_time("2026-10-28T22:00:00"), "2026-10-28 22:00");
        assert_eq!(short_time("2026-11-02"), "2026-11-02");
    }
}
