//! The Personio v2 resource routes. Handlers parse the wire request, check it against the state's
//! rules, and answer in Personio's shapes (bare objects, `{_data,_meta}` pages, 201 created, 204).

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::auth;
use super::model::*;
use super::state::{bump, default_employment, new_uuid, now_seconds, PersonioState, WriteError};
use super::wire::*;
use super::PersonioShared;

type Sim = State<Arc<PersonioShared>>;

pub(crate) fn router() -> Router<Arc<PersonioShared>> {
    Router::new()
        .route("/v2/auth/token", post(auth::token))
        .route("/v2/auth/revoke", post(auth::revoke))
        .route("/v2/persons", get(list_persons).post(create_person))
        .route(
            "/v2/persons/{id}",
            get(get_person).patch(patch_person).delete(delete_person),
        )
        .route("/v2/persons/{id}/employments", get(list_employments))
        .route(
            "/v2/persons/{id}/employments/{employment_id}",
            get(get_employment).patch(patch_employment),
        )
        .route(
            "/v2/attendance-periods",
            get(list_attendance).post(create_attendance),
        )
        .route(
            "/v2/attendance-periods/{id}",
            get(get_attendance)
                .patch(patch_attendance)
                .delete(delete_attendance),
        )
        .route("/v2/absence-types", get(list_absence_types))
        .route("/v2/absence-types/{id}", get(get_absence_type))
        .route(
            "/v2/absence-periods",
            get(list_absences).post(create_absence),
        )
        .route(
            "/v2/absence-periods/{id}",
            get(get_absence).patch(patch_absence).delete(delete_absence),
        )
        .merge(super::webhook_routes::router())
        .fallback(unknown_route)
}

async fn unknown_route(uri: axum::http::Uri) -> Response {
    problem(
        404,
        "Not Found",
        &format!("The endpoint with {} was not found.", uri.path()),
    )
}

fn invalid_params() -> Response {
    bad_request("Provided request parameters are invalid.")
}

fn invalid_encoding() -> Response {
    bad_request("Provided filter encoding is invalid.")
}

/// Parses a JSON object body; anything else is 400 "Invalid JSON".
fn json_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(problem(
            400,
            "Invalid JSON",
            "The request body is not valid JSON.",
        )),
    }
}

/// `skip_approval` query flag (default false).
fn skip_approval(raw_query: Option<&str>) -> Result<bool, Response> {
    match query_pairs(raw_query)
        .into_iter()
        .find(|(k, _)| k == "skip_approval")
    {
        None => Ok(false),
        Some((_, v)) if v == "true" => Ok(true),
        Some((_, v)) if v == "false" => Ok(false),
        Some(_) => Err(invalid_params()),
    }
}

/// Splits `created_at.gt` into (`created_at`, Some(`gt`)).
fn split_key(key: &str, bases: &[&str]) -> (String, Option<String>) {
    for base in bases {
        if key == *base {
            return (key.to_string(), None);
        }
        if let Some(op) = key
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('.'))
        {
            return (base.to_string(), Some(op.to_string()));
        }
    }
    (key.to_string(), None)
}

// ===================== persons =====================

#[derive(Default)]
struct InstantRange {
    eq: Option<Timestamp>,
    gt: Option<Timestamp>,
    lt: Option<Timestamp>,
}

impl InstantRange {
    fn set(&mut self, op: Option<&str>, value: &str) -> Result<(), Response> {
        let slot = match op {
            None => &mut self.eq,
            Some("gt") => &mut self.gt,
            Some("lt") => &mut self.lt,
            Some(_) => return Err(invalid_encoding()),
        };
        *slot = Some(parse_timestamp(value).ok_or_else(invalid_params)?);
        Ok(())
    }

    fn contains(&self, t: Timestamp) -> bool {
        self.eq.is_none_or(|x| t == x)
            && self.gt.is_none_or(|x| t > x)
            && self.lt.is_none_or(|x| t < x)
    }
}

#[derive(Default)]
struct PersonFilter {
    ids: Option<BTreeSet<String>>,
    emails: Option<BTreeSet<String>>,
    first_name: Option<String>,
    last_name: Option<String>,
    preferred_name: Option<String>,
    status: Option<String>,
    created_at: InstantRange,
    updated_at: InstantRange,
}

