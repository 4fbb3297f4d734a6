//! The parts of one TimeTrack absence: how TimeTrack absences are grouped into the canonical absence
//! they hold together.
//!
//! TimeTrack has no half-day field; a half day is an absence of the mapping's half-day type
//! (timetrack-api.md §4). So a vacation from Monday to Friday noon, one period in Personio, is two
//! TimeTrack absences: "Urlaub" Monday–Thursday and "Urlaub (½ Tag)" Friday. The TimeTrack port reads
//! such parts as **one** canonical absence ([`TimeTrackGroup`]) and writes one canonical absence as its
//! parts ([`super::timetrack::to_timetrack`]), so that the engine sees one record on each side and
//! needs no special case (ADR 0012).
//!
//! Grouping rule ([`group_parts`]): a **full-day part** (the mapping's full-day type) takes
//! - a *trailing* half: a one-day absence of the same mapping's half-day type, of the same person, on
//!   the day after its last day (the absence ends at midday), and
//! - a *leading* half: likewise on the day before its first day (the absence starts at midday).
//!
//! Days are calendar days (Personio periods are, too). A half day that could end one full part and
//! start the next is the trailing half of the earlier one (the common "ends at noon" reading); of two
//! half days on the same day the lower id is taken. Statuses need not agree: the absence is rejected if
//! any part is, else pending if any part is, else approved (an approval reaches the absence only once
//! every part is approved; writing a status writes it to every part). Two adjacent half days with no
//! full part are two half-day absences (see `to_timetrack` for the one shape this leaves out).
//!
//! The sync knows a group by its **principal id**: the id of its full-day part (of a lone half day, its
//! own id). Adding or removing a half part in TimeTrack therefore changes the absence, it does not
//! replace it, and a TimeTrack absence without halves keeps the id it always had.
use std::collections::HashMap;

use jiff::civil::Date;

use super::canonical::{Absence, AbsenceStatus, NotSyncable};
use super::timetrack::{from_timetrack, status_from_timetrack, TimeTrackAbsenceView};
use super::type_map::{AbsenceTypeMap, TimeTrackTypeRole};

/// The TimeTrack absences that make one absence, in day order: an optional leading half, the
/// principal part, an optional trailing half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeTrackGroup {
    pub leading_half: Option<TimeTrackAbsenceView>,
    pub principal: TimeTrackAbsenceView,
    pub trailing_half: Option<TimeTrackAbsenceView>,
}

impl TimeTrackGroup {
    /// The id the sync knows this absence by.
    pub(crate) fn principal_id(&self) -> i64 {
        self.principal.id
    }

    /// The first day of the absence (its anchor).
    pub(crate) fn first_day(&self) -> Date {
        self.leading_half
            .as_ref()
            .map_or(self.principal.from, |h| h.from)
    }

    /// Every part, in day order.
    pub(crate) fn parts(&self) -> impl Iterator<Item = &TimeTrackAbsenceView> {
        self.leading_half
            .iter()
            .chain(std::iter::once(&self.principal))
            .chain(self.trailing_half.iter())
    }

    /// The half parts, then the principal: the order to delete them in, so that a delete cut short
    /// leaves the principal (which the mapping names) rather than half days that would look new.
    pub(crate) fn ids_for_delete(&self) -> Vec<i64> {
        self.leading_half
            .iter()
            .chain(self.trailing_half.iter())
            .map(|h| h.id)
            .chain(std::iter::once(self.principal.id))
            .collect()
    }
}

/// The role of a part for grouping: full-day part or one-day half part of a mapping (by its Personio
/// type), or neither (unmapped, or a half-day type over several days: it stays alone and its
/// conversion reports why).
fn role<'a>(
    part: &TimeTrackAbsenceView,
    types: &'a AbsenceTypeMap,
) -> Option<(&'a str, TimeTrackTypeRole)> {
    let (mapping, role) = types.for_timetrack(part.absence_type_id)?;
    match role {
        TimeTrackTypeRole::HalfDay if part.from != part.to => None,
        r => Some((mapping.personio_type_id.as_str(), r)),
    }
}

