//! Targeted (webhook) runs of the absences workflow: `WorkflowService::run_hints` with change hints of
//! absence periods, against the real DynamoDB store on moto_server and both simulators seeded with the
//! seed company of Monday 2026-03-16 (see `absences_workflow.rs` for the seed and the type mappings:
//! Vacation ⇄ Urlaub with Personio as master). Each test first runs the scheduled window so that both
//! sides are in sync and mapped, then changes Personio and hands the run the hints Personio would send.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test targeted_absences`.
use std::collections::BTreeMap;
use std::ops::Deref;

use integration_tests::{counts, linked_username, start_simulators, writes, Counts, WorkflowRig};
use jiff::civil::{date, Date};
use jiff::Timestamp;
use shared::domain::{DateWindow, ScopeEntry, System, Trigger, Workflow};
use shared::engine::{ChangeHint, HintAction, HintFamily};
use shared::runs::{RunRecord, RunStatus};
use shared::settings::{AbsenceTypeMapping, IntegrationSettings};
use shared::store::StateStore;
use shared::workflows::absences::binding::AbsencesBinding;
use simulators::personio::model::{AbsenceBoundary, AbsenceStatus as PStatus};
use simulators::timetrack::model::Absence as TtAbsence;
use simulators::Seed;

const TODAY: &str = "2026-03-16T09:00:00Z";
const URLAUB: i64 = 1;
const URLAUB_HALF: i64 = 2;
const KRANKENSTAND: i64 = 5;
/// Lena Vogt: her hinted absences are the scope.
const LENA: &str = "1005";
/// Zoë Schäfer: a mapped future vacation, outside every scope below.
const ZOE: &str = "1003";

struct Harness {
    rig: WorkflowRig<AbsencesBinding>,
    users: BTreeMap<String, String>,
    vacation: String,
}

impl Deref for Harness {
    type Target = WorkflowRig<AbsencesBinding>;

    fn deref(&self) -> &Self::Target {
        &self.rig
    }
}

fn midnight(day: Date) -> AbsenceBoundary {
    AbsenceBoundary {
        date_time: day.at(0, 0, 0, 0),
        half: None,
    }
}

fn hint(event: &str, action: HintAction, id: &str) -> ChangeHint {
    ChangeHint {
        event_id: event.to_string(),
        family: HintFamily::AbsencePeriod,
        action,
        resource_id: id.to_string(),
        occurred_at: TODAY.parse().expect("timestamp"),
    }
}

async fn synced_harness() -> Harness {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 3, 16))).await;
    let (vacation, sick) = {
        let s = personio.state();
        (
            s.absence_type_id_by_name("Vacation").expect("Vacation"),
            s.absence_type_id_by_name("Sick leave").expect("Sick leave"),
        )
    };
    let mut settings = IntegrationSettings::example();
    settings.absences.type_mappings = vec![
        AbsenceTypeMapping {
            timetrack_type_id: URLAUB,
            personio_type_id: vacation.clone(),
            master: System::Personio,
            half_day_timetrack_type_id: Some(URLAUB_HALF),
        },
        AbsenceTypeMapping {
            timetrack_type_id: KRANKENSTAND,
            personio_type_id: sick,
            master: System::TimeTrack,
            half_day_timetrack_type_id: None,
        },
    ];
    let now: Timestamp = TODAY.parse().expect("timestamp");
    let (rig, users) =
        WorkflowRig::start_linked(personio, timetrack, &settings, AbsencesBinding, now).await;
    let h = Harness {
        rig,
        users,
        vacation,
    };
    let run = h.scheduled().await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    h
}

impl Harness {
    fn tt_of(&self, person: &str) -> Vec<TtAbsence> {
        let username = linked_username(&self.users, person);
        self.timetrack
            .state()
            .live_absences()
            .filter(|a| a.user == username)
            .cloned()
            .collect()
    }

    /// Every live TimeTrack absence of anybody but `person`.
    fn tt_except(&self, person: &str) -> BTreeMap<i64, TtAbsence> {
        let username = linked_username(&self.users, person);
        self.timetrack
            .state()
            .live_absences()
            .filter(|a| a.user != username)
            .map(|a| (a.id, a.clone()))
            .collect()
    }

