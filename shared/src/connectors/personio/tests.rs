//! Parsing of the reference's example payloads and the client's configuration handling.
use jiff::civil::date;
use secrecy::SecretString;

use super::*;

#[test]
fn reference_person_example_parses() {
    let body = r#"{"id":"7788","email":"lena.vogt@example.com","created_at":"2024-02-01T08:30:00Z","updated_at":"2025-01-10T14:02:11Z",
     "first_name":"Lena","last_name":"Vogt","preferred_name":"Lena","gender":"FEMALE","status":"ACTIVE",
     "profile_picture":{"url":"https://api.personio.de/v1/company/employees/7788/profile-picture"},
     "custom_attributes":[{"id":"dynamic_44","type":"STRING","global_id":"shirt_size","label":"Shirt size","value":"M"}],
     "employments":[{"id":"0f6c2b1e-4a7d-4f3e-9b8a-1c2d3e4f5a6b"}],
     "_meta":{"links":{"employments":{"href":"https://api.personio.de/v2/persons/7788/employments"}}}}"#;
    let person: Person = serde_json::from_str(body).unwrap();
    assert_eq!(person.id, "7788");
    assert_eq!(person.status, Some(PersonStatus::Active));
    assert_eq!(
        person.updated_at.unwrap().to_string(),
        "2025-01-10T14:02:11Z"
    );
    let shirt = person.custom_attribute("shirt_size").unwrap();
    assert!(shirt.kind_is("string"));
    assert_eq!(shirt.value_text().as_deref(), Some("M"));
    assert_eq!(
        person.employments[0].id,
        "0f6c2b1e-4a7d-4f3e-9b8a-1c2d3e4f5a6b"
    );
}

#[test]
fn live_custom_attribute_shape_and_sparse_persons_parse() {
    let body = r#"{"id":3003,"custom_attributes":[{"global_id":"9999999","id":"dynamic_1234567890abcd.12345678","type":"int","value":12345}],
                   "status":"SOMETHING_NEW","employments":null}"#;
    let person: Person = serde_json::from_str(body).unwrap();
    assert_eq!(person.id, "3003");
    assert_eq!(person.first_name, None);
    assert_eq!(
        person.status,
        Some(PersonStatus::Other("SOMETHING_NEW".into()))
    );
    let attr = person.custom_attribute("9999999").unwrap();
    assert!(attr.kind_is("INT"));
    assert_eq!(attr.value_text().as_deref(), Some("12345"));
    assert!(person.employments.is_empty());
}

#[test]
fn reference_employment_example_and_a_sparse_one_parse() {
    let body = r#"{"id":"0f6c2b1e-4a7d-4f3e-9b8a-1c2d3e4f5a6b","person":{"id":"7788"},"status":"ACTIVE","type":"INTERNAL",
     "position":{"title":"Backend Engineer"},"weekly_working_hours":32,"full_time_weekly_working_hours":40,
     "employment_start_date":"2024-03-01","probation_end_date":"2024-08-31","employment_end_date":null,"contract_end_date":null,
     "created_at":"2024-02-01T08:30:00Z","updated_at":"2025-01-10T14:02:11Z",
     "supervisor":{"id":"5120"},"office":{"id":"311"},"legal_entity":{"id":"42"},
     "org_units":[{"type":"department","id":"9001"},{"type":"team","id":"9017"}],
     "cost_centers":[{"id":"c1d2e3f4-0000-4000-8000-000000000001","weight":100}],
     "termination":null,
     "_meta":{"links":{"person":{"href":"https://api.personio.de/v2/persons/7788"}}}}"#;
    let e: Employment = serde_json::from_str(body).unwrap();
    assert_eq!(e.status, Some(EmploymentStatus::Active));
    assert_eq!(e.weekly_working_hours, Some(32.0));
    assert_eq!(e.employment_start_date, Some(date(2024, 3, 1)));
    assert_eq!(e.employment_end_date, None);
    assert_eq!(e.org_units.len(), 2);
    let sparse: Employment =
        serde_json::from_str(r#"{"id":"x","person":{"id":"1"},"status":"LEAVE","_meta":{}}"#)
            .unwrap();
    assert_eq!(sparse.status, Some(EmploymentStatus::Leave));
    let leaver: Employment = serde_json::from_str(
        r#"{"id":"y","termination":{"termination_date":"2025-06-30","last_working_date":"2025-06-27","type":"EMPLOYEE"}}"#,
    )
    .unwrap();
    let t = leaver.termination.unwrap();
    assert_eq!(t.last_working_day, Some(date(2025, 6, 27)));
}

