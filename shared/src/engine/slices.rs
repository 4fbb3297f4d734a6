//! Time slices of a large window run (ADR 0029): where to cut a window so that one slice's records fit
//! in memory and every cut costs as few extra requests as possible.
//!
//! Pure: the runner hands in what it knows (the stored mappings per anchor day, or the records per day
//! listed so far and the linked people) and gets the slices back. Each cut re-reads the two days around
//! it on both systems (the ports list a day of margin on each side of the window they are asked for, for
//! overnight entries), so cuts go where those days are lightest — in practice, at weekends.
use std::collections::BTreeMap;

use jiff::civil::Date;

use super::kind::SyncKind;
use super::port::Listing;
use crate::domain::DateWindow;

/// Records listed per anchor day: of each day, the larger side's count (records without an anchor
/// and rejected ones are not counted).
pub(super) fn records_per_day<K: SyncKind>(
    kind: &K,
    p: &Listing<K::Value>,
    t: &Listing<K::Value>,
) -> BTreeMap<Date, u64> {
    let count = |listing: &Listing<K::Value>| {
        let mut days: BTreeMap<Date, u64> = BTreeMap::new();
        for r in &listing.records {
            if let Some(day) = kind.anchor_date(&r.value) {
                *days.entry(day).or_insert(0) += 1;
            }
        }
        days
    };
    let mut days = count(p);
    for (day, n) in count(t) {
        let slot = days.entry(day).or_insert(0);
        *slot = (*slot).max(n);
    }
    days
}

/// The records per day expected in `rest` of a window without mappings, from the days listed so far
/// (`seen`) and the linked `people` (`0`: unknown). A day of a weekday seen with records takes the
/// most seen on that weekday (working time follows the week); any other day, with `people` known, an
/// office week (one entry per person Monday to Friday, none at the weekend — so the cuts are tried
/// at weekends, and an empty Monday seen, a holiday, does not make every Monday look empty); without
/// `people`, a weekday seen empty stays empty and one not seen takes the most seen on one day.
/// Nothing to go by (no people, nothing but empty days seen): no estimate, the run probes with
/// growing slices.
pub(super) fn estimate_per_day(
    rest: &DateWindow,
    seen: &BTreeMap<Date, u64>,
    people: u64,
) -> BTreeMap<Date, u64> {
    let most = seen.values().copied().max().unwrap_or(0);
    if most == 0 && people == 0 {
        return BTreeMap::new();
    }
    // The most seen on each weekday: one empty Monday (a holiday) does not make every Monday empty.
    let mut by_weekday: std::collections::HashMap<jiff::civil::Weekday, u64> =
        std::collections::HashMap::new();
    for (day, n) in seen {
        let slot = by_weekday.entry(day.weekday()).or_insert(0);
        *slot = (*slot).max(*n);
    }
    let weekend = |day: Date| {
        matches!(
            day.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        )
    };
    let mut estimate = BTreeMap::new();
    for day in rest.each_day() {
        let expected = match by_weekday.get(&day.weekday()) {
            Some(n) if *n > 0 => *n,
            _ if people > 0 => {
                if weekend(day) {
                    0
                } else {
                    people.max(most)
                }
            }
            Some(_) => 0,
            None => most,
        };
        estimate.insert(day, expected);
    }
    // An estimate of nothing but empty days plans nothing: probe instead.
    if estimate.values().all(|n| *n == 0) {
        return BTreeMap::new();
    }
    estimate
}

/// The time slices of `window` from the mappings per anchor day (`per_day`; no mappings: none, the
/// run probes). Greedy from the window's start: a slice takes days while their mappings fit
/// `capacity`; when the next day would not fit, the cut is placed, among the days that leave the
/// slice at least half as full, before the day where the two days around the cut hold the fewest
/// mappings (each cut re-reads those two days: the ports list a day of margin on each side), the
/// latest of equals. A single day over `capacity` is a slice of its own.
pub(super) fn plan_slices(
    window: &DateWindow,
    per_day: &std::collections::BTreeMap<Date, u64>,
    capacity: usize,
) -> Vec<DateWindow> {
    if per_day.is_empty() {
        return Vec::new();
    }
    let capacity = capacity as u64;
    let days: Vec<Date> = window.each_day().collect();
    let weight = |i: usize| per_day.get(&days[i]).copied().unwrap_or(0);
    let n = days.len();
    let mut slices = Vec::new();
    let mut start = 0;
    while start < n {
        let mut fill = 0;
        let mut end = start;
        while end < n && fill + weight(end) <= capacity {
            fill += weight(end);
            end += 1;
        }
        if end == n {
            slices.push(DateWindow {
                from: days[start],
                to: days[n - 1],
            });
            break;
        }
        if end == start {
            slices.push(DateWindow {
                from: days[start],
                to: days[start],
            });
            start += 1;
            continue;
        }
        // Cut before `c` (start < c <= end < n): the slice is start..c, the next starts at c.
        let mut best = end;
        let mut best_cost = u64::MAX;
        let mut held = 0;
        for c in start + 1..=end {
            held += weight(c - 1);
            if held * 2 < fill {
                continue;
            }
            let cost = weight(c - 1) + weight(c);
            if cost <= best_cost {
                best = c;
                best_cost = cost;
            }
        }
        slices.push(DateWindow {
            from: days[start],
            to: days[best - 1],
        });
        start = best;
    }
    slices
}
