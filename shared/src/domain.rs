//! Identifiers and small value types shared by every module. Nothing here knows HTTP, AWS or JSON wire
//! shapes of the two APIs; serde derives exist only so that the store and the run records can persist them.
use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One Personio company linked to one TimeTrack account. Everything the product stores is keyed by it.
///
/// Restricted to `[A-Za-z0-9_-]{1,64}` because it becomes part of DynamoDB keys, Secrets Manager names
/// and Scheduler schedule names, all of which have character limits of their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntegrationId(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid integration id {0:?}: use 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'")]
pub struct InvalidIntegrationId(pub String);

impl IntegrationId {
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidIntegrationId> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(value))
        } else {
            Err(InvalidIntegrationId(value))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IntegrationId {
    type Error = InvalidIntegrationId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<IntegrationId> for String {
    fn from(value: IntegrationId) -> Self {
        value.0
    }
}

impl FromStr for IntegrationId {
    type Err = InvalidIntegrationId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for IntegrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The three workflow types; each is its own Lambda function and its own lease/watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workflow {
    Employees,
    TimeEntries,
    Absences,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown workflow {0:?}: expected one of employees, time-entries, absences")]
pub struct UnknownWorkflow(pub String);

impl Workflow {
    pub const ALL: [Workflow; 3] = [
        Workflow::Employees,
        Workflow::TimeEntries,
        Workflow::Absences,
    ];

    /// The spelling used in URLs, keys and schedule names.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Employees => "employees",
            Workflow::TimeEntries => "time-entries",
            Workflow::Absences => "absences",
        }
    }

    /// The kind of record this workflow synchronises.
    pub fn kind(self) -> EntityKind {
        match self {
            Workflow::Employees => EntityKind::Employee,
            Workflow::TimeEntries => EntityKind::TimeEntry,
            Workflow::Absences => EntityKind::Absence,
        }
    }
}

impl FromStr for Workflow {
    type Err = UnknownWorkflow;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Workflow::ALL
            .into_iter()
            .find(|w| w.as_str() == s)
            .ok_or_else(|| UnknownWorkflow(s.to_string()))
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of record a mapping links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Employee,
    TimeEntry,
    Absence,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Employee => "employee",
            EntityKind::TimeEntry => "time_entry",
            EntityKind::Absence => "absence",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the two systems kept in agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    Personio,
    #[serde(rename = "timetrack")]
    TimeTrack,
}

impl System {
    pub fn other(self) -> System {
        match self {
            System::Personio => System::TimeTrack,
            System::TimeTrack => System::Personio,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            System::Personio => "personio",
            System::TimeTrack => "timetrack",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which systems a run may write to. A one-way run never overwrites the other side's changes: it leaves
/// them for a later two-way run (the planner skips them with a reason and keeps the mapping as it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Both,
    ToPersonio,
    #[serde(rename = "to_timetrack")]
    ToTimeTrack,
}

impl Direction {
    /// May this run write to `system`?
    pub fn allows_writes_to(self, system: System) -> bool {
        match self {
            Direction::Both => true,
            Direction::ToPersonio => system == System::Personio,
            Direction::ToTimeTrack => system == System::TimeTrack,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Both => "both",
            Direction::ToPersonio => "to_personio",
            Direction::ToTimeTrack => "to_timetrack",
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Schedule,
    Manual,
    /// A follow-up invocation of a run that stopped near its Lambda deadline.
    Continuation,
    /// A targeted run over the persons and days named by a batch of Personio webhook events.
    Webhook,
}

/// An inclusive range of calendar days in the integration's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateWindow {
    pub from: Date,
    pub to: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("window start {from} is after its end {to}")]
pub struct InvalidWindow {
    pub from: Date,
    pub to: Date,
}

impl DateWindow {
    pub fn new(from: Date, to: Date) -> Result<Self, InvalidWindow> {
        if from > to {
            Err(InvalidWindow { from, to })
        } else {
            Ok(Self { from, to })
        }
    }
    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
    /// True when the inclusive range `[from, to]` shares at least one day with this window.
    pub fn overlaps(&self, from: Date, to: Date) -> bool {
        from <= self.to && to >= self.from
    }
    /// Every day of the window, in order.
    pub fn each_day(&self) -> impl Iterator<Item = Date> {
        let to = self.to;
        self.from
            .series(jiff::Span::new().days(1))
            .take_while(move |day| *day <= to)
    }
    /// Number of days in the window (at least 1).
    pub fn days(&self) -> i64 {
        // `until` between two valid civil dates in a window cannot fail.
        let span = self
            .from
            .until(self.to)
            .expect("two valid dates always have a span");
        i64::from(span.get_days()) + 1
    }
}

/// One entry of a targeted run's scope: a Personio person and, for kinds with dates, the days of that
/// person to sync (`None`: the person as a whole — employees).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopeEntry {
    /// Personio person id.
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<DateWindow>,
}

impl PartialOrd for DateWindow {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DateWindow {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.from, self.to).cmp(&(other.from, other.to))
    }
}

impl fmt::Display for DateWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn integration_id_rejects_key_breaking_characters() {
        assert!(IntegrationId::new("acme-prod_1").is_ok());
        assert!(IntegrationId::new("").is_err());
        assert!(IntegrationId::new("a#b").is_err());
        assert!(IntegrationId::new("x".repeat(65)).is_err());
    }

    #[test]
    fn workflow_round_trips_through_its_url_spelling() {
        for w in Workflow::ALL {
            assert_eq!(w.as_str().parse::<Workflow>().unwrap(), w);
        }
        assert!("time_entries".parse::<Workflow>().is_err());
    }

    #[test]
    fn direction_limits_writes() {
        assert!(Direction::Both.allows_writes_to(System::Personio));
        assert!(!Direction::ToPersonio.allows_writes_to(System::TimeTrack));
        assert!(Direction::ToTimeTrack.allows_writes_to(System::TimeTrack));
        let d: Direction = serde_json::from_str("\"to_timetrack\"").unwrap();
        assert_eq!(d, Direction::ToTimeTrack);
    }

    #[test]
    fn window_counts_days_inclusively() {
        let w = DateWindow::new(date(2026, 3, 1), date(2026, 3, 31)).unwrap();
        assert_eq!(w.days(), 31);
        assert!(w.contains(date(2026, 3, 31)));
        assert!(w.overlaps(date(2026, 2, 27), date(2026, 3, 1)));
        assert!(!w.overlaps(date(2026, 4, 1), date(2026, 4, 2)));
        assert!(DateWindow::new(date(2026, 3, 2), date(2026, 3, 1)).is_err());
    }

    #[test]
    fn each_day_walks_the_window_across_a_year_end() {
        let w = DateWindow::new(date(2026, 12, 30), date(2027, 1, 2)).unwrap();
        let days: Vec<_> = w.each_day().collect();
        assert_eq!(
            days,
            vec![
                date(2026, 12, 30),
                date(2026, 12, 31),
                date(2027, 1, 1),
                date(2027, 1, 2)
            ]
        );
        assert_eq!(days.len() as i64, w.days());
        let one = DateWindow::new(date(2026, 3, 1), date(2026, 3, 1)).unwrap();
        assert_eq!(one.each_day().collect::<Vec<_>>(), vec![date(2026, 3, 1)]);
    }
}
