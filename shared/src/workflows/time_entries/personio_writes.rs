//! The Personio calls that turn an entry's existing periods into the periods it should have.
//!
//! Updating an entry in Personio touches several periods (WORK parts and BREAKs). This module decides,
//! purely, which to keep, patch, delete and create, and in which order:
//! - WORK parts are paired with the desired WORK parts in time order; a pair that differs is patched
//!   (Personio cannot change a period's type, so WORK stays WORK), surplus ones are deleted, missing ones
//!   created.
//! - A BREAK that is exactly as desired, inside a WORK part whose span does not change, is kept; every
//!   other BREAK is deleted and the desired ones are created, because a BREAK must lie inside a WORK at
//!   all times and patching it across a moving WORK could break that for a moment.
//! - Order: delete BREAKs → delete WORKs → patch WORKs → create WORKs → create BREAKs. Every intermediate
//!   state keeps each remaining BREAK inside a WORK, as the API validates.
use jiff::civil::DateTime;

use super::personio_shape::{PeriodDraft, PeriodKind, PersonioPeriod};

/// One Personio attendance-period call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodWrite {
    Delete { id: String },
    Update { id: String, period: PeriodDraft },
    Create { period: PeriodDraft },
}

/// The calls that turn `existing` (the periods of one grouped entry; empty for a new entry) into
/// `desired` (from [`super::personio_shape::personio_periods`]). Empty when nothing differs.
pub fn plan_period_writes(
    existing: &[PersonioPeriod],
    desired: &[PeriodDraft],
) -> Vec<PeriodWrite> {
    let of_kind = |kind| {
        let mut periods: Vec<&PersonioPeriod> =
            existing.iter().filter(|p| p.kind == kind).collect();
        periods.sort_by_key(|p| (p.start, p.end));
        periods
    };
    let want = |kind| {
        desired
            .iter()
            .filter(move |d: &&PeriodDraft| d.kind == kind)
    };
    let (old_works, old_breaks) = (of_kind(PeriodKind::Work), of_kind(PeriodKind::Break));
    let desired_works: Vec<&PeriodDraft> = want(PeriodKind::Work).collect();
    // WORK parts whose time span survives (paired with a desired part of the same span): a BREAK inside
    // one of them may stay where it is; any other BREAK is replaced.
    let steady: Vec<&PersonioPeriod> = old_works
        .iter()
        .zip(&desired_works)
        .filter(|(p, d)| p.start == d.start && p.end == Some(d.end))
        .map(|(p, _)| *p)
        .collect();
    let in_steady_work = |b: &PersonioPeriod| {
        steady
            .iter()
            .any(|w| w.start <= b.start && b.end.is_some_and(|be| w.end.is_some_and(|we| be <= we)))
    };

    let mut kept_breaks = vec![false; old_breaks.len()];
    let mut break_creates = Vec::new();
    for d in want(PeriodKind::Break) {
        let same = old_breaks
            .iter()
            .enumerate()
            .find(|(i, p)| !kept_breaks[*i] && matches(p, d) && in_steady_work(p));
        match same {
            Some((i, _)) => kept_breaks[i] = true,
            None => break_creates.push(PeriodWrite::Create { period: d.clone() }),
        }
    }
    let mut writes: Vec<PeriodWrite> = old_breaks
        .iter()
        .zip(&kept_breaks)
        .filter(|(_, kept)| !**kept)
        .map(|(p, _)| PeriodWrite::Delete { id: p.id.clone() })
        .collect();

    writes.extend(
        old_works
            .iter()
            .skip(desired_works.len())
            .map(|p| PeriodWrite::Delete { id: p.id.clone() }),
    );
    for (p, d) in old_works.iter().zip(&desired_works) {
        if !matches(p, d) {
            writes.push(PeriodWrite::Update {
                id: p.id.clone(),
                period: (*d).clone(),
            });
        }
    }
    writes.extend(
        desired_works
            .iter()
            .skip(old_works.len())
            .map(|d| PeriodWrite::Create {
                period: (*d).clone(),
            }),
    );
    writes.extend(break_creates);
    writes
}

