//! TimeTrack ext resources: `/users`, `/attendances`, `/absences`. Lists are bare JSON arrays,
//! paged by `page_number` (0-based) and `limit` (0–1000; 50 rows when neither is given).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::model::*;
use super::state::{worked_minutes, TimeTrackState};
use super::{codes, error, TimeTrackShared, EXT_ROOT};

type Sim = State<Arc<TimeTrackShared>>;
type Params = Path<HashMap<String, String>>;

pub(crate) fn router() -> Router<Arc<TimeTrackShared>> {
    let routes: Vec<(&str, MethodRouter<Arc<TimeTrackShared>>)> = vec![
        ("/users", get(list_users).post(create_user)),
        (
            "/users/{id}",
            get(get_user).put(update_user).delete(delete_user),
        ),
        (
            "/attendances",
            get(list_attendances).post(create_attendance),
        ),
        (
            "/attendances/{id}",
            get(get_attendance)
                .put(update_attendance)
                .delete(delete_attendance),
        ),
        ("/absences", get(list_absences).post(create_absence)),
        (
            "/absences/{id}",
            get(get_absence).put(update_absence).delete(delete_absence),
        ),
    ];
    let mut router = Router::new();
    for (path, method_router) in routes {
        router = router
            .route(&format!("{EXT_ROOT}{path}"), method_router.clone())
            .route(&format!("/{{account}}{EXT_ROOT}{path}"), method_router);
    }
    router.fallback(|| async { error(404, codes::NOT_FOUND, "Not Found", "Unknown resource.") })
}

fn bad_request(detail: &str) -> Response {
    error(400, codes::VALIDATION, "Bad Request", detail)
}

fn json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn to_json<T: serde::Serialize>(record: &T) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("deleted");
    }
    value
}

fn id_param(params: &HashMap<String, String>) -> Result<i64, Response> {
    params
        .get("id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| error(404, codes::NOT_FOUND, "Not Found", "Unknown id."))
}

fn not_found(kind: &str, id: i64) -> Response {
    error(
        404,
        codes::NOT_FOUND,
        "Not Found",
        &format!("{kind} with id {id} does not exist."),
    )
}

fn body_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad_request("The request body must be a JSON object.")),
    }
}

/// Paging and filters of a list request.
struct ListQuery {
    page: usize,
    limit: usize,
    params: HashMap<String, String>,
}

fn list_query(raw: Option<&str>) -> Result<ListQuery, Response> {
    let params: HashMap<String, String> = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let page = match params.get("page_number") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| bad_request("page_number must be a non-negative integer."))?,
    };
    let limit = match params.get("limit") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= 1000 => n,
            _ => return Err(bad_request("limit must be an integer between 0 and 1000.")),
        },
    };
    Ok(ListQuery {
        page,
        limit,
        params,
    })
}

impl ListQuery {
    fn page_of(&self, items: Vec<Value>) -> Response {
        self.rendered_page_of(items, |v| v)
    }

    /// [`Self::page_of`] rendering only the rows on the page (rendering every match for every page made
    /// listing a large account quadratic in its pages).
    fn rendered_page_of<T>(&self, items: Vec<T>, render: impl FnMut(T) -> Value) -> Response {
        let rows: Vec<Value> = items
            .into_iter()
            .skip(self.page.saturating_mul(self.limit))
            .take(self.limit)
            .map(render)
            .collect();
        json(StatusCode::OK, &Value::Array(rows))
    }

    /// One page of a listing's ids (pinned, see `pinned.rs`), each rendered from its record.
    fn pinned_page_of(&self, ids: &[i64], render: impl FnMut(i64) -> Option<Value>) -> Response {
        let rows: Vec<Value> = ids
            .iter()
            .copied()
            .skip(self.page.saturating_mul(self.limit))
            .take(self.limit)
            .filter_map(render)
            .collect();
        json(StatusCode::OK, &Value::Array(rows))
    }

    /// What identifies the listing of `resource` this request pages through: its filters, without
    /// the paging.
    fn pin_key(&self, resource: &str) -> String {
        let mut filters: Vec<(&String, &String)> = self
            .params
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "page_number" | "limit"))
            .collect();
        filters.sort();
        format!("{resource}?{filters:?}")
    }

    /// The `user` filter, also spelled `username`.
    fn user(&self) -> Option<&String> {
        self.params
            .get("username")
            .or_else(|| self.params.get("user"))
    }
}

