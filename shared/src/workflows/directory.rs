//! Who is who across the two systems, for the workflows whose TimeTrack records name a user by
//! *username* (time entries, absences) while the canonical values name the Personio person id.
//!
//! Built from the employees workflow's mappings (Personio person id ⇄ TimeTrack user id) and one read of
//! TimeTrack's users (id → username). A record of an unlinked user is rejected by the calling port with
//! a clear reason ("user x is not linked to a Personio person: run the employees sync first").
use std::collections::HashMap;

use crate::connectors::timetrack::TimeTrackClient;
use crate::domain::{EntityKind, IntegrationId};
use crate::engine::{PortError, PortErrorClass};
use crate::store::StateStore;

use super::port_error::from_timetrack;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EmployeeDirectory {
    person_by_username: HashMap<String, String>,
    username_by_person: HashMap<String, String>,
}

impl EmployeeDirectory {
    /// From explicit `(personio person id, timetrack username)` pairs.
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut d = Self::default();
        for (person, username) in pairs {
            d.person_by_username
                .insert(username.to_lowercase(), person.clone());
            d.username_by_person.insert(person, username);
        }
        d
    }

    /// Loads the linked employees of an integration.
    pub(crate) async fn load(
        store: &dyn StateStore,
        integration_id: &IntegrationId,
        timetrack: &TimeTrackClient,
    ) -> Result<Self, PortError> {
        let mappings = store
            .list_mappings(integration_id, EntityKind::Employee, None)
            .await
            .map_err(|e| {
                PortError::new(
                    PortErrorClass::Fatal,
                    format!("cannot read employee links: {e}"),
                )
            })?;
        let users = timetrack
            .list_users(None)
            .await
            .map_err(|e| from_timetrack("list users", &e))?;
        let username_by_id: HashMap<String, String> = users
            .items
            .into_iter()
            .map(|u| (u.id.to_string(), u.username))
            .collect();
        let pairs = mappings.into_iter().filter_map(|m| {
            let person = m.personio_id?;
            let username = username_by_id.get(m.timetrack_id.as_deref()?)?.clone();
            Some((person, username))
        });
        Ok(Self::from_pairs(pairs))
    }

    /// The Personio person id of a TimeTrack username (case-insensitive, as TimeTrack usernames are).
    pub(crate) fn person_for_username(&self, username: &str) -> Option<&str> {
        self.person_by_username
            .get(&username.to_lowercase())
            .map(String::as_str)
    }

    /// The TimeTrack username of a Personio person id.
    pub(crate) fn username_for_person(&self, person_id: &str) -> Option<&str> {
        self.username_by_person.get(person_id).map(String::as_str)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.username_by_person.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.username_by_person.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_both_ways_case_insensitively_by_username() {
        let d = EmployeeDirectory::from_pairs([("7788".to_string(), "L.Vogt".to_string())]);
        assert_eq!(d.person_for_username("l.vogt"), Some("7788"));
        assert_eq!(d.username_for_person("7788"), Some("L.Vogt"));
        assert_eq!(d.person_for_username("nobody"), None);
        assert_eq!(d.len(), 1);
    }
}
