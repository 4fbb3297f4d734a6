//! Personio attendance periods → canonical time entries.
//!
//! The reverse of [`super::shape`], and tolerant of what people enter by hand:
//! - WORK periods of a person that touch at the start of a local day (one ends at 00:00, the next starts
//!   at that same 00:00) are **one entry**: that is how an overnight shift has to be stored.
//! - Every BREAK period lying inside a WORK part (start and end within it, local time) belongs to that
//!   part's entry; their lengths (real time, rounded to whole minutes) sum to `break_minutes`, wherever
//!   they are placed.
//! - An entry's note is the comment of its first WORK part.
//! - Nothing is guessed: an open WORK period makes its entry [`NotSyncable::OpenEntry`]; a BREAK inside no
//!   WORK, an open or empty BREAK, overlapping BREAKs, or a break not shorter than the entry are reported
//!   and the records are left alone.
//!
//! Each entry keeps the ids of all the periods that make it (WORK parts first, then BREAKs, in time
//! order), so the workflow can update or delete them together; its composite id is the first WORK id.
use std::collections::BTreeMap;

use jiff::SignedDuration;

use super::shape::{ApprovalStatus, PeriodKind, PersonioPeriod};
use crate::timezone::ZoneConverter;
use crate::workflows::time_entries::canonical::{NotSyncable, SkippedRecord, TimeEntry};

/// One canonical entry read from Personio, with the periods it was made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupedEntry {
    /// The composite id: the id of the first WORK period.
    pub id: String,
    /// Every period of the entry: WORK parts in time order, then BREAK periods in time order.
    pub period_ids: Vec<String>,
    pub entry: TimeEntry,
    /// The least-approved status among the periods: Rejected, then Pending, then an unknown value, then
    /// Confirmed; `None` when no period carried a status.
    pub approval: Option<ApprovalStatus>,
}

/// The outcome of grouping: entries to sync and records skipped with a reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Grouping {
    pub entries: Vec<GroupedEntry>,
    pub skipped: Vec<SkippedRecord>,
}

/// Groups the periods of one or more persons (typically all periods of a window) into entries.
pub(crate) fn group_periods(periods: &[PersonioPeriod], zone: &ZoneConverter) -> Grouping {
    let mut by_person: BTreeMap<&str, Vec<&PersonioPeriod>> = BTreeMap::new();
    for period in periods {
        by_person.entry(&period.person).or_default().push(period);
    }
    let mut grouping = Grouping::default();
    for (person, periods) in by_person {
        group_person(person, periods, zone, &mut grouping);
    }
    grouping
}

/// WORK parts joined at local day starts, and the BREAKs found inside them.
struct Chain<'a> {
    works: Vec<&'a PersonioPeriod>,
    breaks: Vec<&'a PersonioPeriod>,
}

impl Chain<'_> {
    /// Does `b` lie inside one of this chain's WORK parts (local time)? An open BREAK only needs to start
    /// inside; anything starting in an open WORK part belongs to it.
    fn contains(&self, b: &PersonioPeriod) -> bool {
        self.works.iter().any(|w| {
            w.start <= b.start
                && match (w.end, b.end) {
                    (None, _) => true,
                    (Some(we), Some(be)) => be <= we && b.start < we,
                    (Some(we), None) => b.start < we,
                }
        })
    }
}

