//! Time conversion for one integration's IANA time zone.
//!
//! The two systems speak about time differently:
//! - **Personio** attendance and absence periods are *local wall-clock* date-times without an offset
//!   (`2026-03-29T08:00:00`), meant in the company's time zone.
//! - **TimeTrack** timestamps end in `Z`; whether the digits are a real UTC instant or the local wall-clock
//!   time is a per-integration setting ([`TimestampMode`]).
//!
//! Canonical records hold [`Timestamp`]s (real instants). This module is the only place that turns local
//! wall-clock times into instants and back, with a real time-zone database (jiff's bundled tzdb), so that
//! the DST rules are applied in exactly one way everywhere.
//!
//! # Rules for local wall-clock times that do not name exactly one instant
//!
//! Writing is always unambiguous: an instant has exactly one local rendering. Reading is not:
//!
//! - **Gap** (spring forward, e.g. `2026-03-29 02:30` in `Europe/Berlin` never happens). Personio should
//!   never hold such a time (we never write one). When one is read anyway it is resolved the way most
//!   calendars do ("compatible" disambiguation): the clock is shifted forward by the length of the gap
//!   (`02:30` → `03:30` CEST), and the shift is reported as a [`LocalTimeAdjustment::Gap`].
//! - **Fold** (fall back, e.g. `2026-10-25 02:30` happens twice in `Europe/Berlin`). A period **start** takes
//!   the *earlier* instant (the first time the clock shows it). A period **end** takes whichever of the
//!   two instants makes the period's duration non-negative *and* closest to the difference of the two
//!   wall-clock readings: a worker who writes 01:00–02:30 on that night worked 1.5 h (the earlier 02:30),
//!   one who writes 02:45–02:15 can only have meant the second 02:15. Every fold decision is reported as a
//!   [`LocalTimeAdjustment::Fold`].
//!
//! A consequence, documented rather than hidden: an instant inside the *second* pass of a fold
//! (e.g. 02:30 CET on 2026-10-25) renders to a local time that reads back as the first pass. Local
//! wall-clock systems cannot tell the two apart; the rules above pick the reading a person would mean.
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use thiserror::Error;

use crate::domain::DateWindow;
use crate::settings::TimestampMode;

/// Why a time could not be converted. Messages name the values involved; none of them is ever a secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    /// The integration's settings name a zone the bundled tz database does not know.
    #[error(
        "unknown time zone {name:?}: expected an IANA time zone name such as \"Europe/Berlin\""
    )]
    UnknownTimeZone { name: String },
    /// The wall-clock time lies outside the range jiff can represent as an instant (years −9999..=9999).
    #[error("local time {local} in {zone} is outside the representable range of instants")]
    OutOfRange { local: DateTime, zone: String },
}

/// Which of the two instants of a fold was chosen, so reports can say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoldChoice {
    Earlier,
    Later,
}

/// A local time that did not name exactly one instant, and what was made of it. Workflows surface these
/// in run reports (they are not failures: the record is still synced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LocalTimeAdjustment {
    /// The local time does not exist (spring-forward gap); it was shifted forward to `resolved_local`.
    Gap {
        local: DateTime,
        resolved_local: DateTime,
    },
    /// The local time happens twice (autumn fold); `chosen` says which pass was taken.
    Fold { local: DateTime, chosen: FoldChoice },
}

/// An instant read from a local wall-clock time, with the adjustment made if the time was not unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub instant: Timestamp,
    pub adjustment: Option<LocalTimeAdjustment>,
}

/// The integration's time zone as configured (`IntegrationSettings::time_zone`): the IANA name, looked up
/// in the bundled tz database once, when the settings are read.
///
/// An unknown name is kept rather than refused while reading, so that settings validation lists it with
/// every other problem of the document (one 422 naming each field); using it as a zone answers
/// [`TimeError::UnknownTimeZone`]. On the wire it is the name, exactly as given.
#[derive(Debug, Clone)]
pub struct TimeZoneSetting {
    name: String,
    zone: Option<TimeZone>,
}

