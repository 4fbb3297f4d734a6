//! The cost of fingerprinting one record of each real canonical value. The planner fingerprints every
//! listed record of both sides once per run, so this is the per-record floor of planning.
use std::hint::black_box;
use std::time::Duration;

use serde::Serialize;
use shared::engine::fingerprint;
use shared::engine::fingerprint::canonical_json;
use shared::workflows::absences::canonical::{Absence, AbsenceStatus};
use shared::workflows::employees::canonical::Employee;
use shared::workflows::time_entries::canonical::TimeEntry;

use crate::timing::{median_of, Stopwatch};
use crate::ALLOCATOR;

/// One row of the fingerprint table.
pub(crate) struct FingerprintResult {
    pub value: &'static str,
    /// Length of the canonical JSON that is hashed.
    pub canonical_bytes: usize,
    /// Median over the rounds of (round time / records per round).
    pub per_record: Duration,
    pub allocations_per_record: f64,
}

/// Realistic values: umlauts in names, a note on the entry, a multi-day absence.
pub(crate) fn employee() -> Employee {
    Employee {
        email: "hans-peter.brueckner@acme.example".to_string(),
        first_name: "Hans-Peter".to_string(),
        last_name: "Brückner".to_string(),
        active: true,
    }
}

pub(crate) fn time_entry() -> anyhow::Result<TimeEntry> {
    Ok(TimeEntry::new(
        "1010",
        "2026-11-04T07:30:00Z".parse()?,
        "2026-11-04T16:15:00Z".parse()?,
        45,
        Some("Kundentermin vor Ort"),
    )?)
}

pub(crate) fn absence() -> anyhow::Result<Absence> {
    Ok(Absence::new(
        "1004",
        "2b8f7d0e-5a4c-4e1b-9c3d-7f6a5b4c3d2e",
        jiff::civil::date(2026, 11, 16),
        jiff::civil::date(2026, 11, 20),
        false,
        true,
        AbsenceStatus::Approved,
    )?)
}

fn measure_one<V: Serialize>(
    name: &'static str,
    value: &V,
    per_round: usize,
    rounds: usize,
) -> anyhow::Result<FingerprintResult> {
    let canonical_bytes = canonical_json(value)?.len();
    // Warm-up, and the allocation count of one record.
    let probe = ALLOCATOR.start();
    for _ in 0..per_round {
        black_box(fingerprint(black_box(value))?);
    }
    let allocations_per_record = probe.finish().allocations as f64 / per_round as f64;
    let mut failure = None;
    let round = median_of(rounds, || {
        let watch = Stopwatch::start();
        for _ in 0..per_round {
            if let Err(e) = fingerprint(black_box(value)).map(black_box) {
                failure = Some(e);
            }
        }
        watch.elapsed()
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(FingerprintResult {
        value: name,
        canonical_bytes,
        per_record: round / per_round.max(1) as u32,
        allocations_per_record,
    })
}

/// Fingerprints each of the three canonical values `per_round` times per round, `rounds` rounds.
pub(crate) fn measure(per_round: usize, rounds: usize) -> anyhow::Result<Vec<FingerprintResult>> {
    Ok(vec![
        measure_one(
            "employees::canonical::Employee",
            &employee(),
            per_round,
            rounds,
        )?,
        measure_one(
            "time_entries::canonical::TimeEntry",
            &time_entry()?,
            per_round,
            rounds,
        )?,
        measure_one(
            "absences::canonical::Absence",
            &absence()?,
            per_round,
            rounds,
        )?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_are_valid_canonical_values_with_distinct_fingerprints() {
        let fps = [
            fingerprint(&employee()).unwrap(),
            fingerprint(&time_entry().unwrap()).unwrap(),
            fingerprint(&absence().unwrap()).unwrap(),
        ];
        assert!(fps.iter().all(|f| f.starts_with("v1:")));
        assert_ne!(fps[0], fps[1]);
        assert_ne!(fps[1], fps[2]);
    }

    #[test]
    fn measure_reports_every_value_with_its_canonical_size() {
        let rows = measure(10, 1).unwrap();
        let names: Vec<_> = rows.iter().map(|r| r.value).collect();
        assert_eq!(
            names,
            [
                "employees::canonical::Employee",
                "time_entries::canonical::TimeEntry",
                "absences::canonical::Absence"
            ]
        );
        assert_eq!(
            rows[0].canonical_bytes,
            canonical_json(&employee()).unwrap().len()
        );
        assert!(rows.iter().all(|r| r.canonical_bytes > 20));
    }
}
