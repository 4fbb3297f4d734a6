//! What to do when Personio refuses an absence period as overlapping another one (409 "Absence period
//! conflict"): never retry it blindly.
//!
//! The Personio port looks up the person's periods overlapping the refused one and decides here:
//! - one of them **is** the absence (same canonical value: person, type, days, halves, status), no
//!   stored mapping links it and this run's listing did not return it (the planner pairs every listed
//!   twin, so a listed one is already someone's): it is adopted — the create returns its id and the
//!   engine links it. This is a period the run could not have paired: created in Personio after the
//!   listing, or missed by Personio's date filters;
//! - otherwise the write is refused at once (the engine parks the record and reports it as a conflict)
//!   with a reason that names the refused absence and every overlapping period, because the next run
//!   would get the same 409: someone has to resolve the overlap, then release the parked record.
use std::collections::HashSet;

use super::canonical::{Absence, AbsenceStatus};

/// One period Personio holds that overlaps the refused one, as the port read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Overlapping {
    pub id: String,
    /// `Ok(None)`: cancelled; `Err`: why it cannot be read as a canonical absence.
    pub value: Result<Option<Absence>, String>,
}

/// The outcome of a 409 overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OverlapOutcome {
    /// The overlapping period is this very absence and unclaimed: link it instead of creating.
    Adopt(String),
    /// Nothing the sync can do: park with this reason.
    Refuse(String),
}

/// Decides a 409 on writing `target` (`own_id`: the period being updated, which may overlap itself).
/// `claimed`: Personio ids that a mapping already links or that this run listed (never adopted
/// twice).
pub(crate) fn overlap_outcome(
    target: &Absence,
    own_id: Option<&str>,
    overlapping: &[Overlapping],
    claimed: &HashSet<String>,
) -> OverlapOutcome {
    let others: Vec<&Overlapping> = overlapping
        .iter()
        .filter(|o| Some(o.id.as_str()) != own_id)
        .collect();
    if own_id.is_none() {
        if let Some(same) = others
            .iter()
            .find(|o| matches!(&o.value, Ok(Some(v)) if v == target) && !claimed.contains(&o.id))
        {
            return OverlapOutcome::Adopt(same.id.clone());
        }
    }
    let subject = format!(
        "Personio refused the absence {} of person {} as overlapping (409)",
        describe(target),
        target.employee
    );
    if others.is_empty() {
        return OverlapOutcome::Refuse(format!(
            "{subject}, but lists no other period of that person on those days; check the person's \
             absences in Personio, then release this record"
        ));
    }
    let list: Vec<String> = others
        .iter()
        .map(|o| {
            let what = match &o.value {
                Ok(Some(v)) if v == target => {
                    format!("{}, the same absence, already synced with another TimeTrack absence (a duplicate in TimeTrack?)", describe(v))
                }
                Ok(Some(v)) => describe(v),
                Ok(None) => "cancelled".to_string(),
                Err(reason) => format!("not readable: {reason}"),
            };
            format!("period {} ({what})", o.id)
        })
        .collect();
    OverlapOutcome::Refuse(format!(
        "{subject}: it overlaps Personio absence {}; resolve the overlap in Personio or TimeTrack, \
         then release this record",
        list.join(", ")
    ))
}

/// `type 2026-07-06..=2026-07-10 (ends at midday), approved`.
fn describe(a: &Absence) -> String {
    let halves = match (a.starts_midday, a.ends_midday) {
        (false, false) => "",
        (true, false) => " (starts at midday)",
        (false, true) => " (ends at midday)",
        (true, true) => " (starts and ends at midday)",
    };
    let status = match a.status {
        AbsenceStatus::Pending => "pending",
        AbsenceStatus::Approved => "approved",
        AbsenceStatus::Rejected => "rejected",
    };
    format!(
        "of type {} {}..={}{halves}, {status}",
        a.personio_type_id, a.start, a.end
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn vacation(end_day: i8, ends_midday: bool) -> Absence {
        Absence::new(
            "7788",
            "vac",
            date(2026, 7, 6),
            date(2026, 7, end_day),
            false,
            ends_midday,
            AbsenceStatus::Approved,
        )
        .unwrap()
    }

    fn held(id: &str, value: Absence) -> Overlapping {
        Overlapping {
            id: id.into(),
            value: Ok(Some(value)),
        }
    }

    #[test]
    fn the_same_unclaimed_absence_is_adopted() {
        let target = vacation(10, true);
        let found = [
            held("other", vacation(9, false)),
            held("same", target.clone()),
        ];
        assert_eq!(
            overlap_outcome(&target, None, &found, &HashSet::new()),
            OverlapOutcome::Adopt("same".into())
        );
    }

    #[test]
    fn a_different_or_claimed_absence_is_refused_naming_both() {
        let target = vacation(10, true);
        let OverlapOutcome::Refuse(reason) = overlap_outcome(
            &target,
            None,
            &[held("p-1", vacation(9, false))],
            &HashSet::new(),
        ) else {
            panic!("not refused")
        };
        assert!(
            reason.contains("2026-07-06..=2026-07-10 (ends at midday)"),
            "{reason}"
        );
        assert!(
            reason.contains("period p-1 (of type vac 2026-07-06..=2026-07-09, approved)"),
            "{reason}"
        );
        // The same absence, but another mapping already links it: a duplicate, not adopted.
        let claimed = HashSet::from(["same".to_string()]);
        let OverlapOutcome::Refuse(reason) =
            overlap_outcome(&target, None, &[held("same", target.clone())], &claimed)
        else {
            panic!("adopted a claimed period")
        };
        assert!(
            reason.contains("already synced with another TimeTrack absence"),
            "{reason}"
        );
    }

    #[test]
    fn an_update_never_adopts_and_ignores_its_own_period() {
        let target = vacation(10, true);
        let OverlapOutcome::Refuse(reason) = overlap_outcome(
            &target,
            Some("own"),
            &[
                held("own", vacation(9, false)),
                held("twin", target.clone()),
            ],
            &HashSet::new(),
        ) else {
            panic!("an update adopted another period")
        };
        assert!(!reason.contains("period own"), "{reason}");
        assert!(reason.contains("period twin"), "{reason}");
    }

    #[test]
    fn nothing_found_is_refused_with_that_reason() {
        let OverlapOutcome::Refuse(reason) =
            overlap_outcome(&vacation(10, false), None, &[], &HashSet::new())
        else {
            panic!("not refused")
        };
        assert!(reason.contains("lists no other period"), "{reason}");
    }
}