impl TimeZoneSetting {
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let zone = TimeZone::get(&name).ok();
        Self { name, zone }
    }

    /// The IANA name as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone, or why the name names none.
    pub fn zone(&self) -> Result<&TimeZone, TimeError> {
        self.zone
            .as_ref()
            .ok_or_else(|| TimeError::UnknownTimeZone {
                name: self.name.clone(),
            })
    }

    /// A converter for this zone (no second lookup).
    pub fn converter(&self) -> Result<ZoneConverter, TimeError> {
        Ok(ZoneConverter {
            zone: self.zone()?.clone(),
            name: self.name.clone(),
        })
    }
}

impl PartialEq for TimeZoneSetting {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneSetting {}

impl PartialEq<&str> for TimeZoneSetting {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

impl From<&str> for TimeZoneSetting {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl std::fmt::Display for TimeZoneSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl serde::Serialize for TimeZoneSetting {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> serde::Deserialize<'de> for TimeZoneSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// Converts between instants and local wall-clock times of one integration's IANA time zone.
///
/// Cheap to clone (the zone is reference counted inside jiff). Build it once per run from
/// `IntegrationSettings::time_zone`.
#[derive(Debug, Clone)]
pub struct ZoneConverter {
    zone: TimeZone,
    name: String,
}

impl ZoneConverter {
    /// Looks `iana_name` up in the bundled tz database (so behaviour does not depend on the host's
    /// `/usr/share/zoneinfo`, which Lambda's minimal images may lack or have stale).
    pub fn new(iana_name: &str) -> Result<Self, TimeError> {
        let zone = TimeZone::get(iana_name).map_err(|_| TimeError::UnknownTimeZone {
            name: iana_name.to_string(),
        })?;
        Ok(Self {
            zone,
            name: iana_name.to_string(),
        })
    }

    /// The IANA name this converter was built from.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The local wall-clock time of an instant (always unambiguous).
    pub fn to_local(&self, instant: Timestamp) -> DateTime {
        self.zone.to_datetime(instant)
    }

    /// The local calendar day of an instant (e.g. a time entry's anchor date).
    pub fn local_date(&self, instant: Timestamp) -> Date {
        self.to_local(instant).date()
    }

    /// The first instant of a local calendar day. Usually 00:00; in zones whose DST change happens at
    /// midnight (e.g. `America/Santiago`) the day may start at 01:00.
    pub fn start_of_day(&self, day: Date) -> Result<Timestamp, TimeError> {
        self.zone
            .to_ambiguous_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
            .compatible()
            .map_err(|_| self.out_of_range(day.to_datetime(jiff::civil::Time::midnight())))
    }

    /// True when `local` is the first moment of its calendar day in this zone (the place where Personio
    /// periods are split).
    pub fn is_start_of_day(&self, local: DateTime) -> bool {
        match self.start_of_day(local.date()) {
            Ok(start) => self.to_local(start) == local,
            Err(_) => false,
        }
    }

    /// The instants covered by an inclusive window of local days: `[start of from, start of to + 1 day)`.
    pub fn window_bounds(&self, window: &DateWindow) -> Result<(Timestamp, Timestamp), TimeError> {
        let start = self.start_of_day(window.from)?;
        let after = window
            .to
            .tomorrow()
            .map_err(|_| self.out_of_range(window.to.to_datetime(jiff::civil::Time::midnight())))?;
        Ok((start, self.start_of_day(after)?))
    }

