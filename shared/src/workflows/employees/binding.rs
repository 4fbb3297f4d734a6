//! The employees workflow plugged into the service: [`EmployeesBinding`] reads both sides once, links
//! them ([`super::linking::link`]) and decides what each side exposes to the engine this run
//! ([`Exposure::compute`], pure and unit-tested).
//!
//! Which records each side exposes:
//! - Personio: persons chosen for import (the selection, or named in a manual request), persons linked
//!   to a TimeTrack user chosen for export, and every person a stored mapping links (linked persons are
//!   kept in sync whether or not they still match the selection, so a leaver is still deactivated).
//! - TimeTrack: the users linked to those persons (by mapping, e-mail or personal number), the users
//!   chosen for export, and every user a stored mapping links.
//!
//! Everything else is invisible to the engine, so it is neither created on the other side nor touched.
//! A person or user whose link is ambiguous, who has no e-mail, or who is a leaver not yet in TimeTrack
//! is exposed as `Rejected` with the reason: the run records it as skipped and nothing is created for it.
//!
//! Cost: one `GET /v2/persons` sweep (50 per page), one `GET /users` sweep, and the employments of the
//! persons whose status Personio leaves open (all persons when the selection is by org unit). Listing
//! everyone every run is what makes auto-add and link repair correct without watermarks; it is fine
//! for companies of up to a few thousand employees (see `docs/workflows/employees.md`).
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::connectors::personio::{Employment, PersonioClient};

use async_trait::async_trait;
use futures::stream::{self, StreamExt};

use super::canonical::{is_active, normalise_email, Employee};
use super::kind::EmployeeKind;
use super::linking::{link, linked_pairs, AmbiguityReason, Ambiguous, LinkedBy};
use super::ports::{
    latest_employment, needs_employment, person_view, user_view, PersonioEmployees,
    TimeTrackEmployees,
};
use super::selection::is_selected;
use super::view::{PersonioPersonView, TimeTrackUserView};
use crate::connectors::personio::PersonFilter;
use crate::domain::{EntityKind, System, Trigger, Workflow};
use crate::engine::{Listing, PortError, PortErrorClass, Record, Rejected};
use crate::service::{BindInput, BoundWorkflow, ExplicitSelection, Problem, WorkflowBinding};
use crate::settings::EmployeeSettings;
use crate::workflows::port_error::{from_personio, from_timetrack};

/// The employees workflow's binding (what `functions/employees` serves).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmployeesBinding;

/// What one run exposes to the engine, decided from both sides' records and the stored links.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub personio: Listing<Employee>,
    pub timetrack: Listing<Employee>,
    /// The kind, with the key aliases of personal-number links.
    pub kind: EmployeeKind,
    /// Personal numbers of exposed persons by normalised e-mail (written to new TimeTrack users).
    pub personal_numbers: HashMap<String, String>,
}

/// The inputs of [`Exposure::compute`].
pub struct ExposureInput<'a> {
    pub persons: &'a [PersonioPersonView],
    pub users: &'a [TimeTrackUserView],
    /// Pairs stored mappings link: (Personio person id, TimeTrack user id).
    pub existing: &'a [(String, i64)],
    pub settings: &'a EmployeeSettings,
    pub explicit: &'a ExplicitSelection,
    /// Whether selected persons who are not in TimeTrack yet are imported this run (manual runs always;
    /// scheduled runs when `auto_add` is on).
    pub import_new: bool,
}

