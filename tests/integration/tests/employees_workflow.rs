//! End-to-end tests of the employees workflow through its Lambda handler (`WorkflowService::handle`),
//! with the real DynamoDB store on moto_server and both simulators seeded with the seed company.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test employees_workflow`.
//!
//! Seed facts the assertions rely on (tests/simulators/src/seed/company.rs): persons 1001–1028; all but
//! 1027 (Thomas Müller) and 1028 (Niklas Strauß, new hire) are in TimeTrack; 1003's TimeTrack e-mail
//! differs in letter case; 1025 (Elif Şahin) links only by personal number; 1026 has left (INACTIVE);
//! TimeTrack additionally has `uwe.kuehn` (TimeTrack only) and `thomas.mueller` (a contractor whose
//! username collides with the one derived from Thomas Müller's e-mail). Department 9001 (Engineering)
//! holds 1002–1005, 1016, 1020, 1022, 1027 and 1028.
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use integration_tests::{start_simulators, WorkflowRig};
use jiff::civil::date;
use shared::domain::EntityKind;
use shared::engine::SystemClock;
use shared::runs::{RunRecord, RunStatus};
use shared::settings::{EmployeeSelection, IntegrationSettings, LeaverPolicy};
use shared::store::{Mapping, StateStore};
use shared::workflows::employees::binding::EmployeesBinding;
use simulators::personio::model::EmploymentStatus;
use simulators::{Fault, FaultRule, Seed};

/// The employees workflow on the seed company, on the system clock.
struct Harness(WorkflowRig<EmployeesBinding>);

impl Deref for Harness {
    type Target = WorkflowRig<EmployeesBinding>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn settings() -> IntegrationSettings {
    let mut s = IntegrationSettings::example();
    s.employees.personal_number_attribute = Some("personal_number".to_string());
    s
}

async fn harness_with(settings: IntegrationSettings) -> Harness {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 3, 16))).await;
    Harness(
        WorkflowRig::start(
            personio,
            timetrack,
            &settings,
            EmployeesBinding,
            SystemClock,
        )
        .await,
    )
}

async fn harness() -> Harness {
    harness_with(settings()).await
}

impl Harness {
    fn tt_user_id(&self, username: &str) -> i64 {
        self.timetrack
            .state()
            .user_by_username(username)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no TimeTrack user {username}"))
    }

    fn tt_users_with_email(&self, email: &str) -> usize {
        self.timetrack
            .state()
            .users
            .values()
            .filter(|u| u.email.eq_ignore_ascii_case(email))
            .count()
    }

    async fn mapping_pairs(&self) -> BTreeMap<String, String> {
        self.store
            .list_mappings(&self.id, EntityKind::Employee, None)
            .await
            .expect("mappings")
            .into_iter()
            .filter_map(|m| Some((m.personio_id?, m.timetrack_id?)))
            .collect()
    }

    fn snapshot(&self) -> String {
        let p = serde_json::to_string(&self.personio.state().to_seed()).expect("personio state");
        let t = serde_json::to_string(&self.timetrack.state().to_seed()).expect("timetrack state");
        format!("{p}\n{t}")
    }
}

fn counts(run: &RunRecord) -> BTreeMap<String, BTreeMap<String, u64>> {
    integration_tests::count_map(&run.counts)
}

fn c(pairs: &[(&str, &[(&str, u64)])]) -> BTreeMap<String, BTreeMap<String, u64>> {
    pairs
        .iter()
        .map(|(side, actions)| {
            (
                side.to_string(),
                actions.iter().map(|(a, n)| (a.to_string(), *n)).collect(),
            )
        })
        .collect()
}

/// The first run of the seed company: 24 identical pairs adopted, Elif's personal-number link adopted
/// with Personio's e-mail written to TimeTrack, Greta Löwe (who left) linked and her user deactivated,
/// Thomas Müller and Niklas Strauß imported.
fn first_run_counts() -> BTreeMap<String, BTreeMap<String, u64>> {
    c(&[
        ("mappings", &[("adopt", 24)]),
        ("timetrack", &[("create", 2), ("update", 2)]),
    ])
}

