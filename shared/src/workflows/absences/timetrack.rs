//! TimeTrack absences ⇄ canonical absences.
//!
//! - Status: TimeTrack `0` (new, waiting for approval) / `1` (approved) / `2` (disapproved) ⇄
//!   pending / approved / rejected.
//! - Types: a TimeTrack absence's type is translated through the mapping; the mapping's half-day type
//!   marks a single-day half absence (see [`super`] for the half-day rule). One canonical absence may
//!   be several TimeTrack absences (a half first or last day is its own half-day absence): see
//!   [`super::parts`].
//! - TimeTrack can only change an absence's `status` in place; any other change is delete + re-create
//!   ([`timetrack_change`]), and the mapping follows the new id.
use jiff::civil::Date;

use super::canonical::{Absence, AbsenceStatus, NotSyncable};
use super::type_map::{AbsenceTypeMap, TimeTrackTypeRole};
use crate::domain::System;

/// What the absences workflow needs of a TimeTrack absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeTrackAbsenceView {
    pub id: i64,
    /// The Personio person id of the absence's user, resolved by the caller from the TimeTrack username
    /// through the employee mappings.
    pub employee: String,
    /// First day, inclusive.
    pub from: Date,
    /// Last day, inclusive.
    pub to: Date,
    pub absence_type_id: i64,
    /// `absenceTypeName`, for reports only.
    pub absence_type_name: Option<String>,
    /// The raw status code (0, 1, 2).
    pub status: i64,
}

/// What to send to TimeTrack to create an absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeTrackAbsenceFields {
    pub username: String,
    pub from: Date,
    pub to: Date,
    pub absence_type_id: i64,
    pub status: i64,
}

/// How a create's journal names one TimeTrack part before it is sent (`PendingIntent.parts`, ADR
/// 0030): the Personio person, the TimeTrack type and the days. A user's own absence with exactly these
/// fields is taken for the create's part; status is left out (a later status write may change it).
pub(crate) fn recorded_part(employee: &str, fields: &TimeTrackAbsenceFields) -> String {
    format!(
        "{employee}|{}|{}|{}",
        fields.absence_type_id, fields.from, fields.to
    )
}

/// What bringing a TimeTrack absence from `old` to `new` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeTrackChange {
    Unchanged,
    /// `PUT /absences/{id}` with this status code.
    StatusOnly(i64),
    /// Delete and create again (dates, type, half-day shape or employee changed).
    Recreate,
}

pub(crate) fn status_to_timetrack(status: AbsenceStatus) -> i64 {
    match status {
        AbsenceStatus::Pending => 0,
        AbsenceStatus::Approved => 1,
        AbsenceStatus::Rejected => 2,
    }
}

pub(crate) fn status_from_timetrack(code: i64) -> Result<AbsenceStatus, NotSyncable> {
    match code {
        0 => Ok(AbsenceStatus::Pending),
        1 => Ok(AbsenceStatus::Approved),
        2 => Ok(AbsenceStatus::Rejected),
        other => Err(NotSyncable::UnknownStatus {
            system: System::TimeTrack,
            value: other.to_string(),
        }),
    }
}

/// A TimeTrack absence in canonical form.
pub(crate) fn from_timetrack(
    absence: &TimeTrackAbsenceView,
    types: &AbsenceTypeMap,
) -> Result<Absence, NotSyncable> {
    let (mapping, role) = types
        .for_timetrack(absence.absence_type_id)
        .ok_or_else(|| NotSyncable::UnmappedType {
            system: System::TimeTrack,
            type_id: absence.absence_type_id.to_string(),
            type_name: absence.absence_type_name.clone(),
        })?;
    let status = status_from_timetrack(absence.status)?;
    let half_day = match role {
        TimeTrackTypeRole::FullDay => false,
        TimeTrackTypeRole::HalfDay if absence.from == absence.to => true,
        TimeTrackTypeRole::HalfDay => {
            return Err(NotSyncable::InvalidPeriod {
                reason: format!(
                    "half-day type {} spans {}..={}; a half-day absence is one day",
                    absence.absence_type_id, absence.from, absence.to
                ),
            })
        }
    };
    Absence::new(
        absence.employee.clone(),
        mapping.personio_type_id.clone(),
        absence.from,
        absence.to,
        false,
        half_day,
        status,
    )
}

