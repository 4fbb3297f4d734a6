//! Reading both sides for the employees workflow, once: every Personio person (with its latest
//! employment where Personio leaves the status open, or for everyone when the selection is by org unit),
//! every TimeTrack user, and the stored employee links. The run's reading step and the setup API's
//! candidate list both start from one [`Sweep`], so the screen shows what a run would see.
//!
//! Cost: one `GET /v2/persons` sweep (50 per page), one `GET /users` sweep, one employments request per
//! person whose status is open (at most `concurrency` at a time).
use std::collections::{HashMap, HashSet};

use futures::stream::{self, StreamExt};
use thiserror::Error;

use super::linking::linked_pairs;
use super::personio::PersonioPersonView;
use super::ports::{latest_employment, needs_employment, person_view, user_view};
use super::timetrack::TimeTrackUserView;
use crate::connectors::personio::{PersonFilter, PersonioClient};
use crate::connectors::timetrack::TimeTrackClient;
use crate::domain::{EntityKind, IntegrationId, System};
use crate::engine::{PortError, Rejected};
use crate::store::{StateStore, StoreError};
use crate::workflows::port_error::{from_personio, from_timetrack};

/// Both sides' employees and the stored links, as the pure parts of the workflow take them.
#[derive(Debug, Clone, Default)]
pub struct Sweep {
    pub persons: Vec<PersonioPersonView>,
    pub users: Vec<TimeTrackUserView>,
    /// Every TimeTrack username (a new user's username must not collide with any of them).
    pub usernames: HashSet<String>,
    /// `(Personio person id, TimeTrack user id)` of the stored employee mappings.
    pub existing: Vec<(String, i64)>,
    /// Personio employment id → its person id (from the persons' employment references), so that an
    /// employment's change hint finds its person without another request.
    pub person_of_employment: HashMap<String, String>,
    /// Records a client could not parse, per side: reported, never synced.
    pub personio_malformed: Vec<Rejected>,
    pub timetrack_malformed: Vec<Rejected>,
}

/// What the sweep could not read; each case names the side.
#[derive(Debug, Error)]
pub enum SweepError {
    #[error("{0}")]
    Personio(PortError),
    #[error("{0}")]
    TimeTrack(PortError),
    #[error("cannot read the employee links: {0}")]
    Store(#[from] StoreError),
}

/// Where and how much to read.
pub struct SweepInput<'a> {
    pub personio: &'a PersonioClient,
    pub timetrack: &'a TimeTrackClient,
    pub store: &'a dyn StateStore,
    pub integration_id: &'a IntegrationId,
    pub personal_number_attribute: Option<&'a str>,
    /// Read every person's employment (selection by org unit), not only the open statuses.
    pub all_employments: bool,
    pub concurrency: usize,
}

/// Reads both sides and the links.
pub async fn sweep(input: SweepInput<'_>) -> Result<Sweep, SweepError> {
    let persons = input
        .personio
        .list_persons(&PersonFilter {
            limit: Some(50),
            ..PersonFilter::default()
        })
        .await
        .map_err(|e| SweepError::Personio(from_personio("list persons", &e)))?;
    let wanted: Vec<String> = persons
        .items
        .iter()
        .filter(|p| input.all_employments || needs_employment(p))
        .map(|p| p.id.clone())
        .collect();
    let client = input.personio;
    let employments: Vec<_> = stream::iter(wanted)
        .map(move |id: String| async move {
            let e = latest_employment(client, &id).await;
            (id, e)
        })
        .buffer_unordered(input.concurrency.max(1))
        .collect()
        .await;
    let mut employment_of: HashMap<String, _> = HashMap::new();
    for (id, e) in employments {
        employment_of.insert(id, e.map_err(SweepError::Personio)?);
    }
    let users = input
        .timetrack
        .list_users(None)
        .await
        .map_err(|e| SweepError::TimeTrack(from_timetrack("list users", &e)))?;
    let mappings = input
        .store
        .list_mappings(input.integration_id, EntityKind::Employee, None)
        .await?;

    let malformed = |system: System, list: &[crate::connectors::MalformedRecord]| {
        list.iter()
            .map(|m| Rejected::unreadable(m.id.clone(), &format!("{system} record"), &m.error))
            .collect()
    };
    Ok(Sweep {
        persons: persons
            .items
            .iter()
            .map(|p| {
                person_view(
                    p,
                    employment_of.get(p.id.as_str()).and_then(Option::as_ref),
                    input.personal_number_attribute,
                )
            })
            .collect(),
        users: users.items.iter().map(user_view).collect(),
        usernames: users.items.iter().map(|u| u.username.clone()).collect(),
        existing: linked_pairs(&mappings),
        person_of_employment: persons
            .items
            .iter()
            .flat_map(|p| p.employments.iter().map(|e| (e.id.clone(), p.id.clone())))
            .collect(),
        personio_malformed: malformed(System::Personio, &persons.malformed),
        timetrack_malformed: malformed(System::TimeTrack, &users.malformed),
    })
}