#[tokio::test]
async fn first_run_imports_the_selection_and_links_the_rest() {
    let h = harness().await;
    let users_before = h.timetrack.state().users.len();
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(counts(&run), first_run_counts());
    assert!(run.failures.is_empty());
    assert_eq!(h.timetrack.state().users.len(), users_before + 2);

    let (thomas_id, niklas_id, elif_id) = {
        let state = h.timetrack.state();
        let thomas = state
            .user_by_username("thomas.mueller2")
            .expect("Thomas imported");
        assert_eq!(
            (
                thomas.first_name.as_str(),
                thomas.last_name.as_str(),
                thomas.email.as_str()
            ),
            ("Thomas", "Müller", "thomas.mueller@acme.example")
        );
        assert_eq!(thomas.personal_number, Some(1027));
        assert!(thomas.enabled);
        let niklas = state
            .user_by_username("niklas.strauss")
            .expect("Niklas imported");
        assert_eq!(
            (
                niklas.first_name.as_str(),
                niklas.last_name.as_str(),
                niklas.email.as_str()
            ),
            ("Niklas", "Strauß", "niklas.strauss@acme.example")
        );
        assert_eq!(niklas.personal_number, Some(1028));
        // The contractor who owns `thomas.mueller` is untouched.
        let contractor = state
            .user_by_username("thomas.mueller")
            .expect("contractor");
        assert_eq!(contractor.email, "thomas.mueller@partner.example");
        // Elif was linked by personal number (no duplicate) and got Personio's e-mail.
        let elif = state.user_by_username("esahin").expect("Elif");
        assert_eq!(elif.email, "elif.sahin@acme.example");
        (thomas.id, niklas.id, elif.id)
    };
    assert_eq!(h.tt_users_with_email("elif.sahin@acme.example"), 1);

    let pairs = h.mapping_pairs().await;
    assert_eq!(pairs.len(), 28);
    assert_eq!(pairs["1027"], thomas_id.to_string());
    assert_eq!(pairs["1028"], niklas_id.to_string());
    assert_eq!(pairs["1025"], elif_id.to_string());
    // A leaver outside the selection is still linked and deactivated: status follows Personio.
    let greta = h.tt_user_id("greta.loewe");
    assert_eq!(pairs["1026"], greta.to_string());
    assert!(!h.timetrack.state().users[&greta].enabled);
}

#[tokio::test]
async fn second_run_writes_nothing() {
    let h = harness().await;
    let first = h.scheduled().await;
    assert_eq!(counts(&first), first_run_counts());
    let before = h.snapshot();
    let second = h.scheduled().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{second:?}");
    assert_eq!(counts(&second), c(&[("mappings", &[("unchanged", 28)])]));
    assert!(second.conflicts.is_empty() && second.failures.is_empty() && second.skipped.is_empty());
    assert_eq!(h.snapshot(), before);
}

#[tokio::test]
async fn a_rename_in_personio_arrives_in_timetrack() {
    let h = harness().await;
    h.scheduled().await;
    assert!(h
        .personio
        .state()
        .set_person_name("1005", "Lena", "Vogt-Berger"));
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        counts(&run),
        c(&[
            ("mappings", &[("unchanged", 27)]),
            ("timetrack", &[("update", 1)])
        ])
    );
    let lena = h
        .timetrack
        .state()
        .user_by_username("lena.vogt")
        .cloned()
        .expect("Lena");
    assert_eq!(
        (lena.first_name.as_str(), lena.last_name.as_str()),
        ("Lena", "Vogt-Berger")
    );
    assert_eq!(lena.email, "lena.vogt@acme.example");
    assert!(lena.enabled);
}

