//! Invariants of the seed company, and the checked-in fixture staying in sync with the generator.

use std::collections::BTreeSet;

use jiff::civil::{date, Date, Weekday};
use jiff::tz::TimeZone;
use simulators::personio::model::{AttendanceType, EmploymentStatus, HalfDay};
use simulators::personio::PersonioState;
use simulators::seed::company::{last_dst_sunday, who, COMPANY_TIME_ZONE};
use simulators::{PersonioConfig, PersonioSim, Seed};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/seed/company.json");

fn today() -> Date {
    date(2026, 11, 27)
}

#[test]
fn the_fixture_file_is_the_generated_company() {
    // Regenerate with: cargo run -p simulators --bin simulators -- --today 2026-11-27 --write-seed tests/fixtures/seed/company.json
    let file = Seed::from_json_file(FIXTURE).expect("fixture readable");
    assert!(
        file == Seed::company(today()),
        "fixture is stale; regenerate it (see comment)"
    );
    assert_eq!(
        Seed::from_json_file(FIXTURE).unwrap().to_json_pretty(),
        std::fs::read_to_string(FIXTURE).unwrap()
    );
}

#[test]
fn the_company_depends_only_on_today() {
    assert!(Seed::company(today()) == Seed::company(today()));
    let other = Seed::company(date(2027, 4, 15));
    assert!(other != Seed::company(today()));
    assert_eq!(
        other.personio.persons.len(),
        Seed::company(today()).personio.persons.len()
    );
}

#[test]
fn empty_seed_has_only_the_absence_type_catalogues() {
    let seed = Seed::empty();
    assert!(seed.personio.persons.is_empty() && seed.timetrack.users.is_empty());
    assert_eq!(seed.personio.absence_types.len(), 4);
    let names: Vec<&str> = seed
        .timetrack
        .absence_types
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Urlaub",
            "Urlaub (½ Tag)",
            "Sonderurlaub",
            "Homeoffice",
            "Krankenstand",
            "Zeitausgleich"
        ]
    );
}

#[test]
fn the_people_cover_every_linking_case() {
    let seed = Seed::company(today());
    let persons = &seed.personio.persons;
    let users = &seed.timetrack.users;
    assert!(persons.len() >= 25);
    assert!(persons
        .iter()
        .any(|p| p.first_name == "Jürgen" && p.last_name == "Müller"));
    assert!(persons
        .iter()
        .any(|p| p.first_name == "Zoë" && p.last_name == "Schäfer"));
    assert!(persons
        .iter()
        .any(|p| p.first_name == "Björn" && p.last_name == "Weiß"));
    let person = |id: &str| persons.iter().find(|p| p.id == id).unwrap();
    let employment = |id: &str| {
        seed.personio
            .employments
            .iter()
            .find(|e| e.person.id == id)
            .unwrap()
    };

    assert_eq!(employment(who::PART_TIMER).weekly_working_hours, Some(20.0));
    let leaver = employment(who::LEAVER);
    assert_eq!(leaver.status, EmploymentStatus::Inactive);
    assert!(leaver.termination.is_some());
    let hire = person(who::NEW_HIRE);
    assert_eq!(
        hire.created_at.to_zoned(TimeZone::UTC).date(),
        date(2026, 11, 26)
    );
    assert!(employment(who::NEW_HIRE).employment_start_date > Some(today()));
    assert!(seed
        .personio
        .employments
        .iter()
        .all(|e| !e.org_units.is_empty() && e.office.is_some()));

    let personio_emails: BTreeSet<String> =
        persons.iter().filter_map(|p| p.email.clone()).collect();
    let linked_by_email = users
        .iter()
        .filter(|u| personio_emails.contains(&u.email.to_lowercase()))
        .count();
    assert!(
        linked_by_email * 4 >= persons.len() * 3,
        "most persons exist in TimeTrack"
    );
    // Same address, different case.
    let zoe = person(who::ZOE_SCHAEFER).email.clone().unwrap();
    assert!(users
        .iter()
        .any(|u| u.email != zoe && u.email.eq_ignore_ascii_case(&zoe)));
    // Linkable only by personal number.
    let elif = person(who::ELIF_SAHIN);
    let number = elif
        .custom_attributes
        .iter()
        .find(|a| a.global_id == "personal_number")
        .unwrap();
    assert_eq!(number.kind, "int");
    assert!(number.value.is_number());
    let elif_user = users
        .iter()
        .find(|u| u.personal_number == number.value.as_i64())
        .unwrap();
    assert!(!elif_user
        .email
        .eq_ignore_ascii_case(elif.email.as_deref().unwrap()));
    // Only in TimeTrack.
    let only = users
        .iter()
        .find(|u| u.username == who::TIMETRACK_ONLY_USERNAME)
        .unwrap();
    assert!(!personio_emails.contains(&only.email.to_lowercase()));
    // Username collision: Thomas Müller's e-mail local part is taken by someone else in TimeTrack.
    let thomas = person(who::THOMAS_MUELLER).email.clone().unwrap();
    let taken = users
        .iter()
        .find(|u| u.username == who::COLLIDING_USERNAME)
        .unwrap();
    assert!(thomas.starts_with(&format!("{}@", taken.username)) && taken.email != thomas);
    assert!(!users.iter().any(|u| u.email.eq_ignore_ascii_case(&thomas)));
}

