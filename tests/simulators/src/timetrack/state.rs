//! The TimeTrack simulator's records. Tests reach this through `TimeTrackSim::state()`; the
//! convenience methods skip API validation so tests can build any state.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::Timestamp;

use super::model::*;
use crate::seed::TimeTrackSeed;

#[derive(Clone, Debug)]
pub struct TimeTrackState {
    pub users: BTreeMap<i64, User>,
    /// Includes soft-deleted entries (`deleted: true`), which the API hides from lists and answers
    /// 404/15020 for.
    pub attendances: BTreeMap<i64, Attendance>,
    pub absences: BTreeMap<i64, Absence>,
    pub absence_types: BTreeMap<i64, AbsenceType>,
    /// The password each user was created (or last updated) with through the API, by user id: kept as
    /// the real system keeps it, never answered. Tests read it to check that it leaks nowhere.
    pub passwords: BTreeMap<i64, String>,
}

/// Worked minutes of an entry: its length minus the break, never negative.
pub(crate) fn worked_minutes(from: Timestamp, to: Timestamp, break_minutes: i64) -> i64 {
    let total = (to.as_second() - from.as_second()) / 60;
    (total - break_minutes).max(0)
}

fn next_id<V>(map: &BTreeMap<i64, V>, floor: i64) -> i64 {
    map.keys()
        .next_back()
        .map_or(floor, |max| (*max).max(floor - 1) + 1)
}

impl TimeTrackState {
    pub(crate) fn from_seed(seed: &TimeTrackSeed) -> TimeTrackState {
        TimeTrackState {
            users: seed.users.iter().map(|u| (u.id, u.clone())).collect(),
            attendances: seed.attendances.iter().map(|a| (a.id, a.clone())).collect(),
            absences: seed.absences.iter().map(|a| (a.id, a.clone())).collect(),
            absence_types: seed
                .absence_types
                .iter()
                .map(|t| (t.id, t.clone()))
                .collect(),
            passwords: BTreeMap::new(),
        }
    }

    pub fn to_seed(&self) -> TimeTrackSeed {
        TimeTrackSeed {
            users: self.users.values().cloned().collect(),
            attendances: self.attendances.values().cloned().collect(),
            absences: self.absences.values().cloned().collect(),
            absence_types: self.absence_types.values().cloned().collect(),
        }
    }

    pub(crate) fn next_user_id(&self) -> i64 {
        next_id(&self.users, 501)
    }

    pub(crate) fn next_attendance_id(&self) -> i64 {
        next_id(&self.attendances, 10_001)
    }

    pub(crate) fn next_absence_id(&self) -> i64 {
        next_id(&self.absences, 20_001)
    }

    /// Finds a user by username, case-insensitively.
    pub fn user_by_username(&self, username: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn absence_type_by_name(&self, name: &str) -> Option<&AbsenceType> {
        self.absence_types.values().find(|t| t.name == name)
    }

    /// Adds an enabled user; returns the id.
    pub fn add_user(
        &mut self,
        username: &str,
        first_name: &str,
        last_name: &str,
        email: &str,
    ) -> i64 {
        let id = self.next_user_id();
        self.users.insert(
            id,
            User {
                id,
                username: username.to_string(),
                first_name: first_name.to_string(),
                last_name: last_name.to_string(),
                email: email.to_string(),
                personal_number: None,
                team_lead: false,
                admin: false,
                language: Some("de".to_string()),
                enabled: true,
            },
        );
        id
    }

    pub fn set_user_enabled(&mut self, id: i64, enabled: bool) -> bool {
        self.users
            .get_mut(&id)
            .map(|u| u.enabled = enabled)
            .is_some()
    }

    /// Adds a manual attendance; returns the id.
    pub fn add_attendance(
        &mut self,
        username: &str,
        from: Timestamp,
        to: Timestamp,
        break_minutes: i64,
    ) -> i64 {
        let id = self.next_attendance_id();
        self.attendances.insert(
            id,
            Attendance {
                id,
                user: username.to_string(),
                from,
                to,
                notes: None,
                manual: true,
                worked_minutes: worked_minutes(from, to, break_minutes),
                break_minutes,
                latitude_start: None,
                longitude_start: None,
                latitude_end: None,
                longitude_end: None,
                deleted: false,
            },
        );
        id
    }

    pub fn update_attendance(
        &mut self,
        id: i64,
        from: Timestamp,
        to: Timestamp,
        break_minutes: i64,
    ) -> bool {
        match self.attendances.get_mut(&id) {
            Some(a) => {
                a.from = from;
                a.to = to;
                a.break_minutes = break_minutes;
                a.worked_minutes = worked_minutes(from, to, break_minutes);
                true
            }
            None => false,
        }
    }

    pub fn set_attendance_notes(&mut self, id: i64, notes: Option<&str>) -> bool {
        self.attendances
            .get_mut(&id)
            .map(|a| a.notes = notes.map(str::to_string))
            .is_some()
    }

    /// Soft-deletes an attendance (as `DELETE /attendances/{id}` does).
    pub fn delete_attendance(&mut self, id: i64) -> bool {
        self.attendances
            .get_mut(&id)
            .map(|a| a.deleted = true)
            .is_some()
    }

    /// Adds an absence of a catalogue type (status 0 new, 1 approved, 2 disapproved); returns the id.
    /// Returns `None` when the user or the type is unknown.
    pub fn add_absence(
        &mut self,
        username: &str,
        absence_type: i64,
        from: Date,
        to: Date,
        status: u8,
    ) -> Option<i64> {
        let user_id = self.user_by_username(username)?.id;
        let kind = self.absence_types.get(&absence_type)?.clone();
        let id = self.next_absence_id();
        self.absences.insert(
            id,
            Absence {
                id,
                user: username.to_string(),
                from,
                to,
                status,
                absence_type,
                absence_type_name: kind.name,
                user_id,
                color: kind.color,
                is_plannable: kind.is_plannable,
                day_segment: None,
                working_time_strategies: Vec::new(),
                deleted: false,
            },
        );
        Some(id)
    }

    pub fn set_absence_status(&mut self, id: i64, status: u8) -> bool {
        self.absences
            .get_mut(&id)
            .map(|a| a.status = status)
            .is_some()
    }

    /// Soft-deletes an absence.
    pub fn delete_absence(&mut self, id: i64) -> bool {
        self.absences
            .get_mut(&id)
            .map(|a| a.deleted = true)
            .is_some()
    }

    /// Live (not soft-deleted) attendances.
    pub fn live_attendances(&self) -> impl Iterator<Item = &Attendance> {
        self.attendances.values().filter(|a| !a.deleted)
    }

    /// Live (not soft-deleted) absences.
    pub fn live_absences(&self) -> impl Iterator<Item = &Absence> {
        self.absences.values().filter(|a| !a.deleted)
    }
}