#[tokio::test]
async fn a_leaver_is_deactivated_and_the_pair_settles() {
    let h = harness().await;
    h.scheduled().await;
    let bjoern = h.tt_user_id("bjoern.weiss");
    assert!(h
        .personio
        .state()
        .set_person_employment_status("1004", EmploymentStatus::Inactive));
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        counts(&run),
        c(&[
            ("mappings", &[("unchanged", 27)]),
            ("timetrack", &[("update", 1)])
        ])
    );
    assert!(!h.timetrack.state().users[&bjoern].enabled);
    // Out of the "all active" selection now, but still linked: nothing more to do.
    let again = h.scheduled().await;
    assert_eq!(counts(&again), c(&[("mappings", &[("unchanged", 28)])]));
}

#[tokio::test]
async fn an_email_case_difference_still_links() {
    let h = harness().await;
    let zoe = h.tt_user_id("zoe.schaefer");
    let run = h.scheduled().await;
    assert_eq!(counts(&run), first_run_counts());
    assert_eq!(h.tt_users_with_email("zoe.schaefer@acme.example"), 1);
    // Adopted as is: the e-mail in TimeTrack keeps its letter case (no write).
    assert_eq!(
        h.timetrack.state().users[&zoe].email,
        "Zoe.Schaefer@ACME.example"
    );
    assert_eq!(h.mapping_pairs().await["1003"], zoe.to_string());
}

#[tokio::test]
async fn an_ambiguous_match_is_reported_and_nothing_is_created() {
    let h = harness().await;
    let lena = h.tt_user_id("lena.vogt");
    let twin = h
        .timetrack
        .state()
        .add_user("lvogt", "Lena", "Vogt", "LENA.VOGT@acme.example");
    let users_before = h.timetrack.state().users.len();
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        counts(&run),
        c(&[
            ("mappings", &[("adopt", 23)]),
            ("personio", &[("skip", 1)]),
            ("timetrack", &[("create", 2), ("update", 2)]),
        ])
    );
    assert_eq!(run.skipped.len(), 1);
    let skip = &run.skipped[0];
    assert_eq!(skip.record_id.as_deref(), Some("1005"));
    assert!(
        skip.reason.contains("ambiguous")
            && skip.reason.contains("lena.vogt@acme.example")
            && skip.reason.contains(&format!("{lena}, {twin}")),
        "{}",
        skip.reason
    );
    assert_eq!(h.timetrack.state().users.len(), users_before + 2);
    assert_eq!(h.tt_users_with_email("lena.vogt@acme.example"), 2);
    assert!(!h.mapping_pairs().await.contains_key("1005"));
}

#[tokio::test]
async fn export_creates_a_personio_person_for_a_timetrack_only_user() {
    let h = harness().await;
    h.scheduled().await;
    let uwe = h.tt_user_id("uwe.kuehn");
    let persons_before = h.personio.state().persons.len();
    let (status, body) = h
        .manual(&serde_json::json!({ "export_user_ids": [uwe] }))
        .await;
    assert_eq!(status, 200, "{body}");
    let run: RunRecord = serde_json::from_value(body).expect("run record");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        counts(&run),
        c(&[
            ("mappings", &[("unchanged", 28)]),
            ("personio", &[("create", 1)])
        ])
    );
    let id = {
        let state = h.personio.state();
        assert_eq!(state.persons.len(), persons_before + 1);
        let id = state
            .person_id_by_email("uwe.kuehn@acme.example")
            .expect("Uwe in Personio");
        let person = &state.persons[&id];
        assert_eq!(
            (person.first_name.as_str(), person.last_name.as_str()),
            ("Uwe", "Kühn")
        );
        id
    };
    assert_eq!(h.mapping_pairs().await[&id], uwe.to_string());
    // Linked now: the next scheduled run keeps the pair and writes nothing.
    let next = h.scheduled().await;
    assert_eq!(counts(&next), c(&[("mappings", &[("unchanged", 29)])]));
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let h = harness().await;
    let before = h.snapshot();
    let (status, body) = h.manual(&serde_json::json!({ "dry_run": true })).await;
    assert_eq!(status, 200, "{body}");
    let run: RunRecord = serde_json::from_value(body).expect("run record");
    assert!(run.dry_run);
    assert_eq!(counts(&run), first_run_counts());
    assert!(
        matches!(run.plan, shared::runs::RunPlan::Planned { .. }),
        "{:?}",
        run.plan
    );
    assert_eq!(h.snapshot(), before, "simulators changed by a dry run");
    assert!(h
        .store
        .list_mappings(&h.id, EntityKind::Employee, None)
        .await
        .expect("mappings")
        .is_empty());
}

