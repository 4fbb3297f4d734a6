//! Change hints: what a Personio webhook event tells a targeted run — which record of which family
//! changed — and never the record's data (Personio's webhooks are dataless; the run reads the current
//! state). Pure: no wire shapes, no I/O.
//!
//! A batch of hints becomes a [`TargetScope`] in two steps: each hint is *located* by the workflow's
//! Personio port (the record's person and days, or "gone"), then the located entries are
//! [coalesced](TargetScope::coalesce): one entry per person, overlapping or adjacent day ranges merged,
//! so that duplicate and out-of-order events of one person and day cost one narrowed listing.
use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;

use crate::domain::{DateWindow, ScopeEntry};

/// The Personio resource family an event names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HintFamily {
    Person,
    Employment,
    AttendancePeriod,
    AbsencePeriod,
}

impl HintFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            HintFamily::Person => "person",
            HintFamily::Employment => "employment",
            HintFamily::AttendancePeriod => "attendance-period",
            HintFamily::AbsencePeriod => "absence-period",
        }
    }
}

impl fmt::Display for HintFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the record, as the event says. Only informative: the run reads the current state,
/// so an `Updated` hint of a record that is gone is handled as a delete candidate, and a `Deleted` hint
/// of a record that exists again is synced as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HintAction {
    Created,
    Updated,
    Deleted,
}

/// One event of a batch, as the receiver derived it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeHint {
    /// Stable id of the event (the receiver derives it); listed on the run record.
    pub event_id: String,
    pub family: HintFamily,
    pub action: HintAction,
    /// Personio id of the record the event names.
    pub resource_id: String,
    pub occurred_at: Timestamp,
}

impl ChangeHint {
    /// The family and action of a Personio event name (`attendance-period.updated`,
    /// `absence-period.updated.status`, `employment.terminated`, ...); `None` for events that name no
    /// synced record (`ping`, `document.*`).
    pub fn classify(event_name: &str) -> Option<(HintFamily, HintAction)> {
        let (family, rest) = event_name.split_once('.')?;
        let family = match family {
            "person" => HintFamily::Person,
            "employment" => HintFamily::Employment,
            "attendance-period" => HintFamily::AttendancePeriod,
            "absence-period" => HintFamily::AbsencePeriod,
            _ => return None,
        };
        let action = match rest.split('.').next()? {
            "created" => HintAction::Created,
            "deleted" => HintAction::Deleted,
            // updated, updated.timerange, updated.status, updated.cost-centers, started, terminated
            _ => HintAction::Updated,
        };
        Some((family, action))
    }
}

/// What a side port learned about a hint's record by reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// The record exists: sync this person over these days.
    Found(ScopeEntry),
    /// The system says the record does not exist: a delete candidate when a mapping names it, else a
    /// stale hint.
    Gone,
    /// The port does not resolve this family (the workflow does not sync it): the hint is ignored.
    NotHandled,
}

/// The narrowed scope of a targeted run: one entry per person, day ranges merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetScope {
    entries: Vec<ScopeEntry>,
}

impl TargetScope {
    /// Coalesces `entries`: per person, ranges that overlap or touch merge into one; an entry without
    /// days (the person as a whole) absorbs that person's dated entries. Sorted by person, then day.
    pub fn coalesce(entries: impl IntoIterator<Item = ScopeEntry>) -> Self {
        let mut by_person: BTreeMap<String, (bool, Vec<DateWindow>)> = BTreeMap::new();
        for e in entries {
            let slot = by_person.entry(e.person).or_default();
            match e.days {
                None => slot.0 = true,
                Some(w) => slot.1.push(w),
            }
        }
        let mut out = Vec::new();
        for (person, (whole, mut windows)) in by_person {
            if whole {
                out.push(ScopeEntry { person, days: None });
                continue;
            }
            windows.sort();
            let mut merged: Vec<DateWindow> = Vec::new();
            for w in windows {
                match merged.last_mut() {
                    Some(last) if w.from <= last.to.tomorrow().unwrap_or(last.to) => {
                        last.to = last.to.max(w.to);
                    }
                    _ => merged.push(w),
                }
            }
            out.extend(merged.into_iter().map(|w| ScopeEntry {
                person: person.clone(),
                days: Some(w),
            }));
        }
        Self { entries: out }
    }