impl PersonFilter {
    fn parse(filters: &[(String, String)]) -> Result<PersonFilter, Response> {
        let mut f = PersonFilter::default();
        let bases = [
            "id",
            "email",
            "first_name",
            "last_name",
            "preferred_name",
            "status",
            "created_at",
            "updated_at",
        ];
        for (key, value) in filters {
            let (base, op) = split_key(key, &bases);
            if !bases.contains(&base.as_str()) {
                return Err(if key.contains('.') {
                    invalid_encoding()
                } else {
                    invalid_params()
                });
            }
            match (base.as_str(), op.as_deref()) {
                ("created_at", op) => f.created_at.set(op, value)?,
                ("updated_at", op) => f.updated_at.set(op, value)?,
                (_, Some(_)) => return Err(invalid_encoding()),
                ("id", None) => f.ids.get_or_insert_default().extend(comma_list(value)),
                ("email", None) => f
                    .emails
                    .get_or_insert_default()
                    .extend(comma_list(value).map(|e| e.to_lowercase())),
                ("first_name", None) => f.first_name = Some(value.clone()),
                ("last_name", None) => f.last_name = Some(value.clone()),
                ("preferred_name", None) => f.preferred_name = Some(value.clone()),
                ("status", None) => {
                    if value != "ACTIVE" && value != "INACTIVE" {
                        return Err(invalid_params());
                    }
                    f.status = Some(value.clone());
                }
                _ => return Err(invalid_params()),
            }
        }
        Ok(f)
    }

    fn matches(&self, state: &PersonioState, p: &Person) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&p.id))
            && self.emails.as_ref().is_none_or(|emails| {
                p.email
                    .as_ref()
                    .is_some_and(|e| emails.contains(&e.to_lowercase()))
            })
            && self.first_name.as_ref().is_none_or(|n| *n == p.first_name)
            && self.last_name.as_ref().is_none_or(|n| *n == p.last_name)
            && self
                .preferred_name
                .as_ref()
                .is_none_or(|n| Some(n) == p.preferred_name.as_ref())
            && self
                .status
                .as_ref()
                .is_none_or(|s| s == state.person_status(&p.id))
            && self.created_at.contains(p.created_at)
            && self.updated_at.contains(p.updated_at)
    }
}

async fn list_persons(State(sim): Sim, RawQuery(query): RawQuery) -> Response {
    let request = match list_request(query.as_deref(), 50, 10) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let filter = match PersonFilter::parse(&request.filters) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let state = sim.state();
    let items: Vec<_> = state
        .persons_in_order()
        .into_iter()
        .filter(|p| filter.matches(&state, p))
        .collect();
    // Persons' `next` links are relative on purpose: clients must resolve both forms. Only the page's
    // persons are rendered (each looks up its employments): rendering every person for every page made
    // listing a company of 5,000 cubic in its size.
    json_ok(&page_of(
        items,
        |p| render_person(&state, p, &sim.base_url),
        &request,
        &sim.base_url,
        "/v2/persons",
        query.as_deref(),
        true,
    ))
}

async fn get_person(State(sim): Sim, Path(id): Path<String>) -> Response {
    let state = sim.state();
    match state.persons.get(&id) {
        Some(p) => json_ok(&render_person(&state, p, &sim.base_url)),
        None => not_found(),
    }
}

/// Maps the write enum of `gender` onto the read enum.
fn gender_from_write(value: &Value) -> Result<String, Response> {
    match value {
        Value::Null => Ok("UNSPECIFIED".to_string()),
        Value::String(s) => match s.as_str() {
            "MALE" | "FEMALE" | "DIVERSE" => Ok(s.clone()),
            "UNKNOWN" | "UNDEFINED" | "UNSPECIFIED" => Ok("UNSPECIFIED".to_string()),
            _ => Err(bad_request("Invalid gender.")),
        },
        _ => Err(bad_request("Invalid gender.")),
    }
}

/// The attribute definitions known to the company: those seen on any person.
fn attribute_definition(state: &PersonioState, id: &str) -> Option<CustomAttribute> {
    state
        .persons
        .values()
        .flat_map(|p| p.custom_attributes.iter())
        .find(|a| a.id == id)
        .cloned()
}

