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
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::civil::{Date, Time};
use jiff::ToSpan;

use super::canonical::{Absence, AbsenceStatus, NotSyncable};
use super::overlap::{overlap_outcome, OverlapOutcome, Overlapping};
use super::parts::{from_timetrack_group, group_parts, TimeTrackGroup};
use super::personio::{from_personio, to_personio};
use super::timetrack::{
    recorded_part, timetrack_change, to_timetrack, TimeTrackAbsenceFields, TimeTrackAbsenceView,
    TimeTrackChange,
};
use super::type_map::AbsenceTypeMap;
use super::wire::{
    personio_new_period, personio_patch, personio_view, timetrack_new_absence, timetrack_view,
    PersonioTypeInfo,
};
use crate::connectors::personio::{AbsenceFilter, PersonioClient, PersonioError};
use crate::connectors::timetrack::{
    Absence as TtAbsence, AbsenceQuery, AbsenceStatus as TtStatus, TimeTrackClient,
};
use crate::connectors::ErrorClass;
use crate::domain::{DateWindow, EntityKind, IntegrationId, ScopeEntry};
use crate::engine::{
    HintFamily, Listing, Located, PortError, PortErrorClass, Record, Rejected, SidePort,
    Unrecorded, WriteJournal,
};
use crate::store::StateStore;
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

/// Which Personio absence periods a mapping already links: asked only after a 409 overlap, so that
/// an overlapping period that is the same absence is adopted only if nothing else claims it.
pub struct AbsenceClaims {
    pub store: Arc<dyn StateStore>,
    pub integration_id: IntegrationId,
}

impl AbsenceClaims {
    /// Personio ids of the absence mappings anchored on `day` (the first day of an absence is its
    /// anchor, so a mapping of the same absence is among them).
    async fn personio_ids_anchored_on(&self, day: Date) -> Result<HashSet<String>, PortError> {
        let window = DateWindow { from: day, to: day };
        let mappings = self
            .store
            .list_mappings(&self.integration_id, EntityKind::Absence, Some(&window))
            .await
            .map_err(|e| {
                PortError::new(
                    PortErrorClass::Transient,
                    format!("reading the absence mappings after a Personio overlap: {e}"),
                )
            })?;
        Ok(mappings.into_iter().filter_map(|m| m.personio_id).collect())
    }
}

/// Personio absence periods as canonical absences.
pub struct PersonioAbsences {
    client: Arc<PersonioClient>,
    context: Arc<AbsenceContext>,
    claims: AbsenceClaims,
    /// The periods this run's listing returned: the planner has paired each one that matches an
    /// absence (or knows it is mapped), so a 409 never adopts one of them a second time.
    listed: Mutex<HashSet<String>>,
}

impl PersonioAbsences {
    pub fn new(
        client: Arc<PersonioClient>,
        context: Arc<AbsenceContext>,
        claims: AbsenceClaims,
    ) -> Self {
        Self {
            client,
            context,
            claims,
            listed: Mutex::new(HashSet::new()),
        }
    }