/// Reads a timestamp: RFC 3339 (`Z`, with or without millis); a bare date or local date-time is UTC.
fn parse_instant(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    let date = text.parse::<Date>().ok()?;
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

fn instant_field(body: &Map<String, Value>, field: &str) -> Result<Option<Timestamp>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_instant(s)
            .map(Some)
            .ok_or_else(|| bad_request(&format!("{field} is not a valid timestamp."))),
        Some(_) => Err(bad_request(&format!("{field} is not a valid timestamp."))),
    }
}

fn date_field(body: &Map<String, Value>, field: &str) -> Result<Option<Date>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .get(..10)
            .and_then(|d| d.parse().ok())
            .map(Some)
            .ok_or_else(|| bad_request(&format!("{field} is not a valid date (YYYY-MM-DD)."))),
        Some(_) => Err(bad_request(&format!(
            "{field} is not a valid date (YYYY-MM-DD)."
        ))),
    }
}

/// Integers arrive as numbers or numeric strings (`"1"`).
fn int_field(body: &Map<String, Value>, field: &str) -> Result<Option<i64>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad_request(&format!("{field} must be an integer."))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad_request(&format!("{field} must be an integer."))),
        Some(_) => Err(bad_request(&format!("{field} must be an integer."))),
    }
}

/// Booleans arrive as `true`/`false` or `1`/`0`.
fn bool_field(body: &Map<String, Value>, field: &str) -> Result<Option<bool>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
        Some(Value::String(s)) if s == "1" || s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "0" || s == "false" => Ok(Some(false)),
        Some(_) => Err(bad_request(&format!("{field} must be a boolean."))),
    }
}

fn text_field(body: &Map<String, Value>, field: &str) -> Result<Option<String>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad_request(&format!("{field} must be a string."))),
    }
}

fn required_text(body: &Map<String, Value>, field: &str) -> Result<String, Response> {
    text_field(body, field)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| bad_request(&format!("Missing required field: {field}.")))
}

/// The simulator's password policy: at least 8 characters with a letter and a digit.
fn strong_password(password: &str) -> bool {
    password.chars().count() >= 8
        && password.chars().any(char::is_alphabetic)
        && password.chars().any(|c| c.is_ascii_digit())
}

// ===================== users =====================

async fn list_users(State(sim): Sim, RawQuery(query): RawQuery) -> Response {
    let list = match list_query(query.as_deref()) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let state = sim.state();
    let items = state
        .users
        .values()
        .filter(|u| {
            list.user()
                .is_none_or(|name| u.username.eq_ignore_ascii_case(name))
        })
        .map(to_json)
        .collect();
    list.page_of(items)
}

async fn get_user(State(sim): Sim, Path(params): Params) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    match sim.state().users.get(&id) {
        Some(u) => json(StatusCode::OK, &to_json(u)),
        None => not_found("User", id),
    }
}

/// Applies the updatable user fields (everything but `username` and `enabled`).
fn apply_user_fields(user: &mut User, body: &Map<String, Value>) -> Result<(), Response> {
    if let Some(v) = text_field(body, "firstName")? {
        user.first_name = v;
    }
    if let Some(v) = text_field(body, "lastName")? {
        user.last_name = v;
    }
    if let Some(v) = text_field(body, "email")? {
        if !v.contains('@') {
            return Err(bad_request("email is not a valid e-mail address."));
        }
        user.email = v;
    }
    if body.contains_key("personalNumber") {
        user.personal_number = int_field(body, "personalNumber")?;
    }
    if let Some(v) = bool_field(body, "teamLead")? {
        user.team_lead = v;
    }
    if let Some(v) = bool_field(body, "admin")? {
        user.admin = v;
    }
    if let Some(v) = text_field(body, "language")? {
        user.language = Some(v);
    }
    if let Some(password) = text_field(body, "password")? {
        if !strong_password(&password) {
            return Err(bad_request(
                "The password is too weak: use at least 8 characters with letters and digits.",
            ));
        }
    }
    Ok(())
}

