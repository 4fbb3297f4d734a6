//! The manual-sync request body (`POST /integrations/{id}/sync/{workflow}`), parsed and validated before
//! anything runs: dates, `from` ≤ `to`, the longest allowed period, a known direction.
use jiff::civil::Date;
use serde::Deserialize;

use super::problem::{FieldProblem, Problem};
use crate::domain::{DateWindow, Direction};

/// The body as sent. Every field is optional, but none may be `null` (the OpenAPI document declares
/// none nullable: a `null` is refused like any other wrong type, not read as "absent"); unknown fields
/// are rejected so that a typo (`"dryrun": true`) cannot silently turn a dry run into a real one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default, deserialize_with = "present")]
    from: Option<String>,
    #[serde(default, deserialize_with = "present")]
    to: Option<String>,
    #[serde(default, deserialize_with = "present")]
    direction: Option<String>,
    #[serde(default, deserialize_with = "present")]
    dry_run: Option<bool>,
    /// Employees only: Personio person ids to import now (in addition to the selection).
    #[serde(default, deserialize_with = "present")]
    import_person_ids: Option<Vec<String>>,
    /// Employees only: TimeTrack user ids to export now (in addition to the selection).
    #[serde(default, deserialize_with = "present")]
    export_user_ids: Option<Vec<i64>>,
}

/// A field that is present must hold a value of its type: `null` is an error (`Option<T>`'s own
/// deserializer would read it as absent). Absent fields are `None` through `#[serde(default)]`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Records named explicitly in a manual employees sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExplicitSelection {
    pub import_person_ids: Vec<String>,
    pub export_user_ids: Vec<i64>,
}

impl ExplicitSelection {
    pub fn is_empty(&self) -> bool {
        self.import_person_ids.is_empty() && self.export_user_ids.is_empty()
    }
}

/// A validated manual-sync request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualSync {
    /// `None`: the workflow's scheduled window (from the watermark).
    pub window: Option<DateWindow>,
    pub direction: Direction,
    pub dry_run: bool,
    pub selection: ExplicitSelection,
}

impl ManualSync {
    /// Parses `body` (absent or empty = all defaults). `today` is the integration's local date, used when
    /// only `from` is given; `max_days` is the longest period allowed (settings).
    pub fn parse(body: Option<&str>, today: Date, max_days: u32) -> Result<Self, Problem> {
        let body: Body = match body.map(str::trim).filter(|b| !b.is_empty()) {
            None => Body::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                // serde_json's messages name the field and position, never echo long input.
                Problem::invalid_body(format!("the body is not a valid manual-sync request: {e}"))
            })?,
        };
        let mut problems = Vec::new();
        let from = parse_date("from", body.from.as_deref(), &mut problems);
        let to = parse_date("to", body.to.as_deref(), &mut problems);
        let direction = parse_direction(body.direction.as_deref(), &mut problems);
        let window = match (from, to) {
            // A `from` that was given but is not a date has its own error already.
            (None, _) if body.from.is_some() => None,
            (None, None) => None,
            (None, Some(_)) => {
                problems.push(FieldProblem {
                    field: "from".into(),
                    message: "\"to\" was given without \"from\"".into(),
                });
                None
            }
            (Some(from), to) => {
                // Only `from`: up to today, or the one day `from` when it lies ahead.
                let to = to.unwrap_or(if today > from { today } else { from });
                bounded_window(from, to, max_days, &mut problems)
            }
        };
        if !problems.is_empty() {
            let detail = problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Problem::invalid_body(detail).with_errors(problems));
        }
        Ok(Self {
            window,
            direction,
            dry_run: body.dry_run.unwrap_or(false),
            selection: ExplicitSelection {
                import_person_ids: body.import_person_ids.unwrap_or_default(),
                export_user_ids: body.export_user_ids.unwrap_or_default(),
            },
        })
    }
}

fn parse_direction(value: Option<&str>, problems: &mut Vec<FieldProblem>) -> Direction {
    match value {
        None | Some("both") => Direction::Both,
        Some("to_personio") => Direction::ToPersonio,
        Some("to_timetrack") => Direction::ToTimeTrack,
        Some(other) => {
            problems.push(FieldProblem {
                field: "direction".into(),
                message: format!(
                    "unknown direction {other:?}: expected both, to_personio or to_timetrack"
                ),
            });
            Direction::Both
        }
    }
}

/// `[from, to]` when it is a period of at most `max_days` days; otherwise the problem, on `to`.
fn bounded_window(
    from: Date,
    to: Date,
    max_days: u32,
    problems: &mut Vec<FieldProblem>,
) -> Option<DateWindow> {
    match DateWindow::new(from, to) {
        Ok(w) if w.days() > i64::from(max_days) => {
            problems.push(FieldProblem {
                field: "to".into(),
                message: format!(
                    "the period {w} has {} days; at most {max_days} are allowed",
                    w.days()
                ),
            });
            None
        }
        Ok(w) => Some(w),
        Err(e) => {
            problems.push(FieldProblem {
                field: "to".into(),
                message: format!("\"from\" must not be after \"to\" ({e})"),
            });
            None
        }
    }
}

