//! Table-driven tests of the planner's decision table (docs/sync-engine.md), per direction.

use jiff::civil::{date, Date};
use jiff::Timestamp;

use super::fingerprint::fingerprint;
use super::kind::Record;
use super::plan::{Action, Plan, Resolution, SkipReason};
use super::planner::{plan, SideState};
use super::port::Rejected;
use super::testkit::{FakeKind, FakeValue};
use crate::domain::{DateWindow, Direction, EntityKind, IntegrationId, System};
use crate::store::{Mapping, PendingIntent};

const DIRECTIONS: [Direction; 3] = [
    Direction::Both,
    Direction::ToPersonio,
    Direction::ToTimeTrack,
];
const P: System = System::Personio;
const T: System = System::TimeTrack;

fn day() -> Date {
    date(2026, 3, 10)
}
fn window() -> DateWindow {
    DateWindow::new(date(2026, 3, 1), date(2026, 3, 31)).unwrap()
}
fn value(payload: &str) -> FakeValue {
    FakeValue::new("k", day(), payload)
}

fn mapping(p: Option<&str>, t: Option<&str>, last: Option<&FakeValue>) -> Mapping {
    Mapping {
        integration_id: IntegrationId::new("acme").unwrap(),
        kind: EntityKind::TimeEntry,
        mapping_id: "m1".into(),
        personio_id: p.map(String::from),
        timetrack_id: t.map(String::from),
        fingerprint: last.map(|v| fingerprint(v).unwrap()),
        anchor_date: Some(day()),
        intent: None,
        failures: 0,
        last_error: None,
        parked: None,
        updated_at: Timestamp::UNIX_EPOCH,
        version: 3,
    }
}

