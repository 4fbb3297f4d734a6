//! What slicing a time-entries window run (ADR 0029) costs in requests: the same company synced by a
//! sliced and an unsliced runner, through the Lambda handler, the real clients, both simulators and
//! the DynamoDB store on moto, counted from the simulators' request logs.
//!
//! The bound (issue 16): a sliced run may send, per side, at most one more list page per slice boundary
//! than the unsliced run (the partial last page of each slice), no GET-by-id the unsliced run does not
//! send, and the same writes.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test time_entries_slices`.
use std::collections::BTreeMap;

use integration_tests::{start_simulators, writes, WorkflowRig};
use jiff::civil::{date, Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use shared::domain::System;
use shared::runs::RunRecord;
use shared::settings::{IntegrationSettings, TimeEntryMode, TimestampMode, WindowSetting};
use shared::workflows::time_entries::binding::TimeEntriesBinding;
use simulators::seed::LinkedEmployee;
use simulators::timetrack::model as t;
use simulators::{RequestLogEntry, Seed};

const NOW: &str = "2026-11-10T09:00:00Z";

/// People of the generated company: 40 entries a working day, 80–100 Personio periods a day.
const PEOPLE: usize = 40;

/// A company of [`PEOPLE`] working Monday to Friday (TimeTrack only; the first run copies the entries
/// to Personio): day shifts of 8 h with a 30-minute break, and every fifth person on night shifts
/// 22:00–06:00 local (two Personio WORK periods, split at midnight; Friday's ends on Saturday).
fn generated_company() -> Seed {
    let zone = TimeZone::get("Europe/Berlin").expect("zone");
    let created: Timestamp = "2024-01-02T08:00:00Z".parse().expect("timestamp");
    let mut seed = Seed::empty();
    for k in 0..PEOPLE {
        let username = format!("slice.user{k:03}");
        seed.add_linked_employee(LinkedEmployee {
            person_id: 7001 + k as i64,
            user_id: 701 + k as i64,
            username: &username,
            domain: "slices.example",
            first_name: "Slice",
            last_name: &format!("Person {k}"),
            created,
        });
        let mut day: Date = date(2026, 10, 10);
        while day < date(2026, 11, 10) {
            if matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
                day = day.tomorrow().expect("in range");
                continue;
            }
            let night = k % 5 == 0;
            let start = if night {
                day.at(22, 0, 0, 0)
            } else {
                day.at(7, (15 * (k % 4)) as i8, 0, 0)
            };
            let from = start.to_zoned(zone.clone()).expect("local").timestamp();
            let to = from.checked_add(8.hours()).expect("in range");
            let id = 10_001 + seed.timetrack.attendances.len() as i64;
            seed.timetrack.attendances.push(t::Attendance {
                id,
                user: username.clone(),
                from,
                to,
                notes: None,
                manual: false,
                worked_minutes: 8 * 60 - 30,
                break_minutes: 30,
                latitude_start: None,
                longitude_start: None,
                latitude_end: None,
                longitude_end: None,
                deleted: false,
            });
            day = day.tomorrow().expect("in range");
        }
    }
    seed
}

async fn rig(slice_records: usize) -> WorkflowRig<TimeEntriesBinding> {
    let (personio, timetrack) = start_simulators(&generated_company()).await;
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Europe/Berlin".into();
    settings.timetrack_timestamp_mode = TimestampMode::Utc;
    settings.time_entries.mode = TimeEntryMode::Bidirectional;
    settings.time_entries.master = System::TimeTrack;
    settings.personio.attendance_skip_approval = false;
    settings.windows.time_entries = WindowSetting {
        lookback_days: 30,
        lookahead_days: 0,
    };
    let now: Timestamp = NOW.parse().expect("timestamp");
    let (mut rig, _) =
        WorkflowRig::start_linked(personio, timetrack, &settings, TimeEntriesBinding, now).await;
    rig.service.runner.slice_records = slice_records;
    rig
}

/// A run's requests to one system, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Sent {
    /// List pages of attendances (every page, the first of each listing included).
    pages: u64,
    /// Listings (first pages): one per slice.
    listings: u64,
    /// GET of one attendance (period) by id: confirmations.
    gets: BTreeMap<String, u64>,
    /// Everything else but the token and the user/person directory, by `METHOD path`.
    writes: u64,
}

fn personio_sent(log: &[RequestLogEntry]) -> Sent {
    let mut sent = Sent::default();
    for e in log {
        let path = e.api_path.as_str();
        if !path.contains("attendance-periods") {
            continue;
        }
        let by_id = path.trim_end_matches('/').rsplit('/').next() != Some("attendance-periods");
        match (e.method.as_str(), by_id) {
            ("GET", false) => {
                sent.pages += 1;
                if !e.query.as_deref().unwrap_or("").contains("cursor=") {
                    sent.listings += 1;
                }
            }
            ("GET", true) => *sent.gets.entry(path.to_string()).or_default() += 1,
            _ => sent.writes += 1,
        }
    }
    sent
}