/// Applies the writable person fields of a POST/PATCH body to `person`.
fn apply_person_fields(
    state: &PersonioState,
    person: &mut Person,
    body: &Map<String, Value>,
) -> Result<(), Response> {
    for (key, value) in body {
        match key.as_str() {
            "email" => {
                let email = match value {
                    Value::Null => None,
                    Value::String(s) if s.contains('@') => Some(s.clone()),
                    _ => return Err(bad_request("Invalid email.")),
                };
                if let Some(email) = &email {
                    if state
                        .person_id_by_email(email)
                        .is_some_and(|other| other != person.id)
                    {
                        return Err(bad_request("The email is already used by another person."));
                    }
                }
                person.email = email;
            }
            "first_name" | "last_name" => {
                let Some(name) = value.as_str().filter(|s| !s.trim().is_empty()) else {
                    return Err(bad_request(&format!("Invalid {key}.")));
                };
                if key == "first_name" {
                    person.first_name = name.to_string();
                } else {
                    person.last_name = name.to_string();
                }
            }
            "preferred_name" => person.preferred_name = value.as_str().map(str::to_string),
            "gender" => person.gender = gender_from_write(value)?,
            "language_code" => {
                person.language_code = match value {
                    Value::Null => None,
                    Value::String(s)
                        if ["en", "de", "es", "fr", "nl", "it", "sv", "fi"]
                            .contains(&s.as_str()) =>
                    {
                        Some(s.clone())
                    }
                    _ => return Err(bad_request("Invalid language_code.")),
                }
            }
            "custom_attributes" => {
                let Some(items) = value.as_array() else {
                    return Err(bad_request("Invalid custom_attributes."));
                };
                for item in items {
                    let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
                    let Some(mut definition) = attribute_definition(state, id) else {
                        return Err(bad_request(&format!("Unknown custom attribute {id}.")));
                    };
                    definition.value = item.get("value").cloned().unwrap_or(Value::Null);
                    person.custom_attributes.retain(|a| a.id != id);
                    person.custom_attributes.push(definition);
                }
            }
            "employments" => {}
            _ => return Err(bad_request(&format!("Unknown field {key}."))),
        }
    }
    Ok(())
}

async fn create_person(State(sim): Sim, body: Bytes) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    for required in ["first_name", "last_name"] {
        if body
            .get(required)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            return bad_request(&format!("Missing required parameter {required}."));
        }
    }
    let mut state = sim.state();
    let now = now_seconds();
    let id = state.next_person_id();
    let mut person = Person {
        id: id.clone(),
        email: None,
        first_name: String::new(),
        last_name: String::new(),
        preferred_name: None,
        gender: "UNSPECIFIED".to_string(),
        language_code: None,
        custom_attributes: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = apply_person_fields(&state, &mut person, &body) {
        return e;
    }
    let today = now.to_zoned(company_zone(&state)).date();
    let mut employment = default_employment(&id, today, now);
    if let Some(first) = body
        .get("employments")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        let Some(fields) = first.as_object() else {
            return bad_request("Invalid employments.");
        };
        match patched_employment(&employment, fields) {
            Ok(e) => employment = e,
            Err(e) => return e,
        }
    }
    let employment_id = employment.id.clone();
    state.persons.insert(id.clone(), person);
    state.employments.insert(employment.id.clone(), employment);
    state.emit("person.created", &id, &id);
    state.emit("employment.created", &employment_id, &id);
    created(&id, format!("{}/v2/persons/{id}", sim.base_url))
}

async fn patch_person(State(sim): Sim, Path(id): Path<String>, body: Bytes) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut state = sim.state();
    let Some(mut person) = state.persons.get(&id).cloned() else {
        return not_found();
    };
    if body.contains_key("employments") {
        return bad_request("Unknown field employments.");
    }
    if let Err(e) = apply_person_fields(&state, &mut person, &body) {
        return e;
    }
    person.updated_at = bump(person.updated_at);
    state.persons.insert(id.clone(), person);
    state.emit("person.updated", &id, &id);
    no_content()
}

async fn delete_person(State(sim): Sim, Path(id): Path<String>) -> Response {
    if sim.state().delete_person(&id) {
        no_content()
    } else {
        not_found()
    }
}

fn company_zone(state: &PersonioState) -> TimeZone {
    TimeZone::get(&state.company_time_zone).unwrap_or(TimeZone::UTC)
}

// ===================== employments =====================

