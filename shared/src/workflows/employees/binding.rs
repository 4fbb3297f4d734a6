//! The employees workflow plugged into the service: [`EmployeesBinding`] binds the settings (pure), then
//! inside the run reads both sides once ([`super::sweep`]), links
//! them ([`super::linking::link`]) and decides what each side exposes to the engine this run
//! ([`Exposure::compute`], pure and unit-tested: partners by id, the ids exposed, each side read).
//!
//! Which records each side exposes:
//! - Personio: persons chosen for import (the selection, or named in a manual request), persons linked
//!   to a TimeTrack user chosen for export, and every person a stored mapping links (linked persons are
//!   kept in sync whether or not they still match the selection, so a leaver is still deactivated),
//!   and every leaver with a linkable TimeTrack user (status follows Personio whatever the selection).
//! - TimeTrack: the users linked to those persons (by mapping, e-mail or personal number), the users
//!   chosen for export, and every user a stored mapping links.
//!
//! Everything else is invisible to the engine, so it is neither created on the other side nor touched.
//! A person or user whose link is ambiguous, who has no e-mail, or who is a leaver not yet in TimeTrack
//! is exposed as `Rejected` with the reason: the run records it as skipped and nothing is created for it.
//!
//! Reading is [`super::sweep`]'s. Listing everyone every run is what makes auto-add, link repair and
//! leavers correct without watermarks; it is fine for companies of up to a few thousand employees (see
//! `docs/workflows/employees.md`).
use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;

use super::canonical::{is_active, normalise_email, Employee};
use super::kind::EmployeeKind;
use super::linking::{link, AmbiguityReason, Ambiguous, LinkReport, LinkedBy};
use super::personio::PersonioPersonView;
use super::ports::{PersonioEmployees, TimeTrackEmployees};
use super::selection::is_selected;
use super::sweep::{sweep, SweepError, SweepInput};
use super::timetrack::TimeTrackUserView;
use crate::domain::{Trigger, Workflow};
use crate::engine::{Listing, Record, Rejected, SyncKind};
use crate::service::{
    BindInput, BoundWorkflow, ExplicitSelection, RunIo, SetupError, WorkflowBinding,
};
use crate::settings::{EmployeeSettings, LeaverPolicy};

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
        let report = link(
            input.persons,
            input.users,
            input.existing,
            input.settings.link_by_personal_number,
        );
        let partners = Partners::new(&report, input.existing);
        let mut personio = Listing::default();
        let mut timetrack = Listing::default();
        let (persons, users) = partners.exposed(input, &mut personio, &mut timetrack);
        let personal_numbers = partners.read_persons(input, &report, &persons, &mut personio);
        partners.read_users(input, &users, &mut timetrack);
        Self {
            personio,
            timetrack,
            kind: aliased_kind(input, &report),
            personal_numbers,
        }
    }
}

/// Who is linked to whom (this run's links and the stored mappings) and who is ambiguous, by id.
struct Partners<'a> {
    of_person: HashMap<&'a str, i64>,
    of_user: HashMap<i64, &'a str>,
    ambiguous_person: HashMap<&'a str, &'a Ambiguous>,
    ambiguous_user: HashMap<i64, &'a Ambiguous>,
    mapped_persons: HashSet<&'a str>,
    mapped_users: HashSet<i64>,
}

impl<'a> Partners<'a> {
    fn new(report: &'a LinkReport, existing: &'a [(String, i64)]) -> Self {
        let mut partners = Partners {
            of_person: HashMap::new(),
            of_user: HashMap::new(),
            ambiguous_person: HashMap::new(),
            ambiguous_user: HashMap::new(),
            mapped_persons: existing.iter().map(|(p, _)| p.as_str()).collect(),
            mapped_users: existing.iter().map(|(_, u)| *u).collect(),
        };
        for l in &report.linked {
            partners
                .of_person
                .insert(l.personio_id.as_str(), l.timetrack_id);
            partners
                .of_user
                .insert(l.timetrack_id, l.personio_id.as_str());
        }
        for a in &report.ambiguous {
            for p in &a.personio_ids {
                partners.ambiguous_person.insert(p.as_str(), a);
            }
            for u in &a.timetrack_ids {
                partners.ambiguous_user.insert(*u, a);
            }
        }
        partners
    }

