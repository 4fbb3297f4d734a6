//! The canonical absence: what a Personio absence period and a TimeTrack absence are both brought into.
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::System;

/// One absence in canonical form. Natural key: `employee|personio_type|start|end`; anchor date: `start`.
///
/// Invariants (checked by [`Absence::new`]): `start <= end`; a single-day absence is not both
/// `starts_midday` and `ends_midday`, and a single-day half is always `ends_midday` (see the module doc of
/// [`super`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    /// The Personio person id (TimeTrack usernames are resolved to it by the caller through the
    /// employee mappings).
    pub employee: String,
    /// The Personio absence type; TimeTrack types are translated through the type mapping.
    pub personio_type_id: String,
    pub start: Date,
    /// Inclusive.
    pub end: Date,
    /// The first day counts only from midday.
    pub starts_midday: bool,
    /// The last day ends at midday.
    pub ends_midday: bool,
    pub status: AbsenceStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceStatus {
    Pending,
    Approved,
    Rejected,
}

/// Why an absence cannot take part in the sync. Reported in the run with this text; never guessed around.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotSyncable {
    #[error("{system} absence type {type_id}{} is not mapped; map it in the absence settings", name_suffix(.type_name))]
    UnmappedType {
        system: System,
        type_id: String,
        type_name: Option<String>,
    },
    #[error("Personio absence type {personio_type_id} is tracked in hours; TimeTrack absences are whole or half days, so hourly absences are not synced")]
    HourlyType { personio_type_id: String },
    #[error("absence has no end yet (ongoing); it is synced once Personio records its end")]
    Ongoing,
    #[error("absence was cancelled in Personio; treat it as deleted")]
    Cancelled,
    #[error("{system} absence status {value:?} is not one of pending, approved, rejected")]
    UnknownStatus { system: System, value: String },
    #[error("invalid absence period: {reason}")]
    InvalidPeriod { reason: String },
    #[error("absence cannot be represented in TimeTrack: {reason}")]
    NotRepresentableInTimeTrack { reason: String },
}

fn name_suffix(name: &Option<String>) -> String {
    name.as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default()
}

impl Absence {
    /// Builds a canonical absence, normalising a single-day half to `ends_midday` and rejecting what
    /// neither system accepts (end before start, a single day that is neither morning nor afternoon).
    pub fn new(
        employee: impl Into<String>,
        personio_type_id: impl Into<String>,
        start: Date,
        end: Date,
        starts_midday: bool,
        ends_midday: bool,
        status: AbsenceStatus,
    ) -> Result<Self, NotSyncable> {
        if end < start {
            return Err(NotSyncable::InvalidPeriod {
                reason: format!("ends {end} before it starts {start}"),
            });
        }
        let (starts_midday, ends_midday) = if start == end {
            if starts_midday && ends_midday {
                return Err(NotSyncable::InvalidPeriod {
                    reason: format!(
                        "single day {start} starts at midday and ends at midday (no time left)"
                    ),
                });
            }
            (false, starts_midday || ends_midday)
        } else {
            (starts_midday, ends_midday)
        };
        Ok(Absence {
            employee: employee.into(),
            personio_type_id: personio_type_id.into(),
            start,
            end,
            starts_midday,
            ends_midday,
            status,
        })
    }

    /// `employee|personio_type|start|end`: how twins are found before a mapping exists.
    pub fn natural_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.employee, self.personio_type_id, self.start, self.end
        )
    }

    /// The day the absence belongs to for windowed runs.
    pub fn anchor_date(&self) -> Date {
        self.start
    }

    /// A single day, half of it.
    pub fn is_single_half_day(&self) -> bool {
        self.start == self.end && (self.starts_midday || self.ends_midday)
    }

    /// Has a half boundary day.
    pub fn has_half_boundary(&self) -> bool {
        self.starts_midday || self.ends_midday
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn single_day_half_is_normalised_to_ends_midday() {
        let afternoon = Absence::new(
            "7788",
            "vac",
            date(2026, 3, 2),
            date(2026, 3, 2),
            true,
            false,
            AbsenceStatus::Approved,
        )
        .unwrap();
        let morning = Absence::new(
            "7788",
            "vac",
            date(2026, 3, 2),
            date(2026, 3, 2),
            false,
            true,
            AbsenceStatus::Approved,
        )
        .unwrap();
        assert_eq!(afternoon, morning);
        assert!(morning.is_single_half_day());
    }

    #[test]
    fn impossible_periods_are_rejected() {
        let both = Absence::new(
            "1",
            "t",
            date(2026, 3, 2),
            date(2026, 3, 2),
            true,
            true,
            AbsenceStatus::Pending,
        );
        assert!(matches!(both, Err(NotSyncable::InvalidPeriod { .. })));
        let backwards = Absence::new(
            "1",
            "t",
            date(2026, 3, 3),
            date(2026, 3, 2),
            false,
            false,
            AbsenceStatus::Pending,
        );
        assert!(matches!(backwards, Err(NotSyncable::InvalidPeriod { .. })));
        // Multi-day halves at both ends are fine.
        let a = Absence::new(
            "1",
            "t",
            date(2026, 3, 2),
            date(2026, 3, 6),
            true,
            true,
            AbsenceStatus::Pending,
        )
        .unwrap();
        assert!(a.starts_midday && a.ends_midday && !a.is_single_half_day());
    }

    #[test]
    fn natural_key_and_anchor() {
        let a = Absence::new(
            "7788",
            "abc",
            date(2026, 7, 14),
            date(2026, 7, 18),
            false,
            true,
            AbsenceStatus::Pending,
        )
        .unwrap();
        assert_eq!(a.natural_key(), "7788|abc|2026-07-14|2026-07-18");
        assert_eq!(a.anchor_date(), date(2026, 7, 14));
    }

    #[test]
    fn unmapped_type_message_names_the_type() {
        let e = NotSyncable::UnmappedType {
            system: System::TimeTrack,
            type_id: "7".into(),
            type_name: Some("Homeoffice".into()),
        };
        assert_eq!(
            e.to_string(),
            "timetrack absence type 7 (Homeoffice) is not mapped; map it in the absence settings"
        );
    }
}
