//! The configured absence-type pairs, indexed for both directions.
//!
//! Each [`AbsenceTypeMapping`] pairs one TimeTrack type (plus, optionally, its half-day TimeTrack type)
//! with one Personio type, and names the master system that wins conflicts of absences of that pair.
//! Types appear in at most one mapping; [`AbsenceTypeMap::new`] refuses settings that would make a
//! translation depend on the order of the list.
use std::collections::HashMap;

use thiserror::Error;

use crate::domain::System;
use crate::settings::AbsenceTypeMapping;

#[derive(Debug, Clone)]
pub struct AbsenceTypeMap {
    mappings: Vec<AbsenceTypeMapping>,
    by_timetrack: HashMap<i64, (usize, TimeTrackTypeRole)>,
    by_personio: HashMap<String, usize>,
}

/// What a TimeTrack type means within its mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeTrackTypeRole {
    FullDay,
    HalfDay,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TypeMapError {
    #[error("TimeTrack absence type {0} appears in more than one absence type mapping")]
    DuplicateTimeTrackType(i64),
    #[error("Personio absence type {0} appears in more than one absence type mapping")]
    DuplicatePersonioType(String),
}

impl AbsenceTypeMap {
    pub fn new(mappings: &[AbsenceTypeMapping]) -> Result<Self, TypeMapError> {
        let mut by_timetrack = HashMap::new();
        let mut by_personio = HashMap::new();
        for (index, m) in mappings.iter().enumerate() {
            let roles = std::iter::once((m.timetrack_type_id, TimeTrackTypeRole::FullDay)).chain(
                m.half_day_timetrack_type_id
                    .map(|id| (id, TimeTrackTypeRole::HalfDay)),
            );
            for (id, role) in roles {
                if by_timetrack.insert(id, (index, role)).is_some() {
                    return Err(TypeMapError::DuplicateTimeTrackType(id));
                }
            }
            if by_personio
                .insert(m.personio_type_id.clone(), index)
                .is_some()
            {
                return Err(TypeMapError::DuplicatePersonioType(
                    m.personio_type_id.clone(),
                ));
            }
        }
        Ok(Self {
            mappings: mappings.to_vec(),
            by_timetrack,
            by_personio,
        })
    }

    /// The mapping of a TimeTrack type, and whether it is the full- or half-day type there.
    pub fn for_timetrack(&self, type_id: i64) -> Option<(&AbsenceTypeMapping, TimeTrackTypeRole)> {
        self.by_timetrack
            .get(&type_id)
            .map(|(index, role)| (&self.mappings[*index], *role))
    }

    pub fn for_personio(&self, type_id: &str) -> Option<&AbsenceTypeMapping> {
        self.by_personio
            .get(type_id)
            .map(|index| &self.mappings[*index])
    }

    /// The system that wins conflicts of absences of this Personio type (`None` when unmapped).
    pub fn master(&self, personio_type_id: &str) -> Option<System> {
        self.for_personio(personio_type_id).map(|m| m.master)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(tt: i64, half: Option<i64>, personio: &str, master: System) -> AbsenceTypeMapping {
        AbsenceTypeMapping {
            timetrack_type_id: tt,
            personio_type_id: personio.into(),
            master,
            half_day_timetrack_type_id: half,
        }
    }

    #[test]
    fn looks_up_both_directions_with_roles_and_master() {
        let map = AbsenceTypeMap::new(&[
            mapping(1, Some(2), "vac", System::Personio),
            mapping(5, None, "sick", System::TimeTrack),
        ])
        .unwrap();
        assert_eq!(
            map.for_timetrack(2)
                .map(|(m, r)| (m.personio_type_id.as_str(), r)),
            Some(("vac", TimeTrackTypeRole::HalfDay))
        );
        assert_eq!(
            map.for_timetrack(1).map(|(_, r)| r),
            Some(TimeTrackTypeRole::FullDay)
        );
        assert!(map.for_timetrack(3).is_none());
        assert_eq!(map.master("vac"), Some(System::Personio));
        assert_eq!(map.master("sick"), Some(System::TimeTrack));
        assert_eq!(map.master("other"), None);
    }

    #[test]
    fn a_type_in_two_mappings_is_refused() {
        let err = AbsenceTypeMap::new(&[
            mapping(1, Some(2), "vac", System::Personio),
            mapping(2, None, "special", System::Personio),
        ])
        .unwrap_err();
        assert_eq!(err, TypeMapError::DuplicateTimeTrackType(2));
        let err = AbsenceTypeMap::new(&[
            mapping(1, None, "vac", System::Personio),
            mapping(3, None, "vac", System::Personio),
        ])
        .unwrap_err();
        assert_eq!(err, TypeMapError::DuplicatePersonioType("vac".into()));
    }
}
