//! The employees workflow's two side ports: the adapters between the canonical [`Employee`] and the
//! Personio / TimeTrack clients. All wire-shape handling of the workflow lives here (and in the
//! binding, which uses the conversions below to build the listings).
//!
//! Listings are computed once per run by the binding (it needs both sides and the stored links to decide
//! which records each side exposes, see [`super::binding`]); the ports hand them to the engine and do the
//! live reads by id and the writes.
//!
//! Honesty rules (a write the other system cannot represent is an error with a precise message, never a
//! silent drop):
//! - Status flows only Personio → TimeTrack. A TimeTrack user disabled while the person is active in
//!   Personio cannot be mirrored to Personio and cannot be undone through TimeTrack's API (no re-enable):
//!   the Personio write is `Refused` (the pair is parked and reported; once a human re-enables the user,
//!   releasing the parked pair lets the next run find it unchanged).
//!   A user re-enabled in TimeTrack while the person has left is not written to Personio either: the
//!   update writes names and e-mail only, and the next run deactivates the user again.
//! - The sync never deletes Personio persons (`Refused`); "deleting" a TimeTrack user disables it, and
//!   only under the deactivate leaver policy.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::canonical::{normalise_personal_number, Employee};
use super::personio::{
    personal_number_from_attributes, personio_person, CustomAttributeView, EmploymentStatus,
    EmploymentView, OrgUnitKind, OrgUnitRef, PersonStatus, PersonioPersonView,
};
use super::timetrack::{new_timetrack_user, timetrack_change, TimeTrackUserView};
use crate::connectors::personio::{self as pw, PersonioClient};
use crate::connectors::timetrack::{self as tw, TimeTrackClient};
use crate::connectors::ErrorClass;
use crate::domain::{DateWindow, ScopeEntry};
use crate::engine::{HintFamily, Listing, Located, PortError, PortErrorClass, Record, SidePort};
use crate::settings::LeaverPolicy;
use crate::workflows::port_error::{from_personio, from_timetrack};

// ----- wire → view ---------------------------------------------------------------------------------

/// A Personio person (and its most recent employment, when read) as the workflow's view.
/// `personal_number_attribute` is the custom attribute (id or global id) holding the personal number.
pub(crate) fn person_view(
    person: &pw::Person,
    employment: Option<&pw::Employment>,
    personal_number_attribute: Option<&str>,
) -> PersonioPersonView {
    let attributes: Vec<CustomAttributeView> = person
        .custom_attributes
        .iter()
        .map(|a| CustomAttributeView {
            id: a.id.clone().unwrap_or_default(),
            global_id: a.global_id.clone(),
            value: a.value.clone(),
        })
        .collect();
    PersonioPersonView {
        id: person.id.clone(),
        email: person.email.clone(),
        first_name: person.first_name.clone().unwrap_or_default(),
        last_name: person.last_name.clone().unwrap_or_default(),
        status: match person.status {
            Some(pw::PersonStatus::Active) => PersonStatus::Active,
            Some(pw::PersonStatus::Inactive) => PersonStatus::Inactive,
            _ => PersonStatus::Unspecified,
        },
        personal_number: personal_number_attribute
            .and_then(|attr| personal_number_from_attributes(&attributes, attr)),
        employment: employment.map(employment_view),
    }
}

fn employment_view(e: &pw::Employment) -> EmploymentView {
    EmploymentView {
        status: match e.status {
            Some(pw::EmploymentStatus::Active) => EmploymentStatus::Active,
            Some(pw::EmploymentStatus::Inactive) => EmploymentStatus::Inactive,
            Some(pw::EmploymentStatus::Onboarding) => EmploymentStatus::Onboarding,
            Some(pw::EmploymentStatus::Leave) => EmploymentStatus::Leave,
            _ => EmploymentStatus::Unspecified,
        },
        office_id: e.office.as_ref().map(|o| o.id.clone()),
        org_units: e
            .org_units
            .iter()
            .map(|u| OrgUnitRef {
                kind: OrgUnitKind::parse(u.kind.as_deref().unwrap_or_default()),
                id: u.id.clone(),
            })
            .collect(),
    }
}

