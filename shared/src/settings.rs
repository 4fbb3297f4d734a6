//! One integration's settings: the typed model the user edits during setup and every run reads.
//!
//! Validation lives here too (`IntegrationSettings::validate`), so that the HTTP API, the functions and
//! the tests all reject the same things with the same precise messages.
use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::System;
use crate::timezone::TimeZoneSetting;

/// Everything one integration is configured with. Persisted as one document per integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSettings {
    /// IANA time zone of the Personio company, e.g. `Europe/Berlin`. Personio attendance and absence
    /// times are local wall-clock times in this zone.
    pub time_zone: TimeZoneSetting,
    /// How TimeTrack's `...Z` timestamps are to be read (the reference leaves it open).
    #[serde(default)]
    pub timetrack_timestamp_mode: TimestampMode,
    #[serde(default)]
    pub employees: EmployeeSettings,
    #[serde(default)]
    pub time_entries: TimeEntrySettings,
    #[serde(default)]
    pub absences: AbsenceSettings,
    #[serde(default)]
    pub windows: WindowSettings,
    #[serde(default)]
    pub personio: PersonioBehaviour,
    #[serde(default)]
    pub sync: SyncBehaviour,
}

/// TimeTrack timestamps end in `Z`; whether that means UTC or local wall-clock time is not settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampMode {
    #[default]
    Utc,
    LocalWallClock,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeSettings {
    /// Which Personio persons are imported into TimeTrack (and auto-added when new).
    #[serde(default)]
    pub selection: EmployeeSelection,
    /// TimeTrack user ids chosen for export to Personio.
    #[serde(default)]
    pub export_user_ids: Vec<i64>,
    /// Link by personal number when e-mail finds nothing.
    #[serde(default = "yes")]
    pub link_by_personal_number: bool,
    /// The Personio custom attribute (id or global id) that holds the personal number, if any.
    #[serde(default)]
    pub personal_number_attribute: Option<String>,
    /// What happens in TimeTrack to a person who left in Personio.
    #[serde(default)]
    pub leaver_policy: LeaverPolicy,
    /// Scheduled runs add new Personio hires that match the selection.
    #[serde(default = "yes")]
    pub auto_add: bool,
}