fn parse_date(field: &str, value: Option<&str>, problems: &mut Vec<FieldProblem>) -> Option<Date> {
    let value = value?;
    let ok = value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    match value.parse::<Date>() {
        Ok(d) if ok => Some(d),
        _ => {
            problems.push(FieldProblem {
                field: field.to_string(),
                message: format!("{value:?} is not a date of the form YYYY-MM-DD"),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2026, 11, 27);

    #[test]
    fn empty_body_means_scheduled_window_both_ways_for_real() {
        for body in [None, Some(""), Some("  "), Some("{}")] {
            let m = ManualSync::parse(body, TODAY, 366).unwrap();
            assert_eq!(m.window, None);
            assert_eq!(m.direction, Direction::Both);
            assert!(!m.dry_run);
            assert!(m.selection.is_empty());
        }
    }

    #[test]
    fn a_payroll_push_is_parsed() {
        let m = ManualSync::parse(
            Some(r#"{"from":"2026-10-01","to":"2026-10-31","direction":"to_personio","dry_run":true}"#),
            TODAY,
            366,
        )
        .unwrap();
        assert_eq!(
            m.window,
            Some(DateWindow::new(date(2026, 10, 1), date(2026, 10, 31)).unwrap())
        );
        assert_eq!(m.direction, Direction::ToPersonio);
        assert!(m.dry_run);
    }

    #[test]
    fn from_alone_runs_until_today() {
        let m = ManualSync::parse(Some(r#"{"from":"2026-11-01"}"#), TODAY, 366).unwrap();
        assert_eq!(m.window.unwrap().to, TODAY);
        let future = ManualSync::parse(Some(r#"{"from":"2027-01-10"}"#), TODAY, 366).unwrap();
        assert_eq!(future.window.unwrap().to, date(2027, 1, 10));
    }

    #[test]
    fn every_problem_is_listed() {
        let err = ManualSync::parse(
            Some(r#"{"from":"2026-13-01","to":"31.10.2026","direction":"sideways"}"#),
            TODAY,
            366,
        )
        .unwrap_err();
        assert_eq!(err.status, 400);
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["from", "to", "direction"]);
    }

    /// Issue 12 §2: an invalid `from` beside a valid `to` is reported as what it is, once, and not as
    /// "`to` was given without `from`".
    #[test]
    fn an_invalid_from_gets_its_own_error() {
        let err = ManualSync::parse(
            Some(r#"{"from":"2026-02-30","to":"2026-10-31"}"#),
            TODAY,
            366,
        )
        .unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.errors.len(), 1, "{:?}", err.errors);
        assert_eq!(err.errors[0].field, "from");
        assert!(!err.errors[0].message.contains("without"), "{err}");
        assert!(err.errors[0].message.contains("2026-02-30"), "{err}");
    }

    #[test]
    fn reversed_and_too_long_periods_are_rejected() {
        let reversed = ManualSync::parse(
            Some(r#"{"from":"2026-10-31","to":"2026-10-01"}"#),
            TODAY,
            366,
        )
        .unwrap_err();
        assert!(reversed.detail.contains("must not be after"), "{reversed}");
        let long = ManualSync::parse(
            Some(r#"{"from":"2024-01-01","to":"2026-01-01"}"#),
            TODAY,
            366,
        )
        .unwrap_err();
        assert!(long.detail.contains("at most 366"), "{long}");
        let to_only = ManualSync::parse(Some(r#"{"to":"2026-10-01"}"#), TODAY, 366).unwrap_err();
        assert_eq!(to_only.errors[0].field, "from");
    }

    #[test]
    fn malformed_json_and_unknown_fields_are_400_not_guesses() {
        let bad = ManualSync::parse(Some("{"), TODAY, 366).unwrap_err();
        assert_eq!(bad.status, 400);
        let typo = ManualSync::parse(Some(r#"{"dryrun":true}"#), TODAY, 366).unwrap_err();
        assert!(typo.detail.contains("dryrun"), "{typo}");
        let wrong_type = ManualSync::parse(Some(r#"{"dry_run":"yes"}"#), TODAY, 366).unwrap_err();
        assert_eq!(wrong_type.status, 400);
    }

    /// Issue 12 §4: `null` is not a value of any field (the document declares none nullable); it used
    /// to be read as "absent", so `"dry_run": null` ran for real.
    #[test]
    fn null_is_refused_for_every_field() {
        for field in [
            "from",
            "to",
            "direction",
            "dry_run",
            "import_person_ids",
            "export_user_ids",
        ] {
            let body = format!(r#"{{"{field}": null}}"#);
            let err = ManualSync::parse(Some(&body), TODAY, 366).unwrap_err();
            assert_eq!(
                (err.status, err.type_uri.ends_with("invalid-body")),
                (400, true),
                "{field}: {err}"
            );
            assert!(err.detail.contains("null"), "{field}: {err}");
        }
    }

    #[test]
    fn explicit_employee_selection_is_kept() {
        let m = ManualSync::parse(
            Some(r#"{"import_person_ids":["7788"],"export_user_ids":[42]}"#),
            TODAY,
            366,
        )
        .unwrap();
        assert_eq!(m.selection.import_person_ids, ["7788"]);
        assert_eq!(m.selection.export_user_ids, [42]);
    }
}