async fn list_employments(
    State(sim): Sim,
    Path(person_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let request = match list_request(query.as_deref(), 50, 10) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut ids: Option<BTreeSet<String>> = None;
    let mut updated = InstantRange::default();
    for (key, value) in &request.filters {
        let (base, op) = split_key(key, &["id", "updated_at"]);
        match (base.as_str(), op.as_deref()) {
            ("id", None) => ids.get_or_insert_default().extend(comma_list(value)),
            ("updated_at", op) => {
                if let Err(e) = updated.set(op, value) {
                    return e;
                }
            }
            _ => return invalid_encoding(),
        }
    }
    let state = sim.state();
    if !state.persons.contains_key(&person_id) {
        return not_found();
    }
    let items = state
        .employments_of(&person_id)
        .into_iter()
        .filter(|e| ids.as_ref().is_none_or(|ids| ids.contains(&e.id)))
        .filter(|e| updated.contains(e.updated_at))
        .map(|e| render_employment(e, &sim.base_url))
        .collect();
    let path = format!("/v2/persons/{person_id}/employments");
    json_ok(&page(
        items,
        &request,
        &sim.base_url,
        &path,
        query.as_deref(),
        false,
    ))
}

async fn get_employment(
    State(sim): Sim,
    Path((person_id, employment_id)): Path<(String, String)>,
) -> Response {
    let state = sim.state();
    match state.employments.get(&employment_id) {
        Some(e) if e.person.id == person_id => json_ok(&render_employment(e, &sim.base_url)),
        _ => not_found(),
    }
}

/// The employment fields a PATCH may write; others are refused with 400.
const EMPLOYMENT_WRITABLE: &[&str] = &[
    "supervisor",
    "office",
    "org_units",
    "legal_entity",
    "position",
    "status",
    "employment_start_date",
    "type",
    "contract_end_date",
    "probation_end_date",
    "weekly_working_hours",
    "full_time_weekly_working_hours",
    "cost_centers",
    "job",
];

/// Merges writable fields into a copy of `employment` (type-checked by deserialising the result).
fn patched_employment(
    employment: &Employment,
    fields: &Map<String, Value>,
) -> Result<Employment, Response> {
    let mut value = to_value(employment);
    for (key, field) in fields {
        match key.as_str() {
            // Accepted and ignored: deprecated, or an alternative to `probation_end_date`.
            "subcompany" | "probation_period_length" => {}
            k if EMPLOYMENT_WRITABLE.contains(&k) => {
                let field = if k == "org_units" || k == "cost_centers" {
                    if field.is_null() {
                        Value::Array(Vec::new())
                    } else {
                        field.clone()
                    }
                } else {
                    field.clone()
                };
                if k == "status" && field == "UNSPECIFIED" {
                    return Err(bad_request("Invalid status."));
                }
                if k == "type" && !matches!(field.as_str(), Some("INTERNAL" | "EXTERNAL")) {
                    return Err(bad_request("Invalid type."));
                }
                value[k] = field;
            }
            _ => return Err(bad_request(&format!("Field {key} cannot be written."))),
        }
    }
    serde_json::from_value(value).map_err(|e| bad_request(&format!("Invalid employment: {e}")))
}

async fn patch_employment(
    State(sim): Sim,
    Path((person_id, employment_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut state = sim.state();
    let Some(employment) = state
        .employments
        .get(&employment_id)
        .filter(|e| e.person.id == person_id)
    else {
        return not_found();
    };
    let mut updated = match patched_employment(employment, &body) {
        Ok(e) => e,
        Err(e) => return e,
    };
    updated.updated_at = bump(updated.updated_at);
    state.employments.insert(employment_id.clone(), updated);
    if let Some(person) = state.persons.get_mut(&person_id) {
        person.updated_at = bump(person.updated_at);
    }
    state.emit("employment.updated", &employment_id, &person_id);
    no_content()
}

// ===================== attendance periods =====================

fn invalid_content() -> Response {
    bad_request("Invalid request content.")
}

/// A local date-time filter value; `Z`/offsets and garbage are "Invalid request content.".
fn local_filter(value: &str) -> Result<DateTime, Response> {
    parse_local_date_time(value).map_err(|_| invalid_content())
}

#[derive(Default)]
struct LocalRange {
    gte: Option<DateTime>,
    lte: Option<DateTime>,
}

impl LocalRange {
    fn contains(&self, t: DateTime) -> bool {
        self.gte.is_none_or(|x| t >= x) && self.lte.is_none_or(|x| t <= x)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortField {
    Person,
    Start,
    End,
    UpdatedAt,
    Status,
}

#[derive(Default)]
struct AttendanceFilter {
    ids: Option<BTreeSet<String>>,
    persons: Option<BTreeSet<String>>,
    projects: Option<BTreeSet<String>>,
    statuses: Option<BTreeSet<String>>,
    start: LocalRange,
    end: LocalRange,
    updated: LocalRange,
    attribution_gte: Option<Date>,
    attribution_lte: Option<Date>,
    sort: Vec<(SortField, bool)>,
}

impl AttendanceFilter {
    fn parse(filters: &[(String, String)]) -> Result<AttendanceFilter, Response> {
        let mut f = AttendanceFilter::default();
        for (key, value) in filters {
            match key.as_str() {
                "id" => f.ids.get_or_insert_default().extend(comma_list(value)),
                "person.id" => f.persons.get_or_insert_default().extend(comma_list(value)),
                "project.id" => f.projects.get_or_insert_default().extend(comma_list(value)),
                "status" => {
                    for s in comma_list(value) {
                        if !["PENDING", "CONFIRMED", "REJECTED", "EXPIRED"].contains(&s.as_str()) {
                            return Err(invalid_content());
                        }
                        f.statuses.get_or_insert_default().insert(s);
                    }
                }
                "start.date_time.gte" => f.start.gte = Some(local_filter(value)?),
                "start.date_time.lte" => f.start.lte = Some(local_filter(value)?),
                "end.date_time.gte" => f.end.gte = Some(local_filter(value)?),
                "end.date_time.lte" => f.end.lte = Some(local_filter(value)?),
                "updated_at.gte" => f.updated.gte = Some(local_filter(value)?),
                "updated_at.lte" => f.updated.lte = Some(local_filter(value)?),
                "attribution_date.gte" => {
                    f.attribution_gte = Some(value.parse().map_err(|_| invalid_content())?)
                }
                "attribution_date.lte" => {
                    f.attribution_lte = Some(value.parse().map_err(|_| invalid_content())?)
                }
                "sort" => {
                    for field in comma_list(value) {
                        let (desc, name) = match field.strip_prefix('-') {
                            Some(rest) => (true, rest.to_string()),
                            None => (false, field.clone()),
                        };
                        let parsed = match name.as_str() {
                            "person.id" => SortField::Person,
                            "start.date_time" => SortField::Start,
                            "end.date_time" => SortField::End,
                            "updated_at" => SortField::UpdatedAt,
                            "status" => SortField::Status,
                            _ => return Err(invalid_content()),
                        };
                        f.sort.push((parsed, desc));
                    }
                }
                _ => return Err(invalid_content()),
            }
        }
        if f.sort.is_empty() {
            f.sort = vec![
                (SortField::Person, false),
                (SortField::Start, false),
                (SortField::End, false),
            ];
        }
        Ok(f)
    }

    fn matches(&self, a: &AttendancePeriod, zone: &TimeZone) -> bool {
        let updated_local = a.updated_at.to_zoned(zone.clone()).datetime();
        self.ids.as_ref().is_none_or(|s| s.contains(&a.id))
            && self
                .persons
                .as_ref()
                .is_none_or(|s| s.contains(&a.person.id))
            && self
                .projects
                .as_ref()
                .is_none_or(|s| a.project.as_ref().is_some_and(|p| s.contains(&p.id)))
            && self.statuses.as_ref().is_none_or(|s| {
                s.contains(to_value(&a.approval.status).as_str().unwrap_or_default())
            })
            && self.start.contains(a.start.date_time)
            && match a.end {
                Some(end) => self.end.contains(end.date_time),
                None => self.end.gte.is_none() && self.end.lte.is_none(),
            }
            && self.updated.contains(updated_local)
            && self.attribution_gte.is_none_or(|d| a.attribution_date >= d)
            && self.attribution_lte.is_none_or(|d| a.attribution_date <= d)
    }

    fn compare(&self, a: &AttendancePeriod, b: &AttendancePeriod) -> Ordering {
        for (field, desc) in &self.sort {
            let ordering = match field {
                SortField::Person => {
                    (a.person.id.len(), &a.person.id).cmp(&(b.person.id.len(), &b.person.id))
                }
                SortField::Start => a.start.cmp(&b.start),
                // Nulls last ascending, first descending: compare with None as the greatest.
                SortField::End => match (a.end, b.end) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                },
                SortField::UpdatedAt => a.updated_at.cmp(&b.updated_at),
                SortField::Status => a.approval.status.cmp(&b.approval.status),
            };
            let ordering = if *desc { ordering.reverse() } else { ordering };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        a.id.cmp(&b.id)
    }
}

async fn list_attendance(State(sim): Sim, RawQuery(query): RawQuery) -> Response {
    let request = match list_request(query.as_deref(), 100, 100) {
        Ok(r) => r,
        Err(_) => return invalid_content(),
    };
    let filter = match AttendanceFilter::parse(&request.filters) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let state = sim.state();
    let listing = pinned(&request, state.attendance_periods.len(), || {
        let zone = company_zone(&state);
        let mut periods: Vec<&AttendancePeriod> = state
            .attendance_periods
            .values()
            .filter(|a| filter.matches(a, &zone))
            .collect();
        periods.sort_by(|a, b| filter.compare(a, b));
        periods.into_iter().map(|a| a.id.clone()).collect()
    });
    json_ok(&pinned_page(
        listing,
        |id| state.attendance_periods.get(id),
        to_value,
        &request,
        &sim.base_url,
        "/v2/attendance-periods",
        query.as_deref(),
        false,
    ))
}

async fn get_attendance(State(sim): Sim, Path(id): Path<String>) -> Response {
    match sim.state().attendance_periods.get(&id) {
        Some(a) => json_ok(&to_value(a)),
        None => not_found(),
    }
}

/// Reads `{ "date_time": ... }` from an attendance body field.
fn attendance_time(body: &Map<String, Value>, field: &str) -> Result<Option<LocalTime>, Response> {
    let invalid = || problem(400, "Bad request", &format!("Invalid {field} field"));
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let text = value
                .get("date_time")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?;
            let date_time = parse_local_date_time(text).map_err(|_| invalid())?;
            Ok(Some(LocalTime { date_time }))
        }
    }
}

fn optional_ref(body: &Map<String, Value>, field: &str) -> Result<Option<IdRef>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.get("id") {
            Some(Value::String(id)) => Ok(Some(IdRef::new(id.clone()))),
            Some(Value::Number(n)) => Ok(Some(IdRef::new(n.to_string()))),
            _ => Err(bad_request(&format!("Invalid {field} field"))),
        },
    }
}

fn optional_text(body: &Map<String, Value>, field: &str) -> Result<Option<String>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad_request(&format!("Invalid {field} field"))),
    }
}

