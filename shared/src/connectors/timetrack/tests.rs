//! Parsing of TimeTrack payloads as the reference describes them, write bodies, and configuration.
use jiff::civil::date;
use secrecy::SecretString;

use super::*;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

#[test]
fn timestamps_keep_the_wall_clock_with_or_without_z() {
    let with_millis = TimeTrackTimestamp::parse("2020-10-23T00:00:00.000Z").unwrap();
    assert_eq!(with_millis.wall, date(2020, 10, 23).at(0, 0, 0, 0));
    let bare = TimeTrackTimestamp::parse("2020-10-23T14:30:00").unwrap();
    assert_eq!(bare.wall, date(2020, 10, 23).at(14, 30, 0, 0));
    assert_eq!(bare.to_wire(), "2020-10-23T14:30:00Z");
    assert!(TimeTrackTimestamp::parse("2020-10-23T14:30:00+02:00").is_err());
    assert!(TimeTrackTimestamp::parse("23.10.2020 14:30").is_err());
    let fractional = TimeTrackTimestamp::new(date(2020, 10, 23).at(14, 30, 0, 999_000_000));
    assert_eq!(
        serde_json::to_value(fractional).unwrap(),
        serde_json::json!("2020-10-23T14:30:00Z")
    );
}

#[test]
fn attendance_rows_parse_with_mixed_number_spellings() {
    let rows = serde_json::json!([
        {"id": 11, "user": "lena.vogt", "from": "2025-03-03T08:00:00.000Z", "to": "2025-03-03T16:30:00.000Z",
         "notes": "", "manual": 1, "workedMinutes": 480, "breakMinutes": "30",
         "latitudeStart": "48.137", "longitudeStart": 11.575, "latitudeEnd": null, "longitudeEnd": ""},
        {"id": "12", "username": "max", "from": "2025-03-03T09:00:00Z", "to": null, "manual": false},
        {"id": 13, "user": "max", "from": "not a time"}
    ]);
    let mut listing = WireListing::<Attendance>::default();
    for row in rows.as_array().unwrap() {
        listing.push_raw(row.clone());
    }
    assert_eq!(listing.items.len(), 2);
    let first = &listing.items[0];
    assert_eq!(first.manual, Some(true));
    assert_eq!(first.break_minutes, Some(30));
    assert_eq!(first.latitude_start, Some(48.137));
    assert_eq!(first.longitude_end, None);
    assert_eq!(first.to.unwrap().wall, date(2025, 3, 3).at(16, 30, 0, 0));
    assert_eq!(listing.items[1].user, "max");
    assert_eq!(listing.items[1].to, None);
    assert_eq!(listing.malformed[0].id.as_deref(), Some("13"));
}

#[test]
fn absence_rows_accept_status_as_number_or_string_and_refuse_unknown_codes() {
    let ok: Absence = serde_json::from_value(serde_json::json!({
        "id": 5, "user": "lena.vogt", "from": "2025-07-14", "to": "2025-07-18", "status": "1",
        "absenceType": 3, "absenceTypeName": "U", "user_id": 77, "color": "#fff",
        "is_plannable": true, "day_segment": null, "working_time_strategies": []
    }))
    .unwrap();
    assert_eq!(ok.status, AbsenceStatus::Approved);
    assert_eq!(ok.absence_type, 3);
    assert_eq!(ok.user_id, Some(77));
    assert_eq!(ok.to, date(2025, 7, 18));
    let bad = serde_json::from_value::<Absence>(serde_json::json!({
        "id": 6, "user": "x", "from": "2025-07-14", "to": "2025-07-14", "status": 7, "absenceType": 3
    }));
    assert!(bad
        .unwrap_err()
        .to_string()
        .contains("unknown absence status 7"));
}

