//! The TimeTrack side of the employees workflow: a user as the workflow reads it, and what it writes.
//!
//! - Import (Personio → TimeTrack) creates a user: username derived from the e-mail, a generated password,
//!   names, e-mail, and the personal number when it is numeric (TimeTrack stores it as a number).
//! - Updates carry the names and e-mail (TimeTrack cannot update `username` or `enabled`); deactivation
//!   is its own operation (TimeTrack's `DELETE /users/{id}` disables the user). Reactivating a disabled
//!   user is not offered by the TimeTrack API: [`timetrack_change`] reports it.
use std::collections::HashSet;

use secrecy::SecretString;
use thiserror::Error;

use super::canonical::Employee;
use super::password::generate_password;
use super::username::derive_username;

/// A TimeTrack user. TimeTrack identifies users by `username` in records, but the stable key is `id`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeTrackUserView {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub enabled: bool,
    pub personal_number: Option<String>,
}

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

#[cfg(test)]
mod tests {
    use super::*;
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
}