async fn create_attendance(State(sim): Sim, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let skip = match skip_approval(query.as_deref()) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if ["person", "type", "start"]
        .iter()
        .any(|k| body.get(*k).is_none_or(Value::is_null))
    {
        return problem(400, "Bad request", "Missing required parameters");
    }
    let kind = match body.get("type").and_then(Value::as_str) {
        Some("WORK") => AttendanceType::Work,
        Some("BREAK") => AttendanceType::Break,
        _ => return problem(400, "Bad request", "Invalid type field"),
    };
    let parsed = (|| {
        let person =
            optional_ref(&body, "person")?.ok_or_else(|| bad_request("Invalid person field"))?;
        let start =
            attendance_time(&body, "start")?.ok_or_else(|| bad_request("Invalid start field"))?;
        Ok::<_, Response>((
            person,
            start,
            attendance_time(&body, "end")?,
            optional_text(&body, "comment")?,
            optional_ref(&body, "project")?,
        ))
    })();
    let (person, start, end, comment, project) = match parsed {
        Ok(p) => p,
        Err(e) => return e,
    };
    let now = now_seconds();
    let id = new_uuid();
    let period = AttendancePeriod {
        id: id.clone(),
        kind,
        person,
        start,
        end,
        attribution_date: start.date_time.date(),
        comment,
        project,
        approval: Approval {
            status: if skip {
                AttendanceStatus::Confirmed
            } else {
                AttendanceStatus::Pending
            },
        },
        is_auto_generated: false,
        created_at: now,
        updated_at: now,
    };
    let mut state = sim.state();
    if let Err(e) = state.validate_attendance(&period, None) {
        return e.into();
    }
    let person_id = period.person.id.clone();
    state.insert_attendance(period);
    state.emit("attendance-period.created", &id, &person_id);
    created(&id, format!("{}/v2/attendance-periods/{id}", sim.base_url))
}

