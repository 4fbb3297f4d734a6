//! Query filters of Personio's list endpoints, and how they are spelled on the wire.
//!
//! Attendance and absence date-time filters are LOCAL wall-clock times without offset: Personio answers
//! 400 "Invalid request content" to `...Z` there. Person filters are UTC instants with `Z`.
use jiff::civil::DateTime;
use jiff::Timestamp;
use url::Url;

use super::types::{AttendanceStatus, PersonStatus};
use crate::connectors::lenient::format_local_datetime;

/// Page size limits per endpoint (the reference's maxima: larger values are refused with 400).
pub const MAX_PERSONS_LIMIT: u32 = 50;
pub const MAX_PERIODS_LIMIT: u32 = 100;

/// Filters of GET /v2/persons. Empty fields are not sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonFilter {
    pub ids: Vec<String>,
    /// Matched by Personio as given; e-mail case handling is the caller's business.
    pub emails: Vec<String>,
    pub status: Option<PersonStatus>,
    /// `updated_at.gt`
    pub updated_after: Option<Timestamp>,
    /// `created_at.gt`
    pub created_after: Option<Timestamp>,
    /// Page size, 1–50 (default 50).
    pub limit: Option<u32>,
}

/// Filters of GET /v2/attendance-periods. Date-times are local wall-clock times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttendanceFilter {
    pub person_ids: Vec<String>,
    /// `start.date_time.gte`: periods starting at or after.
    pub start_from: Option<DateTime>,
    /// `start.date_time.lte`: periods starting at or before.
    pub start_to: Option<DateTime>,
    /// `updated_at.gte` (local date-time, as the endpoint demands).
    pub updated_from: Option<DateTime>,
    /// `updated_at.lte`
    pub updated_to: Option<DateTime>,
    pub status: Option<AttendanceStatus>,
    /// Page size, 1–100 (default 100).
    pub limit: Option<u32>,
}

/// Filters of GET /v2/absence-periods. Personio matches date ranges by overlap. Date-times are local.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AbsenceFilter {
    pub person_ids: Vec<String>,
    /// `absence_type.id`
    pub absence_type_id: Option<String>,
    /// `starts_from.date_time.gte`
    pub starts_from_gte: Option<DateTime>,
    /// `starts_from.date_time.lte`
    pub starts_from_lte: Option<DateTime>,
    /// `ends_at.date_time.gte`
    pub ends_at_gte: Option<DateTime>,
    /// `ends_at.date_time.lte`
    pub ends_at_lte: Option<DateTime>,
    /// `updated_at.gte`
    pub updated_from: Option<DateTime>,
    /// `updated_at.lte`
    pub updated_to: Option<DateTime>,
    /// Page size, 1–100 (default 100).
    pub limit: Option<u32>,
}

fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn limit(requested: Option<u32>, max: u32) -> String {
    requested.unwrap_or(max).clamp(1, max).to_string()
}

/// Appends `key=value` for each present value; lists are comma-separated (the documented form).
struct Query<'a>(url::form_urlencoded::Serializer<'a, url::UrlQuery<'a>>);

impl Query<'_> {
    fn list(&mut self, key: &str, values: &[String]) -> &mut Self {
        if !values.is_empty() {
            self.0.append_pair(key, &values.join(","));
        }
        self
    }
    fn opt(&mut self, key: &str, value: Option<String>) -> &mut Self {
        if let Some(v) = value {
            self.0.append_pair(key, &v);
        }
        self
    }
}

impl PersonFilter {
    pub(crate) fn apply(&self, url: &mut Url) {
        let mut q = Query(url.query_pairs_mut());
        q.opt("limit", Some(limit(self.limit, MAX_PERSONS_LIMIT)))
            .list("id", &self.ids)
            .list("email", &self.emails)
            .opt(
                "status",
                self.status.as_ref().map(|s| s.as_str().to_string()),
            )
            .opt("updated_at.gt", self.updated_after.map(utc))
            .opt("created_at.gt", self.created_after.map(utc));
    }
}