#[test]
fn attendances_hold_twins_one_sided_entries_night_shifts_and_the_dst_weekend() {
    let seed = Seed::company(today());
    let zone = TimeZone::get(COMPANY_TIME_ZONE).unwrap();
    let username_of = |person: &str| {
        let email = seed
            .personio
            .persons
            .iter()
            .find(|p| p.id == person)?
            .email
            .clone()?;
        seed.timetrack
            .users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(&email))
            .map(|u| u.username.clone())
    };
    let mut twins = 0;
    let mut personio_only = 0;
    for work in seed
        .personio
        .attendance_periods
        .iter()
        .filter(|a| a.kind == AttendanceType::Work)
    {
        let Some(username) = username_of(&work.person.id) else {
            continue;
        };
        let from = zone
            .to_ambiguous_zoned(work.start.date_time)
            .compatible()
            .unwrap()
            .timestamp();
        let to = zone
            .to_ambiguous_zoned(work.end.unwrap().date_time)
            .compatible()
            .unwrap()
            .timestamp();
        let breaks: i64 = seed
            .personio
            .attendance_periods
            .iter()
            .filter(|b| b.kind == AttendanceType::Break && b.person == work.person)
            .filter(|b| {
                b.start.date_time >= work.start.date_time
                    && b.end.unwrap().date_time <= work.end.unwrap().date_time
            })
            .map(|b| {
                b.start
                    .date_time
                    .duration_until(b.end.unwrap().date_time)
                    .as_mins()
            })
            .sum();
        match seed
            .timetrack
            .attendances
            .iter()
            .find(|t| t.user == username && t.from == from)
        {
            Some(t) if t.to == to && t.break_minutes == breaks => twins += 1,
            Some(_) => {}
            None => personio_only += 1,
        }
    }
    assert!(twins > 100, "twins: {twins}");
    assert!(personio_only > 5, "personio only: {personio_only}");
    let timetrack_only = seed.timetrack.attendances.iter().filter(|t| {
        let local = t.from.to_zoned(zone.clone()).datetime();
        !seed
            .personio
            .attendance_periods
            .iter()
            .any(|a| a.start.date_time == local)
    });
    assert!(timetrack_only.count() > 5);
    // The month before today has entries; nothing is in the future.
    let first = seed
        .personio
        .attendance_periods
        .iter()
        .map(|a| a.start.date_time.date())
        .min()
        .unwrap();
    assert!(first <= date(2026, 10, 28));
    assert!(seed
        .personio
        .attendance_periods
        .iter()
        .all(|a| a.start.date_time.date() < today()));

    // The overnight shift: one TimeTrack entry across midnight, two Personio WORK periods meeting at 00:00.
    let overnight = seed
        .timetrack
        .attendances
        .iter()
        .filter(|t| t.user == "mehmet.yilmaz")
        .filter(|t| t.from.to_zoned(zone.clone()).date() != t.to.to_zoned(zone.clone()).date())
        .count();
    assert_eq!(overnight, 2);
    let split = seed.personio.attendance_periods.iter().filter(|a| {
        a.person.id == who::MEHMET_YILMAZ
            && a.kind == AttendanceType::Work
            && a.comment.as_deref() == Some("Nachtschicht")
    });
    assert_eq!(split.count(), 2);

    // The DST weekend (last Sunday of October 2026).
    let sunday = last_dst_sunday(today());
    assert_eq!(
        (sunday, sunday.weekday()),
        (date(2026, 10, 25), Weekday::Sunday)
    );
    let dst_shift = seed
        .timetrack
        .attendances
        .iter()
        .find(|t| t.user == "joerg.baer" && t.from.to_zoned(zone.clone()).date() == sunday)
        .unwrap();
    assert_eq!(
        dst_shift.to.as_second() - dst_shift.from.as_second(),
        7 * 3600,
        "01:00–07:00 on fall-back day is 7 h"
    );
    assert_eq!(last_dst_sunday(date(2026, 5, 1)), date(2026, 3, 29));
    assert_eq!(last_dst_sunday(date(2026, 2, 1)), date(2025, 10, 26));
}