/// Groups TimeTrack absences into the absences they hold (see the module doc for the rule). Every
/// part is in exactly one group; groups come in the order of their principal's `(from, id)`.
pub(crate) fn group_parts(
    mut parts: Vec<TimeTrackAbsenceView>,
    types: &AbsenceTypeMap,
) -> Vec<TimeTrackGroup> {
    parts.sort_by_key(|p| (p.from, p.id));
    let roles: Vec<_> = parts.iter().map(|p| role(p, types)).collect();
    // Half parts by (person, Personio type, day), lowest id first (the sort above).
    let mut halves: HashMap<(&str, &str, Date), Vec<usize>> = HashMap::new();
    for (i, part) in parts.iter().enumerate() {
        if let Some((personio_type, TimeTrackTypeRole::HalfDay)) = roles[i] {
            halves
                .entry((part.employee.as_str(), personio_type, part.from))
                .or_default()
                .push(i);
        }
    }
    let full: Vec<usize> = (0..parts.len())
        .filter(|&i| matches!(roles[i], Some((_, TimeTrackTypeRole::FullDay))))
        .collect();
    let mut claimed = vec![false; parts.len()];
    let mut take = |i: usize, day: Option<Date>, claimed: &mut Vec<bool>| -> Option<usize> {
        let (personio_type, _) = roles[i]?;
        let candidates = halves.get_mut(&(parts[i].employee.as_str(), personio_type, day?))?;
        let position = candidates.iter().position(|&j| !claimed[j])?;
        let j = candidates.remove(position);
        claimed[j] = true;
        Some(j)
    };
    // Trailing halves first for every full part, then leading ones: a half between two full parts
    // ends the earlier one.
    let mut trailing: HashMap<usize, usize> = HashMap::new();
    for &i in &full {
        if let Some(j) = take(i, parts[i].to.tomorrow().ok(), &mut claimed) {
            trailing.insert(i, j);
        }
    }
    let mut leading: HashMap<usize, usize> = HashMap::new();
    for &i in &full {
        if let Some(j) = take(i, parts[i].from.yesterday().ok(), &mut claimed) {
            leading.insert(i, j);
        }
    }
    (0..parts.len())
        .filter(|&i| !claimed[i])
        .map(|i| TimeTrackGroup {
            leading_half: leading.get(&i).map(|&j| parts[j].clone()),
            principal: parts[i].clone(),
            trailing_half: trailing.get(&i).map(|&j| parts[j].clone()),
        })
        .collect()
}

/// The canonical absence a group holds.
pub(crate) fn from_timetrack_group(
    group: &TimeTrackGroup,
    types: &AbsenceTypeMap,
) -> Result<Absence, NotSyncable> {
    let principal = from_timetrack(&group.principal, types)?;
    if group.leading_half.is_none() && group.trailing_half.is_none() {
        return Ok(principal);
    }
    let mut status = principal.status;
    for half in group.leading_half.iter().chain(group.trailing_half.iter()) {
        status = combined(status, status_from_timetrack(half.status)?);
    }
    Absence::new(
        principal.employee,
        principal.personio_type_id,
        group.first_day(),
        group
            .trailing_half
            .as_ref()
            .map_or(group.principal.to, |h| h.to),
        group.leading_half.is_some(),
        group.trailing_half.is_some(),
        status,
    )
}