#[tokio::test]
async fn a_5xx_burst_on_user_creation_fails_only_those_records() {
    let h = harness().await;
    h.timetrack
        .inject(FaultRule::new("/users", Fault::Status(503), 1).with_method("POST"));
    let first = h.scheduled().await;
    assert_eq!(first.status, RunStatus::CompletedWithFailures, "{first:?}");
    assert_eq!(
        counts(&first),
        c(&[
            ("mappings", &[("adopt", 24)]),
            ("timetrack", &[("create", 1), ("failed", 1), ("update", 2)]),
        ])
    );
    assert_eq!(first.failures.len(), 1);
    let failure = &first.failures[0];
    assert_eq!(failure.action, "create");
    assert!(failure.error.contains("503"), "{}", failure.error);
    let failed_person = failure.record_id.clone().expect("person id");
    assert!(
        failed_person == "1027" || failed_person == "1028",
        "{failed_person}"
    );

    let second = h.scheduled().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{second:?}");
    assert_eq!(
        counts(&second),
        c(&[
            ("mappings", &[("unchanged", 27)]),
            ("timetrack", &[("create", 1)])
        ])
    );
    assert_eq!(h.tt_users_with_email("thomas.mueller@acme.example"), 1);
    assert_eq!(h.tt_users_with_email("niklas.strauss@acme.example"), 1);
    assert_eq!(h.mapping_pairs().await.len(), 28);
}

/// A manual sync with writes finishes within the HTTP budget and answers 200 with the run report
/// (regression: the budget once ended before the runner's deadline margin, deferring every write).
#[tokio::test]
async fn a_manual_sync_that_writes_answers_200() {
    let h = harness().await;
    let (status, body) = h.manual(&serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let run: RunRecord = serde_json::from_value(body).expect("run record");
    assert_eq!(counts(&run), first_run_counts());
}

/// Engineering (department 9001) in the seed: the persons whose latest employment names it, read from
/// the simulator rather than copied from the seed.
fn engineering(h: &Harness) -> BTreeSet<String> {
    let state = h.personio.state();
    state
        .persons_in_order()
        .into_iter()
        .filter(|p| {
            state.employments_of(&p.id).first().is_some_and(|e| {
                e.org_units
                    .iter()
                    .any(|u| u.kind == "department" && u.id == "9001")
            })
        })
        .map(|p| p.id.clone())
        .collect()
}

/// `auto_add = false`: a scheduled run keeps the linked pairs in sync but creates nobody, and says
/// nothing about the unlinked hires (the design: with auto-add off, scheduled runs only keep linked
/// pairs in sync). A manual sync naming the new hire imports it.
#[tokio::test]
async fn without_auto_add_a_new_hire_waits_for_a_manual_import() {
    let mut s = settings();
    s.employees.auto_add = false;
    let h = harness_with(s).await;
    let users_before = h.timetrack.state().users.len();

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        counts(&run),
        c(&[
            ("mappings", &[("adopt", 24)]),
            ("timetrack", &[("update", 2)]),
        ])
    );
    assert!(run.skipped.is_empty() && run.failures.is_empty(), "{run:?}");
    assert_eq!(h.timetrack.state().users.len(), users_before);
    assert_eq!(h.tt_users_with_email("niklas.strauss@acme.example"), 0);
    assert_eq!(h.tt_users_with_email("thomas.mueller@acme.example"), 0);
    let pairs = h.mapping_pairs().await;
    assert_eq!(pairs.len(), 26);
    assert!(!pairs.contains_key("1027") && !pairs.contains_key("1028"));

    // Another scheduled run still does not add them.
    let again = h.scheduled().await;
    assert_eq!(counts(&again), c(&[("mappings", &[("unchanged", 26)])]));
    assert_eq!(h.tt_users_with_email("niklas.strauss@acme.example"), 0);

    // A manual run imports the named hire; manual runs always import the selection too (documented), so
    // Thomas Müller, also selected and unlinked, comes along.
    let (status, body) = h
        .manual(&serde_json::json!({ "import_person_ids": ["1028"] }))
        .await;
    assert_eq!(status, 200, "{body}");
    let manual: RunRecord = serde_json::from_value(body).expect("run record");
    assert_eq!(manual.status, RunStatus::Succeeded, "{manual:?}");
    assert_eq!(
        counts(&manual),
        c(&[
            ("mappings", &[("unchanged", 26)]),
            ("timetrack", &[("create", 2)]),
        ])
    );
    assert_eq!(h.timetrack.state().users.len(), users_before + 2);
    let niklas = h.tt_user_id("niklas.strauss");
    assert!(h.timetrack.state().users[&niklas].enabled);
    let pairs = h.mapping_pairs().await;
    assert_eq!(pairs.len(), 28);
    assert_eq!(pairs["1028"], niklas.to_string());
    assert_eq!(pairs["1027"], h.tt_user_id("thomas.mueller2").to_string());
}

