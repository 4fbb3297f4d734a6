//! Canonical time entries → the Personio attendance periods that hold them.
//!
//! Personio v2 has no break field: an attendance is a `WORK` period, and breaks are separate `BREAK`
//! periods. Periods are local wall-clock times and may not cross local midnight. The shape chosen here:
//!
//! **WORK covers the whole span; BREAKs lie inside it.** An entry becomes one WORK period per local day it
//! touches (split at local midnight: an entry 22:00–06:00 becomes 22:00–00:00 and 00:00–06:00), the WORK
//! parts together covering the entry from start to end. Worked time = WORK − BREAK. All parts carry the
//! entry's note as their comment; BREAK periods carry none.
//!
//! **Break placement rule.** An entry's `break_minutes` become one BREAK period:
//! 1. placed in the *longest* WORK part (the first one on a tie),
//! 2. *centred* in that part, its start rounded down to a whole minute after the part's start,
//! 3. nudged minute by minute (nearest first, earlier before later) only when Personio could not hold the
//!    centred position exactly (its local rendering would not read back to the same instants, would end
//!    before it starts, or would not lie inside the WORK part's local times) — which happens only around the repeated hour of an autumn DST night (see
//!    [`crate::timezone`]);
//! 4. if the break is longer than the longest part, it is centred in the whole entry instead and cut at
//!    local midnight into one BREAK per part it covers (their lengths sum to `break_minutes`).
//!
//! No break (0 minutes) means no BREAK period. On a fall-back night some entries cannot be stored in
//! Personio's local times at all — one whose local rendering ends before it starts (01:45 EDT – 01:15
//! EST), or whose break is longer than its WORK part's local span — and are reported as
//! [`NotSyncable::NotHoldableInLocalTime`] instead of being stored wrongly. Reading back ([`super::grouping`]) sums the
//! BREAK periods inside an entry's WORK parts, so any placement a person makes in Personio reads the same.
use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp};

use crate::timezone::ZoneConverter;
use crate::workflows::time_entries::canonical::{NotSyncable, TimeEntry};

/// Personio's attendance period types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PeriodKind {
    Work,
    Break,
}

/// Personio's approval status of an attendance period. Unknown values are kept, not guessed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ApprovalStatus {
    Pending,
    Confirmed,
    Rejected,
    Other(String),
}

/// A Personio attendance period as read, wire-independent (the connector fills it in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersonioPeriod {
    pub id: String,
    /// The Personio person id.
    pub person: String,
    pub kind: PeriodKind,
    /// Local wall-clock start in the integration's zone.
    pub start: DateTime,
    /// Local wall-clock end; `None` while the period is open.
    pub end: Option<DateTime>,
    pub comment: Option<String>,
    pub approval: Option<ApprovalStatus>,
}

/// One Personio period to write for a canonical entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeriodDraft {
    pub person: String,
    pub kind: PeriodKind,
    pub start: DateTime,
    pub end: DateTime,
    pub comment: Option<String>,
}

/// The Personio periods that hold `entry`: WORK parts in order, then BREAK periods in order.
pub(crate) fn personio_periods(
    entry: &TimeEntry,
    zone: &ZoneConverter,
) -> Result<Vec<PeriodDraft>, NotSyncable> {
    // The fields are public (and deserialisable), so re-check the invariants the layout relies on.
    let entry = TimeEntry::new(
        entry.employee.clone(),
        entry.start,
        entry.end,
        entry.break_minutes,
        Some(&entry.note),
    )?;
    let parts = split_at_local_midnight(entry.start, entry.end, zone)?;
    let breaks = place_break(&parts, &entry, zone)?;
    let comment = (!entry.note.is_empty()).then(|| entry.note.clone());
    let draft = |kind, (start, end): (Timestamp, Timestamp), comment: Option<String>| PeriodDraft {
        person: entry.employee.clone(),
        kind,
        start: zone.to_local(start),
        end: zone.to_local(end),
        comment,
    };
    let mut drafts: Vec<PeriodDraft> = parts
        .iter()
        .map(|&part| draft(PeriodKind::Work, part, comment.clone()))
        .collect();
    drafts.extend(
        breaks
            .into_iter()
            .map(|b| draft(PeriodKind::Break, b, None)),
    );
    if let Some(bad) = drafts.iter().find(|d| d.end <= d.start) {
        return Err(NotSyncable::NotHoldableInLocalTime {
            start: bad.start,
            end: bad.end,
        });
    }
    Ok(drafts)
}

