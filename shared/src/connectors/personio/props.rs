//! Proptests of the Personio payload parsers (issue 15, suite item 5): arbitrary JSON and mutations of
//! the reference's example records never panic a parser, and a malformed record fails that record
//! only — the records around it still parse.
use proptest::prelude::*;
use serde_json::{json, Value};

use super::envelope::{created_id, resolve_next, unwrap_single, Page};
use super::error::api_error;
use super::*;
use crate::connectors::payload_props::{any_json, mutate, mutation};

fn person() -> Value {
    json!({"id":"7788","email":"lena.vogt@example.com","created_at":"2024-02-01T08:30:00Z",
        "updated_at":"2025-01-10T14:02:11Z","first_name":"Lena","last_name":"Vogt","preferred_name":"Lena",
        "gender":"FEMALE","status":"ACTIVE",
        "custom_attributes":[{"id":"dynamic_44","type":"STRING","global_id":"shirt_size","label":"Shirt size","value":"M"}],
        "employments":[{"id":"0f6c2b1e-4a7d-4f3e-9b8a-1c2d3e4f5a6b"}]})
}

fn employment() -> Value {
    json!({"id":"0f6c2b1e","person":{"id":"7788"},"status":"ACTIVE","type":"INTERNAL",
        "weekly_working_hours":40,"employment_start_date":"2024-02-01","supervisor":{"id":"7701"},
        "created_at":"2024-02-01T08:30:00Z","updated_at":"2025-01-10T14:02:11Z"})
}

fn attendance() -> Value {
    json!({"id":"3f2a9c10","type":"WORK","person":{"id":"7788"},
        "start":{"date_time":"2025-03-03T08:00:00"},"end":{"date_time":"2025-03-03T12:00:00"},
        "attribution_date":"2025-03-03","comment":"Sprint planning","project":null,
        "approval":{"status":"CONFIRMED"},"is_auto_generated":false,
        "created_at":"2025-03-03T12:01:10Z","updated_at":"2025-03-03T12:01:10Z"})
}

fn absence() -> Value {
    json!({"id":"5d9e1f20","person":{"id":"7788"},"absence_type":{"id":"abc6fa09"},
        "starts_from":{"date_time":"2025-07-14T00:00:00","type":"FIRST_HALF"},
        "ends_at":{"date_time":"2025-07-18T00:00:00","type":"FIRST_HALF"},
        "timezone_id":"Europe/Berlin","comment":"Summer trip","approval":{"status":"PENDING"}})
}

fn absence_type() -> Value {
    json!({"id":"abc6fa09","name":"Vacation","category":"PAID_VACATION","unit":"DAY"})
}

/// Parses `[good, bad, good]` as one list: the two good records parse whatever `bad` is, and `bad`
/// is either a record or one malformed entry — never more, never a panic.
fn one_bad_record_fails_alone<T: serde::de::DeserializeOwned>(good: &Value, bad: Value) {
    let mut listing = WireListing::<T>::default();
    listing.push_raw(good.clone());
    listing.push_raw(bad);
    listing.push_raw(good.clone());
    assert!(listing.items.len() >= 2, "{:?}", listing.malformed);
    assert_eq!(listing.items.len() + listing.malformed.len(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_records_fail_alone(mutations in prop::collection::vec(mutation(), 1..4)) {
        one_bad_record_fails_alone::<Person>(&person(), mutate(&person(), &mutations));
        one_bad_record_fails_alone::<Employment>(&employment(), mutate(&employment(), &mutations));
        one_bad_record_fails_alone::<AttendancePeriod>(&attendance(), mutate(&attendance(), &mutations));
        one_bad_record_fails_alone::<AbsencePeriod>(&absence(), mutate(&absence(), &mutations));
        one_bad_record_fails_alone::<AbsenceType>(&absence_type(), mutate(&absence_type(), &mutations));
    }

    #[test]
    fn arbitrary_json_records_never_panic(value in any_json()) {
        one_bad_record_fails_alone::<Person>(&person(), value.clone());
        one_bad_record_fails_alone::<Employment>(&employment(), value.clone());
        one_bad_record_fails_alone::<AttendancePeriod>(&attendance(), value.clone());
        one_bad_record_fails_alone::<AbsencePeriod>(&absence(), value.clone());
        one_bad_record_fails_alone::<AbsenceType>(&absence_type(), value.clone());
        let _ = unwrap_single(value.clone());
        if let Ok(page) = serde_json::from_value::<Page>(value.clone()) {
            if let Some(href) = page.next_href() {
                let base = url::Url::parse("https://api.personio.de").unwrap();
                let _ = resolve_next(&base, href);
            }
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic_the_page_error_and_created_id_parsers(
        body in prop_oneof![
            any_json().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..64),
        ],
        status in 100u16..600,
        location in proptest::option::of(".{0,40}"),
    ) {
        let _ = serde_json::from_slice::<Page>(&body);
        let error = api_error("GET", "/v2/persons", status, &body);
        prop_assert!(!error.to_string().is_empty());
        let _ = created_id(&body, location.as_deref());
    }

    #[test]
    fn arbitrary_next_links_resolve_or_fail_cleanly(href in ".{0,80}") {
        let base = url::Url::parse("https://api.personio.de").unwrap();
        if let Ok(url) = resolve_next(&base, &href) {
            prop_assert_eq!(url.host_str(), Some("api.personio.de"));
        }
    }
}
