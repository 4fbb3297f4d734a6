//! The Personio side port of the time entries workflow (see [`super`] for the rules both ports keep).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::civil::{Date, DateTime, Time};

use super::{day_after, day_before, last_second, refused, rejection, scope_days, TimeEntryContext};
use crate::connectors::personio::{
    ApiErrorKind, AttendanceFilter, AttendanceKind, AttendancePatch, AttendancePeriod,
    AttendanceStatus, IdRef, NewAttendancePeriod, PersonioClient, PersonioError,
};
use crate::connectors::ErrorClass;
use crate::domain::{DateWindow, ScopeEntry};
use crate::engine::{
    HintFamily, Listing, Located, PortError, PortErrorClass, Record, Rejected, SidePort,
    Unrecorded, WriteJournal,
};
use crate::workflows::port_error::from_personio;
use crate::workflows::time_entries::canonical::{NotSyncable, TimeEntry};
use crate::workflows::time_entries::personio::grouping::{group_periods, GroupedEntry};
use crate::workflows::time_entries::personio::shape::{
    personio_periods, ApprovalStatus, PeriodDraft, PeriodKind, PersonioPeriod,
};
use crate::workflows::time_entries::personio::writes::{
    is_recorded, plan_period_writes, recorded_part, PeriodWrite,
};

/// Personio attendance periods as canonical entries (one entry = its WORK parts and BREAKs).
pub(crate) struct PersonioTimeEntries {
    client: Arc<PersonioClient>,
    context: Arc<TimeEntryContext>,
    /// The periods of each entry of the latest listing, by entry id; taken by the first write of that
    /// entry (see the module doc).
    listed: Mutex<HashMap<String, Vec<PersonioPeriod>>>,
}

impl PersonioTimeEntries {
    pub(crate) fn new(client: Arc<PersonioClient>, context: Arc<TimeEntryContext>) -> Self {
        Self {
            client,
            context,
            listed: Mutex::new(HashMap::new()),
        }
    }

    /// The group `id` and its periods for a write: from the run's listing when it held the group (once),
    /// else re-read ([`Self::group_of`]).
    async fn group_for_write(
        &self,
        id: &str,
    ) -> Result<Option<(GroupedEntry, Vec<PersonioPeriod>)>, PortError> {
        let listed = self
            .listed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(members) = listed {
            let group = group_periods(&members, &self.context.zone)
                .entries
                .into_iter()
                .find(|g| g.id == id);
            if let Some(group) = group {
                return Ok(Some((group, members)));
            }
        }
        self.group_of(id).await
    }

    /// The entries anchored in `window` (of one person, when given), and the periods of each by entry
    /// id (for the writes of this run).
    #[allow(clippy::type_complexity)]
    async fn entries_in(
        &self,
        person: Option<&str>,
        window: &DateWindow,
    ) -> Result<(Listing<TimeEntry>, HashMap<String, Vec<PersonioPeriod>>), PortError> {
        let (periods, mut rejected) = self
            .periods(person, day_before(window.from), day_after(window.to))
            .await?;
        let grouping = group_periods(&periods, &self.context.zone);
        let in_window = |start: DateTime| {
            let day = start.date();
            window.from <= day && day <= window.to
        };
        // Skipped groups are reported only when they start in the window (the margin days belong to
        // the neighbouring windows).
        let first_start = |ids: &[String]| {
            periods
                .iter()
                .filter(|p| ids.contains(&p.id))
                .map(|p| p.start)
                .min()
        };
        rejected.extend(
            grouping
                .skipped
                .iter()
                .filter(|s| first_start(&s.record_ids).is_some_and(in_window))
                .map(rejection),
        );
        let mut by_id: HashMap<String, PersonioPeriod> =
            periods.into_iter().map(|p| (p.id.clone(), p)).collect();
        let mut listed = HashMap::new();
        let mut records = Vec::new();
        for group in grouping.entries {
            if !self.context.in_window(&group.entry, window) {
                continue;
            }
            if self
                .context
                .directory
                .username_for_person(&group.entry.employee)
                .is_none()
            {
                rejected.push(Rejected {
                    id: Some(group.id.clone()),
                    reason: format!(
                        "person {} is not linked to a TimeTrack user: run the employees sync first",
                        group.entry.employee
                    ),
                });
                continue;
            }
            let members: Vec<PersonioPeriod> = group
                .period_ids
                .iter()
                .filter_map(|p| by_id.remove(p))
                .collect();
            listed.insert(group.id.clone(), members);
            records.push(Record::new(group.id, group.entry));
        }
        Ok((Listing { records, rejected }, listed))
    }