    /// Reads the local time that **starts** a period: a gap shifts forward, a fold takes the earlier pass.
    pub fn resolve_start(&self, local: DateTime) -> Result<Resolved, TimeError> {
        let ambiguous = self.zone.to_ambiguous_timestamp(local);
        let instant = ambiguous
            .compatible()
            .map_err(|_| self.out_of_range(local))?;
        let adjustment = match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => None,
            AmbiguousOffset::Gap { .. } => Some(LocalTimeAdjustment::Gap {
                local,
                resolved_local: self.to_local(instant),
            }),
            AmbiguousOffset::Fold { .. } => Some(LocalTimeAdjustment::Fold {
                local,
                chosen: FoldChoice::Earlier,
            }),
        };
        Ok(Resolved {
            instant,
            adjustment,
        })
    }

    /// Reads the local time that **ends** a period whose start was read as `start` (local `start_local`).
    ///
    /// A gap shifts forward like a start. In a fold, of the two candidate instants the one giving a
    /// non-negative duration closest to the wall-clock difference `local - start_local` wins (ties: the
    /// earlier). If neither is non-negative, the later one is returned; the caller rejects the period as
    /// ending before it starts.
    pub fn resolve_end(
        &self,
        start: Timestamp,
        start_local: DateTime,
        local: DateTime,
    ) -> Result<Resolved, TimeError> {
        let ambiguous = self.zone.to_ambiguous_timestamp(local);
        match ambiguous.offset() {
            AmbiguousOffset::Fold { .. } => {
                let earlier = ambiguous.earlier().map_err(|_| self.out_of_range(local))?;
                let later = ambiguous.later().map_err(|_| self.out_of_range(local))?;
                let wall = start_local.duration_until(local);
                let score = |candidate: Timestamp| -> Option<SignedDuration> {
                    let real = start.duration_until(candidate);
                    (!real.is_negative()).then(|| (real - wall).abs())
                };
                let chosen = match (score(earlier), score(later)) {
                    (Some(e), Some(l)) if l < e => FoldChoice::Later,
                    (Some(_), _) => FoldChoice::Earlier,
                    (None, _) => FoldChoice::Later,
                };
                let instant = match chosen {
                    FoldChoice::Earlier => earlier,
                    FoldChoice::Later => later,
                };
                Ok(Resolved {
                    instant,
                    adjustment: Some(LocalTimeAdjustment::Fold { local, chosen }),
                })
            }
            // Unambiguous and gap times resolve exactly like a start.
            _ => self.resolve_start(local),
        }
    }

    /// True when the local rendering of the period `[start, end]` reads back, with the start and end
    /// rules, to exactly these instants. False only around an autumn fold (e.g. a period starting in the
    /// second pass of the repeated hour): such a period cannot be held exactly by a local-time system.
    pub fn period_reads_back(&self, start: Timestamp, end: Timestamp) -> bool {
        let (start_local, end_local) = (self.to_local(start), self.to_local(end));
        let start_ok = matches!(self.resolve_start(start_local), Ok(r) if r.instant == start);
        start_ok
            && matches!(self.resolve_end(start, start_local, end_local), Ok(r) if r.instant == end)
    }

    /// Reads a TimeTrack timestamp (the digits before its `Z`) as an instant, per the integration's
    /// [`TimestampMode`]. In local wall-clock mode the digits are read like a period start (gap: forward,
    /// fold: earlier); use [`ZoneConverter::timetrack_period_to_instants`] to read a `from`/`to` pair with
    /// the end rule.
    pub fn timetrack_to_instant(
        &self,
        digits: DateTime,
        mode: TimestampMode,
    ) -> Result<Timestamp, TimeError> {
        match mode {
            TimestampMode::Utc => {
                TimeZone::UTC
                    .to_timestamp(digits)
                    .map_err(|_| TimeError::OutOfRange {
                        local: digits,
                        zone: "UTC".to_string(),
                    })
            }
            TimestampMode::LocalWallClock => Ok(self.resolve_start(digits)?.instant),
        }
    }