/// Leaver policy `ignore`: a linked person who leaves keeps an enabled TimeTrack user. Status is not
/// compared under this policy, so the run sees an unchanged pair (no skip, no write), and so does the
/// next one.
#[tokio::test]
async fn under_the_ignore_policy_a_leaver_keeps_an_enabled_user() {
    let mut s = settings();
    s.employees.leaver_policy = LeaverPolicy::Ignore;
    let h = harness_with(s).await;
    let first = h.scheduled().await;
    // Greta Löwe, who left before the setup, is linked and stays enabled (reported once, see below).
    assert_eq!(
        counts(&first),
        c(&[
            ("mappings", &[("adopt", 25)]),
            ("personio", &[("skip", 1)]),
            ("timetrack", &[("create", 2), ("update", 1)]),
        ])
    );
    let bjoern = h.tt_user_id("bjoern.weiss");
    assert!(h
        .personio
        .state()
        .set_person_employment_status("1004", EmploymentStatus::Inactive));
    let before = h.snapshot();

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(counts(&run), c(&[("mappings", &[("unchanged", 28)])]));
    assert!(run.skipped.is_empty() && run.conflicts.is_empty() && run.failures.is_empty());
    assert!(h.timetrack.state().users[&bjoern].enabled);
    assert_eq!(h.mapping_pairs().await["1004"], bjoern.to_string());
    assert_eq!(
        h.snapshot(),
        before,
        "the leaver policy `ignore` wrote something"
    );

    let again = h.scheduled().await;
    assert_eq!(counts(&again), c(&[("mappings", &[("unchanged", 28)])]));
    assert!(again.skipped.is_empty());
    assert_eq!(h.snapshot(), before);

    // A name change of the leaver still arrives: only status is left alone.
    assert!(h
        .personio
        .state()
        .set_person_name("1004", "Björn", "Weiß-Lange"));
    let renamed = h.scheduled().await;
    assert_eq!(
        counts(&renamed),
        c(&[
            ("mappings", &[("unchanged", 27)]),
            ("timetrack", &[("update", 1)])
        ])
    );
    let user = h.timetrack.state().users[&bjoern].clone();
    assert_eq!(user.last_name, "Weiß-Lange");
    assert!(user.enabled);

    // Switching the policy to `deactivate` later catches up with both leavers on the next run.
    let mut s = settings();
    s.employees.leaver_policy = LeaverPolicy::Deactivate;
    h.store.put_settings(&h.id, &s).await.expect("settings");
    let switched = h.scheduled().await;
    assert_eq!(switched.status, RunStatus::Succeeded, "{switched:?}");
    assert_eq!(
        counts(&switched),
        c(&[
            ("mappings", &[("unchanged", 26)]),
            ("timetrack", &[("update", 2)])
        ])
    );
    assert!(!h.timetrack.state().users[&bjoern].enabled);
    let greta = h.tt_user_id("greta.loewe");
    assert!(!h.timetrack.state().users[&greta].enabled);
}

