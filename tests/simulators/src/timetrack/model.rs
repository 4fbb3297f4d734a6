//! TimeTrack records as the simulator stores them, in the API's wire names (camelCase plus the
//! undocumented snake_case extras seen on absences). `deleted` is the simulator's soft-delete flag
//! and is never emitted by the API.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub personal_number: Option<i64>,
    pub team_lead: bool,
    pub admin: bool,
    pub language: Option<String>,
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendance {
    pub id: i64,
    /// The user's username.
    pub user: String,
    #[serde(with = "tt_timestamp")]
    pub from: Timestamp,
    #[serde(with = "tt_timestamp")]
    pub to: Timestamp,
    pub notes: Option<String>,
    pub manual: bool,
    /// Worked minutes, break excluded (derived on every write).
    pub worked_minutes: i64,
    pub break_minutes: i64,
    pub latitude_start: Option<f64>,
    pub longitude_start: Option<f64>,
    pub latitude_end: Option<f64>,
    pub longitude_end: Option<f64>,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub id: i64,
    pub user: String,
    pub from: Date,
    pub to: Date,
    /// 0 new / waiting, 1 approved, 2 disapproved.
    pub status: u8,
    #[serde(rename = "absenceType")]
    pub absence_type: i64,
    #[serde(rename = "absenceTypeName")]
    pub absence_type_name: String,
    pub user_id: i64,
    pub color: String,
    pub is_plannable: bool,
    pub day_segment: Option<String>,
    pub working_time_strategies: Vec<serde_json::Value>,
    #[serde(default)]
    pub deleted: bool,
}

/// An entry of the account's absence-type catalogue (TimeTrack has no endpoint for it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsenceType {
    pub id: i64,
    /// The short name emitted as `absenceTypeName`.
    pub name: String,
    pub color: String,
    pub is_plannable: bool,
}

/// TimeTrack timestamps: emitted as `YYYY-MM-DDTHH:MM:SS.000Z`, accepted with or without millis.
pub mod tt_timestamp {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: &Timestamp) -> String {
        t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()
    }

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
