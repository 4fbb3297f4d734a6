//! The edge of the absences workflow: the clients' wire types ⇄ the workflow's views and write fields.
//! Kept apart from the ports (which do the calls) so that the translation is unit-tested without HTTP.
use std::collections::HashMap;

use crate::connectors::personio as pw;
use crate::connectors::timetrack as tw;

use super::personio::{
    AbsenceUnit, Boundary, HalfDay, PersonioAbsenceFields, PersonioAbsenceView, PersonioApproval,
};
use super::timetrack::{TimeTrackAbsenceFields, TimeTrackAbsenceView};

/// What `/v2/absence-types` says about one Personio type (read once per run in `bind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersonioTypeInfo {
    pub name: Option<String>,
    pub unit: AbsenceUnit,
}

/// The Personio absence-type catalogue by id. A type whose `unit` is missing counts as `DAY` (the
/// documented example and the common case); an unknown unit is kept out, so its absences are
/// reported rather than guessed.
pub(crate) fn personio_catalogue(types: &[pw::AbsenceType]) -> HashMap<String, PersonioTypeInfo> {
    types
        .iter()
        .filter_map(|t| {
            let unit = match &t.unit {
                None | Some(pw::AbsenceUnit::Day) => AbsenceUnit::Day,
                Some(pw::AbsenceUnit::Hour) => AbsenceUnit::Hour,
                Some(pw::AbsenceUnit::Other(_)) => return None,
            };
            Some((
                t.id.clone(),
                PersonioTypeInfo {
                    name: t.name.clone(),
                    unit,
                },
            ))
        })
        .collect()
}

/// A Personio absence period as the workflow's view. `Err` is the reason the record is unreadable.
///
/// A type missing from the catalogue is read as `DAY`: if it is not mapped, the canonical translation
/// reports it as unmapped (by id) anyway; if it is mapped, the caller has checked the catalogue first.
pub(crate) fn personio_view(
    period: &pw::AbsencePeriod,
    catalogue: &HashMap<String, PersonioTypeInfo>,
) -> Result<PersonioAbsenceView, String> {
    let info = catalogue.get(&period.absence_type.id);
    let approval = match period.status() {
        Some(pw::AbsenceStatus::Pending) => PersonioApproval::Pending,
        Some(pw::AbsenceStatus::Approved) => PersonioApproval::Approved,
        Some(pw::AbsenceStatus::Rejected) => PersonioApproval::Rejected,
        Some(pw::AbsenceStatus::Cancelled) => PersonioApproval::Cancelled,
        Some(pw::AbsenceStatus::Other(s)) => PersonioApproval::Other(s.clone()),
        None => PersonioApproval::Other("(missing)".to_string()),
    };
    Ok(PersonioAbsenceView {
        id: period.id.clone(),
        person_id: period.person.id.clone(),
        absence_type_id: period.absence_type.id.clone(),
        absence_type_name: info.and_then(|i| i.name.clone()),
        unit: info.map_or(AbsenceUnit::Day, |i| i.unit),
        starts_from: boundary(&period.starts_from, "starts_from")?,
        ends_at: period
            .ends_at
            .as_ref()
            .map(|b| boundary(b, "ends_at"))
            .transpose()?,
        approval,
    })
}

fn boundary(b: &pw::AbsenceBoundary, field: &str) -> Result<Boundary, String> {
    let half = match &b.half_day {
        None => None,
        Some(pw::HalfDay::FirstHalf) => Some(HalfDay::FirstHalf),
        Some(pw::HalfDay::SecondHalf) => Some(HalfDay::SecondHalf),
        Some(pw::HalfDay::Other(s)) => {
            return Err(format!(
                "{field}.type {s:?} is neither FIRST_HALF nor SECOND_HALF"
            ))
        }
    };
    Ok(Boundary {
        date_time: b.date_time,
        half,
    })
}

fn wire_boundary(b: Boundary) -> pw::AbsenceBoundary {
    pw::AbsenceBoundary {
        date_time: b.date_time,
        half_day: b.half.map(|h| match h {
            HalfDay::FirstHalf => pw::HalfDay::FirstHalf,
            HalfDay::SecondHalf => pw::HalfDay::SecondHalf,
        }),
    }
}

/// Body of `POST /v2/absence-periods`. No comment, no substitute: neither is part of the canonical
/// absence.
pub(crate) fn personio_new_period(fields: &PersonioAbsenceFields) -> pw::NewAbsencePeriod {
    pw::NewAbsencePeriod {
        person: pw::IdRef::new(fields.person_id.clone()),
        absence_type: pw::IdRef::new(fields.absence_type_id.clone()),
        starts_from: wire_boundary(fields.starts_from),
        ends_at: Some(wire_boundary(fields.ends_at)),
        comment: None,
        substitute: None,
    }
}

/// Body of `PATCH /v2/absence-periods/{id}`: both boundaries (the comment is left alone).
pub(crate) fn personio_patch(fields: &PersonioAbsenceFields) -> pw::AbsencePatch {
    pw::AbsencePatch {
        starts_from: Some(wire_boundary(fields.starts_from)),
        ends_at: Some(wire_boundary(fields.ends_at)),
        comment: None,
    }
}

