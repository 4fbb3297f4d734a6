//! The Personio side of the employees workflow: a person as the workflow reads it, and the person
//! it writes.
//!
//! Reading: adapters (the connectors) fill [`PersonioPersonView`] from the wire shapes; nothing here knows
//! field spellings of the API. Every field Personio may leave out (sparse responses depend on the
//! credential's attribute permissions) is optional. The personal number is a custom attribute named in
//! the settings ([`personal_number_from_attributes`]).
//!
//! Writing: export (TimeTrack → Personio) creates a person with first name, last name and e-mail only,
//! and no employment: Personio creates the initial employment itself, and its contract data (start
//! date, hours, org units) is HR's to enter — guessing it would put wrong data into payroll. Status
//! never flows to Personio ("status follows Personio").
use super::canonical::{normalise_personal_number, Employee, NotSyncable};
use super::timetrack::TimeTrackUserView;
use crate::settings::LeaverPolicy;

/// A Personio person, with the parts of its current employment that selection needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersonioPersonView {
    pub id: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub status: PersonStatus,
    /// Already extracted from the custom attribute named in the settings (see
    /// [`personal_number_from_attributes`]).
    pub personal_number: Option<String>,
    /// The current (most recent) employment, when the caller read it.
    pub employment: Option<EmploymentView>,
}

/// Personio's person status, derived by Personio from the latest employment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PersonStatus {
    Active,
    Inactive,
    /// Personio sent `UNSPECIFIED` or nothing: the employment status decides.
    #[default]
    Unspecified,
}

/// The parts of a Personio employment the sync uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmploymentView {
    pub status: EmploymentStatus,
    pub office_id: Option<String>,
    pub org_units: Vec<OrgUnitRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmploymentStatus {
    Active,
    Inactive,
    Onboarding,
    Leave,
    #[default]
    Unspecified,
}

/// A reference to an org unit (department, team, ...) of an employment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnitRef {
    pub kind: OrgUnitKind,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgUnitKind {
    Department,
    Team,
    /// A kind this product does not select by (kept so nothing is silently misread).
    Other(String),
}

impl OrgUnitKind {
    /// Reads Personio's org-unit `type`, case-insensitively (the reference shows lowercase values, and
    /// enum casing differs between Personio's examples and live responses elsewhere).
    pub fn parse(kind: &str) -> Self {
        match kind.trim().to_ascii_lowercase().as_str() {
            "department" => OrgUnitKind::Department,
            "team" => OrgUnitKind::Team,
            _ => OrgUnitKind::Other(kind.to_string()),
        }
    }
}

/// One Personio custom attribute, as much of it as finding the personal number needs.
///
/// `value` stays a JSON value because the reference records it as a string in the official examples and
/// as a number in live responses.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomAttributeView {
    pub id: String,
    pub global_id: Option<String>,
    pub value: serde_json::Value,
}

/// Finds the personal number among a person's custom attributes: the attribute whose `id` or
/// `global_id` equals `attribute` (the name configured in the settings), normalised by
/// [`normalise_personal_number`]. Strings and numbers are accepted; anything else is treated as absent.
pub fn personal_number_from_attributes(
    attributes: &[CustomAttributeView],
    attribute: &str,
) -> Option<String> {
    let wanted = attribute.trim();
    let found = attributes
        .iter()
        .find(|a| a.id == wanted || a.global_id.as_deref() == Some(wanted))?;
    let raw = match &found.value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            // 12345.0 is the number 12345; a real fraction is kept as written.
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        _ => return None,
    };
    normalise_personal_number(&raw)
}

/// A Personio person to create (export), or the fields to patch on an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonioPersonFields {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// The Personio fields for `employee` (create on export, patch on update). Carries no status.
pub fn personio_person(employee: &Employee) -> PersonioPersonFields {
    PersonioPersonFields {
        first_name: employee.first_name.clone(),
        last_name: employee.last_name.clone(),
        email: employee.email.clone(),
    }
}

/// Export: the Personio person to create for a chosen TimeTrack user. The status is not exported: a
/// person created in Personio starts with Personio's own initial employment.
pub fn export_person(user: &TimeTrackUserView) -> Result<PersonioPersonFields, NotSyncable> {
    Employee::from_timetrack(user, LeaverPolicy::Deactivate).map(|e| personio_person(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attr(id: &str, global_id: Option<&str>, value: serde_json::Value) -> CustomAttributeView {
        CustomAttributeView {
            id: id.to_string(),
            global_id: global_id.map(str::to_string),
            value,
        }
    }

    #[test]
    fn personal_number_is_found_by_id_or_global_id_as_string_or_number() {
        let attrs = vec![
            attr("dynamic_44", Some("shirt_size"), json!("M")),
            attr(
                "dynamic_1234567890abcd.12345678",
                Some("9999999"),
                json!(12345),
            ),
        ];
        assert_eq!(
            personal_number_from_attributes(&attrs, "9999999").as_deref(),
            Some("12345")
        );
        assert_eq!(
            personal_number_from_attributes(&attrs, "dynamic_1234567890abcd.12345678").as_deref(),
            Some("12345")
        );
        assert_eq!(
            personal_number_from_attributes(&attrs, "dynamic_44").as_deref(),
            Some("M")
        );
        assert_eq!(personal_number_from_attributes(&attrs, "missing"), None);

        let as_string = vec![attr("pn", None, json!(" 0012345 "))];
        assert_eq!(
            personal_number_from_attributes(&as_string, "pn").as_deref(),
            Some("12345")
        );
        let as_float = vec![attr("pn", None, json!(12345.0))];
        assert_eq!(
            personal_number_from_attributes(&as_float, "pn").as_deref(),
            Some("12345")
        );
        let empty = vec![attr("pn", None, json!("  ")), attr("x", None, json!(null))];
        assert_eq!(personal_number_from_attributes(&empty, "pn"), None);
        assert_eq!(personal_number_from_attributes(&empty, "x"), None);
    }

    #[test]
    fn org_unit_kind_reads_any_casing() {
        assert_eq!(OrgUnitKind::parse("DEPARTMENT"), OrgUnitKind::Department);
        assert_eq!(OrgUnitKind::parse("team"), OrgUnitKind::Team);
        assert_eq!(
            OrgUnitKind::parse("cost_center"),
            OrgUnitKind::Other("cost_center".to_string())
        );
    }

    #[test]
    fn export_round_trips_through_personio() {
        // A TimeTrack user exported to Personio reads back as the same canonical employee.
        let user = TimeTrackUserView {
            id: 5,
            username: "anna".into(),
            email: Some("Anna.Schmidt@Firma.de".into()),
            first_name: "Anna".into(),
            last_name: "Schmidt".into(),
            enabled: true,
            personal_number: None,
        };
        let canonical = Employee::from_timetrack(&user, LeaverPolicy::Deactivate).unwrap();
        let fields = export_person(&user).unwrap();
        assert_eq!(fields.email, "anna.schmidt@firma.de");
        let created = PersonioPersonView {
            id: "9".into(),
            email: Some(fields.email),
            first_name: fields.first_name,
            last_name: fields.last_name,
            status: PersonStatus::Active,
            ..PersonioPersonView::default()
        };
        assert_eq!(
            Employee::from_personio(&created, LeaverPolicy::Deactivate).unwrap(),
            canonical
        );
        let no_email = TimeTrackUserView {
            email: None,
            ..user
        };
        assert!(export_person(&no_email).is_err());
    }
}