/// One side's state in a row of the table, relative to the base value last synced.
#[derive(Debug, Clone, Copy)]
enum St {
    /// No record, no mapping.
    Absent,
    /// A record with no mapping, with this payload.
    New(&'static str),
    Unchanged,
    Changed(&'static str),
    Gone,
}

/// What the plan is expected to contain (one action), in a compact form.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Nothing,
    Create(System),
    Adopt,
    Update(System),
    Delete(System),
    /// winner, resolution
    Conflict(System, Resolution),
    /// Delete the stale record in this system and re-link to its replacement.
    Supersede(System),
    Forget,
    SkipDirection(System),
}

fn summarize(plan: &Plan<FakeValue>) -> Vec<Expect> {
    let mut out: Vec<Expect> = plan
        .actions
        .iter()
        .map(|a| match a {
            Action::Create { target, .. } => Expect::Create(*target),
            Action::Adopt { .. } => Expect::Adopt,
            Action::Update { target, .. } => Expect::Update(*target),
            Action::Delete { target, .. } => Expect::Delete(*target),
            Action::Conflict(c) => Expect::Conflict(c.winner, c.resolution),
            Action::Supersede { target, .. } => Expect::Supersede(*target),
            Action::ForgetMapping { .. } => Expect::Forget,
            Action::Skip(s) => match s.reason {
                SkipReason::Direction { target } => Expect::SkipDirection(target),
                ref other => panic!("unexpected skip {other}"),
            },
        })
        .collect();
    if out.is_empty() {
        out.push(Expect::Nothing);
    }
    out
}

fn side(st: St, id: &str) -> SideState<FakeValue> {
    let mut s = SideState::default();
    match st {
        St::Absent => {}
        St::New(payload) | St::Changed(payload) => s.records.push(Record::new(id, value(payload))),
        St::Unchanged => s.records.push(Record::new(id, value("base"))),
        St::Gone => {
            s.gone.insert(id.to_string());
        }
    }
    s
}

fn run_row(p: St, t: St, master: System, direction: Direction) -> Vec<Expect> {
    let mapped = |st| matches!(st, St::Unchanged | St::Changed(_) | St::Gone);
    let mappings = if mapped(p) || mapped(t) {
        vec![mapping(Some("p1"), Some("t1"), Some(&value("base")))]
    } else {
        vec![]
    };
    let plan = plan(
        &FakeKind { master },
        direction,
        &window(),
        &side(p, "p1"),
        &side(t, "t1"),
        &mappings,
    );
    summarize(&plan)
}

/// (row, Personio, TimeTrack, master, expected for [both, to_personio, to_timetrack])
fn table() -> Vec<(&'static str, St, St, System, [Expect; 3])> {
    use Expect::*;
    use St::*;
    vec![
        (
            "new/–",
            New("a"),
            Absent,
            P,
            [Create(T), SkipDirection(T), Create(T)],
        ),
        (
            "–/new",
            Absent,
            New("a"),
            P,
            [Create(P), Create(P), SkipDirection(P)],
        ),
        (
            "new/new identical twin",
            New("a"),
            New("a"),
            P,
            [Adopt, Adopt, Adopt],
        ),
        (
            "new/new twin with differences, Personio master",
            New("a"),
            New("b"),
            P,
            [
                Conflict(P, Resolution::Update),
                SkipDirection(T),
                Conflict(P, Resolution::Update),
            ],
        ),
        (
            "new/new twin with differences, TimeTrack master",
            New("a"),
            New("b"),
            T,
            [
                Conflict(T, Resolution::Update),
                Conflict(T, Resolution::Update),
                SkipDirection(P),
            ],
        ),
        (
            "changed/unchanged",
            Changed("x"),
            Unchanged,
            P,
            [Update(T), SkipDirection(T), Update(T)],
        ),
        (
            "unchanged/changed",
            Unchanged,
            Changed("x"),
            P,
            [Update(P), Update(P), SkipDirection(P)],
        ),
        (
            "changed/changed, Personio master",
            Changed("x"),
            Changed("y"),
            P,
            [
                Conflict(P, Resolution::Update),
                SkipDirection(T),
                Conflict(P, Resolution::Update),
            ],
        ),
        (
            "changed/changed, TimeTrack master",
            Changed("x"),
            Changed("y"),
            T,
            [
                Conflict(T, Resolution::Update),
                Conflict(T, Resolution::Update),
                SkipDirection(P),
            ],
        ),
        (
            "changed/changed to the same",
            Changed("x"),
            Changed("x"),
            P,
            [Adopt, Adopt, Adopt],
        ),
        (
            "deleted/unchanged",
            Gone,
            Unchanged,
            P,
            [Delete(T), SkipDirection(T), Delete(T)],
        ),
        (
            "unchanged/deleted",
            Unchanged,
            Gone,
            P,
            [Delete(P), Delete(P), SkipDirection(P)],
        ),
        (
            "deleted/changed, Personio master: delete wins",
            Gone,
            Changed("x"),
            P,
            [
                Conflict(P, Resolution::Delete),
                SkipDirection(T),
                Conflict(P, Resolution::Delete),
            ],
        ),
        (
            "deleted/changed, TimeTrack master: re-create in Personio",
            Gone,
            Changed("x"),
            T,
            [
                Conflict(T, Resolution::Recreate),
                Conflict(T, Resolution::Recreate),
                SkipDirection(P),
            ],
        ),
        (
            "changed/deleted, Personio master: re-create in TimeTrack",
            Changed("x"),
            Gone,
            P,
            [
                Conflict(P, Resolution::Recreate),
                SkipDirection(T),
                Conflict(P, Resolution::Recreate),
            ],
        ),
        (
            "changed/deleted, TimeTrack master: delete wins",
            Changed("x"),
            Gone,
            T,
            [
                Conflict(T, Resolution::Delete),
                Conflict(T, Resolution::Delete),
                SkipDirection(P),
            ],
        ),
        (
            "unchanged/unchanged",
            Unchanged,
            Unchanged,
            P,
            [Nothing, Nothing, Nothing],
        ),
        ("deleted/deleted", Gone, Gone, P, [Forget, Forget, Forget]),
    ]
}

#[test]
fn engine_decision_table_every_row_every_direction() {
    let mut failures = Vec::new();
    for (row, p, t, master, expected) in table() {
        for (direction, want) in DIRECTIONS.into_iter().zip(expected) {
            let got = run_row(p, t, master, direction);
            if got != vec![want.clone()] {
                failures.push(format!(
                    "{row} [{}]: want {want:?}, got {got:?}",
                    direction.as_str()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "rows failing:\n{}",
        failures.join("\n")
    );
}

#[test]
fn engine_update_carries_the_source_value_and_the_targets_previous_value() {
    let plan = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &side(St::Changed("new"), "p1"),
        &side(St::Unchanged, "t1"),
        &[mapping(Some("p1"), Some("t1"), Some(&value("base")))],
    );
    match &plan.actions[..] {
        [Action::Update {
            target,
            target_id,
            value: v,
            previous,
            mapping,
        }] => {
            assert_eq!((*target, target_id.as_str()), (T, "t1"));
            assert_eq!(v, &value("new"));
            assert_eq!(previous.as_ref(), Some(&value("base")));
            assert_eq!(mapping.mapping_id, "m1");
        }
        other => panic!("unexpected plan {other:?}"),
    }
}

#[test]
fn engine_pending_intent_adopts_the_twin_or_creates_again() {
    let v = value("a");
    let mut m = mapping(Some("p1"), None, None);
    m.intent = Some(PendingIntent {
        target: T,
        natural_key: "k".into(),
        fingerprint: fingerprint(&v).unwrap(),
        run_id: "r0".into(),
        created_at: Timestamp::UNIX_EPOCH,
        parts: Vec::new(),
    });
    let kind = FakeKind { master: P };
    // The create happened before the run died: the twin is adopted, nothing is written.
    let with_twin = plan(
        &kind,
        Direction::Both,
        &window(),
        &side(St::New("a"), "p1"),
        &side(St::New("a"), "t9"),
        std::slice::from_ref(&m),
    );
    match &with_twin.actions[..] {
        [Action::Adopt {
            personio,
            timetrack,
            mapping: Some(mm),
        }] => {
            assert_eq!((personio.id.as_str(), timetrack.id.as_str()), ("p1", "t9"));
            assert_eq!(mm.mapping_id, "m1");
        }
        other => panic!("unexpected plan {other:?}"),
    }
    // It did not happen: create again, reusing the intent's mapping.
    let without = plan(
        &kind,
        Direction::Both,
        &window(),
        &side(St::New("a"), "p1"),
        &SideState::default(),
        std::slice::from_ref(&m),
    );
    assert!(matches!(
        &without.actions[..],
        [Action::Create {
            target: System::TimeTrack,
            mapping: Some(_),
            ..
        }]
    ));
    // The source went away meanwhile: the mapping is forgotten.
    let mut gone = side(St::Gone, "p1");
    gone.records.clear();
    let forgotten = plan(
        &kind,
        Direction::Both,
        &window(),
        &gone,
        &SideState::default(),
        &[m],
    );
    assert_eq!(summarize(&forgotten), vec![Expect::Forget]);
}

/// A mapped id confirmed gone while an unclaimed record with the same natural key exists on that side:
/// the record moved to a new id (an update done as delete + re-create whose mapping update was lost).
/// The mapping is re-linked and the pair compared as usual; it is never "deleted" nor duplicated.
#[test]
fn engine_gone_id_with_a_same_key_twin_on_its_side_is_relinked() {
    let m = mapping(Some("p1"), Some("t1"), Some(&value("base")));
    let moved = |p: St, t_new: &'static str, master: System| {
        let mut t = side(St::New(t_new), "t9");
        t.gone.insert("t1".into());
        plan(
            &FakeKind { master },
            Direction::Both,
            &window(),
            &side(p, "p1"),
            &t,
            std::slice::from_ref(&m),
        )
    };
    for master in [P, T] {
        // The lost update wrote Personio's change: same content on both sides, only the mapping moves.
        let adopted = moved(St::Changed("new"), "new", master);
        match &adopted.actions[..] {
            [Action::Adopt {
                personio,
                timetrack,
                mapping: Some(mm),
            }] => {
                assert_eq!((personio.id.as_str(), timetrack.id.as_str()), ("p1", "t9"));
                assert_eq!(mm.mapping_id, "m1");
            }
            other => panic!("unexpected plan {other:?}"),
        }
        // Nothing changed in content, but the id did: the mapping must still be rewritten.
        assert_eq!(
            summarize(&moved(St::Unchanged, "base", master)),
            vec![Expect::Adopt]
        );
    }
    // The moved record was edited afterwards: an ordinary update of Personio, against the new id.
    let updated = moved(St::Unchanged, "edited", P);
    match &updated.actions[..] {
        [Action::Update {
            target: System::Personio,
            target_id,
            mapping,
            ..
        }] => {
            assert_eq!(target_id, "p1");
            assert_eq!(mapping.timetrack_id.as_deref(), Some("t9"));
        }
        other => panic!("unexpected plan {other:?}"),
    }
    // Both changed differently: the master decides, with the new id in the conflict.
    let conflict = moved(St::Changed("p-edit"), "t-edit", P);
    match &conflict.actions[..] {
        [Action::Conflict(c)] => {
            assert_eq!((c.winner, c.resolution), (P, Resolution::Update));
            assert_eq!(c.timetrack.as_ref().map(|r| r.id.as_str()), Some("t9"));
            assert_eq!(
                c.mapping.as_ref().and_then(|m| m.timetrack_id.as_deref()),
                Some("t9")
            );
        }
        other => panic!("unexpected plan {other:?}"),
    }
    // Without a same-key record the gone row applies unchanged (here: the delete propagates).
    let mut t = SideState::default();
    t.gone.insert("t1".into());
    t.records
        .push(Record::new("t9", FakeValue::new("other", day(), "base")));
    let deleted = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &side(St::Unchanged, "p1"),
        &t,
        std::slice::from_ref(&m),
    );
    assert_eq!(
        summarize(&deleted),
        vec![Expect::Delete(P), Expect::Create(P)]
    );
}

/// Side `changed`'s record was edited (payload "new"); the other side still holds the unchanged
/// stale record the mapping names *and* an unmapped replacement with the new content: the completed
/// create half of an update done as create-new + delete-old, whose delete (or mapping write) was lost.
fn superseded_plan(
    changed: System,
    replacement: FakeValue,
    other_stale: St,
    master: System,
    direction: Direction,
) -> Plan<FakeValue> {
    let m = mapping(Some("p1"), Some("t1"), Some(&value("base")));
    let (mut p, mut t) = match changed {
        System::Personio => (side(St::Changed("new"), "p1"), side(other_stale, "t1")),
        System::TimeTrack => (side(other_stale, "p1"), side(St::Changed("new"), "t1")),
    };
    match changed {
        System::Personio => t.records.push(Record::new("t9", replacement)),
        System::TimeTrack => p.records.push(Record::new("p9", replacement)),
    }
    plan(
        &FakeKind { master },
        direction,
        &window(),
        &p,
        &t,
        std::slice::from_ref(&m),
    )
}

#[test]
fn engine_superseded_twin_of_a_personio_change_relinks_and_deletes_the_stale_timetrack_record() {
    for master in [P, T] {
        let got = superseded_plan(P, value("new"), St::Unchanged, master, Direction::Both);
        match &got.actions[..] {
            [Action::Supersede {
                target,
                stale_id,
                personio,
                timetrack,
                mapping,
            }] => {
                assert_eq!((*target, stale_id.as_str()), (T, "t1"));
                assert_eq!((personio.id.as_str(), timetrack.id.as_str()), ("p1", "t9"));
                assert_eq!(timetrack.value, value("new"));
                // The mapping as stored: the applier bumps its version from here.
                assert_eq!(mapping.timetrack_id.as_deref(), Some("t1"));
                assert_eq!(mapping.version, 3);
            }
            other => panic!("master {master}: unexpected plan {other:?}"),
        }
    }
}

#[test]
fn engine_superseded_twin_of_a_timetrack_change_relinks_and_deletes_the_stale_personio_record() {
    for master in [P, T] {
        let got = superseded_plan(T, value("new"), St::Unchanged, master, Direction::Both);
        match &got.actions[..] {
            [Action::Supersede {
                target,
                stale_id,
                personio,
                timetrack,
                mapping,
            }] => {
                assert_eq!((*target, stale_id.as_str()), (P, "p1"));
                assert_eq!((personio.id.as_str(), timetrack.id.as_str()), ("p9", "t1"));
                assert_eq!(personio.value, value("new"));
                assert_eq!(mapping.personio_id.as_deref(), Some("p1"));
            }
            other => panic!("master {master}: unexpected plan {other:?}"),
        }
    }
}

/// Both sides changed and the changed side is master: the interrupted write was the conflict's
/// overwrite of the loser, so the replacement completes it. With the other side as master the
/// conflict goes the other way and the rule does not apply.
#[test]
fn engine_superseded_twin_completes_an_interrupted_conflict_overwrite_of_the_loser() {
    let got = superseded_plan(P, value("new"), St::Changed("t-edit"), P, Direction::Both);
    assert!(
        matches!(&got.actions[..], [Action::Supersede { target: System::TimeTrack, stale_id, .. }] if stale_id == "t1"),
        "{got:?}"
    );
    let got = superseded_plan(T, value("new"), St::Changed("p-edit"), T, Direction::Both);
    assert!(
        matches!(&got.actions[..], [Action::Supersede { target: System::Personio, stale_id, .. }] if stale_id == "p1"),
        "{got:?}"
    );
    // Master is the side that did not produce the replacement: conflict, and the same-key record is
    // an ordinary new record (its own twin logic applies; here: created on the other side).
    let got = superseded_plan(P, value("new"), St::Changed("t-edit"), T, Direction::Both);
    assert_eq!(
        summarize(&got),
        vec![Expect::Conflict(T, Resolution::Update), Expect::Create(P)]
    );
}

/// The rule needs the same natural key AND the same fingerprint as the changed side's value.
#[test]
fn engine_superseded_twin_needs_the_same_content_not_only_the_same_key() {
    let got = superseded_plan(
        P,
        FakeValue::new("k", day(), "something else"),
        St::Unchanged,
        P,
        Direction::Both,
    );
    assert_eq!(summarize(&got), vec![Expect::Update(T), Expect::Create(P)]);
    let got = superseded_plan(
        P,
        FakeValue::new("other-key", day(), "new"),
        St::Unchanged,
        P,
        Direction::Both,
    );
    assert_eq!(summarize(&got), vec![Expect::Update(T), Expect::Create(P)]);
}

/// When the direction forbids writing to the side holding the stale record, the mapping is skipped
/// whole and the replacement is NOT treated as a new record (no create on the other side).
#[test]
fn engine_superseded_twin_in_a_forbidden_direction_is_skipped_and_never_created() {
    for (changed, forbidden) in [(P, Direction::ToPersonio), (T, Direction::ToTimeTrack)] {
        let got = superseded_plan(changed, value("new"), St::Unchanged, P, forbidden);
        let target = changed.other();
        match &got.actions[..] {
            [Action::Skip(s)] => {
                assert_eq!(s.reason, SkipReason::Direction { target });
                let stale = if target == P { "p1" } else { "t1" };
                assert_eq!(s.record_id.as_deref(), Some(stale));
            }
            other => panic!("{forbidden:?}: unexpected plan {other:?}"),
        }
    }
    // The allowed direction performs it.
    let got = superseded_plan(P, value("new"), St::Unchanged, P, Direction::ToTimeTrack);
    assert!(matches!(&got.actions[..], [Action::Supersede { .. }]));
}

/// The replacement is consumed by exactly one rule: with two mappings that could both claim it, the
/// first (by mapping id) takes it and the other is planned as if it did not exist.
#[test]
fn engine_superseded_twin_is_consumed_once() {
    let m1 = mapping(Some("p1"), Some("t1"), Some(&value("base")));
    let mut m2 = mapping(Some("p2"), Some("t2"), Some(&value("base")));
    m2.mapping_id = "m2".into();
    let mut p = SideState::default();
    p.records.push(Record::new("p1", value("new")));
    p.records.push(Record::new("p2", value("new")));
    let mut t = SideState::default();
    t.records.push(Record::new("t1", value("base")));
    t.records.push(Record::new("t2", value("base")));
    t.records.push(Record::new("t9", value("new")));
    let got = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &p,
        &t,
        &[m2, m1],
    );
    match &got.actions[..] {
        [Action::Supersede { mapping, .. }, Action::Update {
            target: System::TimeTrack,
            target_id,
            ..
        }] => {
            assert_eq!(mapping.mapping_id, "m1");
            assert_eq!(target_id, "t2");
        }
        other => panic!("unexpected plan {other:?}"),
    }
}

/// The "moved" rule and the superseded-twin rule draw from the same unclaimed records: whichever
/// mapping comes first takes the candidate, the other mapping falls back to its ordinary row.
#[test]
fn engine_superseded_twin_and_moved_rule_never_share_a_record() {
    let m1 = mapping(Some("p1"), Some("t1"), Some(&value("base")));
    let mut m2 = mapping(Some("p2"), Some("t2"), Some(&value("base")));
    m2.mapping_id = "m2".into();
    let mut p = SideState::default();
    p.records.push(Record::new("p1", value("new")));
    p.records.push(Record::new("p2", value("new")));
    let mut t = SideState::default();
    t.gone.insert("t1".into()); // m1: moved candidate wanted
    t.records.push(Record::new("t2", value("base"))); // m2: superseded twin wanted
    t.records.push(Record::new("t9", value("new")));
    let got = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &p,
        &t,
        &[m2, m1],
    );
    // m1 (first) re-links to t9 and adopts; m2 updates t2 as usual; t9 is not created in Personio.
    match &got.actions[..] {
        [Action::Adopt {
            timetrack,
            mapping: Some(mm),
            ..
        }, Action::Update {
            target: System::TimeTrack,
            target_id,
            ..
        }] => {
            assert_eq!(
                (timetrack.id.as_str(), mm.mapping_id.as_str()),
                ("t9", "m1")
            );
            assert_eq!(target_id, "t2");
        }
        other => panic!("unexpected plan {other:?}"),
    }
}

