//! The canonical employee: the one form a Personio person and a TimeTrack user are both brought into, so
//! that "the same employee" compares equal and a mapping can fingerprint what was last synced.
//!
//! Status and the leaver policy: the status Personio derives from the latest employment decides `active`.
//! - [`LeaverPolicy::Deactivate`]: `active` is part of the compared value on both sides, so a person who
//!   left (INACTIVE) differs from an enabled TimeTrack user and the planner updates TimeTrack (deactivates).
//! - [`LeaverPolicy::Ignore`]: status is *not* part of the compared value — both sides' canonical values
//!   carry `active = true` — so the planner never sees a status difference and TimeTrack keeps whatever
//!   status it has.
//!
//! Status flows only Personio → TimeTrack ("status follows Personio"): the Personio write fields
//! ([`super::personio::PersonioPersonFields`]) carry no status.
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::personio::{EmploymentStatus, PersonStatus, PersonioPersonView};
use super::timetrack::TimeTrackUserView;
use crate::settings::LeaverPolicy;

/// The canonical employee value. The natural key is [`Employee::natural_key`], the normalised e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    /// Normalised: trimmed and lowercase (see [`normalise_email`]).
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub active: bool,
}

/// Why a record cannot take part in the employees sync; reported in the run, never guessed around.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotSyncable {
    /// The e-mail is the link and the natural key: without one a record cannot be synced.
    #[error(
        "{system} record {id} has no e-mail address; the e-mail links employees across systems"
    )]
    MissingEmail {
        system: crate::domain::System,
        id: String,
    },
}

impl Employee {
    /// The natural key: the normalised e-mail.
    pub fn natural_key(&self) -> &str {
        &self.email
    }

    /// A Personio person in canonical form. `active` follows [`is_active`] under
    /// [`LeaverPolicy::Deactivate`] and is constant under [`LeaverPolicy::Ignore`] (see the module doc).
    pub fn from_personio(
        person: &PersonioPersonView,
        policy: LeaverPolicy,
    ) -> Result<Self, NotSyncable> {
        let email = person
            .email
            .as_deref()
            .and_then(normalise_email)
            .ok_or_else(|| NotSyncable::MissingEmail {
                system: crate::domain::System::Personio,
                id: person.id.clone(),
            })?;
        Ok(Employee {
            email,
            first_name: normalise_name(&person.first_name),
            last_name: normalise_name(&person.last_name),
            active: compared_status(is_active(person), policy),
        })
    }

    /// A TimeTrack user in canonical form (`enabled` is its status, subject to the same policy).
    pub fn from_timetrack(
        user: &TimeTrackUserView,
        policy: LeaverPolicy,
    ) -> Result<Self, NotSyncable> {
        let email = user
            .email
            .as_deref()
            .and_then(normalise_email)
            .ok_or_else(|| NotSyncable::MissingEmail {
                system: crate::domain::System::TimeTrack,
                id: user.id.to_string(),
            })?;
        Ok(Employee {
            email,
            first_name: normalise_name(&user.first_name),
            last_name: normalise_name(&user.last_name),
            active: compared_status(user.enabled, policy),
        })
    }
}

fn compared_status(active: bool, policy: LeaverPolicy) -> bool {
    match policy {
        LeaverPolicy::Deactivate => active,
        // Not compared: a constant on both sides never differs.
        LeaverPolicy::Ignore => true,
    }
}

/// Is this Personio person employed? The person status when Personio states one; otherwise the current
/// employment's status, where onboarding and leave (e.g. parental leave) still count as employed, as they
/// do in Personio's own ACTIVE.
pub fn is_active(person: &PersonioPersonView) -> bool {
    match person.status {
        PersonStatus::Active => true,
        PersonStatus::Inactive => false,
        PersonStatus::Unspecified => matches!(
            person.employment.as_ref().map(|e| e.status),
            Some(EmploymentStatus::Active | EmploymentStatus::Onboarding | EmploymentStatus::Leave)
        ),
    }
}

/// E-mails compare case-insensitively and without surrounding whitespace. Empty is absent.
pub fn normalise_email(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.to_lowercase())
    }
}