/// Selection by org unit (department 9001, Engineering): only its persons are linked or imported; the
/// TimeTrack users of everyone else stay exactly as they were (Elif Şahin keeps her private e-mail),
/// except that Greta Löwe, who left, is linked and deactivated whatever the selection (status follows
/// Personio), and a hire outside the department is imported only when a manual sync names her.
#[tokio::test]
async fn an_org_unit_selection_imports_only_that_department() {
    let mut s = settings();
    s.employees.selection = EmployeeSelection::OrgUnits {
        departments: vec!["9001".to_string()],
        teams: Vec::new(),
        offices: Vec::new(),
    };
    let h = harness_with(s).await;
    // A hire without any org unit (the simulator's default employment): outside the selection.
    let jana =
        h.personio
            .state()
            .add_person("Jana", "Kowalski", Some("jana.kowalski@acme.example"));
    let engineering = engineering(&h);
    assert_eq!(
        engineering.iter().map(String::as_str).collect::<Vec<_>>(),
        ["1002", "1003", "1004", "1005", "1016", "1020", "1022", "1027", "1028"],
        "the seed's Engineering department changed"
    );
    let users_before = h.timetrack.state().users.clone();

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        counts(&run),
        c(&[
            ("mappings", &[("adopt", 7)]),
            ("timetrack", &[("create", 2), ("update", 1)]),
        ])
    );
    assert!(run.skipped.is_empty() && run.failures.is_empty(), "{run:?}");
    let pairs = h.mapping_pairs().await;
    let mut linked = engineering.clone();
    linked.insert("1026".to_string());
    assert_eq!(pairs.keys().cloned().collect::<BTreeSet<_>>(), linked);
    let greta = h.tt_user_id("greta.loewe");
    let linked_users: BTreeSet<i64> = pairs
        .values()
        .map(|u| u.parse().expect("numeric user id"))
        .collect();
    {
        let state = h.timetrack.state();
        assert_eq!(state.users.len(), users_before.len() + 2);
        for (id, user) in &users_before {
            if !linked_users.contains(id) && *id != greta {
                assert_eq!(&state.users[id], user, "user {} was touched", user.username);
            }
        }
        assert_eq!(
            state.user_by_username("esahin").map(|u| u.email.as_str()),
            Some("elif.s@privat.example")
        );
        assert!(!state.users[&greta].enabled);
    }
    assert_eq!(h.tt_users_with_email("jana.kowalski@acme.example"), 0);

    // Named in a manual sync, the hire outside the selection is imported.
    let (status, body) = h
        .manual(&serde_json::json!({ "import_person_ids": [jana.clone()] }))
        .await;
    assert_eq!(status, 200, "{body}");
    let manual: RunRecord = serde_json::from_value(body).expect("run record");
    assert_eq!(
        counts(&manual),
        c(&[
            ("mappings", &[("unchanged", 10)]),
            ("timetrack", &[("create", 1)]),
        ])
    );
    let jana_user = h.tt_user_id("jana.kowalski");
    assert_eq!(h.mapping_pairs().await[&jana], jana_user.to_string());
    // Linked now, she is kept in sync by scheduled runs although outside the selection.
    let next = h.scheduled().await;
    assert_eq!(counts(&next), c(&[("mappings", &[("unchanged", 11)])]));
}

