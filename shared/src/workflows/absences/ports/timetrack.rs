//! The TimeTrack side port of the absences workflow (see [`super`] for the rules both ports keep).
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::civil::Date;
use jiff::ToSpan;

use super::{not_syncable_class, refused, scope_days, AbsenceContext};
use crate::connectors::timetrack::{
    Absence as TtAbsence, AbsenceQuery, AbsenceStatus as TtStatus, TimeTrackClient,
};
use crate::connectors::ErrorClass;
use crate::domain::{DateWindow, ScopeEntry};
use crate::engine::{
    Listing, PortError, PortErrorClass, Record, Rejected, SidePort, Unrecorded, WriteJournal,
};
use crate::workflows::absences::canonical::Absence;
use crate::workflows::absences::parts::{from_timetrack_group, group_parts, TimeTrackGroup};
use crate::workflows::absences::timetrack::{
    recorded_part, timetrack_change, to_timetrack, TimeTrackAbsenceFields, TimeTrackAbsenceView,
    TimeTrackChange,
};
use crate::workflows::absences::wire::{timetrack_new_absence, timetrack_view};
use crate::workflows::port_error;

/// TimeTrack absences as canonical absences. One canonical absence may be several TimeTrack absences
/// (a half first or last day is its own half-day absence, see [`super::parts`]); the port lists, reads
/// and writes the group and names it by its principal id.
pub(crate) struct TimeTrackAbsences {
    client: Arc<TimeTrackClient>,
    context: Arc<AbsenceContext>,
    /// The groups this run's listing made, by principal id: the first update or delete of a listed
    /// absence writes to the parts the listing found instead of reading them again (issue 16: two
    /// reads per write, 1.4–1.7 × the minimum requests), as the time-entries port does with its
    /// periods (ADR 0021). Taken on use, so a retry of the same write reads afresh. The port lives
    /// for one run.
    listed: Mutex<HashMap<i64, TimeTrackGroup>>,
}

impl TimeTrackAbsences {
    pub(crate) fn new(client: Arc<TimeTrackClient>, context: Arc<AbsenceContext>) -> Self {
        Self {
            client,
            context,
            listed: Mutex::new(HashMap::new()),
        }
    }

    fn listed(&self) -> std::sync::MutexGuard<'_, HashMap<i64, TimeTrackGroup>> {
        // Whole entries are inserted and removed: a panic elsewhere cannot leave one half-written.
        self.listed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The group of a listed absence for a write ([`Self::listed`]), else read ([`Self::resolve`]).
    async fn group_for_write(&self, id: &str) -> Result<Option<TimeTrackGroup>, PortError> {
        let n = Self::numeric_id(id)?;
        let listed = self.listed().remove(&n);
        match listed {
            Some(group) => Ok(Some(group)),
            None => self.resolve(id).await,
        }
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
                Ok(value) => {
                    self.listed().insert(group.principal_id(), group);
                    out.records.push(Record::new(id, value))
                }
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
        // The parts come from this run's listing (or are read), not from `previous`: which ids to
        // write is known only here.
        let group = self.group_for_write(id).await?.ok_or_else(|| {
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
        let Some(group) = self.group_for_write(id).await? else {
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