#[test]
fn absences_cover_half_days_statuses_and_unmapped_types() {
    let seed = Seed::company(today());
    let absences = &seed.personio.absence_periods;
    assert!(absences
        .iter()
        .any(|a| a.ends_at.and_then(|e| e.half) == Some(HalfDay::FirstHalf)));
    assert!(absences
        .iter()
        .any(|a| a.starts_from.half == Some(HalfDay::SecondHalf)));
    assert!(
        absences.iter().any(|a| a.ends_at.is_none()),
        "an ongoing sick leave"
    );
    let statuses: BTreeSet<String> = absences
        .iter()
        .map(|a| format!("{:?}", a.approval.status))
        .collect();
    assert!(["Approved", "Pending", "Rejected"]
        .iter()
        .all(|s| statuses.contains(*s)));
    let latest = absences
        .iter()
        .filter_map(|a| a.ends_at)
        .map(|e| e.date_time.date())
        .max()
        .unwrap();
    assert!(
        latest > date(2027, 2, 1) && latest <= date(2027, 2, 27),
        "up to three months ahead: {latest}"
    );
    assert!(absences
        .iter()
        .any(|a| a.starts_from.date_time.date() < today()));

    let tt = &seed.timetrack.absences;
    assert!(tt.iter().any(|a| a.absence_type_name == "Urlaub (½ Tag)"));
    assert!(tt.iter().any(|a| a.absence_type_name == "Sonderurlaub"));
    assert!(tt.iter().any(|a| a.absence_type_name == "Krankenstand"));
    assert!([0, 1, 2].iter().all(|s| tt.iter().any(|a| a.status == *s)));
}

#[tokio::test]
async fn every_seed_record_passes_the_simulators_own_write_rules() {
    let sim = PersonioSim::start(PersonioConfig::default(), &Seed::company(today()))
        .await
        .unwrap();
    let state = sim.state();
    let check: &PersonioState = &state;
    for period in check.attendance_periods.values() {
        check
            .validate_attendance(period, Some(&period.id))
            .unwrap_or_else(|e| panic!("{period:?}: {e}"));
    }
    for absence in check.absence_periods.values() {
        check
            .validate_absence(absence, Some(&absence.id))
            .unwrap_or_else(|e| panic!("{absence:?}: {e}"));
    }
}
