//! The TimeTrack side port of the time entries workflow (see [`super`] for the rules both ports keep).
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;

use super::{day_after, day_before, refused, rejection, scope_days, TimeEntryContext};
use crate::connectors::timetrack::{
    Attendance, AttendanceQuery, AttendanceUpdate, NewAttendance, TimeTrackClient,
    TimeTrackTimestamp,
};
use crate::connectors::ErrorClass;
use crate::domain::{DateWindow, ScopeEntry};
use crate::engine::{Listing, PortError, PortErrorClass, Record, Rejected, SidePort};
use crate::workflows::port_error::from_timetrack;
use crate::workflows::time_entries::canonical::TimeEntry;
use crate::workflows::time_entries::timetrack::{
    entry_from_timetrack, timetrack_fields, TimeTrackAttendance,
};

/// TimeTrack attendances as canonical entries.
pub(crate) struct TimeTrackTimeEntries {
    client: Arc<TimeTrackClient>,
    context: Arc<TimeEntryContext>,
}

impl TimeTrackTimeEntries {
    pub(crate) fn new(client: Arc<TimeTrackClient>, context: Arc<TimeEntryContext>) -> Self {
        Self { client, context }
    }

    /// One wire attendance as a canonical entry, or why it cannot be synced.
    fn read(&self, a: &Attendance) -> Result<TimeEntry, Rejected> {
        let id = a.id.to_string();
        let person = self
            .context
            .directory
            .person_for_username(&a.user)
            .ok_or_else(|| Rejected {
                id: Some(id.clone()),
                reason: format!(
                    "user {} is not linked to a Personio person: run the employees sync first",
                    a.user
                ),
            })?;
        let break_minutes = u32::try_from(a.break_minutes.unwrap_or(0)).map_err(|_| Rejected {
            id: Some(id.clone()),
            reason: format!(
                "breakMinutes {:?} is not a whole number of minutes",
                a.break_minutes
            ),
        })?;
        let view = TimeTrackAttendance {
            id: id.clone(),
            employee: person.to_string(),
            from: a.from.wall,
            to: a.to.map(|t| t.wall),
            break_minutes,
            notes: a.notes.clone(),
        };
        entry_from_timetrack(&view, &self.context.zone, self.context.mode)
            .map(|e| e.entry)
            .map_err(|s| rejection(&s))
    }

    fn username(&self, value: &TimeEntry) -> Result<String, PortError> {
        self.context
            .directory
            .username_for_person(&value.employee)
            .map(str::to_string)
            .ok_or_else(|| {
                refused(format!(
                    "person {} has no linked TimeTrack user: run the employees sync first",
                    value.employee
                ))
            })
    }

    fn parse_id(id: &str) -> Result<i64, PortError> {
        id.parse().map_err(|_| {
            PortError::new(
                PortErrorClass::NotFound,
                format!("{id:?} is not a TimeTrack attendance id"),
            )
        })
    }

    /// The attendances (of one user, when given) anchored in `window`.
    async fn attendances_in(
        &self,
        username: Option<String>,
        window: &DateWindow,
    ) -> Result<Listing<TimeEntry>, PortError> {
        let widened = DateWindow {
            from: day_before(window.from),
            to: day_after(window.to),
        };
        let (start, end) = self.context.zone.window_bounds(&widened).map_err(|e| {
            PortError::new(PortErrorClass::Fatal, format!("window {window:?}: {e}"))
        })?;
        let query = AttendanceQuery {
            username,
            from: Some(self.digits(start)),
            to: Some(self.digits(end)),
        };
        let listing = self
            .client
            .list_attendances(&query)
            .await
            .map_err(|e| from_timetrack("list attendances", &e))?;
        let mut out = Listing::default();
        for m in &listing.malformed {
            out.rejected.push(Rejected::unreadable(
                m.id.clone(),
                "TimeTrack attendance",
                &m.error,
            ));
        }
        for a in &listing.items {
            match self.read(a) {
                Ok(entry) if self.context.in_window(&entry, window) => {
                    out.records.push(Record::new(a.id.to_string(), entry));
                }
                Ok(_) => {}
                Err(r) => {
                    // Report only what starts in the window (by its digits, as best known).
                    let day = match self
                        .context
                        .zone
                        .timetrack_to_instant(a.from.wall, self.context.mode)
                    {
                        Ok(ts) => self.context.zone.local_date(ts),
                        Err(_) => a.from.wall.date(),
                    };
                    if window.from <= day && day <= window.to {
                        out.rejected.push(r);
                    }
                }
            }
        }
        Ok(out)
    }

