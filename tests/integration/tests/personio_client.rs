//! Contract tests of `shared::connectors::personio::PersonioClient` against the Personio simulator (and,
//! for answers a faithful simulator never gives, a canned stub server).
use std::time::Duration;

use jiff::civil::{date, DateTime};
use secrecy::SecretString;
use shared::connectors::http::{RetryPolicy, TransportKind};
use shared::connectors::personio::*;
use shared::connectors::ErrorClass;
use simulators::{Fault, FaultRule, PersonioConfig, PersonioSim, Seed};

mod stub_http;
use stub_http::{Canned, StubServer};

const CLIENT_ID: &str = "papi-sim-client-id";
const CLIENT_SECRET: &str = "papi-sim-client-secret";

fn config_for(base_url: &str, secret: &str) -> PersonioClientConfig {
    PersonioClientConfig {
        base_url: base_url.to_string(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy::quick(3),
        rate_limit: None,
        ..PersonioClientConfig::new(CLIENT_ID, SecretString::from(secret.to_string()))
    }
}

async fn start() -> (PersonioSim, PersonioClient) {
    start_with(PersonioConfig::default()).await
}

async fn start_with(config: PersonioConfig) -> (PersonioSim, PersonioClient) {
    let sim = PersonioSim::start(config, &Seed::empty()).await.unwrap();
    let client = PersonioClient::new(config_for(&sim.base_url(), CLIENT_SECRET)).unwrap();
    (sim, client)
}

fn count(sim: &PersonioSim, method: &str, path: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

fn at(h: i8, m: i8) -> DateTime {
    date(2025, 3, 4).at(h, m, 0, 0)
}

fn add_absence_type(sim: &PersonioSim) -> String {
    let id = "abc6fa09-d8fe-4de0-be03-f0a1d48df766".to_string();
    sim.state().absence_types.insert(
        id.clone(),
        simulators::personio::model::AbsenceType {
            id: id.clone(),
            name: "Vacation".into(),
            category: "PAID_VACATION".into(),
            unit: simulators::personio::model::AbsenceUnit::Day,
        },
    );
    id
}

#[tokio::test]
async fn check_gets_one_token_and_reads_one_person() {
    let (sim, client) = start().await;
    sim.state()
        .add_person("Lena", "Vogt", Some("lena.vogt@example.com"));
    client.check().await.unwrap();
    client.check().await.unwrap();
    assert_eq!(count(&sim, "POST", "/v2/auth/token"), 1, "token is cached");
    let reads: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v2/persons")
        .collect();
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].query.as_deref(), Some("limit=1"));
}

#[tokio::test]
async fn wrong_credentials_are_typed_oauth_errors_without_secrets() {
    let sim = PersonioSim::start(PersonioConfig::default(), &Seed::empty())
        .await
        .unwrap();
    let wrong_secret = "wrong-secret-3f9a7c";
    let config = config_for(&sim.base_url(), wrong_secret);
    let client = PersonioClient::new(config.clone()).unwrap();
    let err = client.check().await.unwrap_err();
    match &err {
        PersonioError::Auth { error, status, .. } => {
            assert_eq!(error, "unauthorized_client");
            assert_eq!(*status, 400);
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Auth);
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{config:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(wrong_secret), "secret leaked in {text}");
    }
    assert_eq!(count(&sim, "GET", "/v2/persons"), 0);

    let unknown = PersonioClient::new(PersonioClientConfig {
        client_id: "papi-unknown".into(),
        ..config_for(&sim.base_url(), CLIENT_SECRET)
    })
    .unwrap();
    match unknown.check().await.unwrap_err() {
        PersonioError::Auth { error, .. } => assert_eq!(error, "invalid_client"),
        other => panic!("expected invalid_client, got {other:?}"),
    }
}

#[tokio::test]
async fn every_documented_oauth_error_code_is_reported_as_auth() {
    for code in [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
    ] {
        let stub = StubServer::start(move |_, _| {
            Canned::json(
                400,
                serde_json::json!({"timestamp": "2025-03-04T10:15:00Z", "trace_id": "t",
                    "error": code, "error_description": format!("described {code}"), "error_uri": null}),
            )
        })
        .await;
        let client = PersonioClient::new(config_for(&stub.base_url, CLIENT_SECRET)).unwrap();
        match client.check().await.unwrap_err() {
            PersonioError::Auth {
                error, description, ..
            } => {
                assert_eq!(error, code);
                assert_eq!(description, Some(format!("described {code}")));
            }
            other => panic!("{code}: unexpected {other:?}"),
        }
        assert_eq!(stub.hits(), vec!["POST /v2/auth/token".to_string()]);
    }
}

