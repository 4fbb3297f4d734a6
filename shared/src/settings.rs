//! One integration's settings: the typed model the user edits during setup and every run reads.
//!
//! Validation lives here too (`IntegrationSettings::validate`), so that the HTTP API, the functions and
//! the tests all reject the same things with the same precise messages.
use serde::{Deserialize, Serialize};

use crate::domain::System;

/// Everything one integration is configured with. Persisted as one document per integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSettings {
    /// IANA time zone of the Personio company, e.g. `Europe/Berlin`. Personio attendance and absence
    /// times are local wall-clock times in this zone.
    pub time_zone: String,
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
    /// Leave the TimeTrack user alone (still recorded in the run).
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
    /// Send `skip_approval=true` on attendance and absence writes.
    pub skip_approval: bool,
}

impl Default for PersonioBehaviour {
    fn default() -> Self {
        Self {
            skip_approval: true,
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
