//! Round-trip properties: a canonical entry written to either system and read back is the same entry.
//!
//! Entries are drawn around the 2026 DST changes of three zones (northern and southern hemisphere), on
//! ordinary days, crossing midnight or not, with breaks of 0..=120 minutes. The one documented loss is an
//! entry that starts or ends in the *second* pass of an autumn fold: local wall-clock time cannot name that
//! instant, so for those only the local rendering is required to survive.
use jiff::civil::{date, Date};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::canonical::{NotSyncable, TimeEntry};
use super::personio::grouping::group_periods;
use super::personio::shape::{
    personio_periods, ApprovalStatus, PeriodDraft, PeriodKind, PersonioPeriod,
};
use super::personio::writes::{plan_period_writes, PeriodWrite};
use super::timetrack::{entry_from_timetrack, timetrack_fields, TimeTrackAttendance};
use crate::settings::TimestampMode;
use crate::timezone::{LocalTimeAdjustment, ZoneConverter};

const ZONES: [&str; 3] = ["Europe/Berlin", "America/New_York", "Australia/Sydney"];

/// The 2026 DST days of the zones above, their neighbours, and two ordinary days.
fn interesting_days() -> Vec<Date> {
    vec![
        date(2026, 3, 28),
        date(2026, 3, 29), // Berlin spring forward
        date(2026, 10, 24),
        date(2026, 10, 25), // Berlin fall back
        date(2026, 3, 7),
        date(2026, 3, 8), // New York spring forward
        date(2026, 10, 31),
        date(2026, 11, 1), // New York fall back
        date(2026, 4, 4),
        date(2026, 4, 5), // Sydney fall back
        date(2026, 10, 3),
        date(2026, 10, 4), // Sydney spring forward
        date(2026, 1, 15),
        date(2026, 7, 1),
    ]
}

fn arb_entry() -> impl Strategy<Value = (ZoneConverter, TimeEntry)> {
    (
        prop::sample::select(ZONES.to_vec()),
        prop::sample::select(interesting_days()),
        0i64..(26 * 60), // start: minutes after the local day start (may run into the next day)
        prop::bool::ANY, // with seconds or on the minute
        0i64..60,        // seconds
        1i64..(20 * 60), // duration in minutes
        0u32..=120,      // break minutes
        "[ a-zäöüß]{0,12}", // note (trimmed by the entry)
    )
        .prop_map(
            |(zone, day, start_min, with_secs, secs, duration, brk, note)| {
                let zone = ZoneConverter::new(zone).unwrap();
                let secs = if with_secs { secs } else { 0 };
                let start = zone.start_of_day(day).unwrap()
                    + SignedDuration::from_secs(start_min * 60 + secs);
                let end = start + SignedDuration::from_mins(duration);
                let brk = brk.min(u32::try_from(duration - 1).unwrap());
                let entry = TimeEntry::new("7788", start, end, brk, Some(&note)).unwrap();
                (zone, entry)
            },
        )
}

fn through_personio(entry: &TimeEntry, zone: &ZoneConverter) -> Vec<PersonioPeriod> {
    stored(personio_periods(entry, zone).unwrap())
}

fn stored(drafts: Vec<PeriodDraft>) -> Vec<PersonioPeriod> {
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| PersonioPeriod {
            id: format!("p{i}"),
            person: d.person,
            kind: d.kind,
            start: d.start,
            end: Some(d.end),
            comment: d.comment,
            approval: Some(ApprovalStatus::Confirmed),
        })
        .collect()
}

/// Is the local rendering of `instant` one of the two passes of a fold?
fn in_fold(zone: &ZoneConverter, instant: Timestamp) -> bool {
    matches!(
        zone.resolve_start(zone.to_local(instant))
            .unwrap()
            .adjustment,
        Some(LocalTimeAdjustment::Fold { .. })
    )
}

