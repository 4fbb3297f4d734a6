//! Which Personio persons the integration imports into TimeTrack (and auto-adds when they are new).
//!
//! - `AllActive`: persons who are employed ([`super::canonical::is_active`]).
//! - `Ids`: exactly the chosen persons, whatever their status — a chosen person who later leaves stays
//!   selected, so the leaver policy still applies to them.
//! - `OrgUnits`: persons whose current employment is in one of the chosen departments or teams, or in
//!   one of the chosen offices (any match selects). Leavers are *not* selected by org unit: an org-unit
//!   selection means "the people working there"; already-linked leavers are still kept in sync (see the
//!   workflow's module doc).
use super::canonical::is_active;
use super::personio::{OrgUnitKind, PersonioPersonView};
use crate::settings::EmployeeSelection;

/// Does `selection` choose `person` for import?
pub(crate) fn is_selected(selection: &EmployeeSelection, person: &PersonioPersonView) -> bool {
    match selection {
        EmployeeSelection::AllActive => is_active(person),
        EmployeeSelection::Ids { ids } => ids.iter().any(|id| id.trim() == person.id),
        EmployeeSelection::OrgUnits {
            departments,
            teams,
            offices,
        } => {
            let Some(employment) = person.employment.as_ref() else {
                return false;
            };
            let in_unit = employment.org_units.iter().any(|unit| match &unit.kind {
                OrgUnitKind::Department => departments.contains(&unit.id),
                OrgUnitKind::Team => teams.contains(&unit.id),
                OrgUnitKind::Other(_) => false,
            });
            let in_office = employment
                .office_id
                .as_ref()
                .is_some_and(|office| offices.contains(office));
            is_active(person) && (in_unit || in_office)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflows::employees::personio::{
        EmploymentStatus, EmploymentView, OrgUnitRef, PersonStatus,
    };

    fn person(
        id: &str,
        status: PersonStatus,
        employment: Option<EmploymentView>,
    ) -> PersonioPersonView {
        PersonioPersonView {
            id: id.into(),
            email: Some(format!("{id}@x.example")),
            status,
            employment,
            ..PersonioPersonView::default()
        }
    }

    fn employment(units: &[(OrgUnitKind, &str)], office: Option<&str>) -> EmploymentView {
        EmploymentView {
            status: EmploymentStatus::Active,
            office_id: office.map(str::to_string),
            org_units: units
                .iter()
                .map(|(kind, id)| OrgUnitRef {
                    kind: kind.clone(),
                    id: id.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn all_active_selects_employed_persons_only() {
        let s = EmployeeSelection::AllActive;
        assert!(is_selected(&s, &person("1", PersonStatus::Active, None)));
        assert!(!is_selected(&s, &person("2", PersonStatus::Inactive, None)));
    }

    #[test]
    fn ids_select_exactly_the_chosen_persons_even_after_they_left() {
        let s = EmployeeSelection::Ids {
            ids: vec!["3003".into(), "3004".into()],
        };
        assert!(is_selected(&s, &person("3003", PersonStatus::Active, None)));
        assert!(is_selected(
            &s,
            &person("3004", PersonStatus::Inactive, None)
        ));
        assert!(!is_selected(
            &s,
            &person("3005", PersonStatus::Active, None)
        ));
    }

    #[test]
    fn org_units_select_by_department_team_or_office() {
        let s = EmployeeSelection::OrgUnits {
            departments: vec!["9001".into()],
            teams: vec!["9017".into()],
            offices: vec!["311".into()],
        };
        let dept = employment(&[(OrgUnitKind::Department, "9001")], None);
        let team = employment(&[(OrgUnitKind::Team, "9017")], None);
        let office = employment(&[], Some("311"));
        // A team id listed as a department does not select: the kind must match.
        let wrong_kind = employment(&[(OrgUnitKind::Department, "9017")], Some("312"));
        let other = employment(&[(OrgUnitKind::Other("cost_center".into()), "9001")], None);

        assert!(is_selected(
            &s,
            &person("1", PersonStatus::Active, Some(dept.clone()))
        ));
        assert!(is_selected(
            &s,
            &person("2", PersonStatus::Active, Some(team))
        ));
        assert!(is_selected(
            &s,
            &person("3", PersonStatus::Active, Some(office))
        ));
        assert!(!is_selected(
            &s,
            &person("4", PersonStatus::Active, Some(wrong_kind))
        ));
        assert!(!is_selected(
            &s,
            &person("5", PersonStatus::Active, Some(other))
        ));
        assert!(!is_selected(&s, &person("6", PersonStatus::Active, None)));
        assert!(!is_selected(
            &s,
            &person("7", PersonStatus::Inactive, Some(dept))
        ));
    }
}