    /// Reads a TimeTrack `from`/`to` pair, applying the start rule to `from` and the end rule to `to` in
    /// local wall-clock mode. Returns the instants and any adjustments made (none in UTC mode).
    pub fn timetrack_period_to_instants(
        &self,
        from: DateTime,
        to: DateTime,
        mode: TimestampMode,
    ) -> Result<(Timestamp, Timestamp, Vec<LocalTimeAdjustment>), TimeError> {
        match mode {
            TimestampMode::Utc => Ok((
                self.timetrack_to_instant(from, mode)?,
                self.timetrack_to_instant(to, mode)?,
                Vec::new(),
            )),
            TimestampMode::LocalWallClock => {
                let start = self.resolve_start(from)?;
                let end = self.resolve_end(start.instant, from, to)?;
                let adjustments = [start.adjustment, end.adjustment]
                    .into_iter()
                    .flatten()
                    .collect();
                Ok((start.instant, end.instant, adjustments))
            }
        }
    }

    /// The digits to write before a TimeTrack timestamp's `Z` for an instant, per [`TimestampMode`].
    pub fn instant_to_timetrack(&self, instant: Timestamp, mode: TimestampMode) -> DateTime {
        match mode {
            TimestampMode::Utc => TimeZone::UTC.to_datetime(instant),
            TimestampMode::LocalWallClock => self.to_local(instant),
        }
    }

