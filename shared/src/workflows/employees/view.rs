//! What the employees workflow needs to know about a record of each side, in the domain's words.
//!
//! Adapters (the connectors) fill these from the wire shapes; nothing here knows field spellings of the
//! two APIs. Every field Personio may leave out (sparse responses depend on the credential's attribute
//! permissions) is optional.

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

/// A TimeTrack user. TimeTrack identifies users by `username` in records, but the stable key is `id`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeTrackUserView {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub enabled: bool,
    pub personal_number: Option<String>,
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

/// Personal numbers compare as written, trimmed; an all-digit number loses its leading zeros, because
/// TimeTrack stores `personalNumber` as a number ("00123" in Personio is 123 there). Empty is absent.
pub fn normalise_personal_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().all(|c| c.is_ascii_digit()) {
        let without_zeros = trimmed.trim_start_matches('0');
        return Some(if without_zeros.is_empty() {
            "0".to_string()
        } else {
            without_zeros.to_string()
        });
    }
    Some(trimmed.to_string())
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
}
