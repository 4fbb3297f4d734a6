//! Planner throughput and memory: `shared::engine::plan` over generated inputs of the engine testkit's
//! [`FakeKind`]/[`FakeValue`] in the mixes a scheduled run meets.
//!
//! Every mix has `n` pairs (one pair = one thing that exists, or existed, in both systems), spread over
//! a 30-day window. Values carry a realistic payload (about the size of a canonical time entry), because
//! the planner fingerprints every listed record and the fingerprint cost grows with the value's size.
use std::hint::black_box;

use jiff::civil::{date, Date};
use jiff::{Timestamp, ToSpan};
use shared::domain::{DateWindow, Direction, EntityKind, IntegrationId, System};
use shared::engine::testkit::{FakeKind, FakeValue};
use shared::engine::{fingerprint, plan, Action, Plan, Record, SideState};
use shared::store::Mapping;

use crate::memory::{peak_rss_kib, reset_peak_rss, HeapUse};
use crate::timing::{median_of, thread_cpu, Stopwatch};
use crate::ALLOCATOR;

/// The situations a run meets, each over all `n` pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mix {
    /// Every pair mapped and unchanged: the steady state of most runs.
    InSync,
    /// 10 % changed in Personio, another 10 % changed in TimeTrack, the rest in sync.
    ChangedEachSide,
    /// 10 % new in Personio only, 10 % new in TimeTrack only (no mapping yet), the rest in sync.
    NewEachSide,
    /// 5 % deleted (half of them in Personio, half in TimeTrack, confirmed gone), the rest in sync.
    Deleted,
}

impl Mix {
    pub(crate) const ALL: [Mix; 4] = [
        Mix::InSync,
        Mix::ChangedEachSide,
        Mix::NewEachSide,
        Mix::Deleted,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Mix::InSync => "all in sync",
            Mix::ChangedEachSide => "10% changed each side",
            Mix::NewEachSide => "10% new each side",
            Mix::Deleted => "5% deleted",
        }
    }
}

/// One planner input.
pub(crate) struct Scenario {
    pub window: DateWindow,
    pub personio: SideState<FakeValue>,
    pub timetrack: SideState<FakeValue>,
    pub mappings: Vec<Mapping>,
}

fn window_start() -> Date {
    date(2026, 11, 1)
}

fn value(i: usize, payload: &str) -> FakeValue {
    let day = window_start()
        .checked_add(((i % 30) as i64).days())
        .unwrap_or(window_start());
    // About the size of a canonical time entry: person, start, end, break, note. Person `i / 30` on day
    // `i % 30` keeps natural keys unique, so new records never find an accidental twin.
    FakeValue::new(
        format!("{}|2026-11-{:02}T07:30:00Z", 10_000 + i / 30, i % 30 + 1),
        day,
        format!(
            "end=2026-11-{:02}T16:00:00Z;break=30;note={payload}",
            i % 30 + 1
        ),
    )
}

fn mapping(i: usize, last: &FakeValue) -> Mapping {
    Mapping {
        // "bench" is a valid integration id (lowercase letters).
        integration_id: IntegrationId::new("bench").unwrap_or_else(|_| unreachable!()),
        kind: EntityKind::TimeEntry,
        mapping_id: format!("m{i}"),
        personio_id: Some(format!("p{i}")),
        timetrack_id: Some(format!("t{i}")),
        // FakeValue is plain strings and a date: it always serialises.
        fingerprint: fingerprint(last).ok(),
        anchor_date: Some(last.day),
        intent: None,
        failures: 0,
        last_error: None,
        parked: None,
        updated_at: Timestamp::UNIX_EPOCH,
        version: 1,
    }
}

impl Scenario {
    /// The input of `mix` with `n` pairs; deterministic.
    pub(crate) fn build(mix: Mix, n: usize) -> Scenario {
        let mut personio = SideState::default();
        let mut timetrack = SideState::default();
        let mut mappings = Vec::with_capacity(n);
        for i in 0..n {
            let base = value(i, "Kundentermin vor Ort");
            let changed = value(i, "Kundentermin vor Ort, verlängert");
            let (pid, tid) = (format!("p{i}"), format!("t{i}"));
            match (mix, i % 40) {
                (Mix::ChangedEachSide, r) if r % 10 == 0 => {
                    personio.records.push(Record::new(pid, changed));
                    timetrack.records.push(Record::new(tid, base.clone()));
                    mappings.push(mapping(i, &base));
                }
                (Mix::ChangedEachSide, r) if r % 10 == 5 => {
                    personio.records.push(Record::new(pid, base.clone()));
                    timetrack.records.push(Record::new(tid, changed));
                    mappings.push(mapping(i, &base));
                }
                (Mix::NewEachSide, r) if r % 10 == 0 => {
                    personio.records.push(Record::new(pid, base))
                }
                (Mix::NewEachSide, r) if r % 10 == 5 => {
                    timetrack.records.push(Record::new(tid, base))
                }
                (Mix::Deleted, 0) => {
                    personio.gone.insert(pid);
                    timetrack.records.push(Record::new(tid, base.clone()));
                    mappings.push(mapping(i, &base));
                }
                (Mix::Deleted, 20) => {
                    personio.records.push(Record::new(pid, base.clone()));
                    timetrack.gone.insert(tid);
                    mappings.push(mapping(i, &base));
                }
                _ => {
                    personio.records.push(Record::new(pid, base.clone()));
                    timetrack.records.push(Record::new(tid, base.clone()));
                    mappings.push(mapping(i, &base));
                }
            }
        }
        Scenario {
            window: DateWindow::new(
                window_start(),
                window_start()
                    .checked_add(29.days())
                    .unwrap_or(window_start()),
            )
            .unwrap_or_else(|_| unreachable!("the window's end is after its start")),
            personio,
            timetrack,
            mappings,
        }
    }