/// A TimeTrack absence as the workflow's view, for the Personio person `employee` of its user.
pub(crate) fn timetrack_view(absence: &tw::Absence, employee: &str) -> TimeTrackAbsenceView {
    TimeTrackAbsenceView {
        id: absence.id,
        employee: employee.to_string(),
        from: absence.from,
        to: absence.to,
        absence_type_id: absence.absence_type,
        absence_type_name: absence.absence_type_name.clone(),
        status: absence.status.code(),
    }
}

/// Body of `POST /absences`, status included (TimeTrack accepts it on create).
pub(crate) fn timetrack_new_absence(
    fields: &TimeTrackAbsenceFields,
) -> Result<tw::NewAbsence, String> {
    let status = tw::AbsenceStatus::from_code(fields.status)
        .ok_or_else(|| format!("status code {} is not 0, 1 or 2", fields.status))?;
    Ok(tw::NewAbsence {
        username: fields.username.clone(),
        from: fields.from,
        to: fields.to,
        absence_type: fields.absence_type_id,
        status: Some(status),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn period(json: serde_json::Value) -> pw::AbsencePeriod {
        serde_json::from_value(json).unwrap()
    }

    fn catalogue() -> HashMap<String, PersonioTypeInfo> {
        personio_catalogue(&[
            serde_json::from_value(serde_json::json!({"id":"vac","name":"Vacation","unit":"DAY"}))
                .unwrap(),
            serde_json::from_value(serde_json::json!({"id":"ot","name":"Overtime","unit":"HOUR"}))
                .unwrap(),
            serde_json::from_value(serde_json::json!({"id":"odd","name":"Odd","unit":"WEEK"}))
                .unwrap(),
        ])
    }

    #[test]
    fn catalogue_keeps_known_units_only() {
        let c = catalogue();
        assert_eq!(c["vac"].unit, AbsenceUnit::Day);
        assert_eq!(c["ot"].unit, AbsenceUnit::Hour);
        assert!(!c.contains_key("odd"));
    }

    #[test]
    fn reads_the_reference_example() {
        let p = period(serde_json::json!({
            "id":"5d9e","person":{"id":"7788"},"absence_type":{"id":"vac"},
            "starts_from":{"date_time":"2025-07-14T00:00:00","type":"FIRST_HALF"},
            "ends_at":{"date_time":"2025-07-18T00:00:00","type":"FIRST_HALF"},
            "timezone_id":"Europe/Berlin","approval":{"status":"PENDING"}
        }));
        let v = personio_view(&p, &catalogue()).unwrap();
        assert_eq!(v.person_id, "7788");
        assert_eq!(v.absence_type_name.as_deref(), Some("Vacation"));
        assert_eq!(v.starts_from.half, Some(HalfDay::FirstHalf));
        assert_eq!(
            v.ends_at.map(|b| (b.date_time.date(), b.half)),
            Some((date(2025, 7, 18), Some(HalfDay::FirstHalf)))
        );
        assert_eq!(v.approval, PersonioApproval::Pending);
    }

    #[test]
    fn unknown_markers_and_missing_status_are_not_guessed() {
        let odd_half = period(serde_json::json!({
            "id":"1","person":{"id":"7788"},"absence_type":{"id":"vac"},
            "starts_from":{"date_time":"2025-07-14T00:00:00","type":"MORNING"},
            "ends_at":null,"approval":{"status":"APPROVED"}
        }));
        assert!(personio_view(&odd_half, &catalogue())
            .unwrap_err()
            .contains("MORNING"));
        let no_status = period(serde_json::json!({
            "id":"1","person":{"id":"7788"},"absence_type":{"id":"vac"},
            "starts_from":{"date_time":"2025-07-14T00:00:00"}
        }));
        let v = personio_view(&no_status, &catalogue()).unwrap();
        assert!(matches!(v.approval, PersonioApproval::Other(_)));
        assert_eq!(v.ends_at, None);
    }

    #[test]
    fn write_bodies_carry_the_half_day_markers() {
        let fields = PersonioAbsenceFields {
            person_id: "7788".into(),
            absence_type_id: "vac".into(),
            starts_from: Boundary {
                date_time: date(2026, 3, 2).at(0, 0, 0, 0),
                half: None,
            },
            ends_at: Boundary {
                date_time: date(2026, 3, 2).at(0, 0, 0, 0),
                half: Some(HalfDay::FirstHalf),
            },
            status: super::super::canonical::AbsenceStatus::Approved,
        };
        let body = serde_json::to_value(personio_new_period(&fields)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "person":{"id":"7788"},"absence_type":{"id":"vac"},
                "starts_from":{"date_time":"2026-03-02T00:00:00"},
                "ends_at":{"date_time":"2026-03-02T00:00:00","type":"FIRST_HALF"}
            })
        );
        let patch = serde_json::to_value(personio_patch(&fields)).unwrap();
        assert_eq!(patch["ends_at"]["type"], "FIRST_HALF");
        assert!(patch.get("comment").is_none());
    }

    #[test]
    fn timetrack_create_body_carries_status() {
        let body = timetrack_new_absence(&TimeTrackAbsenceFields {
            username: "lena.vogt".into(),
            from: date(2026, 3, 2),
            to: date(2026, 3, 3),
            absence_type_id: 1,
            status: 2,
        })
        .unwrap();
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            serde_json::json!({"username":"lena.vogt","from":"2026-03-02","to":"2026-03-03","absenceType":1,"status":2})
        );
    }
}