fn group_person(
    person: &str,
    periods: Vec<&PersonioPeriod>,
    zone: &ZoneConverter,
    out: &mut Grouping,
) {
    let (mut works, mut breaks): (Vec<&PersonioPeriod>, Vec<&PersonioPeriod>) = periods
        .into_iter()
        .partition(|p| p.kind == PeriodKind::Work);
    let order = |p: &&PersonioPeriod| (p.start, p.end.is_none(), p.end, p.id.clone());
    works.sort_by_key(order);
    breaks.sort_by_key(order);

    let mut chains: Vec<Chain> = Vec::new();
    for work in works {
        let joins = chains
            .last()
            .and_then(|c| c.works.last())
            .is_some_and(|last| last.end == Some(work.start) && zone.is_start_of_day(work.start));
        match chains.last_mut() {
            Some(chain) if joins => chain.works.push(work),
            _ => chains.push(Chain {
                works: vec![work],
                breaks: Vec::new(),
            }),
        }
    }
    for b in breaks {
        match chains.iter_mut().find(|c| c.contains(b)) {
            Some(chain) => chain.breaks.push(b),
            None => out.skipped.push(SkippedRecord {
                record_ids: vec![b.id.clone()],
                employee: person.to_string(),
                reason: NotSyncable::BreakOutsideWork { start: b.start },
            }),
        }
    }
    for chain in chains {
        let period_ids: Vec<String> = chain
            .works
            .iter()
            .chain(&chain.breaks)
            .map(|p| p.id.clone())
            .collect();
        match chain_to_entry(person, &chain, zone) {
            Ok(entry) => out.entries.push(GroupedEntry {
                id: chain.works[0].id.clone(),
                period_ids,
                entry,
                approval: least_approved(chain.works.iter().chain(&chain.breaks).copied()),
            }),
            Err(reason) => out.skipped.push(SkippedRecord {
                record_ids: period_ids,
                employee: person.to_string(),
                reason,
            }),
        }
    }
}

fn chain_to_entry(
    person: &str,
    chain: &Chain,
    zone: &ZoneConverter,
) -> Result<TimeEntry, NotSyncable> {
    // A chain always holds at least one WORK period (it is created with one).
    let (Some(first), Some(last)) = (chain.works.first(), chain.works.last()) else {
        return Err(NotSyncable::OpenEntry);
    };
    let mut work_end = None;
    for w in &chain.works {
        let end = w.end.ok_or(NotSyncable::OpenEntry)?;
        if end <= w.start {
            return Err(NotSyncable::EmptyPeriod {
                start: w.start,
                end,
            });
        }
        work_end = Some(end);
    }
    let work_end = work_end.ok_or(NotSyncable::OpenEntry)?;
    debug_assert_eq!(Some(work_end), last.end);

    let start = zone.resolve_start(first.start)?;
    let end = zone.resolve_end(start.instant, first.start, work_end)?;

    let mut break_total = SignedDuration::ZERO;
    let mut previous: Option<&PersonioPeriod> = None;
    for b in &chain.breaks {
        let b_end = b.end.ok_or(NotSyncable::OpenBreak { start: b.start })?;
        if b_end <= b.start {
            return Err(NotSyncable::EmptyPeriod {
                start: b.start,
                end: b_end,
            });
        }
        if let Some(prev) = previous {
            if prev.end.is_some_and(|pe| b.start < pe) {
                return Err(NotSyncable::OverlappingBreaks {
                    first: prev.start,
                    second: b.start,
                });
            }
        }
        previous = Some(b);
        let bs = zone.resolve_start(b.start)?;
        let be = zone.resolve_end(bs.instant, b.start, b_end)?;
        break_total += bs.instant.duration_until(be.instant);
    }
    // Round to the nearest whole minute (half a minute rounds up).
    let break_minutes = u32::try_from((break_total.as_secs() + 30) / 60).unwrap_or(u32::MAX);
    let entry = TimeEntry::new(
        person,
        start.instant,
        end.instant,
        break_minutes,
        first.comment.as_deref(),
    )?;
    Ok(entry)
}

