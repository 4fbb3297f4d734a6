//! The Personio simulator's records and the rules Personio enforces on writes.
//!
//! Tests reach this through `PersonioSim::state()`: the `pub` maps can be read and mutated directly,
//! and the convenience methods (which bump `updated_at` the way the API does) cover the common cases.
//! Convenience methods deliberately skip validation, so tests can build states the API would refuse.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::model::*;
use super::webhooks::EventSink;
use crate::seed::PersonioSeed;

/// The undocumented or uncertain rules, switchable so tests can exercise both behaviours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonioRules {
    /// Reject attendance periods that cross local midnight (per a third-party report; Personio's own
    /// changelog says overnight periods "will be possible in the future"). Default `true`.
    pub reject_midnight_crossing: bool,
    /// Reject PATCH/DELETE of attendance periods whose approval status is CONFIRMED with 422
    /// "Period is approved" (the sync parks these as conflicts). Default `true`.
    pub lock_confirmed_attendance: bool,
}

impl Default for PersonioRules {
    fn default() -> Self {
        PersonioRules {
            reject_midnight_crossing: true,
            lock_confirmed_attendance: true,
        }
    }
}

/// A write the API refuses, with the HTTP status and problem+json title/detail it answers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {title}: {detail}")]
pub struct WriteError {
    pub status: u16,
    pub title: String,
    pub detail: String,
}