impl AttendanceFilter {
    pub(crate) fn apply(&self, url: &mut Url) {
        let mut q = Query(url.query_pairs_mut());
        q.opt("limit", Some(limit(self.limit, MAX_PERIODS_LIMIT)))
            .list("person.id", &self.person_ids)
            .opt(
                "start.date_time.gte",
                self.start_from.map(format_local_datetime),
            )
            .opt(
                "start.date_time.lte",
                self.start_to.map(format_local_datetime),
            )
            .opt(
                "updated_at.gte",
                self.updated_from.map(format_local_datetime),
            )
            .opt("updated_at.lte", self.updated_to.map(format_local_datetime))
            .opt(
                "status",
                self.status.as_ref().map(|s| s.as_str().to_string()),
            );
    }
}

impl AbsenceFilter {
    pub(crate) fn apply(&self, url: &mut Url) {
        let mut q = Query(url.query_pairs_mut());
        q.opt("limit", Some(limit(self.limit, MAX_PERIODS_LIMIT)))
            .list("person.id", &self.person_ids)
            .opt("absence_type.id", self.absence_type_id.clone())
            .opt(
                "starts_from.date_time.gte",
                self.starts_from_gte.map(format_local_datetime),
            )
            .opt(
                "starts_from.date_time.lte",
                self.starts_from_lte.map(format_local_datetime),
            )
            .opt(
                "ends_at.date_time.gte",
                self.ends_at_gte.map(format_local_datetime),
            )
            .opt(
                "ends_at.date_time.lte",
                self.ends_at_lte.map(format_local_datetime),
            )
            .opt(
                "updated_at.gte",
                self.updated_from.map(format_local_datetime),
            )
            .opt("updated_at.lte", self.updated_to.map(format_local_datetime));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn pairs(url: &Url) -> Vec<(String, String)> {
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn attendance_filters_are_local_without_offset() {
        let mut url = Url::parse("http://h/v2/attendance-periods").unwrap();
        AttendanceFilter {
            person_ids: vec!["1".into(), "2".into()],
            start_from: Some(date(2025, 3, 1).at(0, 0, 0, 0)),
            start_to: Some(date(2025, 3, 31).at(23, 59, 59, 500_000_000)),
            status: Some(AttendanceStatus::Confirmed),
            ..Default::default()
        }
        .apply(&mut url);
        assert_eq!(
            pairs(&url),
            vec![
                ("limit".into(), "100".into()),
                ("person.id".into(), "1,2".into()),
                ("start.date_time.gte".into(), "2025-03-01T00:00:00".into()),
                ("start.date_time.lte".into(), "2025-03-31T23:59:59".into()),
                ("status".into(), "CONFIRMED".into()),
            ]
        );
    }

    #[test]
    fn person_filters_use_utc_and_clamp_the_page_size() {
        let mut url = Url::parse("http://h/v2/persons").unwrap();
        PersonFilter {
            emails: vec!["lena.vogt@example.com".into()],
            updated_after: Some("2025-01-10T14:02:11.5Z".parse().unwrap()),
            limit: Some(500),
            ..Default::default()
        }
        .apply(&mut url);
        assert_eq!(
            pairs(&url),
            vec![
                ("limit".into(), "50".into()),
                ("email".into(), "lena.vogt@example.com".into()),
                ("updated_at.gt".into(), "2025-01-10T14:02:11Z".into()),
            ]
        );
    }

    #[test]
    fn absence_filters_name_every_range_bound() {
        let mut url = Url::parse("http://h/v2/absence-periods").unwrap();
        let day = date(2025, 7, 14).at(0, 0, 0, 0);
        AbsenceFilter {
            absence_type_id: Some("abc".into()),
            starts_from_lte: Some(day),
            ends_at_gte: Some(day),
            limit: Some(0),
            ..Default::default()
        }
        .apply(&mut url);
        assert_eq!(
            pairs(&url),
            vec![
                ("limit".into(), "1".into()),
                ("absence_type.id".into(), "abc".into()),
                (
                    "starts_from.date_time.lte".into(),
                    "2025-07-14T00:00:00".into()
                ),
                ("ends_at.date_time.gte".into(), "2025-07-14T00:00:00".into()),
            ]
        );
    }
}
