//! Personio absence periods ⇄ canonical absences.
//!
//! Decisions:
//! - `DAY`-unit types: `date_time` is local midnight; only its date is used. Half days come from the
//!   boundary types (see [`super`] for the rule, including the tolerated full-day encodings).
//! - `HOUR`-unit types are not synced ([`NotSyncable::HourlyType`]): TimeTrack absences are whole or
//!   half days and an hour span has no faithful image there.
//! - Ongoing periods (`ends_at` null, e.g. long-term sick leave) are skipped ([`NotSyncable::Ongoing`])
//!   until Personio records an end; a TimeTrack absence needs a last day.
//! - `CANCELLED` is reported as [`NotSyncable::Cancelled`]: the caller treats the period as deleted.
//! - Writes carry the status for the adapter: Personio sets approval itself (`skip_approval` creates an
//!   approved period, otherwise it is pending), so the adapter decides how to honour it.
use jiff::civil::{Date, DateTime};

use super::canonical::{Absence, AbsenceStatus, NotSyncable};
use super::type_map::AbsenceTypeMap;
use crate::domain::System;

/// What the absences workflow needs of a Personio absence period.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PersonioAbsenceView {
    pub id: String,
    pub person_id: String,
    pub absence_type_id: String,
    /// For reports only.
    pub absence_type_name: Option<String>,
    /// The unit of the absence type (from `/v2/absence-types`).
    pub unit: AbsenceUnit,
    pub starts_from: Boundary,
    /// `None`: ongoing.
    pub ends_at: Option<Boundary>,
    pub approval: PersonioApproval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AbsenceUnit {
    Day,
    Hour,
}

/// One end of a period: a local wall-clock date-time and Personio's half-day marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Boundary {
    pub date_time: DateTime,
    pub half: Option<HalfDay>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HalfDay {
    FirstHalf,
    SecondHalf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PersonioApproval {
    Pending,
    Approved,
    Rejected,
    Cancelled,
    /// Any other value Personio may add; reported, not guessed.
    Other(String),
}

/// What to send to Personio for a canonical absence (create, or patch of the boundaries). No comment is
/// sent: a comment is not part of the canonical value, so it is neither synced nor overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersonioAbsenceFields {
    pub person_id: String,
    pub absence_type_id: String,
    pub starts_from: Boundary,
    pub ends_at: Boundary,
    pub status: AbsenceStatus,
}

/// A Personio absence period in canonical form.
pub(crate) fn from_personio(
    period: &PersonioAbsenceView,
    types: &AbsenceTypeMap,
) -> Result<Absence, NotSyncable> {
    let status = match &period.approval {
        PersonioApproval::Pending => AbsenceStatus::Pending,
        PersonioApproval::Approved => AbsenceStatus::Approved,
        PersonioApproval::Rejected => AbsenceStatus::Rejected,
        PersonioApproval::Cancelled => return Err(NotSyncable::Cancelled),
        PersonioApproval::Other(value) => {
            return Err(NotSyncable::UnknownStatus {
                system: System::Personio,
                value: value.clone(),
            })
        }
    };
    if types.for_personio(&period.absence_type_id).is_none() {
        return Err(NotSyncable::UnmappedType {
            system: System::Personio,
            type_id: period.absence_type_id.clone(),
            type_name: period.absence_type_name.clone(),
        });
    }
    if period.unit == AbsenceUnit::Hour {
        return Err(NotSyncable::HourlyType {
            personio_type_id: period.absence_type_id.clone(),
        });
    }
    let ends_at = period.ends_at.ok_or(NotSyncable::Ongoing)?;
    Absence::new(
        period.person_id.clone(),
        period.absence_type_id.clone(),
        period.starts_from.date_time.date(),
        ends_at.date_time.date(),
        // FIRST_HALF on the start is the full-day encoding some clients send.
        period.starts_from.half == Some(HalfDay::SecondHalf),
        // SECOND_HALF on the end likewise.
        ends_at.half == Some(HalfDay::FirstHalf),
        status,
    )
}