    /// The periods starting on the local days `from..=to` (of one person, when given).
    async fn periods(
        &self,
        person: Option<&str>,
        from: Date,
        to: Date,
    ) -> Result<(Vec<PersonioPeriod>, Vec<Rejected>), PortError> {
        let filter = AttendanceFilter {
            person_ids: person.map(|p| vec![p.to_string()]).unwrap_or_default(),
            start_from: Some(from.to_datetime(Time::midnight())),
            start_to: Some(last_second(to)),
            ..AttendanceFilter::default()
        };
        let listing = self
            .client
            .list_attendance_periods(&filter)
            .await
            .map_err(|e| from_personio("list attendance periods", &e))?;
        let rejected = listing
            .malformed
            .iter()
            .map(|m| Rejected::unreadable(m.id.clone(), "Personio attendance period", &m.error))
            .collect();
        Ok((listing.items.iter().map(period_view).collect(), rejected))
    }

    /// The group that period `id` belongs to: `Ok(None)` when the period is gone, an error when the
    /// group exists but cannot be read as an entry (it must then not be treated as deleted).
    async fn group_of(
        &self,
        id: &str,
    ) -> Result<Option<(GroupedEntry, Vec<PersonioPeriod>)>, PortError> {
        let period = match self.client.get_attendance_period(id).await {
            Ok(p) => p,
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(None),
            Err(e) => return Err(from_personio("get attendance period", &e)),
        };
        let day = period.start.date_time.date();
        let (periods, _) = self
            .periods(Some(&period.person.id), day_before(day), day_after(day))
            .await?;
        let grouping = group_periods(&periods, &self.context.zone);
        if let Some(group) = grouping
            .entries
            .into_iter()
            .find(|g| g.period_ids.iter().any(|p| p == id))
        {
            let members = periods
                .into_iter()
                .filter(|p| group.period_ids.contains(&p.id))
                .collect();
            return Ok(Some((group, members)));
        }
        match grouping
            .skipped
            .iter()
            .find(|s| s.record_ids.iter().any(|r| r == id))
        {
            Some(skipped) => Err(PortError::new(
                PortErrorClass::Invalid,
                format!(
                    "Personio attendance {id} cannot be synced: {}",
                    skipped.reason
                ),
            )),
            // Listed a moment ago by id but not in its day's listing: deleted in between.
            None => Ok(None),
        }
    }

    /// Refuses a write that would touch approved periods: Personio locks CONFIRMED periods, and
    /// changing some periods of an entry but not others would leave it half-written.
    fn ensure_unlocked(
        &self,
        id: &str,
        members: &[PersonioPeriod],
        writes: &[PeriodWrite],
    ) -> Result<(), PortError> {
        let touched = |pid: &str| {
            writes.iter().any(|w| match w {
                PeriodWrite::Delete { id } | PeriodWrite::Update { id, .. } => id == pid,
                PeriodWrite::Create { .. } => false,
            })
        };
        let locked: Vec<String> = members
            .iter()
            .filter(|p| p.approval == Some(ApprovalStatus::Confirmed) && touched(&p.id))
            .map(describe_period)
            .collect();
        if locked.is_empty() {
            Ok(())
        } else {
            Err(refused(format!(
                "Personio entry {id} is approved (CONFIRMED) and can no longer be changed: {}; \
                 correct it in Personio or withdraw the approval",
                locked.join(", ")
            )))
        }
    }

