//! The canonical time entry: one stretch of working time of one person, as both systems must agree on it.
use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::timezone::{TimeError, ZoneConverter};

/// One attendance in canonical form: what a mapping fingerprints and what the planner compares.
///
/// Built through [`TimeEntry::new`], which enforces the invariants (end after start, break shorter than
/// the entry, note normalised, whole seconds). Both Personio (local wall-clock, whole seconds) and
/// TimeTrack (`...Z`, sometimes with milliseconds) can hold exactly this, so a value read from either side
/// compares equal to the same attendance read from the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeEntry {
    /// The Personio person id. TimeTrack usernames are mapped to person ids through the employee mappings
    /// before an entry is built, so both sides name the person the same way.
    pub employee: String,
    /// Start instant, truncated to whole seconds.
    pub start: Timestamp,
    /// End instant, truncated to whole seconds; always after `start`.
    pub end: Timestamp,
    /// Unpaid break inside the entry, in minutes; always shorter than the entry.
    pub break_minutes: u32,
    /// Free-text note, trimmed; "no note" is the empty string on both sides.
    pub note: String,
}

/// Why a record of either system cannot become (or be written as) a [`TimeEntry`]. Not a failure of the
/// run: such records are skipped and reported, and looked at again on the next run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotSyncable {
    /// Still running (a clocked-in attendance or an open Personio WORK period): synced once it has an end.
    #[error("the entry is still open (no end time); it is synced once it has ended")]
    OpenEntry,
    #[error("the entry ends at {end} which is not after its start {start}")]
    EndNotAfterStart { start: Timestamp, end: Timestamp },
    #[error(
        "the break of {break_minutes} min is not shorter than the entry's {duration_minutes} min"
    )]
    BreakTooLong {
        break_minutes: u32,
        duration_minutes: i64,
    },
    /// A Personio BREAK period that lies inside no WORK period of the person. Never guessed.
    #[error("BREAK period from {start} lies inside no WORK period of the person")]
    BreakOutsideWork { start: DateTime },
    /// A Personio BREAK period without an end inside a finished WORK period.
    #[error("BREAK period from {start} has no end")]
    OpenBreak { start: DateTime },
    /// Two BREAK periods of one entry overlap, so their sum would not be the break.
    #[error("BREAK periods from {first} and {second} overlap")]
    OverlappingBreaks { first: DateTime, second: DateTime },
    /// A Personio period whose end is not after its start.
    #[error("period {start} – {end} does not end after it starts")]
    EmptyPeriod { start: DateTime, end: DateTime },
    /// A period Personio cannot hold in local wall-clock time, only possible around the repeated hour of
    /// an autumn night: its local end reads before its start (01:45 EDT – 01:15 EST), or a break does not
    /// fit inside its WORK part's local times. Reported, never stored wrongly.
    #[error("the period {start} – {end} (local time) cannot be stored in Personio on this DST change night")]
    NotHoldableInLocalTime { start: DateTime, end: DateTime },
    /// A time could not be converted (out of the representable range).
    #[error(transparent)]
    Time(#[from] TimeError),
}

/// A record (or group of records) that was skipped, with the ids needed to find it and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{} skipped: {reason}", record_ids.join(", "))]
pub struct SkippedRecord {
    /// The ids of the source records involved (a TimeTrack attendance id, or the Personio period ids).
    pub record_ids: Vec<String>,
    /// The Personio person id (or TimeTrack-resolved person id) the records belong to.
    pub employee: String,
    pub reason: NotSyncable,
}

/// The canonical note: surrounding whitespace removed, absent and blank are both "".
pub fn normalise_note(note: Option<&str>) -> String {
    note.map(str::trim).unwrap_or_default().to_string()
}

/// Drops the sub-second part: Personio holds whole seconds only, so a TimeTrack `...:00.500Z` must compare
/// equal to the same entry read back from Personio.
fn whole_seconds(ts: Timestamp) -> Timestamp {
    // Subtracting a value below one second from a valid timestamp stays within range.
    ts.checked_sub(SignedDuration::from_nanos(i64::from(
        ts.subsec_nanosecond(),
    )))
    .unwrap_or(ts)
}