/// Names are compared as written, trimmed, with inner runs of whitespace collapsed (a double space typed
/// in one system is not a change worth a write).
fn normalise_name(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Personal numbers compare as written, trimmed; an all-digit number loses its leading zeros, because
/// TimeTrack stores `personalNumber` as a number ("00123" in Personio is 123 there). Empty is absent.
pub fn normalise_personal_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().all(|c| c.is_ascii_digit()) {
        let without_zeros = trimmed.trim_start_matches('0');
        return Some(if without_zeros.is_empty() {
            "0".to_string()
        } else {
            without_zeros.to_string()
        });
    }
    Some(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflows::employees::personio::EmploymentView;

    fn person(status: PersonStatus) -> PersonioPersonView {
        PersonioPersonView {
            id: "7788".into(),
            email: Some("  Lena.Vogt@Example.COM ".into()),
            first_name: " Lena ".into(),
            last_name: "Vogt".into(),
            status,
            personal_number: None,
            employment: None,
        }
    }

    fn user(enabled: bool) -> TimeTrackUserView {
        TimeTrackUserView {
            id: 17,
            username: "lena.vogt".into(),
            email: Some("lena.vogt@example.com".into()),
            first_name: "Lena".into(),
            last_name: "Vogt".into(),
            enabled,
            personal_number: None,
        }
    }

    #[test]
    fn same_person_on_both_sides_is_equal_despite_case_and_whitespace() {
        let p = Employee::from_personio(&person(PersonStatus::Active), LeaverPolicy::Deactivate)
            .unwrap();
        let t = Employee::from_timetrack(&user(true), LeaverPolicy::Deactivate).unwrap();
        assert_eq!(p, t);
        assert_eq!(p.natural_key(), "lena.vogt@example.com");
    }

    #[test]
    fn leaver_is_deactivated_under_deactivate_policy() {
        let leaver =
            Employee::from_personio(&person(PersonStatus::Inactive), LeaverPolicy::Deactivate)
                .unwrap();
        let enabled = Employee::from_timetrack(&user(true), LeaverPolicy::Deactivate).unwrap();
        assert!(!leaver.active);
        assert_ne!(leaver, enabled, "the planner must see a status change");
        let disabled = Employee::from_timetrack(&user(false), LeaverPolicy::Deactivate).unwrap();
        assert_eq!(leaver, disabled);
    }

    #[test]
    fn leaver_is_left_alone_under_ignore_policy() {
        let leaver =
            Employee::from_personio(&person(PersonStatus::Inactive), LeaverPolicy::Ignore).unwrap();
        let enabled = Employee::from_timetrack(&user(true), LeaverPolicy::Ignore).unwrap();
        let disabled = Employee::from_timetrack(&user(false), LeaverPolicy::Ignore).unwrap();
        assert_eq!(leaver, enabled);
        assert_eq!(leaver, disabled);
    }

    #[test]
    fn unspecified_person_status_falls_back_to_the_employment() {
        let mut p = person(PersonStatus::Unspecified);
        assert!(!is_active(&p), "no employment known: not active");
        for (status, active) in [
            (EmploymentStatus::Active, true),
            (EmploymentStatus::Onboarding, true),
            (EmploymentStatus::Leave, true),
            (EmploymentStatus::Inactive, false),
            (EmploymentStatus::Unspecified, false),
        ] {
            p.employment = Some(EmploymentView {
                status,
                ..EmploymentView::default()
            });
            assert_eq!(is_active(&p), active, "{status:?}");
        }
    }

    #[test]
    fn missing_email_is_reported() {
        let mut p = person(PersonStatus::Active);
        p.email = Some("   ".into());
        let err = Employee::from_personio(&p, LeaverPolicy::Deactivate).unwrap_err();
        assert_eq!(
            err,
            NotSyncable::MissingEmail {
                system: crate::domain::System::Personio,
                id: "7788".into()
            }
        );
        let mut u = user(true);
        u.email = None;
        assert!(Employee::from_timetrack(&u, LeaverPolicy::Deactivate).is_err());
    }

    #[test]
    fn names_collapse_inner_whitespace() {
        let mut p = person(PersonStatus::Active);
        p.first_name = "Anna  Maria ".into();
        let e = Employee::from_personio(&p, LeaverPolicy::Deactivate).unwrap();
        assert_eq!(e.first_name, "Anna Maria");
    }
}