impl Exposure {
    pub fn compute(input: &ExposureInput<'_>) -> Self {
        let settings = input.settings;
        let policy = settings.leaver_policy;
        let report = link(
            input.persons,
            input.users,
            input.existing,
            settings.link_by_personal_number,
        );
        let mut partner_of_person: HashMap<&str, i64> = HashMap::new();
        let mut partner_of_user: HashMap<i64, &str> = HashMap::new();
        for l in &report.linked {
            partner_of_person.insert(l.personio_id.as_str(), l.timetrack_id);
            partner_of_user.insert(l.timetrack_id, l.personio_id.as_str());
        }
        let mut ambiguous_person: HashMap<&str, &Ambiguous> = HashMap::new();
        let mut ambiguous_user: HashMap<i64, &Ambiguous> = HashMap::new();
        for a in &report.ambiguous {
            for p in &a.personio_ids {
                ambiguous_person.insert(p.as_str(), a);
            }
            for u in &a.timetrack_ids {
                ambiguous_user.insert(*u, a);
            }
        }
        let mapped_persons: HashSet<&str> =
            input.existing.iter().map(|(p, _)| p.as_str()).collect();
        let mapped_users: HashSet<i64> = input.existing.iter().map(|(_, u)| *u).collect();
        let export_ids: BTreeSet<i64> = settings
            .export_user_ids
            .iter()
            .chain(&input.explicit.export_user_ids)
            .copied()
            .collect();
        let import_ids: BTreeSet<&str> = input
            .explicit
            .import_person_ids
            .iter()
            .map(|s| s.trim())
            .collect();

        let mut personio = Listing::default();
        let mut timetrack = Listing::default();
        let mut exposed_persons: BTreeSet<&str> = BTreeSet::new();
        let mut exposed_users: BTreeSet<i64> = BTreeSet::new();

        for p in input.persons {
            let id = p.id.as_str();
            let known_elsewhere = mapped_persons.contains(id) || partner_of_person.contains_key(id);
            let chosen = import_ids.contains(id)
                || (is_selected(&settings.selection, p) && (input.import_new || known_elsewhere));
            if chosen || mapped_persons.contains(id) {
                exposed_persons.insert(id);
            }
        }
        for id in &import_ids {
            if !input.persons.iter().any(|p| p.id == *id) {
                personio.rejected.push(Rejected {
                    id: Some(id.to_string()),
                    reason: format!(
                        "import requested for Personio person {id}, which does not exist"
                    ),
                });
            }
        }
        for uid in &export_ids {
            if !input.users.iter().any(|u| u.id == *uid) {
                timetrack.rejected.push(Rejected {
                    id: Some(uid.to_string()),
                    reason: format!(
                        "export requested for TimeTrack user {uid}, which does not exist"
                    ),
                });
                continue;
            }
            exposed_users.insert(*uid);
            if let Some(p) = partner_of_user.get(uid) {
                exposed_persons.insert(p);
            }
        }
        for p in &exposed_persons {
            if let Some(u) = partner_of_person.get(p) {
                exposed_users.insert(*u);
            }
        }
        exposed_users.extend(mapped_users.iter().copied());

        let mut kind = EmployeeKind::new();
        let mut personal_numbers = HashMap::new();
        for p in input
            .persons
            .iter()
            .filter(|p| exposed_persons.contains(p.id.as_str()))
        {
            if let Some(a) = ambiguous_person.get(p.id.as_str()) {
                personio.rejected.push(Rejected {
                    id: Some(p.id.clone()),
                    reason: ambiguity_text(a),
                });
                continue;
            }
            let has_partner = partner_of_person.contains_key(p.id.as_str());
            if !has_partner && !mapped_persons.contains(p.id.as_str()) && !is_active(p) {
                personio.rejected.push(Rejected {
                    id: Some(p.id.clone()),
                    reason: format!(
                        "Personio person {} has left and has no TimeTrack user: leavers are not imported",
                        p.id
                    ),
                });
                continue;
            }
            match Employee::from_personio(p, policy) {
                Ok(value) => {
                    if let Some(n) = &p.personal_number {
                        personal_numbers.insert(value.email.clone(), n.clone());
                    }
                    personio.records.push(Record::new(p.id.clone(), value));
                }
                Err(e) => personio.rejected.push(Rejected {
                    id: Some(p.id.clone()),
                    reason: e.to_string(),
                }),
            }
        }
        for u in input.users.iter().filter(|u| exposed_users.contains(&u.id)) {
            if let Some(a) = ambiguous_user.get(&u.id) {
                timetrack.rejected.push(Rejected {
                    id: Some(u.id.to_string()),
                    reason: ambiguity_text(a),
                });
                continue;
            }
            match Employee::from_timetrack(u, policy) {
                Ok(value) => timetrack.records.push(Record::new(u.id.to_string(), value)),
                Err(e) => timetrack.rejected.push(Rejected {
                    id: Some(u.id.to_string()),
                    reason: e.to_string(),
                }),
            }
        }
        // Links whose e-mails differ (personal number) share the Personio e-mail as natural key.
        for l in report.linked.iter().filter(|l| l.by != LinkedBy::Mapping) {
            let p_email = input
                .persons
                .iter()
                .find(|p| p.id == l.personio_id)
                .and_then(|p| p.email.as_deref())
                .and_then(normalise_email);
            let t_email = input
                .users
                .iter()
                .find(|u| u.id == l.timetrack_id)
                .and_then(|u| u.email.as_deref())
                .and_then(normalise_email);
            if let (Some(p), Some(t)) = (p_email, t_email) {
                kind.add_alias(&t, &p);
            }
        }
        Self {
            personio,
            timetrack,
            kind,
            personal_numbers,
        }
    }
}