/// The Personio fields for a canonical absence: boundaries at local midnight, `null` for full boundary
/// days, `SECOND_HALF` on a start from midday, `FIRST_HALF` on an end at midday.
pub(crate) fn to_personio(absence: &Absence) -> PersonioAbsenceFields {
    PersonioAbsenceFields {
        person_id: absence.employee.clone(),
        absence_type_id: absence.personio_type_id.clone(),
        starts_from: Boundary {
            date_time: midnight(absence.start),
            half: absence.starts_midday.then_some(HalfDay::SecondHalf),
        },
        ends_at: Boundary {
            date_time: midnight(absence.end),
            half: absence.ends_midday.then_some(HalfDay::FirstHalf),
        },
        status: absence.status,
    }
}

fn midnight(day: Date) -> DateTime {
    day.to_datetime(jiff::civil::Time::midnight())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::AbsenceTypeMapping;
    use jiff::civil::date;

    fn types() -> AbsenceTypeMap {
        AbsenceTypeMap::new(&[AbsenceTypeMapping {
            timetrack_type_id: 1,
            personio_type_id: "vac".into(),
            master: System::Personio,
            half_day_timetrack_type_id: Some(2),
        }])
        .unwrap()
    }

    fn boundary(day: Date, half: Option<HalfDay>) -> Boundary {
        Boundary {
            date_time: midnight(day),
            half,
        }
    }

    fn period(
        start: Boundary,
        end: Option<Boundary>,
        approval: PersonioApproval,
    ) -> PersonioAbsenceView {
        PersonioAbsenceView {
            id: "5d9e".into(),
            person_id: "7788".into(),
            absence_type_id: "vac".into(),
            absence_type_name: Some("Vacation".into()),
            unit: AbsenceUnit::Day,
            starts_from: start,
            ends_at: end,
            approval,
        }
    }

    fn view_of(fields: &PersonioAbsenceFields) -> PersonioAbsenceView {
        PersonioAbsenceView {
            id: "new".into(),
            person_id: fields.person_id.clone(),
            absence_type_id: fields.absence_type_id.clone(),
            absence_type_name: None,
            unit: AbsenceUnit::Day,
            starts_from: fields.starts_from,
            ends_at: Some(fields.ends_at),
            approval: match fields.status {
                AbsenceStatus::Pending => PersonioApproval::Pending,
                AbsenceStatus::Approved => PersonioApproval::Approved,
                AbsenceStatus::Rejected => PersonioApproval::Rejected,
            },
        }
    }

    #[test]
    fn reference_example_monday_to_friday_noon() {
        // The reference's example: FIRST_HALF on the start is a full first day; FIRST_HALF on the end is
        // an end at midday.
        let p = period(
            boundary(date(2025, 7, 14), Some(HalfDay::FirstHalf)),
            Some(boundary(date(2025, 7, 18), Some(HalfDay::FirstHalf))),
            PersonioApproval::Pending,
        );
        let a = from_personio(&p, &types()).unwrap();
        assert_eq!(
            (a.start, a.end, a.starts_midday, a.ends_midday, a.status),
            (
                date(2025, 7, 14),
                date(2025, 7, 18),
                false,
                true,
                AbsenceStatus::Pending
            )
        );
    }

    #[test]
    fn both_full_day_encodings_read_the_same() {
        let nulls = period(
            boundary(date(2026, 3, 2), None),
            Some(boundary(date(2026, 3, 6), None)),
            PersonioApproval::Approved,
        );
        let halves = period(
            boundary(date(2026, 3, 2), Some(HalfDay::FirstHalf)),
            Some(boundary(date(2026, 3, 6), Some(HalfDay::SecondHalf))),
            PersonioApproval::Approved,
        );
        let a = from_personio(&nulls, &types()).unwrap();
        assert_eq!(a, from_personio(&halves, &types()).unwrap());
        assert!(!a.has_half_boundary());
    }

    #[test]
    fn round_trips_every_status_and_half_day_shape() {
        let shapes = [
            (date(2026, 3, 2), date(2026, 3, 6), false, false),
            (date(2026, 3, 2), date(2026, 3, 6), true, false),
            (date(2026, 3, 2), date(2026, 3, 6), false, true),
            (date(2026, 3, 2), date(2026, 3, 6), true, true),
            (date(2026, 3, 2), date(2026, 3, 2), false, false),
            (date(2026, 3, 2), date(2026, 3, 2), false, true),
        ];
        for status in [
            AbsenceStatus::Pending,
            AbsenceStatus::Approved,
            AbsenceStatus::Rejected,
        ] {
            for (start, end, sm, em) in shapes {
                let a = Absence::new("7788", "vac", start, end, sm, em, status).unwrap();
                let fields = to_personio(&a);
                assert_eq!(fields.starts_from.date_time, midnight(start));
                assert_eq!(from_personio(&view_of(&fields), &types()).unwrap(), a);
            }
        }
    }

    #[test]
    fn writes_use_null_for_full_days_and_midday_markers_for_halves() {
        let a = Absence::new(
            "7788",
            "vac",
            date(2026, 3, 2),
            date(2026, 3, 6),
            true,
            true,
            AbsenceStatus::Approved,
        )
        .unwrap();
        let f = to_personio(&a);
        assert_eq!(f.starts_from.half, Some(HalfDay::SecondHalf));
        assert_eq!(f.ends_at.half, Some(HalfDay::FirstHalf));
        assert_eq!(f.ends_at.date_time, date(2026, 3, 6).at(0, 0, 0, 0));
        let full = Absence::new(
            "7788",
            "vac",
            date(2026, 3, 2),
            date(2026, 3, 6),
            false,
            false,
            AbsenceStatus::Approved,
        )
        .unwrap();
        let f = to_personio(&full);
        assert_eq!((f.starts_from.half, f.ends_at.half), (None, None));
    }

    #[test]
    fn what_cannot_be_synced_is_reported() {
        let day = boundary(date(2026, 3, 2), None);
        let mut unmapped = period(day, Some(day), PersonioApproval::Approved);
        unmapped.absence_type_id = "parental".into();
        unmapped.absence_type_name = Some("Parental leave".into());
        assert_eq!(
            from_personio(&unmapped, &types()),
            Err(NotSyncable::UnmappedType {
                system: System::Personio,
                type_id: "parental".into(),
                type_name: Some("Parental leave".into())
            })
        );
        let mut hourly = period(day, Some(day), PersonioApproval::Approved);
        hourly.unit = AbsenceUnit::Hour;
        assert_eq!(
            from_personio(&hourly, &types()),
            Err(NotSyncable::HourlyType {
                personio_type_id: "vac".into()
            })
        );
        assert_eq!(
            from_personio(&period(day, None, PersonioApproval::Approved), &types()),
            Err(NotSyncable::Ongoing)
        );
        assert_eq!(
            from_personio(
                &period(day, Some(day), PersonioApproval::Cancelled),
                &types()
            ),
            Err(NotSyncable::Cancelled)
        );
        assert!(matches!(
            from_personio(
                &period(day, Some(day), PersonioApproval::Other("WITHDRAWN".into())),
                &types()
            ),
            Err(NotSyncable::UnknownStatus { .. })
        ));
        // A single day that starts and ends at midday leaves nothing: refused, as Personio does.
        let both = period(
            boundary(date(2026, 3, 2), Some(HalfDay::SecondHalf)),
            Some(boundary(date(2026, 3, 2), Some(HalfDay::FirstHalf))),
            PersonioApproval::Approved,
        );
        assert!(matches!(
            from_personio(&both, &types()),
            Err(NotSyncable::InvalidPeriod { .. })
        ));
    }
}