    fn digits(&self, instant: Timestamp) -> TimeTrackTimestamp {
        TimeTrackTimestamp::new(
            self.context
                .zone
                .instant_to_timetrack(instant, self.context.mode),
        )
    }
}

#[async_trait]
impl SidePort<TimeEntry> for TimeTrackTimeEntries {
    async fn list(&self, window: &DateWindow) -> Result<Listing<TimeEntry>, PortError> {
        self.attendances_in(None, window).await
    }

    /// The attendances of the person's linked user anchored on the entry's days (`username` filter).
    /// A person without a linked user has none to read here.
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<TimeEntry>, PortError> {
        let window = scope_days(entry)?;
        match self.context.directory.username_for_person(&entry.person) {
            Some(username) => {
                self.attendances_in(Some(username.to_string()), &window)
                    .await
            }
            None => Ok(Listing::default()),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Record<TimeEntry>>, PortError> {
        let n = Self::parse_id(id)?;
        let a = match self.client.get_attendance(n).await {
            Ok(a) => a,
            // 404, including a soft-deleted attendance (15020): gone.
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(None),
            Err(e) => return Err(from_timetrack("get attendance", &e)),
        };
        match self.read(&a) {
            Ok(entry) => Ok(Some(Record::new(id, entry))),
            Err(r) => Err(PortError::new(
                PortErrorClass::Invalid,
                format!("TimeTrack attendance {id} cannot be synced: {}", r.reason),
            )),
        }
    }

    async fn create(&self, value: &TimeEntry) -> Result<String, PortError> {
        let username = self.username(value)?;
        let f = timetrack_fields(value, &self.context.zone, self.context.mode);
        let body = NewAttendance {
            username,
            from: TimeTrackTimestamp::new(f.from),
            to: TimeTrackTimestamp::new(f.to),
            notes: (!f.notes.is_empty()).then_some(f.notes),
            break_minutes: Some(i64::from(f.break_minutes)),
        };
        self.client
            .create_attendance(&body)
            .await
            .map(|id| id.to_string())
            .map_err(|e| from_timetrack("create attendance", &e))
    }

    async fn update(
        &self,
        id: &str,
        value: &TimeEntry,
        previous: Option<&TimeEntry>,
    ) -> Result<String, PortError> {
        let n = Self::parse_id(id)?;
        let f = timetrack_fields(value, &self.context.zone, self.context.mode);
        let moved = previous.is_some_and(|p| p.employee != value.employee);
        let body = AttendanceUpdate {
            username: if moved {
                Some(self.username(value)?)
            } else {
                None
            },
            from: Some(TimeTrackTimestamp::new(f.from)),
            to: Some(TimeTrackTimestamp::new(f.to)),
            // Sent even when empty, so that a removed note is removed.
            notes: Some(f.notes),
            break_minutes: Some(i64::from(f.break_minutes)),
        };
        self.client
            .update_attendance(n, &body)
            .await
            .map_err(|e| from_timetrack("update attendance", &e))?;
        Ok(id.to_string())
    }

    async fn delete(&self, id: &str) -> Result<(), PortError> {
        let n = Self::parse_id(id)?;
        self.client
            .delete_attendance(n)
            .await
            .map_err(|e| from_timetrack("delete attendance", &e))
    }
}