#[tokio::test]
async fn revoked_token_is_refreshed_once_and_the_call_repeated() {
    let (sim, client) = start().await;
    let id = sim.state().add_person("Lena", "Vogt", None);
    client.get_person(&id).await.unwrap();
    sim.revoke_tokens();
    let person = client.get_person(&id).await.unwrap();
    assert_eq!(person.first_name.as_deref(), Some("Lena"));
    assert_eq!(count(&sim, "POST", "/v2/auth/token"), 2);
    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 401, 200]);
}

#[tokio::test]
async fn persons_page_through_relative_next_links() {
    let (sim, client) = start().await;
    for i in 0..5 {
        sim.state().add_person(
            "Person",
            &format!("Nr{i}"),
            Some(&format!("p{i}@example.com")),
        );
    }
    let listing = client
        .list_persons(&PersonFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(listing.is_clean(), "{:?}", listing.malformed);
    let mut names: Vec<_> = listing
        .items
        .iter()
        .filter_map(|p| p.last_name.clone())
        .collect();
    names.sort();
    assert_eq!(names, vec!["Nr0", "Nr1", "Nr2", "Nr3", "Nr4"]);
    assert_eq!(count(&sim, "GET", "/v2/persons"), 3);

    let by_email = client
        .list_persons(&PersonFilter {
            emails: vec!["p3@example.com".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_email.items.len(), 1);
    assert_eq!(by_email.items[0].last_name.as_deref(), Some("Nr3"));
}

#[tokio::test]
async fn attendance_periods_page_through_absolute_next_links_and_filter_by_local_time() {
    let (sim, client) = start().await;
    let person = sim.state().add_person("Lena", "Vogt", None);
    let other = sim.state().add_person("Max", "Muster", None);
    for day in 2..=6 {
        let d = date(2025, 3, day);
        sim.state().add_attendance(
            &person,
            simulators::personio::model::AttendanceType::Work,
            d.at(8, 0, 0, 0),
            Some(d.at(12, 0, 0, 0)),
        );
    }
    sim.state().add_attendance(
        &other,
        simulators::personio::model::AttendanceType::Work,
        at(8, 0),
        Some(at(9, 0)),
    );
    let listing = client
        .list_attendance_periods(&AttendanceFilter {
            person_ids: vec![person.clone()],
            start_from: Some(date(2025, 3, 3).at(0, 0, 0, 0)),
            start_to: Some(date(2025, 3, 6).at(23, 59, 59, 0)),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(listing.is_clean(), "{:?}", listing.malformed);
    let mut starts: Vec<_> = listing.items.iter().map(|a| a.start.date_time).collect();
    starts.sort();
    assert_eq!(
        starts,
        (3..=6)
            .map(|d| date(2025, 3, d).at(8, 0, 0, 0))
            .collect::<Vec<_>>()
    );
    assert!(listing.items.iter().all(|a| a.person.id == person));
    assert_eq!(count(&sim, "GET", "/v2/attendance-periods"), 2);
}

#[tokio::test]
async fn a_repeated_cursor_stops_with_a_paging_loop_error() {
    let stub = StubServer::start(|method, target| match (method, target) {
        ("POST", "/v2/auth/token") => Canned::json(
            200,
            serde_json::json!({"access_token": "papi-stub", "token_type": "Bearer", "expires_in": 86400}),
        ),
        _ => Canned::json(
            200,
            serde_json::json!({"_data": [{"id": "1"}],
                "_meta": {"links": {"next": {"href": "https://api.personio.de/v2/persons?cursor=cur_same"}}}}),
        ),
    })
    .await;
    let client = PersonioClient::new(config_for(&stub.base_url, CLIENT_SECRET)).unwrap();
    let err = client
        .list_persons(&PersonFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PersonioError::PagingLoop { href } if href.contains("cur_same")),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Decode);
    let pages = stub
        .hits()
        .iter()
        .filter(|h| h.starts_with("GET /v2/persons"))
        .count();
    assert_eq!(
        pages, 2,
        "first page, then the cursor once; its repeat is not fetched"
    );
}

#[tokio::test]
async fn a_malformed_record_is_reported_without_failing_the_list() {
    let stub = StubServer::start(|method, _| match method {
        "POST" => Canned::json(
            200,
            serde_json::json!({"access_token": "papi-stub", "expires_in": 86400}),
        ),
        _ => Canned::json(
            200,
            serde_json::json!({"_data": [
                {"id": "a1", "type": "WORK", "person": {"id": "7"}, "start": {"date_time": "2025-03-03T08:00:00"},
                 "end": {"date_time": "2025-03-03T12:00:00"}},
                {"id": "a2", "type": "WORK", "person": {"id": "7"}, "start": {"date_time": "03.03.2025 08:00"}},
                {"id": "a3", "type": "BREAK", "person": {"id": "7"}, "start": {"date_time": "2025-03-03T12:00:00.000"},
                 "end": {"date_time": "2025-03-03T12:30:00"}}
            ], "_meta": {"links": {"self": {"href": "/v2/attendance-periods"}}}}),
        ),
    })
    .await;
    let client = PersonioClient::new(config_for(&stub.base_url, CLIENT_SECRET)).unwrap();
    let listing = client
        .list_attendance_periods(&AttendanceFilter::default())
        .await
        .unwrap();
    let ids: Vec<_> = listing.items.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec!["a1", "a3"]);
    assert_eq!(listing.malformed.len(), 1);
    assert_eq!(listing.malformed[0].id.as_deref(), Some("a2"));
    assert!(listing.malformed[0].error.contains("03.03.2025"));
}

#[tokio::test]
async fn throttling_is_retried_until_it_passes() {
    let (sim, client) = start().await;
    sim.state().add_person("Lena", "Vogt", None);
    sim.inject(FaultRule::new("/v2/persons", Fault::Status(429), 2).with_method("GET"));
    let listing = client.list_persons(&PersonFilter::default()).await.unwrap();
    assert_eq!(listing.items.len(), 1);
    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/v2/persons")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 429, 200]);
}

#[tokio::test]
async fn throttling_beyond_the_attempts_is_rate_limited() {
    let (sim, client) = start().await;
    sim.inject(FaultRule::new("/v2/persons", Fault::Status(429), 5).with_method("GET"));
    let err = client
        .list_persons(&PersonFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::RateLimited);
    assert_eq!(count(&sim, "GET", "/v2/persons"), 3);
}

#[tokio::test]
async fn server_errors_are_retried_on_get_but_not_on_post() {
    let (sim, client) = start().await;
    let person = sim.state().add_person("Lena", "Vogt", None);
    sim.inject(FaultRule::new("/v2/persons", Fault::Status(500), 2).with_method("GET"));
    client.get_person(&person).await.unwrap();
    assert_eq!(count(&sim, "GET", &format!("/v2/persons/{person}")), 3);

    sim.inject(FaultRule::new("/v2/attendance-periods", Fault::Status(503), 1).with_method("POST"));
    let err = client
        .create_attendance_period(
            &NewAttendancePeriod {
                person: IdRef::new(&person),
                kind: AttendanceKind::Work,
                start: at(9, 0).into(),
                end: Some(at(12, 0).into()),
                comment: None,
                project: None,
            },
            true,
        )
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(err.status(), Some(503));
    assert_eq!(count(&sim, "POST", "/v2/attendance-periods"), 1);
    assert!(sim.state().attendance_periods.is_empty());
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let (sim, _) = start().await;
    let client = PersonioClient::new(PersonioClientConfig {
        timeout: Duration::from_millis(300),
        retry: RetryPolicy::quick(2),
        ..config_for(&sim.base_url(), CLIENT_SECRET)
    })
    .unwrap();
    client.check().await.unwrap();
    sim.inject(
        FaultRule::new("/v2/persons", Fault::Hang(Duration::from_secs(3)), 2).with_method("GET"),
    );
    let err = client.check().await.unwrap_err();
    match &err {
        PersonioError::Transport(t) => assert_eq!(t.kind, TransportKind::Timeout),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Transient);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_on_get_and_reported_on_post() {
    let (sim, client) = start().await;
    let person = sim.state().add_person("Lena", "Vogt", None);
    client.check().await.unwrap();
    sim.inject(FaultRule::new("/v2/persons", Fault::DropConnection, 1).with_method("GET"));
    client.get_person(&person).await.unwrap();

    sim.inject(FaultRule::new("/v2/persons", Fault::DropConnection, 1).with_method("POST"));
    let err = client
        .create_person(&NewPerson {
            first_name: "Max".into(),
            last_name: "Muster".into(),
            email: None,
            preferred_name: None,
            gender: None,
            language_code: None,
            custom_attributes: Vec::new(),
            employments: Vec::new(),
        })
        .await
        .unwrap_err();
    match &err {
        PersonioError::Transport(t) => assert_eq!(t.kind, TransportKind::Connect, "{t}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(count(&sim, "POST", "/v2/persons"), 1);
}

#[tokio::test]
async fn the_servers_rate_limit_headers_keep_the_client_out_of_429() {
    let (sim, _) = start_with(PersonioConfig {
        rate_limit: Some(simulators::RateLimit {
            replenish_per_sec: 20,
            burst: 2,
        }),
        ..PersonioConfig::default()
    })
    .await;
    // No retries: a single 429 would fail the call.
    let client = PersonioClient::new(PersonioClientConfig {
        retry: RetryPolicy::none(),
        ..config_for(&sim.base_url(), CLIENT_SECRET)
    })
    .unwrap();
    for _ in 0..6 {
        client.check().await.unwrap();
    }
    assert!(sim.requests().iter().all(|r| r.status != 429));
}

#[tokio::test]
async fn person_and_employment_round_trip() {
    let (sim, client) = start().await;
    let id = client
        .create_person(&NewPerson {
            first_name: "Jürgen".into(),
            last_name: "Größ".into(),
            email: Some("juergen.groess@example.com".into()),
            preferred_name: None,
            gender: None,
            language_code: Some("de".into()),
            custom_attributes: Vec::new(),
            employments: Vec::new(),
        })
        .await
        .unwrap();
    let person = client.get_person(&id).await.unwrap();
    assert_eq!(person.last_name.as_deref(), Some("Größ"));
    assert_eq!(person.email.as_deref(), Some("juergen.groess@example.com"));

    client
        .update_person(
            &id,
            &PersonPatch {
                first_name: Some("Jürgen-Otto".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        client.get_person(&id).await.unwrap().first_name.as_deref(),
        Some("Jürgen-Otto")
    );

    let employments = client.list_employments(&id).await.unwrap();
    assert!(employments.is_clean(), "{:?}", employments.malformed);
    if let Some(employment) = employments.items.first() {
        client
            .update_employment(
                &id,
                &employment.id,
                &EmploymentPatch {
                    status: Some(EmploymentStatus::Inactive),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let reread = client.get_employment(&id, &employment.id).await.unwrap();
        assert_eq!(reread.status, Some(EmploymentStatus::Inactive));
    }

    let bad = client
        .create_person(&NewPerson {
            first_name: "X".into(),
            last_name: "Y".into(),
            email: None,
            preferred_name: None,
            gender: Some("NOT_A_GENDER".into()),
            language_code: None,
            custom_attributes: Vec::new(),
            employments: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400));
    assert_eq!(bad.class(), ErrorClass::Validation);

    client.delete_person(&id).await.unwrap();
    let gone = client.get_person(&id).await.unwrap_err();
    assert_eq!(gone.class(), ErrorClass::NotFound);
    assert_eq!(sim.state().persons.len(), 0);
}

#[tokio::test]
async fn attendance_round_trip_and_validation_errors() {
    let (sim, client) = start().await;
    let person = sim.state().add_person("Lena", "Vogt", None);
    let new = NewAttendancePeriod {
        person: IdRef::new(&person),
        kind: AttendanceKind::Work,
        start: at(9, 0).into(),
        end: Some(at(17, 30).into()),
        comment: Some("Imported from clock terminal".into()),
        project: None,
    };
    // Without skip_approval the period stays PENDING and can still be changed.
    let id = client.create_attendance_period(&new, false).await.unwrap();
    let read = client.get_attendance_period(&id).await.unwrap();
    assert_eq!(read.status(), Some(&AttendanceStatus::Pending));
    assert_eq!(read.start.date_time, at(9, 0));
    assert_eq!(read.end.map(|e| e.date_time), Some(at(17, 30)));
    assert_eq!(
        read.comment.as_deref(),
        Some("Imported from clock terminal")
    );

    client
        .update_attendance_period(
            &id,
            &AttendancePatch {
                end: Some(at(16, 0).into()),
                ..Default::default()
            },
            false,
        )
        .await
        .unwrap();
    let read = client.get_attendance_period(&id).await.unwrap();
    assert_eq!(read.end.map(|e| e.date_time), Some(at(16, 0)));

    let backwards = client
        .create_attendance_period(
            &NewAttendancePeriod {
                start: at(18, 0).into(),
                end: Some(at(17, 0).into()),
                ..new.clone()
            },
            true,
        )
        .await
        .unwrap_err();
    assert_eq!(backwards.status(), Some(422));
    assert_eq!(backwards.class(), ErrorClass::Validation);
    assert!(matches!(&backwards, PersonioError::Api { problems, .. } if !problems.is_empty()));

    // With skip_approval it is CONFIRMED at once, and the simulator locks confirmed periods (422).
    let confirmed = client
        .create_attendance_period(
            &NewAttendancePeriod {
                start: date(2025, 3, 5).at(9, 0, 0, 0).into(),
                end: Some(date(2025, 3, 5).at(12, 0, 0, 0).into()),
                ..new.clone()
            },
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        client
            .get_attendance_period(&confirmed)
            .await
            .unwrap()
            .status(),
        Some(&AttendanceStatus::Confirmed)
    );
    let locked = client
        .update_attendance_period(&confirmed, &AttendancePatch::default(), true)
        .await
        .unwrap_err();
    assert_eq!(locked.class(), ErrorClass::Validation);

    client.delete_attendance_period(&id).await.unwrap();
    let gone = client.get_attendance_period(&id).await.unwrap_err();
    assert_eq!(gone.class(), ErrorClass::NotFound);
}

#[tokio::test]
async fn absence_types_and_absence_periods_round_trip_with_conflicts_typed() {
    let (sim, client) = start().await;
    let type_id = add_absence_type(&sim);
    let person = sim.state().add_person("Lena", "Vogt", None);

    let types = client.list_absence_types().await.unwrap();
    assert!(types.is_clean());
    assert_eq!(types.items.len(), sim.state().absence_types.len());
    assert!(types.items.iter().any(|t| t.id == type_id));
    let vacation = client.get_absence_type(&type_id).await.unwrap();
    assert_eq!(vacation.unit, Some(AbsenceUnit::Day));
    assert_eq!(vacation.name.as_deref(), Some("Vacation"));

    let day = |d: i8| date(2025, 7, d).at(0, 0, 0, 0);
    let new = NewAbsencePeriod {
        person: IdRef::new(&person),
        absence_type: IdRef::new(&type_id),
        starts_from: AbsenceBoundary {
            date_time: day(14),
            half_day: None,
        },
        ends_at: Some(AbsenceBoundary {
            date_time: day(18),
            half_day: Some(HalfDay::FirstHalf),
        }),
        comment: Some("Summer trip".into()),
        substitute: None,
    };
    let id = client.create_absence_period(&new, true).await.unwrap();
    let read = client.get_absence_period(&id).await.unwrap();
    assert_eq!(read.starts_from.date_time, day(14));
    assert_eq!(
        read.ends_at.as_ref().and_then(|e| e.half_day.clone()),
        Some(HalfDay::FirstHalf)
    );

    let overlap = client.create_absence_period(&new, true).await.unwrap_err();
    assert_eq!(overlap.status(), Some(409));
    assert_eq!(overlap.class(), ErrorClass::Conflict);

    client
        .update_absence_period(
            &id,
            &AbsencePatch {
                ends_at: Some(AbsenceBoundary {
                    date_time: day(16),
                    half_day: None,
                }),
                ..Default::default()
            },
            true,
        )
        .await
        .unwrap();
    let listing = client
        .list_absence_periods(&AbsenceFilter {
            person_ids: vec![person.clone()],
            starts_from_lte: Some(day(31)),
            ends_at_gte: Some(day(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(listing.is_clean(), "{:?}", listing.malformed);
    assert_eq!(listing.items.len(), 1);
    assert_eq!(
        listing.items[0].ends_at.as_ref().map(|e| e.date_time),
        Some(day(16))
    );

    client.delete_absence_period(&id).await.unwrap();
    assert_eq!(
        client.get_absence_period(&id).await.unwrap_err().class(),
        ErrorClass::NotFound
    );
}

#[tokio::test]
async fn the_seed_company_parses_without_malformed_records() {
    let sim = PersonioSim::start(PersonioConfig::default(), &Seed::company(date(2025, 3, 10)))
        .await
        .unwrap();
    let client = PersonioClient::new(config_for(&sim.base_url(), CLIENT_SECRET)).unwrap();
    let persons = client.list_persons(&PersonFilter::default()).await.unwrap();
    assert!(persons.is_clean(), "{:?}", persons.malformed);
    assert_eq!(persons.items.len(), sim.state().persons.len());
    let attendances = client
        .list_attendance_periods(&AttendanceFilter::default())
        .await
        .unwrap();
    assert!(attendances.is_clean(), "{:?}", attendances.malformed);
    assert_eq!(
        attendances.items.len(),
        sim.state().attendance_periods.len()
    );
    let absences = client
        .list_absence_periods(&AbsenceFilter::default())
        .await
        .unwrap();
    assert!(absences.is_clean(), "{:?}", absences.malformed);
    let types = client.list_absence_types().await.unwrap();
    assert!(types.is_clean(), "{:?}", types.malformed);
}