/// A TimeTrack user as the workflow's view. A user without `enabled` is taken as enabled (the field is
/// documented only as "not updatable"; an account without it has no disabled users).
pub(crate) fn user_view(user: &tw::User) -> TimeTrackUserView {
    TimeTrackUserView {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone().unwrap_or_default(),
        last_name: user.last_name.clone().unwrap_or_default(),
        enabled: user.enabled.unwrap_or(true),
        personal_number: user
            .personal_number
            .as_deref()
            .and_then(normalise_personal_number),
    }
}

/// Does Personio's person status leave the employment to decide (so the employment must be read)?
pub(crate) fn needs_employment(person: &pw::Person) -> bool {
    !matches!(
        person.status,
        Some(pw::PersonStatus::Active | pw::PersonStatus::Inactive)
    )
}

/// Reads a person's most recent employment (Personio lists them most recent first).
pub(crate) async fn latest_employment(
    client: &PersonioClient,
    person_id: &str,
) -> Result<Option<pw::Employment>, PortError> {
    let listing = client
        .list_employments(person_id)
        .await
        .map_err(|e| from_personio(&format!("list employments of person {person_id}"), &e))?;
    Ok(listing.items.into_iter().next())
}

// ----- Personio ------------------------------------------------------------------------------------

/// The Personio side: persons as canonical employees.
pub(crate) struct PersonioEmployees {
    client: Arc<PersonioClient>,
    policy: LeaverPolicy,
    personal_number_attribute: Option<String>,
    listing: Listing<Employee>,
    /// Every person the run's sweep read (exposed or not), for change hints.
    known_persons: HashSet<String>,
    /// Employment id → person id, for employment change hints.
    person_of_employment: HashMap<String, String>,
}

impl PersonioEmployees {
    /// `listing` is what this run exposes (computed by the binding).
    pub(crate) fn new(
        client: Arc<PersonioClient>,
        policy: LeaverPolicy,
        personal_number_attribute: Option<String>,
        listing: Listing<Employee>,
    ) -> Self {
        Self {
            client,
            policy,
            personal_number_attribute,
            listing,
            known_persons: HashSet::new(),
            person_of_employment: HashMap::new(),
        }
    }

    /// What the sweep read, so that change hints are located without another request.
    pub(crate) fn with_sweep_index(
        mut self,
        known_persons: HashSet<String>,
        person_of_employment: HashMap<String, String>,
    ) -> Self {
        self.known_persons = known_persons;
        self.person_of_employment = person_of_employment;
        self
    }
}

/// The part of a run's exposed listing whose record ids are in `ids`.
fn only(listing: &Listing<Employee>, ids: impl Fn(&str) -> bool) -> Listing<Employee> {
    Listing {
        records: listing
            .records
            .iter()
            .filter(|r| ids(&r.id))
            .cloned()
            .collect(),
        rejected: listing
            .rejected
            .iter()
            .filter(|r| r.id.as_deref().is_some_and(&ids))
            .cloned()
            .collect(),
    }
}

#[async_trait]
impl SidePort<Employee> for PersonioEmployees {
    async fn list(&self, _window: &DateWindow) -> Result<Listing<Employee>, PortError> {
        Ok(self.listing.clone())
    }

    /// The person, if this run exposes them (selection, links and leaver rules as for every run).
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<Employee>, PortError> {
        Ok(only(&self.listing, |id| id == entry.person))
    }

    /// A person or employment hint, located in what the run's sweep read (every person and their
    /// employment references): no further request. Not read → gone.
    async fn locate(&self, family: HintFamily, id: &str) -> Result<Located, PortError> {
        let person = match family {
            HintFamily::Person => self.known_persons.contains(id).then(|| id.to_string()),
            HintFamily::Employment => self.person_of_employment.get(id).cloned(),
            _ => return Ok(Located::NotHandled),
        };
        Ok(match person {
            Some(person) => Located::Found(ScopeEntry { person, days: None }),
            None => Located::Gone,
        })
    }

    async fn get(&self, id: &str) -> Result<Option<Record<Employee>>, PortError> {
        let person = match self.client.get_person(id).await {
            Ok(p) => p,
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(None),
            Err(e) => return Err(from_personio(&format!("get person {id}"), &e)),
        };
        let employment = if needs_employment(&person) {
            latest_employment(&self.client, id).await?
        } else {
            None
        };
        let view = person_view(
            &person,
            employment.as_ref(),
            self.personal_number_attribute.as_deref(),
        );
        let value = Employee::from_personio(&view, self.policy)
            .map_err(|e| PortError::new(PortErrorClass::Invalid, e.to_string()))?;
        Ok(Some(Record::new(id, value)))
    }

