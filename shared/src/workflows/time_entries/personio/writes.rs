//! The Personio calls that turn an entry's existing periods into the periods it should have.
//!
//! Updating an entry in Personio touches several periods (WORK parts and BREAKs). This module decides,
//! purely, which to keep, patch, delete and create, and in which order:
//! - WORK parts are paired with the desired WORK parts in time order; a pair that differs is patched
//!   (Personio cannot change a period's type, so WORK stays WORK), surplus ones are deleted, missing ones
//!   created.
//! - A BREAK that is exactly as desired, inside a WORK part whose span does not change, is kept. The
//!   other BREAKs are paired with the remaining desired ones in time order, and a pair is **patched**
//!   (one request instead of a delete and a create, issue 16) when the BREAK can move without ever
//!   leaving its WORK part: its old place lies inside an old WORK part and its new place inside that
//!   part's desired span, and either the new place also lies inside the old span (the BREAK moves
//!   first, then the WORK) or the old place inside the new span (the WORK moves first). A pair whose
//!   new place would touch another BREAK of the entry (Personio refuses overlapping BREAKs) or that
//!   fits neither order is deleted and created again, as is every surplus BREAK.
//! - Order: delete BREAKs → patch the BREAKs that move first → delete WORKs → patch WORKs → create
//!   WORKs → patch the BREAKs that move after their WORK → create BREAKs. Every intermediate state
//!   keeps each remaining BREAK inside a WORK (`round_trip_tests` checks this after every call).
use jiff::civil::DateTime;

use super::shape::{PeriodDraft, PeriodKind, PersonioPeriod};

/// One Personio attendance-period call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeriodWrite {
    Delete { id: String },
    Update { id: String, period: PeriodDraft },
    Create { period: PeriodDraft },
}

/// When a BREAK patch runs relative to the patch of the WORK part that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BreakMove {
    BeforeWork,
    AfterWork,
}

/// `[start, end)` of a closed period.
type Span = (DateTime, DateTime);

fn within(inner: Span, outer: Span) -> bool {
    outer.0 <= inner.0 && inner.1 <= outer.1
}

fn overlaps(a: Span, b: Span) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The calls that turn `existing` (the periods of one grouped entry; empty for a new entry) into
/// `desired` (from [`super::shape::personio_periods`]). Empty when nothing differs.
///
/// Order: deletes of replaced BREAKs, BREAK patches that must run before their WORK moves, WORK
/// deletes, WORK patches, WORK creates, BREAK patches that must run after, BREAK creates — so that every
/// BREAK lies inside a WORK part after every single call.
pub(crate) fn plan_period_writes(
    existing: &[PersonioPeriod],
    desired: &[PeriodDraft],
) -> Vec<PeriodWrite> {
    let of_kind = |kind| {
        let mut periods: Vec<&PersonioPeriod> =
            existing.iter().filter(|p| p.kind == kind).collect();
        periods.sort_by_key(|p| (p.start, p.end));
        periods
    };
    let want = |kind| -> Vec<&PeriodDraft> { desired.iter().filter(|d| d.kind == kind).collect() };
    let (old_works, old_breaks) = (of_kind(PeriodKind::Work), of_kind(PeriodKind::Break));
    let desired_works = want(PeriodKind::Work);
    let breaks = plan_breaks(
        &old_works,
        &desired_works,
        &old_breaks,
        &want(PeriodKind::Break),
    );
    let patch_breaks = |when: BreakMove| {
        breaks
            .moves
            .iter()
            .filter(move |(how, _, _)| *how == when)
            .map(|(_, b, d)| PeriodWrite::Update {
                id: b.id.clone(),
                period: (*d).clone(),
            })
    };

    let mut writes: Vec<PeriodWrite> = breaks
        .replaced
        .iter()
        .map(|p| PeriodWrite::Delete { id: p.id.clone() })
        .collect();
    writes.extend(patch_breaks(BreakMove::BeforeWork));
    writes.extend(work_writes(&old_works, &desired_works));
    writes.extend(patch_breaks(BreakMove::AfterWork));
    writes.extend(breaks.creates.iter().map(|d| PeriodWrite::Create {
        period: (*d).clone(),
    }));
    writes
}