    pub fn entries(&self) -> &[ScopeEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The persons of the scope, once each, sorted.
    pub fn persons(&self) -> Vec<String> {
        let mut persons: Vec<String> = self.entries.iter().map(|e| e.person.clone()).collect();
        persons.dedup();
        persons
    }

    /// The smallest window holding every dated entry (and `extra` days); `None` when nothing is dated.
    pub fn span(&self, extra: impl IntoIterator<Item = jiff::civil::Date>) -> Option<DateWindow> {
        let days = self
            .entries
            .iter()
            .filter_map(|e| e.days)
            .flat_map(|w| [w.from, w.to])
            .chain(extra);
        days.fold(None, |span: Option<DateWindow>, d| {
            Some(match span {
                None => DateWindow { from: d, to: d },
                Some(w) => DateWindow {
                    from: w.from.min(d),
                    to: w.to.max(d),
                },
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn entry(person: &str, from: (i16, i8, i8), to: (i16, i8, i8)) -> ScopeEntry {
        ScopeEntry {
            person: person.into(),
            days: Some(DateWindow {
                from: date(from.0, from.1, from.2),
                to: date(to.0, to.1, to.2),
            }),
        }
    }

    #[test]
    fn hints_of_one_person_and_day_coalesce_into_one_entry() {
        let day = (2026, 11, 4);
        let scope = TargetScope::coalesce([
            entry("1006", day, day),
            entry("1002", day, day),
            entry("1006", day, day),
            entry("1006", day, day),
        ]);
        assert_eq!(
            scope.entries(),
            &[entry("1002", day, day), entry("1006", day, day)]
        );
        assert_eq!(
            scope.persons(),
            vec!["1002".to_string(), "1006".to_string()]
        );
    }

    #[test]
    fn overlapping_and_adjacent_ranges_merge_but_gaps_stay_apart() {
        let scope = TargetScope::coalesce([
            entry("1006", (2026, 11, 6), (2026, 11, 6)),
            entry("1006", (2026, 11, 3), (2026, 11, 4)),
            entry("1006", (2026, 11, 4), (2026, 11, 5)),
            entry("1006", (2026, 11, 9), (2026, 11, 9)),
        ]);
        assert_eq!(
            scope.entries(),
            &[
                entry("1006", (2026, 11, 3), (2026, 11, 6)),
                entry("1006", (2026, 11, 9), (2026, 11, 9)),
            ]
        );
        assert_eq!(
            scope.span([date(2026, 11, 1)]),
            Some(DateWindow {
                from: date(2026, 11, 1),
                to: date(2026, 11, 9)
            })
        );
    }

    #[test]
    fn a_whole_person_absorbs_their_dated_entries() {
        let scope = TargetScope::coalesce([
            entry("1006", (2026, 11, 6), (2026, 11, 6)),
            ScopeEntry {
                person: "1006".into(),
                days: None,
            },
        ]);
        assert_eq!(
            scope.entries(),
            &[ScopeEntry {
                person: "1006".into(),
                days: None
            }]
        );
        assert_eq!(scope.span([]), None);
        assert!(TargetScope::coalesce([]).is_empty());
    }

    #[test]
    fn event_names_classify_by_family_and_action() {
        use HintAction::*;
        use HintFamily::*;
        let cases = [
            (
                "attendance-period.created",
                Some((AttendancePeriod, Created)),
            ),
            (
                "attendance-period.deleted",
                Some((AttendancePeriod, Deleted)),
            ),
            (
                "absence-period.updated.timerange",
                Some((AbsencePeriod, Updated)),
            ),
            (
                "absence-period.updated.status",
                Some((AbsencePeriod, Updated)),
            ),
            ("employment.terminated", Some((Employment, Updated))),
            ("person.deleted", Some((Person, Deleted))),
            ("document.created", None),
            ("ping", None),
        ];
        for (name, expected) in cases {
            assert_eq!(ChangeHint::classify(name), expected, "{name}");
        }
    }
}