fn least_approved<'a>(periods: impl Iterator<Item = &'a PersonioPeriod>) -> Option<ApprovalStatus> {
    let rank = |s: &ApprovalStatus| match s {
        ApprovalStatus::Rejected => 0,
        ApprovalStatus::Pending => 1,
        ApprovalStatus::Other(_) => 2,
        ApprovalStatus::Confirmed => 3,
    };
    periods
        .filter_map(|p| p.approval.as_ref())
        .min_by_key(|s| rank(s))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, DateTime};

    fn berlin() -> ZoneConverter {
        ZoneConverter::new("Europe/Berlin").unwrap()
    }

    fn period(
        id: &str,
        kind: PeriodKind,
        start: DateTime,
        end: Option<DateTime>,
    ) -> PersonioPeriod {
        PersonioPeriod {
            id: id.into(),
            person: "7788".into(),
            kind,
            start,
            end,
            comment: None,
            approval: Some(ApprovalStatus::Confirmed),
        }
    }

    fn at(day: i8, h: i8, m: i8) -> DateTime {
        date(2026, 5, day).at(h, m, 0, 0)
    }

    #[test]
    fn overnight_parts_join_and_breaks_sum() {
        let mut w1 = period("w1", PeriodKind::Work, at(4, 22, 0), Some(at(5, 0, 0)));
        w1.comment = Some(" Nachtschicht ".into());
        let periods = vec![
            period("b2", PeriodKind::Break, at(5, 3, 0), Some(at(5, 3, 15))),
            period("w2", PeriodKind::Work, at(5, 0, 0), Some(at(5, 6, 0))),
            w1,
            period("b1", PeriodKind::Break, at(4, 23, 0), Some(at(4, 23, 20))),
        ];
        let g = group_periods(&periods, &berlin());
        assert!(g.skipped.is_empty(), "{:?}", g.skipped);
        assert_eq!(g.entries.len(), 1);
        let e = &g.entries[0];
        assert_eq!(e.id, "w1");
        assert_eq!(e.period_ids, vec!["w1", "w2", "b1", "b2"]);
        assert_eq!(e.entry.break_minutes, 35);
        assert_eq!(e.entry.note, "Nachtschicht");
        assert_eq!(e.entry.duration(), SignedDuration::from_hours(8));
        assert_eq!(e.entry.start, "2026-05-04T20:00:00Z".parse().unwrap());
        assert_eq!(e.approval, Some(ApprovalStatus::Confirmed));
    }

    #[test]
    fn parts_touching_away_from_midnight_stay_separate() {
        let periods = vec![
            period("a", PeriodKind::Work, at(4, 8, 0), Some(at(4, 12, 0))),
            period("b", PeriodKind::Work, at(4, 12, 0), Some(at(4, 16, 0))),
        ];
        let g = group_periods(&periods, &berlin());
        assert_eq!(g.entries.len(), 2);
        assert_eq!(g.entries[1].period_ids, vec!["b"]);
    }

    #[test]
    fn open_work_period_is_skipped_as_open_entry_with_its_breaks() {
        let periods = vec![
            period("w", PeriodKind::Work, at(4, 8, 0), None),
            period("b", PeriodKind::Break, at(4, 12, 0), Some(at(4, 12, 30))),
            period("done", PeriodKind::Work, at(3, 8, 0), Some(at(3, 9, 0))),
        ];
        let g = group_periods(&periods, &berlin());
        assert_eq!(g.entries.len(), 1);
        assert_eq!(g.entries[0].id, "done");
        assert_eq!(g.skipped.len(), 1);
        assert_eq!(g.skipped[0].reason, NotSyncable::OpenEntry);
        assert_eq!(g.skipped[0].record_ids, vec!["w", "b"]);
        assert_eq!(g.skipped[0].employee, "7788");
    }

    #[test]
    fn break_outside_every_work_is_reported_not_guessed() {
        let periods = vec![
            period("w", PeriodKind::Work, at(4, 8, 0), Some(at(4, 12, 0))),
            // Adjacent to the WORK, as in Personio's own example, but not inside it.
            period("b", PeriodKind::Break, at(4, 12, 0), Some(at(4, 12, 30))),
        ];
        let g = group_periods(&periods, &berlin());
        assert_eq!(g.entries.len(), 1);
        assert_eq!(g.entries[0].entry.break_minutes, 0);
        assert_eq!(
            g.skipped,
            vec![SkippedRecord {
                record_ids: vec!["b".into()],
                employee: "7788".into(),
                reason: NotSyncable::BreakOutsideWork {
                    start: at(4, 12, 0)
                },
            }]
        );
    }

    #[test]
    fn malformed_breaks_skip_the_whole_entry() {
        let work = period("w", PeriodKind::Work, at(4, 8, 0), Some(at(4, 12, 0)));
        let cases = [
            (
                vec![period("b", PeriodKind::Break, at(4, 9, 0), None)],
                NotSyncable::OpenBreak { start: at(4, 9, 0) },
            ),
            (
                vec![
                    period("b1", PeriodKind::Break, at(4, 9, 0), Some(at(4, 9, 30))),
                    period("b2", PeriodKind::Break, at(4, 9, 15), Some(at(4, 9, 45))),
                ],
                NotSyncable::OverlappingBreaks {
                    first: at(4, 9, 0),
                    second: at(4, 9, 15),
                },
            ),
            (
                vec![period(
                    "b",
                    PeriodKind::Break,
                    at(4, 8, 0),
                    Some(at(4, 12, 0)),
                )],
                NotSyncable::BreakTooLong {
                    break_minutes: 240,
                    duration_minutes: 240,
                },
            ),
        ];
        for (breaks, reason) in cases {
            let mut periods = vec![work.clone()];
            periods.extend(breaks);
            let g = group_periods(&periods, &berlin());
            assert!(g.entries.is_empty());
            assert_eq!(g.skipped.len(), 1);
            assert_eq!(g.skipped[0].reason, reason);
            assert_eq!(g.skipped[0].record_ids[0], "w");
        }
    }

    #[test]
    fn persons_are_grouped_separately_and_approval_is_the_least_approved() {
        let mut other = period("o", PeriodKind::Work, at(4, 22, 0), Some(at(5, 0, 0)));
        other.person = "9".into();
        let mut b = period("b", PeriodKind::Break, at(5, 1, 0), Some(at(5, 1, 30)));
        b.approval = Some(ApprovalStatus::Pending);
        let periods = vec![
            other,
            period("w", PeriodKind::Work, at(5, 0, 0), Some(at(5, 6, 0))),
            b,
        ];
        let g = group_periods(&periods, &berlin());
        assert_eq!(g.entries.len(), 2);
        assert_eq!(g.entries[0].entry.employee, "7788");
        assert_eq!(g.entries[0].approval, Some(ApprovalStatus::Pending));
        assert_eq!(g.entries[1].entry.employee, "9");
        assert_eq!(g.entries[1].period_ids, vec!["o"]);
    }

    #[test]
    fn fall_back_night_counts_four_real_hours() {
        let z = berlin();
        let day = date(2026, 10, 25);
        let periods = vec![period(
            "w",
            PeriodKind::Work,
            day.at(1, 0, 0, 0),
            Some(day.at(4, 0, 0, 0)),
        )];
        let g = group_periods(&periods, &z);
        assert_eq!(g.entries[0].entry.duration(), SignedDuration::from_hours(4));
        let spring = date(2026, 3, 29);
        let periods = vec![period(
            "w",
            PeriodKind::Work,
            spring.at(1, 0, 0, 0),
            Some(spring.at(4, 0, 0, 0)),
        )];
        let g = group_periods(&periods, &z);
        assert_eq!(g.entries[0].entry.duration(), SignedDuration::from_hours(2));
    }

    #[test]
    fn gap_times_are_read_forward() {
        let z = berlin();
        let day = date(2026, 3, 29);
        let periods = vec![period(
            "w",
            PeriodKind::Work,
            day.at(2, 30, 0, 0),
            Some(day.at(5, 0, 0, 0)),
        )];
        let g = group_periods(&periods, &z);
        let e = &g.entries[0];
        assert_eq!(e.entry.duration(), SignedDuration::from_mins(90));
    }
}
