//! "Both systems end exactly where an uninterrupted run ends", made checkable: the writes a run sent
//! (from the simulators' request logs), the records of both simulators in a form without the ids and
//! stamps that legitimately differ between two runs, and the mappings checked against both sides.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use shared::domain::{EntityKind, IntegrationId};
use shared::store::StateStore;
use simulators::{PersonioSim, TimeTrackSim};

/// The system a write went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Side {
    Personio,
    TimeTrack,
}

/// One write a run sent: its side, method and path relative to the API root (what fault rules match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Write {
    pub side: Side,
    pub method: String,
    pub api_path: String,
    /// How many earlier requests of the same side and method have a path starting with `api_path`
    /// (the `FaultRule::after` that makes a rule on `api_path` hit this write and no other).
    pub skip: u32,
}

impl std::fmt::Display for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {} {}", self.side, self.method, self.api_path)
    }
}

fn is_write(method: &str, api_path: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS") && !api_path.contains("/auth/")
}

fn writes_of(side: Side, log: &[simulators::RequestLogEntry]) -> Vec<Write> {
    let mut out = Vec::new();
    for (i, entry) in log.iter().enumerate() {
        if !is_write(&entry.method, &entry.api_path) {
            continue;
        }
        let skip = log[..i]
            .iter()
            .filter(|e| e.method == entry.method && e.api_path.starts_with(&entry.api_path))
            .count();
        out.push(Write {
            side,
            method: entry.method.clone(),
            api_path: entry.api_path.clone(),
            skip: u32::try_from(skip).unwrap_or(u32::MAX),
        });
    }
    out
}

/// The writes in the simulators' request logs: Personio's in order, then TimeTrack's.
pub fn writes_in_logs(personio: &PersonioSim, timetrack: &TimeTrackSim) -> Vec<Write> {
    let mut all = writes_of(Side::Personio, &personio.requests());
    all.extend(writes_of(Side::TimeTrack, &timetrack.requests()));
    all
}

/// The first, middle and last of `n` writes (1-based), without repeats: the sample `make test` runs.
pub fn sample_points(n: usize) -> Vec<usize> {
    let points: BTreeSet<usize> = [1, n.div_ceil(2), n]
        .into_iter()
        .filter(|k| *k >= 1)
        .collect();
    points.into_iter().collect()
}

const VOLATILE: [&str; 4] = ["id", "created_at", "updated_at", "user_id"];

fn canonical_lines<T: Serialize>(
    collection: &str,
    records: impl Iterator<Item = T>,
) -> Vec<String> {
    let mut lines: Vec<String> = records
        .filter_map(|r| serde_json::to_value(r).ok())
        .map(|mut v| {
            if let Value::Object(map) = &mut v {
                for key in VOLATILE {
                    map.remove(key);
                }
            }
            format!("{collection} {v}")
        })
        .collect();
    lines.sort();
    lines
}

/// Every live record of both simulators, ids and stamps left out, sorted: two runs that wrote the same
/// things have equal snapshots whatever ids the simulators gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub lines: Vec<String>,
}

impl Snapshot {
    pub fn of(personio: &PersonioSim, timetrack: &TimeTrackSim) -> Snapshot {
        let mut lines = Vec::new();
        {
            let p = personio.state();
            lines.extend(canonical_lines("personio.person", p.persons.values()));
            lines.extend(canonical_lines(
                "personio.employment",
                p.employments.values(),
            ));
            lines.extend(canonical_lines(
                "personio.attendance",
                p.attendance_periods.values(),
            ));
            lines.extend(canonical_lines(
                "personio.absence",
                p.absence_periods.values(),
            ));
        }
        {
            let t = timetrack.state();
            lines.extend(canonical_lines("timetrack.user", t.users.values()));
            lines.extend(canonical_lines(
                "timetrack.attendance",
                t.attendances.values().filter(|a| !a.deleted),
            ));
            lines.extend(canonical_lines(
                "timetrack.absence",
                t.absences.values().filter(|a| !a.deleted),
            ));
        }
        lines.sort();
        Snapshot { lines }
    }

    /// (records here more often than in `reference`, records of `reference` missing here).
    pub fn diff(&self, reference: &Snapshot) -> (Vec<String>, Vec<String>) {
        let count = |lines: &[String]| {
            let mut m: BTreeMap<String, i64> = BTreeMap::new();
            for l in lines {
                *m.entry(l.clone()).or_default() += 1;
            }
            m
        };
        let (mine, theirs) = (count(&self.lines), count(&reference.lines));
        let mut extra = Vec::new();
        let mut missing = Vec::new();
        for (line, n) in &mine {
            for _ in 0..(n - theirs.get(line).copied().unwrap_or(0)).max(0) {
                extra.push(line.clone());
            }
        }
        for (line, n) in &theirs {
            for _ in 0..(n - mine.get(line).copied().unwrap_or(0)).max(0) {
                missing.push(line.clone());
            }
        }
        (extra, missing)
    }
}

/// What the mappings of `kind` say about both sides: how many link a record on each, and every way
/// they disagree with the simulators (an id that names no live record, an id two mappings claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingCheck {
    pub linked: usize,
    pub problems: Vec<String>,
}

pub async fn check_mappings(
    store: &dyn StateStore,
    id: &IntegrationId,
    kind: EntityKind,
    personio: &PersonioSim,
    timetrack: &TimeTrackSim,
) -> MappingCheck {
    let mappings = store
        .list_mappings(id, kind, None)
        .await
        .expect("list mappings");
    let mut problems = Vec::new();
    let mut linked = 0;
    let mut seen_p = BTreeSet::new();
    let mut seen_t = BTreeSet::new();
    for m in &mappings {
        if let Some(pid) = &m.personio_id {
            if !seen_p.insert(pid.clone()) {
                problems.push(format!("Personio {pid} claimed by two mappings"));
            }
            let p = personio.state();
            let live = match kind {
                EntityKind::Employee => p.persons.contains_key(pid),
                EntityKind::TimeEntry => p.attendance_periods.contains_key(pid),
                EntityKind::Absence => p.absence_periods.contains_key(pid),
            };
            if !live && m.timetrack_id.is_some() {
                problems.push(format!(
                    "mapping {} names missing Personio {pid}",
                    m.mapping_id
                ));
            }
        }
        if let Some(tid) = &m.timetrack_id {
            if !seen_t.insert(tid.clone()) {
                problems.push(format!("TimeTrack {tid} claimed by two mappings"));
            }
            let t = timetrack.state();
            let n: i64 = tid.parse().unwrap_or(-1);
            let live = match kind {
                EntityKind::Employee => t.users.contains_key(&n),
                EntityKind::TimeEntry => t.attendances.get(&n).is_some_and(|a| !a.deleted),
                EntityKind::Absence => t.absences.get(&n).is_some_and(|a| !a.deleted),
            };
            if !live && m.personio_id.is_some() {
                problems.push(format!(
                    "mapping {} names missing TimeTrack {tid}",
                    m.mapping_id
                ));
            }
        }
        if m.personio_id.is_some() && m.timetrack_id.is_some() {
            linked += 1;
        }
    }
    MappingCheck { linked, problems }
}
