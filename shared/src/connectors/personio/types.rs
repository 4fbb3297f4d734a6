//! Personio API v2 wire types: what the API sends (read types) and what the client sends (write bodies).
//!
//! Read types are tolerant: every field the reference leaves optional is an `Option` (real answers can be
//! sparse, depending on the credential's attribute permissions), ids may be strings or numbers, enums keep
//! unknown values. Only what a record cannot be synced without is required (`id`, and for periods the
//! person, type and start), so that a record missing those is reported as malformed instead of guessed.
use jiff::civil::{Date, DateTime};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::connectors::lenient::{self, open_enum};

/// A reference to another resource: `{"id": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdRef {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
}

impl IdRef {
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
    }
}

open_enum! {
    /// Person status, derived by Personio from the latest employment.
    PersonStatus { Active = "ACTIVE", Inactive = "INACTIVE", Unspecified = "UNSPECIFIED" }
}

open_enum! {
    /// Employment status.
    EmploymentStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Onboarding = "ONBOARDING",
        Leave = "LEAVE",
        Unspecified = "UNSPECIFIED",
    }
}

open_enum! {
    /// Attendance period type.
    AttendanceKind { Work = "WORK", Break = "BREAK" }
}

open_enum! {
    /// Approval status of an attendance period (`approval.status`).
    AttendanceStatus {
        Pending = "PENDING",
        Confirmed = "CONFIRMED",
        Rejected = "REJECTED",
        Expired = "EXPIRED",
    }
}

open_enum! {
    /// Approval status of an absence period (`approval.status`).
    AbsenceStatus {
        Pending = "PENDING",
        Approved = "APPROVED",
        Rejected = "REJECTED",
        Cancelled = "CANCELLED",
    }
}

open_enum! {
    /// Which half of a boundary day an absence starts or ends with; `None` on the boundary = full day.
    HalfDay { FirstHalf = "FIRST_HALF", SecondHalf = "SECOND_HALF" }
}

open_enum! {
    /// Unit an absence type is booked in.
    AbsenceUnit { Day = "DAY", Hour = "HOUR" }
}

/// A person (GET /v2/persons, /v2/persons/{id}).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub preferred_name: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub status: Option<PersonStatus>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub custom_attributes: Vec<CustomAttribute>,
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub employments: Vec<IdRef>,
}

impl Person {
    /// The custom attribute whose `id` or `global_id` is `key`.
    pub fn custom_attribute(&self, key: &str) -> Option<&CustomAttribute> {
        self.custom_attributes
            .iter()
            .find(|a| a.id.as_deref() == Some(key) || a.global_id.as_deref() == Some(key))
    }
}

/// A custom attribute on a person. `type` is a free string (seen upper- and lowercase) and `value` any
/// JSON (string, number, list): the reference's examples and live answers disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomAttribute {
    #[serde(default, deserialize_with = "lenient::opt_string_or_number")]
    pub id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string_or_number")]
    pub global_id: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub value: serde_json::Value,
}

impl CustomAttribute {
    /// Case-insensitive comparison of the attribute's type (`"STRING"` and `"string"` are the same).
    pub fn kind_is(&self, kind: &str) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case(kind))
    }

    /// The value as text when it is a string or a number (e.g. a personal number).
    pub fn value_text(&self) -> Option<String> {
        match &self.value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// `{"title": ...}`
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Position {
    #[serde(default)]
    pub title: Option<String>,
}

/// An org unit an employment belongs to (`type` is e.g. `department` or `team`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
}

/// A cost center share of an employment (weight in percent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostCenter {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub weight: Option<f64>,
}

/// How an employment ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub termination_date: Option<Date>,
    /// Spelled `last_working_date` in the official example: both are accepted.
    #[serde(
        default,
        alias = "last_working_date",
        deserialize_with = "lenient::opt_date"
    )]
    pub last_working_day: Option<Date>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub terminated_at: Option<Date>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// An employment (GET /v2/persons/{person_id}/employments[/{id}]). Every field but `id` is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Employment {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
    #[serde(default)]
    pub person: Option<IdRef>,
    #[serde(default)]
    pub status: Option<EmploymentStatus>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub position: Option<Position>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub weekly_working_hours: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub full_time_weekly_working_hours: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub probation_end_date: Option<Date>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub employment_start_date: Option<Date>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub employment_end_date: Option<Date>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub contract_end_date: Option<Date>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub supervisor: Option<IdRef>,
    #[serde(default)]
    pub office: Option<IdRef>,
    #[serde(default)]
    pub legal_entity: Option<IdRef>,
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub org_units: Vec<OrgUnit>,
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub cost_centers: Vec<CostCenter>,
    #[serde(default)]
    pub termination: Option<Termination>,
}

/// `{"date_time": "YYYY-MM-DDTHH:MM:SS"}`: a local wall-clock time in the company's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocalDateTime {
    #[serde(
        deserialize_with = "lenient::local_datetime",
        serialize_with = "lenient::ser_local_datetime"
    )]
    pub date_time: DateTime,
}

impl From<DateTime> for LocalDateTime {
    fn from(date_time: DateTime) -> Self {
        Self { date_time }
    }
}

/// An approval block: `{"status": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval<S> {
    #[serde(default = "Option::default")]
    pub status: Option<S>,
}

