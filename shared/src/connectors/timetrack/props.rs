//! Proptests of the TimeTrack payload parsers (issue 15, suite item 5): arbitrary JSON and mutations of
//! records as the reference describes them never panic a parser, and a malformed record fails that
//! record only.
use proptest::prelude::*;
use serde_json::{json, Value};

use super::error::api_error;
use super::*;
use crate::connectors::payload_props::{any_json, mutate, mutation};

fn user() -> Value {
    json!({"id": 5, "username": "lena.vogt", "firstName": "Lena", "lastName": "Vogt",
        "email": "lena.vogt@example.com", "personalNumber": 1042, "teamLead": false, "admin": 0,
        "language": "de", "enabled": true})
}

fn attendance() -> Value {
    json!({"id": 11, "user": "lena.vogt", "from": "2025-03-03T08:00:00.000Z",
        "to": "2025-03-03T16:30:00.000Z", "notes": "", "manual": 1, "workedMinutes": 480,
        "breakMinutes": "30", "latitudeStart": "48.137", "longitudeStart": 11.575,
        "latitudeEnd": null, "longitudeEnd": ""})
}

fn absence() -> Value {
    json!({"id": 21, "user": "lena.vogt", "from": "2025-07-14", "to": "2025-07-18", "status": 1,
        "absenceType": 1, "absenceTypeName": "Vacation", "userId": 5, "color": "#00ff00",
        "isPlannable": true, "daySegment": null, "workingTimeStrategies": []})
}

fn one_bad_record_fails_alone<T: serde::de::DeserializeOwned>(good: &Value, bad: Value) {
    let mut listing = WireListing::<T>::default();
    listing.push_raw(good.clone());
    listing.push_raw(bad);
    listing.push_raw(good.clone());
    assert!(listing.items.len() >= 2, "{:?}", listing.malformed);
    assert_eq!(listing.items.len() + listing.malformed.len(), 3);
}

#[test]
fn the_example_records_parse() {
    let mut users = WireListing::<User>::default();
    users.push_raw(user());
    let mut attendances = WireListing::<Attendance>::default();
    attendances.push_raw(attendance());
    let mut absences = WireListing::<Absence>::default();
    absences.push_raw(absence());
    assert!(users.is_clean(), "{:?}", users.malformed);
    assert!(attendances.is_clean(), "{:?}", attendances.malformed);
    assert!(absences.is_clean(), "{:?}", absences.malformed);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_records_fail_alone(mutations in prop::collection::vec(mutation(), 1..4)) {
        one_bad_record_fails_alone::<User>(&user(), mutate(&user(), &mutations));
        one_bad_record_fails_alone::<Attendance>(&attendance(), mutate(&attendance(), &mutations));
        one_bad_record_fails_alone::<Absence>(&absence(), mutate(&absence(), &mutations));
    }

    #[test]
    fn arbitrary_json_records_never_panic(value in any_json()) {
        one_bad_record_fails_alone::<User>(&user(), value.clone());
        one_bad_record_fails_alone::<Attendance>(&attendance(), value.clone());
        one_bad_record_fails_alone::<Absence>(&absence(), value.clone());
    }

    #[test]
    fn arbitrary_bodies_never_panic_the_list_error_and_created_id_parsers(
        body in prop_oneof![
            any_json().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..64),
        ],
        status in 100u16..600,
        location in proptest::option::of(".{0,40}"),
    ) {
        let _ = rows(&body, "/users");
        let error = api_error("GET", "/users", status, &body);
        prop_assert!(!error.to_string().is_empty());
        let _ = created_id(&body, location.as_deref());
    }

    #[test]
    fn arbitrary_timestamps_parse_or_fail_cleanly(text in ".{0,32}") {
        if let Ok(ts) = TimeTrackTimestamp::parse(&text) {
            let again = TimeTrackTimestamp::parse(&ts.to_wire()).expect("a written timestamp parses");
            prop_assert_eq!(again.wall, ts.wall);
        }
    }
}