    async fn hints(&self, hints: Vec<ChangeHint>) -> RunRecord {
        let run = self
            .service
            .run_hints(self.id.clone(), hints, None)
            .await
            .expect("targeted run");
        assert_eq!(run.trigger, Trigger::Webhook);
        assert_eq!(run.workflow, Workflow::Absences);
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
async fn targeted_webhook_absence_created_updated_deleted_reach_timetrack_and_nothing_else() {
    let h = synced_harness().await;
    let (june_1, june_3, june_5) = (date(2026, 6, 1), date(2026, 6, 3), date(2026, 6, 5));

    // Outside the scope and unhinted: Zoë's mapped vacation deleted in Personio. Lena's hints must
    // neither delete nor touch it.
    let zoe: Vec<String> = h
        .personio
        .state()
        .absence_periods
        .values()
        .filter(|p| p.person.id == ZOE)
        .map(|p| p.id.clone())
        .collect();
    assert!(!zoe.is_empty());
    for id in &zoe {
        assert!(h.personio.state().delete_absence(id));
    }
    let untouched = h.tt_except(LENA);
    let zoe_before = h.tt_of(ZOE).len();
    let lena_before = h.tt_of(LENA).len();

    // created
    let id = h.personio.state().add_absence(
        LENA,
        &h.vacation,
        midnight(june_1),
        Some(midnight(june_3)),
        PStatus::Approved,
    );
    let run = h.hints(vec![hint("ev-1", HintAction::Created, &id)]).await;
    assert_eq!(run.event_ids, vec!["ev-1".to_string()]);
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "create", 1)]));
    let scope = run.scope.as_ref().expect("scope");
    assert_eq!(
        scope.entries,
        vec![ScopeEntry {
            person: LENA.into(),
            days: Some(DateWindow {
                from: june_1,
                to: june_3
            }),
        }]
    );
    let created: Vec<TtAbsence> = h
        .tt_of(LENA)
        .into_iter()
        .filter(|a| a.from == june_1)
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(
        (created[0].to, created[0].absence_type, created[0].status),
        (june_3, URLAUB, 1)
    );
    assert_eq!(h.tt_except(LENA), untouched, "outside the scope");

    // updated: two more days. Counted: the token, the absence-type catalogue the workflow reads, the
    // GET of the period and the filtered list; the write is TimeTrack's.
    assert!(h
        .personio
        .state()
        .update_absence_dates(&id, midnight(june_1), Some(midnight(june_5))));
    h.personio.clear_requests();
    let run = h.hints(vec![hint("ev-2", HintAction::Updated, &id)]).await;
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "update", 1)]));
    let requests = h.personio.requests();
    eprintln!(
        "Personio requests: targeted absence update {}",
        requests.len()
    );
    assert!(requests.len() <= 4, "{requests:?}");
    let lists: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.api_path == "/v2/absence-periods")
        .collect();
    assert_eq!(lists.len(), 1, "{requests:?}");
    assert!(lists[0]
        .query
        .as_deref()
        .unwrap_or_default()
        .contains(&format!("person.id={LENA}")));
    let updated: Vec<TtAbsence> = h
        .tt_of(LENA)
        .into_iter()
        .filter(|a| a.from == june_1)
        .collect();
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert_eq!(updated[0].to, june_5);
    assert_eq!(h.tt_except(LENA), untouched, "outside the scope");

    // deleted, delivered twice and with the older events after it
    assert!(h.personio.state().delete_absence(&id));
    let batch = vec![
        hint("ev-3", HintAction::Deleted, &id),
        hint("ev-2", HintAction::Updated, &id),
        hint("ev-3", HintAction::Deleted, &id),
        hint("ev-1", HintAction::Created, &id),
    ];
    let run = h.hints(batch.clone()).await;
    assert_eq!(writes(&run.counts), counts(&[("timetrack", "delete", 1)]));
    let scope = run.scope.as_ref().expect("scope");
    assert_eq!(scope.gone, vec!["ev-3", "ev-2", "ev-1"]);
    assert_eq!(h.tt_of(LENA).len(), lena_before);
    assert_eq!(h.tt_except(LENA), untouched, "outside the scope");

    // Redelivered: the record is gone and no longer mapped — stale, nothing written.
    let again = h.hints(batch).await;
    assert_eq!(writes(&again.counts), Counts::new(), "{:?}", again.counts);
    assert_eq!(again.scope.expect("scope").stale.len(), 3);

    // Only a window run (the drift check) carries Zoë's unhinted delete.
    let window_run = h.scheduled().await;
    assert!(
        window_run.counts.timetrack.delete >= 1,
        "{:?}",
        window_run.counts
    );
    assert!(h.tt_of(ZOE).len() < zoe_before);
}

#[tokio::test]
async fn targeted_webhook_absences_ignore_other_families_and_keep_the_watermark() {
    let h = synced_harness().await;
    let before = h.timetrack.state().absences.clone();
    let run = h
        .hints(vec![ChangeHint {
            family: HintFamily::AttendancePeriod,
            ..hint("ev-1", HintAction::Updated, "some-attendance")
        }])
        .await;
    let scope = run.scope.as_ref().expect("scope");
    assert_eq!(scope.ignored, vec!["ev-1".to_string()]);
    assert!(scope.entries.is_empty());
    assert_eq!(writes(&run.counts), Counts::new());
    assert_eq!(h.timetrack.state().absences, before);
    let watermark = h
        .store
        .get_watermark(&h.id, Workflow::Absences)
        .await
        .expect("watermark")
        .expect("set by the scheduled run");
    assert_ne!(
        watermark.run_id, run.run_id,
        "a targeted run keeps the watermark"
    );
}