/// The run record's words for an ambiguous link.
fn ambiguity_text(a: &Ambiguous) -> String {
    let ids = format!(
        "Personio persons [{}], TimeTrack users [{}]",
        a.personio_ids.join(", "),
        a.timetrack_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    match &a.reason {
        AmbiguityReason::DuplicateEmail { system, email } => format!(
            "ambiguous link, not synced: more than one {system} record has the e-mail {email} ({ids}); \
             make the e-mails unique or link by hand"
        ),
        AmbiguityReason::DuplicatePersonalNumber {
            system,
            personal_number,
        } => format!(
            "ambiguous link, not synced: more than one {system} record has the personal number \
             {personal_number} ({ids}); make the numbers unique or link by hand"
        ),
    }
}

/// The latest employment of each person in `ids`, at most `concurrency` requests at a time.
async fn read_employments(
    client: Arc<PersonioClient>,
    ids: Vec<String>,
    concurrency: usize,
) -> Vec<Result<(String, Option<Employment>), PortError>> {
    stream::iter(ids)
        .map(move |id| {
            let client = client.clone();
            async move {
                let e = latest_employment(&client, &id).await?;
                Ok((id, e))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

fn personio_problem(e: PortError) -> Problem {
    if e.class == PortErrorClass::Fatal {
        Problem::not_connected(e.message)
    } else {
        Problem::upstream(e.message)
    }
}

#[async_trait]
impl WorkflowBinding for EmployeesBinding {
    type Kind = EmployeeKind;

    fn workflow(&self) -> Workflow {
        Workflow::Employees
    }

    async fn bind(&self, input: BindInput<'_>) -> Result<BoundWorkflow<EmployeeKind>, Problem> {
        let settings = &input.settings.employees;
        let attribute = settings.personal_number_attribute.clone();

        // Both sides, once.
        let persons = input
            .personio
            .list_persons(&PersonFilter {
                limit: Some(50),
                ..PersonFilter::default()
            })
            .await
            .map_err(|e| personio_problem(from_personio("list persons", &e)))?;
        let by_org_unit = matches!(
            settings.selection,
            crate::settings::EmployeeSelection::OrgUnits { .. }
        );
        let wanted: Vec<String> = persons
            .items
            .iter()
            .filter(|p| by_org_unit || needs_employment(p))
            .map(|p| p.id.clone())
            .collect();
        let employments = read_employments(
            input.personio.clone(),
            wanted,
            input.settings.sync.concurrency,
        )
        .await;
        let mut employment_of = HashMap::new();
        for r in employments {
            let (id, e) = r.map_err(personio_problem)?;
            employment_of.insert(id, e);
        }
        let person_views: Vec<PersonioPersonView> = persons
            .items
            .iter()
            .map(|p| {
                person_view(
                    p,
                    employment_of.get(&p.id).and_then(Option::as_ref),
                    attribute.as_deref(),
                )
            })
            .collect();
        let users = input.timetrack.list_users(None).await.map_err(|e| {
            let e = from_timetrack("list users", &e);
            if e.class == PortErrorClass::Fatal {
                Problem::not_connected(e.message)
            } else {
                Problem::upstream(e.message)
            }
        })?;
        let user_views: Vec<TimeTrackUserView> = users.items.iter().map(user_view).collect();
        let usernames: HashSet<String> = users.items.iter().map(|u| u.username.clone()).collect();

        let mappings = input
            .store
            .list_mappings(input.integration_id, EntityKind::Employee, None)
            .await
            .map_err(|e| Problem::unavailable(format!("cannot read employee links: {e}")))?;
        let existing = linked_pairs(&mappings);

        let mut exposure = Exposure::compute(&ExposureInput {
            persons: &person_views,
            users: &user_views,
            existing: &existing,
            settings,
            explicit: input.selection,
            import_new: input.trigger == Trigger::Manual || settings.auto_add,
        });
        // Records the clients could not parse are reported, never synced.
        for (system, malformed) in [
            (System::Personio, &persons.malformed),
            (System::TimeTrack, &users.malformed),
        ] {
            let target = match system {
                System::Personio => &mut exposure.personio,
                System::TimeTrack => &mut exposure.timetrack,
            };
            target.rejected.extend(malformed.iter().map(|m| Rejected {
                id: m.id.clone(),
                reason: format!("{system} record could not be read: {}", m.error),
            }));
        }

        Ok(BoundWorkflow {
            kind: exposure.kind,
            personio: Box::new(PersonioEmployees::new(
                input.personio.clone(),
                settings.leaver_policy,
                attribute,
                exposure.personio,
            )),
            timetrack: Box::new(TimeTrackEmployees::new(
                input.timetrack.clone(),
                settings.leaver_policy,
                exposure.timetrack,
                usernames,
                exposure.personal_numbers,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SyncKind;
    use crate::workflows::employees::view::PersonStatus;

    fn person(id: &str, email: &str, number: &str, status: PersonStatus) -> PersonioPersonView {
        PersonioPersonView {
            id: id.into(),
            email: Some(email.into()),
            first_name: "A".into(),
            last_name: id.into(),
            status,
            personal_number: Some(number.into()),
            employment: None,
        }
    }

    fn user(id: i64, email: &str, number: &str) -> TimeTrackUserView {
        TimeTrackUserView {
            id,
            username: format!("u{id}"),
            email: Some(email.into()),
            first_name: "A".into(),
            last_name: "x".into(),
            enabled: true,
            personal_number: Some(number.into()),
        }
    }

    fn ids<V>(l: &Listing<V>) -> Vec<String> {
        l.records.iter().map(|r| r.id.clone()).collect()
    }

    fn rejected(l: &Listing<Employee>) -> Vec<String> {
        l.rejected.iter().filter_map(|r| r.id.clone()).collect()
    }

    #[test]
    fn exposes_selection_partners_and_exports_and_rejects_ambiguity_and_new_leavers() {
        let persons = vec![
            person("1", "one@x.example", "11", PersonStatus::Active),
            person("2", "two@x.example", "12", PersonStatus::Active), // linked by number only
            person("3", "dup@x.example", "13", PersonStatus::Active), // two users share the e-mail
            person("4", "left@x.example", "14", PersonStatus::Inactive), // leaver, not in TimeTrack
            person("5", "five@x.example", "15", PersonStatus::Inactive), // mapped leaver
        ];
        let users = vec![
            user(101, "ONE@x.example", "0011"),
            user(102, "private@y.example", "12"),
            user(103, "dup@x.example", "93"),
            user(104, "dup@x.example", "94"),
            user(105, "only@tt.example", "95"), // TimeTrack only, chosen for export
            user(106, "other@tt.example", "96"), // TimeTrack only, not chosen
            user(107, "five@x.example", "15"),
        ];
        let settings = EmployeeSettings {
            selection: crate::settings::EmployeeSelection::Ids {
                ids: vec!["1".into(), "2".into(), "3".into(), "4".into()],
            },
            export_user_ids: vec![105],
            ..EmployeeSettings::default()
        };
        let e = Exposure::compute(&ExposureInput {
            persons: &persons,
            users: &users,
            existing: &[("5".to_string(), 107)],
            settings: &settings,
            explicit: &ExplicitSelection::default(),
            import_new: true,
        });
        assert_eq!(ids(&e.personio), ["1", "2", "5"]);
        assert_eq!(rejected(&e.personio), ["3", "4"]);
        assert!(e.personio.rejected[0].reason.contains("dup@x.example"));
        assert_eq!(ids(&e.timetrack), ["101", "102", "105", "107"]);
        assert!(e.timetrack.rejected.is_empty());
        // The personal-number link shares Personio's e-mail as natural key; e-mail links need no alias.
        let private = Employee::from_timetrack(&users[1], settings.leaver_policy).unwrap();
        assert_eq!(e.kind.natural_key(&private), "two@x.example");
        assert_eq!(
            e.personal_numbers.get("one@x.example").map(String::as_str),
            Some("11")
        );

        // A scheduled run without auto-add imports nobody new, but keeps linked persons.
        let no_auto = Exposure::compute(&ExposureInput {
            persons: &persons,
            users: &users,
            existing: &[("5".to_string(), 107)],
            settings: &settings,
            explicit: &ExplicitSelection::default(),
            import_new: false,
        });
        assert_eq!(ids(&no_auto.personio), ["1", "2", "5"]);
        // Persons who would be new are not looked at, so neither the ambiguous one nor the leaver shows.
        assert!(rejected(&no_auto.personio).is_empty());
    }
}