async fn create_user(State(sim): Sim, body: Bytes) -> Response {
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let required = (|| {
        Ok::<_, Response>((
            required_text(&body, "username")?,
            required_text(&body, "firstName")?,
            required_text(&body, "lastName")?,
            required_text(&body, "email")?,
            required_text(&body, "password")?,
        ))
    })();
    let (username, first_name, last_name, email, password) = match required {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut state = sim.state();
    if state.user_by_username(&username).is_some() {
        return error(
            409,
            codes::DUPLICATE,
            "Conflict",
            &format!("Username {username} is already taken."),
        );
    }
    let mut user = User {
        id: state.next_user_id(),
        username,
        first_name,
        last_name,
        email,
        personal_number: None,
        team_lead: false,
        admin: false,
        language: None,
        enabled: true,
    };
    let mut fields = body.clone();
    fields.remove("username");
    if let Some(enabled) = match bool_field(&body, "enabled") {
        Ok(e) => e,
        Err(e) => return e,
    } {
        user.enabled = enabled;
    }
    if let Err(e) = apply_user_fields(&mut user, &fields) {
        return e;
    }
    let response = json(StatusCode::CREATED, &to_json(&user));
    state.passwords.insert(user.id, password);
    state.users.insert(user.id, user);
    response
}

async fn update_user(State(sim): Sim, Path(params): Params, body: Bytes) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    for forbidden in ["username", "enabled"] {
        if body.contains_key(forbidden) {
            return error(
                400,
                codes::NOT_UPDATABLE,
                "Bad Request",
                &format!("{forbidden} cannot be updated."),
            );
        }
    }
    let mut state = sim.state();
    let Some(mut user) = state.users.get(&id).cloned() else {
        return not_found("User", id);
    };
    if let Err(e) = apply_user_fields(&mut user, &body) {
        return e;
    }
    let response = json(StatusCode::OK, &to_json(&user));
    if let Some(Value::String(password)) = body.get("password") {
        state.passwords.insert(id, password.clone());
    }
    state.users.insert(id, user);
    response
}

/// DELETE disables the user (`enabled: false`); the record stays readable.
async fn delete_user(State(sim): Sim, Path(params): Params) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    if sim.state().set_user_enabled(id, false) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("User", id)
    }
}

// ===================== attendances =====================

fn deleted_time_entry(id: i64) -> Response {
    error(
        404,
        codes::TIME_ENTRY_DELETED,
        "TimeEntry exist but it is deleted",
        &format!("TimeEntry with id {id} exist but it is deleted."),
    )
}