    /// Runs the planned calls in order. Every period about to be created is recorded in `journal`
    /// first (when given), and pushed to `created` (kind, local start, id) as soon as it exists, so
    /// that a caller can undo a half-done create.
    async fn execute(
        &self,
        entry: &TimeEntry,
        writes: &[PeriodWrite],
        created: &mut Vec<(PeriodKind, DateTime, String)>,
        journal: Option<&dyn WriteJournal>,
    ) -> Result<(), PortError> {
        for write in writes {
            match write {
                PeriodWrite::Delete { id } => {
                    match self.client.delete_attendance_period(id).await {
                        Ok(()) => {}
                        Err(e) if e.class() == ErrorClass::NotFound => {}
                        Err(e) => {
                            return Err(self
                                .write_error("delete attendance period", entry, &e)
                                .await)
                        }
                    }
                }
                PeriodWrite::Update { id, period } => {
                    let patch = AttendancePatch {
                        start: Some(period.start.into()),
                        end: Some(period.end.into()),
                        comment: Some(period.comment.clone().unwrap_or_default()),
                        project: None,
                    };
                    if let Err(e) = self
                        .client
                        .update_attendance_period(id, &patch, self.context.skip_approval)
                        .await
                    {
                        return Err(self
                            .write_error("update attendance period", entry, &e)
                            .await);
                    }
                }
                PeriodWrite::Create { period } => {
                    if let Some(journal) = journal {
                        journal.record(&recorded_part(period)).await?;
                    }
                    match self
                        .client
                        .create_attendance_period(&new_period(period), self.context.skip_approval)
                        .await
                    {
                        Ok(new_id) => created.push((period.kind, period.start, new_id)),
                        Err(e) => {
                            return Err(self
                                .write_error("create attendance period", entry, &e)
                                .await)
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A client error of a write as a port error: an approved period is `Refused` (parked at once as a
    /// visible conflict), an overlap names the other entry's local times.
    async fn write_error(&self, what: &str, entry: &TimeEntry, e: &PersonioError) -> PortError {
        match e.kind() {
            ApiErrorKind::ApprovedPeriod => refused(format!(
                "Personio {what}: the period is approved (CONFIRMED) and can no longer be changed \
                 ({}); correct it in Personio or withdraw the approval",
                self.describe_entry(entry)
            )),
            ApiErrorKind::Overlap => self.overlap_error(what, entry, e).await,
            ApiErrorKind::Other => from_personio(what, e),
        }
    }

    /// An overlap refusal, naming the person's other periods that overlap `entry`.
    async fn overlap_error(&self, what: &str, entry: &TimeEntry, e: &PersonioError) -> PortError {
        let others = self.overlapping(entry).await;
        PortError::new(
            PortErrorClass::Conflict,
            format!(
                "Personio {what}: {} overlaps {} — {e}",
                self.describe_entry(entry),
                if others.is_empty() {
                    "an existing period of the person".to_string()
                } else {
                    others.join(", ")
                }
            ),
        )
    }

    /// The person's existing WORK periods overlapping `entry` (local times), for an overlap message.
    async fn overlapping(&self, entry: &TimeEntry) -> Vec<String> {
        let zone = &self.context.zone;
        let (start, end) = (zone.to_local(entry.start), zone.to_local(entry.end));
        let Ok((periods, _)) = self
            .periods(
                Some(&entry.employee),
                day_before(start.date()),
                day_after(end.date()),
            )
            .await
        else {
            return Vec::new();
        };
        periods
            .iter()
            .filter(|p| {
                p.kind == PeriodKind::Work && p.start < end && p.end.is_none_or(|e| start < e)
            })
            .map(describe_period)
            .collect()
    }

    fn describe_entry(&self, entry: &TimeEntry) -> String {
        let zone = &self.context.zone;
        format!(
            "the entry of person {} {} – {} (local)",
            entry.employee,
            zone.to_local(entry.start),
            zone.to_local(entry.end)
        )
    }

    /// Before a pending create is tried again: deletes the BREAK periods of the person that lie inside
    /// no WORK period and that this create accounts for — recorded by an earlier attempt, or exactly
    /// one of the BREAKs it is about to write (intents from before parts were recorded). Such a BREAK
    /// is the product's own debris (a BREAK POST applied after its WORK was undone); left in place it
    /// would make the new WORK overlap it, or the entry hold its break twice.
    async fn remove_debris(
        &self,
        entry: &TimeEntry,
        drafts: &[PeriodDraft],
        earlier: &[String],
    ) -> Result<(), PortError> {
        let zone = &self.context.zone;
        let (start, end) = (zone.to_local(entry.start), zone.to_local(entry.end));
        let (periods, _) = self
            .periods(
                Some(&entry.employee),
                day_before(start.date()),
                day_after(end.date()),
            )
            .await?;
        let grouping = group_periods(&periods, zone);
        let orphans: Vec<&String> = grouping
            .skipped
            .iter()
            .filter(|s| matches!(s.reason, NotSyncable::BreakOutsideWork { .. }))
            .flat_map(|s| &s.record_ids)
            .collect();
        let intended: Vec<String> = drafts
            .iter()
            .filter(|d| d.kind == PeriodKind::Break)
            .map(recorded_part)
            .collect();
        for p in periods.iter().filter(|p| orphans.contains(&&p.id)) {
            if is_recorded(p, earlier) || is_recorded(p, &intended) {
                tracing::info!(period = %p.id, "removing a BREAK left by an interrupted create");
                match self.client.delete_attendance_period(&p.id).await {
                    Ok(()) => {}
                    Err(e) if e.class() == ErrorClass::NotFound => {}
                    Err(e) => {
                        return Err(self
                            .write_error("delete attendance period", entry, &e)
                            .await)
                    }
                }
            }
        }
        Ok(())
    }

    fn drafts(&self, entry: &TimeEntry) -> Result<Vec<PeriodDraft>, PortError> {
        personio_periods(entry, &self.context.zone).map_err(|reason| {
            refused(format!(
                "Personio cannot hold {}: {reason}",
                self.describe_entry(entry)
            ))
        })
    }
}

fn describe_period(p: &PersonioPeriod) -> String {
    let kind = match p.kind {
        PeriodKind::Work => "WORK",
        PeriodKind::Break => "BREAK",
    };
    match p.end {
        Some(end) => format!("{kind} {} {} – {}", p.id, p.start, end),
        None => format!("{kind} {} {} – (open)", p.id, p.start),
    }
}

/// The wire period as the pure module's view.
fn period_view(p: &AttendancePeriod) -> PersonioPeriod {
    PersonioPeriod {
        id: p.id.clone(),
        person: p.person.id.clone(),
        kind: match p.kind {
            AttendanceKind::Break => PeriodKind::Break,
            // An unknown type is treated as working time: Personio v2 knows only WORK and BREAK.
            _ => PeriodKind::Work,
        },
        start: p.start.date_time,
        end: p.end.map(|e| e.date_time),
        comment: p.comment.clone(),
        approval: p.status().map(|s| match s {
            AttendanceStatus::Pending => ApprovalStatus::Pending,
            AttendanceStatus::Confirmed => ApprovalStatus::Confirmed,
            AttendanceStatus::Rejected => ApprovalStatus::Rejected,
            other => ApprovalStatus::Other(other.as_str().to_string()),
        }),
    }
}

fn new_period(d: &PeriodDraft) -> NewAttendancePeriod {
    NewAttendancePeriod {
        person: IdRef::new(d.person.clone()),
        kind: match d.kind {
            PeriodKind::Work => AttendanceKind::Work,
            PeriodKind::Break => AttendanceKind::Break,
        },
        start: d.start.into(),
        end: Some(d.end.into()),
        comment: d.comment.clone(),
        project: None,
    }
}

/// The id of the first WORK period after `writes` turned `members` into the desired periods.
fn composite_id_after(
    members: &[PersonioPeriod],
    writes: &[PeriodWrite],
    created: &[(DateTime, String)],
) -> Option<String> {
    let mut works: Vec<(DateTime, String)> = members
        .iter()
        .filter(|p| p.kind == PeriodKind::Work)
        .filter(|p| {
            !writes
                .iter()
                .any(|w| matches!(w, PeriodWrite::Delete { id } if *id == p.id))
        })
        .map(|p| {
            let start = writes
                .iter()
                .find_map(|w| match w {
                    PeriodWrite::Update { id, period } if *id == p.id => Some(period.start),
                    _ => None,
                })
                .unwrap_or(p.start);
            (start, p.id.clone())
        })
        .collect();
    works.extend(created.iter().cloned());
    works.into_iter().min().map(|(_, id)| id)
}

#[async_trait]
impl SidePort<TimeEntry> for PersonioTimeEntries {
    async fn list(&self, window: &DateWindow) -> Result<Listing<TimeEntry>, PortError> {
        let (listing, listed) = self.entries_in(None, window).await?;
        *self.listed.lock().unwrap_or_else(|p| p.into_inner()) = listed;
        Ok(listing)
    }

    /// One person's entries anchored on the entry's days, read with the person and date filters; the
    /// periods read join those of the run's earlier listings (a targeted run lists per person).
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<TimeEntry>, PortError> {
        let window = scope_days(entry)?;
        let (listing, listed) = self.entries_in(Some(&entry.person), &window).await?;
        self.listed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(listed);
        Ok(listing)
    }

    /// An attendance period's person and local day. A BREAK, or a WORK starting at local midnight (the
    /// second part of an overnight entry), may belong to an entry anchored the day before: that day
    /// is read too (the same single filtered request).
    async fn locate(&self, family: HintFamily, id: &str) -> Result<Located, PortError> {
        if family != HintFamily::AttendancePeriod {
            return Ok(Located::NotHandled);
        }
        let period = match self.client.get_attendance_period(id).await {
            Ok(p) => p,
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(Located::Gone),
            Err(e) => return Err(from_personio("get attendance period", &e)),
        };
        let view = period_view(&period);
        let day = view.start.date();
        let from = if view.kind == PeriodKind::Break || view.start.time() == Time::midnight() {
            day_before(day)
        } else {
            day
        };
        Ok(Located::Found(ScopeEntry {
            person: view.person,
            days: Some(DateWindow { from, to: day }),
        }))
    }

    async fn get(&self, id: &str) -> Result<Option<Record<TimeEntry>>, PortError> {
        Ok(self
            .group_of(id)
            .await?
            .map(|(group, _)| Record::new(group.id, group.entry)))
    }

    async fn create(&self, value: &TimeEntry) -> Result<String, PortError> {
        self.create_recorded(value, &Unrecorded).await
    }

    /// WORK parts first, then BREAKs, each recorded in `journal` before its POST. A retry first
    /// removes the earlier attempts' debris ([`Self::remove_debris`]). When a write fails:
    /// - its outcome unknown (5xx, timeout, dropped connection: [`PortErrorClass::Transient`]) — it
    ///   may have been applied, so nothing is undone: what exists is a prefix of the group (WORK
    ///   parts, then some BREAKs), a valid entry that the recorded parts account for, which the next
    ///   run adopts or completes. Undoing the WORK would orphan a BREAK that was applied.
    /// - refused for certain — the periods created are deleted again, last first (BREAKs before their
    ///   WORK), stopping at the first delete that fails, so what remains is still a valid prefix.
    async fn create_recorded(
        &self,
        value: &TimeEntry,
        journal: &dyn WriteJournal,
    ) -> Result<String, PortError> {
        let drafts = self.drafts(value)?;
        if let Some(earlier) = journal.earlier() {
            self.remove_debris(value, &drafts, earlier).await?;
        }
        let writes = plan_period_writes(&[], &drafts);
        let mut created = Vec::new();
        if let Err(e) = self
            .execute(value, &writes, &mut created, Some(journal))
            .await
        {
            if e.class != PortErrorClass::Transient {
                for (_, _, id) in created.iter().rev() {
                    if let Err(undo) = self.client.delete_attendance_period(id).await {
                        tracing::warn!(period = %id, error = %undo, "could not undo a partly created entry; the next run completes it");
                        break;
                    }
                }
            }
            return Err(e);
        }
        created
            .into_iter()
            .filter(|(kind, _, _)| *kind == PeriodKind::Work)
            .map(|(_, start, id)| (start, id))
            .min()
            .map(|(_, id)| id)
            .ok_or_else(|| {
                PortError::new(
                    PortErrorClass::Invalid,
                    format!(
                        "Personio create: {} produced no WORK period",
                        self.describe_entry(value)
                    ),
                )
            })
    }

    async fn update(
        &self,
        id: &str,
        value: &TimeEntry,
        _previous: Option<&TimeEntry>,
    ) -> Result<String, PortError> {
        let (_, members) = self.group_for_write(id).await?.ok_or_else(|| {
            PortError::new(
                PortErrorClass::NotFound,
                format!("Personio attendance {id} is gone"),
            )
        })?;
        let drafts = self.drafts(value)?;
        let writes = plan_period_writes(&members, &drafts);
        if writes.is_empty() {
            return Ok(id.to_string());
        }
        self.ensure_unlocked(id, &members, &writes)?;
        let mut created = Vec::new();
        self.execute(value, &writes, &mut created, None).await?;
        let created_works: Vec<(DateTime, String)> = created
            .into_iter()
            .filter(|(kind, _, _)| *kind == PeriodKind::Work)
            .map(|(_, start, id)| (start, id))
            .collect();
        composite_id_after(&members, &writes, &created_works).ok_or_else(|| {
            PortError::new(
                PortErrorClass::Invalid,
                format!("Personio update of {id} left no WORK period"),
            )
        })
    }

    async fn delete(&self, id: &str) -> Result<(), PortError> {
        let (group, members) = self.group_for_write(id).await?.ok_or_else(|| {
            PortError::new(
                PortErrorClass::NotFound,
                format!("Personio attendance {id} is gone"),
            )
        })?;
        // BREAKs first, so that no BREAK is ever left without its WORK.
        let mut writes: Vec<PeriodWrite> = members
            .iter()
            .filter(|p| p.kind == PeriodKind::Break)
            .chain(members.iter().filter(|p| p.kind == PeriodKind::Work))
            .map(|p| PeriodWrite::Delete { id: p.id.clone() })
            .collect();
        writes.dedup();
        self.ensure_unlocked(id, &members, &writes)?;
        self.execute(&group.entry, &writes, &mut Vec::new(), None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn period(id: &str, kind: PeriodKind, start: DateTime, end: DateTime) -> PersonioPeriod {
        PersonioPeriod {
            id: id.into(),
            person: "1006".into(),
            kind,
            start,
            end: Some(end),
            comment: None,
            approval: Some(ApprovalStatus::Pending),
        }
    }

    fn draft(kind: PeriodKind, start: DateTime, end: DateTime) -> PeriodDraft {
        PeriodDraft {
            person: "1006".into(),
            kind,
            start,
            end,
            comment: None,
        }
    }

    #[test]
    fn composite_id_follows_the_first_work_period_after_the_writes() {
        let d = date(2026, 11, 4);
        let members = vec![
            period(
                "w1",
                PeriodKind::Work,
                d.at(22, 0, 0, 0),
                d.at(23, 59, 0, 0),
            ),
            period(
                "b1",
                PeriodKind::Break,
                d.at(23, 0, 0, 0),
                d.at(23, 30, 0, 0),
            ),
        ];
        // Patched in place: the id stays.
        let patched = vec![PeriodWrite::Update {
            id: "w1".into(),
            period: draft(PeriodKind::Work, d.at(21, 0, 0, 0), d.at(23, 0, 0, 0)),
        }];
        assert_eq!(
            composite_id_after(&members, &patched, &[]).as_deref(),
            Some("w1")
        );
        // The first WORK deleted and an earlier one created: the new one is the entry's id.
        let replaced = vec![PeriodWrite::Delete { id: "w1".into() }];
        let created = vec![(d.at(20, 0, 0, 0), "w2".to_string())];
        assert_eq!(
            composite_id_after(&members, &replaced, &created).as_deref(),
            Some("w2")
        );
        // A later part created next to a kept first part does not change the id.
        let later = vec![(d.at(23, 59, 0, 0), "w3".to_string())];
        assert_eq!(
            composite_id_after(&members, &[], &later).as_deref(),
            Some("w1")
        );
        assert_eq!(composite_id_after(&members, &replaced, &[]), None);
    }

    #[test]
    fn wire_periods_become_views_with_their_approval() {
        let wire: AttendancePeriod = serde_json::from_value(serde_json::json!({
            "id": "p1",
            "type": "BREAK",
            "person": {"id": "1006"},
            "start": {"date_time": "2026-11-05T02:00:00"},
            "end": {"date_time": "2026-11-05T02:30:00"},
            "approval": {"status": "CONFIRMED"}
        }))
        .unwrap();
        let view = period_view(&wire);
        assert_eq!(view.kind, PeriodKind::Break);
        assert_eq!(view.person, "1006");
        assert_eq!(view.start, date(2026, 11, 5).at(2, 0, 0, 0));
        assert_eq!(view.end, Some(date(2026, 11, 5).at(2, 30, 0, 0)));
        assert_eq!(view.approval, Some(ApprovalStatus::Confirmed));
        let new = new_period(&draft(
            PeriodKind::Work,
            date(2026, 11, 4).at(22, 0, 0, 0),
            date(2026, 11, 5).at(0, 0, 0, 0),
        ));
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            serde_json::json!({
                "person": {"id": "1006"},
                "type": "WORK",
                "start": {"date_time": "2026-11-04T22:00:00"},
                "end": {"date_time": "2026-11-05T00:00:00"}
            })
        );
    }
}