/// The WORK parts, paired in time order: the old parts beyond the desired ones deleted, the pairs that
/// differ patched, the desired parts beyond the old ones created.
fn work_writes(old_works: &[&PersonioPeriod], desired_works: &[&PeriodDraft]) -> Vec<PeriodWrite> {
    let deletes = old_works
        .iter()
        .skip(desired_works.len())
        .map(|p| PeriodWrite::Delete { id: p.id.clone() });
    let patches = old_works
        .iter()
        .zip(desired_works)
        .filter(|(p, d)| !matches(p, d))
        .map(|(p, d)| PeriodWrite::Update {
            id: p.id.clone(),
            period: (*d).clone(),
        });
    let creates = desired_works
        .iter()
        .skip(old_works.len())
        .map(|d| PeriodWrite::Create {
            period: (*d).clone(),
        });
    deletes.chain(patches).chain(creates).collect()
}

/// What happens to the BREAKs of an entry: patched in place (and when), replaced (deleted, then
/// created anew), or created.
#[derive(Default)]
struct BreakPlan<'a> {
    moves: Vec<(BreakMove, &'a PersonioPeriod, &'a PeriodDraft)>,
    /// In time order (the order of their deletes).
    replaced: Vec<&'a PersonioPeriod>,
    creates: Vec<&'a PeriodDraft>,
}

fn span_of(p: &PersonioPeriod) -> Option<Span> {
    p.end.map(|end| (p.start, end))
}

/// The BREAKs already as desired inside a WORK part whose span survives: they stay, unwritten. Gives
/// which old BREAKs stay and the desired BREAKs left to place.
fn kept_breaks<'a>(
    old_works: &[&PersonioPeriod],
    desired_works: &[&PeriodDraft],
    old_breaks: &[&PersonioPeriod],
    desired_breaks: &[&'a PeriodDraft],
) -> (Vec<bool>, Vec<&'a PeriodDraft>) {
    // WORK parts whose time span survives (paired with a desired part of the same span): a BREAK inside
    // one of them may stay where it is; any other BREAK is patched or replaced.
    let steady: Vec<&PersonioPeriod> = old_works
        .iter()
        .zip(desired_works)
        .filter(|(p, d)| p.start == d.start && p.end == Some(d.end))
        .map(|(p, _)| *p)
        .collect();
    let in_steady_work = |b: &PersonioPeriod| {
        steady
            .iter()
            .any(|w| w.start <= b.start && b.end.is_some_and(|be| w.end.is_some_and(|we| be <= we)))
    };
    let mut kept = vec![false; old_breaks.len()];
    let mut unmatched: Vec<&PeriodDraft> = Vec::new();
    for d in desired_breaks {
        let same = old_breaks
            .iter()
            .enumerate()
            .find(|(i, p)| !kept[*i] && matches(p, d) && in_steady_work(p));
        match same {
            Some((i, _)) => kept[i] = true,
            None => unmatched.push(d),
        }
    }
    (kept, unmatched)
}

