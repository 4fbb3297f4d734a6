//! The time-entries workflow as the engine sees it: natural key, anchor date and master system.
//!
//! The anchor date is the **local** day the entry starts on (in the integration's time zone), because
//! that is the day a payroll period and a window are counted in, and both ports select exactly the
//! entries whose local start day lies in the window. The master is one setting for all entries
//! (`settings.time_entries.master`): unlike absences there is no per-type choice.
use jiff::civil::Date;

use super::canonical::TimeEntry;
use super::personio::shape::personio_periods;
use super::personio::writes::all_recorded;
use crate::domain::{DateWindow, EntityKind, ScopeEntry, System};
use crate::engine::SyncKind;
use crate::timezone::ZoneConverter;

/// [`SyncKind`] of time entries: natural key `person|start instant`, anchored on the local start day.
#[derive(Debug, Clone)]
pub struct TimeEntryKind {
    zone: ZoneConverter,
    master: System,
}

impl TimeEntryKind {
    pub fn new(zone: ZoneConverter, master: System) -> Self {
        Self { zone, master }
    }
}

impl SyncKind for TimeEntryKind {
    type Value = TimeEntry;

    fn kind(&self) -> EntityKind {
        EntityKind::TimeEntry
    }

    fn natural_key(&self, value: &TimeEntry) -> String {
        value.natural_key()
    }

    fn anchor_date(&self, value: &TimeEntry) -> Option<Date> {
        Some(value.anchor_date(&self.zone))
    }

    /// The configured master, whatever the pair looks like: HR decides once which system is the
    /// record of working time.
    fn master(&self, _personio: Option<&TimeEntry>, _timetrack: Option<&TimeEntry>) -> System {
        self.master
    }

    /// A Personio entry whose every period (as Personio holds this value) is one the pending create
    /// recorded before sending it: the WORK of an entry whose BREAK POST was lost, or the first part
    /// of an overnight entry. Only Personio creates record parts (TimeTrack's create is one write).
    fn is_remnant(&self, found: &TimeEntry, recorded: &[String]) -> bool {
        personio_periods(found, &self.zone).is_ok_and(|drafts| all_recorded(&drafts, recorded))
    }

    /// The entry's person and anchor day.
    fn scope_entry(&self, value: &TimeEntry) -> Option<ScopeEntry> {
        let day = value.anchor_date(&self.zone);
        Some(ScopeEntry {
            person: value.employee.clone(),
            days: Some(DateWindow { from: day, to: day }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn key_anchor_and_master_come_from_entry_zone_and_setting() {
        let zone = ZoneConverter::new("Europe/Berlin").unwrap();
        let entry = TimeEntry::new(
            "1006",
            "2026-03-02T21:00:00Z".parse().unwrap(),
            "2026-03-03T05:00:00Z".parse().unwrap(),
            30,
            None,
        )
        .unwrap();
        let kind = TimeEntryKind::new(zone.clone(), System::TimeTrack);
        assert_eq!(kind.natural_key(&entry), "1006|2026-03-02T21:00:00Z");
        // 21:00 UTC on 2 March is 22:00 in Berlin: still the 2nd.
        assert_eq!(kind.anchor_date(&entry), Some(date(2026, 3, 2)));
        assert_eq!(kind.master(Some(&entry), None), System::TimeTrack);
        let late = TimeEntry::new(
            "1006",
            "2026-03-02T23:30:00Z".parse().unwrap(),
            "2026-03-03T05:00:00Z".parse().unwrap(),
            0,
            None,
        )
        .unwrap();
        // 23:30 UTC is 00:30 local on the 3rd.
        assert_eq!(kind.anchor_date(&late), Some(date(2026, 3, 3)));
        let personio_wins = TimeEntryKind::new(zone, System::Personio);
        assert_eq!(personio_wins.master(None, Some(&late)), System::Personio);
        assert_eq!(personio_wins.kind(), EntityKind::TimeEntry);
    }
}