/// An attendance period (GET /v2/attendance-periods[/{id}]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendancePeriod {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: AttendanceKind,
    pub person: IdRef,
    pub start: LocalDateTime,
    /// `None` for an open period (`null`, absent, or `{"date_time": null}`).
    #[serde(default, deserialize_with = "optional_local_datetime")]
    pub end: Option<LocalDateTime>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub project: Option<IdRef>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub attribution_date: Option<Date>,
    #[serde(default)]
    pub approval: Option<Approval<AttendanceStatus>>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub is_auto_generated: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub updated_at: Option<Timestamp>,
}

impl AttendancePeriod {
    pub fn status(&self) -> Option<&AttendanceStatus> {
        self.approval.as_ref()?.status.as_ref()
    }
}

/// One end of an absence period: a local date-time and, for day-based types, which half of that day.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AbsenceBoundary {
    #[serde(
        deserialize_with = "lenient::local_datetime",
        serialize_with = "lenient::ser_local_datetime"
    )]
    pub date_time: DateTime,
    /// `FIRST_HALF`/`SECOND_HALF`, or `None` (`null`) for a full boundary day.
    #[serde(default, rename = "type")]
    pub half_day: Option<HalfDay>,
}

/// An absence period (GET /v2/absence-periods[/{id}]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbsencePeriod {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
    pub person: IdRef,
    pub absence_type: IdRef,
    pub starts_from: AbsenceBoundary,
    /// `None` for an ongoing absence.
    #[serde(default, deserialize_with = "optional_boundary")]
    pub ends_at: Option<AbsenceBoundary>,
    #[serde(default)]
    pub timezone_id: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub approval: Option<Approval<AbsenceStatus>>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub updated_at: Option<Timestamp>,
}

impl AbsencePeriod {
    pub fn status(&self) -> Option<&AbsenceStatus> {
        self.approval.as_ref()?.status.as_ref()
    }
}

/// An absence type (GET /v2/absence-types[/{id}]). `category` is an open string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsenceType {
    #[serde(deserialize_with = "lenient::string_or_number")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub unit: Option<AbsenceUnit>,
}

/// Accepts `null`, `{"date_time": null}` and `{"date_time": "..."}`.
fn optional_local_datetime<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<LocalDateTime>, D::Error> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        date_time: Option<String>,
    }
    match Option::<Raw>::deserialize(d)? {
        Some(Raw { date_time: Some(s) }) => lenient::parse_local_datetime(&s)
            .map(|date_time| Some(LocalDateTime { date_time }))
            .map_err(serde::de::Error::custom),
        _ => Ok(None),
    }
}

/// Accepts `null`, `{"date_time": null, ...}` and a full boundary.
fn optional_boundary<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AbsenceBoundary>, D::Error> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        date_time: Option<String>,
        #[serde(default, rename = "type")]
        half_day: Option<HalfDay>,
    }
    match Option::<Raw>::deserialize(d)? {
        Some(Raw {
            date_time: Some(s),
            half_day,
        }) => lenient::parse_local_datetime(&s)
            .map(|date_time| {
                Some(AbsenceBoundary {
                    date_time,
                    half_day,
                })
            })
            .map_err(serde::de::Error::custom),
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------------
// Write bodies. `None` fields are left out, so a PATCH changes only what is set.
// ---------------------------------------------------------------------------------------------------

/// A custom attribute value to write: `{"id": ..., "value": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomAttributeValue {
    pub id: String,
    pub value: serde_json::Value,
}

/// Employment fields to write: the body of PATCH /v2/persons/{id}/employments/{id}, and the initial
/// employment in [`NewPerson::employments`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EmploymentPatch {
    pub status: Option<EmploymentStatus>,
    pub employment_start_date: Option<Date>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub position: Option<Position>,
    pub weekly_working_hours: Option<f64>,
    pub full_time_weekly_working_hours: Option<f64>,
    pub supervisor: Option<IdRef>,
    pub office: Option<IdRef>,
}

/// Body of POST /v2/persons (creates the person and, optionally, its first employment).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewPerson {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub preferred_name: Option<String>,
    pub gender: Option<String>,
    pub language_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_attributes: Vec<CustomAttributeValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub employments: Vec<EmploymentPatch>,
}

/// Body of PATCH /v2/persons/{id}. The person's status is not writable here (it follows the employment).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PersonPatch {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub gender: Option<String>,
    pub language_code: Option<String>,
    pub custom_attributes: Option<Vec<CustomAttributeValue>>,
}

/// Body of POST /v2/attendance-periods. `end: None` creates an open period.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAttendancePeriod {
    pub person: IdRef,
    #[serde(rename = "type")]
    pub kind: AttendanceKind,
    pub start: LocalDateTime,
    pub end: Option<LocalDateTime>,
    pub comment: Option<String>,
    /// BREAK periods cannot have a project (Personio answers 422).
    pub project: Option<IdRef>,
}

/// Body of PATCH /v2/attendance-periods/{id}. The type cannot change.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AttendancePatch {
    pub start: Option<LocalDateTime>,
    pub end: Option<LocalDateTime>,
    pub comment: Option<String>,
    /// `Some(None)` sends `"project": null`, which removes the project.
    pub project: Option<Option<IdRef>>,
}

/// Body of POST /v2/absence-periods. `ends_at: None` creates an ongoing absence.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAbsencePeriod {
    pub person: IdRef,
    pub absence_type: IdRef,
    pub starts_from: AbsenceBoundary,
    pub ends_at: Option<AbsenceBoundary>,
    pub comment: Option<String>,
    pub substitute: Option<IdRef>,
}

/// Body of PATCH /v2/absence-periods/{id}. Person and absence type are not patchable.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AbsencePatch {
    pub starts_from: Option<AbsenceBoundary>,
    pub ends_at: Option<AbsenceBoundary>,
    pub comment: Option<String>,
}