#[test]
fn users_parse_and_write_bodies_never_carry_enabled_or_username() {
    let user: User = serde_json::from_value(serde_json::json!({
        "id": "42", "username": "lena.vogt", "firstName": "Lena", "lastName": "Vogt",
        "email": "lena.vogt@example.com", "enabled": 0, "personalNumber": 1007
    }))
    .unwrap();
    assert_eq!(user.id, 42);
    assert_eq!(user.enabled, Some(false));
    assert_eq!(user.personal_number.as_deref(), Some("1007"));

    let update = UserUpdate {
        first_name: Some("Lena".into()),
        personal_number: Some("0815".into()),
        password: Some(secret("pw-123")),
        ..Default::default()
    };
    let json = serde_json::to_value(&update).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"firstName": "Lena", "personalNumber": "0815", "password": "pw-123"})
    );
    assert!(!format!("{update:?}").contains("pw-123"));

    let new = NewUser {
        username: "lena.vogt".into(),
        first_name: "Lena".into(),
        last_name: "Vogt".into(),
        email: "lena.vogt@example.com".into(),
        password: secret("S3cret!pass"),
        team_lead: Some(false),
        admin: None,
        language: Some("de".into()),
        personal_number: Some("1007".into()),
    };
    let json = serde_json::to_value(&new).unwrap();
    assert_eq!(json["password"], "S3cret!pass");
    assert_eq!(json["personalNumber"], 1007);
    assert!(json.get("admin").is_none());
    assert!(!format!("{new:?}").contains("S3cret!pass"));
}

#[test]
fn attendance_and_absence_bodies_use_the_documented_spelling() {
    let new = NewAttendance {
        username: "max".into(),
        from: date(2025, 3, 3).at(8, 0, 0, 0).into(),
        to: date(2025, 3, 3).at(16, 30, 0, 0).into(),
        notes: None,
        break_minutes: Some(30),
    };
    assert_eq!(
        serde_json::to_value(&new).unwrap(),
        serde_json::json!({"username": "max", "from": "2025-03-03T08:00:00Z",
                           "to": "2025-03-03T16:30:00Z", "breakMinutes": 30})
    );
    let absence = NewAbsence {
        username: "max".into(),
        from: date(2025, 7, 14),
        to: date(2025, 7, 18),
        absence_type: 3,
        status: Some(AbsenceStatus::Pending),
    };
    assert_eq!(
        serde_json::to_value(&absence).unwrap(),
        serde_json::json!({"username": "max", "from": "2025-07-14", "to": "2025-07-18",
                           "absenceType": 3, "status": 0})
    );
    assert_eq!(
        serde_json::to_value(AbsenceStatusUpdate {
            status: AbsenceStatus::Rejected
        })
        .unwrap(),
        serde_json::json!({"status": 2})
    );
}

#[test]
fn account_is_substituted_into_the_template_and_validated() {
    let config = TimeTrackClientConfig::new("acme", secret("tt-key-1"), secret("tt-secret-1"));
    assert_eq!(
        config.base_url().unwrap().as_str(),
        "https://acme.timetrackenterprise.com/api/v2/ext"
    );
    let local = TimeTrackClientConfig {
        base_url_template: "http://127.0.0.1:9000/{account}/api/v2/ext".into(),
        ..config.clone()
    };
    let client = TimeTrackClient::new(local).unwrap();
    assert_eq!(
        client.url(&["absences", "5"]).as_str(),
        "http://127.0.0.1:9000/acme/api/v2/ext/absences/5"
    );
    for account in ["", "evil.com/x", "a b"] {
        let bad = TimeTrackClientConfig {
            account: account.into(),
            ..config.clone()
        };
        assert!(
            matches!(bad.base_url(), Err(TimeTrackError::Config(_))),
            "{account:?}"
        );
    }
    assert!(!format!("{config:?}").contains("tt-secret-1"));
    assert!(!format!("{config:?}").contains("tt-key-1"));
    let client = TimeTrackClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains("tt-secret-1"));
}

#[test]
fn created_ids_are_read_from_every_plausible_shape() {
    assert_eq!(created_id(br#"{"id": 17}"#, None), Some(17));
    assert_eq!(created_id(br#"{"id": "18", "user": "x"}"#, None), Some(18));
    assert_eq!(created_id(br#"[{"id": 19}]"#, None), Some(19));
    assert_eq!(created_id(br#"{"data": {"id": 20}}"#, None), Some(20));
    assert_eq!(created_id(b"", Some("/api/v2/ext/users/21")), Some(21));
    assert_eq!(created_id(br#"{"ok": true}"#, None), None);
}
