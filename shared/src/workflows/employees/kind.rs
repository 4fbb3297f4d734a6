//! The employees kind as the sync engine sees it: the canonical [`Employee`], its natural key, no anchor
//! date, and Personio as the master.
//!
//! Why Personio is always the master: the brief says names and status follow Personio (it is the HR
//! system of record). When both sides changed a linked pair, Personio's version is written to TimeTrack.
//!
//! Why the kind carries key aliases: the engine adopts an unmapped pair only when both records have the
//! same natural key (the normalised e-mail). A pair the binding linked by *personal number* has two
//! different e-mails, so the binding registers the TimeTrack e-mail as an alias of its Personio partner's
//! e-mail; the engine then adopts the pair (and, as Personio is the master, writes Personio's e-mail to
//! TimeTrack). Aliases exist only for links the pure linking found unambiguous.
use std::collections::HashMap;

use jiff::civil::Date;

use super::canonical::Employee;
use crate::domain::{EntityKind, System};
use crate::engine::SyncKind;

/// The employees [`SyncKind`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmployeeKind {
    /// Normalised TimeTrack e-mail → normalised e-mail of the linked Personio person.
    aliases: HashMap<String, String>,
}

impl EmployeeKind {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `timetrack_email` (normalised) share the natural key of `personio_email` (normalised).
    pub fn with_alias(mut self, timetrack_email: &str, personio_email: &str) -> Self {
        self.add_alias(timetrack_email, personio_email);
        self
    }

    pub fn add_alias(&mut self, timetrack_email: &str, personio_email: &str) {
        if timetrack_email != personio_email {
            self.aliases
                .insert(timetrack_email.to_string(), personio_email.to_string());
        }
    }
}

impl SyncKind for EmployeeKind {
    type Value = Employee;

    fn kind(&self) -> EntityKind {
        EntityKind::Employee
    }

    fn natural_key(&self, value: &Employee) -> String {
        let email = value.natural_key();
        self.aliases
            .get(email)
            .cloned()
            .unwrap_or_else(|| email.to_string())
    }

    fn anchor_date(&self, _value: &Employee) -> Option<Date> {
        None
    }

    fn master(&self, _personio: Option<&Employee>, _timetrack: Option<&Employee>) -> System {
        System::Personio
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn employee(email: &str) -> Employee {
        Employee {
            email: email.into(),
            first_name: "Elif".into(),
            last_name: "Şahin".into(),
            active: true,
        }
    }

    #[test]
    fn natural_key_is_the_email_unless_aliased_by_a_personal_number_link() {
        let kind =
            EmployeeKind::new().with_alias("elif.s@privat.example", "elif.sahin@acme.example");
        assert_eq!(
            kind.natural_key(&employee("elif.s@privat.example")),
            "elif.sahin@acme.example"
        );
        assert_eq!(
            kind.natural_key(&employee("lena.vogt@acme.example")),
            "lena.vogt@acme.example"
        );
        assert_eq!(kind.anchor_date(&employee("x@y")), None);
        assert_eq!(kind.master(None, None), System::Personio);
    }
}