/// A new record is not created on a side that listed an unreadable record no mapping claims: that
/// record may be its twin (found by the reliability suite: a TimeTrack attendance listed without its
/// user made the first sync create its Personio twin in TimeTrack again). Once the record reads, the
/// twin is adopted; a rejected record that a mapping claims defers nothing.
#[test]
fn engine_no_create_onto_a_side_with_an_unreadable_unclaimed_record() {
    let kind = FakeKind { master: P };
    let mut unreadable = SideState::default();
    unreadable.rejected.push(Rejected::unreadable(
        Some("t7".into()),
        "TimeTrack attendance",
        "missing field `user`",
    ));
    let deferred = plan(
        &kind,
        Direction::Both,
        &window(),
        &side(St::New("base"), "p1"),
        &unreadable,
        &[],
    );
    assert!(
        deferred.actions.iter().any(|a| matches!(a, Action::Skip(s)
            if s.record_id.as_deref() == Some("p1")
                && matches!(s.reason, SkipReason::TwinUnreadable { target: T, unreadable: 1 }))),
        "{:?}",
        deferred.actions
    );
    assert!(!deferred
        .actions
        .iter()
        .any(|a| matches!(a, Action::Create { .. })));
    // Claimed by a mapping: the unreadable record is a known one, not a possible twin.
    let mut m = mapping(Some("p0"), Some("t7"), Some(&value("base")));
    m.mapping_id = "m0".into();
    let created = plan(
        &kind,
        Direction::Both,
        &window(),
        &side(St::New("other"), "p1"),
        &unreadable,
        &[m],
    );
    assert!(created
        .actions
        .iter()
        .any(|a| matches!(a, Action::Create { target: T, .. })));
}

