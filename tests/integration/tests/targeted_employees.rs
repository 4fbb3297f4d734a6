//! Targeted (webhook) runs of the employees workflow: `WorkflowService::run_hints` with person and
//! employment hints, against the real DynamoDB store on moto_server and both simulators seeded with
//! the seed company of 2026-03-16 (see `employees_workflow.rs`). The scheduled run links everybody
//! first; then Personio changes and the run gets the hints Personio's webhooks would carry.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test targeted_employees`.
use std::ops::Deref;

use integration_tests::{start_simulators, writes, Counts, WorkflowRig};
use jiff::civil::date;
use shared::domain::{ScopeEntry, Trigger, Workflow};
use shared::engine::{ChangeHint, HintAction, HintFamily, SystemClock};
use shared::runs::{RunRecord, RunStatus};
use shared::settings::{IntegrationSettings, LeaverPolicy};
use shared::workflows::employees::binding::EmployeesBinding;
use simulators::personio::model::EmploymentStatus;
use simulators::Seed;

/// Lena Vogt and Hans-Peter Brückner, both linked by e-mail.
const LENA: &str = "1005";
const HANS_PETER: &str = "1010";

struct Harness(WorkflowRig<EmployeesBinding>);

impl Deref for Harness {
    type Target = WorkflowRig<EmployeesBinding>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn hint(event: &str, family: HintFamily, action: HintAction, id: &str) -> ChangeHint {
    ChangeHint {
        event_id: event.to_string(),
        family,
        action,
        resource_id: id.to_string(),
        occurred_at: "2026-03-16T09:00:00Z".parse().expect("timestamp"),
    }
}

async fn synced_harness() -> Harness {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 3, 16))).await;
    let mut settings = IntegrationSettings::example();
    settings.employees.personal_number_attribute = Some("personal_number".to_string());
    settings.employees.leaver_policy = LeaverPolicy::Deactivate;
    let h = Harness(
        WorkflowRig::start(
            personio,
            timetrack,
            &settings,
            EmployeesBinding,
            SystemClock,
        )
        .await,
    );
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    h
}

impl Harness {
    /// (first name, last name, enabled) of the TimeTrack user with the person's e-mail.
    fn tt_user_of(&self, person: &str) -> (String, String, bool) {
        let email = self.personio.state().persons[person]
            .email
            .clone()
            .expect("email");
        let t = self.timetrack.state();
        let user = t
            .users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(&email))
            .expect("linked user");
        (
            user.first_name.clone(),
            user.last_name.clone(),
            user.enabled,
        )
    }

    async fn hints(&self, hints: Vec<ChangeHint>) -> RunRecord {
        let run = self
            .service
            .run_hints(self.id.clone(), hints, None)
            .await
            .expect("targeted run");
        assert_eq!(run.trigger, Trigger::Webhook);
        assert_eq!(run.workflow, Workflow::Employees);
        assert_eq!(
            run.status,
            RunStatus::Succeeded,
            "{:?} {:?}",
            run.error,
            run.failures
        );
        run
    }
}

#[tokio::test]
async fn targeted_webhook_person_and_employment_hints_sync_only_their_persons() {
    let h = synced_harness().await;
    // Both renamed in Personio; only Lena is hinted.
    assert!(h
        .personio
        .state()
        .set_person_name(LENA, "Lena Marie", "Vogt-Berg"));
    assert!(h
        .personio
        .state()
        .set_person_name(HANS_PETER, "Hans", "Brückner-Lang"));
    let hans_before = h.tt_user_of(HANS_PETER);

    let batch = vec![
        hint("ev-1", HintFamily::Person, HintAction::Updated, LENA),
        hint("ev-2", HintFamily::Person, HintAction::Updated, LENA),
        hint(
            "ev-3",
            HintFamily::AttendancePeriod,
            HintAction::Created,
            "a1",
        ),
    ];
    let run = h.hints(batch.clone()).await;
    assert_eq!(run.event_ids, vec!["ev-1", "ev-2", "ev-3"]);
    let scope = run.scope.as_ref().expect("scope");
    assert_eq!(
        scope.entries,
        vec![ScopeEntry {
            person: LENA.into(),
            days: None
        }]
    );
    assert_eq!(scope.ignored, vec!["ev-3".to_string()]);
    assert_eq!(
        writes(&run.counts),
        [(
            "timetrack".to_string(),
            [("update".to_string(), 1)].into_iter().collect()
        )]
        .into_iter()
        .collect::<Counts>(),
        "{:?}",
        run.counts
    );
    assert_eq!(
        h.tt_user_of(LENA),
        ("Lena Marie".to_string(), "Vogt-Berg".to_string(), true)
    );
    assert_eq!(h.tt_user_of(HANS_PETER), hans_before, "outside the scope");
    // Redelivered: nothing left to write.
    let again = h.hints(batch).await;
    assert_eq!(writes(&again.counts), Counts::new(), "{:?}", again.counts);

    // Hans-Peter leaves: his employment's hint (located through the person's employment references)
    // carries the rename and the deactivation.
    let employment = h.personio.state().employments_of(HANS_PETER)[0].id.clone();
    assert!(h
        .personio
        .state()
        .set_person_employment_status(HANS_PETER, EmploymentStatus::Inactive));
    let run = h
        .hints(vec![hint(
            "ev-4",
            HintFamily::Employment,
            HintAction::Updated,
            &employment,
        )])
        .await;
    assert_eq!(
        run.scope.as_ref().expect("scope").entries,
        vec![ScopeEntry {
            person: HANS_PETER.into(),
            days: None
        }]
    );
    assert_eq!(
        h.tt_user_of(HANS_PETER),
        ("Hans".to_string(), "Brückner-Lang".to_string(), false)
    );

    // A person Personio no longer knows and nobody mapped: stale, nothing written.
    let stale = h
        .hints(vec![hint(
            "ev-5",
            HintFamily::Person,
            HintAction::Deleted,
            "999999",
        )])
        .await;
    assert_eq!(stale.scope.expect("scope").stale, vec!["ev-5".to_string()]);
    assert_eq!(writes(&stale.counts), Counts::new());
}
