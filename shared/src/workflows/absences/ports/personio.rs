//! The Personio side port of the absences workflow (see [`super`] for the rules both ports keep).
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::civil::{Date, Time};

use super::{refused, scope_days, AbsenceContext};
use crate::connectors::personio::{AbsenceFilter, PersonioClient, PersonioError};
use crate::connectors::ErrorClass;
use crate::domain::{DateWindow, EntityKind, IntegrationId, ScopeEntry};
use crate::engine::{
    HintFamily, Listing, Located, PortError, PortErrorClass, Record, Rejected, SidePort,
};
use crate::store::StateStore;
use crate::workflows::absences::canonical::{Absence, AbsenceStatus, NotSyncable};
use crate::workflows::absences::overlap::{overlap_outcome, OverlapOutcome, Overlapping};
use crate::workflows::absences::personio::{from_personio, to_personio};
use crate::workflows::absences::wire::{personio_new_period, personio_patch, personio_view};
use crate::workflows::port_error;

/// How a Personio period is brought from its current canonical value to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PersonioUpdate {
    Nothing,
    /// `PATCH` both boundaries, with or without `skip_approval`.
    Patch {
        skip_approval: bool,
    },
}

/// Whether a create of `target` needs `skip_approval` (APPROVED) or not (PENDING); a rejected absence
/// cannot be created through the API.
pub(crate) fn personio_create_approval(
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
pub(crate) fn personio_update(
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
pub(crate) struct AbsenceClaims {
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
pub(crate) struct PersonioAbsences {
    client: Arc<PersonioClient>,
    context: Arc<AbsenceContext>,
    claims: AbsenceClaims,
    /// The periods this run's listing returned: the planner has paired each one that matches an
    /// absence (or knows it is mapped), so a 409 never adopts one of them a second time.
    listed: Mutex<HashSet<String>>,
    /// The canonical value of each period this run listed: an update of a listed period compares
    /// with it instead of reading the period again (issue 16; the planner decided on this value
    /// anyway). Taken on use, so a retry reads afresh. The port lives for one run.
    listed_values: Mutex<HashMap<String, Absence>>,
}

impl PersonioAbsences {
    pub(crate) fn new(
        client: Arc<PersonioClient>,
        context: Arc<AbsenceContext>,
        claims: AbsenceClaims,
    ) -> Self {
        Self {
            client,
            context,
            claims,
            listed: Mutex::new(HashSet::new()),
            listed_values: Mutex::new(HashMap::new()),
        }
    }

    fn listed_values(&self) -> std::sync::MutexGuard<'_, HashMap<String, Absence>> {
        // Whole entries are inserted and removed: a panic elsewhere cannot leave one half-written.
        self.listed_values
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
                Ok(Some(value)) => {
                    self.listed_values()
                        .insert(period.id.clone(), value.clone());
                    out.records.push(Record::new(period.id.clone(), value))
                }
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
        // Compare with what this run listed, or read what Personio holds now, rather than trust
        // `previous`: the approval rules depend on the current status, and a wrong guess would write a
        // status the user never chose. The listed value is the one the plan was made from.
        let listed = self.listed_values().remove(id);
        let current = match listed {
            Some(value) => value,
            None => self.current(id).await?,
        };
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