#[test]
fn engine_missing_records_are_never_deleted_unless_confirmed_gone() {
    let kind = FakeKind { master: P };
    let m = mapping(Some("p1"), Some("t1"), Some(&value("base")));
    // p1 missing from the listing, not confirmed gone (get-by-id failed): skip, do not delete t1.
    let plan1 = plan(
        &kind,
        Direction::Both,
        &window(),
        &SideState::default(),
        &side(St::Unchanged, "t1"),
        std::slice::from_ref(&m),
    );
    assert!(matches!(
        &plan1.actions[..],
        [Action::Skip(s)] if s.reason == SkipReason::Unconfirmed && s.record_id.as_deref() == Some("p1")
    ));
    // p1 rejected by the port: reported, never treated as deleted.
    let mut rejected = SideState::default();
    rejected.rejected.push(Rejected {
        id: Some("p1".into()),
        reason: "unknown attendance type".into(),
    });
    let plan2 = plan(
        &kind,
        Direction::Both,
        &window(),
        &rejected,
        &side(St::Unchanged, "t1"),
        &[m],
    );
    assert!(matches!(
        &plan2.actions[..],
        [Action::Skip(s)] if matches!(s.reason, SkipReason::Rejected(_))
    ));
}

#[test]
fn engine_parked_mappings_are_skipped_with_their_reason() {
    let mut m = mapping(Some("p1"), Some("t1"), Some(&value("base")));
    m.parked = Some("approved period is locked".into());
    let plan = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &side(St::Changed("x"), "p1"),
        &side(St::Unchanged, "t1"),
        &[m],
    );
    match &plan.actions[..] {
        [Action::Skip(s)] => {
            assert_eq!(
                s.reason,
                SkipReason::Parked("approved period is locked".into())
            );
            assert!(s.reason.to_string().contains("approved period is locked"));
        }
        other => panic!("unexpected plan {other:?}"),
    }
}