    async fn create(&self, value: &Employee) -> Result<String, PortError> {
        if !value.active {
            return Err(PortError::new(
                PortErrorClass::Refused,
                format!(
                    "TimeTrack user {} is disabled; exporting it would create an employed Personio person \
                     (status follows Personio and cannot be written there)",
                    value.email
                ),
            ));
        }
        let fields = personio_person(value);
        let body = pw::NewPerson {
            first_name: fields.first_name,
            last_name: fields.last_name,
            email: Some(fields.email),
            preferred_name: None,
            gender: None,
            language_code: None,
            custom_attributes: Vec::new(),
            employments: Vec::new(),
        };
        self.client
            .create_person(&body)
            .await
            .map_err(|e| from_personio(&format!("create person {}", value.email), &e))
    }

    async fn update(
        &self,
        id: &str,
        value: &Employee,
        previous: Option<&Employee>,
    ) -> Result<String, PortError> {
        let current = match previous {
            Some(p) => p.clone(),
            None => match self.get(id).await? {
                Some(r) => r.value,
                None => {
                    return Err(PortError::new(
                        PortErrorClass::NotFound,
                        format!("Personio person {id} no longer exists"),
                    ))
                }
            },
        };
        if current.active && !value.active {
            return Err(PortError::new(
                PortErrorClass::Refused,
                format!(
                    "the TimeTrack user of {} is disabled while Personio person {id} is employed; status \
                     follows Personio and TimeTrack's API cannot re-enable users: re-enable the user in \
                     TimeTrack (or record the leave in Personio)",
                    value.email
                ),
            ));
        }
        // Status is never written to Personio; only names and e-mail, and only what differs.
        let patch = pw::PersonPatch {
            email: (current.email != value.email).then(|| value.email.clone()),
            first_name: (current.first_name != value.first_name).then(|| value.first_name.clone()),
            last_name: (current.last_name != value.last_name).then(|| value.last_name.clone()),
            ..pw::PersonPatch::default()
        };
        if patch != pw::PersonPatch::default() {
            self.client
                .update_person(id, &patch)
                .await
                .map_err(|e| from_personio(&format!("update person {id}"), &e))?;
        }
        Ok(id.to_string())
    }

    async fn delete(&self, id: &str) -> Result<(), PortError> {
        Err(PortError::new(
            PortErrorClass::Refused,
            format!(
                "the employees sync never deletes Personio persons: the TimeTrack user linked to person \
                 {id} is gone; remove the person in Personio by hand if that is intended"
            ),
        ))
    }
}

// ----- TimeTrack -----------------------------------------------------------------------------------

/// The TimeTrack side: users as canonical employees.
pub(crate) struct TimeTrackEmployees {
    client: Arc<TimeTrackClient>,
    policy: LeaverPolicy,
    listing: Listing<Employee>,
    /// Every username TimeTrack has (disabled users included), plus those created this run: a new
    /// user's username must not collide. Locked while a username is chosen and reserved.
    usernames: Mutex<HashSet<String>>,
    /// Personal numbers of Personio persons by normalised e-mail, written on import.
    personal_numbers: HashMap<String, String>,
    /// Personio person id → the user ids that are (or will be paired as) that person's user.
    partners: HashMap<String, HashSet<String>>,
}

impl TimeTrackEmployees {
    pub(crate) fn new(
        client: Arc<TimeTrackClient>,
        policy: LeaverPolicy,
        listing: Listing<Employee>,
        usernames: HashSet<String>,
        personal_numbers: HashMap<String, String>,
    ) -> Self {
        Self {
            client,
            policy,
            listing,
            usernames: Mutex::new(usernames.into_iter().map(|u| u.to_lowercase()).collect()),
            personal_numbers,
            partners: HashMap::new(),
        }
    }

    /// Who is whose user, for a targeted run's listing of one person.
    pub(crate) fn with_partners(mut self, partners: HashMap<String, HashSet<String>>) -> Self {
        self.partners = partners;
        self
    }

    fn user_id(id: &str) -> Result<i64, PortError> {
        id.trim().parse::<i64>().map_err(|_| {
            PortError::new(
                PortErrorClass::NotFound,
                format!("{id:?} is not a TimeTrack user id (they are numeric)"),
            )
        })
    }
}

