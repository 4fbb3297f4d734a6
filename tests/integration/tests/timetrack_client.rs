//! Contract tests of `shared::connectors::timetrack::TimeTrackClient` against the TimeTrack simulator
//! (and, for answers a faithful simulator never gives, a canned stub server).
use std::time::Duration;

use jiff::civil::date;
use secrecy::SecretString;
use shared::connectors::http::{RetryPolicy, TransportKind};
use shared::connectors::timetrack::*;
use shared::connectors::ErrorClass;
use simulators::{Fault, FaultRule, Seed, TimeTrackConfig, TimeTrackSim};

mod stub_http;
use stub_http::{Canned, StubServer};

const API_KEY: &str = "tt-sim-key";
const API_SECRET: &str = "tt-sim-secret";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

fn config_for(template: &str, api_secret: &str) -> TimeTrackClientConfig {
    TimeTrackClientConfig {
        base_url_template: template.to_string(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy::quick(3),
        rate_limit: None,
        ..TimeTrackClientConfig::new("acme", secret(API_KEY), secret(api_secret))
    }
}

async fn start() -> (TimeTrackSim, TimeTrackClient) {
    let sim = TimeTrackSim::start(TimeTrackConfig::default(), &Seed::empty())
        .await
        .unwrap();
    let client = TimeTrackClient::new(config_for(&sim.base_url_template(), API_SECRET)).unwrap();
    (sim, client)
}

/// Requests whose path relative to the ext root starts with `prefix`, as `(method, query, status)`.
fn requests(sim: &TimeTrackSim, prefix: &str) -> Vec<(String, Option<String>, u16)> {
    sim.requests()
        .into_iter()
        .filter(|r| r.api_path.starts_with(prefix))
        .map(|r| (r.method, r.query, r.status))
        .collect()
}

fn ts(day: i8, h: i8, m: i8) -> TimeTrackTimestamp {
    TimeTrackTimestamp::new(date(2025, 3, day).at(h, m, 0, 0))
}

fn add_absence_type(sim: &TimeTrackSim) -> i64 {
    sim.state().absence_types.insert(
        3,
        simulators::timetrack::model::AbsenceType {
            id: 3,
            name: "U".into(),
            color: "#2ecc71".into(),
            is_plannable: true,
        },
    );
    3
}

fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        first_name: "Jürgen".into(),
        last_name: "Größ".into(),
        email: format!("{username}@example.com"),
        password: secret("Gen3rated-Pass-42"),
        team_lead: Some(false),
        admin: Some(false),
        language: Some("de".into()),
        personal_number: Some("1007".into()),
    }
}

#[tokio::test]
async fn check_reads_one_user_through_the_account_template() {
    let (sim, client) = start().await;
    sim.state()
        .add_user("lena.vogt", "Lena", "Vogt", "lena.vogt@example.com");
    client.check().await.unwrap();
    let log = sim.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].path, "/acme/api/v2/ext/users");
    assert_eq!(log[0].query.as_deref(), Some("page_number=0&limit=1"));
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_that_names_no_secret() {
    let sim = TimeTrackSim::start(TimeTrackConfig::default(), &Seed::empty())
        .await
        .unwrap();
    let stale = "stale-secret-9d2e";
    let config = config_for(&sim.base_url_template(), stale);
    let client = TimeTrackClient::new(config.clone()).unwrap();
    let err = client.check().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    assert!(matches!(err.status(), Some(401 | 403)), "{err:?}");
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{config:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(stale), "secret leaked in {text}");
        assert!(!text.contains(API_KEY), "API key leaked in {text}");
    }
}