#[test]
fn engine_mappings_outside_the_window_are_not_considered() {
    let mut m = mapping(Some("p1"), Some("t1"), Some(&value("base")));
    m.anchor_date = Some(date(2026, 5, 1));
    // Both records are outside the window (not listed) and nobody confirmed them gone: nothing at all.
    let plan1 = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &SideState::default(),
        &SideState::default(),
        std::slice::from_ref(&m),
    );
    assert_eq!(plan1, Plan::default());
    // A record that moved into the window keeps its mapping (no duplicate create).
    let mut moved = SideState::default();
    moved.records.push(Record::new("p1", value("moved")));
    let mut t = SideState::default();
    t.records.push(Record::new("t1", value("base")));
    let plan2 = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &moved,
        &t,
        &[m],
    );
    assert_eq!(summarize(&plan2), vec![Expect::Update(T)]);
}

#[test]
fn engine_twins_pair_one_to_one_and_leftovers_are_created() {
    let mut p = SideState::default();
    let mut t = SideState::default();
    p.records
        .push(Record::new("p1", FakeValue::new("a", day(), "x")));
    p.records
        .push(Record::new("p2", FakeValue::new("b", day(), "x")));
    t.records
        .push(Record::new("t1", FakeValue::new("a", day(), "x")));
    t.records
        .push(Record::new("t2", FakeValue::new("c", day(), "x")));
    let plan = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &p,
        &t,
        &[],
    );
    let mut got = summarize(&plan);
    got.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        got,
        vec![Expect::Adopt, Expect::Create(P), Expect::Create(T)]
    );
}