#[test]
fn reference_attendance_examples_parse() {
    let body = r#"{"_data":[
     {"id":"3f2a9c10-6b1e-4f7a-9c3d-2e5f8a7b6c41","type":"WORK","person":{"id":"7788"},
      "start":{"date_time":"2025-03-03T08:00:00"},"end":{"date_time":"2025-03-03T12:00:00"},
      "attribution_date":"2025-03-03","comment":"Sprint planning","project":{"id":"a1b2c3d4-1111-4222-8333-444455556666"},
      "approval":{"status":"CONFIRMED"},"is_auto_generated":false,
      "created_at":"2025-03-03T12:01:10Z","updated_at":"2025-03-03T12:01:10Z"},
     {"id":"8d0e4b77-2c5f-4a19-b6e3-9f1a0c2d3e4f","type":"BREAK","person":{"id":"7788"},
      "start":{"date_time":"2025-03-03T12:00:00.000"},"end":null,
      "attribution_date":"2025-03-03","comment":null,"project":null,"approval":{"status":"CONFIRMED"},"is_auto_generated":false}],
     "_meta":{"links":{"self":{"href":"https://api.personio.de/v2/attendance-periods?person.id=7788&limit=2"},
                       "next":{"href":"https://api.personio.de/v2/attendance-periods?cursor=cur_Q2hhcmxpZQ"}}}}"#;
    let page: Page = serde_json::from_str(body).unwrap();
    let mut listing = WireListing::<AttendancePeriod>::default();
    for record in page.data {
        listing.push_raw(record);
    }
    assert!(listing.is_clean(), "{:?}", listing.malformed);
    let work = &listing.items[0];
    assert_eq!(work.kind, AttendanceKind::Work);
    assert_eq!(work.start.date_time, date(2025, 3, 3).at(8, 0, 0, 0));
    assert_eq!(work.status(), Some(&AttendanceStatus::Confirmed));
    let open_break = &listing.items[1];
    assert_eq!(open_break.kind, AttendanceKind::Break);
    assert_eq!(open_break.end, None);
    assert_eq!(open_break.start.date_time, date(2025, 3, 3).at(12, 0, 0, 0));
}

#[test]
fn attendance_without_person_is_malformed_not_guessed() {
    let mut listing = WireListing::<AttendancePeriod>::default();
    listing.push_raw(serde_json::json!({"id": "p1", "type": "WORK", "start": {"date_time": "2025-03-03T08:00:00"}}));
    listing.push_raw(
        serde_json::json!({"id": "p2", "type": "WORK", "person": {"id": "1"},
        "start": {"date_time": "2025-03-03T08:00:00+01:00"}}),
    );
    assert!(listing.items.is_empty());
    assert_eq!(listing.malformed[0].id.as_deref(), Some("p1"));
    assert!(listing.malformed[0].error.contains("person"));
    assert!(listing.malformed[1].error.contains("offset"));
}

#[test]
fn reference_absence_example_parses_with_half_days_and_open_end() {
    let body = r#"{"id":"5d9e1f20-3a4b-4c5d-8e6f-7a8b9c0d1e2f","person":{"id":"7788"},"absence_type":{"id":"abc6fa09-d8fe-4de0-be03-f0a1d48df766"},
     "starts_from":{"date_time":"2025-07-14T00:00:00","type":"FIRST_HALF"},
     "ends_at":{"date_time":"2025-07-18T00:00:00","type":"FIRST_HALF"},
     "timezone_id":"Europe/Berlin","comment":"Summer trip","approval":{"status":"PENDING"},
     "created_at":"2025-06-02T09:12:44Z","updated_at":"2025-06-02T09:12:44Z"}"#;
    let a: AbsencePeriod = serde_json::from_str(body).unwrap();
    assert_eq!(a.starts_from.half_day, Some(HalfDay::FirstHalf));
    assert_eq!(
        a.ends_at.as_ref().unwrap().date_time,
        date(2025, 7, 18).at(0, 0, 0, 0)
    );
    assert_eq!(a.status(), Some(&AbsenceStatus::Pending));
    let ongoing: AbsencePeriod = serde_json::from_str(
        r#"{"id":"s","person":{"id":"1"},"absence_type":{"id":"t"},
            "starts_from":{"date_time":"2026-07-06T00:00:00.000","type":null},"ends_at":null}"#,
    )
    .unwrap();
    assert_eq!(ongoing.ends_at, None);
    assert_eq!(ongoing.starts_from.half_day, None);
}