fn approved_period_error() -> WriteError {
    WriteError::unprocessable(
        "Period is approved",
        "The attendance period is approved and can no longer be changed.",
    )
}

async fn patch_attendance(
    State(sim): Sim,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let skip = match skip_approval(query.as_deref()) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut state = sim.state();
    let Some(mut period) = state.attendance_periods.get(&id).cloned() else {
        return not_found();
    };
    if state.rules.lock_confirmed_attendance
        && period.approval.status == AttendanceStatus::Confirmed
    {
        return approved_period_error().into();
    }
    let applied = (|| {
        for key in body.keys() {
            match key.as_str() {
                "start" => {
                    period.start = attendance_time(&body, "start")?
                        .ok_or_else(|| bad_request("Invalid start field"))?;
                    period.attribution_date = period.start.date_time.date();
                }
                "end" => period.end = attendance_time(&body, "end")?,
                "comment" => period.comment = optional_text(&body, "comment")?,
                "project" => period.project = optional_ref(&body, "project")?,
                // The type and the person of a period cannot change.
                "type" if body.get("type") != Some(&to_value(&period.kind)) => {
                    return Err(problem(400, "Bad request", "Invalid type field"));
                }
                "person" if optional_ref(&body, "person")?.as_ref() != Some(&period.person) => {
                    return Err(bad_request("Invalid person field"));
                }
                _ => {}
            }
        }
        Ok(())
    })();
    if let Err(e) = applied {
        return e;
    }
    if let Err(e) = state.validate_attendance(&period, Some(&id)) {
        return e.into();
    }
    if skip {
        period.approval.status = AttendanceStatus::Confirmed;
    }
    period.updated_at = bump(period.updated_at);
    let person_id = period.person.id.clone();
    state.insert_attendance(period);
    state.emit("attendance-period.updated", &id, &person_id);
    no_content()
}

async fn delete_attendance(State(sim): Sim, Path(id): Path<String>) -> Response {
    let mut state = sim.state();
    let Some(period) = state.attendance_periods.get(&id) else {
        return not_found();
    };
    if state.rules.lock_confirmed_attendance
        && period.approval.status == AttendanceStatus::Confirmed
    {
        return approved_period_error().into();
    }
    state.delete_attendance(&id);
    no_content()
}