/// A TimeTrack user disabled while the person is still employed in Personio: status follows Personio
/// and TimeTrack's API cannot re-enable users, so the pair is parked with the reason (a conflict with
/// resolution `parked` and a refused write, nothing written to Personio); the next run skips it as
/// parked and keeps every other pair as it was.
#[tokio::test]
async fn a_user_disabled_in_timetrack_while_employed_is_parked() {
    let h = harness().await;
    h.scheduled().await;
    let lena = h.tt_user_id("lena.vogt");
    assert!(h.timetrack.state().set_user_enabled(lena, false));
    let personio_before =
        serde_json::to_string(&h.personio.state().to_seed()).expect("personio state");
    h.personio.clear_requests();

    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::CompletedWithFailures, "{run:?}");
    assert_eq!(
        counts(&run),
        c(&[
            ("mappings", &[("unchanged", 27)]),
            ("personio", &[("failed", 1)]),
        ])
    );
    assert_eq!(run.conflicts.len(), 1, "{run:?}");
    let conflict = &run.conflicts[0];
    assert_eq!(
        (
            conflict.personio_id.as_deref(),
            conflict.timetrack_id.as_deref(),
            conflict.resolution.as_str()
        ),
        (Some("1005"), Some(lena.to_string().as_str()), "parked")
    );
    assert_eq!(run.failures.len(), 1, "{run:?}");
    let failure = &run.failures[0];
    assert_eq!(failure.record_id.as_deref(), Some("1005"));
    assert!(
        failure.error.contains("disabled")
            && failure.error.contains("re-enable the user in TimeTrack"),
        "{}",
        failure.error
    );
    // Nothing was written to Personio, and the user stays disabled.
    assert!(
        h.personio
            .requests()
            .iter()
            .all(|r| r.method == "GET" || r.api_path == "/v2/auth/token"),
        "{:?}",
        h.personio.requests()
    );
    assert_eq!(
        serde_json::to_string(&h.personio.state().to_seed()).expect("personio state"),
        personio_before
    );
    assert!(!h.timetrack.state().users[&lena].enabled);
    let parked = h
        .store
        .list_mappings(&h.id, EntityKind::Employee, None)
        .await
        .expect("mappings")
        .into_iter()
        .find(|m| m.personio_id.as_deref() == Some("1005"))
        .and_then(|m| m.parked)
        .expect("the pair is parked");
    assert!(
        matches!(parked, shared::runs::ParkReason::Refused { .. })
            && parked
                .to_string()
                .contains("re-enable the user in TimeTrack"),
        "{parked}"
    );

    let before = h.snapshot();
    let next = h.scheduled().await;
    assert_eq!(next.status, RunStatus::Succeeded, "{next:?}");
    assert_eq!(
        counts(&next),
        c(&[
            ("mappings", &[("unchanged", 27)]),
            ("personio", &[("skip", 1)]),
        ])
    );
    assert_eq!(next.skipped.len(), 1, "{next:?}");
    let skip = &next.skipped[0];
    assert_eq!(skip.record_id.as_deref(), Some("1005"));
    assert!(
        skip.reason.starts_with("parked: ") && skip.reason.contains("disabled"),
        "{}",
        skip.reason
    );
    assert!(next.conflicts.is_empty() && next.failures.is_empty());
    assert_eq!(h.snapshot(), before);

    // Recovery: re-enabling the user in TimeTrack leads to no write, so the pair stays parked until
    // it is released (what the API's release call stores); then it settles without any write.
    assert!(h.timetrack.state().set_user_enabled(lena, true));
    let still = h.scheduled().await;
    assert_eq!(
        counts(&still),
        c(&[
            ("mappings", &[("unchanged", 27)]),
            ("personio", &[("skip", 1)]),
        ])
    );
    let mapping = h
        .store
        .list_mappings(&h.id, EntityKind::Employee, None)
        .await
        .expect("mappings")
        .into_iter()
        .find(|m| m.personio_id.as_deref() == Some("1005"))
        .expect("Lena's mapping");
    h.store
        .put_mapping(&Mapping {
            parked: None,
            failures: 0,
            last_error: None,
            version: mapping.version + 1,
            ..mapping
        })
        .await
        .expect("released");
    let before = h.snapshot();
    let released = h.scheduled().await;
    assert_eq!(released.status, RunStatus::Succeeded, "{released:?}");
    assert_eq!(counts(&released), c(&[("mappings", &[("unchanged", 28)])]));
    assert!(released.skipped.is_empty());
    assert_eq!(h.snapshot(), before);
}