    /// The person and user ids this run exposes (see the module doc); an explicit import or export of
    /// an id that does not exist is rejected on its side.
    fn exposed<'i>(
        &self,
        input: &'i ExposureInput<'_>,
        personio: &mut Listing<Employee>,
        timetrack: &mut Listing<Employee>,
    ) -> (BTreeSet<&'i str>, BTreeSet<i64>)
    where
        'a: 'i,
    {
        let (import_ids, export_ids) = requested_ids(input);
        let mut persons = self.chosen_persons(input, &import_ids);
        let mut users: BTreeSet<i64> = BTreeSet::new();
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
            users.insert(*uid);
            if let Some(p) = self.of_user.get(uid) {
                persons.insert(p);
            }
        }
        for p in &persons {
            if let Some(u) = self.of_person.get(p) {
                users.insert(*u);
            }
        }
        users.extend(self.mapped_users.iter().copied());
        (persons, users)
    }

    /// The persons chosen (selected or named for import), mapped, or leavers with a linkable user.
    fn chosen_persons<'i>(
        &self,
        input: &'i ExposureInput<'_>,
        import_ids: &BTreeSet<&str>,
    ) -> BTreeSet<&'i str> {
        let mut persons = BTreeSet::new();
        for p in input.persons {
            let id = p.id.as_str();
            let known_elsewhere =
                self.mapped_persons.contains(id) || self.of_person.contains_key(id);
            let chosen = import_ids.contains(id)
                || (is_selected(&input.settings.selection, p)
                    && (input.import_new || known_elsewhere));
            // A leaver with a linkable TimeTrack user is looked at whatever the selection says: status
            // follows Personio, so the user is linked and (under `deactivate`) disabled.
            let linkable_leaver = !is_active(p) && self.of_person.contains_key(id);
            if chosen || self.mapped_persons.contains(id) || linkable_leaver {
                persons.insert(id);
            }
        }
        persons
    }

    /// The exposed persons as canonical records (or why not); gives the personal numbers by e-mail.
    fn read_persons(
        &self,
        input: &ExposureInput<'_>,
        report: &LinkReport,
        exposed: &BTreeSet<&str>,
        personio: &mut Listing<Employee>,
    ) -> HashMap<String, String> {
        let policy = input.settings.leaver_policy;
        let mut personal_numbers = HashMap::new();
        for p in input
            .persons
            .iter()
            .filter(|p| exposed.contains(p.id.as_str()))
        {
            if let Some(a) = self.ambiguous_person.get(p.id.as_str()) {
                personio.rejected.push(Rejected {
                    id: Some(p.id.clone()),
                    reason: ambiguity_text(a),
                });
                continue;
            }
            let has_partner = self.of_person.contains_key(p.id.as_str());
            if !has_partner && !self.mapped_persons.contains(p.id.as_str()) && !is_active(p) {
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
                    if let Some(note) = kept_enabled_note(p, report, input.users, policy) {
                        personio.rejected.push(note);
                    }
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
        personal_numbers
    }

    /// The exposed users as canonical records (or why not).
    fn read_users(
        &self,
        input: &ExposureInput<'_>,
        exposed: &BTreeSet<i64>,
        timetrack: &mut Listing<Employee>,
    ) {
        let policy = input.settings.leaver_policy;
        for u in input.users.iter().filter(|u| exposed.contains(&u.id)) {
            if let Some(a) = self.ambiguous_user.get(&u.id) {
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
    }
}

/// The Personio persons named for import (a manual request) and the TimeTrack users chosen for export
/// (the settings and a manual request).
fn requested_ids<'i>(input: &'i ExposureInput<'_>) -> (BTreeSet<&'i str>, BTreeSet<i64>) {
    let import_ids = input
        .explicit
        .import_person_ids
        .iter()
        .map(|s| s.trim())
        .collect();
    let export_ids = input
        .settings
        .export_user_ids
        .iter()
        .chain(&input.explicit.export_user_ids)
        .copied()
        .collect();
    (import_ids, export_ids)
}

/// The kind, with the key aliases of this run's links whose e-mails differ (personal number): both
/// records share the Personio e-mail as natural key.
fn aliased_kind(input: &ExposureInput<'_>, report: &LinkReport) -> EmployeeKind {
    let mut kind = EmployeeKind::new();
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
    kind
}

/// Under [`LeaverPolicy::Ignore`], the one report of a leaver whose enabled TimeTrack user is linked
/// this run (by e-mail or personal number, not yet by a mapping). The pair is adopted, so later runs
/// find it mapped and unchanged and say nothing more: the leaver is reported once, not on every run.
/// The note has no record id, so that it does not hide the record from the planner.
fn kept_enabled_note(
    person: &PersonioPersonView,
    report: &LinkReport,
    users: &[TimeTrackUserView],
    policy: LeaverPolicy,
) -> Option<Rejected> {
    if policy != LeaverPolicy::Ignore || is_active(person) {
        return None;
    }
    let link = report
        .linked
        .iter()
        .find(|l| l.personio_id == person.id && l.by != LinkedBy::Mapping)?;
    let user = users
        .iter()
        .find(|u| u.id == link.timetrack_id && u.enabled)?;
    Some(Rejected {
        id: None,
        reason: format!(
            "Personio person {} has left; TimeTrack user {} ({}) is linked and stays enabled because \
             the leaver policy is `ignore` (reported once)",
            person.id, user.id, user.username
        ),
    })
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

/// Personio person id → the exposed TimeTrack user ids that are that person's: linked by a stored
/// mapping, or carrying the same natural key (e-mail, or a personal-number alias) — the twin the planner
/// pairs. A targeted run lists a person's user(s) from it.
fn partners(exposure: &Exposure, existing: &[(String, i64)]) -> HashMap<String, HashSet<String>> {
    let mut partners: HashMap<String, HashSet<String>> = HashMap::new();
    for (person, user) in existing {
        partners
            .entry(person.clone())
            .or_default()
            .insert(user.to_string());
    }
    let mut users_by_key: HashMap<String, Vec<&str>> = HashMap::new();
    for r in &exposure.timetrack.records {
        users_by_key
            .entry(exposure.kind.natural_key(&r.value))
            .or_default()
            .push(r.id.as_str());
    }
    for r in &exposure.personio.records {
        if let Some(users) = users_by_key.get(&exposure.kind.natural_key(&r.value)) {
            partners
                .entry(r.id.clone())
                .or_default()
                .extend(users.iter().map(|u| u.to_string()));
        }
    }
    partners
}

/// What the settings and the request say an employees run looks at (the pure binding's output).
#[derive(Debug, Clone)]
pub struct EmployeesContext {
    settings: EmployeeSettings,
    explicit: ExplicitSelection,
    import_new: bool,
    concurrency: usize,
}

fn sweep_error(e: SweepError) -> SetupError {
    match e {
        SweepError::Personio(e) | SweepError::TimeTrack(e) => SetupError::from_port(e),
        SweepError::Store(e) => SetupError::Unavailable {
            detail: format!("the state store failed: cannot read the employee links: {e}"),
        },
    }
}

#[async_trait]
impl WorkflowBinding for EmployeesBinding {
    type Kind = EmployeeKind;
    type Context = EmployeesContext;

    fn workflow(&self) -> Workflow {
        Workflow::Employees
    }

    fn bind(&self, input: BindInput<'_>) -> Result<EmployeesContext, SetupError> {
        let settings = &input.settings.employees;
        Ok(EmployeesContext {
            settings: settings.clone(),
            explicit: input.selection.clone(),
            import_new: input.trigger == Trigger::Manual || settings.auto_add,
            concurrency: input.settings.sync.concurrency,
        })
    }

    /// The employees sweep: both sides and the links, read once, then [`Exposure::compute`].
    async fn prepare(
        &self,
        context: EmployeesContext,
        io: RunIo<'_>,
    ) -> Result<BoundWorkflow<EmployeeKind>, SetupError> {
        let settings = &context.settings;
        let attribute = settings.personal_number_attribute.clone();
        let swept = sweep(SweepInput {
            personio: &io.personio,
            timetrack: &io.timetrack,
            store: io.store.as_ref(),
            integration_id: io.integration_id,
            personal_number_attribute: attribute.as_deref(),
            all_employments: matches!(
                settings.selection,
                crate::settings::EmployeeSelection::OrgUnits { .. }
            ),
            concurrency: context.concurrency,
        })
        .await
        .map_err(sweep_error)?;

        let mut exposure = Exposure::compute(&ExposureInput {
            persons: &swept.persons,
            users: &swept.users,
            existing: &swept.existing,
            settings,
            explicit: &context.explicit,
            import_new: context.import_new,
        });
        // Records the clients could not parse are reported, never synced.
        exposure.personio.rejected.extend(swept.personio_malformed);
        exposure
            .timetrack
            .rejected
            .extend(swept.timetrack_malformed);

        let partners = partners(&exposure, &swept.existing);
        let known_persons = swept.persons.iter().map(|p| p.id.clone()).collect();
        Ok(BoundWorkflow {
            kind: exposure.kind,
            personio: Box::new(
                PersonioEmployees::new(
                    io.personio.clone(),
                    settings.leaver_policy,
                    attribute,
                    exposure.personio,
                )
                .with_sweep_index(known_persons, swept.person_of_employment),
            ),
            timetrack: Box::new(
                TimeTrackEmployees::new(
                    io.timetrack.clone(),
                    settings.leaver_policy,
                    exposure.timetrack,
                    swept.usernames,
                    exposure.personal_numbers,
                )
                .with_partners(partners),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SyncKind;
    use crate::workflows::employees::personio::PersonStatus;

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

    /// Issue 11 §3: under "all active", a person who had already left when the integration was set up,
    /// with an enabled TimeTrack user whose e-mail differs in case, is exposed on both sides (so the
    /// planner links and — under `deactivate` — disables the user); under `ignore` the first linking run
    /// notes it once, a run that finds the pair mapped says nothing.
    #[test]
    fn a_linkable_leaver_is_exposed_whatever_the_selection() {
        let persons = vec![
            person("1", "one@x.example", "11", PersonStatus::Active),
            person("9", "Gone@X.example", "19", PersonStatus::Inactive),
            person("8", "nobody@x.example", "18", PersonStatus::Inactive), // no user: not looked at
        ];
        let users = vec![
            user(101, "one@x.example", "11"),
            user(109, "gone@x.EXAMPLE", "19"),
        ];
        let mut settings = EmployeeSettings {
            selection: crate::settings::EmployeeSelection::AllActive,
            ..EmployeeSettings::default()
        };
        let compute = |settings: &EmployeeSettings, existing: &[(String, i64)]| {
            Exposure::compute(&ExposureInput {
                persons: &persons,
                users: &users,
                existing,
                settings,
                explicit: &ExplicitSelection::default(),
                import_new: false,
            })
        };
        let e = compute(&settings, &[]);
        assert_eq!(ids(&e.personio), ["1", "9"]);
        assert_eq!(ids(&e.timetrack), ["101", "109"]);
        assert!(e.personio.rejected.is_empty(), "{:?}", e.personio.rejected);
        assert!(!e.personio.records[1].value.active);
        assert!(e.timetrack.records[1].value.active);

        settings.leaver_policy = LeaverPolicy::Ignore;
        let e = compute(&settings, &[]);
        assert_eq!(ids(&e.personio), ["1", "9"]);
        assert_eq!(e.personio.rejected.len(), 1);
        assert_eq!(e.personio.rejected[0].id, None, "the note hides no record");
        assert!(e.personio.rejected[0].reason.contains("109"));
        // Once mapped, the pair is unchanged and not reported again.
        let e = compute(&settings, &[("9".to_string(), 109)]);
        assert_eq!(ids(&e.personio), ["1", "9"]);
        assert!(e.personio.rejected.is_empty());
    }
}