impl TimeEntry {
    /// Builds a canonical entry, checking the invariants every writer relies on.
    pub fn new(
        employee: impl Into<String>,
        start: Timestamp,
        end: Timestamp,
        break_minutes: u32,
        note: Option<&str>,
    ) -> Result<Self, NotSyncable> {
        let (start, end) = (whole_seconds(start), whole_seconds(end));
        if end <= start {
            return Err(NotSyncable::EndNotAfterStart { start, end });
        }
        let duration_minutes = start.duration_until(end).as_secs() / 60;
        if i64::from(break_minutes) * 60 >= start.duration_until(end).as_secs() {
            return Err(NotSyncable::BreakTooLong {
                break_minutes,
                duration_minutes,
            });
        }
        Ok(Self {
            employee: employee.into(),
            start,
            end,
            break_minutes,
            note: normalise_note(note),
        })
    }

    /// The key twins are found by: the same person starting at the same instant is the same attendance.
    pub fn natural_key(&self) -> String {
        format!("{}|{}", self.employee, self.start)
    }

    /// The local calendar day the entry starts on; the day it belongs to for windows and payroll.
    pub fn anchor_date(&self, zone: &ZoneConverter) -> Date {
        zone.local_date(self.start)
    }

    /// The whole span, break included.
    pub fn duration(&self) -> SignedDuration {
        self.start.duration_until(self.end)
    }

    /// Worked time: the span minus the break.
    pub fn worked(&self) -> SignedDuration {
        self.duration() - SignedDuration::from_mins(i64::from(self.break_minutes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn new_normalises_note_and_truncates_sub_seconds() {
        let e = TimeEntry::new(
            "42",
            ts("2026-05-04T07:00:00.750Z"),
            ts("2026-05-04T15:30:00.001Z"),
            30,
            Some("  Kundentermin München \n"),
        )
        .unwrap();
        assert_eq!(e.start, ts("2026-05-04T07:00:00Z"));
        assert_eq!(e.end, ts("2026-05-04T15:30:00Z"));
        assert_eq!(e.note, "Kundentermin München");
        assert_eq!(e.worked(), SignedDuration::from_mins(480));
        assert_eq!(normalise_note(None), normalise_note(Some("   ")));
    }

    #[test]
    fn new_rejects_empty_spans_and_breaks_as_long_as_the_entry() {
        let start = ts("2026-05-04T07:00:00Z");
        assert_eq!(
            TimeEntry::new("1", start, start, 0, None),
            Err(NotSyncable::EndNotAfterStart { start, end: start })
        );
        let end = ts("2026-05-04T08:00:00Z");
        assert!(matches!(
            TimeEntry::new("1", start, end, 60, None),
            Err(NotSyncable::BreakTooLong {
                break_minutes: 60,
                duration_minutes: 60
            })
        ));
        assert!(TimeEntry::new("1", start, end, 59, None).is_ok());
    }

    #[test]
    fn natural_key_and_anchor_date_use_utc_key_and_local_day() {
        let zone = ZoneConverter::new("Europe/Berlin").unwrap();
        let e = TimeEntry::new(
            "7788",
            ts("2026-06-30T22:30:00Z"),
            ts("2026-07-01T06:00:00Z"),
            0,
            None,
        )
        .unwrap();
        assert_eq!(e.natural_key(), "7788|2026-06-30T22:30:00Z");
        // 22:30 UTC is 00:30 on 1 July in Berlin.
        assert_eq!(e.anchor_date(&zone), date(2026, 7, 1));
    }

    #[test]
    fn skipped_record_message_names_ids_and_reason() {
        let s = SkippedRecord {
            record_ids: vec!["a".into(), "b".into()],
            employee: "7".into(),
            reason: NotSyncable::OpenEntry,
        };
        assert_eq!(
            s.to_string(),
            "a, b skipped: the entry is still open (no end time); it is synced once it has ended"
        );
    }
}
