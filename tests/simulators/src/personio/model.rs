//! Personio records as the simulator stores them. Field names follow the API v2 wire names (see
//! `personio-api-v2.md`), so the seed file reads like API output; values the API derives (a person's
//! `status`, `employments` references, `_meta` links) are added when a record is rendered.

use jiff::civil::{Date, DateTime};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// `{ "id": "..." }`, the reference shape used throughout API v2.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IdRef {
    pub id: String,
}

impl IdRef {
    pub fn new(id: impl Into<String>) -> IdRef {
        IdRef { id: id.into() }
    }
}

/// A custom attribute as read from a person. `value` is any JSON (live data shows a number for `int`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomAttribute {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub global_id: String,
    pub label: String,
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: Option<String>,
    /// `UNSPECIFIED` | `MALE` | `FEMALE` | `DIVERSE`.
    pub gender: String,
    pub language_code: Option<String>,
    pub custom_attributes: Vec<CustomAttribute>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EmploymentStatus {
    Active,
    Inactive,
    Onboarding,
    Leave,
    Unspecified,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    /// `department`, `team`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostCenter {
    pub id: String,
    pub weight: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    pub termination_date: Option<Date>,
    pub last_working_day: Option<Date>,
    pub terminated_at: Option<Date>,
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Employment {
    pub id: String,
    pub person: IdRef,
    pub status: EmploymentStatus,
    /// `INTERNAL` | `EXTERNAL` | `UNSPECIFIED`.
    #[serde(rename = "type")]
    pub kind: String,
    pub position: Option<Position>,
    pub weekly_working_hours: Option<f64>,
    pub full_time_weekly_working_hours: Option<f64>,
    pub employment_start_date: Option<Date>,
    pub probation_end_date: Option<Date>,
    pub employment_end_date: Option<Date>,
    pub contract_end_date: Option<Date>,
    pub supervisor: Option<IdRef>,
    pub office: Option<IdRef>,
    pub legal_entity: Option<IdRef>,
    pub org_units: Vec<OrgUnit>,
    pub cost_centers: Vec<CostCenter>,
    pub job: Option<IdRef>,
    pub termination: Option<Termination>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttendanceType {
    Work,
    Break,
}

/// Attendance approval status (`approval.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttendanceStatus {
    Pending,
    Confirmed,
    Rejected,
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval<S> {
    pub status: S,
}

/// A local wall-clock time in the company's time zone, `{ "date_time": "YYYY-MM-DDTHH:MM:SS" }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LocalTime {
    pub date_time: DateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendancePeriod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: AttendanceType,
    pub person: IdRef,
    pub start: LocalTime,
    /// `None` = open period (clocked in, not yet out).
    pub end: Option<LocalTime>,
    pub attribution_date: Date,
    pub comment: Option<String>,
    pub project: Option<IdRef>,
    pub approval: Approval<AttendanceStatus>,
    pub is_auto_generated: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AbsenceUnit {
    Day,
    Hour,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsenceType {
    pub id: String,
    pub name: String,
    /// Open string: `PAID_VACATION`, `SICK_LEAVE`, `OTHER`, ...
    pub category: String,
    pub unit: AbsenceUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HalfDay {
    FirstHalf,
    SecondHalf,
}

/// `{ "date_time": ..., "type": FIRST_HALF | SECOND_HALF | null }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsenceBoundary {
    pub date_time: DateTime,
    #[serde(rename = "type")]
    pub half: Option<HalfDay>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AbsenceStatus {
    Approved,
    Pending,
    Rejected,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsencePeriod {
    pub id: String,
    pub person: IdRef,
    pub absence_type: IdRef,
    pub starts_from: AbsenceBoundary,
    /// `None` = ongoing (e.g. long-term sick leave).
    pub ends_at: Option<AbsenceBoundary>,
    pub timezone_id: String,
    pub comment: Option<String>,
    pub approval: Approval<AbsenceStatus>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