    fn listed(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A panic elsewhere cannot leave the set half-written (inserts only): keep using it.
        self.listed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Personio refused writing `target` (the update of `own_id`, or a create) as overlapping: look
    /// up the person's periods on those days and adopt the one that is this absence, or refuse naming
    /// them (see [`super::overlap`]). `refusal` is Personio's answer, kept in the reason.
    async fn on_overlap(
        &self,
        target: &Absence,
        own_id: Option<&str>,
        refusal: &PersonioError,
    ) -> Result<String, PortError> {
        let filter = AbsenceFilter {
            person_ids: vec![target.employee.clone()],
            starts_from_lte: Some(target.end.at(23, 59, 59, 0)),
            ends_at_gte: Some(target.start.to_datetime(Time::midnight())),
            ..AbsenceFilter::default()
        };
        let listing = self
            .client
            .list_absence_periods(&filter)
            .await
            .map_err(|e| {
                let lookup = port_error::from_personio("list overlapping absence periods", &e);
                PortError::new(
                    lookup.class,
                    format!(
                        "Personio refused the absence as overlapping ({refusal}); {}",
                        lookup.message
                    ),
                )
            })?;
        let overlapping: Vec<Overlapping> = listing
            .items
            .iter()
            .filter(|p| p.person.id == target.employee)
            .map(|p| Overlapping {
                id: p.id.clone(),
                value: self.canonical(p),
            })
            .collect();
        let claimed = if own_id.is_none() {
            let mut claimed = self.claims.personio_ids_anchored_on(target.start).await?;
            claimed.extend(self.listed().iter().cloned());
            claimed
        } else {
            HashSet::new()
        };
        match overlap_outcome(target, own_id, &overlapping, &claimed) {
            OverlapOutcome::Adopt(id) => {
                tracing::info!(period = %id, "adopted the overlapping Personio period that is the same absence");
                Ok(id)
            }
            OverlapOutcome::Refuse(reason) => Err(refused(format!("{reason} [{refusal}]"))),
        }
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

    /// The absence periods whose first day lies in `window` (of one person, when given).
    async fn periods_in(
        &self,
        person: Option<&str>,
        window: &DateWindow,
    ) -> Result<Listing<Absence>, PortError> {
        let filter = AbsenceFilter {
            person_ids: person.map(|p| vec![p.to_string()]).unwrap_or_default(),
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
        self.listed()
            .extend(listing.items.iter().map(|p| p.id.clone()));
        for bad in listing.malformed {
            out.rejected.push(Rejected::unreadable(
                bad.id,
                "Personio absence period",
                &bad.error,
            ));
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
    async fn list(&self, window: &DateWindow) -> Result<Listing<Absence>, PortError> {
        self.periods_in(None, window).await
    }

    /// The person's absences whose first day lies in the entry's days (person and date filters).
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<Absence>, PortError> {
        let window = scope_days(entry)?;
        self.periods_in(Some(&entry.person), &window).await
    }

    /// An absence period's person and its range of days (an open end: its first day).
    async fn locate(&self, family: HintFamily, id: &str) -> Result<Located, PortError> {
        if family != HintFamily::AbsencePeriod {
            return Ok(Located::NotHandled);
        }
        let period = match self.client.get_absence_period(id).await {
            Ok(p) => p,
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(Located::Gone),
            Err(e) => return Err(port_error::from_personio("get absence period", &e)),
        };
        let from = period.starts_from.date_time.date();
        let to = period
            .ends_at
            .map(|e| e.date_time.date())
            .filter(|&to| to >= from)
            .unwrap_or(from);
        Ok(Located::Found(ScopeEntry {
            person: period.person.id,
            days: Some(DateWindow { from, to }),
        }))
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
        match self.client.create_absence_period(&body, skip).await {
            Ok(id) => Ok(id),
            Err(e) if e.class() == ErrorClass::Conflict => self.on_overlap(value, None, &e).await,
            Err(e) => Err(port_error::from_personio("create absence period", &e)),
        }
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
                match self
                    .client
                    .update_absence_period(id, &patch, skip_approval)
                    .await
                {
                    Ok(()) => {}
                    Err(e) if e.class() == ErrorClass::Conflict => {
                        self.on_overlap(value, Some(id), &e).await?;
                    }
                    Err(e) => return Err(port_error::from_personio("update absence period", &e)),
                }
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

/// TimeTrack absences as canonical absences. One canonical absence may be several TimeTrack absences
/// (a half first or last day is its own half-day absence, see [`super::parts`]); the port lists, reads
/// and writes the group and names it by its principal id.
pub struct TimeTrackAbsences {
    client: Arc<TimeTrackClient>,
    context: Arc<AbsenceContext>,
}

impl TimeTrackAbsences {
    pub fn new(client: Arc<TimeTrackClient>, context: Arc<AbsenceContext>) -> Self {
        Self { client, context }
    }

    /// The view of an absence of a linked user; `None` for an unlinked user (out of scope).
    fn view(&self, absence: &TtAbsence) -> Option<TimeTrackAbsenceView> {
        let person = self.context.directory.person_for_username(&absence.user)?;
        Some(timetrack_view(absence, person))
    }

    fn canonical(&self, group: &TimeTrackGroup) -> Result<Absence, String> {
        from_timetrack_group(group, &self.context.types).map_err(|e| e.to_string())
    }

    fn numeric_id(id: &str) -> Result<i64, PortError> {
        id.parse().map_err(|_| {
            PortError::new(
                PortErrorClass::Invalid,
                format!("TimeTrack absence id {id:?} is not a number"),
            )
        })
    }

    /// The absences overlapping `[from, to]` (of one user, if given), by id; unreadable ones go to
    /// `rejected`.
    async fn absences(
        &self,
        username: Option<&str>,
        from: Date,
        to: Date,
        into: &mut BTreeMap<i64, TtAbsence>,
        rejected: &mut Vec<Rejected>,
    ) -> Result<(), PortError> {
        let query = AbsenceQuery {
            username: username.map(str::to_string),
            from: Some(from),
            to: Some(to),
            ..AbsenceQuery::default()
        };
        let listing = self
            .client
            .list_absences(&query)
            .await
            .map_err(|e| port_error::from_timetrack("list absences", &e))?;
        for bad in listing.malformed {
            rejected.push(Rejected::unreadable(
                bad.id,
                "TimeTrack absence",
                &bad.error,
            ));
        }
        into.extend(listing.items.into_iter().map(|a| (a.id, a)));
        Ok(())
    }

    /// The absences (of one user, when given) whose first day lies in the window, each as the group of
    /// its parts (see [`SidePort::list`]).
    async fn groups_in(
        &self,
        username: Option<&str>,
        window: &DateWindow,
    ) -> Result<Listing<Absence>, PortError> {
        let mut out = Listing::default();
        let mut all = BTreeMap::new();
        let from = window.from.checked_sub(2.days()).unwrap_or(window.from);
        let to = window.to.checked_add(1.day()).unwrap_or(window.to);
        self.absences(username, from, to, &mut all, &mut out.rejected)
            .await?;
        if let Some(last) = all
            .values()
            .map(|a| a.to)
            .max()
            .filter(|&last| last > window.to)
        {
            if let (Ok(next), Ok(end)) = (to.checked_add(1.day()), last.checked_add(1.day())) {
                self.absences(username, next, end, &mut all, &mut out.rejected)
                    .await?;
            }
        }
        let views = all.values().filter_map(|a| self.view(a)).collect();
        for group in group_parts(views, &self.context.types) {
            if !window.contains(group.first_day()) {
                continue;
            }
            let id = group.principal_id().to_string();
            match self.canonical(&group) {
                Ok(value) => out.records.push(Record::new(id, value)),
                Err(reason) => out.rejected.push(Rejected {
                    id: Some(id),
                    reason,
                }),
            }
        }
        Ok(out)
    }

    /// The absence whose principal part is `id`, with all its parts. `Ok(None)`: `id` is gone, or it
    /// is now the half part of another absence (then that absence is the record, under its own id).
    async fn resolve(&self, id: &str) -> Result<Option<TimeTrackGroup>, PortError> {
        let n = Self::numeric_id(id)?;
        let absence = match self.client.get_absence(n).await {
            Ok(a) => a,
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(None),
            Err(e) => return Err(port_error::from_timetrack("get absence", &e)),
        };
        if self.view(&absence).is_none() {
            return Err(PortError::new(
                PortErrorClass::Invalid,
                format!(
                    "TimeTrack absence {id}: user {} is not linked to a Personio person; run the \
                     employees sync first",
                    absence.user
                ),
            ));
        }
        // Two days either side: the possible halves of this part, and the full parts that could
        // claim those halves first — the same grouping as the listing makes.
        let mut around = BTreeMap::new();
        let mut unreadable = Vec::new();
        self.absences(
            Some(&absence.user),
            absence.from.checked_sub(2.days()).unwrap_or(absence.from),
            absence.to.checked_add(2.days()).unwrap_or(absence.to),
            &mut around,
            &mut unreadable,
        )
        .await?;
        around.insert(absence.id, absence);
        let views = around.values().filter_map(|a| self.view(a)).collect();
        Ok(group_parts(views, &self.context.types)
            .into_iter()
            .find(|g| g.principal_id() == n))
    }

    /// Creates the parts of `value`, principal first (a create cut short leaves the part the mapping
    /// will name, not a lone half day). Returns the ids in creation order; on a failure the parts
    /// already created are deleted again.
    ///
    /// With a `journal` (a create through the engine's pending intent), every part is recorded before
    /// its `POST` (ADR 0030), so a process that dies between two parts leaves a part the next run
    /// recognises as this create's remnant ([`super::kind::AbsenceKind`]'s `is_remnant`) instead of a
    /// new TimeTrack absence. A retry adopts a part an earlier attempt recorded and that exists now
    /// (same user, days and type, not yet taken) instead of writing it twice.
    async fn create_parts(
        &self,
        value: &Absence,
        journal: Option<&dyn WriteJournal>,
    ) -> Result<Vec<i64>, PortError> {
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
        let mut parts = to_timetrack(value, username, &self.context.types)
            .map_err(|e| PortError::new(not_syncable_class(&e), e.to_string()))?;
        // Day order is [leading half,] full part [, trailing half]: bring the principal to the front.
        if value.starts_midday && parts.len() > 1 {
            parts.swap(0, 1);
        }
        let earlier = journal.and_then(|j| j.earlier()).unwrap_or_default();
        let mut created = Vec::with_capacity(parts.len());
        for fields in &parts {
            let note = recorded_part(&value.employee, fields);
            if earlier.contains(&note) {
                if let Some(id) = self.find_part(fields, &created).await {
                    tracing::info!(
                        absence = id,
                        "adopted a part an earlier attempt of this create wrote"
                    );
                    created.push(id);
                    continue;
                }
            }
            let result = match timetrack_new_absence(fields) {
                Err(reason) => Err(PortError::new(PortErrorClass::Invalid, reason)),
                Ok(body) => {
                    // Never send a part of a group that is not on record (recording twice is a
                    // no-op). A one-part absence needs no record: its twin has its natural key.
                    let on_record = match journal {
                        Some(journal) if parts.len() > 1 => journal.record(&note).await,
                        _ => Ok(()),
                    };
                    match on_record {
                        Ok(()) => self
                            .client
                            .create_absence(&body)
                            .await
                            .map_err(|e| port_error::from_timetrack("create absence", &e)),
                        Err(e) => Err(e),
                    }
                }
            };
            let result = match result {
                // A later part whose answer was lost (5xx, timeout, dropped connection) may exist:
                // read it back, else the rollback below would leave it behind as a lone half day
                // that the next run takes for a TimeTrack-only absence.
                Err(cause) if !created.is_empty() && cause.class == PortErrorClass::Transient => {
                    match self.find_part(fields, &created).await {
                        Some(id) => Ok(id),
                        None => Err(cause),
                    }
                }
                other => other,
            };
            match result {
                Ok(id) => created.push(id),
                Err(cause) if created.is_empty() => return Err(cause),
                Err(cause) => {
                    let left = self.delete_all(&created).await.err();
                    return Err(PortError::new(
                        cause.class,
                        match left {
                            None => format!(
                                "{} (part {} of {}); the parts created before were deleted again",
                                cause.message,
                                created.len() + 1,
                                parts.len()
                            ),
                            Some((_, r)) => format!(
                                "{} (part {} of {}); deleting the parts created before failed too \
                                 ({}): TimeTrack holds {created:?}",
                                cause.message,
                                created.len() + 1,
                                parts.len(),
                                r.message
                            ),
                        },
                    ));
                }
            }
        }
        Ok(created)
    }

    /// The absence that a create of `fields` made although its answer was lost: the user's absence
    /// with exactly these dates and type that is none of `known`. `None` when there is none or the
    /// read fails (the caller then rolls back as for an unapplied create).
    async fn find_part(&self, fields: &TimeTrackAbsenceFields, known: &[i64]) -> Option<i64> {
        let query = AbsenceQuery {
            username: Some(fields.username.clone()),
            from: Some(fields.from),
            to: Some(fields.to),
            absence_type: Some(fields.absence_type_id),
        };
        let listing = self.client.list_absences(&query).await.ok()?;
        listing
            .items
            .into_iter()
            .find(|a| {
                a.from == fields.from
                    && a.to == fields.to
                    && a.absence_type == fields.absence_type_id
                    && !known.contains(&a.id)
            })
            .map(|a| a.id)
    }

    /// Deletes the given absences in order (already gone is fine). On an error, returns how many
    /// were deleted before it, and the error.
    async fn delete_all(&self, ids: &[i64]) -> Result<(), (usize, PortError)> {
        for (done, &id) in ids.iter().enumerate() {
            match self.client.delete_absence(id).await {
                Ok(()) => {}
                Err(e) if e.class() == ErrorClass::NotFound => {}
                Err(e) => {
                    return Err((
                        done,
                        port_error::from_timetrack(&format!("delete absence {id}"), &e),
                    ))
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl SidePort<Absence> for TimeTrackAbsences {
    /// The absences whose first day lies in the window, each as the group of its parts. The request
    /// reaches two days before the window (a half first day, and a full part that may claim it as its
    /// half last day) and, when a listed part runs past the window, up to the day after its last day
    /// (its half last day).
    async fn list(&self, window: &DateWindow) -> Result<Listing<Absence>, PortError> {
        self.groups_in(None, window).await
    }

    /// The absences of the person's linked user whose first day lies in the entry's days (`username`
    /// filter). A person without a linked user has none here.
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<Absence>, PortError> {
        let window = scope_days(entry)?;
        match self.context.directory.username_for_person(&entry.person) {
            Some(username) => self.groups_in(Some(username), &window).await,
            None => Ok(Listing::default()),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Record<Absence>>, PortError> {
        let Some(group) = self.resolve(id).await? else {
            return Ok(None);
        };
        let value = self.canonical(&group).map_err(|reason| {
            PortError::new(
                PortErrorClass::Invalid,
                format!("TimeTrack absence {id}: {reason}"),
            )
        })?;
        Ok(Some(Record::new(id, value)))
    }
    async fn create(&self, value: &Absence) -> Result<String, PortError> {
        self.create_recorded(value, &Unrecorded).await
    }

    /// Each part is recorded in `journal` before it is sent (see [`TimeTrackAbsences::create_parts`]).
    async fn create_recorded(
        &self,
        value: &Absence,
        journal: &dyn WriteJournal,
    ) -> Result<String, PortError> {
        let created = self.create_parts(value, Some(journal)).await?;
        created
            .first()
            .map(i64::to_string)
            .ok_or_else(|| PortError::new(PortErrorClass::Invalid, "an absence with no parts"))
    }

    /// Status only: `PUT` in place, on every part. Anything else: create the new parts first, then
    /// delete the old ones, and return the new principal id — so that at every moment the absence
    /// exists in TimeTrack (never zero times; twice only between the two steps). If deleting the old
    /// absence fails before any of its parts is gone, the new parts are deleted again and the update
    /// fails as a whole, leaving exactly the old absence and its mapping.
    async fn update(
        &self,
        id: &str,
        value: &Absence,
        _previous: Option<&Absence>,
    ) -> Result<String, PortError> {
        // The parts are read, not derived from `previous`: which ids to write is known only here.
        let group = self.resolve(id).await?.ok_or_else(|| {
            PortError::new(
                PortErrorClass::NotFound,
                format!("TimeTrack absence {id} is gone"),
            )
        })?;
        let current = self.canonical(&group).map_err(|reason| {
            PortError::new(
                PortErrorClass::Invalid,
                format!("TimeTrack absence {id}: {reason}"),
            )
        })?;
        match timetrack_change(&current, value) {
            TimeTrackChange::Unchanged => Ok(id.to_string()),
            TimeTrackChange::StatusOnly(code) => {
                let status = TtStatus::from_code(code).ok_or_else(|| {
                    PortError::new(PortErrorClass::Invalid, format!("status code {code}"))
                })?;
                for part in group.parts().filter(|p| p.status != code) {
                    self.client
                        .update_absence_status(part.id, status)
                        .await
                        .map_err(|e| port_error::from_timetrack("update absence status", &e))?;
                }
                Ok(id.to_string())
            }
            TimeTrackChange::Recreate => {
                let created = self.create_parts(value, None).await?;
                let new_id = created.first().copied().unwrap_or_default();
                let old = group.ids_for_delete();
                let (deleted, cause) = match self.delete_all(&old).await {
                    Ok(()) => return Ok(new_id.to_string()),
                    Err(failure) => failure,
                };
                if deleted > 0 {
                    return Err(PortError::new(
                        cause.class,
                        format!(
                            "{} while replacing absence {id}: TimeTrack holds the replacement \
                             {created:?} and the parts {:?} of the old one",
                            cause.message,
                            &old[deleted..]
                        ),
                    ));
                }
                let rollback = self.delete_all(&created).await.err();
                Err(PortError::new(
                    cause.class,
                    match rollback {
                        None => format!(
                            "{}; the replacement {created:?} was deleted again",
                            cause.message
                        ),
                        Some((_, r)) => format!(
                            "{}; deleting the replacement {created:?} failed too ({}): \
                             TimeTrack holds both {old:?} and {created:?}",
                            cause.message, r.message
                        ),
                    },
                ))
            }
        }
    }

    /// Deletes every part: the halves first, the principal last (a delete cut short leaves the part
    /// the mapping names, so the next run sees a changed absence, not unrelated half days).
    async fn delete(&self, id: &str) -> Result<(), PortError> {
        let Some(group) = self.resolve(id).await? else {
            return Err(PortError::new(
                PortErrorClass::NotFound,
                format!("TimeTrack absence {id} is gone"),
            ));
        };
        self.delete_all(&group.ids_for_delete())
            .await
            .map_err(|(_, e)| e)
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