impl From<WriteError> for Response {
    fn from(error: WriteError) -> Response {
        problem(error.status, &error.title, &error.detail)
    }
}

// ===================== absence types =====================

async fn list_absence_types(State(sim): Sim, RawQuery(query): RawQuery) -> Response {
    let request = match list_request(query.as_deref(), 100, 100) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if !request.filters.is_empty() {
        return invalid_params();
    }
    let state = sim.state();
    let mut types: Vec<&AbsenceType> = state.absence_types.values().collect();
    types.sort_by(|a, b| a.name.cmp(&b.name));
    let items = types.into_iter().map(to_value).collect();
    json_ok(&page(
        items,
        &request,
        &sim.base_url,
        "/v2/absence-types",
        query.as_deref(),
        false,
    ))
}

async fn get_absence_type(State(sim): Sim, Path(id): Path<String>) -> Response {
    match sim.state().absence_types.get(&id) {
        Some(t) => json_ok(&to_value(t)),
        None => not_found(),
    }
}

// ===================== absence periods =====================

#[derive(Default)]
struct AbsenceFilter {
    ids: Option<BTreeSet<String>>,
    persons: Option<BTreeSet<String>>,
    types: Option<BTreeSet<String>>,
    /// Window bounds: an absence matches when it overlaps `[lower, upper]`.
    lower: Option<DateTime>,
    upper: Option<DateTime>,
    updated: LocalRange,
}

impl AbsenceFilter {
    fn parse(filters: &[(String, String)]) -> Result<AbsenceFilter, Response> {
        let mut f = AbsenceFilter::default();
        for (key, value) in filters {
            let date = || parse_local_date_time_lenient(value).ok_or_else(invalid_params);
            match key.as_str() {
                "id" => f.ids.get_or_insert_default().extend(comma_list(value)),
                "person.id" => f.persons.get_or_insert_default().extend(comma_list(value)),
                "absence_type.id" => f.types.get_or_insert_default().extend(comma_list(value)),
                "starts_from.date_time.gte" | "ends_at.date_time.gte" => {
                    let d = date()?;
                    f.lower = Some(f.lower.map_or(d, |x| x.max(d)));
                }
                "starts_from.date_time.lte" | "ends_at.date_time.lte" => {
                    let d = date()?;
                    f.upper = Some(f.upper.map_or(d, |x| x.min(d)));
                }
                "updated_at.gte" => f.updated.gte = Some(date()?),
                "updated_at.lte" => f.updated.lte = Some(date()?),
                _ if key.contains('.') => return Err(invalid_encoding()),
                _ => return Err(invalid_params()),
            }
        }
        Ok(f)
    }

    fn matches(&self, state: &PersonioState, a: &AbsencePeriod, zone: &TimeZone) -> bool {
        let (start, end) = state.absence_interval(a);
        self.ids.as_ref().is_none_or(|s| s.contains(&a.id))
            && self
                .persons
                .as_ref()
                .is_none_or(|s| s.contains(&a.person.id))
            && self
                .types
                .as_ref()
                .is_none_or(|s| s.contains(&a.absence_type.id))
            && self.upper.is_none_or(|u| start <= u)
            && self.lower.is_none_or(|l| end > l)
            && self
                .updated
                .contains(a.updated_at.to_zoned(zone.clone()).datetime())
    }
}

async fn list_absences(State(sim): Sim, RawQuery(query): RawQuery) -> Response {
    let request = match list_request(query.as_deref(), 100, 100) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let filter = match AbsenceFilter::parse(&request.filters) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let state = sim.state();
    let listing = pinned(&request, state.absence_periods.len(), || {
        let zone = company_zone(&state);
        let mut periods: Vec<&AbsencePeriod> = state
            .absence_periods
            .values()
            .filter(|a| filter.matches(&state, a, &zone))
            .collect();
        periods.sort_by(|a, b| {
            (
                a.person.id.len(),
                &a.person.id,
                a.starts_from.date_time,
                &a.id,
            )
                .cmp(&(
                    b.person.id.len(),
                    &b.person.id,
                    b.starts_from.date_time,
                    &b.id,
                ))
        });
        periods.into_iter().map(|a| a.id.clone()).collect()
    });
    json_ok(&pinned_page(
        listing,
        |id| state.absence_periods.get(id),
        to_value,
        &request,
        &sim.base_url,
        "/v2/absence-periods",
        query.as_deref(),
        false,
    ))
}

async fn get_absence(State(sim): Sim, Path(id): Path<String>) -> Response {
    match sim.state().absence_periods.get(&id) {
        Some(a) => json_ok(&to_value(a)),
        None => not_found(),
    }
}