    fn out_of_range(&self, local: DateTime) -> TimeError {
        TimeError::OutOfRange {
            local,
            zone: self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_zone_setting_is_looked_up_once_and_keeps_an_unknown_name() {
        let berlin: TimeZoneSetting = serde_json::from_str(r#""Europe/Berlin""#).unwrap();
        assert_eq!(berlin, "Europe/Berlin");
        assert_eq!(
            berlin.zone().unwrap(),
            &TimeZone::get("Europe/Berlin").unwrap()
        );
        assert_eq!(berlin.converter().unwrap().name(), "Europe/Berlin");
        assert_eq!(
            serde_json::to_string(&berlin).unwrap(),
            r#""Europe/Berlin""#
        );

        // Read without complaint (validation lists it with the other problems), refused when used.
        let atlantis: TimeZoneSetting = serde_json::from_str(r#""Europe/Atlantis""#).unwrap();
        assert_eq!(
            atlantis.zone(),
            Err(TimeError::UnknownTimeZone {
                name: "Europe/Atlantis".into()
            })
        );
        assert!(atlantis.converter().is_err());
        assert_eq!(
            serde_json::to_string(&atlantis).unwrap(),
            r#""Europe/Atlantis""#
        );
        // Not a string: a type error, as before.
        assert!(serde_json::from_str::<TimeZoneSetting>("17").is_err());
    }
    use jiff::civil::date;

    fn berlin() -> ZoneConverter {
        ZoneConverter::new("Europe/Berlin").unwrap()
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn unknown_zone_is_a_typed_error_naming_the_zone() {
        let err = ZoneConverter::new("Europe/Atlantis").unwrap_err();
        assert_eq!(
            err,
            TimeError::UnknownTimeZone {
                name: "Europe/Atlantis".into()
            }
        );
        assert!(err.to_string().contains("Europe/Atlantis"));
    }

    #[test]
    fn ordinary_local_times_convert_both_ways_without_adjustment() {
        let z = berlin();
        let local = date(2026, 7, 1).at(9, 15, 0, 0);
        let r = z.resolve_start(local).unwrap();
        assert_eq!(r.instant, utc("2026-07-01T07:15:00Z"));
        assert_eq!(r.adjustment, None);
        assert_eq!(z.to_local(r.instant), local);
        let winter = z.resolve_start(date(2026, 1, 15).at(9, 15, 0, 0)).unwrap();
        assert_eq!(winter.instant, utc("2026-01-15T08:15:00Z"));
    }

    #[test]
    fn spring_forward_gap_shifts_forward_and_reports() {
        let z = berlin();
        let local = date(2026, 3, 29).at(2, 30, 0, 0);
        let r = z.resolve_start(local).unwrap();
        assert_eq!(r.instant, utc("2026-03-29T01:30:00Z"));
        assert_eq!(
            r.adjustment,
            Some(LocalTimeAdjustment::Gap {
                local,
                resolved_local: date(2026, 3, 29).at(3, 30, 0, 0),
            })
        );
        // The end rule treats a gap the same way.
        let start = date(2026, 3, 29).at(1, 0, 0, 0);
        let e = z
            .resolve_end(z.resolve_start(start).unwrap().instant, start, local)
            .unwrap();
        assert_eq!(e.instant, utc("2026-03-29T01:30:00Z"));
    }

    #[test]
    fn fold_start_takes_the_earlier_pass() {
        let z = berlin();
        let local = date(2026, 10, 25).at(2, 30, 0, 0);
        let r = z.resolve_start(local).unwrap();
        assert_eq!(r.instant, utc("2026-10-25T00:30:00Z"));
        assert_eq!(
            r.adjustment,
            Some(LocalTimeAdjustment::Fold {
                local,
                chosen: FoldChoice::Earlier
            })
        );
    }

    #[test]
    fn fold_end_takes_the_pass_closest_to_the_wall_clock_difference() {
        let z = berlin();
        // 01:00–02:30 written on the fall-back night: 1.5 h, the first 02:30.
        let start_local = date(2026, 10, 25).at(1, 0, 0, 0);
        let start = z.resolve_start(start_local).unwrap().instant;
        let end = z
            .resolve_end(start, start_local, date(2026, 10, 25).at(2, 30, 0, 0))
            .unwrap();
        assert_eq!(end.instant, utc("2026-10-25T00:30:00Z"));
        // 02:45–02:15: only the second 02:15 gives a non-negative duration (30 min).
        let start_local = date(2026, 10, 25).at(2, 45, 0, 0);
        let start = z.resolve_start(start_local).unwrap().instant;
        let end = z
            .resolve_end(start, start_local, date(2026, 10, 25).at(2, 15, 0, 0))
            .unwrap();
        assert_eq!(end.instant, utc("2026-10-25T01:15:00Z"));
        assert_eq!(
            end.adjustment,
            Some(LocalTimeAdjustment::Fold {
                local: date(2026, 10, 25).at(2, 15, 0, 0),
                chosen: FoldChoice::Later
            })
        );
        // 22:00 (the evening before) – 02:30: wall difference 4.5 h, real 4.5 h with the first pass.
        let start_local = date(2026, 10, 24).at(22, 0, 0, 0);
        let start = z.resolve_start(start_local).unwrap().instant;
        let end = z
            .resolve_end(start, start_local, date(2026, 10, 25).at(2, 30, 0, 0))
            .unwrap();
        assert_eq!(
            start.duration_until(end.instant),
            SignedDuration::from_mins(270)
        );
    }

    #[test]
    fn only_periods_touching_the_second_pass_of_a_fold_fail_to_read_back() {
        let z = berlin();
        // Ordinary, spring-forward-spanning and first-pass periods read back exactly.
        assert!(z.period_reads_back(utc("2026-07-01T07:00:00Z"), utc("2026-07-01T15:00:00Z")));
        assert!(z.period_reads_back(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T02:00:00Z")));
        assert!(z.period_reads_back(utc("2026-10-24T23:00:00Z"), utc("2026-10-25T00:30:00Z")));
        // Start at 02:30 CET (second pass) reads back as 02:30 CEST.
        assert!(!z.period_reads_back(utc("2026-10-25T01:30:00Z"), utc("2026-10-25T03:00:00Z")));
    }

    #[test]
    fn timetrack_digits_follow_the_timestamp_mode() {
        let z = berlin();
        let digits = date(2026, 3, 2).at(9, 0, 0, 0);
        assert_eq!(
            z.timetrack_to_instant(digits, TimestampMode::Utc).unwrap(),
            utc("2026-03-02T09:00:00Z")
        );
        assert_eq!(
            z.timetrack_to_instant(digits, TimestampMode::LocalWallClock)
                .unwrap(),
            utc("2026-03-02T08:00:00Z")
        );
        let instant = utc("2026-08-03T06:30:00Z");
        assert_eq!(
            z.instant_to_timetrack(instant, TimestampMode::Utc),
            date(2026, 8, 3).at(6, 30, 0, 0)
        );
        assert_eq!(
            z.instant_to_timetrack(instant, TimestampMode::LocalWallClock),
            date(2026, 8, 3).at(8, 30, 0, 0)
        );
    }

    #[test]
    fn timetrack_local_period_on_the_fold_uses_the_end_rule() {
        let z = berlin();
        let (from, to, adjustments) = z
            .timetrack_period_to_instants(
                date(2026, 10, 25).at(1, 0, 0, 0),
                date(2026, 10, 25).at(4, 0, 0, 0),
                TimestampMode::LocalWallClock,
            )
            .unwrap();
        assert_eq!(from.duration_until(to), SignedDuration::from_hours(4));
        assert!(adjustments.is_empty());
        let (from, to, adjustments) = z
            .timetrack_period_to_instants(
                date(2026, 10, 25).at(2, 40, 0, 0),
                date(2026, 10, 25).at(2, 20, 0, 0),
                TimestampMode::LocalWallClock,
            )
            .unwrap();
        assert_eq!(from.duration_until(to), SignedDuration::from_mins(40));
        assert_eq!(adjustments.len(), 2);
    }

    #[test]
    fn southern_hemisphere_dst_runs_the_other_way() {
        let z = ZoneConverter::new("Australia/Sydney").unwrap();
        // Sydney falls back on 2026-04-05 03:00 → 02:00 and springs forward on 2026-10-04 02:00 → 03:00.
        let fold = z.resolve_start(date(2026, 4, 5).at(2, 30, 0, 0)).unwrap();
        assert!(matches!(
            fold.adjustment,
            Some(LocalTimeAdjustment::Fold { .. })
        ));
        assert_eq!(fold.instant, utc("2026-04-04T15:30:00Z"));
        let gap = z.resolve_start(date(2026, 10, 4).at(2, 30, 0, 0)).unwrap();
        assert!(matches!(
            gap.adjustment,
            Some(LocalTimeAdjustment::Gap { .. })
        ));
        assert_eq!(z.to_local(gap.instant), date(2026, 10, 4).at(3, 30, 0, 0));
        // July is winter there: +10:00.
        assert_eq!(
            z.resolve_start(date(2026, 7, 1).at(9, 0, 0, 0))
                .unwrap()
                .instant,
            utc("2026-06-30T23:00:00Z")
        );
    }

    #[test]
    fn days_and_windows_start_at_local_midnight() {
        let z = ZoneConverter::new("America/New_York").unwrap();
        assert_eq!(
            z.start_of_day(date(2026, 3, 8)).unwrap(),
            utc("2026-03-08T05:00:00Z")
        );
        let w = DateWindow::new(date(2026, 3, 8), date(2026, 3, 8)).unwrap();
        let (from, to) = z.window_bounds(&w).unwrap();
        // The spring-forward day in New York is 23 hours long.
        assert_eq!(from.duration_until(to), SignedDuration::from_hours(23));
        assert!(z.is_start_of_day(date(2026, 3, 9).at(0, 0, 0, 0)));
        assert!(!z.is_start_of_day(date(2026, 3, 9).at(0, 0, 1, 0)));
        // Santiago springs forward at midnight: the day begins at 01:00.
        let santiago = ZoneConverter::new("America/Santiago").unwrap();
        let first = santiago.start_of_day(date(2026, 9, 6)).unwrap();
        assert_eq!(santiago.to_local(first), date(2026, 9, 6).at(1, 0, 0, 0));
        assert!(santiago.is_start_of_day(date(2026, 9, 6).at(1, 0, 0, 0)));
        assert_eq!(z.local_date(utc("2026-03-09T03:00:00Z")), date(2026, 3, 8));
    }
}
