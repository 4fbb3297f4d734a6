//! TimeTrack API v2 "ext" wire types: users, attendances, absences, and the write bodies.
//!
//! Tolerant where the reference is loose: ids and numbers may be numeric strings, booleans may be `1`/`0`,
//! timestamps may carry milliseconds, records may be keyed `user` or `username`.
use std::fmt;

use jiff::civil::{Date, DateTime};
use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::connectors::lenient;

/// A TimeTrack timestamp as written on the wire (`YYYY-MM-DDTHH:MM:SS[.mmm]Z`), kept as the wall-clock
/// value (read with or without the `Z`).
///
/// Whether TimeTrack's `Z` really means UTC or the account's local wall clock is not settled (see the
/// reference); the workflows decide from the integration's `timetrack_timestamp_mode`, not this type.
/// Written back always as `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeTrackTimestamp {
    pub wall: DateTime,
}

impl TimeTrackTimestamp {
    /// A timestamp to send; it is written with `Z`.
    pub fn new(wall: DateTime) -> Self {
        Self { wall }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.trim();
        let bare = trimmed
            .strip_suffix('Z')
            .or_else(|| trimmed.strip_suffix('z'))
            .unwrap_or(trimmed);
        if bare.get(10..).is_some_and(|time| time.contains(['+', '-'])) {
            return Err(format!(
                "invalid TimeTrack timestamp {s:?}: offsets other than Z are not expected"
            ));
        }
        let wall = bare
            .parse::<DateTime>()
            .map_err(|e| format!("invalid TimeTrack timestamp {s:?}: {e}"))?;
        Ok(Self { wall })
    }

    /// The wire form: seconds precision, always with `Z`.
    pub fn to_wire(&self) -> String {
        format_wire(self.wall)
    }
}

impl From<DateTime> for TimeTrackTimestamp {
    fn from(wall: DateTime) -> Self {
        Self::new(wall)
    }
}

impl fmt::Display for TimeTrackTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl Serialize for TimeTrackTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for TimeTrackTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(de::Error::custom)
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`
pub(crate) fn format_wire(wall: DateTime) -> String {
    wall.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn opt_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeTrackTimestamp>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => TimeTrackTimestamp::parse(&s)
            .map(Some)
            .map_err(de::Error::custom),
    }
}

/// Absence approval state: 0 new/waiting, 1 approved, 2 disapproved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbsenceStatus {
    Pending,
    Approved,
    Rejected,
}

impl AbsenceStatus {
    pub fn code(self) -> i64 {
        match self {
            AbsenceStatus::Pending => 0,
            AbsenceStatus::Approved => 1,
            AbsenceStatus::Rejected => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(AbsenceStatus::Pending),
            1 => Some(AbsenceStatus::Approved),
            2 => Some(AbsenceStatus::Rejected),
            _ => None,
        }
    }
}

impl Serialize for AbsenceStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for AbsenceStatus {
    /// Accepts `1` and `"1"` (the reference's own example sends the string).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = lenient::int(d)?;
        Self::from_code(code)
            .ok_or_else(|| de::Error::custom(format!("unknown absence status {code}")))
    }
}

/// A TimeTrack user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    pub username: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub team_lead: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub admin: Option<bool>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string_or_number")]
    pub personal_number: Option<String>,
}

/// An attendance (working time without a project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendance {
    #[serde(alias = "ID", deserialize_with = "lenient::int")]
    pub id: i64,
    /// The username (not the numeric user id).
    #[serde(alias = "username")]
    pub user: String,
    pub from: TimeTrackTimestamp,
    /// `None` while a clock is still running.
    #[serde(default, deserialize_with = "opt_timestamp")]
    pub to: Option<TimeTrackTimestamp>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub manual: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub worked_minutes: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub break_minutes: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub latitude_start: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub longitude_start: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub latitude_end: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub longitude_end: Option<f64>,
}

/// An absence: whole days `from`..=`to` of one type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Absence {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(alias = "username")]
    pub user: String,
    #[serde(deserialize_with = "lenient::date")]
    pub from: Date,
    #[serde(deserialize_with = "lenient::date")]
    pub to: Date,
    pub status: AbsenceStatus,
    #[serde(deserialize_with = "lenient::int")]
    pub absence_type: i64,
    #[serde(default)]
    pub absence_type_name: Option<String>,
    /// Undocumented but seen in real payloads.
    #[serde(default, rename = "user_id", deserialize_with = "lenient::opt_int")]
    pub user_id: Option<i64>,
    /// Undocumented; may encode half days (unconfirmed), kept raw.
    #[serde(default, rename = "day_segment")]
    pub day_segment: Option<serde_json::Value>,
}

// ---------------------------------------------------------------------------------------------------
// Write bodies
// ---------------------------------------------------------------------------------------------------

fn ser_secret<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

fn ser_opt_secret<S: Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => s.serialize_str(secret.expose_secret()),
        None => s.serialize_none(),
    }
}

/// Personal numbers are numbers in TimeTrack's example; one that is not (leading zeros, letters) is
/// sent as a string rather than mangled.
fn ser_personal_number<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match value.as_deref() {
        Some(v) if !v.starts_with('0') || v == "0" => match v.parse::<u64>() {
            Ok(n) => s.serialize_u64(n),
            Err(_) => s.serialize_str(v),
        },
        Some(v) => s.serialize_str(v),
        None => s.serialize_none(),
    }
}

/// Body of POST /users. `Debug` prints the password as `[REDACTED]`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(serialize_with = "ser_secret")]
    pub password: SecretString,
    pub team_lead: Option<bool>,
    pub admin: Option<bool>,
    pub language: Option<String>,
    #[serde(serialize_with = "ser_personal_number")]
    pub personal_number: Option<String>,
}

/// Body of PUT /users/{id}. TimeTrack does not allow changing `enabled` or `username` here, so this type
/// has no such fields. `None` fields are left out.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub team_lead: Option<bool>,
    pub admin: Option<bool>,
    pub language: Option<String>,
    #[serde(serialize_with = "ser_personal_number")]
    pub personal_number: Option<String>,
    #[serde(serialize_with = "ser_opt_secret")]
    pub password: Option<SecretString>,
}

/// Body of POST /attendances.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAttendance {
    pub username: String,
    pub from: TimeTrackTimestamp,
    pub to: TimeTrackTimestamp,
    pub notes: Option<String>,
    pub break_minutes: Option<i64>,
}

/// Body of PUT /attendances/{id}. `None` fields are left out.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttendanceUpdate {
    pub username: Option<String>,
    pub from: Option<TimeTrackTimestamp>,
    pub to: Option<TimeTrackTimestamp>,
    pub notes: Option<String>,
    pub break_minutes: Option<i64>,
}

/// Body of POST /absences.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAbsence {
    pub username: String,
    pub from: Date,
    pub to: Date,
    pub absence_type: i64,
    pub status: Option<AbsenceStatus>,
}

/// Body of PUT /absences/{id}: TimeTrack changes nothing but the status in place.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct AbsenceStatusUpdate {
    pub status: AbsenceStatus,
}