async fn list_attendances(State(sim): Sim, RawQuery(query): RawQuery) -> Response {
    let list = match list_query(query.as_deref()) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let bound = |name: &str| match list.params.get(name) {
        None => Ok(None),
        Some(v) => parse_instant(v)
            .map(Some)
            .ok_or_else(|| bad_request(&format!("{name} is not a valid timestamp."))),
    };
    let (from, to) = match (bound("from"), bound("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let state = sim.state();
    let ids = sim
        .pins
        .listing(&state, list.pin_key("attendances"), |state| {
            let mut entries: Vec<&Attendance> = state
                .live_attendances()
                .filter(|a| list.user().is_none_or(|u| a.user.eq_ignore_ascii_case(u)))
                // `from` inclusive, `to` exclusive, both on the entry's start.
                .filter(|a| from.is_none_or(|f| a.from >= f))
                .filter(|a| to.is_none_or(|t| a.from < t))
                .collect();
            entries.sort_by_key(|a| (a.from, a.id));
            entries.into_iter().map(|a| a.id).collect()
        });
    list.pinned_page_of(&ids, |id| state.attendances.get(&id).map(to_json))
}

async fn get_attendance(State(sim): Sim, Path(params): Params) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    match sim.state().attendances.get(&id) {
        Some(a) if a.deleted => deleted_time_entry(id),
        Some(a) => json(StatusCode::OK, &to_json(a)),
        None => not_found("TimeEntry", id),
    }
}

/// Applies and checks the attendance fields of a POST/PUT body.
fn apply_attendance(
    state: &TimeTrackState,
    entry: &mut Attendance,
    body: &Map<String, Value>,
) -> Result<(), Response> {
    let username = match text_field(body, "username")? {
        Some(u) => Some(u),
        None => text_field(body, "user")?,
    };
    if let Some(username) = username {
        let Some(user) = state.user_by_username(&username) else {
            return Err(bad_request(&format!("Unknown user {username}.")));
        };
        entry.user = user.username.clone();
    }
    if let Some(from) = instant_field(body, "from")? {
        entry.from = from;
    }
    if let Some(to) = instant_field(body, "to")? {
        entry.to = to;
    }
    if body.contains_key("notes") {
        entry.notes = text_field(body, "notes")?;
    }
    if let Some(manual) = bool_field(body, "manual")? {
        entry.manual = manual;
    }
    if let Some(break_minutes) = int_field(body, "breakMinutes")? {
        entry.break_minutes = break_minutes;
    }
    for (field, slot) in [
        ("latitudeStart", &mut entry.latitude_start),
        ("longitudeStart", &mut entry.longitude_start),
        ("latitudeEnd", &mut entry.latitude_end),
        ("longitudeEnd", &mut entry.longitude_end),
    ] {
        match body.get(field) {
            None => {}
            Some(Value::Null) => *slot = None,
            Some(Value::Number(n)) => *slot = n.as_f64(),
            Some(Value::String(s)) => {
                *slot = Some(
                    s.parse()
                        .map_err(|_| bad_request(&format!("{field} must be a number.")))?,
                )
            }
            Some(_) => return Err(bad_request(&format!("{field} must be a number."))),
        }
    }
    if entry.to <= entry.from {
        return Err(bad_request("to must be after from."));
    }
    let length = (entry.to.as_second() - entry.from.as_second()) / 60;
    if entry.break_minutes < 0 || entry.break_minutes > length {
        return Err(bad_request(
            "breakMinutes must be between 0 and the length of the entry.",
        ));
    }
    entry.worked_minutes = worked_minutes(entry.from, entry.to, entry.break_minutes);
    Ok(())
}

async fn create_attendance(State(sim): Sim, body: Bytes) -> Response {
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    if body.get("username").or_else(|| body.get("user")).is_none() {
        return bad_request("Missing required field: username.");
    }
    for field in ["from", "to"] {
        if body.get(field).is_none_or(Value::is_null) {
            return bad_request(&format!("Missing required field: {field}."));
        }
    }
    let mut state = sim.state();
    let mut entry = Attendance {
        id: state.next_attendance_id(),
        user: String::new(),
        from: Timestamp::UNIX_EPOCH,
        to: Timestamp::UNIX_EPOCH,
        notes: None,
        manual: true,
        worked_minutes: 0,
        break_minutes: 0,
        latitude_start: None,
        longitude_start: None,
        latitude_end: None,
        longitude_end: None,
        deleted: false,
    };
    if let Err(e) = apply_attendance(&state, &mut entry, &body) {
        return e;
    }
    let response = json(StatusCode::CREATED, &to_json(&entry));
    state.attendances.insert(entry.id, entry);
    response
}

async fn update_attendance(State(sim): Sim, Path(params): Params, body: Bytes) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut state = sim.state();
    let mut entry = match state.attendances.get(&id) {
        Some(a) if a.deleted => return deleted_time_entry(id),
        Some(a) => a.clone(),
        None => return not_found("TimeEntry", id),
    };
    if let Err(e) = apply_attendance(&state, &mut entry, &body) {
        return e;
    }
    let response = json(StatusCode::OK, &to_json(&entry));
    state.attendances.insert(id, entry);
    response
}

async fn delete_attendance(State(sim): Sim, Path(params): Params) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut state = sim.state();
    match state.attendances.get(&id) {
        Some(a) if a.deleted => deleted_time_entry(id),
        Some(_) => {
            state.delete_attendance(id);
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("TimeEntry", id),
    }
}

// ===================== absences =====================

fn deleted_absence(id: i64) -> Response {
    error(
        404,
        codes::ABSENCE_DELETED,
        "Absence exist but it is deleted",
        &format!("Absence with id {id} exist but it is deleted."),
    )
}

