//! The window of a scheduled run: `[last successful run − lookback, today + lookahead]`, in calendar
//! days of the integration's time zone (what "today" means for the people whose time is tracked).
use jiff::civil::Date;
use jiff::{Span, Timestamp};
use thiserror::Error;

use crate::domain::{DateWindow, Workflow};
use crate::settings::{IntegrationSettings, WindowSetting};
use crate::store::Watermark;
use crate::timezone::TimeZoneSetting;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WindowError {
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("window out of the calendar's range: {0}")]
    OutOfRange(String),
}

/// The window setting of `workflow`.
pub fn window_setting(settings: &IntegrationSettings, workflow: Workflow) -> WindowSetting {
    match workflow {
        Workflow::Employees => settings.windows.employees,
        Workflow::TimeEntries => settings.windows.time_entries,
        Workflow::Absences => settings.windows.absences,
    }
}

/// The calendar day `at` falls on in `time_zone`.
pub fn local_date(time_zone: &TimeZoneSetting, at: Timestamp) -> Result<Date, WindowError> {
    let tz = time_zone
        .zone()
        .map_err(|_| WindowError::UnknownTimeZone(time_zone.name().to_string()))?;
    Ok(tz.to_datetime(at).date())
}

/// The scheduled window: from the day of the last success (today on the first run) minus `lookback`,
/// to today plus `lookahead`. A watermark in the future (clock skew) never yields an empty window.
pub fn scheduled_window(
    setting: WindowSetting,
    time_zone: &TimeZoneSetting,
    now: Timestamp,
    watermark: Option<&Watermark>,
) -> Result<DateWindow, WindowError> {
    let today = local_date(time_zone, now)?;
    let since = match watermark {
        Some(w) => local_date(time_zone, w.last_success_at)?.min(today),
        None => today,
    };
    let shift = |day: Date, days: i32| {
        day.checked_add(Span::new().days(days))
            .map_err(|e| WindowError::OutOfRange(e.to_string()))
    };
    let from = shift(since, -setting.lookback_days.abs())?;
    let to = shift(today, setting.lookahead_days.abs())?;
    DateWindow::new(from, to).map_err(|e| WindowError::OutOfRange(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn first_run_looks_back_from_today_in_the_integrations_time_zone() {
        let setting = WindowSetting {
            lookback_days: 14,
            lookahead_days: 0,
        };
        // 23:30 UTC on 31 March is already 1 April in Berlin (CEST).
        let w = scheduled_window(
            setting,
            &"Europe/Berlin".into(),
            ts("2026-03-31T23:30:00Z"),
            None,
        )
        .unwrap();
        assert_eq!(
            w,
            DateWindow::new(date(2026, 3, 18), date(2026, 4, 1)).unwrap()
        );
    }

    #[test]
    fn later_runs_start_at_the_watermark_minus_lookback() {
        let setting = WindowSetting {
            lookback_days: 30,
            lookahead_days: 180,
        };
        let wm = Watermark {
            last_success_at: ts("2026-01-10T08:00:00Z"),
            run_id: "r1".into(),
        };
        let w = scheduled_window(
            setting,
            &"Europe/Berlin".into(),
            ts("2026-01-20T08:00:00Z"),
            Some(&wm),
        )
        .unwrap();
        assert_eq!(
            w,
            DateWindow::new(date(2025, 12, 11), date(2026, 7, 19)).unwrap()
        );
    }

    #[test]
    fn a_future_watermark_does_not_empty_the_window() {
        let setting = WindowSetting {
            lookback_days: 0,
            lookahead_days: 0,
        };
        let wm = Watermark {
            last_success_at: ts("2026-02-10T08:00:00Z"),
            run_id: "r1".into(),
        };
        let w = scheduled_window(
            setting,
            &"UTC".into(),
            ts("2026-01-20T08:00:00Z"),
            Some(&wm),
        )
        .unwrap();
        assert_eq!(
            w,
            DateWindow::new(date(2026, 1, 20), date(2026, 1, 20)).unwrap()
        );
    }

    #[test]
    fn unknown_time_zone_is_an_error() {
        let setting = WindowSetting {
            lookback_days: 1,
            lookahead_days: 1,
        };
        assert!(matches!(
            scheduled_window(
                setting,
                &"Mars/Olympus".into(),
                ts("2026-01-20T08:00:00Z"),
                None
            ),
            Err(WindowError::UnknownTimeZone(_))
        ));
    }
}