    pub(crate) fn plan(&self) -> Plan<FakeValue> {
        plan(
            &FakeKind {
                master: System::TimeTrack,
            },
            Direction::Both,
            &self.window,
            &self.personio,
            &self.timetrack,
            &self.mappings,
        )
    }
}

/// What a plan decided, by kind of action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PlanSummary {
    pub in_sync: usize,
    pub creates: usize,
    pub updates: usize,
    pub deletes: usize,
    pub other: usize,
}

impl PlanSummary {
    pub(crate) fn of(plan: &Plan<FakeValue>) -> Self {
        let mut s = PlanSummary {
            in_sync: plan.in_sync,
            ..Self::default()
        };
        for action in &plan.actions {
            match action {
                Action::Create { .. } => s.creates += 1,
                Action::Update { .. } => s.updates += 1,
                Action::Delete { .. } => s.deletes += 1,
                _ => s.other += 1,
            }
        }
        s
    }

    pub(crate) fn describe(&self) -> String {
        let mut parts = vec![format!("{} in sync", self.in_sync)];
        for (n, what) in [
            (self.creates, "create"),
            (self.updates, "update"),
            (self.deletes, "delete"),
            (self.other, "other"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

/// One row of the planner table.
pub(crate) struct PlannerResult {
    pub mix: Mix,
    pub pairs: usize,
    pub iterations: usize,
    pub median: std::time::Duration,
    /// Median CPU time of the planning thread per plan (see [`thread_cpu`]).
    pub median_cpu: Option<std::time::Duration>,
    pub heap: HeapUse,
    /// Peak RSS while planning (input included), KiB.
    pub peak_rss_kib: Option<u64>,
    pub summary: PlanSummary,
}

/// Plans `mix` with `n` pairs: once under the memory probes, then `iterations` times for the median.
pub(crate) fn measure(mix: Mix, n: usize, iterations: usize) -> PlannerResult {
    let scenario = Scenario::build(mix, n);
    reset_peak_rss();
    let probe = ALLOCATOR.start();
    let first = scenario.plan();
    let heap = probe.finish();
    let peak = peak_rss_kib();
    let summary = PlanSummary::of(&first);
    drop(first);
    let mut cpu_samples = Vec::with_capacity(iterations);
    let median = median_of(iterations, || {
        let cpu = thread_cpu();
        let watch = Stopwatch::start();
        let plan = black_box(scenario.plan());
        let elapsed = watch.elapsed();
        if let (Some(a), Some(b)) = (cpu, thread_cpu()) {
            cpu_samples.push(b.saturating_sub(a));
        }
        drop(plan);
        elapsed
    });
    let median_cpu = (!cpu_samples.is_empty()).then(|| crate::timing::median(&mut cpu_samples));
    PlannerResult {
        mix,
        pairs: n,
        iterations,
        median,
        median_cpu,
        heap,
        peak_rss_kib: peak,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generator must produce the mix it claims, or the table's labels would lie.
    #[test]
    fn each_mix_plans_the_actions_its_label_promises() {
        let n = 400;
        let expect = |mix, s: PlanSummary| {
            let got = PlanSummary::of(&Scenario::build(mix, n).plan());
            assert_eq!(got, s, "{}", mix.label());
        };
        expect(
            Mix::InSync,
            PlanSummary {
                in_sync: 400,
                ..PlanSummary::default()
            },
        );
        expect(
            Mix::ChangedEachSide,
            PlanSummary {
                in_sync: 320,
                updates: 80,
                ..PlanSummary::default()
            },
        );
        expect(
            Mix::NewEachSide,
            PlanSummary {
                in_sync: 320,
                creates: 80,
                ..PlanSummary::default()
            },
        );
        expect(
            Mix::Deleted,
            PlanSummary {
                in_sync: 380,
                deletes: 20,
                ..PlanSummary::default()
            },
        );
    }

    #[test]
    fn generated_values_are_distinct_per_pair_and_inside_the_window() {
        let s = Scenario::build(Mix::InSync, 100);
        let keys: std::collections::BTreeSet<_> =
            s.personio.records.iter().map(|r| &r.value.key).collect();
        assert_eq!(keys.len(), 100);
        assert!(s
            .personio
            .records
            .iter()
            .all(|r| s.window.contains(r.value.day)));
    }
}
