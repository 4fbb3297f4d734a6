//! The two side ports of the time-entries workflow: Personio attendance periods and TimeTrack
//! attendances, each read and written as canonical [`TimeEntry`]s. All wire-shape handling of the
//! workflow lives here; the pure rules (grouping, splitting, break placement, write planning) are in the
//! sibling modules.
//!
//! **Selection.** Both ports list exactly the entries whose *local start day* (the anchor date) lies in
//! the window, so the engine sees the same set on both sides:
//! - Personio is asked for periods starting from the day before the window to the day after it (local
//!   date-times, no `Z`), so that both halves of an overnight entry and all its BREAKs are grouped
//!   together; entries anchored outside the window are then dropped.
//! - TimeTrack is asked for attendances starting in the window's instants widened by a day on each side
//!   (digits per `timetrack_timestamp_mode`), and again entries anchored outside are dropped. The
//!   widening makes the listing tolerant of how the real API applies `from`/`to`.
//!
//! **Identity.** A Personio entry is a *group* of periods; its record id for the engine is the id of its
//! first WORK period. A write starts from the group's periods as the run's own listing read them, so
//! that all its periods are updated or deleted together without re-reading them (ADR 0021: re-reading
//! cost a GET and a list page per write, ~1.8 × the minimum requests on a run after deletions). A group
//! the listing did not hold (or one already written this run) is re-read: GET of the id, then the
//! person's periods around that day.
//!
//! **Honesty.** What a side cannot hold is a [`PortError`], never a silent drop: an entry Personio cannot
//! hold in local time, a person without a linked TimeTrack user, a write to an approved (CONFIRMED)
//! Personio period (`Refused`, so the engine parks it as a visible conflict instead of retrying), an
//! overlap (`Conflict`, with both entries' local times in the message).

use jiff::civil::{Date, DateTime, Time};

use super::canonical::{SkippedRecord, TimeEntry};
use crate::domain::{DateWindow, ScopeEntry};
use crate::engine::{PortError, PortErrorClass, Rejected};
use crate::settings::TimestampMode;
use crate::timezone::ZoneConverter;
use crate::workflows::directory::EmployeeDirectory;

mod personio;
mod timetrack;

pub(crate) use personio::PersonioTimeEntries;
pub(crate) use timetrack::TimeTrackTimeEntries;

/// What a run knows about its configuration, shared by both ports.
#[derive(Debug)]
pub(crate) struct TimeEntryContext {
    /// The integration's time zone (Personio's wall clock).
    pub zone: ZoneConverter,
    /// How TimeTrack's `...Z` digits are read and written.
    pub mode: TimestampMode,
    /// Personio person id ⇄ TimeTrack username.
    pub directory: EmployeeDirectory,
    /// `settings.personio.attendance_skip_approval`: write periods pre-approved (CONFIRMED).
    pub skip_approval: bool,
}

impl TimeEntryContext {
    fn in_window(&self, entry: &TimeEntry, window: &DateWindow) -> bool {
        let day = entry.anchor_date(&self.zone);
        window.from <= day && day <= window.to
    }
}

fn refused(message: impl Into<String>) -> PortError {
    PortError::new(PortErrorClass::Refused, message)
}

fn rejection(skipped: &SkippedRecord) -> Rejected {
    Rejected {
        id: skipped.record_ids.first().cloned(),
        reason: format!("{} (person {})", skipped.reason, skipped.employee),
    }
}

/// The days of a time-entries scope entry (they always have days).
fn scope_days(entry: &ScopeEntry) -> Result<DateWindow, PortError> {
    entry.days.ok_or_else(|| {
        PortError::new(
            PortErrorClass::Fatal,
            format!("time entries need days to list person {}", entry.person),
        )
    })
}

fn day_before(day: Date) -> Date {
    day.yesterday().unwrap_or(day)
}

fn day_after(day: Date) -> Date {
    day.tomorrow().unwrap_or(day)
}

fn last_second(day: Date) -> DateTime {
    day.to_datetime(Time::constant(23, 59, 59, 0))
}