impl WriteError {
    pub fn new(status: u16, title: &str, detail: impl Into<String>) -> WriteError {
        WriteError {
            status,
            title: title.to_string(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> WriteError {
        WriteError::new(400, "Bad request", detail)
    }

    pub fn not_found() -> WriteError {
        WriteError::new(
            404,
            "Resource not found",
            "There is no resource for the specified id.",
        )
    }

    pub fn unprocessable(title: &str, detail: impl Into<String>) -> WriteError {
        WriteError::new(422, title, detail)
    }
}

/// Attendance period ids by person, for the overlap check of a write: scanning every period for every
/// write made filling a large company quadratic (200,000 periods at 5,000 people, issue 16).
///
/// Tests may change `attendance_periods` directly, so the index is derived, not authoritative: it is
/// rebuilt whenever the number of periods differs from the number it indexed, the writes of the API
/// keep it up to date ([`PersonioState::insert_attendance`], [`PersonioState::remove_attendance`]),
/// and every id it yields is read back from the map (a period gone or moved to another person is
/// skipped).
#[derive(Debug, Default)]
pub struct AttendanceIndex {
    inner: std::sync::Mutex<IndexedPeriods>,
}

#[derive(Debug, Default)]
struct IndexedPeriods {
    /// How many periods were indexed; `None` until built.
    periods: Option<usize>,
    by_person: HashMap<String, BTreeSet<String>>,
}

impl Clone for AttendanceIndex {
    /// A clone starts empty and is built on its first use.
    fn clone(&self) -> Self {
        AttendanceIndex::default()
    }
}

impl AttendanceIndex {
    fn lock(&self) -> std::sync::MutexGuard<'_, IndexedPeriods> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ids of `person`'s periods, in id order, rebuilt from `periods` first when stale.
    fn ids_of(&self, periods: &BTreeMap<String, AttendancePeriod>, person: &str) -> Vec<String> {
        let mut index = self.lock();
        if index.periods != Some(periods.len()) {
            index.by_person.clear();
            for p in periods.values() {
                index
                    .by_person
                    .entry(p.person.id.clone())
                    .or_default()
                    .insert(p.id.clone());
            }
            index.periods = Some(periods.len());
        }
        index
            .by_person
            .get(person)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Drops the index; it is rebuilt on its next use.
    fn invalidate(&self) {
        self.lock().periods = None;
    }

    /// Notes a period added to (`added`) or removed from a map that now holds `now` periods.
    fn note(&self, person: &str, id: &str, added: bool, now: usize) {
        let mut index = self.lock();
        let expected = index
            .periods
            .map(|n| if added { n + 1 } else { n.saturating_sub(1) });
        if expected != Some(now) {
            index.periods = None; // stale: rebuilt on the next use
            return;
        }
        let ids = index.by_person.entry(person.to_string()).or_default();
        if added {
            ids.insert(id.to_string());
        } else {
            ids.remove(id);
        }
        index.periods = Some(now);
    }
}

/// All records of the simulated Personio company.
#[derive(Clone, Debug)]
pub struct PersonioState {
    pub persons: BTreeMap<String, Person>,
    pub employments: BTreeMap<String, Employment>,
    pub attendance_periods: BTreeMap<String, AttendancePeriod>,
    /// Derived from `attendance_periods` (see [`AttendanceIndex`]).
    pub attendance_index: AttendanceIndex,
    pub absence_periods: BTreeMap<String, AbsencePeriod>,
    pub absence_types: BTreeMap<String, AbsenceType>,
    pub rules: PersonioRules,
    /// IANA zone of the company; absence periods carry it as `timezone_id`.
    pub company_time_zone: String,
    /// Where changes are recorded as webhook events (the API routes and the convenience methods
    /// below record them; a direct change of the maps does not — call [`PersonioState::record_event`]).
    pub(crate) events: EventSink,
}

/// Current time truncated to whole seconds (the API emits `...:SSZ`).
pub(crate) fn now_seconds() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The next `updated_at`: now, but always strictly after the previous value, so tests that change a
/// record within the same second still see it move.
pub(crate) fn bump(previous: Timestamp) -> Timestamp {
    let now = now_seconds();
    if now > previous {
        now
    } else {
        previous
            .checked_add(SignedDuration::from_secs(1))
            .unwrap_or(previous)
    }
}

pub(crate) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl PersonioState {
    pub(crate) fn from_seed(
        seed: &PersonioSeed,
        company_time_zone: &str,
        events: EventSink,
    ) -> PersonioState {
        PersonioState {
            persons: seed
                .persons
                .iter()
                .map(|p| (p.id.clone(), p.clone()))
                .collect(),
            employments: seed
                .employments
                .iter()
                .map(|e| (e.id.clone(), e.clone()))
                .collect(),
            attendance_periods: seed
                .attendance_periods
                .iter()
                .map(|a| (a.id.clone(), a.clone()))
                .collect(),
            attendance_index: AttendanceIndex::default(),
            absence_periods: seed
                .absence_periods
                .iter()
                .map(|a| (a.id.clone(), a.clone()))
                .collect(),
            absence_types: seed
                .absence_types
                .iter()
                .map(|t| (t.id.clone(), t.clone()))
                .collect(),
            rules: PersonioRules::default(),
            company_time_zone: company_time_zone.to_string(),
            events,
        }
    }

    /// Everything as a seed (what `GET /_sim/state` returns).
    pub fn to_seed(&self) -> PersonioSeed {
        PersonioSeed {
            persons: self.persons_in_order().into_iter().cloned().collect(),
            employments: self.employments.values().cloned().collect(),
            attendance_periods: self.attendance_periods.values().cloned().collect(),
            absence_periods: self.absence_periods.values().cloned().collect(),
            absence_types: self.absence_types.values().cloned().collect(),
        }
    }

    /// Persons ordered by numeric id (the order lists are served in).
    pub fn persons_in_order(&self) -> Vec<&Person> {
        let mut persons: Vec<&Person> = self.persons.values().collect();
        persons.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        persons
    }

    /// The next free numeric person id (Personio person ids are numeric strings).
    pub(crate) fn next_person_id(&self) -> String {
        let max = self
            .persons
            .keys()
            .filter_map(|id| id.parse::<u64>().ok())
            .max()
            .unwrap_or(1000);
        (max + 1).to_string()
    }

    /// The employments of a person, most recent start first (the API's order).
    pub fn employments_of(&self, person_id: &str) -> Vec<&Employment> {
        let mut list: Vec<&Employment> = self
            .employments
            .values()
            .filter(|e| e.person.id == person_id)
            .collect();
        list.sort_by(|a, b| {
            b.employment_start_date
                .cmp(&a.employment_start_date)
                .then_with(|| a.id.cmp(&b.id))
        });
        list
    }

    /// A person's status, derived from the latest employment: ACTIVE for active, leave or onboarding.
    pub fn person_status(&self, person_id: &str) -> &'static str {
        match self.employments_of(person_id).first().map(|e| e.status) {
            Some(
                EmploymentStatus::Active | EmploymentStatus::Leave | EmploymentStatus::Onboarding,
            ) => "ACTIVE",
            Some(EmploymentStatus::Inactive) => "INACTIVE",
            Some(EmploymentStatus::Unspecified) | None => "UNSPECIFIED",
        }
    }

    pub fn person_id_by_email(&self, email: &str) -> Option<String> {
        self.persons
            .values()
            .find(|p| {
                p.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|p| p.id.clone())
    }

    pub fn absence_type_id_by_name(&self, name: &str) -> Option<String> {
        self.absence_types
            .values()
            .find(|t| t.name == name)
            .map(|t| t.id.clone())
    }

    // ----- webhook events -----

    /// Records a webhook event (§8 name, e.g. `attendance-period.updated`) for a record changed
    /// directly through the maps, which record nothing by themselves. The person is looked up for the
    /// `person_id` payload knob when the record still exists.
    pub fn record_event(&self, event_name: &str, resource_id: &str) {
        let person_id = self.person_of(event_name, resource_id);
        self.events
            .record(event_name, resource_id, person_id.as_deref());
    }

    /// Records a webhook event whose person is known.
    pub(crate) fn emit(&self, event_name: &str, resource_id: &str, person_id: &str) {
        self.events.record(event_name, resource_id, Some(person_id));
    }

    fn person_of(&self, event_name: &str, resource_id: &str) -> Option<String> {
        match event_name.split('.').next() {
            Some("person") => Some(resource_id.to_string()),
            Some("employment") => self
                .employments
                .get(resource_id)
                .map(|e| e.person.id.clone()),
            Some("attendance-period") => self
                .attendance_periods
                .get(resource_id)
                .map(|a| a.person.id.clone()),
            Some("absence-period") => self
                .absence_periods
                .get(resource_id)
                .map(|a| a.person.id.clone()),
            _ => None,
        }
    }

    // ----- convenience mutations for tests (no validation, bump updated_at; each records the
    // webhook event the same change through the API would) -----

    /// Adds a person with one ACTIVE internal employment starting today; returns the person id.
    pub fn add_person(&mut self, first_name: &str, last_name: &str, email: Option<&str>) -> String {
        let id = self.next_person_id();
        let now = now_seconds();
        self.persons.insert(
            id.clone(),
            Person {
                id: id.clone(),
                email: email.map(str::to_string),
                first_name: first_name.to_string(),
                last_name: last_name.to_string(),
                preferred_name: None,
                gender: "UNSPECIFIED".to_string(),
                language_code: None,
                custom_attributes: Vec::new(),
                created_at: now,
                updated_at: now,
            },
        );
        let employment = default_employment(&id, now.to_zoned(jiff::tz::TimeZone::UTC).date(), now);
        self.emit("person.created", &id, &id);
        self.emit("employment.created", &employment.id, &id);
        self.employments.insert(employment.id.clone(), employment);
        id
    }

    pub fn set_person_name(&mut self, id: &str, first_name: &str, last_name: &str) -> bool {
        self.with_person(id, |p| {
            p.first_name = first_name.to_string();
            p.last_name = last_name.to_string();
        })
    }

    pub fn set_person_email(&mut self, id: &str, email: Option<&str>) -> bool {
        self.with_person(id, |p| p.email = email.map(str::to_string))
    }

    /// Sets the status of the person's latest employment (e.g. INACTIVE for a leaver).
    pub fn set_person_employment_status(
        &mut self,
        person_id: &str,
        status: EmploymentStatus,
    ) -> bool {
        let Some(id) = self.employments_of(person_id).first().map(|e| e.id.clone()) else {
            return false;
        };
        let Some(employment) = self.employments.get_mut(&id) else {
            return false;
        };
        employment.status = status;
        employment.updated_at = bump(employment.updated_at);
        if let Some(person) = self.persons.get_mut(person_id) {
            person.updated_at = bump(person.updated_at);
        }
        self.emit("employment.updated", &id, person_id);
        true
    }

    /// Removes a person and their employments (later GETs answer 404).
    pub fn delete_person(&mut self, id: &str) -> bool {
        if !self.persons.contains_key(id) {
            return false;
        }
        let employments: Vec<String> = self
            .employments_of(id)
            .iter()
            .map(|e| e.id.clone())
            .collect();
        self.employments.retain(|_, e| e.person.id != id);
        self.persons.remove(id);
        for employment in employments {
            self.emit("employment.deleted", &employment, id);
        }
        self.emit("person.deleted", id, id);
        true
    }

    fn with_person(&mut self, id: &str, change: impl FnOnce(&mut Person)) -> bool {
        match self.persons.get_mut(id) {
            Some(person) => {
                change(person);
                person.updated_at = bump(person.updated_at);
                self.emit("person.updated", id, id);
                true
            }
            None => false,
        }
    }

    /// Adds an attendance period (PENDING, attribution date = start date); returns its id.
    pub fn add_attendance(
        &mut self,
        person_id: &str,
        kind: AttendanceType,
        start: DateTime,
        end: Option<DateTime>,
    ) -> String {
        let id = new_uuid();
        let now = now_seconds();
        self.insert_attendance(AttendancePeriod {
            id: id.clone(),
            kind,
            person: IdRef::new(person_id),
            start: LocalTime { date_time: start },
            end: end.map(|date_time| LocalTime { date_time }),
            attribution_date: start.date(),
            comment: None,
            project: None,
            approval: Approval {
                status: AttendanceStatus::Pending,
            },
            is_auto_generated: false,
            created_at: now,
            updated_at: now,
        });
        self.emit("attendance-period.created", &id, person_id);
        id
    }

    /// Stores a period (new or replacing one of the same id), keeping the index up to date.
    pub fn insert_attendance(&mut self, period: AttendancePeriod) {
        let (id, person) = (period.id.clone(), period.person.id.clone());
        if let Some(old) = self.attendance_periods.insert(id.clone(), period) {
            if old.person.id != person {
                self.attendance_index.invalidate();
            }
            return;
        }
        let now = self.attendance_periods.len();
        self.attendance_index.note(&person, &id, true, now);
    }

    /// Removes a period, keeping the index up to date; the removed period, if there was one.
    pub fn remove_attendance(&mut self, id: &str) -> Option<AttendancePeriod> {
        let removed = self.attendance_periods.remove(id)?;
        let now = self.attendance_periods.len();
        self.attendance_index
            .note(&removed.person.id, id, false, now);
        Some(removed)
    }

    pub fn update_attendance(&mut self, id: &str, start: DateTime, end: Option<DateTime>) -> bool {
        self.with_attendance(id, |a| {
            a.start = LocalTime { date_time: start };
            a.end = end.map(|date_time| LocalTime { date_time });
            a.attribution_date = start.date();
        })
    }

    pub fn set_attendance_comment(&mut self, id: &str, comment: Option<&str>) -> bool {
        self.with_attendance(id, |a| a.comment = comment.map(str::to_string))
    }

    pub fn set_attendance_status(&mut self, id: &str, status: AttendanceStatus) -> bool {
        self.with_attendance(id, |a| a.approval.status = status)
    }

    /// Approves (CONFIRMED) a period, as a manager would in the Personio UI.
    pub fn approve_attendance(&mut self, id: &str) -> bool {
        self.set_attendance_status(id, AttendanceStatus::Confirmed)
    }

    pub fn delete_attendance(&mut self, id: &str) -> bool {
        match self.remove_attendance(id) {
            Some(period) => {
                self.emit("attendance-period.deleted", id, &period.person.id);
                true
            }
            None => false,
        }
    }

    fn with_attendance(&mut self, id: &str, change: impl FnOnce(&mut AttendancePeriod)) -> bool {
        match self.attendance_periods.get_mut(id) {
            Some(period) => {
                change(period);
                period.updated_at = bump(period.updated_at);
                let person = period.person.id.clone();
                self.emit("attendance-period.updated", id, &person);
                true
            }
            None => false,
        }
    }

    /// Adds an absence period with the given approval status; returns its id.
    pub fn add_absence(
        &mut self,
        person_id: &str,
        absence_type_id: &str,
        starts_from: AbsenceBoundary,
        ends_at: Option<AbsenceBoundary>,
        status: AbsenceStatus,
    ) -> String {
        let id = new_uuid();
        let now = now_seconds();
        self.absence_periods.insert(
            id.clone(),
            AbsencePeriod {
                id: id.clone(),
                person: IdRef::new(person_id),
                absence_type: IdRef::new(absence_type_id),
                starts_from,
                ends_at,
                timezone_id: self.company_time_zone.clone(),
                comment: None,
                approval: Approval { status },
                created_at: now,
                updated_at: now,
            },
        );
        self.emit("absence-period.created", &id, person_id);
        id
    }

    pub fn update_absence_dates(
        &mut self,
        id: &str,
        starts_from: AbsenceBoundary,
        ends_at: Option<AbsenceBoundary>,
    ) -> bool {
        self.with_absence(id, "absence-period.updated.timerange", |a| {
            a.starts_from = starts_from;
            a.ends_at = ends_at;
        })
    }

    pub fn set_absence_status(&mut self, id: &str, status: AbsenceStatus) -> bool {
        self.with_absence(id, "absence-period.updated.status", |a| {
            a.approval.status = status
        })
    }

    pub fn approve_absence(&mut self, id: &str) -> bool {
        self.set_absence_status(id, AbsenceStatus::Approved)
    }

    pub fn reject_absence(&mut self, id: &str) -> bool {
        self.set_absence_status(id, AbsenceStatus::Rejected)
    }

    pub fn delete_absence(&mut self, id: &str) -> bool {
        match self.absence_periods.remove(id) {
            Some(period) => {
                self.emit("absence-period.deleted", id, &period.person.id);
                true
            }
            None => false,
        }
    }

    fn with_absence(
        &mut self,
        id: &str,
        event_name: &str,
        change: impl FnOnce(&mut AbsencePeriod),
    ) -> bool {
        match self.absence_periods.get_mut(id) {
            Some(period) => {
                change(period);
                period.updated_at = bump(period.updated_at);
                let person = period.person.id.clone();
                self.emit(event_name, id, &person);
                true
            }
            None => false,
        }
    }

    // ----- the validations the API applies to writes -----

    /// Checks an attendance period about to be stored (created, or patched into this shape).
    ///
    /// Overlap rule (undocumented in Personio, decided here): periods of the same person and the same
    /// type may not overlap (WORK with WORK, BREAK with BREAK); a BREAK may overlap WORK periods (a
    /// break lies inside the working time it interrupts) but is not required to. REJECTED periods
    /// are ignored. An open period counts as lasting until the end of its start day.
    pub fn validate_attendance(
        &self,
        candidate: &AttendancePeriod,
        ignore_id: Option<&str>,
    ) -> Result<(), WriteError> {
        if !self.persons.contains_key(&candidate.person.id) {
            return Err(WriteError::unprocessable(
                "Invalid person",
                format!("The person with id {} does not exist.", candidate.person.id),
            ));
        }
        let start = candidate.start.date_time;
        if let Some(end) = candidate.end.map(|e| e.date_time) {
            if end <= start {
                return Err(WriteError::unprocessable(
                    "Start date greater than end date",
                    "The start of the period must be before its end.",
                ));
            }
            if start.duration_until(end) > SignedDuration::from_hours(24) {
                return Err(WriteError::unprocessable(
                    "Period time range too long",
                    "An attendance period may last at most 24 hours.",
                ));
            }
            if self.rules.reject_midnight_crossing && crosses_midnight(start, end) {
                return Err(WriteError::unprocessable(
                    "Period crosses midnight",
                    "Attendance periods may not cross midnight; split the period at 00:00.",
                ));
            }
        }
        if candidate.kind == AttendanceType::Break && candidate.project.is_some() {
            return Err(WriteError::unprocessable(
                "Break periods with project",
                "Break periods can't have a project.",
            ));
        }
        let (s, e) = attendance_interval(candidate);
        let same_person = self
            .attendance_index
            .ids_of(&self.attendance_periods, &candidate.person.id);
        let clash = same_person
            .iter()
            .filter_map(|id| self.attendance_periods.get(id))
            .find(|other| {
                Some(other.id.as_str()) != ignore_id
                    && other.person.id == candidate.person.id
                    && other.kind == candidate.kind
                    && other.approval.status != AttendanceStatus::Rejected
                    && {
                        let (os, oe) = attendance_interval(other);
                        s < oe && os < e
                    }
            });
        if let Some(other) = clash {
            return Err(WriteError::unprocessable(
                "Overlapping attendance periods",
                format!(
                    "The period overlaps the existing attendance period {} of this person.",
                    other.id
                ),
            ));
        }
        Ok(())
    }

    /// Checks an absence period about to be stored.
    pub fn validate_absence(
        &self,
        candidate: &AbsencePeriod,
        ignore_id: Option<&str>,
    ) -> Result<(), WriteError> {
        if !self.persons.contains_key(&candidate.person.id) {
            return Err(WriteError::unprocessable(
                "Unprocessable absence period request",
                format!("The person with id {} does not exist.", candidate.person.id),
            ));
        }
        let Some(kind) = self.absence_types.get(&candidate.absence_type.id) else {
            return Err(WriteError::unprocessable(
                "Unprocessable absence period request",
                format!(
                    "The absence type with id {} does not exist.",
                    candidate.absence_type.id
                ),
            ));
        };
        if let Some(end) = candidate.ends_at {
            let start = candidate.starts_from;
            if end.date_time < start.date_time
                || (kind.unit == AbsenceUnit::Hour && end.date_time == start.date_time)
            {
                return Err(WriteError::unprocessable(
                    "Unprocessable absence period request",
                    "The absence period must not end before it starts.",
                ));
            }
            if start.date_time.date() == end.date_time.date()
                && start.half == Some(HalfDay::SecondHalf)
                && end.half == Some(HalfDay::FirstHalf)
            {
                return Err(WriteError::unprocessable(
                    "Unprocessable absence period request",
                    "Invalid absence day: a single-day period cannot start in the second half and end in the first half.",
                ));
            }
        }
        let (s, e) = self.absence_interval(candidate);
        let clash = self.absence_periods.values().find(|other| {
            Some(other.id.as_str()) != ignore_id
                && other.person.id == candidate.person.id
                && !matches!(
                    other.approval.status,
                    AbsenceStatus::Rejected | AbsenceStatus::Cancelled
                )
                && {
                    let (os, oe) = self.absence_interval(other);
                    s < oe && os < e
                }
        });
        if clash.is_some() {
            return Err(WriteError::new(
                409,
                "Absence period conflict",
                "The absence period overlaps another absence period of this person.",
            ));
        }
        Ok(())
    }

    /// The wall-clock span `[start, end)` an absence covers. DAY units cover whole days, cut at midday
    /// by SECOND_HALF on the start and FIRST_HALF on the end; an ongoing absence never ends.
    pub fn absence_interval(&self, period: &AbsencePeriod) -> (DateTime, DateTime) {
        let unit = self
            .absence_types
            .get(&period.absence_type.id)
            .map_or(AbsenceUnit::Day, |t| t.unit);
        match unit {
            AbsenceUnit::Hour => (
                period.starts_from.date_time,
                period.ends_at.map_or(DateTime::MAX, |e| e.date_time),
            ),
            AbsenceUnit::Day => {
                let day = period.starts_from.date_time.date();
                let start = if period.starts_from.half == Some(HalfDay::SecondHalf) {
                    day.at(12, 0, 0, 0)
                } else {
                    day.at(0, 0, 0, 0)
                };
                let end = match period.ends_at {
                    None => DateTime::MAX,
                    Some(end) => {
                        let last = end.date_time.date();
                        if end.half == Some(HalfDay::FirstHalf) {
                            last.at(12, 0, 0, 0)
                        } else {
                            last.checked_add(1.day())
                                .map_or(DateTime::MAX, |d| d.at(0, 0, 0, 0))
                        }
                    }
                };
                (start, end)
            }
        }
    }
}

/// True when a period runs past local midnight (ending exactly at 00:00 the next day is fine).
pub(crate) fn crosses_midnight(start: DateTime, end: DateTime) -> bool {
    let next_midnight = start
        .date()
        .checked_add(1.day())
        .map_or(DateTime::MAX, |d| d.at(0, 0, 0, 0));
    end > next_midnight
}

/// `[start, end)` of an attendance period; open periods last until the end of their start day.
pub(crate) fn attendance_interval(period: &AttendancePeriod) -> (DateTime, DateTime) {
    let start = period.start.date_time;
    let end = period.end.map(|e| e.date_time).unwrap_or_else(|| {
        start
            .date()
            .checked_add(1.day())
            .map_or(DateTime::MAX, |d| d.at(0, 0, 0, 0))
    });
    (start, end)
}

/// The employment a person gets when created without one: ACTIVE, internal, starting `start`.
pub fn default_employment(person_id: &str, start: jiff::civil::Date, now: Timestamp) -> Employment {
    Employment {
        id: new_uuid(),
        person: IdRef::new(person_id),
        status: EmploymentStatus::Active,
        kind: "INTERNAL".to_string(),
        position: None,
        weekly_working_hours: Some(40.0),
        full_time_weekly_working_hours: Some(40.0),
        employment_start_date: Some(start),
        probation_end_date: None,
        employment_end_date: None,
        contract_end_date: None,
        supervisor: None,
        office: None,
        legal_entity: None,
        org_units: Vec::new(),
        cost_centers: Vec::new(),
        job: None,
        termination: None,
        created_at: now,
        updated_at: now,
    }
}