/// Cuts `[start, end)` at every local day start strictly inside it.
fn split_at_local_midnight(
    start: Timestamp,
    end: Timestamp,
    zone: &ZoneConverter,
) -> Result<Vec<(Timestamp, Timestamp)>, NotSyncable> {
    let mut parts = Vec::new();
    let mut cursor = start;
    loop {
        let day = zone.local_date(cursor);
        let next_day = day
            .tomorrow()
            .map_err(|_| crate::timezone::TimeError::OutOfRange {
                local: zone.to_local(cursor),
                zone: zone.name().to_string(),
            })?;
        let boundary = zone.start_of_day(next_day)?;
        if boundary < end {
            parts.push((cursor, boundary));
            cursor = boundary;
        } else {
            parts.push((cursor, end));
            return Ok(parts);
        }
    }
}

/// Can Personio hold `[start, end]` exactly: local end after local start, and reading back gives the
/// same instants?
fn holdable(zone: &ZoneConverter, start: Timestamp, end: Timestamp) -> bool {
    zone.to_local(start) < zone.to_local(end) && zone.period_reads_back(start, end)
}

/// Applies the break placement rule (see the module documentation).
fn place_break(
    parts: &[(Timestamp, Timestamp)],
    entry: &TimeEntry,
    zone: &ZoneConverter,
) -> Result<Vec<(Timestamp, Timestamp)>, NotSyncable> {
    if entry.break_minutes == 0 {
        return Ok(Vec::new());
    }
    let length = SignedDuration::from_mins(i64::from(entry.break_minutes));
    let span = |&(s, e): &(Timestamp, Timestamp)| s.duration_until(e);
    let not_holdable = |(s, e): (Timestamp, Timestamp)| NotSyncable::NotHoldableInLocalTime {
        start: zone.to_local(s),
        end: zone.to_local(e),
    };
    // `max_by_key` returns the last maximum; reverse so that ties go to the first part.
    let longest = parts.iter().rev().max_by_key(|p| span(p)).copied();
    match longest {
        Some(part) if span(&part) >= length => place_in_part(part, length, zone)
            .map(|b| vec![b])
            .ok_or_else(|| not_holdable(centred(part, length))),
        _ => {
            let (start, end) = centred((entry.start, entry.end), length);
            parts
                .iter()
                .filter_map(|&(ps, pe)| {
                    let (s, e) = (start.max(ps), end.min(pe));
                    (s < e).then_some(((ps, pe), (s, e)))
                })
                .map(|(part, piece)| {
                    if fits(zone, part, piece) {
                        Ok(piece)
                    } else {
                        Err(not_holdable(piece))
                    }
                })
                .collect()
        }
    }
}

/// Can Personio hold the break `piece` exactly, inside the WORK `part` in local time?
fn fits(
    zone: &ZoneConverter,
    part: (Timestamp, Timestamp),
    (s, e): (Timestamp, Timestamp),
) -> bool {
    zone.to_local(part.0) <= zone.to_local(s)
        && zone.to_local(e) <= zone.to_local(part.1)
        && holdable(zone, s, e)
}

/// The centred position of a break of `length` in `part`, start rounded down to a whole minute.
fn centred((start, end): (Timestamp, Timestamp), length: SignedDuration) -> (Timestamp, Timestamp) {
    let slack = start.duration_until(end) - length;
    let offset = SignedDuration::from_mins(slack.as_secs() / 2 / 60);
    let s = start + offset;
    (s, s + length)
}