fn timetrack_sent(log: &[RequestLogEntry]) -> Sent {
    let mut sent = Sent::default();
    for e in log {
        let path = e.api_path.as_str();
        if !path.starts_with("/attendances") {
            continue;
        }
        let by_id = path.trim_end_matches('/') != "/attendances";
        match (e.method.as_str(), by_id) {
            ("GET", false) => {
                sent.pages += 1;
                let query = e.query.as_deref().unwrap_or("");
                if !query.contains("page_number=") || query.contains("page_number=0") {
                    sent.listings += 1;
                }
            }
            ("GET", true) => *sent.gets.entry(path.to_string()).or_default() += 1,
            _ => sent.writes += 1,
        }
    }
    sent
}

/// One scheduled run on `rig`, with the requests it sent to each system.
async fn counted_run(rig: &WorkflowRig<TimeEntriesBinding>) -> (RunRecord, Sent, Sent) {
    let (p0, t0) = (
        rig.personio.requests().len(),
        rig.timetrack.requests().len(),
    );
    let record = rig.scheduled().await;
    let p = personio_sent(&rig.personio.requests()[p0..]);
    let t = timetrack_sent(&rig.timetrack.requests()[t0..]);
    (record, p, t)
}

/// `sliced` is within the bound of `whole`: one partial page per side per boundary, no extra GET,
/// the same writes.
fn assert_within_bound(what: &str, whole: &Sent, sliced: &Sent, system: &str) {
    assert_eq!(
        whole.listings, 1,
        "{what}: the unsliced run lists {system} once"
    );
    let boundaries = sliced.listings.saturating_sub(1);
    assert!(
        sliced.listings > 2,
        "{what}: the sliced run ran in several slices ({system}: {sliced:?})"
    );
    assert!(
        sliced.pages <= whole.pages + boundaries,
        "{what}: {system} list pages sliced {} > unsliced {} + {boundaries} boundaries",
        sliced.pages,
        whole.pages
    );
    // Ids the first run created differ between the two rigs: GETs are compared by number.
    let gets = |s: &Sent| s.gets.values().sum::<u64>();
    assert!(
        gets(sliced) <= gets(whole),
        "{what}: {system} GETs sliced {} > unsliced {}: {:?}",
        gets(sliced),
        gets(whole),
        sliced.gets
    );
    assert_eq!(
        sliced.writes, whole.writes,
        "{what}: {system} writes differ"
    );
}

#[tokio::test]
async fn sliced_runs_cost_at_most_a_partial_page_per_slice_boundary() {
    let whole = rig(0).await;
    // Slices of at most six working days: at least five slices in the 31-day window.
    let sliced = rig(6 * PEOPLE).await;

    // 1. First sync (TimeTrack's entries copied to Personio; no mappings yet: the slices are planned
    // from the linked employees and what was listed), 2. steady state (planned from the mappings),
    // 3. after deletions on both sides (confirmed by GET), with night shifts across slice edges.
    for step in ["first sync", "steady state", "after deletions"] {
        if step == "after deletions" {
            for rig in [&whole, &sliced] {
                delete_some(rig);
            }
        }
        let (a, ap, at) = counted_run(&whole).await;
        let (b, bp, bt) = counted_run(&sliced).await;
        eprintln!("{step}: unsliced personio {ap:?} timetrack {at:?}");
        eprintln!("{step}: sliced   personio {bp:?} timetrack {bt:?}");
        assert_eq!(
            writes(&a.counts),
            writes(&b.counts),
            "{step}: same writes; unsliced failures {:?} sliced failures {:?}",
            a.failures,
            b.failures
        );
        assert_eq!(a.status, b.status, "{step}");
        assert_within_bound(step, &ap, &bp, "Personio");
        assert_within_bound(step, &at, &bt, "TimeTrack");
        if step == "steady state" {
            assert!(writes(&b.counts).is_empty(), "steady state writes nothing");
        }
    }
}

/// Deletes every 15th TimeTrack attendance and, of others, every 15th Personio entry (all periods of
/// a person's entry), chosen by person and start so that both rigs lose the same entries.
fn delete_some(rig: &WorkflowRig<TimeEntriesBinding>) {
    let mut tt: Vec<(String, Timestamp, i64)> = rig
        .timetrack
        .state()
        .live_attendances()
        .map(|a| (a.user.clone(), a.from, a.id))
        .collect();
    tt.sort();
    for (_, _, id) in tt.into_iter().step_by(15) {
        assert!(rig.timetrack.state().delete_attendance(id));
    }
    // A Personio entry: a WORK period and what follows it within 12 h of the same person.
    let mut periods: Vec<(String, jiff::civil::DateTime, String)> = rig
        .personio
        .state()
        .attendance_periods
        .values()
        .map(|p| (p.person.id.clone(), p.start.date_time, p.id.clone()))
        .collect();
    periods.sort();
    let mut entries: Vec<Vec<String>> = Vec::new();
    let mut last: Option<(String, jiff::civil::DateTime)> = None;
    for (person, start, id) in periods {
        let same = last.as_ref().is_some_and(|(p, s)| {
            *p == person && start.duration_since(*s) < jiff::SignedDuration::from_hours(12)
        });
        if !same {
            entries.push(Vec::new());
            last = Some((person, start));
        }
        entries.last_mut().expect("pushed").push(id);
    }
    for ids in entries.into_iter().skip(7).step_by(15) {
        for id in ids {
            rig.personio.state().delete_attendance(&id);
        }
    }
}
