//! Seed data for both simulators: an empty company (only the absence-type catalogues) and the
//! realistic seed company of `tests/simulators/README.md`, deterministic for a given `today`.

pub mod company;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::personio::model as p;
use crate::timetrack::model as t;

/// Records of the Personio side.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonioSeed {
    pub persons: Vec<p::Person>,
    pub employments: Vec<p::Employment>,
    pub attendance_periods: Vec<p::AttendancePeriod>,
    pub absence_periods: Vec<p::AbsencePeriod>,
    pub absence_types: Vec<p::AbsenceType>,
}

/// Records of the TimeTrack side.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeTrackSeed {
    pub users: Vec<t::User>,
    pub attendances: Vec<t::Attendance>,
    pub absences: Vec<t::Absence>,
    pub absence_types: Vec<t::AbsenceType>,
}

/// One employee known to both systems, for generated companies (benchmarks, tests): the Personio
/// person and the TimeTrack user share the e-mail `<username>@<domain>` and the names; the personal
/// number is the person's numeric id; both speak German; the user is enabled.
pub struct LinkedEmployee<'a> {
    pub person_id: i64,
    pub user_id: i64,
    pub username: &'a str,
    pub domain: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub created: jiff::Timestamp,
}

/// What both simulators start with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    pub personio: PersonioSeed,
    pub timetrack: TimeTrackSeed,
}

impl Seed {
    /// No persons, users, attendances or absences; only the two absence-type catalogues (they are
    /// account configuration, and without them no absence can be written).
    pub fn empty() -> Seed {
        Seed {
            personio: PersonioSeed {
                absence_types: company::personio_absence_types(),
                ..PersonioSeed::default()
            },
            timetrack: TimeTrackSeed {
                absence_types: company::timetrack_absence_types(),
                ..TimeTrackSeed::default()
            },
        }
    }

    /// The seed company (see the README for who is who), deterministic for a given `today`.
    pub fn company(today: jiff::civil::Date) -> Seed {
        company::build(today)
    }

    /// Adds `employee` to both sides (see [`LinkedEmployee`]).
    pub fn add_linked_employee(&mut self, employee: LinkedEmployee<'_>) {
        let email = format!("{}@{}", employee.username, employee.domain);
        self.personio.persons.push(p::Person {
            id: employee.person_id.to_string(),
            email: Some(email.clone()),
            first_name: employee.first_name.to_string(),
            last_name: employee.last_name.to_string(),
            preferred_name: None,
            gender: "UNSPECIFIED".to_string(),
            language_code: Some("de".to_string()),
            custom_attributes: Vec::new(),
            created_at: employee.created,
            updated_at: employee.created,
        });
        self.timetrack.users.push(t::User {
            id: employee.user_id,
            username: employee.username.to_string(),
            first_name: employee.first_name.to_string(),
            last_name: employee.last_name.to_string(),
            email,
            personal_number: Some(employee.person_id),
            team_lead: false,
            admin: false,
            language: Some("de".to_string()),
            enabled: true,
        });
    }

    pub fn from_json_file(path: impl AsRef<Path>) -> anyhow::Result<Seed> {
        let text = std::fs::read_to_string(path.as_ref())?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn to_json_pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