/// Places the desired BREAKs that no kept BREAK matches: each is paired in time order with a loose old
/// BREAK, which is patched when it can stay inside its WORK part throughout (before or after the WORK
/// moves) without touching another BREAK, and replaced otherwise; the rest are created or deleted.
fn plan_breaks<'a>(
    old_works: &[&'a PersonioPeriod],
    desired_works: &[&'a PeriodDraft],
    old_breaks: &[&'a PersonioPeriod],
    desired_breaks: &[&'a PeriodDraft],
) -> BreakPlan<'a> {
    let (kept, unmatched) = kept_breaks(old_works, desired_works, old_breaks, desired_breaks);
    // The WORK pairs as (old span, desired span); an open old WORK holds no BREAK move.
    let work_pairs: Vec<(Span, Span)> = old_works
        .iter()
        .zip(desired_works)
        .filter_map(|(p, d)| Some((span_of(p)?, (d.start, d.end))))
        .collect();
    // The loose BREAKs (not kept) paired in time order with the unmatched desired ones.
    let loose: Vec<&PersonioPeriod> = old_breaks
        .iter()
        .zip(&kept)
        .filter_map(|(p, kept)| (!kept).then_some(*p))
        .collect();
    // Every BREAK span that may exist while the BREAK patches run (kept ones, loose ones in their old
    // place, patched ones in their new place): a patch target must overlap none of them but its own.
    let mut occupied: Vec<(Option<&str>, Span)> = old_breaks
        .iter()
        .filter_map(|p| Some((Some(p.id.as_str()), span_of(p)?)))
        .collect();
    let mut plan = BreakPlan::default();
    for (i, d) in unmatched.iter().copied().enumerate() {
        let Some(b) = loose.get(i).copied() else {
            plan.creates.push(d);
            continue;
        };
        let target = (d.start, d.end);
        let how = span_of(b).and_then(|old| break_move(old, target, &work_pairs));
        let clash = occupied
            .iter()
            .any(|(id, span)| *id != Some(b.id.as_str()) && overlaps(*span, target));
        match how {
            // Already as desired, and its WORK holds it before and after: nothing to write.
            Some(_) if !clash && matches(b, d) => occupied.push((None, target)),
            Some(how) if !clash => {
                occupied.push((None, target));
                plan.moves.push((how, b, d));
            }
            _ => {
                plan.replaced.push(b);
                plan.creates.push(d);
            }
        }
    }
    plan.replaced
        .extend(loose.iter().skip(unmatched.len()).copied());
    // Deletes of BREAKs in time order, as before (the replaced ones).
    plan.replaced.sort_by_key(|p| (p.start, p.end));
    plan
}

/// When a BREAK can move from `old` to `target` while staying inside a WORK part that moves from `w`
/// to `w_new`: before the WORK moves (the target is inside the old WORK), after it (the old place is
/// inside the new WORK), or not at all.
fn break_move(old: Span, target: Span, work_pairs: &[(Span, Span)]) -> Option<BreakMove> {
    work_pairs.iter().find_map(|&(w, w_new)| {
        if !within(old, w) || !within(target, w_new) {
            None
        } else if within(target, w) {
            Some(BreakMove::BeforeWork)
        } else if within(old, w_new) {
            Some(BreakMove::AfterWork)
        } else {
            None
        }
    })
}

/// How a create records a period in its intent before the POST (see
/// [`PendingIntent::parts`](crate::store::PendingIntent::parts)): `TYPE|person|local start|local end`.
/// Comments are left out: they do not identify a period, and a recorded part must still match a
/// period whose comment someone edited.
pub(crate) fn recorded_part(d: &PeriodDraft) -> String {
    part(d.kind, &d.person, d.start, d.end)
}

/// Is the existing period one that a create recorded in `recorded`?
pub(crate) fn is_recorded(p: &PersonioPeriod, recorded: &[String]) -> bool {
    p.end
        .is_some_and(|end| recorded.contains(&part(p.kind, &p.person, p.start, end)))
}

/// Are all the periods that `drafts` describe among the `recorded` ones (a remnant of that create)?
pub(crate) fn all_recorded(drafts: &[PeriodDraft], recorded: &[String]) -> bool {
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
    use crate::workflows::time_entries::canonical::TimeEntry;
    use crate::workflows::time_entries::personio::shape::personio_periods;

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

    /// Issue 16: an end moved by 15 min moves the BREAK in the middle of the entry. It is patched (2
    /// requests) instead of deleted and created again (3); a longer entry moves the WORK first, a
    /// shorter one the BREAK first, so the BREAK never leaves its WORK.
    #[test]
    fn a_moved_end_patches_the_work_and_the_break_in_an_order_that_keeps_the_break_inside() {
        let z = berlin();
        let old = personio_periods(
            &entry("2026-05-04T06:00:00Z", "2026-05-04T14:00:00Z", 30),
            &z,
        )
        .unwrap();
        let existing = stored(&old, "p"); // p0 WORK, p1 BREAK
        let longer = personio_periods(
            &entry("2026-05-04T06:00:00Z", "2026-05-04T16:00:00Z", 30),
            &z,
        )
        .unwrap();
        assert_ne!((old[1].start, old[1].end), (longer[1].start, longer[1].end));
        // The new BREAK place lies inside the old WORK too: the BREAK moves first.
        assert_eq!(
            plan_period_writes(&existing, &longer),
            vec![
                PeriodWrite::Update {
                    id: "p1".into(),
                    period: longer[1].clone()
                },
                PeriodWrite::Update {
                    id: "p0".into(),
                    period: longer[0].clone()
                },
            ]
        );
        // 10:00–12:00 local (BREAK 10:45–11:15) → 10:00–16:00 (BREAK 12:45–13:15, outside the old
        // WORK): the WORK grows first, then the BREAK moves into the new part of it.
        let short = stored(
            &personio_periods(
                &entry("2026-05-04T08:00:00Z", "2026-05-04T10:00:00Z", 30),
                &z,
            )
            .unwrap(),
            "s",
        );
        let grown = personio_periods(
            &entry("2026-05-04T08:00:00Z", "2026-05-04T14:00:00Z", 30),
            &z,
        )
        .unwrap();
        assert_eq!(
            plan_period_writes(&short, &grown),
            vec![
                PeriodWrite::Update {
                    id: "s0".into(),
                    period: grown[0].clone()
                },
                PeriodWrite::Update {
                    id: "s1".into(),
                    period: grown[1].clone()
                },
            ]
        );
        // 12:00–20:00 local: the new BREAK (15:45–16:15) is outside the old WORK and the old BREAK
        // outside the new one: no order keeps it inside, so it is replaced.
        let moved = personio_periods(
            &entry("2026-05-04T10:00:00Z", "2026-05-04T18:00:00Z", 30),
            &z,
        )
        .unwrap();
        assert_eq!(
            plan_period_writes(&existing, &moved),
            vec![
                PeriodWrite::Delete { id: "p1".into() },
                PeriodWrite::Update {
                    id: "p0".into(),
                    period: moved[0].clone()
                },
                PeriodWrite::Create {
                    period: moved[1].clone()
                },
            ]
        );
    }

    #[test]
    fn a_break_moved_onto_another_break_of_the_entry_is_replaced_not_patched() {
        let z = berlin();
        let drafts = personio_periods(
            &entry("2026-05-04T06:00:00Z", "2026-05-04T14:00:00Z", 30),
            &z,
        )
        .unwrap();
        let (work, brk) = (drafts[0].clone(), drafts[1].clone());
        let shift = |d: &PeriodDraft, minutes: i64| PeriodDraft {
            start: d.start + jiff::SignedDuration::from_mins(minutes),
            end: d.end + jiff::SignedDuration::from_mins(minutes),
            ..d.clone()
        };
        // Two BREAKs an hour apart, in a WORK that grows by an hour: the first BREAK's new place is
        // the second one's old place, so the first is replaced; the second moves by a patch.
        let existing = stored(&[work.clone(), brk.clone(), shift(&brk, 60)], "p");
        let longer_work = PeriodDraft {
            end: work.end + jiff::SignedDuration::from_mins(60),
            ..work.clone()
        };
        let desired = [longer_work.clone(), shift(&brk, 60), shift(&brk, 120)];
        let writes = plan_period_writes(&existing, &desired);
        assert_eq!(
            writes,
            vec![
                PeriodWrite::Delete { id: "p1".into() },
                PeriodWrite::Update {
                    id: "p2".into(),
                    period: desired[2].clone()
                },
                PeriodWrite::Update {
                    id: "p0".into(),
                    period: longer_work
                },
                PeriodWrite::Create {
                    period: desired[1].clone()
                },
            ]
        );
    }
}
