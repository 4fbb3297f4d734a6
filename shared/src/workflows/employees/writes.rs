//! The plain field sets the employees workflow writes to each side. Adapters turn them into requests.
//!
//! - Import (Personio → TimeTrack) creates a user: username derived from the e-mail, a generated password,
//!   names, e-mail, and the personal number when it is numeric (TimeTrack stores it as a number).
//! - Updates to TimeTrack carry the names and e-mail (TimeTrack cannot update `username` or `enabled`);
//!   deactivation is its own operation (TimeTrack's `DELETE /users/{id}` disables the user).
//!   Reactivating a disabled user is not offered by the TimeTrack API: [`timetrack_change`] reports it.
//! - Export (TimeTrack → Personio) creates a person with first name, last name and e-mail only, and no
//!   employment: Personio creates the initial employment itself, and its contract data (start date,
//!   hours, org units) is HR's to enter — guessing it would put wrong data into payroll.
//! - Status never flows to Personio ("status follows Personio").
use std::collections::HashSet;

use secrecy::SecretString;
use thiserror::Error;

use super::canonical::Employee;
use super::password::generate_password;
use super::username::derive_username;
use super::view::TimeTrackUserView;
use crate::settings::LeaverPolicy;

/// A TimeTrack user to create. `Debug` redacts the password.
#[derive(Debug, Clone)]
pub struct NewTimeTrackUser {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub personal_number: Option<i64>,
    pub password: SecretString,
}

/// Fields of an existing TimeTrack user that may be updated in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeTrackUserFields {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// What updating a TimeTrack user from `old` to `new` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeTrackUserChange {
    /// `PUT /users/{id}` with these fields, when names or e-mail changed.
    pub update: Option<TimeTrackUserFields>,
    /// Disable the user (a leaver under the deactivate policy).
    pub deactivate: bool,
}

/// The change cannot be made through the TimeTrack API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnsupportedChange {
    #[error("TimeTrack user {email} is disabled but active in Personio; the TimeTrack API cannot re-enable users, re-enable them in TimeTrack")]
    Reactivation { email: String },
}

/// A Personio person to create (export), or the fields to patch on an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonioPersonFields {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// The user to create in TimeTrack for `employee`; `existing_usernames` are all usernames TimeTrack has
/// (including disabled users), so the new one does not collide.
pub fn new_timetrack_user(
    employee: &Employee,
    personal_number: Option<&str>,
    existing_usernames: &HashSet<String>,
) -> NewTimeTrackUser {
    NewTimeTrackUser {
        username: derive_username(
            &employee.email,
            &employee.first_name,
            &employee.last_name,
            existing_usernames,
        ),
        first_name: employee.first_name.clone(),
        last_name: employee.last_name.clone(),
        email: employee.email.clone(),
        personal_number: personal_number.and_then(|n| n.trim().parse::<i64>().ok()),
        password: generate_password(),
    }
}

/// What TimeTrack needs to go from `old` (its current canonical value) to `new`.
pub fn timetrack_change(
    old: &Employee,
    new: &Employee,
) -> Result<TimeTrackUserChange, UnsupportedChange> {
    if !old.active && new.active {
        return Err(UnsupportedChange::Reactivation {
            email: new.email.clone(),
        });
    }
    let fields_changed = old.first_name != new.first_name
        || old.last_name != new.last_name
        || old.email != new.email;
    Ok(TimeTrackUserChange {
        update: fields_changed.then(|| TimeTrackUserFields {
            first_name: new.first_name.clone(),
            last_name: new.last_name.clone(),
            email: new.email.clone(),
        }),
        deactivate: old.active && !new.active,
    })
}

/// The Personio fields for `employee` (create on export, patch on update). Carries no status.
pub fn personio_person(employee: &Employee) -> PersonioPersonFields {
    PersonioPersonFields {
        first_name: employee.first_name.clone(),
        last_name: employee.last_name.clone(),
        email: employee.email.clone(),
    }
}

/// Export: the Personio person to create for a chosen TimeTrack user. The status is not exported: a
/// person created in Personio starts with Personio's own initial employment.
pub fn export_person(
    user: &TimeTrackUserView,
) -> Result<PersonioPersonFields, super::canonical::NotSyncable> {
    Employee::from_timetrack(user, LeaverPolicy::Deactivate).map(|e| personio_person(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflows::employees::view::{PersonStatus, PersonioPersonView};
    use secrecy::ExposeSecret;

    fn employee(active: bool) -> Employee {
        Employee {
            email: "jürgen.müller@firma.de".into(),
            first_name: "Jürgen".into(),
            last_name: "Müller".into(),
            active,
        }
    }

    #[test]
    fn import_creates_a_user_with_a_free_username_and_a_hidden_password() {
        let existing: HashSet<String> = ["juergen.mueller".to_string()].into();
        let user = new_timetrack_user(&employee(true), Some("0042"), &existing);
        assert_eq!(user.username, "juergen.mueller2");
        assert_eq!(user.personal_number, Some(42));
        assert_eq!(user.email, "jürgen.müller@firma.de");
        let printed = format!("{user:?}");
        assert!(!printed.contains(user.password.expose_secret()));
        assert!(printed.contains("juergen.mueller2"));

        let no_number = new_timetrack_user(&employee(true), Some("P-17"), &existing);
        assert_eq!(no_number.personal_number, None);
    }

    #[test]
    fn leaver_deactivates_and_renames_update_fields() {
        let change = timetrack_change(&employee(true), &employee(false)).unwrap();
        assert_eq!(
            change,
            TimeTrackUserChange {
                update: None,
                deactivate: true
            }
        );
        let mut renamed = employee(true);
        renamed.last_name = "Meier".into();
        let change = timetrack_change(&employee(true), &renamed).unwrap();
        assert_eq!(change.update.map(|f| f.last_name), Some("Meier".into()));
        assert!(!change.deactivate);
        assert_eq!(
            timetrack_change(&employee(false), &employee(true)),
            Err(UnsupportedChange::Reactivation {
                email: "jürgen.müller@firma.de".into()
            })
        );
    }

    #[test]
    fn export_round_trips_through_personio() {
        // A TimeTrack user exported to Personio reads back as the same canonical employee.
        let user = TimeTrackUserView {
            id: 5,
            username: "anna".into(),
            email: Some("Anna.Schmidt@Firma.de".into()),
            first_name: "Anna".into(),
            last_name: "Schmidt".into(),
            enabled: true,
            personal_number: None,
        };
        let canonical = Employee::from_timetrack(&user, LeaverPolicy::Deactivate).unwrap();
        let fields = export_person(&user).unwrap();
        assert_eq!(fields.email, "anna.schmidt@firma.de");
        let created = PersonioPersonView {
            id: "9".into(),
            email: Some(fields.email),
            first_name: fields.first_name,
            last_name: fields.last_name,
            status: PersonStatus::Active,
            ..PersonioPersonView::default()
        };
        assert_eq!(
            Employee::from_personio(&created, LeaverPolicy::Deactivate).unwrap(),
            canonical
        );
        let no_email = TimeTrackUserView {
            email: None,
            ..user
        };
        assert!(export_person(&no_email).is_err());
    }
}