#[tokio::test]
async fn users_round_trip_and_delete_disables() {
    let (sim, client) = start().await;
    let id = client
        .create_user(&new_user("juergen.groess"))
        .await
        .unwrap();
    let user = client.get_user(id).await.unwrap();
    assert_eq!(user.username, "juergen.groess");
    assert_eq!(user.last_name.as_deref(), Some("Größ"));
    assert_eq!(user.personal_number.as_deref(), Some("1007"));
    assert_eq!(user.enabled, Some(true));

    client
        .update_user(
            id,
            &UserUpdate {
                last_name: Some("Groß".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let found = client.list_users(Some("juergen.groess")).await.unwrap();
    assert!(found.is_clean());
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].last_name.as_deref(), Some("Groß"));
    let filtered = requests(&sim, "/users")
        .into_iter()
        .filter(|(m, q, _)| m == "GET" && q.as_deref().is_some_and(|q| q.contains("username=")))
        .count();
    assert_eq!(filtered, 1);

    let duplicate = client
        .create_user(&new_user("juergen.groess"))
        .await
        .unwrap_err();
    assert_eq!(duplicate.class(), ErrorClass::Conflict);

    client.delete_user(id).await.unwrap();
    assert_eq!(client.get_user(id).await.unwrap().enabled, Some(false));
    assert_eq!(
        client.get_user(9_999_999).await.unwrap_err().class(),
        ErrorClass::NotFound
    );
}

#[tokio::test]
async fn lists_page_until_a_short_page() {
    let (sim, client) = start().await;
    for i in 0..5 {
        sim.state().add_user(
            &format!("user{i}"),
            "U",
            &format!("Nr{i}"),
            &format!("u{i}@example.com"),
        );
    }
    let client_of = |page_size| {
        TimeTrackClient::new(TimeTrackClientConfig {
            page_size,
            ..config_for(&sim.base_url_template(), API_SECRET)
        })
        .unwrap()
    };
    let listing = client_of(2).list_users(None).await.unwrap();
    let mut names: Vec<_> = listing.items.iter().map(|u| u.username.clone()).collect();
    names.sort();
    assert_eq!(names, vec!["user0", "user1", "user2", "user3", "user4"]);
    let pages: Vec<_> = requests(&sim, "/users")
        .into_iter()
        .map(|(_, q, _)| q.unwrap_or_default())
        .collect();
    assert_eq!(
        pages,
        vec![
            "page_number=0&limit=2",
            "page_number=1&limit=2",
            "page_number=2&limit=2"
        ]
    );

    // An exact multiple of the page size needs one more (empty) page to know it is the end.
    sim.clear_requests();
    let listing = client_of(5).list_users(None).await.unwrap();
    assert_eq!(listing.items.len(), 5);
    assert_eq!(requests(&sim, "/users").len(), 2);
    drop(client);
}

#[tokio::test]
async fn a_server_ignoring_page_number_is_caught() {
    let stub = StubServer::start(|_, _| {
        Canned::json(
            200,
            serde_json::json!([
                {"id": 1, "username": "a"},
                {"id": 2, "username": "b"}
            ]),
        )
    })
    .await;
    let client = TimeTrackClient::new(TimeTrackClientConfig {
        page_size: 2,
        ..config_for(&format!("{}/api/v2/ext", stub.base_url), API_SECRET)
    })
    .unwrap();
    let err = client.list_users(None).await.unwrap_err();
    assert!(
        matches!(err, TimeTrackError::PagingLoop { page_number: 1, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Decode);
    assert_eq!(stub.hits().len(), 2);
}

#[tokio::test]
async fn a_malformed_record_is_reported_without_failing_the_list() {
    let stub = StubServer::start(|_, _| {
        Canned::json(
            200,
            serde_json::json!([
                {"id": 1, "user": "max", "from": "2025-03-03T08:00:00.000Z", "to": "2025-03-03T12:00:00.000Z", "breakMinutes": 0},
                {"id": 2, "user": "max", "from": "yesterday morning"},
                {"id": 3, "user": "max", "from": "2025-03-04T08:00:00Z", "to": "2025-03-04T12:00:00Z", "manual": "1"}
            ]),
        )
    })
    .await;
    let client = TimeTrackClient::new(config_for(
        &format!("{}/api/v2/ext", stub.base_url),
        API_SECRET,
    ))
    .unwrap();
    let listing = client
        .list_attendances(&AttendanceQuery::default())
        .await
        .unwrap();
    assert_eq!(
        listing.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert_eq!(listing.malformed.len(), 1);
    assert_eq!(listing.malformed[0].id.as_deref(), Some("2"));
}

#[tokio::test]
async fn attendances_round_trip_and_a_deleted_one_answers_15020() {
    let (sim, client) = start().await;
    sim.state()
        .add_user("max", "Max", "Muster", "max@example.com");
    let id = client
        .create_attendance(&NewAttendance {
            username: "max".into(),
            from: ts(3, 8, 0),
            to: ts(3, 16, 30),
            notes: Some("Frühschicht".into()),
            break_minutes: Some(30),
        })
        .await
        .unwrap();
    let read = client.get_attendance(id).await.unwrap();
    assert_eq!(read.user, "max");
    assert_eq!(read.from.wall, ts(3, 8, 0).wall);
    assert_eq!(read.break_minutes, Some(30));
    assert_eq!(read.worked_minutes, Some(480));

    client
        .update_attendance(
            id,
            &AttendanceUpdate {
                username: Some("max".into()),
                from: Some(ts(3, 9, 0)),
                to: Some(ts(3, 17, 0)),
                notes: None,
                break_minutes: Some(45),
            },
        )
        .await
        .unwrap();
    sim.state().add_attendance(
        "max",
        "2025-03-10T08:00:00Z".parse().unwrap(),
        "2025-03-10T12:00:00Z".parse().unwrap(),
        0,
    );
    let window = client
        .list_attendances(&AttendanceQuery {
            username: Some("max".into()),
            from: Some(ts(1, 0, 0)),
            to: Some(ts(8, 0, 0)),
        })
        .await
        .unwrap();
    assert!(window.is_clean(), "{:?}", window.malformed);
    assert_eq!(window.items.len(), 1);
    assert_eq!(window.items[0].break_minutes, Some(45));
    let query = requests(&sim, "/attendances")
        .into_iter()
        .filter_map(|(m, q, _)| (m == "GET").then_some(q).flatten())
        .find(|q| q.contains("username="))
        .unwrap();
    assert!(query.contains("from=2025-03-01T00%3A00%3A00Z"), "{query}");

    client.delete_attendance(id).await.unwrap();
    let err = client.get_attendance(id).await.unwrap_err();
    assert!(matches!(err, TimeTrackError::Deleted { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NotFound);
}

#[tokio::test]
async fn absences_change_only_their_status_in_place() {
    let (sim, client) = start().await;
    let kind = add_absence_type(&sim);
    sim.state()
        .add_user("max", "Max", "Muster", "max@example.com");
    let id = client
        .create_absence(&NewAbsence {
            username: "max".into(),
            from: date(2025, 7, 14),
            to: date(2025, 7, 18),
            absence_type: kind,
            status: None,
        })
        .await
        .unwrap();
    let read = client.get_absence(id).await.unwrap();
    assert_eq!(read.status, AbsenceStatus::Pending);
    assert_eq!(read.absence_type, kind);
    assert_eq!(read.absence_type_name.as_deref(), Some("U"));

    client
        .update_absence_status(id, AbsenceStatus::Approved)
        .await
        .unwrap();
    let listing = client
        .list_absences(&AbsenceQuery {
            username: Some("max".into()),
            from: Some(date(2025, 7, 1)),
            to: Some(date(2025, 7, 31)),
            absence_type: Some(kind),
        })
        .await
        .unwrap();
    assert!(listing.is_clean(), "{:?}", listing.malformed);
    assert_eq!(listing.items.len(), 1);
    assert_eq!(listing.items[0].status, AbsenceStatus::Approved);

    // The simulator refuses a PUT that tries to change anything but the status, as TimeTrack does.
    let raw = reqwest::Client::new()
        .put(format!("{}/absences/{id}", sim.base_url()))
        .header("X-TimeTrack-Api-Key", API_KEY)
        .header("X-TimeTrack-Api-Secret", API_SECRET)
        .header("Content-Type", "application/json")
        .body(r#"{"status": 1, "to": "2025-07-19"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    assert_eq!(client.get_absence(id).await.unwrap().to, date(2025, 7, 18));

    client.delete_absence(id).await.unwrap();
    let err = client.get_absence(id).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
}

#[tokio::test]
async fn a_missing_required_field_is_a_validation_error() {
    let (sim, client) = start().await;
    let kind = add_absence_type(&sim);
    let err = client
        .create_absence(&NewAbsence {
            username: "nobody".into(),
            from: date(2025, 7, 14),
            to: date(2025, 7, 18),
            absence_type: kind,
            status: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err.class(), ErrorClass::Validation | ErrorClass::NotFound),
        "{err:?}"
    );
    assert!(matches!(&err, TimeTrackError::Api { problems, .. } if !problems.is_empty()));
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_on_get_only() {
    let (sim, client) = start().await;
    sim.state()
        .add_user("max", "Max", "Muster", "max@example.com");
    sim.inject(FaultRule::new("/users", Fault::Status(429), 1).with_method("GET"));
    sim.inject(FaultRule::new("/users", Fault::Status(502), 1).with_method("GET"));
    let listing = client.list_users(None).await.unwrap();
    assert_eq!(listing.items.len(), 1);
    let statuses: Vec<u16> = requests(&sim, "/users").iter().map(|r| r.2).collect();
    assert_eq!(statuses, vec![429, 502, 200]);

    sim.inject(FaultRule::new("/attendances", Fault::Status(500), 1).with_method("POST"));
    let err = client
        .create_attendance(&NewAttendance {
            username: "max".into(),
            from: ts(3, 8, 0),
            to: ts(3, 12, 0),
            notes: None,
            break_minutes: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(requests(&sim, "/attendances").len(), 1);
    assert!(sim.state().attendances.is_empty());

    sim.inject(FaultRule::new("/attendances", Fault::Status(429), 1).with_method("POST"));
    client
        .create_attendance(&NewAttendance {
            username: "max".into(),
            from: ts(3, 8, 0),
            to: ts(3, 12, 0),
            notes: None,
            break_minutes: None,
        })
        .await
        .unwrap();
    assert_eq!(
        sim.state().attendances.len(),
        1,
        "429 is retried even on POST"
    );
}

#[tokio::test]
async fn hangs_time_out_and_dropped_connections_are_retried_on_get() {
    let (sim, _) = start().await;
    sim.state()
        .add_user("max", "Max", "Muster", "max@example.com");
    let client = TimeTrackClient::new(TimeTrackClientConfig {
        timeout: Duration::from_millis(300),
        retry: RetryPolicy::quick(2),
        ..config_for(&sim.base_url_template(), API_SECRET)
    })
    .unwrap();

    sim.inject(FaultRule::new("/users", Fault::DropConnection, 1).with_method("GET"));
    assert_eq!(client.list_users(None).await.unwrap().items.len(), 1);

    sim.inject(FaultRule::new("/users", Fault::Hang(Duration::from_secs(3)), 2).with_method("GET"));
    let err = client.check().await.unwrap_err();
    match &err {
        TimeTrackError::Transport(t) => assert_eq!(t.kind, TransportKind::Timeout),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Transient);

    sim.inject(FaultRule::new("/absences", Fault::DropConnection, 1).with_method("POST"));
    let err = client
        .create_absence(&NewAbsence {
            username: "max".into(),
            from: date(2025, 7, 14),
            to: date(2025, 7, 14),
            absence_type: 3,
            status: None,
        })
        .await
        .unwrap_err();
    match &err {
        TimeTrackError::Transport(t) => assert_eq!(t.kind, TransportKind::Connect, "{t}"),
        other => panic!("expected a dropped connection, got {other:?}"),
    }
    assert_eq!(requests(&sim, "/absences").len(), 1);
}

#[tokio::test]
async fn the_seed_company_parses_without_malformed_records() {
    let sim = TimeTrackSim::start(
        TimeTrackConfig::default(),
        &Seed::company(date(2025, 3, 10)),
    )
    .await
    .unwrap();
    let client = TimeTrackClient::new(config_for(&sim.base_url_template(), API_SECRET)).unwrap();
    let users = client.list_users(None).await.unwrap();
    assert!(users.is_clean(), "{:?}", users.malformed);
    assert_eq!(users.items.len(), sim.state().users.len());
    let attendances = client
        .list_attendances(&AttendanceQuery::default())
        .await
        .unwrap();
    assert!(attendances.is_clean(), "{:?}", attendances.malformed);
    let absences = client
        .list_absences(&AbsenceQuery::default())
        .await
        .unwrap();
    assert!(absences.is_clean(), "{:?}", absences.malformed);
}
