//! End-to-end tests of the employees workflow through its Lambda handler (`WorkflowService::handle`),
//! with the real DynamoDB store on moto_server and both simulators seeded with the seed company.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test employees_workflow`.
//!
//! Seed facts the assertions rely on (tests/simulators/src/seed/company.rs): persons 1001–1028; all but
//! 1027 (Thomas Müller) and 1028 (Niklas Strauß, new hire) are in TimeTrack; 1003's TimeTrack e-mail
//! differs in letter case; 1025 (Elif Şahin) links only by personal number; 1026 has left (INACTIVE);
//! TimeTrack additionally has `uwe.kuehn` (TimeTrack only) and `thomas.mueller` (a contractor whose
//! username collides with the one derived from Thomas Müller's e-mail).
use std::collections::BTreeMap;
use std::ops::Deref;

use integration_tests::{start_simulators, WorkflowRig};
use jiff::civil::date;
use shared::domain::EntityKind;
use shared::engine::SystemClock;
use shared::runs::{RunRecord, RunStatus};
use shared::settings::IntegrationSettings;
use shared::store::StateStore;
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
    run.counts.clone()
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
/// with Personio's e-mail written to TimeTrack, Thomas Müller and Niklas Strauß imported.
fn first_run_counts() -> BTreeMap<String, BTreeMap<String, u64>> {
    c(&[
        ("mappings", &[("adopt", 24)]),
        ("timetrack", &[("create", 2), ("update", 1)]),
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
    assert_eq!(pairs.len(), 27);
    assert_eq!(pairs["1027"], thomas_id.to_string());
    assert_eq!(pairs["1028"], niklas_id.to_string());
    assert_eq!(pairs["1025"], elif_id.to_string());
    assert!(
        !pairs.contains_key("1026"),
        "a leaver outside the selection is not linked"
    );
}

#[tokio::test]
async fn second_run_writes_nothing() {
    let h = harness().await;
    let first = h.scheduled().await;
    assert_eq!(counts(&first), first_run_counts());
    let before = h.snapshot();
    let second = h.scheduled().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{second:?}");
    assert_eq!(counts(&second), c(&[("mappings", &[("unchanged", 27)])]));
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
            ("mappings", &[("unchanged", 26)]),
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
            ("mappings", &[("unchanged", 26)]),
            ("timetrack", &[("update", 1)])
        ])
    );
    assert!(!h.timetrack.state().users[&bjoern].enabled);
    // Out of the "all active" selection now, but still linked: nothing more to do.
    let again = h.scheduled().await;
    assert_eq!(counts(&again), c(&[("mappings", &[("unchanged", 27)])]));
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
            ("timetrack", &[("create", 2), ("update", 1)]),
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
            ("mappings", &[("unchanged", 27)]),
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
    assert_eq!(counts(&next), c(&[("mappings", &[("unchanged", 28)])]));
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
    assert!(run.plan.is_some());
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
            ("timetrack", &[("create", 1), ("failed", 1), ("update", 1)]),
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
            ("mappings", &[("unchanged", 26)]),
            ("timetrack", &[("create", 1)])
        ])
    );
    assert_eq!(h.tt_users_with_email("thomas.mueller@acme.example"), 1);
    assert_eq!(h.tt_users_with_email("niklas.strauss@acme.example"), 1);
    assert_eq!(h.mapping_pairs().await.len(), 27);
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