/// Reads `{ "date_time": ..., "type": ... }` from an absence body field.
fn absence_boundary(value: &Value, field: &str) -> Result<Option<AbsenceBoundary>, Response> {
    let invalid = || bad_request(&format!("Invalid {field} field"));
    if value.is_null() {
        return Ok(None);
    }
    let text = value
        .get("date_time")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    let date_time = parse_local_date_time(text).map_err(|_| invalid())?;
    let half = match value.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "FIRST_HALF" => Some(HalfDay::FirstHalf),
        Some(Value::String(s)) if s == "SECOND_HALF" => Some(HalfDay::SecondHalf),
        Some(_) => return Err(invalid()),
    };
    Ok(Some(AbsenceBoundary { date_time, half }))
}

async fn create_absence(State(sim): Sim, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let skip = match skip_approval(query.as_deref()) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if ["person", "absence_type", "starts_from"]
        .iter()
        .any(|k| body.get(*k).is_none_or(Value::is_null))
    {
        return problem(
            400,
            "Invalid JSON",
            "Missing required parameters: person, absence_type and starts_from are required.",
        );
    }
    let parsed = (|| {
        let person =
            optional_ref(&body, "person")?.ok_or_else(|| bad_request("Invalid person field"))?;
        let kind = optional_ref(&body, "absence_type")?
            .ok_or_else(|| bad_request("Invalid absence_type field"))?;
        let starts_from = absence_boundary(&body["starts_from"], "starts_from")?
            .ok_or_else(|| bad_request("Invalid starts_from field"))?;
        let ends_at = match body.get("ends_at") {
            Some(v) => absence_boundary(v, "ends_at")?,
            None => None,
        };
        Ok::<_, Response>((
            person,
            kind,
            starts_from,
            ends_at,
            optional_text(&body, "comment")?,
        ))
    })();
    let (person, absence_type, starts_from, ends_at, comment) = match parsed {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut state = sim.state();
    let now = now_seconds();
    let id = new_uuid();
    let period = AbsencePeriod {
        id: id.clone(),
        person,
        absence_type,
        starts_from,
        ends_at,
        timezone_id: state.company_time_zone.clone(),
        comment,
        approval: Approval {
            status: if skip {
                AbsenceStatus::Approved
            } else {
                AbsenceStatus::Pending
            },
        },
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = state.validate_absence(&period, None) {
        return e.into();
    }
    let person_id = period.person.id.clone();
    state.absence_periods.insert(id.clone(), period);
    state.emit("absence-period.created", &id, &person_id);
    created(&id, format!("{}/v2/absence-periods/{id}", sim.base_url))
}

async fn patch_absence(
    State(sim): Sim,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let skip = match skip_approval(query.as_deref()) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut state = sim.state();
    let Some(mut period) = state.absence_periods.get(&id).cloned() else {
        return not_found();
    };
    let mut time_changed = false;
    for (key, value) in &body {
        match key.as_str() {
            "starts_from" => match absence_boundary(value, "starts_from") {
                Ok(Some(b)) => {
                    time_changed |= b != period.starts_from;
                    period.starts_from = b;
                }
                Ok(None) => return bad_request("Invalid starts_from field"),
                Err(e) => return e,
            },
            "ends_at" => match absence_boundary(value, "ends_at") {
                Ok(b) => {
                    time_changed |= b != period.ends_at;
                    period.ends_at = b;
                }
                Err(e) => return e,
            },
            "comment" => match optional_text(&body, "comment") {
                Ok(c) => period.comment = c,
                Err(e) => return e,
            },
            "person" | "absence_type" => {
                return bad_request(&format!("Field {key} cannot be changed."))
            }
            _ => {}
        }
    }
    if let Err(e) = state.validate_absence(&period, Some(&id)) {
        return e.into();
    }
    let status_before = period.approval.status;
    if skip {
        period.approval.status = AbsenceStatus::Approved;
    } else if time_changed {
        // A new time range needs approval again.
        period.approval.status = AbsenceStatus::Pending;
    }
    let status_changed = period.approval.status != status_before;
    period.updated_at = bump(period.updated_at);
    let person_id = period.person.id.clone();
    state.absence_periods.insert(id.clone(), period);
    // §8: `updated.timerange` only for time-range changes, `updated.status` for approval changes; a
    // change of the comment alone sends neither.
    if time_changed {
        state.emit("absence-period.updated.timerange", &id, &person_id);
    }
    if status_changed {
        state.emit("absence-period.updated.status", &id, &person_id);
    }
    no_content()
}

async fn delete_absence(State(sim): Sim, Path(id): Path<String>) -> Response {
    if sim.state().delete_absence(&id) {
        no_content()
    } else {
        not_found()
    }
}
