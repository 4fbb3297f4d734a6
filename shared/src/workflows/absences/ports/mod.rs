//! The two side ports of the absences workflow: Personio absence periods and TimeTrack absences, each
//! read and written as canonical [`Absence`]s.
//!
//! Both ports list the same set for a window: the absences whose **first day** (the anchor date) lies
//! in it. Personio matches its date filters by overlap and TimeTrack's `from`/`to` filter by overlap
//! too, so each port asks for the window and keeps the records starting inside it. Absences of
//! employees who are not linked (no employee mapping) are out of the sync's scope and not listed.
//!
//! What each system cannot express is refused with a precise message instead of being written
//! differently (see `docs/workflows/absences.md`):
//! - Personio sets approval itself. `POST`/`PATCH` with `skip_approval=true` yields APPROVED, without
//!   it a new period (or a new time range) is PENDING. Nothing in the API rejects a period or turns an
//!   approved one back to pending without changing its dates, and person and type are not patchable.
//! - TimeTrack changes only `status` in place; anything else is create-new-then-delete-old, and the
//!   update returns the new id (the engine moves the mapping to it).
use std::collections::HashMap;

use super::canonical::NotSyncable;
use super::type_map::AbsenceTypeMap;
use super::wire::PersonioTypeInfo;
use crate::domain::{DateWindow, ScopeEntry};
use crate::engine::{PortError, PortErrorClass};
use crate::workflows::directory::EmployeeDirectory;

mod personio;
mod timetrack;

pub(crate) use personio::{AbsenceClaims, PersonioAbsences};
pub(crate) use timetrack::TimeTrackAbsences;

/// What a run knows about its configuration, shared by both ports.
#[derive(Debug)]
pub(crate) struct AbsenceContext {
    pub types: AbsenceTypeMap,
    /// `/v2/absence-types`, read once per run.
    pub catalogue: HashMap<String, PersonioTypeInfo>,
    pub directory: EmployeeDirectory,
    /// `settings.personio.skip_approval`: whether this integration may write approved periods.
    pub skip_approval_allowed: bool,
}

/// The class of a record that cannot be synced: what no retry can fix parks at once.
fn not_syncable_class(reason: &NotSyncable) -> PortErrorClass {
    match reason {
        NotSyncable::UnmappedType { .. }
        | NotSyncable::HourlyType { .. }
        | NotSyncable::NotRepresentableInTimeTrack { .. } => PortErrorClass::Refused,
        _ => PortErrorClass::Invalid,
    }
}

/// The days of an absences scope entry (they always have days).
fn scope_days(entry: &ScopeEntry) -> Result<DateWindow, PortError> {
    entry.days.ok_or_else(|| {
        PortError::new(
            PortErrorClass::Fatal,
            format!("absences need days to list person {}", entry.person),
        )
    })
}

fn refused(message: impl Into<String>) -> PortError {
    PortError::new(PortErrorClass::Refused, message)
}

#[cfg(test)]
mod tests {
    use super::personio::{personio_create_approval, personio_update, PersonioUpdate};
    use super::*;
    use crate::workflows::absences::canonical::{Absence, AbsenceStatus};
    use jiff::civil::date;

    fn absence(status: AbsenceStatus, end_day: i8) -> Absence {
        Absence::new(
            "7788",
            "vac",
            date(2026, 5, 4),
            date(2026, 5, end_day),
            false,
            false,
            status,
        )
        .unwrap()
    }

    use AbsenceStatus::{Approved, Pending, Rejected};

    #[test]
    fn creates_approved_with_skip_pending_without_and_refuses_rejected() {
        assert_eq!(
            personio_create_approval(&absence(Approved, 8), true),
            Ok(true)
        );
        assert_eq!(
            personio_create_approval(&absence(Pending, 8), true),
            Ok(false)
        );
        assert_eq!(
            personio_create_approval(&absence(Pending, 8), false),
            Ok(false)
        );
        let e = personio_create_approval(&absence(Rejected, 8), true).unwrap_err();
        assert_eq!(e.class, PortErrorClass::Refused);
        assert!(e.message.contains("rejected absence cannot be created"));
        let e = personio_create_approval(&absence(Approved, 8), false).unwrap_err();
        assert!(e.message.contains("personio.skip_approval = false"));
    }

    #[test]
    fn approval_and_date_changes_are_patches() {
        // Approved in TimeTrack → approve in Personio.
        assert_eq!(
            personio_update(&absence(Pending, 8), &absence(Approved, 8), true),
            Ok(PersonioUpdate::Patch {
                skip_approval: true
            })
        );
        // New dates, still approved: skip_approval keeps it approved.
        assert_eq!(
            personio_update(&absence(Approved, 8), &absence(Approved, 7), true),
            Ok(PersonioUpdate::Patch {
                skip_approval: true
            })
        );
        // New dates of a pending absence.
        assert_eq!(
            personio_update(&absence(Pending, 8), &absence(Pending, 7), true),
            Ok(PersonioUpdate::Patch {
                skip_approval: false
            })
        );
        // An approved absence with new dates that is pending again in the target.
        assert_eq!(
            personio_update(&absence(Approved, 8), &absence(Pending, 7), true),
            Ok(PersonioUpdate::Patch {
                skip_approval: false
            })
        );
        assert_eq!(
            personio_update(&absence(Rejected, 8), &absence(Rejected, 8), true),
            Ok(PersonioUpdate::Nothing)
        );
    }

    #[test]
    fn what_personio_cannot_express_is_refused() {
        for (current, target) in [
            (absence(Approved, 8), absence(Pending, 8)),
            (absence(Approved, 8), absence(Rejected, 8)),
            (absence(Pending, 8), absence(Rejected, 8)),
            (absence(Rejected, 8), absence(Rejected, 7)),
        ] {
            let e = personio_update(&current, &target, true).unwrap_err();
            assert_eq!(e.class, PortErrorClass::Refused, "{current:?} → {target:?}");
        }
        let e = personio_update(&absence(Pending, 8), &absence(Approved, 8), false).unwrap_err();
        assert!(e.message.contains("skip_approval"));
        let other_type = Absence {
            personio_type_id: "sick".into(),
            ..absence(Approved, 8)
        };
        let e = personio_update(&absence(Approved, 8), &other_type, true).unwrap_err();
        assert!(e.message.contains("person or type"));
    }

    #[test]
    fn only_no_retry_cases_park_at_once() {
        assert_eq!(
            not_syncable_class(&NotSyncable::NotRepresentableInTimeTrack { reason: "x".into() }),
            PortErrorClass::Refused
        );
        assert_eq!(
            not_syncable_class(&NotSyncable::InvalidPeriod { reason: "x".into() }),
            PortErrorClass::Invalid
        );
    }
}
