//! The seed company "ACME Sim GmbH" (Berlin): who is who is listed in `tests/simulators/README.md`.
//!
//! Everything is derived from `today` by fixed rules (no randomness, ids hashed from labels), so the
//! same `today` always yields the same seed and `tests/fixtures/seed/company.json` can be compared.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::{PersonioSeed, Seed, TimeTrackSeed};
use crate::personio::model as p;
use crate::timetrack::model as t;
use crate::timetrack::state::worked_minutes;

/// The company's time zone (Personio wall-clock times).
pub const COMPANY_TIME_ZONE: &str = "Europe/Berlin";
const DOMAIN: &str = "acme.example";

/// A deterministic UUID-shaped id for a label (two FNV-1a passes; version/variant bits set as v4).
pub fn uuid_for(label: &str) -> String {
    fn fnv(seed: u64, text: &str) -> u64 {
        text.bytes().fold(seed, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }
    let high = fnv(0xcbf2_9ce4_8422_2325, label);
    let low = fnv(0x8422_2325_cbf2_9ce4, label);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A small deterministic hash for choosing variations.
fn pick(label: &str, modulo: u64) -> u64 {
    let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % modulo
}

pub const VACATION: &str = "Vacation";
pub const SICK_LEAVE: &str = "Sick leave";
pub const SPECIAL_LEAVE: &str = "Special leave";
pub const OVERTIME_COMPENSATION: &str = "Overtime compensation";

pub(super) fn personio_absence_types() -> Vec<p::AbsenceType> {
    [
        (VACATION, "PAID_VACATION", p::AbsenceUnit::Day),
        (SICK_LEAVE, "SICK_LEAVE", p::AbsenceUnit::Day),
        (SPECIAL_LEAVE, "OTHER", p::AbsenceUnit::Day),
        (OVERTIME_COMPENSATION, "OTHER", p::AbsenceUnit::Hour),
    ]
    .into_iter()
    .map(|(name, category, unit)| p::AbsenceType {
        id: uuid_for(&format!("absence-type/{name}")),
        name: name.to_string(),
        category: category.to_string(),
        unit,
    })
    .collect()
}

/// TimeTrack's default absence types (ids 1–6).
pub(super) fn timetrack_absence_types() -> Vec<t::AbsenceType> {
    [
        ("Urlaub", "#4caf50", true),
        ("Urlaub (½ Tag)", "#8bc34a", true),
        ("Sonderurlaub", "#009688", true),
        ("Homeoffice", "#2196f3", true),
        ("Krankenstand", "#f44336", false),
        ("Zeitausgleich", "#ff9800", true),
    ]
    .into_iter()
    .zip(1..)
    .map(|((name, color, is_plannable), id)| t::AbsenceType {
        id,
        name: name.to_string(),
        color: color.to_string(),
        is_plannable,
    })
    .collect()
}

/// How a Personio person appears in TimeTrack.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InTimeTrack {
    /// Same e-mail, username = e-mail local part.
    SameEmail,
    /// Same address in different letter case.
    EmailCase(&'static str),
    /// Another e-mail and username: linkable only through the personal number.
    OtherEmail(&'static str, &'static str),
    No,
}

struct Staff {
    first: &'static str,
    last: &'static str,
    /// E-mail local part at the company domain.
    local: &'static str,
    gender: &'static str,
    department: &'static str,
    team: &'static str,
    office: &'static str,
    title: &'static str,
    weekly_hours: f64,
    supervisor: Option<&'static str>,
    timetrack: InTimeTrack,
    /// Whether the month of attendances is generated for this person.
    clocks: bool,
}

#[allow(clippy::too_many_arguments)]
const fn staff(
    first: &'static str,
    last: &'static str,
    local: &'static str,
    gender: &'static str,
    department: &'static str,
    team: &'static str,
    office: &'static str,
    title: &'static str,
    supervisor: Option<&'static str>,
    timetrack: InTimeTrack,
    clocks: bool,
) -> Staff {
    Staff {
        first,
        last,
        local,
        gender,
        department,
        team,
        office,
        title,
        weekly_hours: 40.0,
        supervisor,
        timetrack,
        clocks,
    }
}

// Org units: departments 900x, teams 9x0y; offices 311 Berlin, 312 München, 313 Hamburg.
const ENG: &str = "9001";
const SALES: &str = "9002";
const OPS: &str = "9003";
const MKT: &str = "9004";
const FIN: &str = "9005";
const PEOPLE: &str = "9006";
use InTimeTrack::*;

/// Persons 1001.. in this order.
fn staff_list() -> Vec<Staff> {
    vec![
        staff(
            "Katharina",
            "Öztürk",
            "katharina.oeztuerk",
            "FEMALE",
            PEOPLE,
            "9601",
            "311",
            "Geschäftsführerin",
            None,
            SameEmail,
            false,
        ),
        staff(
            "Jürgen",
            "Müller",
            "juergen.mueller",
            "MALE",
            ENG,
            "9101",
            "311",
            "Head of Engineering",
            Some("1001"),
            SameEmail,
            true,
        ),
        staff(
            "Zoë",
            "Schäfer",
            "zoe.schaefer",
            "FEMALE",
            ENG,
            "9101",
            "311",
            "Backend Engineer",
            Some("1002"),
            EmailCase("Zoe.Schaefer@ACME.example"),
            true,
        ),
        staff(
            "Björn",
            "Weiß",
            "bjoern.weiss",
            "MALE",
            ENG,
            "9102",
            "312",
            "Mobile Engineer",
            Some("1002"),
            SameEmail,
            true,
        ),
        staff(
            "Lena",
            "Vogt",
            "lena.vogt",
            "FEMALE",
            ENG,
            "9101",
            "311",
            "Backend Engineer",
            Some("1002"),
            SameEmail,
            true,
        ),
        staff(
            "Mehmet",
            "Yılmaz",
            "mehmet.yilmaz",
            "MALE",
            OPS,
            "9301",
            "313",
            "Schichtleiter Lager",
            Some("1014"),
            SameEmail,
            true,
        ),
        staff(
            "Anna-Lena",
            "Köhler",
            "anna-lena.koehler",
            "FEMALE",
            SALES,
            "9202",
            "311",
            "Sales Assistant (Teilzeit)",
            Some("1008"),
            SameEmail,
            true,
        ),
        staff(
            "Sören",
            "Groß",
            "soeren.gross",
            "MALE",
            SALES,
            "9201",
            "312",
            "Head of Sales",
            Some("1001"),
            SameEmail,
            true,
        ),
        staff(
            "Małgorzata",
            "Nowak",
            "malgorzata.nowak",
            "FEMALE",
            OPS,
            "9302",
            "313",
            "Logistics Coordinator",
            Some("1014"),
            SameEmail,
            true,
        ),
        staff(
            "Hans-Peter",
            "Brückner",
            "hans-peter.brueckner",
            "MALE",
            OPS,
            "9301",
            "313",
            "Lagerist",
            Some("1014"),
            SameEmail,
            true,
        ),
        staff(
            "Ümit",
            "Özdemir",
            "uemit.oezdemir",
            "MALE",
            SALES,
            "9201",
            "312",
            "Account Executive",
            Some("1008"),
            SameEmail,
            false,
        ),
        staff(
            "Chloé",
            "Dubois",
            "chloe.dubois",
            "FEMALE",
            MKT,
            "9401",
            "311",
            "Brand Manager",
            Some("1001"),
            SameEmail,
            false,
        ),
        staff(
            "Frauke",
            "Hößl",
            "frauke.hoessl",
            "FEMALE",
            PEOPLE,
            "9601",
            "311",
            "HR Generalist",
            Some("1001"),
            SameEmail,
            false,
        ),
        staff(
            "Jörg",
            "Bär",
            "joerg.baer",
            "MALE",
            OPS,
            "9301",
            "313",
            "Head of Operations",
            Some("1001"),
            SameEmail,
            true,
        ),
        staff(
            "Kerstin",
            "Lämmle",
            "kerstin.laemmle",
            "FEMALE",
            FIN,
            "9501",
            "311",
            "Buchhalterin",
            Some("1019"),
            SameEmail,
            false,
        ),
        staff(
            "Tobias",
            "Krüger",
            "tobias.krueger",
            "MALE",
            ENG,
            "9102",
            "312",
            "Mobile Engineer",
            Some("1002"),
            SameEmail,
            true,
        ),
        staff(
            "Ines",
            "Fröhlich",
            "ines.froehlich",
            "FEMALE",
            MKT,
            "9401",
            "311",
            "Content Manager",
            Some("1012"),
            SameEmail,
            false,
        ),
        staff(
            "Léa",
            "Martin",
            "lea.martin",
            "FEMALE",
            SALES,
            "9202",
            "312",
            "Inside Sales",
            Some("1008"),
            SameEmail,
            false,
        ),
        staff(
            "Maximilian",
            "Schröder",
            "maximilian.schroeder",
            "MALE",
            FIN,
            "9501",
            "311",
            "Head of Finance",
            Some("1001"),
            SameEmail,
            false,
        ),
        staff(
            "Sophie",
            "Wüst",
            "sophie.wuest",
            "FEMALE",
            ENG,
            "9101",
            "311",
            "QA Engineer",
            Some("1002"),
            SameEmail,
            false,
        ),
        staff(
            "Felix",
            "Späth",
            "felix.spaeth",
            "MALE",
            OPS,
            "9302",
            "313",
            "Disponent",
            Some("1014"),
            SameEmail,
            true,
        ),
        staff(
            "Agnieszka",
            "Wójcik",
            "agnieszka.wojcik",
            "FEMALE",
            ENG,
            "9102",
            "312",
            "Product Designer",
            Some("1002"),
            SameEmail,
            false,
        ),
        staff(
            "Dörte",
            "Hänsel",
            "doerte.haensel",
            "FEMALE",
            FIN,
            "9501",
            "311",
            "Controllerin",
            Some("1019"),
            SameEmail,
            false,
        ),
        staff(
            "Raphaël",
            "Lefèvre",
            "raphael.lefevre",
            "MALE",
            MKT,
            "9401",
            "311",
            "Performance Marketing",
            Some("1012"),
            SameEmail,
            false,
        ),
        staff(
            "Elif",
            "Şahin",
            "elif.sahin",
            "FEMALE",
            SALES,
            "9201",
            "312",
            "Account Executive",
            Some("1008"),
            OtherEmail("esahin", "elif.s@privat.example"),
            true,
        ),
        staff(
            "Greta",
            "Löwe",
            "greta.loewe",
            "FEMALE",
            MKT,
            "9401",
            "311",
            "Social Media Manager",
            Some("1012"),
            SameEmail,
            false,
        ),
        staff(
            "Thomas",
            "Müller",
            "thomas.mueller",
            "MALE",
            ENG,
            "9101",
            "311",
            "DevOps Engineer",
            Some("1002"),
            No,
            true,
        ),
        staff(
            "Niklas",
            "Strauß",
            "niklas.strauss",
            "MALE",
            ENG,
            "9101",
            "311",
            "Backend Engineer",
            Some("1002"),
            No,
            false,
        ),
    ]
}

/// Well-known persons of the seed, by Personio id.
pub mod who {
    pub const CEO: &str = "1001";
    pub const JUERGEN_MUELLER: &str = "1002";
    /// TimeTrack has her e-mail in different letter case.
    pub const ZOE_SCHAEFER: &str = "1003";
    pub const BJOERN_WEISS: &str = "1004";
    /// Works night shifts (one crossing midnight in both systems).
    pub const MEHMET_YILMAZ: &str = "1006";
    /// Part-timer, 20 h/week.
    pub const PART_TIMER: &str = "1007";
    /// Works the DST-change weekend.
    pub const JOERG_BAER: &str = "1014";
    /// Ongoing sick leave (no end).
    pub const KERSTIN_LAEMMLE: &str = "1015";
    /// Linkable to TimeTrack only by personal number.
    pub const ELIF_SAHIN: &str = "1025";
    /// Left the company (INACTIVE, termination set); still enabled in TimeTrack.
    pub const LEAVER: &str = "1026";
    /// Not in TimeTrack; TimeTrack's username `thomas.mueller` belongs to someone else.
    pub const THOMAS_MUELLER: &str = "1027";
    /// Created yesterday, ONBOARDING, not in TimeTrack.
    pub const NEW_HIRE: &str = "1028";
    /// TimeTrack username of the user who exists only in TimeTrack.
    pub const TIMETRACK_ONLY_USERNAME: &str = "uwe.kuehn";
    /// TimeTrack username that collides with the one derived from Thomas Müller's e-mail.
    pub const COLLIDING_USERNAME: &str = "thomas.mueller";
}

fn utc_at(day: Date, hour: i8, minute: i8) -> Timestamp {
    day.at(hour, minute, 0, 0)
        .to_zoned(TimeZone::UTC)
        .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

/// A Berlin wall-clock time as an instant (DST-correct; a time in the autumn overlap takes the
/// earlier offset, one in the spring gap is pushed forward — jiff's "compatible" rule).
fn berlin_instant(zone: &TimeZone, local: DateTime) -> Timestamp {
    zone.to_ambiguous_zoned(local)
        .compatible()
        .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

fn days(n: i64) -> jiff::Span {
    n.days()
}

fn add(day: Date, n: i64) -> Date {
    day.checked_add(days(n)).unwrap_or(day)
}

/// The first `weekday` on or after `day`.
fn on_or_after(day: Date, weekday: Weekday) -> Date {
    let offset = i64::from(weekday.to_monday_zero_offset())
        - i64::from(day.weekday().to_monday_zero_offset());
    add(day, offset.rem_euclid(7))
}

/// The most recent DST-change Sunday in Europe/Berlin strictly before `today` (last Sunday of March
/// or October).
pub fn last_dst_sunday(today: Date) -> Date {
    let last_sunday = |year: i16, month: i8| {
        let first_of_next = if month == 12 {
            Date::new(year + 1, 1, 1)
        } else {
            Date::new(year, month + 1, 1)
        }
        .unwrap_or(today);
        let mut day = add(first_of_next, -1);
        while day.weekday() != Weekday::Sunday {
            day = add(day, -1);
        }
        day
    };
    let year = today.year();
    [
        last_sunday(year, 10),
        last_sunday(year, 3),
        last_sunday(year - 1, 10),
    ]
    .into_iter()
    .find(|d| *d < today)
    .unwrap_or(today)
}

/// Collects the seed while it is being built.
struct Builder {
    today: Date,
    zone: TimeZone,
    personio: PersonioSeed,
    timetrack: TimeTrackSeed,
    /// (person id, day) pairs with an absence: no attendance is generated there.
    away: BTreeSet<(String, Date)>,
}

impl Builder {
    fn type_id(&self, name: &str) -> String {
        self.personio
            .absence_types
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.id.clone())
            .unwrap_or_default()
    }

    fn username_of(&self, person_id: &str) -> Option<String> {
        let staff = staff_list();
        let index = person_id.parse::<usize>().ok()?.checked_sub(1001)?;
        let s = staff.get(index)?;
        match s.timetrack {
            SameEmail | EmailCase(_) => Some(s.local.to_string()),
            OtherEmail(username, _) => Some(username.to_string()),
            No => None,
        }
    }

    fn stamp(&self, days_ago: i64, hour: i8) -> Timestamp {
        utc_at(add(self.today, -days_ago), hour, 0)
    }

    #[allow(clippy::too_many_arguments)]
    fn personio_period(
        &mut self,
        label: &str,
        person: &str,
        kind: p::AttendanceType,
        start: DateTime,
        end: DateTime,
        attribution: Date,
        comment: Option<&str>,
    ) {
        let created = berlin_instant(&self.zone, end);
        let status = if attribution < add(self.today, -14) {
            p::AttendanceStatus::Confirmed
        } else {
            p::AttendanceStatus::Pending
        };
        self.personio.attendance_periods.push(p::AttendancePeriod {
            id: uuid_for(&format!("attendance/{label}")),
            kind,
            person: p::IdRef::new(person),
            start: p::LocalTime { date_time: start },
            end: Some(p::LocalTime { date_time: end }),
            attribution_date: attribution,
            comment: comment.map(str::to_string),
            project: None,
            approval: p::Approval { status },
            is_auto_generated: false,
            created_at: created,
            updated_at: created,
        });
    }

    /// A working day: Personio WORK (+ BREAK inside it) and/or the TimeTrack entry.
    #[allow(clippy::too_many_arguments)]
    fn work_day(
        &mut self,
        person: &str,
        start: DateTime,
        end: DateTime,
        break_start: Option<DateTime>,
        break_minutes: i64,
        in_personio: bool,
        in_timetrack: bool,
        notes: Option<&str>,
    ) {
        let label = format!("{person}/{start}");
        if in_personio {
            self.personio_period(
                &format!("{label}/work"),
                person,
                p::AttendanceType::Work,
                start,
                end,
                start.date(),
                notes,
            );
            if let Some(break_start) = break_start.filter(|_| break_minutes > 0) {
                let break_end = break_start
                    .checked_add(break_minutes.minutes())
                    .unwrap_or(break_start);
                self.personio_period(
                    &format!("{label}/break"),
                    person,
                    p::AttendanceType::Break,
                    break_start,
                    break_end,
                    start.date(),
                    None,
                );
            }
        }
        if in_timetrack {
            if let Some(username) = self.username_of(person) {
                let from = berlin_instant(&self.zone, start);
                let to = berlin_instant(&self.zone, end);
                self.tt_attendance(&username, from, to, break_minutes, notes);
            }
        }
    }

    fn tt_attendance(
        &mut self,
        username: &str,
        from: Timestamp,
        to: Timestamp,
        break_minutes: i64,
        notes: Option<&str>,
    ) {
        let id = 10_001 + self.timetrack.attendances.len() as i64;
        self.timetrack.attendances.push(t::Attendance {
            id,
            user: username.to_string(),
            from,
            to,
            notes: notes.map(str::to_string),
            manual: pick(&format!("{username}/{from}"), 3) == 0,
            worked_minutes: worked_minutes(from, to, break_minutes),
            break_minutes,
            latitude_start: None,
            longitude_start: None,
            latitude_end: None,
            longitude_end: None,
            deleted: false,
        });
    }

    /// An absence on either or both sides. `tt_type` is the TimeTrack type id; `tt_status` 0/1/2.
    #[allow(clippy::too_many_arguments)]
    fn absence(
        &mut self,
        person: &str,
        personio: Option<(
            &str,
            p::AbsenceBoundary,
            Option<p::AbsenceBoundary>,
            p::AbsenceStatus,
        )>,
        timetrack: Option<(i64, Date, Date, u8)>,
        comment: Option<&str>,
        created_days_ago: i64,
    ) {
        if let Some((type_name, starts_from, ends_at, status)) = personio {
            let first = starts_from.date_time.date();
            let last = ends_at.map_or(self.today, |e| e.date_time.date());
            let mut day = first;
            while day <= last {
                self.away.insert((person.to_string(), day));
                day = add(day, 1);
            }
            let created = self.stamp(created_days_ago, 9);
            self.personio.absence_periods.push(p::AbsencePeriod {
                id: uuid_for(&format!("absence/{person}/{}", starts_from.date_time)),
                person: p::IdRef::new(person),
                absence_type: p::IdRef::new(self.type_id(type_name)),
                starts_from,
                ends_at,
                timezone_id: COMPANY_TIME_ZONE.to_string(),
                comment: comment.map(str::to_string),
                approval: p::Approval { status },
                created_at: created,
                updated_at: created,
            });
        }
        if let Some((type_id, from, to, status)) = timetrack {
            let username = self
                .username_of(person)
                .unwrap_or_else(|| person.to_string());
            self.tt_absence(&username, type_id, from, to, status);
            let mut day = from;
            while day <= to {
                self.away.insert((person.to_string(), day));
                day = add(day, 1);
            }
        }
    }

    fn tt_absence(&mut self, username: &str, type_id: i64, from: Date, to: Date, status: u8) {
        let user_id = self
            .timetrack
            .users
            .iter()
            .find(|u| u.username == username)
            .map_or(0, |u| u.id);
        let Some(kind) = self
            .timetrack
            .absence_types
            .iter()
            .find(|k| k.id == type_id)
            .cloned()
        else {
            return;
        };
        let id = 20_001 + self.timetrack.absences.len() as i64;
        self.timetrack.absences.push(t::Absence {
            id,
            user: username.to_string(),
            from,
            to,
            status,
            absence_type: type_id,
            absence_type_name: kind.name,
            user_id,
            color: kind.color,
            is_plannable: kind.is_plannable,
            day_segment: None,
            working_time_strategies: Vec::new(),
            deleted: false,
        });
    }
}

fn full_day(day: Date) -> p::AbsenceBoundary {
    p::AbsenceBoundary {
        date_time: day.at(0, 0, 0, 0),
        half: None,
    }
}

fn half(day: Date, half: p::HalfDay) -> p::AbsenceBoundary {
    p::AbsenceBoundary {
        date_time: day.at(0, 0, 0, 0),
        half: Some(half),
    }
}

pub(super) fn build(today: Date) -> Seed {
    let zone = TimeZone::get(COMPANY_TIME_ZONE).unwrap_or(TimeZone::UTC);
    let mut b = Builder {
        today,
        zone,
        personio: PersonioSeed {
            absence_types: personio_absence_types(),
            ..PersonioSeed::default()
        },
        timetrack: TimeTrackSeed {
            absence_types: timetrack_absence_types(),
            ..TimeTrackSeed::default()
        },
        away: BTreeSet::new(),
    };
    people(&mut b);
    absences(&mut b);
    attendances(&mut b);
    b.personio
        .attendance_periods
        .sort_by(|x, y| x.id.cmp(&y.id));
    Seed {
        personio: b.personio,
        timetrack: b.timetrack,
    }
}

fn people(b: &mut Builder) {
    let today = b.today;
    let mut next_user_id = 501;
    for (index, s) in staff_list().into_iter().enumerate() {
        let id = (1001 + index).to_string();
        let number = 1001 + index as i64;
        let email = format!("{}@{DOMAIN}", s.local);
        let is_new_hire = id == who::NEW_HIRE;
        let is_leaver = id == who::LEAVER;
        let created = if is_new_hire {
            utc_at(add(today, -1), 9, 15)
        } else {
            utc_at(add(today, -(1500 - 50 * index as i64)), 8, 30)
        };
        let start_date = if is_new_hire {
            on_or_after(add(today, 14), Weekday::Monday)
        } else {
            add(created.to_zoned(TimeZone::UTC).date(), 14)
        };
        let updated = if is_leaver {
            utc_at(add(today, -60), 10, 0)
        } else {
            created
        };
        b.personio.persons.push(p::Person {
            id: id.clone(),
            email: Some(email.clone()),
            first_name: s.first.to_string(),
            last_name: s.last.to_string(),
            preferred_name: None,
            gender: s.gender.to_string(),
            language_code: Some(if index % 5 == 4 { "en" } else { "de" }.to_string()),
            custom_attributes: vec![p::CustomAttribute {
                id: "dynamic_8462301.personal_number".to_string(),
                kind: "int".to_string(),
                global_id: "personal_number".to_string(),
                label: "Personalnummer".to_string(),
                value: serde_json::json!(number),
            }],
            created_at: created,
            updated_at: updated,
        });
        let weekly = if id == who::PART_TIMER {
            20.0
        } else {
            s.weekly_hours
        };
        let leave_day = add(today, -20);
        b.personio.employments.push(p::Employment {
            id: uuid_for(&format!("employment/{id}")),
            person: p::IdRef::new(&id),
            status: if is_new_hire {
                p::EmploymentStatus::Onboarding
            } else if is_leaver {
                p::EmploymentStatus::Inactive
            } else {
                p::EmploymentStatus::Active
            },
            kind: "INTERNAL".to_string(),
            position: Some(p::Position {
                title: Some(s.title.to_string()),
            }),
            weekly_working_hours: Some(weekly),
            full_time_weekly_working_hours: Some(40.0),
            employment_start_date: Some(start_date),
            probation_end_date: Some(add(start_date, 182)),
            employment_end_date: is_leaver.then_some(leave_day),
            contract_end_date: None,
            supervisor: s.supervisor.map(p::IdRef::new),
            office: Some(p::IdRef::new(s.office)),
            legal_entity: Some(p::IdRef::new("42")),
            org_units: vec![
                p::OrgUnit {
                    kind: "department".to_string(),
                    id: s.department.to_string(),
                },
                p::OrgUnit {
                    kind: "team".to_string(),
                    id: s.team.to_string(),
                },
            ],
            cost_centers: vec![p::CostCenter {
                id: uuid_for(&format!("cost-center/{}", s.department)),
                weight: 100.0,
            }],
            job: None,
            termination: is_leaver.then(|| p::Termination {
                termination_date: Some(leave_day),
                last_working_day: Some(leave_day),
                terminated_at: Some(add(today, -60)),
                kind: "EMPLOYEE".to_string(),
                reason: Some("Neue berufliche Herausforderung".to_string()),
            }),
            created_at: created,
            updated_at: updated,
        });
        let (username, tt_email) = match s.timetrack {
            SameEmail => (s.local.to_string(), email.clone()),
            EmailCase(other) => (s.local.to_string(), other.to_string()),
            OtherEmail(username, other) => (username.to_string(), other.to_string()),
            No => continue,
        };
        b.timetrack.users.push(t::User {
            id: next_user_id,
            username,
            first_name: s.first.to_string(),
            last_name: s.last.to_string(),
            email: tt_email,
            personal_number: Some(number),
            team_lead: s.title.starts_with("Head") || s.title.starts_with("Geschäfts"),
            admin: id == who::CEO,
            language: Some("de".to_string()),
            enabled: true,
        });
        next_user_id += 1;
    }
    // Only in TimeTrack: an employee missing in Personio, and an external contractor whose username
    // is the one Thomas Müller's e-mail would yield.
    for (username, first, last, email, number) in [
        (
            who::TIMETRACK_ONLY_USERNAME,
            "Uwe",
            "Kühn",
            "uwe.kuehn@acme.example",
            1100,
        ),
        (
            who::COLLIDING_USERNAME,
            "Thomas",
            "Müller",
            "thomas.mueller@partner.example",
            9001,
        ),
    ] {
        b.timetrack.users.push(t::User {
            id: next_user_id,
            username: username.to_string(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            email: email.to_string(),
            personal_number: Some(number),
            team_lead: false,
            admin: false,
            language: Some("de".to_string()),
            enabled: true,
        });
        next_user_id += 1;
    }
}

fn absences(b: &mut Builder) {
    use p::AbsenceStatus::*;
    use p::HalfDay::*;
    let today = b.today;
    let monday = |weeks: i64| on_or_after(add(today, 7 * weeks), Weekday::Monday);

    // Jürgen: past week of vacation, approved, identical in TimeTrack.
    let w = monday(-4);
    b.absence(
        "1002",
        Some((VACATION, full_day(w), Some(full_day(add(w, 4))), Approved)),
        Some((1, w, add(w, 4), 1)),
        Some("Herbstferien"),
        40,
    );
    // Zoë: future vacation, pending on both sides.
    let w = monday(6);
    b.absence(
        "1003",
        Some((VACATION, full_day(w), Some(full_day(add(w, 2))), Pending)),
        Some((1, w, add(w, 2), 0)),
        None,
        3,
    );
    // Björn: a morning off (half day) ↔ TimeTrack "Urlaub (½ Tag)".
    let friday = add(monday(2), 4);
    b.absence(
        "1004",
        Some((
            VACATION,
            full_day(friday),
            Some(half(friday, FirstHalf)),
            Approved,
        )),
        Some((2, friday, friday, 1)),
        None,
        10,
    );
    // Björn: Monday to Friday noon, only in Personio.
    let w = monday(8);
    b.absence(
        "1004",
        Some((
            VACATION,
            full_day(w),
            Some(half(add(w, 4), FirstHalf)),
            Pending,
        )),
        None,
        None,
        2,
    );
    // Lena: three sick days, both sides.
    let tuesday = add(monday(-2), 1);
    b.absence(
        "1005",
        Some((
            SICK_LEAVE,
            full_day(tuesday),
            Some(full_day(add(tuesday, 2))),
            Approved,
        )),
        Some((5, tuesday, add(tuesday, 2), 1)),
        None,
        12,
    );
    // Mehmet: one sick day, only in Personio.
    let day = add(monday(-1), 3);
    b.absence(
        "1006",
        Some((SICK_LEAVE, full_day(day), Some(full_day(day)), Approved)),
        None,
        None,
        6,
    );
    // Anna-Lena (part-timer): vacation only in TimeTrack.
    let w = monday(8);
    b.absence("1007", None, Some((1, w, add(w, 4), 1)), None, 1);
    // Sören: rejected vacation on both sides.
    let w = monday(4);
    b.absence(
        "1008",
        Some((VACATION, full_day(w), Some(full_day(add(w, 1))), Rejected)),
        Some((1, w, add(w, 1), 2)),
        Some("Messe-Woche"),
        5,
    );
    // Chloé: "Sonderurlaub" in TimeTrack, a type the mapping will not cover.
    let day = add(monday(3), 2);
    b.absence("1012", None, Some((3, day, day, 1)), None, 4);
    // Frauke: Special leave in Personio only.
    let day = add(monday(-3), 4);
    b.absence(
        "1013",
        Some((SPECIAL_LEAVE, full_day(day), Some(full_day(day)), Approved)),
        None,
        Some("Umzug"),
        30,
    );
    // Felix: four hours of overtime compensation (HOUR unit).
    let day = add(monday(1), 2);
    b.absence(
        "1021",
        Some((
            OVERTIME_COMPENSATION,
            p::AbsenceBoundary {
                date_time: day.at(13, 0, 0, 0),
                half: None,
            },
            Some(p::AbsenceBoundary {
                date_time: day.at(17, 0, 0, 0),
                half: None,
            }),
            Approved,
        )),
        None,
        None,
        2,
    );
    // Ines: vacation almost three months ahead, pending on both sides.
    let w = monday(12);
    b.absence(
        "1017",
        Some((VACATION, full_day(w), Some(full_day(add(w, 4))), Pending)),
        Some((1, w, add(w, 4), 0)),
        None,
        1,
    );
    // Hans-Peter: an afternoon off in the past ↔ "Urlaub (½ Tag)".
    let day = add(monday(-2), 3);
    b.absence(
        "1010",
        Some((
            VACATION,
            half(day, SecondHalf),
            Some(half(day, SecondHalf)),
            Approved,
        )),
        Some((2, day, day, 1)),
        None,
        20,
    );
    // Kerstin: ongoing long-term sick leave (no end), only in Personio.
    let day = add(today, -45);
    b.absence(
        "1015",
        Some((SICK_LEAVE, full_day(day), None, Approved)),
        None,
        None,
        45,
    );
    // Greta (the leaver): vacation before she left, both sides.
    let w = monday(-7);
    b.absence(
        "1026",
        Some((VACATION, full_day(w), Some(full_day(add(w, 2))), Approved)),
        Some((1, w, add(w, 2), 1)),
        None,
        60,
    );
    // Elif (linked by personal number only): future vacation, both sides.
    let w = monday(5);
    b.absence(
        "1025",
        Some((VACATION, full_day(w), Some(full_day(add(w, 4))), Approved)),
        Some((1, w, add(w, 4), 1)),
        None,
        8,
    );
    // Tobias: vacation spanning today, both sides.
    let w = monday(-1);
    b.absence(
        "1016",
        Some((VACATION, full_day(w), Some(full_day(add(w, 9))), Approved)),
        Some((1, w, add(w, 9), 1)),
        None,
        25,
    );
    // Uwe (only in TimeTrack): a home-office day and a past vacation.
    let w = monday(-3);
    b.tt_absence(who::TIMETRACK_ONLY_USERNAME, 1, w, add(w, 1), 1);
    b.tt_absence(who::TIMETRACK_ONLY_USERNAME, 4, add(w, 3), add(w, 3), 1);
}

fn attendances(b: &mut Builder) {
    let today = b.today;
    let staff = staff_list();
    // The night shifts of Mehmet: one in both systems (split at midnight in Personio), one only in
    // TimeTrack; his day shifts skip those days.
    let night = on_or_after(add(today, -12), Weekday::Wednesday);
    let night_tt_only = add(night, -7);
    let night_days: BTreeSet<Date> = [night, add(night, 1), night_tt_only, add(night_tt_only, 1)]
        .into_iter()
        .collect();

    for (index, s) in staff.iter().enumerate() {
        if !s.clocks {
            continue;
        }
        let person = (1001 + index).to_string();
        let part_time = person == who::PART_TIMER;
        let last_day = if person == who::LEAVER {
            add(today, -21)
        } else {
            add(today, -1)
        };
        let mut day = add(today, -30);
        while day <= last_day {
            let weekday = day.weekday();
            let skip = matches!(weekday, Weekday::Saturday | Weekday::Sunday)
                || b.away.contains(&(person.clone(), day))
                || (person == who::MEHMET_YILMAZ && night_days.contains(&day));
            if !skip {
                let key = format!("{person}/{day}");
                let start_minute = 7 * 60 + (index as i64 % 4) * 30 + pick(&key, 3) as i64 * 15;
                let (length, break_minutes) = if part_time {
                    (4 * 60, 0)
                } else if index % 2 == 0 {
                    (8 * 60 + 30, 30)
                } else {
                    (8 * 60 + 45, 45)
                };
                let start = day
                    .at(0, 0, 0, 0)
                    .checked_add(start_minute.minutes())
                    .unwrap_or(day.at(8, 0, 0, 0));
                let end = start.checked_add(length.minutes()).unwrap_or(start);
                let break_start = start.checked_add(4.hours()).ok();
                let has_tt = staff[index].timetrack != No;
                // Mostly identical twins; every so often a day exists on one side only.
                let (in_p, in_t) = match pick(&format!("side/{key}"), 10) {
                    0 if has_tt => (false, true),
                    1 => (true, false),
                    _ => (true, has_tt),
                };
                let notes =
                    (pick(&format!("note/{key}"), 6) == 0).then_some("Kundentermin vor Ort");
                b.work_day(
                    &person,
                    start,
                    end,
                    break_start,
                    break_minutes,
                    in_p,
                    in_t,
                    notes,
                );
            }
            day = add(day, 1);
        }
    }

    // Overnight shift 22:00–06:00: one TimeTrack entry; two Personio WORK periods split at midnight
    // (both attributed to the first day) plus the break after midnight.
    let mehmet = who::MEHMET_YILMAZ;
    let midnight = add(night, 1).at(0, 0, 0, 0);
    let label = format!("{mehmet}/{night}/night");
    b.personio_period(
        &format!("{label}/1"),
        mehmet,
        p::AttendanceType::Work,
        night.at(22, 0, 0, 0),
        midnight,
        night,
        Some("Nachtschicht"),
    );
    b.personio_period(
        &format!("{label}/2"),
        mehmet,
        p::AttendanceType::Work,
        midnight,
        add(night, 1).at(6, 0, 0, 0),
        night,
        Some("Nachtschicht"),
    );
    b.personio_period(
        &format!("{label}/break"),
        mehmet,
        p::AttendanceType::Break,
        add(night, 1).at(2, 0, 0, 0),
        add(night, 1).at(2, 30, 0, 0),
        night,
        None,
    );
    let zone = b.zone.clone();
    if let Some(username) = b.username_of(mehmet) {
        b.tt_attendance(
            &username,
            berlin_instant(&zone, night.at(22, 0, 0, 0)),
            berlin_instant(&zone, add(night, 1).at(6, 0, 0, 0)),
            30,
            Some("Nachtschicht"),
        );
        // A second night shift only in TimeTrack.
        b.tt_attendance(
            &username,
            berlin_instant(&zone, night_tt_only.at(22, 0, 0, 0)),
            berlin_instant(&zone, add(night_tt_only, 1).at(6, 0, 0, 0)),
            30,
            Some("Nachtschicht"),
        );
    }

    // The DST-change weekend: Jörg works Saturday and the early Sunday shift across the change (both
    // systems); Hans-Peter's Sunday shift exists only in TimeTrack.
    let sunday = last_dst_sunday(today);
    let saturday = add(sunday, -1);
    b.work_day(
        who::JOERG_BAER,
        saturday.at(10, 0, 0, 0),
        saturday.at(18, 0, 0, 0),
        Some(saturday.at(13, 0, 0, 0)),
        30,
        true,
        true,
        Some("Inventur"),
    );
    b.work_day(
        who::JOERG_BAER,
        sunday.at(1, 0, 0, 0),
        sunday.at(7, 0, 0, 0),
        None,
        0,
        true,
        true,
        Some("Inventur (Zeitumstellung)"),
    );
    b.work_day(
        "1010",
        sunday.at(8, 0, 0, 0),
        sunday.at(16, 0, 0, 0),
        None,
        0,
        false,
        true,
        Some("Inventur"),
    );
}
