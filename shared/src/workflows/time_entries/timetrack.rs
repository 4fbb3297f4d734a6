//! TimeTrack attendances ⇄ canonical time entries.
//!
//! The connector parses the wire (`from`/`to` strings ending in `Z`, `breakMinutes`, `notes`) into a
//! [`TimeTrackAttendance`]; the workflow resolves the username to a Personio person id through the employee
//! mappings. What the `Z` digits *mean* is the integration's [`TimestampMode`], applied here.
use jiff::civil::DateTime;

use super::canonical::{normalise_note, NotSyncable, SkippedRecord, TimeEntry};
use crate::settings::TimestampMode;
use crate::timezone::ZoneConverter;

/// A TimeTrack attendance as read, wire-independent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeTrackAttendance {
    /// TimeTrack's numeric attendance id, as a string (the form mappings store ids in).
    pub id: String,
    /// The Personio person id the attendance's username maps to.
    pub employee: String,
    /// The digits of `from` before the `Z` (milliseconds allowed).
    pub from: DateTime,
    /// The digits of `to`; `None` while the attendance is still running.
    pub to: Option<DateTime>,
    pub break_minutes: u32,
    pub notes: Option<String>,
}

/// The field values to write to a TimeTrack attendance for a canonical entry (the connector adds the
/// username and formats `from`/`to` as `YYYY-MM-DDTHH:MM:SSZ`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeTrackAttendanceFields {
    pub from: DateTime,
    pub to: DateTime,
    pub break_minutes: u32,
    pub notes: String,
}

/// A canonical entry read from TimeTrack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeTrackEntry {
    pub id: String,
    pub entry: TimeEntry,
}

/// Reads a TimeTrack attendance as a canonical entry. Open attendances, spans that do not end after they
/// start and breaks not shorter than the span are skipped with a reason.
pub(crate) fn entry_from_timetrack(
    attendance: &TimeTrackAttendance,
    zone: &ZoneConverter,
    mode: TimestampMode,
) -> Result<TimeTrackEntry, SkippedRecord> {
    let skipped = |reason: NotSyncable| SkippedRecord {
        record_ids: vec![attendance.id.clone()],
        employee: attendance.employee.clone(),
        reason,
    };
    let to = attendance
        .to
        .ok_or_else(|| skipped(NotSyncable::OpenEntry))?;
    let (start, end, _) = zone
        .timetrack_period_to_instants(attendance.from, to, mode)
        .map_err(|e| skipped(e.into()))?;
    let entry = TimeEntry::new(
        attendance.employee.clone(),
        start,
        end,
        attendance.break_minutes,
        attendance.notes.as_deref(),
    )
    .map_err(skipped)?;
    Ok(TimeTrackEntry {
        id: attendance.id.clone(),
        entry,
    })
}

/// The TimeTrack field values that hold `entry`.
pub(crate) fn timetrack_fields(
    entry: &TimeEntry,
    zone: &ZoneConverter,
    mode: TimestampMode,
) -> TimeTrackAttendanceFields {
    TimeTrackAttendanceFields {
        from: zone.instant_to_timetrack(entry.start, mode),
        to: zone.instant_to_timetrack(entry.end, mode),
        break_minutes: entry.break_minutes,
        notes: normalise_note(Some(&entry.note)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::Timestamp;

    fn berlin() -> ZoneConverter {
        ZoneConverter::new("Europe/Berlin").unwrap()
    }

    fn attendance(from: DateTime, to: Option<DateTime>, break_minutes: u32) -> TimeTrackAttendance {
        TimeTrackAttendance {
            id: "1001".into(),
            employee: "7788".into(),
            from,
            to,
            break_minutes,
            notes: Some(" Frühschicht ".into()),
        }
    }

    #[test]
    fn reads_a_closed_attendance_in_both_modes() {
        let a = attendance(
            date(2026, 2, 2).at(8, 0, 0, 0),
            Some(date(2026, 2, 2).at(16, 30, 0, 0)),
            30,
        );
        let utc = entry_from_timetrack(&a, &berlin(), TimestampMode::Utc).unwrap();
        assert_eq!(
            utc.entry.start,
            "2026-02-02T08:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(utc.entry.note, "Frühschicht");
        assert_eq!(utc.entry.break_minutes, 30);
        let local = entry_from_timetrack(&a, &berlin(), TimestampMode::LocalWallClock).unwrap();
        assert_eq!(
            local.entry.start,
            "2026-02-02T07:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            local.entry.end,
            "2026-02-02T15:30:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn open_and_inverted_attendances_are_skipped_with_their_id() {
        let open = attendance(date(2026, 2, 2).at(8, 0, 0, 0), None, 0);
        let err = entry_from_timetrack(&open, &berlin(), TimestampMode::Utc).unwrap_err();
        assert_eq!(err.reason, NotSyncable::OpenEntry);
        assert_eq!(err.record_ids, vec!["1001".to_string()]);
        let inverted = attendance(
            date(2026, 2, 2).at(8, 0, 0, 0),
            Some(date(2026, 2, 2).at(8, 0, 0, 0)),
            0,
        );
        let err = entry_from_timetrack(&inverted, &berlin(), TimestampMode::Utc).unwrap_err();
        assert!(matches!(err.reason, NotSyncable::EndNotAfterStart { .. }));
        let long_break = attendance(
            date(2026, 2, 2).at(8, 0, 0, 0),
            Some(date(2026, 2, 2).at(9, 0, 0, 0)),
            60,
        );
        let err = entry_from_timetrack(&long_break, &berlin(), TimestampMode::Utc).unwrap_err();
        assert!(matches!(err.reason, NotSyncable::BreakTooLong { .. }));
    }

    #[test]
    fn writes_digits_per_mode_to_the_minute() {
        let entry = TimeEntry::new(
            "7788",
            "2026-07-06T06:15:00Z".parse().unwrap(),
            "2026-07-06T14:45:00Z".parse().unwrap(),
            45,
            Some("Büro"),
        )
        .unwrap();
        let utc = timetrack_fields(&entry, &berlin(), TimestampMode::Utc);
        assert_eq!(utc.from, date(2026, 7, 6).at(6, 15, 0, 0));
        assert_eq!(utc.to, date(2026, 7, 6).at(14, 45, 0, 0));
        assert_eq!(utc.break_minutes, 45);
        assert_eq!(utc.notes, "Büro");
        let local = timetrack_fields(&entry, &berlin(), TimestampMode::LocalWallClock);
        assert_eq!(local.from, date(2026, 7, 6).at(8, 15, 0, 0));
        assert_eq!(local.to, date(2026, 7, 6).at(16, 45, 0, 0));
    }

    #[test]
    fn local_mode_on_spring_forward_night_counts_real_hours() {
        // 01:00–04:00 local on 2026-03-29 in Berlin is 2 real hours.
        let a = attendance(
            date(2026, 3, 29).at(1, 0, 0, 0),
            Some(date(2026, 3, 29).at(4, 0, 0, 0)),
            0,
        );
        let e = entry_from_timetrack(&a, &berlin(), TimestampMode::LocalWallClock).unwrap();
        assert_eq!(e.entry.duration(), jiff::SignedDuration::from_hours(2));
    }
}
