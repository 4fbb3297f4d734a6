//! Issue 11 §1, audit: the employees workflow's creates after a lost answer. Both are one write each
//! — the import is one `POST /users`, the export one `POST /v2/persons` (Personio creates the initial
//! employment itself; the export sends none, see `employees/writes.rs`) — so the intent's natural key
//! (the e-mail) finds what a lost answer hid. The simulators apply the POST and lose its answer
//! (`Fault::AfterApply`: 504, dropped connection); the next run must adopt, not create again, and the
//! run after that writes nothing.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test write_groups_employees`.
use integration_tests::{start_simulators, writes, Counts, WorkflowRig};
use jiff::civil::date;
use shared::engine::SystemClock;
use shared::runs::{RunRecord, RunStatus};
use shared::settings::IntegrationSettings;
use shared::workflows::employees::binding::EmployeesBinding;
use simulators::{Fault, FaultRule, Seed};

async fn rig() -> WorkflowRig<EmployeesBinding> {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 3, 16))).await;
    let mut settings = IntegrationSettings::example();
    settings.employees.personal_number_attribute = Some("personal_number".to_string());
    settings.sync.concurrency = 1;
    WorkflowRig::start(
        personio,
        timetrack,
        &settings,
        EmployeesBinding,
        SystemClock,
    )
    .await
}

fn tt_users_with_email(rig: &WorkflowRig<EmployeesBinding>, email: &str) -> usize {
    rig.timetrack
        .state()
        .users
        .values()
        .filter(|u| u.email.eq_ignore_ascii_case(email))
        .count()
}

fn persons_with_email(rig: &WorkflowRig<EmployeesBinding>, email: &str) -> usize {
    rig.personio
        .state()
        .persons
        .values()
        .filter(|p| {
            p.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .count()
}

fn lost_answers() -> [Fault; 2] {
    [
        Fault::applied_then_status(504),
        Fault::applied_then_dropped(),
    ]
}

#[tokio::test]
async fn a_lost_answer_to_a_user_import_is_adopted_not_created_twice() {
    for fault in lost_answers() {
        let rig = rig().await;
        rig.timetrack
            .inject(FaultRule::new("/users", fault.clone(), 1).with_method("POST"));
        let first = rig.scheduled().await;
        assert_eq!(
            first.status,
            RunStatus::CompletedWithFailures,
            "{fault:?}: {first:?}"
        );
        let second = rig.scheduled().await;
        assert_eq!(second.status, RunStatus::Succeeded, "{fault:?}: {second:?}");
        // The seed's two Personio-only employees are imported, each exactly once.
        for email in ["thomas.mueller@acme.example", "niklas.strauss@acme.example"] {
            assert_eq!(tt_users_with_email(&rig, email), 1, "{fault:?}: {email}");
        }
        let third = rig.scheduled().await;
        assert_eq!(writes(&third.counts), Counts::new(), "{fault:?}: {third:?}");
    }
}

#[tokio::test]
async fn a_lost_answer_to_a_person_export_is_adopted_not_created_twice() {
    for fault in lost_answers() {
        let rig = rig().await;
        rig.scheduled().await;
        let uwe = rig
            .timetrack
            .state()
            .user_by_username("uwe.kuehn")
            .map(|u| u.id)
            .expect("Uwe");
        rig.personio
            .inject(FaultRule::new("/v2/persons", fault.clone(), 1).with_method("POST"));
        let (status, body) = rig
            .manual(&serde_json::json!({ "export_user_ids": [uwe] }))
            .await;
        assert_eq!(status, 200, "{body}");
        let export: RunRecord = serde_json::from_value(body).expect("run record");
        assert_eq!(export.failures.len(), 1, "{fault:?}: {export:?}");
        assert_eq!(
            persons_with_email(&rig, "uwe.kuehn@acme.example"),
            1,
            "applied"
        );
        // A normal run adopts the person the lost answer hid; a second export would not duplicate.
        rig.scheduled().await;
        let (status, body) = rig
            .manual(&serde_json::json!({ "export_user_ids": [uwe] }))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            persons_with_email(&rig, "uwe.kuehn@acme.example"),
            1,
            "{fault:?}"
        );
        let third = rig.scheduled().await;
        assert_eq!(writes(&third.counts), Counts::new(), "{fault:?}: {third:?}");
    }
}
