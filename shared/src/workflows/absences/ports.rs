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
use std::sync::Arc;

use async_trait::async_trait;
use jiff::civil::Time;

use super::canonical::{Absence, AbsenceStatus, NotSyncable};
use super::personio::{from_personio, to_personio};
use super::timetrack::{from_timetrack, timetrack_change, to_timetrack, TimeTrackChange};
use super::type_map::AbsenceTypeMap;
use super::wire::{
    personio_new_period, personio_patch, personio_view, timetrack_new_absence, timetrack_view,
    PersonioTypeInfo,
};
use crate::connectors::personio::{AbsenceFilter, PersonioClient};
use crate::connectors::timetrack::{AbsenceQuery, AbsenceStatus as TtStatus, TimeTrackClient};
use crate::connectors::ErrorClass;
use crate::domain::{DateWindow, System};
use crate::engine::{Listing, PortError, PortErrorClass, Record, Rejected, SidePort};
use crate::workflows::directory::EmployeeDirectory;
use crate::workflows::port_error;

/// What a run knows about its configuration, shared by both ports.
#[derive(Debug)]
pub struct AbsenceContext {
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

fn refused(message: impl Into<String>) -> PortError {
    PortError::new(PortErrorClass::Refused, message)
}

// ================================== Personio ======================================================

/// How a Personio period is brought from its current canonical value to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonioUpdate {
    Nothing,
    /// `PATCH` both boundaries, with or without `skip_approval`.
    Patch {
        skip_approval: bool,
    },
}

/// Whether a create of `target` needs `skip_approval` (APPROVED) or not (PENDING); a rejected absence
/// cannot be created through the API.
pub fn personio_create_approval(
    target: &Absence,
    skip_approval_allowed: bool,
) -> Result<bool, PortError> {
    match target.status {
        AbsenceStatus::Pending => Ok(false),
        AbsenceStatus::Approved if skip_approval_allowed => Ok(true),
        AbsenceStatus::Approved => Err(refused(
            "Personio would create this approved absence as PENDING: writing approved absences needs \
             skip_approval, which the settings turn off (personio.skip_approval = false)",
        )),
        AbsenceStatus::Rejected => Err(refused(
            "a rejected absence cannot be created in Personio: its API sets approval itself \
             (PENDING, or APPROVED with skip_approval) and has no way to write REJECTED",
        )),
    }
}

/// The write that makes Personio hold `target`, given what it holds now. Personio's rules (as the
/// reference and the simulator have them): `skip_approval` makes the period APPROVED; a new time
/// range without it makes it PENDING; otherwise the status stays. Person and type are not patchable.
pub fn personio_update(
    current: &Absence,
    target: &Absence,
    skip_approval_allowed: bool,
) -> Result<PersonioUpdate, PortError> {
    if current.employee != target.employee || current.personio_type_id != target.personio_type_id {
        return Err(refused(format!(
            "Personio cannot change the person or type of an absence period ({}/{} → {}/{}); \
             delete it in the master system and create the new one",
            current.employee, current.personio_type_id, target.employee, target.personio_type_id
        )));
    }
    let time_changed = (
        current.start,
        current.end,
        current.starts_midday,
        current.ends_midday,
    ) != (
        target.start,
        target.end,
        target.starts_midday,
        target.ends_midday,
    );
    match (target.status, current.status, time_changed) {
        (t, c, false) if t == c => Ok(PersonioUpdate::Nothing),
        (AbsenceStatus::Approved, _, _) if skip_approval_allowed => Ok(PersonioUpdate::Patch {
            skip_approval: true,
        }),
        (AbsenceStatus::Approved, _, _) => Err(refused(
            "Personio would make this absence PENDING: keeping or making it approved needs \
             skip_approval, which the settings turn off (personio.skip_approval = false)",
        )),
        (AbsenceStatus::Pending, _, true) => Ok(PersonioUpdate::Patch {
            skip_approval: false,
        }),
        (AbsenceStatus::Pending, c, false) => Err(refused(format!(
            "Personio's API cannot set a {} absence back to pending without changing its dates; \
             change its approval in Personio",
            status_word(c)
        ))),
        (AbsenceStatus::Rejected, c, time_changed) => Err(refused(format!(
            "Personio's API cannot reject an absence period{} (it is {} there); reject it in \
             Personio",
            if time_changed {
                " or keep it rejected with new dates"
            } else {
                ""
            },
            status_word(c)
        ))),
    }
}

fn status_word(s: AbsenceStatus) -> &'static str {
    match s {
        AbsenceStatus::Pending => "pending",
        AbsenceStatus::Approved => "approved",
        AbsenceStatus::Rejected => "rejected",
    }
}

/// Personio absence periods as canonical absences.
pub struct PersonioAbsences {
    client: Arc<PersonioClient>,
    context: Arc<AbsenceContext>,
}

impl PersonioAbsences {
    pub fn new(client: Arc<PersonioClient>, context: Arc<AbsenceContext>) -> Self {
        Self { client, context }
    }