async fn list_absences(State(sim): Sim, RawQuery(query): RawQuery) -> Response {
    let list = match list_query(query.as_deref()) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let day = |name: &str| match list.params.get(name) {
        None => Ok(None),
        Some(v) => v
            .get(..10)
            .and_then(|d| d.parse::<Date>().ok())
            .map(Some)
            .ok_or_else(|| bad_request(&format!("{name} is not a valid date."))),
    };
    let (from, to) = match (day("from"), day("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let kind = match list.params.get("absenceType").map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => return bad_request("absenceType must be an integer."),
    };
    let state = sim.state();
    let ids = sim.pins.listing(&state, list.pin_key("absences"), |state| {
        let mut absences: Vec<&Absence> = state
            .live_absences()
            .filter(|a| list.user().is_none_or(|u| a.user.eq_ignore_ascii_case(u)))
            // Absences overlapping the inclusive date range [from, to].
            .filter(|a| from.is_none_or(|f| a.to >= f))
            .filter(|a| to.is_none_or(|t| a.from <= t))
            .filter(|a| kind.is_none_or(|k| a.absence_type == k))
            .collect();
        absences.sort_by_key(|a| (a.from, a.id));
        absences.into_iter().map(|a| a.id).collect()
    });
    list.pinned_page_of(&ids, |id| state.absences.get(&id).map(to_json))
}

async fn get_absence(State(sim): Sim, Path(params): Params) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    match sim.state().absences.get(&id) {
        Some(a) if a.deleted => deleted_absence(id),
        Some(a) => json(StatusCode::OK, &to_json(a)),
        None => not_found("Absence", id),
    }
}

fn status_value(body: &Map<String, Value>) -> Result<Option<u8>, Response> {
    match int_field(body, "status")? {
        None => Ok(None),
        Some(s @ 0..=2) => Ok(Some(s as u8)),
        Some(_) => Err(bad_request("status must be 0, 1 or 2.")),
    }
}

async fn create_absence(State(sim): Sim, body: Bytes) -> Response {
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let parsed = (|| {
        let username = match text_field(&body, "username")? {
            Some(u) => u,
            None => required_text(&body, "user")
                .map_err(|_| bad_request("Missing required field: username."))?,
        };
        let from = date_field(&body, "from")?
            .ok_or_else(|| bad_request("Missing required field: from."))?;
        let to =
            date_field(&body, "to")?.ok_or_else(|| bad_request("Missing required field: to."))?;
        let kind = int_field(&body, "absenceType")?
            .ok_or_else(|| bad_request("Missing required field: absenceType."))?;
        Ok::<_, Response>((username, from, to, kind, status_value(&body)?.unwrap_or(0)))
    })();
    let (username, from, to, kind, status) = match parsed {
        Ok(p) => p,
        Err(e) => return e,
    };
    if to < from {
        return bad_request("to must not be before from.");
    }
    let mut state = sim.state();
    let Some(user) = state.user_by_username(&username).cloned() else {
        return bad_request(&format!("Unknown user {username}."));
    };
    if !state.absence_types.contains_key(&kind) {
        return bad_request(&format!("Unknown absenceType {kind}."));
    }
    let Some(id) = state.add_absence(&user.username, kind, from, to, status) else {
        return bad_request("Unknown user or absence type.");
    };
    if let Some(absence) = state.absences.get_mut(&id) {
        if let Ok(Some(segment)) = text_field(&body, "day_segment") {
            absence.day_segment = Some(segment);
        }
    }
    match state.absences.get(&id) {
        Some(a) => json(StatusCode::CREATED, &to_json(a)),
        None => not_found("Absence", id),
    }
}

/// PUT may change only `status` (as `1` or `"1"`); any other field is refused.
async fn update_absence(State(sim): Sim, Path(params): Params, body: Bytes) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    if let Some(other) = body.keys().find(|k| k.as_str() != "status") {
        return error(
            400,
            codes::NOT_UPDATABLE,
            "Bad Request",
            &format!("Only the status of an absence can be updated; {other} cannot be changed."),
        );
    }
    let status = match status_value(&body) {
        Ok(Some(s)) => s,
        Ok(None) => return bad_request("Missing required field: status."),
        Err(e) => return e,
    };
    let mut state = sim.state();
    match state.absences.get(&id) {
        Some(a) if a.deleted => return deleted_absence(id),
        Some(_) => {}
        None => return not_found("Absence", id),
    }
    state.set_absence_status(id, status);
    match state.absences.get(&id) {
        Some(a) => json(StatusCode::OK, &to_json(a)),
        None => not_found("Absence", id),
    }
}

async fn delete_absence(State(sim): Sim, Path(params): Params) -> Response {
    let id = match id_param(&params) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut state = sim.state();
    match state.absences.get(&id) {
        Some(a) if a.deleted => deleted_absence(id),
        Some(_) => {
            state.delete_absence(id);
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("Absence", id),
    }
}
