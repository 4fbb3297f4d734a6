//! The absences workflow as the engine sees it: natural key, anchor date and master system.
//!
//! The master is per type mapping (settings `absences.type_mappings[].master`): HR may want Personio to
//! win for vacation while TimeTrack wins for home-office days. The engine asks for the master of a
//! pair; the pair's Personio type (from whichever side still has a value) selects the mapping.
use jiff::civil::Date;

use super::canonical::Absence;
use super::timetrack::{recorded_part, to_timetrack};
use super::type_map::AbsenceTypeMap;
use crate::domain::{DateWindow, EntityKind, ScopeEntry, System};
use crate::engine::SyncKind;

/// [`SyncKind`] of absences: natural key `person|personio_type|start|end`, anchored on the first day.
#[derive(Debug, Clone)]
pub struct AbsenceKind {
    types: AbsenceTypeMap,
}

impl AbsenceKind {
    pub fn new(types: AbsenceTypeMap) -> Self {
        Self { types }
    }
}

impl SyncKind for AbsenceKind {
    type Value = Absence;

    fn kind(&self) -> EntityKind {
        EntityKind::Absence
    }

    fn natural_key(&self, value: &Absence) -> String {
        value.natural_key()
    }

    fn anchor_date(&self, value: &Absence) -> Option<Date> {
        Some(value.anchor_date())
    }

    /// The master of the pair's type mapping. Personio's value is asked first (both sides carry the
    /// same Personio type unless one side's type was changed, and then Personio's is the one HR sees);
    /// a type no mapping names cannot occur here (ports reject unmapped types), so the fallback
    /// Personio — the HR system of record — is only a safe default.
    fn master(&self, personio: Option<&Absence>, timetrack: Option<&Absence>) -> System {
        [personio, timetrack]
            .into_iter()
            .flatten()
            .find_map(|a| self.types.master(&a.personio_type_id))
            .unwrap_or(System::Personio)
    }

    /// An absence whose every TimeTrack part is one a pending create recorded before sending it: the
    /// full-day part of a split absence whose half day was never written (the process died in
    /// between), or a half day whose full part was rolled back. The planner completes it with the
    /// intended value (ADR 0030). Only TimeTrack creates record parts; a Personio period never matches.
    fn is_remnant(&self, found: &Absence, recorded: &[String]) -> bool {
        to_timetrack(found, "", &self.types).is_ok_and(|parts| {
            parts
                .iter()
                .all(|part| recorded.contains(&recorded_part(&found.employee, part)))
        })
    }

    /// The absence's person over its days.
    fn scope_entry(&self, value: &Absence) -> Option<ScopeEntry> {
        Some(ScopeEntry {
            person: value.employee.clone(),
            days: Some(DateWindow {
                from: value.start,
                to: value.end.max(value.start),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::AbsenceTypeMapping;
    use crate::workflows::absences::canonical::AbsenceStatus;
    use jiff::civil::date;

    fn kind() -> AbsenceKind {
        AbsenceKind::new(
            AbsenceTypeMap::new(&[
                AbsenceTypeMapping {
                    timetrack_type_id: 1,
                    personio_type_id: "vac".into(),
                    master: System::Personio,
                    half_day_timetrack_type_id: Some(2),
                },
                AbsenceTypeMapping {
                    timetrack_type_id: 4,
                    personio_type_id: "home".into(),
                    master: System::TimeTrack,
                    half_day_timetrack_type_id: None,
                },
            ])
            .unwrap(),
        )
    }

    fn absence(kind: &str) -> Absence {
        Absence::new(
            "7788",
            kind,
            date(2026, 5, 4),
            date(2026, 5, 8),
            false,
            false,
            AbsenceStatus::Approved,
        )
        .unwrap()
    }

    #[test]
    fn master_follows_the_type_mapping_of_either_side() {
        let k = kind();
        let home = absence("home");
        let vac = absence("vac");
        assert_eq!(k.master(Some(&home), Some(&home)), System::TimeTrack);
        assert_eq!(k.master(None, Some(&home)), System::TimeTrack);
        assert_eq!(k.master(Some(&vac), None), System::Personio);
        // Personio's type decides when the two sides disagree.
        assert_eq!(k.master(Some(&vac), Some(&home)), System::Personio);
        assert_eq!(
            k.master(Some(&absence("unmapped")), Some(&home)),
            System::TimeTrack
        );
    }

    #[test]
    fn key_and_anchor_come_from_the_canonical_absence() {
        let k = kind();
        let a = absence("vac");
        assert_eq!(k.natural_key(&a), "7788|vac|2026-05-04|2026-05-08");
        assert_eq!(k.anchor_date(&a), Some(date(2026, 5, 4)));
        assert_eq!(k.kind(), EntityKind::Absence);
    }

    #[test]
    fn a_group_made_only_of_recorded_parts_is_a_remnant() {
        let k = kind();
        let span = |from: i8, to: i8, starts: bool, ends: bool| {
            Absence::new(
                "7788",
                "vac",
                date(2026, 5, from),
                date(2026, 5, to),
                starts,
                ends,
                AbsenceStatus::Approved,
            )
            .unwrap()
        };
        // The create of Mon 4 – Fri 8 noon records its full-day part (type 1, 4–7), then the half
        // day (type 2, 8): as the port writes them.
        let intended = span(4, 8, false, true);
        let recorded: Vec<String> = to_timetrack(&intended, "u", &k.types)
            .unwrap()
            .iter()
            .map(|p| recorded_part(&intended.employee, p))
            .collect();
        assert_eq!(
            recorded,
            [
                "7788|1|2026-05-04|2026-05-07",
                "7788|2|2026-05-08|2026-05-08"
            ]
        );
        // The lone full-day part left by a crash between the two writes, and the lone half day left
        // when the full part was rolled back, are remnants; so is the complete group.
        assert!(k.is_remnant(&span(4, 7, false, false), &recorded));
        assert!(k.is_remnant(&span(8, 8, false, true), &recorded[1..]));
        assert!(k.is_remnant(&intended, &recorded));
        // Not made of recorded parts: other days, another type, another person, nothing recorded.
        assert!(!k.is_remnant(&span(4, 6, false, false), &recorded));
        assert!(!k.is_remnant(&span(4, 7, false, false), &recorded[1..]));
        let mut other_person = span(4, 7, false, false);
        other_person.employee = "9999".into();
        assert!(!k.is_remnant(&other_person, &recorded));
        assert!(!k.is_remnant(&span(4, 7, false, false), &[]));
        let home = Absence {
            personio_type_id: "home".into(),
            ..span(4, 7, false, false)
        };
        assert!(!k.is_remnant(&home, &recorded));
    }
}