fn local_view(zone: &ZoneConverter, start: Timestamp, end: Timestamp) -> (String, String) {
    (
        zone.to_local(start).to_string(),
        zone.to_local(end).to_string(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn personio_periods_group_back_to_the_same_entry((zone, entry) in arb_entry()) {
        let periods = match personio_periods(&entry, &zone) {
            Ok(drafts) => stored(drafts),
            Err(NotSyncable::NotHoldableInLocalTime { .. }) => {
                // Only an entry touching the repeated hour of a fold may be refused.
                prop_assert!(in_fold(&zone, entry.start) || in_fold(&zone, entry.end), "{entry:?}");
                return Ok(());
            }
            Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
        };
        // Personio's constraints: no period crosses a local midnight; BREAKs lie inside a WORK.
        for p in &periods {
            let end = p.end.unwrap();
            prop_assert!(p.start < end, "empty period {p:?}");
            prop_assert!(
                end.date() == p.start.date()
                    || (end.date() == p.start.date().tomorrow().unwrap() && zone.is_start_of_day(end)),
                "period crosses midnight: {p:?}"
            );
        }
        let grouping = group_periods(&periods, &zone);
        let all_ids: Vec<String> = periods.iter().map(|p| p.id.clone()).collect();
        if zone.period_reads_back(entry.start, entry.end) {
            prop_assert!(grouping.skipped.is_empty(), "skipped: {:?}", grouping.skipped);
            prop_assert_eq!(grouping.entries.len(), 1);
            let back = &grouping.entries[0];
            prop_assert_eq!(back.id.as_str(), "p0");
            let mut ids = back.period_ids.clone();
            ids.sort();
            prop_assert_eq!(ids, all_ids);
            prop_assert_eq!(&back.entry, &entry);
        } else {
            // The documented loss (an end or start in the second pass of a fold): the entry reads back
            // with the same local times, or is reported as a whole — never silently changed or dropped.
            match (&grouping.entries[..], &grouping.skipped[..]) {
                ([back], []) => prop_assert_eq!(
                    local_view(&zone, back.entry.start, back.entry.end),
                    local_view(&zone, entry.start, entry.end)
                ),
                ([], [skipped]) => {
                    let mut ids = skipped.record_ids.clone();
                    ids.sort();
                    prop_assert_eq!(ids, all_ids);
                }
                other => return Err(TestCaseError::fail(format!("unexpected grouping {other:?}"))),
            }
        }
    }

    #[test]
    fn timetrack_fields_read_back_to_the_same_entry(
        (zone, entry) in arb_entry(),
        local_mode in prop::bool::ANY,
    ) {
        let mode = if local_mode { TimestampMode::LocalWallClock } else { TimestampMode::Utc };
        let fields = timetrack_fields(&entry, &zone, mode);
        let attendance = TimeTrackAttendance {
            id: "1".into(),
            employee: entry.employee.clone(),
            from: fields.from,
            to: Some(fields.to),
            break_minutes: fields.break_minutes,
            notes: Some(fields.notes),
        };
        let back = entry_from_timetrack(&attendance, &zone, mode);
        if mode == TimestampMode::Utc || zone.period_reads_back(entry.start, entry.end) {
            prop_assert_eq!(&back.map_err(|e| TestCaseError::fail(e.to_string()))?.entry, &entry);
        } else {
            // Local mode around a fold: same local digits, or reported.
            if let Ok(back) = back {
                prop_assert_eq!(
                    local_view(&zone, back.entry.start, back.entry.end),
                    local_view(&zone, entry.start, entry.end)
                );
            }
        }
    }
}

/// The one documented loss, pinned down: 02:30 CET (the second 02:30 of 2026-10-25 in Berlin) renders as
/// "02:30", which reads back as the first 02:30 (CEST).
#[test]
fn second_pass_of_the_fold_reads_back_as_the_first() {
    let zone = ZoneConverter::new("Europe/Berlin").unwrap();
    let start: Timestamp = "2026-10-25T01:30:00Z".parse().unwrap(); // 02:30 CET
    let entry = TimeEntry::new("1", start, start + SignedDuration::from_hours(3), 0, None).unwrap();
    assert!(!zone.period_reads_back(entry.start, entry.end));
    let g = group_periods(&through_personio(&entry, &zone), &zone);
    assert_eq!(
        g.entries[0].entry.start,
        "2026-10-25T00:30:00Z".parse::<Timestamp>().unwrap()
    );
}

/// Applies planned writes to an in-memory list of periods, checking after every call that each BREAK
/// still lies inside a WORK (what Personio validates).
fn apply_writes(
    mut periods: Vec<PersonioPeriod>,
    writes: Vec<PeriodWrite>,
) -> Result<Vec<PersonioPeriod>, String> {
    for (n, write) in writes.into_iter().enumerate() {
        let to_period = |id: String, d: PeriodDraft| PersonioPeriod {
            id,
            person: d.person,
            kind: d.kind,
            start: d.start,
            end: Some(d.end),
            comment: d.comment,
            approval: None,
        };
        match write {
            PeriodWrite::Delete { id } => periods.retain(|p| p.id != id),
            PeriodWrite::Update { id, period } => {
                let slot = periods
                    .iter_mut()
                    .find(|p| p.id == id)
                    .ok_or(format!("update of unknown {id}"))?;
                if slot.kind != period.kind {
                    return Err(format!("update changes the type of {id}"));
                }
                *slot = to_period(id, period);
            }
            PeriodWrite::Create { period } => periods.push(to_period(format!("new{n}"), period)),
        }
        for b in periods.iter().filter(|p| p.kind == PeriodKind::Break) {
            let inside = periods
                .iter()
                .any(|w| w.kind == PeriodKind::Work && w.start <= b.start && b.end <= w.end);
            if !inside {
                return Err(format!(
                    "after write {n} BREAK {b:?} lies outside every WORK"
                ));
            }
        }
    }
    Ok(periods)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn planned_writes_turn_any_entry_into_any_other((zone, old) in arb_entry(), (_, new) in arb_entry()) {
        let (Ok(old), Ok(desired)) = (personio_periods(&old, &zone), personio_periods(&new, &zone)) else {
            return Ok(()); // the rare fold-bound entries Personio cannot hold (tested above)
        };
        let existing = stored(old);
        let after = apply_writes(existing.clone(), plan_period_writes(&existing, &desired))
            .map_err(TestCaseError::fail)?;
        let shape = |kind, start, end, comment: &Option<String>| (kind, start, end, comment.clone());
        let mut got: Vec<_> = after.iter().map(|p| shape(p.kind, p.start, p.end.unwrap(), &p.comment)).collect();
        let mut want: Vec<_> = desired.iter().map(|d| shape(d.kind, d.start, d.end, &d.comment)).collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
        // Writing the same entry again is a no-op.
        prop_assert!(plan_period_writes(&stored(desired.clone()), &desired).is_empty());
    }
}
