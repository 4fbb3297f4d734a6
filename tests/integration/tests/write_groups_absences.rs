//! Issue 11 §1, audit: the TimeTrack absence update is a write group too — TimeTrack cannot change an
//! absence's dates, so the port creates the replacement and then deletes the original. These tests
//! make the TimeTrack simulator apply one of the two writes and lose its answer (`Fault::AfterApply`:
//! 504, dropped connection), run the workflow normally, and check that the absence exists once on
//! each side, the mapping names the replacement, and the next run writes nothing.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test write_groups_absences`.
use integration_tests::{linked_username, start_simulators, writes, Counts, WorkflowRig};
use jiff::civil::{date, Date};
use jiff::Timestamp;
use shared::domain::{EntityKind, System};
use shared::runs::RunRecord;
use shared::settings::{AbsenceTypeMapping, IntegrationSettings};
use shared::store::StateStore;
use shared::workflows::absences::binding::AbsencesBinding;
use simulators::personio::model::AbsenceBoundary;
use simulators::{Fault, FaultRule, Seed};

const TODAY: &str = "2026-03-16T09:00:00Z";
/// Zoë (1003) has a vacation from Monday 2026-04-27 in both systems of the seed.
const ZOE: &str = "1003";

fn start() -> Date {
    date(2026, 4, 27)
}

fn midnight(day: Date) -> AbsenceBoundary {
    AbsenceBoundary {
        date_time: day.at(0, 0, 0, 0),
        half: None,
    }
}

async fn rig() -> (
    WorkflowRig<AbsencesBinding>,
    std::collections::BTreeMap<String, String>,
) {
    let (personio, timetrack) = start_simulators(&Seed::company(date(2026, 3, 16))).await;
    let (vacation, sick) = {
        let s = personio.state();
        (
            s.absence_type_id_by_name("Vacation").expect("Vacation"),
            s.absence_type_id_by_name("Sick leave").expect("Sick leave"),
        )
    };
    let mut settings = IntegrationSettings::example();
    settings.sync.concurrency = 1;
    settings.absences.type_mappings = vec![
        AbsenceTypeMapping {
            timetrack_type_id: 1,
            personio_type_id: vacation,
            master: System::Personio,
            half_day_timetrack_type_id: Some(2),
        },
        AbsenceTypeMapping {
            timetrack_type_id: 5,
            personio_type_id: sick,
            master: System::TimeTrack,
            half_day_timetrack_type_id: None,
        },
    ];
    let now: Timestamp = TODAY.parse().expect("timestamp");
    WorkflowRig::start_linked(personio, timetrack, &settings, AbsencesBinding, now).await
}

/// Live TimeTrack absences of Zoë from [`start`], as (id, from, to).
fn zoe_in_timetrack(
    rig: &WorkflowRig<AbsencesBinding>,
    users: &std::collections::BTreeMap<String, String>,
) -> Vec<(i64, Date, Date)> {
    let user = linked_username(users, ZOE);
    rig.timetrack
        .state()
        .live_absences()
        .filter(|a| a.user == user && a.from == start())
        .map(|a| (a.id, a.from, a.to))
        .collect()
}

fn quiet(run: &RunRecord) -> Counts {
    // The seed holds one absence TimeTrack refuses on every run (see absences_workflow.rs): the
    // only write a quiet run still counts.
    writes(&run.counts)
        .into_iter()
        .filter(|(side, actions)| !(side == "timetrack" && actions.keys().all(|a| a == "failed")))
        .collect()
}

#[tokio::test]
async fn a_lost_answer_inside_the_timetrack_absence_recreate_converges() {
    // k = 0: the replacement's POST; the original's DELETE is retried by the client (idempotent).
    let cases = [
        ("POST", Fault::applied_then_status(504)),
        ("POST", Fault::applied_then_dropped()),
        ("DELETE", Fault::applied_then_status(504)),
        ("DELETE", Fault::applied_then_dropped()),
    ];
    for (method, fault) in cases {
        let what = format!("{method} {fault:?}");
        let (rig, users) = rig().await;
        rig.scheduled().await;
        let old = zoe_in_timetrack(&rig, &users);
        assert_eq!(old.len(), 1, "{what}: {old:?}");
        let period = {
            let p = rig.personio.state();
            p.absence_periods
                .values()
                .find(|a| a.person.id == ZOE && a.starts_from.date_time.date() == start())
                .map(|a| a.id.clone())
                .expect("Zoë's vacation")
        };
        rig.personio.state().update_absence_dates(
            &period,
            midnight(start()),
            Some(midnight(date(2026, 4, 30))),
        );
        rig.timetrack
            .inject(FaultRule::new("/absences", fault, 1).with_method(method));
        let faulty = rig.scheduled().await;
        if method == "POST" {
            // The replacement exists but its answer was lost: the update failed.
            assert!(
                faulty
                    .failures
                    .iter()
                    .any(|f| f.action == "update" && f.error.contains("create absence")),
                "{what}: {:?}",
                faulty.failures
            );
        }
        let second = rig.scheduled().await;
        let now = zoe_in_timetrack(&rig, &users);
        assert_eq!(now.len(), 1, "{what}: one absence, not two: {now:?}");
        assert_eq!((now[0].1, now[0].2), (start(), date(2026, 4, 30)), "{what}");
        assert_ne!(now[0].0, old[0].0, "{what}: the replacement");
        let personio_count = rig
            .personio
            .state()
            .absence_periods
            .values()
            .filter(|a| a.person.id == ZOE && a.starts_from.date_time.date() == start())
            .count();
        assert_eq!(personio_count, 1, "{what}");
        let mappings = rig
            .store
            .list_mappings(&rig.id, EntityKind::Absence, None)
            .await
            .expect("mappings");
        let mapped: Vec<_> = mappings
            .iter()
            .filter(|m| m.personio_id.as_deref() == Some(period.as_str()))
            .collect();
        assert_eq!(mapped.len(), 1, "{what}");
        assert_eq!(
            mapped[0].timetrack_id,
            Some(now[0].0.to_string()),
            "{what}: {second:?}"
        );
        let third = rig.scheduled().await;
        assert_eq!(quiet(&third), Counts::new(), "{what}: {third:?}");
    }
}