/// The status of an absence whose parts have statuses `a` and `b`: rejected wins, then pending.
fn combined(a: AbsenceStatus, b: AbsenceStatus) -> AbsenceStatus {
    use AbsenceStatus::*;
    match (a, b) {
        (Rejected, _) | (_, Rejected) => Rejected,
        (Pending, _) | (_, Pending) => Pending,
        (Approved, Approved) => Approved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::System;
    use crate::settings::AbsenceTypeMapping;
    use crate::workflows::absences::timetrack::{to_timetrack, TimeTrackAbsenceFields};
    use jiff::civil::date;
    use proptest::prelude::*;

    const URLAUB: i64 = 1;
    const HALF: i64 = 2;
    const SICK: i64 = 5;

    fn types() -> AbsenceTypeMap {
        AbsenceTypeMap::new(&[
            AbsenceTypeMapping {
                timetrack_type_id: URLAUB,
                personio_type_id: "vac".into(),
                master: System::Personio,
                half_day_timetrack_type_id: Some(HALF),
            },
            AbsenceTypeMapping {
                timetrack_type_id: SICK,
                personio_type_id: "sick".into(),
                master: System::TimeTrack,
                half_day_timetrack_type_id: None,
            },
        ])
        .unwrap()
    }

    fn part(
        id: i64,
        person: &str,
        from: Date,
        to: Date,
        kind: i64,
        status: i64,
    ) -> TimeTrackAbsenceView {
        TimeTrackAbsenceView {
            id,
            employee: person.into(),
            from,
            to,
            absence_type_id: kind,
            absence_type_name: None,
            status,
        }
    }

    fn views(fields: &[TimeTrackAbsenceFields], first_id: i64) -> Vec<TimeTrackAbsenceView> {
        fields
            .iter()
            .zip(first_id..)
            .map(|(f, id)| part(id, "7788", f.from, f.to, f.absence_type_id, f.status))
            .collect()
    }

    fn vacation(start: Date, end: Date, first: bool, last: bool) -> Absence {
        Absence::new(
            "7788",
            "vac",
            start,
            end,
            first,
            last,
            AbsenceStatus::Approved,
        )
        .unwrap()
    }

    fn read(parts: Vec<TimeTrackAbsenceView>) -> Vec<(i64, Absence)> {
        group_parts(parts, &types())
            .iter()
            .map(|g| (g.principal_id(), from_timetrack_group(g, &types()).unwrap()))
            .collect()
    }

    #[test]
    fn monday_to_friday_noon_is_two_parts_read_back_as_one_absence() {
        let a = vacation(date(2026, 7, 6), date(2026, 7, 10), false, true);
        let fields = to_timetrack(&a, "u", &types()).unwrap();
        assert_eq!(
            fields
                .iter()
                .map(|f| (f.from, f.to, f.absence_type_id))
                .collect::<Vec<_>>(),
            vec![
                (date(2026, 7, 6), date(2026, 7, 9), URLAUB),
                (date(2026, 7, 10), date(2026, 7, 10), HALF)
            ]
        );
        // The principal is the full-day part, whatever the order of the ids.
        let mut parts = views(&fields, 40);
        parts.reverse();
        assert_eq!(read(parts), vec![(40, a)]);
    }

    #[test]
    fn half_first_day_and_both_halves() {
        for (first, last, shapes) in [
            (
                true,
                false,
                vec![
                    (date(2026, 7, 6), date(2026, 7, 6), HALF),
                    (date(2026, 7, 7), date(2026, 7, 10), URLAUB),
                ],
            ),
            (
                true,
                true,
                vec![
                    (date(2026, 7, 6), date(2026, 7, 6), HALF),
                    (date(2026, 7, 7), date(2026, 7, 9), URLAUB),
                    (date(2026, 7, 10), date(2026, 7, 10), HALF),
                ],
            ),
        ] {
            let a = vacation(date(2026, 7, 6), date(2026, 7, 10), first, last);
            let fields = to_timetrack(&a, "u", &types()).unwrap();
            let got: Vec<_> = fields
                .iter()
                .map(|f| (f.from, f.to, f.absence_type_id))
                .collect();
            assert_eq!(got, shapes);
            let principal = 10 + i64::from(first);
            assert_eq!(read(views(&fields, 10)), vec![(principal, a)]);
        }
    }

    #[test]
    fn only_adjacent_parts_of_one_person_and_mapping_are_grouped() {
        let mon = date(2026, 7, 6);
        let thu = date(2026, 7, 9);
        let fri = date(2026, 7, 10);
        let next_mon = date(2026, 7, 13);
        // Another person's half day, a sick half day (other mapping, no half type) and a half day
        // after the weekend stay alone.
        let parts = vec![
            part(1, "7788", mon, thu, URLAUB, 1),
            part(2, "9999", fri, fri, HALF, 1),
            part(3, "7788", fri, fri, SICK, 1),
            part(4, "7788", next_mon, next_mon, HALF, 1),
        ];
        let groups = group_parts(parts, &types());
        assert_eq!(groups.len(), 4);
        assert!(groups
            .iter()
            .all(|g| g.leading_half.is_none() && g.trailing_half.is_none()));
    }

    #[test]
    fn a_half_between_two_full_parts_ends_the_earlier_one_and_duplicates_stay_alone() {
        let parts = vec![
            part(1, "7788", date(2026, 7, 6), date(2026, 7, 8), URLAUB, 1),
            part(2, "7788", date(2026, 7, 9), date(2026, 7, 9), HALF, 1),
            part(3, "7788", date(2026, 7, 10), date(2026, 7, 14), URLAUB, 1),
            part(4, "7788", date(2026, 7, 9), date(2026, 7, 9), HALF, 1),
        ];
        let groups = group_parts(parts, &types());
        let summary: Vec<_> = groups
            .iter()
            .map(|g| g.parts().map(|p| p.id).collect::<Vec<_>>())
            .collect();
        // 2 (lower id) ends part 1; 4 is left for part 3's leading half.
        assert_eq!(summary, vec![vec![1, 2], vec![4, 3]]);
        assert_eq!(groups[1].ids_for_delete(), vec![4, 3]);
    }

    #[test]
    fn statuses_of_the_parts_combine() {
        let group = |full, half| {
            group_parts(
                vec![
                    part(1, "7788", date(2026, 7, 6), date(2026, 7, 9), URLAUB, full),
                    part(2, "7788", date(2026, 7, 10), date(2026, 7, 10), HALF, half),
                ],
                &types(),
            )
            .remove(0)
        };
        let status = |full, half| {
            from_timetrack_group(&group(full, half), &types())
                .unwrap()
                .status
        };
        assert_eq!(status(1, 1), AbsenceStatus::Approved);
        assert_eq!(status(1, 0), AbsenceStatus::Pending);
        assert_eq!(status(0, 2), AbsenceStatus::Rejected);
        assert_eq!(status(2, 1), AbsenceStatus::Rejected);
    }

    #[test]
    fn what_the_parts_cannot_say_is_refused() {
        // Two days, half on both: no full part to hold the halves together.
        let two_halves = vacation(date(2026, 7, 6), date(2026, 7, 7), true, true);
        assert!(matches!(
            to_timetrack(&two_halves, "u", &types()),
            Err(NotSyncable::NotRepresentableInTimeTrack { .. })
        ));
        // A half boundary of a type without a half-day TimeTrack type.
        let sick = Absence::new(
            "7788",
            "sick",
            date(2026, 7, 6),
            date(2026, 7, 10),
            false,
            true,
            AbsenceStatus::Approved,
        )
        .unwrap();
        assert!(matches!(
            to_timetrack(&sick, "u", &types()),
            Err(NotSyncable::NotRepresentableInTimeTrack { .. })
        ));
    }

    fn arb_absence() -> impl Strategy<Value = Absence> {
        (0i32..400, 0i32..12, any::<bool>(), any::<bool>(), 0usize..3).prop_filter_map(
            "not a valid period",
            |(offset, length, first, last, status)| {
                let start = date(2026, 1, 1)
                    .checked_add(jiff::Span::new().days(offset))
                    .ok()?;
                let end = start.checked_add(jiff::Span::new().days(length)).ok()?;
                let status = [
                    AbsenceStatus::Pending,
                    AbsenceStatus::Approved,
                    AbsenceStatus::Rejected,
                ][status];
                Absence::new("7788", "vac", start, end, first, last, status).ok()
            },
        )
    }

    proptest! {
        /// Whatever is written to TimeTrack as parts reads back as the same one absence, whatever ids
        /// the parts get.
        #[test]
        fn every_representable_absence_round_trips_through_its_parts(a in arb_absence(), first_id in 1i64..1000) {
            match to_timetrack(&a, "u", &types()) {
                Ok(fields) => {
                    let mut parts = views(&fields, first_id);
                    parts.reverse();
                    let got = read(parts);
                    prop_assert_eq!(got.len(), 1);
                    prop_assert_eq!(&got[0].1, &a);
                }
                Err(NotSyncable::NotRepresentableInTimeTrack { .. }) => {
                    prop_assert!(a.starts_midday && a.ends_midday && a.end == a.start.tomorrow().unwrap());
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }
}