/// Centred in `part`, nudged by whole minutes to the nearest position Personio can hold exactly; `None`
/// when there is none (only on a fall-back night, for a break longer than the part's local span).
fn place_in_part(
    part: (Timestamp, Timestamp),
    length: SignedDuration,
    zone: &ZoneConverter,
) -> Option<(Timestamp, Timestamp)> {
    let centre = centred(part, length);
    let max_offset_mins = (part.0.duration_until(part.1) - length).as_secs() / 60;
    let centre_mins = part.0.duration_until(centre.0).as_secs() / 60;
    let at = |mins: i64| {
        let s = part.0 + SignedDuration::from_mins(mins);
        (s, s + length)
    };
    for distance in 0..=max_offset_mins {
        for mins in [centre_mins - distance, centre_mins + distance] {
            if (0..=max_offset_mins).contains(&mins) {
                let piece = at(mins);
                if fits(zone, part, piece) {
                    return Some(piece);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn berlin() -> ZoneConverter {
        ZoneConverter::new("Europe/Berlin").unwrap()
    }

    fn local_entry(
        zone: &ZoneConverter,
        start: DateTime,
        end: DateTime,
        break_minutes: u32,
    ) -> TimeEntry {
        let s = zone.resolve_start(start).unwrap().instant;
        let e = zone.resolve_end(s, start, end).unwrap().instant;
        TimeEntry::new("7788", s, e, break_minutes, Some("Nachtschicht")).unwrap()
    }

    fn shape(d: &PeriodDraft) -> (PeriodKind, DateTime, DateTime) {
        (d.kind, d.start, d.end)
    }

    #[test]
    fn day_entry_is_one_work_with_a_centred_break() {
        let z = berlin();
        let e = local_entry(
            &z,
            date(2026, 5, 4).at(8, 0, 0, 0),
            date(2026, 5, 4).at(16, 30, 0, 0),
            30,
        );
        let periods = personio_periods(&e, &z).unwrap();
        assert_eq!(
            periods.iter().map(shape).collect::<Vec<_>>(),
            vec![
                (
                    PeriodKind::Work,
                    date(2026, 5, 4).at(8, 0, 0, 0),
                    date(2026, 5, 4).at(16, 30, 0, 0)
                ),
                (
                    PeriodKind::Break,
                    date(2026, 5, 4).at(12, 0, 0, 0),
                    date(2026, 5, 4).at(12, 30, 0, 0)
                ),
            ]
        );
        assert_eq!(periods[0].comment.as_deref(), Some("Nachtschicht"));
        assert_eq!(periods[1].comment, None);
        assert!(periods.iter().all(|p| p.person == "7788"));
    }

    #[test]
    fn odd_slack_rounds_the_break_start_down_to_a_whole_minute() {
        let z = berlin();
        // 8 h 01 min span, 45 min break: slack 436 min → offset 218 min → 11:38–12:23.
        let e = local_entry(
            &z,
            date(2026, 5, 4).at(8, 0, 0, 0),
            date(2026, 5, 4).at(16, 1, 0, 0),
            45,
        );
        let periods = personio_periods(&e, &z).unwrap();
        assert_eq!(
            shape(&periods[1]),
            (
                PeriodKind::Break,
                date(2026, 5, 4).at(11, 38, 0, 0),
                date(2026, 5, 4).at(12, 23, 0, 0)
            )
        );
    }

    #[test]
    fn overnight_shift_splits_at_midnight_with_break_in_the_longer_part() {
        let z = berlin();
        let e = local_entry(
            &z,
            date(2026, 5, 4).at(22, 0, 0, 0),
            date(2026, 5, 5).at(6, 0, 0, 0),
            30,
        );
        let periods = personio_periods(&e, &z).unwrap();
        assert_eq!(
            periods.iter().map(shape).collect::<Vec<_>>(),
            vec![
                (
                    PeriodKind::Work,
                    date(2026, 5, 4).at(22, 0, 0, 0),
                    date(2026, 5, 5).at(0, 0, 0, 0)
                ),
                (
                    PeriodKind::Work,
                    date(2026, 5, 5).at(0, 0, 0, 0),
                    date(2026, 5, 5).at(6, 0, 0, 0)
                ),
                // centred in 00:00–06:00: (360 − 30) / 2 = 165 min → 02:45–03:15
                (
                    PeriodKind::Break,
                    date(2026, 5, 5).at(2, 45, 0, 0),
                    date(2026, 5, 5).at(3, 15, 0, 0)
                ),
            ]
        );
        assert!(periods[..2]
            .iter()
            .all(|p| p.comment.as_deref() == Some("Nachtschicht")));
    }

    #[test]
    fn break_longer_than_either_part_is_centred_in_the_entry_and_cut_at_midnight() {
        let z = berlin();
        // 23:00–01:30 has parts of 60 and 90 min; a 100-min break fits in neither, so it is centred in
        // the 150-min entry (slack 50 → 23:25–01:05) and cut at midnight.
        let e = local_entry(
            &z,
            date(2026, 5, 4).at(23, 0, 0, 0),
            date(2026, 5, 5).at(1, 30, 0, 0),
            100,
        );
        let periods = personio_periods(&e, &z).unwrap();
        assert_eq!(
            periods.iter().map(shape).collect::<Vec<_>>()[2..],
            [
                (
                    PeriodKind::Break,
                    date(2026, 5, 4).at(23, 25, 0, 0),
                    date(2026, 5, 5).at(0, 0, 0, 0)
                ),
                (
                    PeriodKind::Break,
                    date(2026, 5, 5).at(0, 0, 0, 0),
                    date(2026, 5, 5).at(1, 5, 0, 0)
                ),
            ]
        );
    }

    #[test]
    fn entry_ending_at_midnight_is_one_period() {
        let z = berlin();
        let e = local_entry(
            &z,
            date(2026, 5, 4).at(18, 0, 0, 0),
            date(2026, 5, 5).at(0, 0, 0, 0),
            0,
        );
        let periods = personio_periods(&e, &z).unwrap();
        assert_eq!(periods.len(), 1);
        assert_eq!(periods[0].end, date(2026, 5, 5).at(0, 0, 0, 0));
    }

    #[test]
    fn invariants_are_rechecked_for_hand_built_entries() {
        let z = berlin();
        let mut e = local_entry(
            &z,
            date(2026, 5, 4).at(8, 0, 0, 0),
            date(2026, 5, 4).at(9, 0, 0, 0),
            0,
        );
        e.break_minutes = 60;
        assert!(matches!(
            personio_periods(&e, &z),
            Err(NotSyncable::BreakTooLong { .. })
        ));
    }

    #[test]
    fn spring_forward_entry_has_two_real_hours_and_a_break_outside_the_gap() {
        let z = berlin();
        let e = local_entry(
            &z,
            date(2026, 3, 29).at(1, 0, 0, 0),
            date(2026, 3, 29).at(4, 0, 0, 0),
            60,
        );
        assert_eq!(e.duration(), SignedDuration::from_hours(2));
        let periods = personio_periods(&e, &z).unwrap();
        // centred in real time: 00:30Z–01:30Z = 01:30 CET – 03:30 CEST.
        assert_eq!(
            shape(&periods[1]),
            (
                PeriodKind::Break,
                date(2026, 3, 29).at(1, 30, 0, 0),
                date(2026, 3, 29).at(3, 30, 0, 0)
            )
        );
    }

    #[test]
    fn fall_back_break_is_nudged_out_of_the_repeated_hour() {
        let z = berlin();
        // 01:00–04:00 local on 2026-10-25 is 4 real hours (23:00Z–03:00Z). A centred 60-min break would be
        // 00:30Z–01:30Z = 02:30 CEST – 02:30 CET, which reads back as zero minutes; the nearest exact
        // placement is used instead.
        let e = local_entry(
            &z,
            date(2026, 10, 25).at(1, 0, 0, 0),
            date(2026, 10, 25).at(4, 0, 0, 0),
            60,
        );
        assert_eq!(e.duration(), SignedDuration::from_hours(4));
        let periods = personio_periods(&e, &z).unwrap();
        let b = &periods[1];
        let s = z.resolve_start(b.start).unwrap().instant;
        let end = z.resolve_end(s, b.start, b.end).unwrap().instant;
        assert_eq!(s.duration_until(end), SignedDuration::from_mins(60));
        assert!(b.start >= periods[0].start && b.end <= periods[0].end);
    }
}