#[test]
fn engine_dry_run_plan_serialises_actions_with_ids_and_values() {
    let plan = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &side(St::Changed("x"), "p1"),
        &side(St::Changed("y"), "t1"),
        &[mapping(Some("p1"), Some("t1"), Some(&value("base")))],
    );
    let json = serde_json::to_value(plan.to_report()).unwrap();
    assert_eq!(json["in_sync"], 0);
    let action = &json["actions"][0];
    assert_eq!(action["action"], "conflict");
    assert_eq!(action["winner"], "personio");
    assert_eq!(action["system"], "timetrack");
    assert_eq!(action["personio"]["id"], "p1");
    assert_eq!(action["timetrack"]["value"]["payload"], "y");
}

#[test]
fn engine_a_create_skipped_by_direction_names_its_source_record() {
    let plan = plan(
        &FakeKind {
            master: System::Personio,
        },
        Direction::ToPersonio,
        &window(),
        &side(St::New("hire"), "p1"),
        &side(St::Absent, "t1"),
        &[],
    );
    let skips: Vec<_> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Skip(s) => Some((s.system, s.record_id.clone(), s.reason.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(skips.len(), 1, "{skips:?}");
    let (system, record_id, reason) = &skips[0];
    assert_eq!(*system, Some(System::Personio));
    assert_eq!(record_id.as_deref(), Some("p1"));
    assert!(reason.contains("timetrack"), "{reason}");
}

#[test]
fn engine_pending_intent_twin_made_of_recorded_writes_is_completed_not_mastered() {
    // A create of "a" into TimeTrack recorded its writes ("half", then "a"); the run lost the answer
    // after the first. TimeTrack holds the fragment "half" with the intent's natural key.
    let mut m = mapping(Some("p1"), None, None);
    m.intent = Some(PendingIntent {
        target: T,
        natural_key: "k".into(),
        fingerprint: fingerprint(&value("a")).unwrap(),
        run_id: "r0".into(),
        created_at: Timestamp::UNIX_EPOCH,
        parts: vec!["half".into(), "a".into()],
    });
    for master in [P, T] {
        let kind = FakeKind { master };
        let planned = plan(
            &kind,
            Direction::Both,
            &window(),
            &side(St::New("a"), "p1"),
            &side(St::New("half"), "t9"),
            std::slice::from_ref(&m),
        );
        // Whoever is master, the fragment is brought to the intended value; nothing reaches Personio.
        match &planned.actions[..] {
            [Action::Update {
                target: System::TimeTrack,
                target_id,
                value: v,
                previous: Some(prev),
                mapping: mm,
            }] => {
                assert_eq!(target_id, "t9");
                assert_eq!(v, &value("a"));
                assert_eq!(prev, &value("half"));
                assert_eq!(mm.mapping_id, "m1");
            }
            other => panic!("master {master}: unexpected plan {other:?}"),
        }
        // A one-way run towards Personio may not write it: skipped, and the twin stays claimed
        // (it is not "new" on TimeTrack's side).
        let one_way = plan(
            &kind,
            Direction::ToPersonio,
            &window(),
            &side(St::New("a"), "p1"),
            &side(St::New("half"), "t9"),
            std::slice::from_ref(&m),
        );
        assert!(
            matches!(&one_way.actions[..], [Action::Skip(s)] if matches!(s.reason, SkipReason::Direction { .. })),
            "{:?}",
            one_way.actions
        );
    }
    // A twin that the intent's records do not account for is somebody's record: the master decides.
    let kind = FakeKind { master: P };
    let planned = plan(
        &kind,
        Direction::Both,
        &window(),
        &side(St::New("a"), "p1"),
        &side(St::New("edited"), "t9"),
        std::slice::from_ref(&m),
    );
    assert!(
        matches!(&planned.actions[..], [Action::Conflict(c)] if c.winner == P && c.resolution == Resolution::Update),
        "{:?}",
        planned.actions
    );
}

#[test]
fn engine_pending_intent_remnant_with_another_natural_key_is_completed_not_created_again() {
    // A create of "a" (key "k") into TimeTrack recorded its writes ("part1", then "part2") and the
    // process died after the first. The lone first part does not carry the whole record's natural key
    // (a TimeTrack absence's full-day part ends a day before the absence): no key match, but every
    // write it is made of was recorded, so it is this create's remnant.
    let mut m = mapping(Some("p1"), None, None);
    m.intent = Some(PendingIntent {
        target: T,
        natural_key: "k".into(),
        fingerprint: fingerprint(&value("a")).unwrap(),
        run_id: "r0".into(),
        created_at: Timestamp::UNIX_EPOCH,
        parts: vec!["part1".into()],
    });
    let lone = |payload: &str| {
        let mut s = SideState::default();
        s.records.push(Record::new(
            "t9",
            FakeValue::new("k-shorter", day(), payload),
        ));
        s
    };
    for master in [P, T] {
        let planned = plan(
            &FakeKind { master },
            Direction::Both,
            &window(),
            &side(St::New("a"), "p1"),
            &lone("part1"),
            std::slice::from_ref(&m),
        );
        match &planned.actions[..] {
            [Action::Update {
                target: System::TimeTrack,
                target_id,
                value: v,
                mapping: mm,
                ..
            }] => {
                assert_eq!(target_id, "t9");
                assert_eq!(v, &value("a"));
                assert_eq!(mm.mapping_id, "m1");
            }
            other => panic!("master {master}: unexpected plan {other:?}"),
        }
    }
    // A record with another key that the intent's records do not account for is somebody else's: the
    // create is tried again and the record is new on its side.
    let planned = plan(
        &FakeKind { master: P },
        Direction::Both,
        &window(),
        &side(St::New("a"), "p1"),
        &lone("somebody"),
        std::slice::from_ref(&m),
    );
    let mut got = summarize(&planned);
    got.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        got,
        vec![Expect::Create(P), Expect::Create(T)],
        "{:?}",
        planned.actions
    );
}