#[test]
fn reference_absence_type_example_parses() {
    let t: AbsenceType = serde_json::from_str(
        r#"{"id":"abc6fa09-d8fe-4de0-be03-f0a1d48df766","name":"Vacation","category":"PAID_VACATION","unit":"DAY"}"#,
    )
    .unwrap();
    assert_eq!(t.unit, Some(AbsenceUnit::Day));
    assert_eq!(t.category.as_deref(), Some("PAID_VACATION"));
}

#[test]
fn write_bodies_match_the_reference_examples() {
    let new = NewAttendancePeriod {
        person: IdRef::new("7788"),
        kind: AttendanceKind::Work,
        start: date(2025, 3, 4).at(9, 0, 0, 0).into(),
        end: Some(date(2025, 3, 4).at(17, 30, 0, 0).into()),
        comment: Some("Imported from clock terminal".into()),
        project: None,
    };
    assert_eq!(
        serde_json::to_value(&new).unwrap(),
        serde_json::json!({"person":{"id":"7788"},"type":"WORK","start":{"date_time":"2025-03-04T09:00:00"},
            "end":{"date_time":"2025-03-04T17:30:00"},"comment":"Imported from clock terminal"})
    );
    let absence = NewAbsencePeriod {
        person: IdRef::new("7788"),
        absence_type: IdRef::new("abc6fa09-d8fe-4de0-be03-f0a1d48df766"),
        starts_from: AbsenceBoundary {
            date_time: date(2025, 7, 14).at(0, 0, 0, 0),
            half_day: Some(HalfDay::FirstHalf),
        },
        ends_at: Some(AbsenceBoundary {
            date_time: date(2025, 7, 18).at(0, 0, 0, 0),
            half_day: Some(HalfDay::FirstHalf),
        }),
        comment: Some("Summer trip".into()),
        substitute: Some(IdRef::new("5120")),
    };
    assert_eq!(
        serde_json::to_value(&absence).unwrap(),
        serde_json::json!({"person":{"id":"7788"},"absence_type":{"id":"abc6fa09-d8fe-4de0-be03-f0a1d48df766"},
            "starts_from":{"date_time":"2025-07-14T00:00:00","type":"FIRST_HALF"},
            "ends_at":{"date_time":"2025-07-18T00:00:00","type":"FIRST_HALF"},"comment":"Summer trip","substitute":{"id":"5120"}})
    );
    let clear_project = AttendancePatch {
        project: Some(None),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&clear_project).unwrap(),
        serde_json::json!({"project": null})
    );
    assert_eq!(
        serde_json::to_value(PersonPatch::default()).unwrap(),
        serde_json::json!({})
    );
}

#[test]
fn config_debug_hides_the_secret_and_bad_base_urls_are_refused() {
    let config = PersonioClientConfig::new(
        "papi-client",
        SecretString::from("super-secret-value".to_string()),
    );
    assert_eq!(config.base_url, "https://api.personio.de");
    assert!(!format!("{config:?}").contains("super-secret-value"));
    let client = PersonioClient::new(config.clone()).unwrap();
    assert!(!format!("{client:?}").contains("super-secret-value"));
    assert_eq!(
        client.url(&["v2", "persons", "a/b"]).as_str(),
        "https://api.personio.de/v2/persons/a%2Fb"
    );
    for bad in ["not a url", "mailto:x@example.com", "ftp://example.com"] {
        let err = PersonioClient::new(PersonioClientConfig {
            base_url: bad.into(),
            ..config.clone()
        })
        .unwrap_err();
        assert_eq!(err.class(), crate::connectors::ErrorClass::Auth, "{bad}");
    }
}