/// How a create records a period in its intent before the POST (see
/// [`PendingIntent::parts`](crate::store::PendingIntent::parts)): `TYPE|person|local start|local end`.
/// Comments are left out: they do not identify a period, and a recorded part must still match a
/// period whose comment someone edited.
pub fn recorded_part(d: &PeriodDraft) -> String {
    part(d.kind, &d.person, d.start, d.end)
}

/// Is the existing period one that a create recorded in `recorded`?
pub fn is_recorded(p: &PersonioPeriod, recorded: &[String]) -> bool {
    p.end
        .is_some_and(|end| recorded.contains(&part(p.kind, &p.person, p.start, end)))
}

/// Are all the periods that `drafts` describe among the `recorded` ones (a remnant of that create)?
pub fn all_recorded(drafts: &[PeriodDraft], recorded: &[String]) -> bool {
    !drafts.is_empty() && drafts.iter().all(|d| recorded.contains(&recorded_part(d)))
}

fn part(kind: PeriodKind, person: &str, start: DateTime, end: DateTime) -> String {
    let kind = match kind {
        PeriodKind::Work => "WORK",
        PeriodKind::Break => "BREAK",
    };
    format!("{kind}|{person}|{start}|{end}")
}

/// Does an existing period already hold the draft? Comments compare trimmed, absent = empty.
fn matches(p: &PersonioPeriod, d: &PeriodDraft) -> bool {
    let comment = |c: &Option<String>| c.as_deref().map(str::trim).unwrap_or_default().to_string();
    p.kind == d.kind
        && p.start == d.start
        && p.end == Some(d.end)
        && comment(&p.comment) == comment(&d.comment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timezone::ZoneConverter;
    use crate::workflows::time_entries::entry::TimeEntry;
    use crate::workflows::time_entries::personio_shape::personio_periods;

    fn berlin() -> ZoneConverter {
        ZoneConverter::new("Europe/Berlin").unwrap()
    }

    fn entry(start: &str, end: &str, break_minutes: u32) -> TimeEntry {
        TimeEntry::new(
            "7788",
            start.parse().unwrap(),
            end.parse().unwrap(),
            break_minutes,
            Some("Schicht"),
        )
        .unwrap()
    }

    /// What Personio holds after the drafts were created, with ids.
    fn stored(drafts: &[PeriodDraft], prefix: &str) -> Vec<PersonioPeriod> {
        drafts
            .iter()
            .enumerate()
            .map(|(i, d)| PersonioPeriod {
                id: format!("{prefix}{i}"),
                person: d.person.clone(),
                kind: d.kind,
                start: d.start,
                end: Some(d.end),
                comment: d.comment.clone(),
                approval: None,
            })
            .collect()
    }

    #[test]
    fn new_entry_creates_work_before_break_and_unchanged_entry_writes_nothing() {
        let z = berlin();
        let drafts = personio_periods(
            &entry("2026-05-04T06:00:00Z", "2026-05-04T14:00:00Z", 30),
            &z,
        )
        .unwrap();
        let writes = plan_period_writes(&[], &drafts);
        assert_eq!(
            writes,
            vec![
                PeriodWrite::Create {
                    period: drafts[0].clone()
                },
                PeriodWrite::Create {
                    period: drafts[1].clone()
                },
            ]
        );
        assert!(plan_period_writes(&stored(&drafts, "p"), &drafts).is_empty());
    }

    #[test]
    fn recorded_parts_identify_periods_by_type_person_and_times_not_comment() {
        let z = berlin();
        let full = personio_periods(
            &entry("2026-05-04T06:00:00Z", "2026-05-04T14:00:00Z", 30),
            &z,
        )
        .unwrap();
        let parts: Vec<String> = full.iter().map(recorded_part).collect();
        assert_eq!(
            parts[0],
            "WORK|7788|2026-05-04T08:00:00|2026-05-04T16:00:00"
        );
        assert!(parts[1].starts_with("BREAK|7788|2026-05-04T"));
        let mut periods = stored(&full, "p");
        periods[0].comment = Some("edited".into());
        assert!(periods.iter().all(|p| is_recorded(p, &parts)));
        // The WORK alone (the BREAK's POST never applied) is a remnant of that create ...
        let work_only = personio_periods(
            &entry("2026-05-04T06:00:00Z", "2026-05-04T14:00:00Z", 0),
            &z,
        )
        .unwrap();
        assert!(all_recorded(&work_only, &parts));
        // ... a longer WORK, another person's, or an open period is not.
        let longer = personio_periods(
            &entry("2026-05-04T06:00:00Z", "2026-05-04T15:00:00Z", 0),
            &z,
        )
        .unwrap();
        assert!(!all_recorded(&longer, &parts));
        periods[1].person = "1".into();
        assert!(!is_recorded(&periods[1], &parts));
        periods[0].end = None;
        assert!(!is_recorded(&periods[0], &parts));
        assert!(!all_recorded(&[], &parts));
    }

    #[test]
    fn moving_an_overnight_entry_into_one_day_patches_work_and_replaces_break() {
        let z = berlin();
        // 22:00–06:00 local with a 30 min break → 14:00–22:00 local, same break.
        let old = personio_periods(
            &entry("2026-05-04T20:00:00Z", "2026-05-05T04:00:00Z", 30),
            &z,
        )
        .unwrap();
        let new = personio_periods(
            &entry("2026-05-04T12:00:00Z", "2026-05-04T20:00:00Z", 30),
            &z,
        )
        .unwrap();
        let existing = stored(&old, "p"); // p0, p1 WORK; p2 BREAK
        let writes = plan_period_writes(&existing, &new);
        assert_eq!(
            writes,
            vec![
                PeriodWrite::Delete { id: "p2".into() },
                PeriodWrite::Delete { id: "p1".into() },
                PeriodWrite::Update {
                    id: "p0".into(),
                    period: new[0].clone()
                },
                PeriodWrite::Create {
                    period: new[1].clone()
                },
            ]
        );
    }

    #[test]
    fn note_change_patches_every_work_part_and_keeps_the_break() {
        let z = berlin();
        let mut e = entry("2026-05-04T20:00:00Z", "2026-05-05T04:00:00Z", 30);
        let existing = stored(&personio_periods(&e, &z).unwrap(), "p");
        e.note = "Inventur".into();
        let writes = plan_period_writes(&existing, &personio_periods(&e, &z).unwrap());
        let ids: Vec<&str> = writes
            .iter()
            .map(|w| match w {
                PeriodWrite::Update { id, period } => {
                    assert_eq!(period.comment.as_deref(), Some("Inventur"));
                    id.as_str()
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(ids, vec!["p0", "p1"]);
    }

    #[test]
    fn break_inside_a_work_part_that_goes_away_is_replaced_not_kept() {
        let z = berlin();
        // 22:00–06:00 (break 02:45–03:15 in the second part) → 00:00–06:00: the same break, but the part
        // holding it is re-paired, so the break is deleted first and created again last.
        let old = personio_periods(
            &entry("2026-05-04T20:00:00Z", "2026-05-05T04:00:00Z", 30),
            &z,
        )
        .unwrap();
        let new = personio_periods(
            &entry("2026-05-04T22:00:00Z", "2026-05-05T04:00:00Z", 30),
            &z,
        )
        .unwrap();
        assert_eq!((old[2].start, old[2].end), (new[1].start, new[1].end));
        let writes = plan_period_writes(&stored(&old, "p"), &new);
        assert_eq!(
            writes.first(),
            Some(&PeriodWrite::Delete { id: "p2".into() })
        );
        assert_eq!(
            writes.last(),
            Some(&PeriodWrite::Create {
                period: new[1].clone()
            })
        );
    }
}