/// The TimeTrack absences ("parts") that hold a canonical absence of the user `username`, in day order.
///
/// Full days use the mapping's type. A single-day half is one absence of the mapping's half-day type. A
/// multi-day absence with a half first or last day is the full-day part plus one half-day absence on
/// each half boundary day (Monday to Friday noon: "Urlaub" Monday–Thursday + "Urlaub (½ Tag)" Friday),
/// the usual TimeTrack way (see [`super::parts`] for how they are read back as one absence). Not
/// representable: a half day of a type without a half-day TimeTrack type, and a two-day absence that
/// is half on both days (no full day in between, so TimeTrack would show two unrelated half days).
pub(crate) fn to_timetrack(
    absence: &Absence,
    username: &str,
    types: &AbsenceTypeMap,
) -> Result<Vec<TimeTrackAbsenceFields>, NotSyncable> {
    let mapping = types
        .for_personio(&absence.personio_type_id)
        .ok_or_else(|| NotSyncable::UnmappedType {
            system: System::Personio,
            type_id: absence.personio_type_id.clone(),
            type_name: None,
        })?;
    let part = |from: Date, to: Date, absence_type_id: i64| TimeTrackAbsenceFields {
        username: username.to_string(),
        from,
        to,
        absence_type_id,
        status: status_to_timetrack(absence.status),
    };
    if !absence.has_half_boundary() {
        return Ok(vec![part(
            absence.start,
            absence.end,
            mapping.timetrack_type_id,
        )]);
    }
    let half_type =
        mapping
            .half_day_timetrack_type_id
            .ok_or_else(|| NotSyncable::NotRepresentableInTimeTrack {
                reason: format!(
                    "{}..={} has a half day but no half-day TimeTrack type is mapped for Personio type {}",
                    absence.start, absence.end, absence.personio_type_id
                ),
            })?;
    if absence.is_single_half_day() {
        return Ok(vec![part(absence.start, absence.start, half_type)]);
    }
    let full_from = if absence.starts_midday {
        absence.start.tomorrow().ok()
    } else {
        Some(absence.start)
    };
    let full_to = if absence.ends_midday {
        absence.end.yesterday().ok()
    } else {
        Some(absence.end)
    };
    let (full_from, full_to) = match (full_from, full_to) {
        (Some(f), Some(t)) if f <= t => (f, t),
        _ => {
            return Err(NotSyncable::NotRepresentableInTimeTrack {
                reason: format!(
                "{}..={} is half on both of its two days; with no full day between them TimeTrack \
                     would hold two unrelated half days",
                absence.start, absence.end
            ),
            })
        }
    };
    let mut parts = Vec::with_capacity(3);
    if absence.starts_midday {
        parts.push(part(absence.start, absence.start, half_type));
    }
    parts.push(part(full_from, full_to, mapping.timetrack_type_id));
    if absence.ends_midday {
        parts.push(part(absence.end, absence.end, half_type));
    }
    Ok(parts)
}