    /// A period in canonical form; `Ok(None)` for a cancelled period (Personio's way of withdrawing
    /// an absence: it counts as deleted).
    fn canonical(
        &self,
        period: &crate::connectors::personio::AbsencePeriod,
    ) -> Result<Option<Absence>, String> {
        let ctx = &self.context;
        if ctx.types.for_personio(&period.absence_type.id).is_some()
            && !ctx.catalogue.contains_key(&period.absence_type.id)
        {
            return Err(format!(
                "Personio absence type {} is mapped but not listed by /v2/absence-types (or has an \
                 unknown unit); check the mapping",
                period.absence_type.id
            ));
        }
        let view = personio_view(period, &ctx.catalogue)?;
        match from_personio(&view, &ctx.types) {
            Ok(a) => Ok(Some(a)),
            Err(NotSyncable::Cancelled) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn current(&self, id: &str) -> Result<Absence, PortError> {
        let period = self
            .client
            .get_absence_period(id)
            .await
            .map_err(|e| port_error::from_personio("get absence period", &e))?;
        match self.canonical(&period) {
            Ok(Some(a)) => Ok(a),
            Ok(None) => Err(PortError::new(
                PortErrorClass::NotFound,
                format!("Personio absence period {id} is cancelled"),
            )),
            Err(reason) => Err(PortError::new(
                PortErrorClass::Invalid,
                format!("Personio absence period {id}: {reason}"),
            )),
        }
    }
}

#[async_trait]
impl SidePort<Absence> for PersonioAbsences {
    fn system(&self) -> System {
        System::Personio
    }

    async fn list(&self, window: &DateWindow) -> Result<Listing<Absence>, PortError> {
        let filter = AbsenceFilter {
            starts_from_gte: Some(window.from.to_datetime(Time::midnight())),
            starts_from_lte: Some(window.to.at(23, 59, 59, 0)),
            ..AbsenceFilter::default()
        };
        let listing = self
            .client
            .list_absence_periods(&filter)
            .await
            .map_err(|e| port_error::from_personio("list absence periods", &e))?;
        let mut out = Listing::default();
        for bad in listing.malformed {
            out.rejected.push(Rejected {
                id: bad.id,
                reason: format!("unreadable Personio absence period: {}", bad.error),
            });
        }
        for period in listing.items {
            if !window.contains(period.starts_from.date_time.date())
                || self
                    .context
                    .directory
                    .username_for_person(&period.person.id)
                    .is_none()
            {
                continue;
            }
            match self.canonical(&period) {
                Ok(Some(value)) => out.records.push(Record::new(period.id.clone(), value)),
                Ok(None) => {}
                Err(reason) => out.rejected.push(Rejected {
                    id: Some(period.id.clone()),
                    reason,
                }),
            }
        }
        Ok(out)
    }

    async fn get(&self, id: &str) -> Result<Option<Record<Absence>>, PortError> {
        match self.current(id).await {
            Ok(value) => Ok(Some(Record::new(id, value))),
            Err(e) if e.class == PortErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create(&self, value: &Absence) -> Result<String, PortError> {
        let skip = personio_create_approval(value, self.context.skip_approval_allowed)?;
        let body = personio_new_period(&to_personio(value));
        self.client
            .create_absence_period(&body, skip)
            .await
            .map_err(|e| port_error::from_personio("create absence period", &e))
    }

    async fn update(
        &self,
        id: &str,
        value: &Absence,
        _previous: Option<&Absence>,
    ) -> Result<String, PortError> {
        // Read what Personio holds now rather than trust `previous`: the approval rules depend on the
        // current status, and a wrong guess would write a status the user never chose.
        let current = self.current(id).await?;
        match personio_update(&current, value, self.context.skip_approval_allowed)? {
            PersonioUpdate::Nothing => {}
            PersonioUpdate::Patch { skip_approval } => {
                let patch = personio_patch(&to_personio(value));
                self.client
                    .update_absence_period(id, &patch, skip_approval)
                    .await
                    .map_err(|e| port_error::from_personio("update absence period", &e))?;
            }
        }
        Ok(id.to_string())
    }

    async fn delete(&self, id: &str) -> Result<(), PortError> {
        self.client
            .delete_absence_period(id)
            .await
            .map_err(|e| port_error::from_personio("delete absence period", &e))
    }
}

// ================================== TimeTrack =====================================================

/// TimeTrack absences as canonical absences.
pub struct TimeTrackAbsences {
    client: Arc<TimeTrackClient>,
    context: Arc<AbsenceContext>,
}

impl TimeTrackAbsences {
    pub fn new(client: Arc<TimeTrackClient>, context: Arc<AbsenceContext>) -> Self {
        Self { client, context }
    }

    fn canonical(
        &self,
        absence: &crate::connectors::timetrack::Absence,
    ) -> Result<Absence, String> {
        let person = self
            .context
            .directory
            .person_for_username(&absence.user)
            .ok_or_else(|| {
                format!(
                    "TimeTrack user {} is not linked to a Personio person; run the employees sync first",
                    absence.user
                )
            })?;
        from_timetrack(&timetrack_view(absence, person), &self.context.types)
            .map_err(|e| e.to_string())
    }

    fn numeric_id(id: &str) -> Result<i64, PortError> {
        id.parse().map_err(|_| {
            PortError::new(
                PortErrorClass::Invalid,
                format!("TimeTrack absence id {id:?} is not a number"),
            )
        })
    }

    async fn current(&self, id: &str) -> Result<Absence, PortError> {
        let absence = self
            .client
            .get_absence(Self::numeric_id(id)?)
            .await
            .map_err(|e| port_error::from_timetrack("get absence", &e))?;
        self.canonical(&absence).map_err(|reason| {
            PortError::new(
                PortErrorClass::Invalid,
                format!("TimeTrack absence {id}: {reason}"),
            )
        })
    }
}

#[async_trait]
impl SidePort<Absence> for TimeTrackAbsences {
    fn system(&self) -> System {
        System::TimeTrack
    }

    async fn list(&self, window: &DateWindow) -> Result<Listing<Absence>, PortError> {
        let query = AbsenceQuery {
            from: Some(window.from),
            to: Some(window.to),
            ..AbsenceQuery::default()
        };
        let listing = self
            .client
            .list_absences(&query)
            .await
            .map_err(|e| port_error::from_timetrack("list absences", &e))?;
        let mut out = Listing::default();
        for bad in listing.malformed {
            out.rejected.push(Rejected {
                id: bad.id,
                reason: format!("unreadable TimeTrack absence: {}", bad.error),
            });
        }
        for absence in listing.items {
            if !window.contains(absence.from)
                || self
                    .context
                    .directory
                    .person_for_username(&absence.user)
                    .is_none()
            {
                continue;
            }
            let id = absence.id.to_string();
            match self.canonical(&absence) {
                Ok(value) => out.records.push(Record::new(id, value)),
                Err(reason) => out.rejected.push(Rejected {
                    id: Some(id),
                    reason,
                }),
            }
        }
        Ok(out)
    }

    async fn get(&self, id: &str) -> Result<Option<Record<Absence>>, PortError> {
        match self.current(id).await {
            Ok(value) => Ok(Some(Record::new(id, value))),
            Err(e) if e.class == PortErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create(&self, value: &Absence) -> Result<String, PortError> {
        let username = self
            .context
            .directory
            .username_for_person(&value.employee)
            .ok_or_else(|| {
                refused(format!(
                    "Personio person {} is not linked to a TimeTrack user; run the employees sync first",
                    value.employee
                ))
            })?;
        let fields = to_timetrack(value, username, &self.context.types)
            .map_err(|e| PortError::new(not_syncable_class(&e), e.to_string()))?;
        let body = timetrack_new_absence(&fields)
            .map_err(|reason| PortError::new(PortErrorClass::Invalid, reason))?;
        let id = self
            .client
            .create_absence(&body)
            .await
            .map_err(|e| port_error::from_timetrack("create absence", &e))?;
        Ok(id.to_string())
    }

    /// Status only: `PUT` in place. Anything else: create the new absence first, then delete the old
    /// one, and return the new id — so that at every moment the absence exists in TimeTrack (never
    /// zero times; twice only between the two calls). If the delete fails, the new absence is deleted
    /// again and the update fails as a whole, leaving exactly the old absence and its mapping.
    async fn update(
        &self,
        id: &str,
        value: &Absence,
        previous: Option<&Absence>,
    ) -> Result<String, PortError> {
        let current = match previous {
            Some(p) => p.clone(),
            None => self.current(id).await?,
        };
        match timetrack_change(&current, value) {
            TimeTrackChange::Unchanged => Ok(id.to_string()),
            TimeTrackChange::StatusOnly(code) => {
                let status = TtStatus::from_code(code).ok_or_else(|| {
                    PortError::new(PortErrorClass::Invalid, format!("status code {code}"))
                })?;
                self.client
                    .update_absence_status(Self::numeric_id(id)?, status)
                    .await
                    .map_err(|e| port_error::from_timetrack("update absence status", &e))?;
                Ok(id.to_string())
            }
            TimeTrackChange::Recreate => {
                let old = Self::numeric_id(id)?;
                let new_id = self.create(value).await?;
                match self.client.delete_absence(old).await {
                    Ok(()) => Ok(new_id),
                    Err(e) if e.class() == ErrorClass::NotFound => Ok(new_id),
                    Err(e) => {
                        let cause = port_error::from_timetrack("delete replaced absence", &e);
                        let rollback = match new_id.parse::<i64>() {
                            Ok(n) => self.client.delete_absence(n).await.err(),
                            Err(_) => None,
                        };
                        Err(PortError::new(
                            cause.class,
                            match rollback {
                                None => format!(
                                    "{}; the replacement {new_id} was deleted again",
                                    cause.message
                                ),
                                Some(r) => format!(
                                    "{}; deleting the replacement {new_id} failed too ({r}): \
                                     TimeTrack holds both {id} and {new_id}",
                                    cause.message
                                ),
                            },
                        ))
                    }
                }
            }
        }
    }

    async fn delete(&self, id: &str) -> Result<(), PortError> {
        self.client
            .delete_absence(Self::numeric_id(id)?)
            .await
            .map_err(|e| port_error::from_timetrack("delete absence", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