impl Default for EmployeeSettings {
    fn default() -> Self {
        Self {
            selection: EmployeeSelection::default(),
            export_user_ids: Vec::new(),
            link_by_personal_number: true,
            personal_number_attribute: None,
            leaver_policy: LeaverPolicy::default(),
            auto_add: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EmployeeSelection {
    /// Every Personio person whose status is ACTIVE.
    #[default]
    AllActive,
    /// Exactly these Personio person ids.
    Ids { ids: Vec<String> },
    /// Persons whose current employment is in any of these org units / offices (ids as Personio has them).
    OrgUnits {
        #[serde(default)]
        departments: Vec<String>,
        #[serde(default)]
        teams: Vec<String>,
        #[serde(default)]
        offices: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaverPolicy {
    /// Deactivate the TimeTrack user of a person who left.
    #[default]
    Deactivate,
    /// Leave the TimeTrack user alone: it stays enabled and linked, names still follow Personio, and the
    /// run counts the pair as unchanged (no skip entry on every run).
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeEntrySettings {
    pub mode: TimeEntryMode,
    /// Which system wins when both sides changed the same entry.
    pub master: System,
}

impl Default for TimeEntrySettings {
    fn default() -> Self {
        Self {
            mode: TimeEntryMode::Bidirectional,
            master: System::TimeTrack,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeEntryMode {
    /// Both ways on the schedule.
    #[default]
    Bidirectional,
    /// TimeTrack → Personio only (the payroll push); scheduled runs write only to Personio.
    Push,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceSettings {
    #[serde(default)]
    pub type_mappings: Vec<AbsenceTypeMapping>,
}

/// One TimeTrack absence type ⇄ one Personio absence type, with the system that wins conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceTypeMapping {
    pub timetrack_type_id: i64,
    pub personio_type_id: String,
    pub master: System,
    /// The TimeTrack type used for half days of this Personio type (e.g. "Urlaub (½ Tag)").
    #[serde(default)]
    pub half_day_timetrack_type_id: Option<i64>,
}

/// Scheduled-run windows: `[last successful run − lookback, now + lookahead]`, in whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSettings {
    pub employees: WindowSetting,
    pub time_entries: WindowSetting,
    pub absences: WindowSetting,
    /// The longest period a manual run may cover.
    pub max_manual_days: u32,
}

impl Default for WindowSettings {
    fn default() -> Self {
        Self {
            employees: WindowSetting {
                lookback_days: 0,
                lookahead_days: 0,
            },
            time_entries: WindowSetting {
                lookback_days: 14,
                lookahead_days: 0,
            },
            absences: WindowSetting {
                lookback_days: 30,
                lookahead_days: 180,
            },
            max_manual_days: 366,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSetting {
    pub lookback_days: i32,
    pub lookahead_days: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonioBehaviour {
    /// Absences: send `skip_approval=true` so that an absence approved in TimeTrack arrives approved in
    /// Personio (without it, Personio's own approval workflow decides).
    pub skip_approval: bool,
    /// Attendances: send `skip_approval=true` on attendance writes. Off by default: Personio refuses
    /// edits of approved (CONFIRMED) attendance periods, so periods written pre-approved could never be
    /// corrected by a later TimeTrack edit. Written as PENDING, they follow TimeTrack until HR approves
    /// them; after that a TimeTrack edit is parked as a visible conflict.
    #[serde(default)]
    pub attendance_skip_approval: bool,
}

impl Default for PersonioBehaviour {
    fn default() -> Self {
        Self {
            skip_approval: true,
            attendance_skip_approval: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncBehaviour {
    /// After this many consecutive failures a record is parked (skipped with a visible reason).
    pub max_failures_before_parking: u32,
    /// Writes in flight at once per run.
    pub concurrency: usize,
}

impl Default for SyncBehaviour {
    fn default() -> Self {
        Self {
            max_failures_before_parking: 5,
            concurrency: 4,
        }
    }
}

impl IntegrationSettings {
    /// A minimal valid configuration: Europe/Berlin, all active employees, no absence-type mappings,
    /// default windows and behaviour. A starting point for setup and for tests, not a recommendation.
    pub fn example() -> Self {
        Self {
            time_zone: "Europe/Berlin".into(),
            timetrack_timestamp_mode: TimestampMode::default(),
            employees: EmployeeSettings::default(),
            time_entries: TimeEntrySettings::default(),
            absences: AbsenceSettings::default(),
            windows: WindowSettings::default(),
            personio: PersonioBehaviour::default(),
            sync: SyncBehaviour::default(),
        }
    }
}

/// Longest window reach in days (about ten years): anything longer is a typo, and would make a run read
/// both systems' complete history.
pub const MAX_WINDOW_DAYS: i32 = 3660;
/// Upper bound of `sync.concurrency`: both APIs rate-limit per account, more writes in flight only
/// buy 429s.
pub const MAX_CONCURRENCY: usize = 32;

/// One thing wrong with a settings document, addressed by its JSON path so that a UI can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsProblem {
    /// JSON path of the offending value, e.g. `absences.type_mappings[2].timetrack_type_id`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A settings document that does not even parse into the model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    /// `path` is the JSON path where parsing stopped (`.` for the document itself).
    #[error("settings do not match the model at {path}: {message}")]
    Parse { path: String, message: String },
}

impl IntegrationSettings {
    /// Parses a settings document; a mismatch names the JSON path (`windows.absences.lookback_days`).
    /// Parsing does not validate: call [`IntegrationSettings::validate`] as well.
    pub fn from_json(json: &str) -> Result<Self, SettingsError> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let settings: Self = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            SettingsError::Parse {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            }
        })?;
        deserializer.end().map_err(|e| SettingsError::Parse {
            path: ".".to_string(),
            message: e.to_string(),
        })?;
        Ok(settings)
    }

    /// Every problem of these settings at once (not just the first), or `Ok` when they can be run.
    ///
    /// Absence-type mappings must be one-to-one: a TimeTrack type (full- or half-day) and a Personio
    /// type each appear in at most one mapping. Both directions translate types, so a type mapped twice
    /// would make the translation depend on list order; half days of a Personio type are expressed by
    /// `half_day_timetrack_type_id` of its one mapping instead.
    pub fn validate(&self) -> Result<(), Vec<SettingsProblem>> {
        let mut problems = Problems::default();

        if self.time_zone.zone().is_err() {
            problems.add(
                "time_zone",
                format!("unknown time zone {:?}", self.time_zone.name()),
            );
        }
        self.validate_employees(&mut problems);
        self.validate_absences(&mut problems);
        self.validate_windows(&mut problems);

        if self.sync.max_failures_before_parking < 1 {
            problems.add("sync.max_failures_before_parking", "must be at least 1");
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.sync.concurrency) {
            problems.add(
                "sync.concurrency",
                format!("must be between 1 and {MAX_CONCURRENCY}"),
            );
        }
        problems.into_result()
    }

    fn validate_employees(&self, problems: &mut Problems) {
        let e = &self.employees;
        match &e.selection {
            EmployeeSelection::AllActive => {}
            EmployeeSelection::Ids { ids } => {
                if ids.is_empty() {
                    problems.add(
                        "employees.selection.ids",
                        "choose at least one person (or select all_active)",
                    );
                }
                let mut seen = HashMap::new();
                for (i, id) in ids.iter().enumerate() {
                    let field = format!("employees.selection.ids[{i}]");
                    if id.trim().is_empty() {
                        problems.add(field, "must not be empty");
                    } else if let Some(first) = seen.insert(id.as_str(), i) {
                        problems.add(
                            field,
                            format!("person {id:?} is already listed at employees.selection.ids[{first}]"),
                        );
                    }
                }
            }
            EmployeeSelection::OrgUnits {
                departments,
                teams,
                offices,
            } => {
                if departments.is_empty() && teams.is_empty() && offices.is_empty() {
                    problems.add(
                        "employees.selection",
                        "name at least one department, team or office",
                    );
                }
                for (name, list) in [
                    ("departments", departments),
                    ("teams", teams),
                    ("offices", offices),
                ] {
                    for (i, id) in list.iter().enumerate() {
                        if id.trim().is_empty() {
                            problems.add(
                                format!("employees.selection.{name}[{i}]"),
                                "must not be empty",
                            );
                        }
                    }
                }
            }
        }
        let mut seen = HashMap::new();
        for (i, user) in e.export_user_ids.iter().enumerate() {
            let field = format!("employees.export_user_ids[{i}]");
            if *user <= 0 {
                problems.add(field, "TimeTrack user ids are positive");
            } else if let Some(first) = seen.insert(*user, i) {
                problems.add(
                    field,
                    format!("user {user} is already listed at employees.export_user_ids[{first}]"),
                );
            }
        }
        if e.personal_number_attribute
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            problems.add(
                "employees.personal_number_attribute",
                "must not be empty (leave it out instead)",
            );
        }
    }

    fn validate_absences(&self, problems: &mut Problems) {
        let mut timetrack_uses: HashMap<i64, String> = HashMap::new();
        let mut personio_uses: HashMap<&str, String> = HashMap::new();
        for (i, m) in self.absences.type_mappings.iter().enumerate() {
            let base = format!("absences.type_mappings[{i}]");
            let uses = std::iter::once(("timetrack_type_id", m.timetrack_type_id)).chain(
                m.half_day_timetrack_type_id
                    .map(|id| ("half_day_timetrack_type_id", id)),
            );
            for (name, type_id) in uses {
                let field = format!("{base}.{name}");
                if type_id <= 0 {
                    problems.add(field, "TimeTrack absence type ids are positive");
                } else if let Some(first) = timetrack_uses.get(&type_id) {
                    problems.add(
                        field,
                        format!("TimeTrack absence type {type_id} is already mapped at {first}"),
                    );
                } else {
                    timetrack_uses.insert(type_id, field);
                }
            }

            let field = format!("{base}.personio_type_id");
            let personio = m.personio_type_id.as_str();
            if personio.trim().is_empty() {
                problems.add(field, "must not be empty");
            } else if let Some(first) = personio_uses.get(personio) {
                problems.add(
                    field,
                    format!(
                        "Personio absence type {personio:?} is already mapped at {first}; each Personio type \
                         maps to one TimeTrack type (use half_day_timetrack_type_id for its half days)"
                    ),
                );
            } else {
                personio_uses.insert(personio, field);
            }
        }
    }

    fn validate_windows(&self, problems: &mut Problems) {
        let w = &self.windows;
        for (name, window) in [
            ("employees", w.employees),
            ("time_entries", w.time_entries),
            ("absences", w.absences),
        ] {
            let mut in_range = true;
            for (part, days) in [
                ("lookback_days", window.lookback_days),
                ("lookahead_days", window.lookahead_days),
            ] {
                if !(-MAX_WINDOW_DAYS..=MAX_WINDOW_DAYS).contains(&days) {
                    in_range = false;
                    problems.add(
                        format!("windows.{name}.{part}"),
                        format!("must be between -{MAX_WINDOW_DAYS} and {MAX_WINDOW_DAYS} days"),
                    );
                }
            }
            if in_range && window.lookback_days + window.lookahead_days < 0 {
                problems.add(
                    format!("windows.{name}"),
                    format!(
                        "lookback_days + lookahead_days is {}: the window would end before it starts",
                        window.lookback_days + window.lookahead_days
                    ),
                );
            }
        }
        if !(1..=MAX_WINDOW_DAYS.unsigned_abs()).contains(&w.max_manual_days) {
            problems.add(
                "windows.max_manual_days",
                format!("must be between 1 and {MAX_WINDOW_DAYS}"),
            );
        }
    }
}

/// Collects problems in the order they were found.
#[derive(Default)]
struct Problems(Vec<SettingsProblem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(SettingsProblem {
            field: field.into(),
            message: message.into(),
        });
    }

    fn into_result(self) -> Result<(), Vec<SettingsProblem>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(timetrack: i64, personio: &str, half_day: Option<i64>) -> AbsenceTypeMapping {
        AbsenceTypeMapping {
            timetrack_type_id: timetrack,
            personio_type_id: personio.to_string(),
            master: System::Personio,
            half_day_timetrack_type_id: half_day,
        }
    }

    /// The problems of `settings`, as `field: message` lines.
    fn problems(settings: &IntegrationSettings) -> Vec<String> {
        match settings.validate() {
            Ok(()) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn fields(settings: &IntegrationSettings) -> Vec<String> {
        settings
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn example_is_valid_and_survives_json() {
        let example = IntegrationSettings::example();
        assert_eq!(example.validate(), Ok(()));
        let json = serde_json::to_string(&example).unwrap();
        assert_eq!(IntegrationSettings::from_json(&json).unwrap(), example);
        let minimal = IntegrationSettings::from_json(r#"{"time_zone":"Europe/Berlin"}"#).unwrap();
        assert_eq!(minimal, example, "every section has defaults");
    }

    #[test]
    fn unknown_time_zone_is_named() {
        let mut s = IntegrationSettings::example();
        s.time_zone = "Europe/Berlinn".into();
        assert_eq!(
            problems(&s),
            [r#"time_zone: unknown time zone "Europe/Berlinn""#]
        );
        s.time_zone = "America/Argentina/Buenos_Aires".into();
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn a_timetrack_type_may_be_mapped_once_full_or_half_day() {
        let mut s = IntegrationSettings::example();
        s.absences.type_mappings = vec![
            mapping(1, "urlaub", Some(2)),
            mapping(3, "krank", None),
            mapping(1, "sonder", None),
            mapping(4, "elternzeit", Some(2)),
            mapping(5, "fortbildung", Some(5)),
        ];
        assert_eq!(
            problems(&s),
            [
                "absences.type_mappings[2].timetrack_type_id: TimeTrack absence type 1 is already mapped at absences.type_mappings[0].timetrack_type_id",
                "absences.type_mappings[3].half_day_timetrack_type_id: TimeTrack absence type 2 is already mapped at absences.type_mappings[0].half_day_timetrack_type_id",
                "absences.type_mappings[4].half_day_timetrack_type_id: TimeTrack absence type 5 is already mapped at absences.type_mappings[4].timetrack_type_id",
            ]
        );
    }

    #[test]
    fn a_personio_type_may_be_mapped_once_and_not_be_empty() {
        let mut s = IntegrationSettings::example();
        s.absences.type_mappings = vec![
            mapping(1, "urlaub", None),
            mapping(2, "urlaub", None),
            mapping(3, " ", None),
            mapping(0, "krank", None),
        ];
        assert_eq!(
            fields(&s),
            [
                "absences.type_mappings[1].personio_type_id",
                "absences.type_mappings[2].personio_type_id",
                "absences.type_mappings[3].timetrack_type_id",
            ]
        );
        let all = problems(&s);
        assert!(all[0].contains("already mapped at absences.type_mappings[0].personio_type_id"));
        assert!(all[1].ends_with("must not be empty"));
    }

    #[test]
    fn windows_must_have_a_length_and_stay_sane() {
        let mut s = IntegrationSettings::example();
        s.windows.time_entries = WindowSetting {
            lookback_days: -3,
            lookahead_days: 1,
        };
        s.windows.absences = WindowSetting {
            lookback_days: 30,
            lookahead_days: 3661,
        };
        s.windows.employees = WindowSetting {
            lookback_days: -1,
            lookahead_days: 1,
        };
        assert_eq!(
            fields(&s),
            ["windows.time_entries", "windows.absences.lookahead_days"],
            "a zero-length sum is fine (a one-day window); out-of-range parts are reported once"
        );
        s.windows = WindowSettings::default();
        s.windows.max_manual_days = 0;
        assert_eq!(fields(&s), ["windows.max_manual_days"]);
        s.windows.max_manual_days = 3661;
        assert_eq!(fields(&s), ["windows.max_manual_days"]);
        s.windows.max_manual_days = 3660;
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn sync_behaviour_is_bounded() {
        let mut s = IntegrationSettings::example();
        s.sync.concurrency = 0;
        s.sync.max_failures_before_parking = 0;
        assert_eq!(
            fields(&s),
            ["sync.max_failures_before_parking", "sync.concurrency"]
        );
        s.sync.concurrency = 33;
        s.sync.max_failures_before_parking = 1;
        assert_eq!(fields(&s), ["sync.concurrency"]);
        s.sync.concurrency = 32;
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn selections_must_select_something() {
        let mut s = IntegrationSettings::example();
        s.employees.selection = EmployeeSelection::Ids { ids: vec![] };
        assert_eq!(fields(&s), ["employees.selection.ids"]);
        s.employees.selection = EmployeeSelection::Ids {
            ids: vec!["1".into(), "".into(), "1".into()],
        };
        assert_eq!(
            fields(&s),
            ["employees.selection.ids[1]", "employees.selection.ids[2]"]
        );
        s.employees.selection = EmployeeSelection::OrgUnits {
            departments: vec![],
            teams: vec![],
            offices: vec![],
        };
        assert_eq!(fields(&s), ["employees.selection"]);
        s.employees.selection = EmployeeSelection::OrgUnits {
            departments: vec![],
            teams: vec!["t1".into()],
            offices: vec![],
        };
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn export_user_ids_are_distinct_and_positive() {
        let mut s = IntegrationSettings::example();
        s.employees.export_user_ids = vec![5, 6, 5, -1];
        assert_eq!(
            problems(&s),
            [
                "employees.export_user_ids[2]: user 5 is already listed at employees.export_user_ids[0]",
                "employees.export_user_ids[3]: TimeTrack user ids are positive",
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut s = IntegrationSettings::example();
        s.time_zone = "Mars/Olympus".into();
        s.sync.concurrency = 100;
        s.employees.personal_number_attribute = Some("".into());
        assert_eq!(
            fields(&s),
            [
                "time_zone",
                "employees.personal_number_attribute",
                "sync.concurrency"
            ]
        );
    }

    #[test]
    fn parse_errors_name_the_json_path() {
        let json = r#"{"time_zone":"Europe/Berlin","absences":{"type_mappings":[
            {"timetrack_type_id":1,"personio_type_id":"a","master":"personio"},
            {"timetrack_type_id":"two","personio_type_id":"b","master":"personio"}]}}"#;
        match IntegrationSettings::from_json(json) {
            Err(SettingsError::Parse { path, message }) => {
                assert_eq!(path, "absences.type_mappings[1].timetrack_type_id");
                assert!(message.contains("invalid type"), "{message}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        let unknown = r#"{"time_zone":"Europe/Berlin","sync":{"concurrency":2,"max_failures_before_parking":1,"turbo":true}}"#;
        match IntegrationSettings::from_json(unknown) {
            Err(SettingsError::Parse { path, message }) => {
                assert!(path.starts_with("sync"), "{path}");
                assert!(message.contains("turbo"), "{message}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        assert!(matches!(
            IntegrationSettings::from_json(r#"{"time_zone":"UTC"} trailing"#),
            Err(SettingsError::Parse { .. })
        ));
    }
}