/// In-place status update when only the status differs; otherwise delete + re-create.
pub(crate) fn timetrack_change(old: &Absence, new: &Absence) -> TimeTrackChange {
    if old == new {
        return TimeTrackChange::Unchanged;
    }
    let same_but_status = Absence {
        status: new.status,
        ..old.clone()
    };
    if &same_but_status == new {
        TimeTrackChange::StatusOnly(status_to_timetrack(new.status))
    } else {
        TimeTrackChange::Recreate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::AbsenceTypeMapping;
    use crate::workflows::absences::personio::{
        from_personio, to_personio, AbsenceUnit, PersonioAbsenceView, PersonioApproval,
    };
    use jiff::civil::date;
    use proptest::prelude::*;

    const STATUSES: [AbsenceStatus; 3] = [
        AbsenceStatus::Pending,
        AbsenceStatus::Approved,
        AbsenceStatus::Rejected,
    ];

    fn types() -> AbsenceTypeMap {
        AbsenceTypeMap::new(&[
            AbsenceTypeMapping {
                timetrack_type_id: 1,
                personio_type_id: "vac".into(),
                master: System::Personio,
                half_day_timetrack_type_id: Some(2),
            },
            AbsenceTypeMapping {
                timetrack_type_id: 5,
                personio_type_id: "sick".into(),
                master: System::TimeTrack,
                half_day_timetrack_type_id: None,
            },
        ])
        .unwrap()
    }

    fn view_of(fields: &TimeTrackAbsenceFields) -> TimeTrackAbsenceView {
        TimeTrackAbsenceView {
            id: 99,
            employee: "7788".into(),
            from: fields.from,
            to: fields.to,
            absence_type_id: fields.absence_type_id,
            absence_type_name: None,
            status: fields.status,
        }
    }

    fn tt(from: Date, to: Date, type_id: i64, status: i64) -> TimeTrackAbsenceView {
        TimeTrackAbsenceView {
            id: 1,
            employee: "7788".into(),
            from,
            to,
            absence_type_id: type_id,
            absence_type_name: Some("Urlaub".into()),
            status,
        }
    }

    #[test]
    fn status_codes_map_both_ways() {
        for (status, code) in STATUSES.into_iter().zip([0, 1, 2]) {
            assert_eq!(status_to_timetrack(status), code);
            assert_eq!(status_from_timetrack(code), Ok(status));
        }
        assert!(matches!(
            status_from_timetrack(3),
            Err(NotSyncable::UnknownStatus { .. })
        ));
    }

    #[test]
    fn round_trips_full_and_half_days_in_every_status() {
        for status in STATUSES {
            let full = Absence::new(
                "7788",
                "vac",
                date(2026, 8, 3),
                date(2026, 8, 14),
                false,
                false,
                status,
            )
            .unwrap();
            let parts = to_timetrack(&full, "lena.vogt", &types()).unwrap();
            let [f] = parts.as_slice() else {
                panic!("one part: {parts:?}")
            };
            assert_eq!((f.absence_type_id, f.from, f.to), (1, full.start, full.end));
            assert_eq!(f.username, "lena.vogt");
            assert_eq!(from_timetrack(&view_of(f), &types()).unwrap(), full);

            let half = Absence::new(
                "7788",
                "vac",
                date(2026, 8, 3),
                date(2026, 8, 3),
                false,
                true,
                status,
            )
            .unwrap();
            let parts = to_timetrack(&half, "lena.vogt", &types()).unwrap();
            let [f] = parts.as_slice() else {
                panic!("one part: {parts:?}")
            };
            assert_eq!(f.absence_type_id, 2);
            assert_eq!(from_timetrack(&view_of(f), &types()).unwrap(), half);
        }
    }

    #[test]
    fn timetrack_half_day_round_trips_through_personio() {
        // TimeTrack half day → canonical → Personio fields → canonical → TimeTrack: the same absence.
        let source = tt(date(2026, 3, 2), date(2026, 3, 2), 2, 1);
        let canonical = from_timetrack(&source, &types()).unwrap();
        let p = to_personio(&canonical);
        let view = PersonioAbsenceView {
            id: "x".into(),
            person_id: p.person_id,
            absence_type_id: p.absence_type_id,
            absence_type_name: None,
            unit: AbsenceUnit::Day,
            starts_from: p.starts_from,
            ends_at: Some(p.ends_at),
            approval: PersonioApproval::Approved,
        };
        let back = from_personio(&view, &types()).unwrap();
        assert_eq!(back, canonical);
        let again = to_timetrack(&back, "u", &types()).unwrap().remove(0);
        assert_eq!(
            (again.from, again.to, again.absence_type_id, again.status),
            (
                source.from,
                source.to,
                source.absence_type_id,
                source.status
            )
        );
    }

    #[test]
    fn unmapped_type_is_reported_with_its_name() {
        assert_eq!(
            from_timetrack(&tt(date(2026, 3, 2), date(2026, 3, 3), 7, 0), &types()),
            Err(NotSyncable::UnmappedType {
                system: System::TimeTrack,
                type_id: "7".into(),
                type_name: Some("Urlaub".into())
            })
        );
        let a = Absence::new(
            "7788",
            "parental",
            date(2026, 3, 2),
            date(2026, 3, 3),
            false,
            false,
            AbsenceStatus::Approved,
        )
        .unwrap();
        assert!(matches!(
            to_timetrack(&a, "u", &types()),
            Err(NotSyncable::UnmappedType {
                system: System::Personio,
                ..
            })
        ));
    }

    #[test]
    fn what_timetrack_cannot_hold_is_reported() {
        // Monday to Friday noon is two parts (see `parts`), "Urlaub" + "Urlaub (½ Tag)".
        let a = Absence::new(
            "7788",
            "vac",
            date(2025, 7, 14),
            date(2025, 7, 18),
            false,
            true,
            AbsenceStatus::Pending,
        )
        .unwrap();
        assert_eq!(to_timetrack(&a, "u", &types()).unwrap().len(), 2);
        // A half day of a type without a half-day TimeTrack type.
        let sick_half = Absence::new(
            "7788",
            "sick",
            date(2025, 7, 14),
            date(2025, 7, 14),
            false,
            true,
            AbsenceStatus::Approved,
        )
        .unwrap();
        assert!(matches!(
            to_timetrack(&sick_half, "u", &types()),
            Err(NotSyncable::NotRepresentableInTimeTrack { .. })
        ));
        // A half-day type over several days is not a half day.
        assert!(matches!(
            from_timetrack(&tt(date(2026, 3, 2), date(2026, 3, 4), 2, 1), &types()),
            Err(NotSyncable::InvalidPeriod { .. })
        ));
    }

    #[test]
    fn only_status_changes_in_place() {
        let old = Absence::new(
            "7788",
            "vac",
            date(2026, 3, 2),
            date(2026, 3, 6),
            false,
            false,
            AbsenceStatus::Pending,
        )
        .unwrap();
        assert_eq!(timetrack_change(&old, &old), TimeTrackChange::Unchanged);
        let approved = Absence {
            status: AbsenceStatus::Approved,
            ..old.clone()
        };
        assert_eq!(
            timetrack_change(&old, &approved),
            TimeTrackChange::StatusOnly(1)
        );
        let moved = Absence {
            end: date(2026, 3, 5),
            ..approved.clone()
        };
        assert_eq!(timetrack_change(&old, &moved), TimeTrackChange::Recreate);
        let other_type = Absence {
            personio_type_id: "sick".into(),
            ..old.clone()
        };
        assert_eq!(
            timetrack_change(&old, &other_type),
            TimeTrackChange::Recreate
        );
    }

    fn arb_absence() -> impl Strategy<Value = Absence> {
        (
            0i32..3000,
            0i32..40,
            any::<bool>(),
            any::<bool>(),
            0usize..3,
            prop_oneof![Just("vac"), Just("sick")],
        )
            .prop_filter_map(
                "not a valid period",
                |(offset, length, starts_midday, ends_midday, status, kind)| {
                    let start = date(2024, 1, 1)
                        .checked_add(jiff::Span::new().days(offset))
                        .ok()?;
                    let end = start.checked_add(jiff::Span::new().days(length)).ok()?;
                    Absence::new(
                        "7788",
                        kind,
                        start,
                        end,
                        starts_midday,
                        ends_midday,
                        STATUSES[status],
                    )
                    .ok()
                },
            )
    }

    proptest! {
        /// Whatever TimeTrack holds in one absence comes back unchanged (several parts: see `parts`),
        /// and whatever it cannot hold is refused (never rounded); Personio holds everything.
        #[test]
        fn canonical_round_trips_through_both_systems(a in arb_absence()) {
            match to_timetrack(&a, "u", &types()) {
                Ok(fields) if fields.len() == 1 => prop_assert_eq!(from_timetrack(&view_of(&fields[0]), &types()).unwrap(), a.clone()),
                Ok(fields) => {
                    prop_assert!(a.has_half_boundary() && !a.is_single_half_day());
                    prop_assert!(fields.len() <= 3);
                }
                Err(NotSyncable::NotRepresentableInTimeTrack { .. }) => {
                    prop_assert!(a.has_half_boundary());
                    prop_assert!(a.personio_type_id == "sick" || (a.starts_midday && a.ends_midday));
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
            let p = to_personio(&a);
            let view = PersonioAbsenceView {
                id: "x".into(),
                person_id: p.person_id,
                absence_type_id: p.absence_type_id,
                absence_type_name: None,
                unit: AbsenceUnit::Day,
                starts_from: p.starts_from,
                ends_at: Some(p.ends_at),
                approval: match a.status {
                    AbsenceStatus::Pending => PersonioApproval::Pending,
                    AbsenceStatus::Approved => PersonioApproval::Approved,
                    AbsenceStatus::Rejected => PersonioApproval::Rejected,
                },
            };
            prop_assert_eq!(from_personio(&view, &types()).unwrap(), a);
        }
    }
}