/// A rate-limit burst on the person list (three 429s, what Personio answers when its bucket is empty)
/// is absorbed by the client's retries: the run reads every person and finishes as a clean first run.
#[tokio::test]
async fn a_rate_limit_burst_on_the_person_list_is_retried() {
    let h = harness().await;
    h.personio
        .inject(FaultRule::new("/v2/persons", Fault::Status(429), 3).with_method("GET"));
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(counts(&run), first_run_counts());
    assert!(run.failures.is_empty() && run.error.is_none(), "{run:?}");
    assert_eq!(h.mapping_pairs().await.len(), 28);
    // The burst really hit the list: three 429s, then the same first page answered.
    let statuses: Vec<u16> = h
        .personio
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.api_path == "/v2/persons")
        .map(|r| r.status)
        .collect();
    assert!(statuses.len() >= 4, "{statuses:?}");
    assert_eq!(statuses[..4], [429, 429, 429, 200]);
    assert!(statuses[4..].iter().all(|s| *s == 200), "{statuses:?}");
}

/// Issue 11 §3. Greta Löwe (1026) had already left when the integration was set up (INACTIVE) and her
/// TimeTrack user is still enabled, with her e-mail in another letter case. The selection is "all
/// active employees", which would not import her today — but status follows Personio, so a scheduled
/// run links her user by e-mail (ignoring case) and deactivates it, and the next run writes nothing.
#[tokio::test]
async fn a_leaver_from_before_the_setup_is_linked_and_deactivated() {
    let h = harness().await;
    let greta = h.tt_user_id("greta.loewe");
    {
        let mut state = h.timetrack.state();
        let user = state.users.get_mut(&greta).expect("Greta's user");
        user.email = "Greta.Loewe@ACME.example".to_string();
        assert!(user.enabled);
    }
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert!(
        !h.timetrack.state().users[&greta].enabled,
        "the leaver's TimeTrack user is still enabled: {run:?}"
    );
    assert_eq!(
        h.mapping_pairs().await.get("1026"),
        Some(&greta.to_string())
    );
    assert!(run.skipped.is_empty(), "{:?}", run.skipped);

    let before = h.snapshot();
    let again = h.scheduled().await;
    assert_eq!(counts(&again), c(&[("mappings", &[("unchanged", 28)])]));
    assert_eq!(h.snapshot(), before);
}

/// Issue 11 §3 under leaver policy `ignore`: the same leaver is linked but her user stays enabled, and
/// the run says so once (one `skipped` note naming both records); the next run finds the pair mapped
/// and unchanged and reports nothing.
#[tokio::test]
async fn under_the_ignore_policy_a_leaver_from_before_the_setup_is_reported_once() {
    let mut s = settings();
    s.employees.leaver_policy = LeaverPolicy::Ignore;
    let h = harness_with(s).await;
    let greta = h.tt_user_id("greta.loewe");
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert!(h.timetrack.state().users[&greta].enabled);
    let notes: Vec<&str> = run
        .skipped
        .iter()
        .filter(|s| s.reason.contains("1026"))
        .map(|s| s.reason.as_str())
        .collect();
    assert_eq!(notes.len(), 1, "{:?}", run.skipped);
    assert!(notes[0].contains(&greta.to_string()) && notes[0].contains("ignore"));
    assert_eq!(
        h.mapping_pairs().await.get("1026"),
        Some(&greta.to_string())
    );

    let again = h.scheduled().await;
    assert!(again.skipped.is_empty(), "{:?}", again.skipped);
    assert_eq!(counts(&again), c(&[("mappings", &[("unchanged", 28)])]));
    assert!(h.timetrack.state().users[&greta].enabled);
}