#[async_trait]
impl SidePort<Employee> for TimeTrackEmployees {
    async fn list(&self, _window: &DateWindow) -> Result<Listing<Employee>, PortError> {
        Ok(self.listing.clone())
    }

    /// The person's user(s): linked by a stored mapping, or the twin the planner would pair.
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<Employee>, PortError> {
        let partners = self.partners.get(&entry.person);
        Ok(only(&self.listing, |id| {
            partners.is_some_and(|p| p.contains(id))
        }))
    }

    /// A disabled user is still there (`Some`, inactive): only 404 means gone. Treating a disabled user
    /// as deleted would turn every deactivated leaver into a delete of their Personio person.
    async fn get(&self, id: &str) -> Result<Option<Record<Employee>>, PortError> {
        let Ok(user_id) = Self::user_id(id) else {
            return Ok(None);
        };
        let user = match self.client.get_user(user_id).await {
            Ok(u) => u,
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(None),
            Err(e) => return Err(from_timetrack(&format!("get user {id}"), &e)),
        };
        let value = Employee::from_timetrack(&user_view(&user), self.policy)
            .map_err(|e| PortError::new(PortErrorClass::Invalid, e.to_string()))?;
        Ok(Some(Record::new(id, value)))
    }

    async fn create(&self, value: &Employee) -> Result<String, PortError> {
        if !value.active {
            return Err(PortError::new(
                PortErrorClass::Refused,
                format!(
                    "Personio person {} has left; a leaver is not imported into TimeTrack",
                    value.email
                ),
            ));
        }
        let new_user = {
            let mut usernames = self.usernames.lock().unwrap_or_else(|e| e.into_inner());
            let user = new_timetrack_user(
                value,
                self.personal_numbers.get(&value.email).map(String::as_str),
                &usernames,
            );
            // Reserved before the request: a concurrent create must not pick the same name.
            usernames.insert(user.username.to_lowercase());
            user
        };
        let body = tw::NewUser {
            username: new_user.username.clone(),
            first_name: new_user.first_name,
            last_name: new_user.last_name,
            email: new_user.email,
            password: new_user.password,
            team_lead: None,
            admin: None,
            language: None,
            personal_number: new_user.personal_number.map(|n| n.to_string()),
        };
        let id = self
            .client
            .create_user(&body)
            .await
            .map_err(|e| from_timetrack(&format!("create user {}", new_user.username), &e))?;
        Ok(id.to_string())
    }

    async fn update(
        &self,
        id: &str,
        value: &Employee,
        previous: Option<&Employee>,
    ) -> Result<String, PortError> {
        let user_id = Self::user_id(id)?;
        let current = match previous {
            Some(p) => p.clone(),
            None => match self.get(id).await? {
                Some(r) => r.value,
                None => {
                    return Err(PortError::new(
                        PortErrorClass::NotFound,
                        format!("TimeTrack user {id} no longer exists"),
                    ))
                }
            },
        };
        let change = timetrack_change(&current, value)
            .map_err(|e| PortError::new(PortErrorClass::Refused, e.to_string()))?;
        if let Some(fields) = change.update {
            let body = tw::UserUpdate {
                first_name: Some(fields.first_name),
                last_name: Some(fields.last_name),
                email: Some(fields.email),
                ..tw::UserUpdate::default()
            };
            self.client
                .update_user(user_id, &body)
                .await
                .map_err(|e| from_timetrack(&format!("update user {id}"), &e))?;
        }
        if change.deactivate {
            self.client
                .delete_user(user_id)
                .await
                .map_err(|e| from_timetrack(&format!("deactivate user {id}"), &e))?;
        }
        Ok(id.to_string())
    }

    async fn delete(&self, id: &str) -> Result<(), PortError> {
        let user_id = Self::user_id(id)?;
        match self.policy {
            LeaverPolicy::Deactivate => self
                .client
                .delete_user(user_id)
                .await
                .map_err(|e| from_timetrack(&format!("deactivate user {id}"), &e)),
            LeaverPolicy::Ignore => Err(PortError::new(
                PortErrorClass::Refused,
                format!(
                    "the Personio person linked to TimeTrack user {id} is gone, and the leaver policy \
                     is to leave TimeTrack users alone"
                ),
            )),
        }
    }
}
