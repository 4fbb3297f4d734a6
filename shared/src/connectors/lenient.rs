//! Tolerant serde helpers for the wire types of both APIs.
//!
//! The references document several values loosely: ids that are strings in one place and numbers in
//! another, booleans as `true`/`1`, numbers as numeric strings, local date-times with or without
//! milliseconds, dates that may be `null` or empty. These helpers accept every documented spelling so that
//! a cosmetic difference never turns a good record into a malformed one.
use std::fmt;

use jiff::civil::{Date, DateTime};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};

/// A scalar as the APIs send it: string, number or boolean.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// An id given as a string or a number, kept as a string.
pub(super) fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Str(s) => Ok(s),
        Scalar::Int(i) => Ok(i.to_string()),
        Scalar::Float(f) => Ok(f.to_string()),
        Scalar::Bool(_) => Err(de::Error::custom(
            "expected a string or a number, got a boolean",
        )),
    }
}

/// Optional variant of [`string_or_number`]; `null` is `None`.
pub(super) fn opt_string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Str(s)) => Ok(Some(s)),
        Some(Scalar::Int(i)) => Ok(Some(i.to_string())),
        Some(Scalar::Float(f)) => Ok(Some(f.to_string())),
        Some(Scalar::Bool(_)) => Err(de::Error::custom(
            "expected a string or a number, got a boolean",
        )),
    }
}

fn scalar_to_i64<E: de::Error>(s: Scalar) -> Result<i64, E> {
    match s {
        Scalar::Int(i) => Ok(i),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        Scalar::Str(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| E::custom(format!("expected an integer, got the string {s:?}"))),
        Scalar::Float(f) => Err(E::custom(format!("expected an integer, got {f}"))),
        Scalar::Bool(_) => Err(E::custom("expected an integer, got a boolean")),
    }
}

/// An integer given as a number or a numeric string.
pub(super) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    scalar_to_i64(Scalar::deserialize(d)?)
}

/// Optional variant of [`int`]; `null` and `""` are `None`.
pub(super) fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(s) => scalar_to_i64(s).map(Some),
    }
}

/// An optional decimal given as a number or a numeric string; `null` and `""` are `None`.
pub(super) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Int(i)) => Ok(Some(i as f64)),
        Some(Scalar::Float(f)) => Ok(Some(f)),
        Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(Scalar::Str(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a number, got the string {s:?}"))),
        Some(Scalar::Bool(_)) => Err(de::Error::custom("expected a number, got a boolean")),
    }
}

/// An optional boolean given as `true`/`false`, `1`/`0` or their string forms; `null` is `None`.
pub(super) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Bool(b)) => Ok(Some(b)),
        Some(Scalar::Int(0)) => Ok(Some(false)),
        Some(Scalar::Int(1)) => Ok(Some(true)),
        Some(Scalar::Str(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(de::Error::custom(format!(
                "expected a boolean, got the string {s:?}"
            ))),
        },
        Some(_) => Err(de::Error::custom("expected a boolean or 0/1")),
    }
}

/// `null` for a list means the empty list.
pub(super) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An optional `YYYY-MM-DD` date; `null` and `""` are `None`.
pub(super) fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_date(&s).map(Some).map_err(de::Error::custom),
    }
}

/// A `YYYY-MM-DD` date; a date-time with a midnight time is accepted too (some clients send it).
pub(super) fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let s = String::deserialize(d)?;
    parse_date(&s).map_err(de::Error::custom)
}

fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    let day = s.get(..10).unwrap_or(s);
    day.parse::<Date>()
        .map_err(|e| format!("invalid date {s:?}: {e}"))
}

/// Parses a local wall-clock date-time `YYYY-MM-DDTHH:MM:SS[.fff]`. A trailing `Z` is tolerated and
/// ignored (the value is still read as wall-clock time): the Personio reference asks for tolerance there.
/// Any other offset is refused, because dropping it would silently shift the time.
pub(super) fn parse_local_datetime(s: &str) -> Result<DateTime, String> {
    let trimmed = s.trim();
    let bare = trimmed
        .strip_suffix('Z')
        .or_else(|| trimmed.strip_suffix('z'))
        .unwrap_or(trimmed);
    // jiff would accept and drop a numeric offset; a value with one is not a wall-clock time.
    if bare.get(10..).is_some_and(|time| time.contains(['+', '-'])) {
        return Err(format!(
            "invalid local date-time {s:?}: carries a UTC offset"
        ));
    }
    bare.parse::<DateTime>()
        .map_err(|e| format!("invalid local date-time {s:?}: {e}"))
}

/// Deserializes a local date-time with [`parse_local_datetime`].
pub(super) fn local_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = DateTime;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a local date-time YYYY-MM-DDTHH:MM:SS")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime, E> {
            parse_local_datetime(v).map_err(E::custom)
        }
    }
    d.deserialize_str(V)
}

/// Formats a local date-time the way Personio wants it: seconds precision, no offset.
pub(super) fn format_local_datetime(dt: DateTime) -> String {
    dt.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Serializes a local date-time with [`format_local_datetime`].
pub(super) fn ser_local_datetime<S: Serializer>(dt: &DateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_local_datetime(*dt))
}

/// An optional UTC instant (`created_at`, `updated_at`). RFC 3339 with any offset and optional fractional
/// seconds; a value without an offset is read as UTC (these fields are metadata, documented as UTC).
pub(super) fn opt_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<jiff::Timestamp>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => {
            let t = s.trim();
            if let Ok(ts) = t.parse::<jiff::Timestamp>() {
                return Ok(Some(ts));
            }
            t.parse::<DateTime>()
                .ok()
                .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| Some(z.timestamp()))
                .ok_or_else(|| de::Error::custom(format!("invalid timestamp {s:?}")))
        }
    }
}

/// An enum for a string field whose documented values may grow: known values become variants (matched
/// case-insensitively), anything else is kept verbatim in `Other` instead of failing the record.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this client does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(s) => s,
                }
            }

            /// Reads a wire value; unknown values become `Other`.
            pub fn from_wire(s: &str) -> Self {
                $(if s.trim().eq_ignore_ascii_case($wire) {
                    return Self::$variant;
                })+
                Self::Other(s.to_string())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Row {
        #[serde(deserialize_with = "string_or_number")]
        id: String,
        #[serde(default, deserialize_with = "opt_bool")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "opt_int")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "opt_f64")]
        x: Option<f64>,
        #[serde(default, deserialize_with = "opt_date")]
        day: Option<Date>,
        #[serde(default, deserialize_with = "opt_timestamp")]
        at: Option<jiff::Timestamp>,
    }

    fn row(json: &str) -> Result<Row, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn ids_booleans_and_numbers_accept_every_documented_spelling() {
        let r = row(r#"{"id": 42, "flag": 1, "n": "7", "x": "20.5"}"#).unwrap();
        assert_eq!(
            (r.id.as_str(), r.flag, r.n, r.x),
            ("42", Some(true), Some(7), Some(20.5))
        );
        let r = row(r#"{"id": "a", "flag": "false", "n": 3, "x": 2}"#).unwrap();
        assert_eq!(
            (r.id.as_str(), r.flag, r.n, r.x),
            ("a", Some(false), Some(3), Some(2.0))
        );
        let r = row(r#"{"id": "a", "flag": null, "n": null, "x": ""}"#).unwrap();
        assert_eq!((r.flag, r.n, r.x), (None, None, None));
        assert!(row(r#"{"id": "a", "flag": 2}"#).is_err());
        assert!(row(r#"{"id": "a", "n": "seven"}"#).is_err());
        assert!(row(r#"{"id": true}"#).is_err());
    }

    #[test]
    fn dates_and_timestamps_are_tolerant_but_not_blind() {
        let r = row(r#"{"id": "a", "day": "", "at": "2017-07-21T17:32:28Z"}"#).unwrap();
        assert_eq!(r.day, None);
        assert_eq!(r.at.unwrap().to_string(), "2017-07-21T17:32:28Z");
        let r = row(r#"{"id": "a", "day": "2024-03-01", "at": "2017-07-21T17:32:28.123+02:00"}"#)
            .unwrap();
        assert_eq!(r.day, Some(jiff::civil::date(2024, 3, 1)));
        assert_eq!(r.at.unwrap().as_millisecond(), 1_500_651_148_123);
        let r = row(r#"{"id": "a", "at": "2017-07-21T17:32:28"}"#).unwrap();
        assert_eq!(r.at.unwrap().to_string(), "2017-07-21T17:32:28Z");
        assert!(row(r#"{"id": "a", "day": "01.03.2024"}"#).is_err());
        assert!(row(r#"{"id": "a", "at": "yesterday"}"#).is_err());
    }

    #[test]
    fn local_datetimes_accept_millis_and_zulu_but_refuse_offsets() {
        let plain = parse_local_datetime("2026-07-06T08:00:00").unwrap();
        assert_eq!(
            parse_local_datetime("2026-07-06T08:00:00.000").unwrap(),
            plain
        );
        assert_eq!(parse_local_datetime("2026-07-06T08:00:00Z").unwrap(), plain);
        assert!(parse_local_datetime("2026-07-06T08:00:00+02:00").is_err());
        assert!(parse_local_datetime("08:00").is_err());
        assert_eq!(format_local_datetime(plain), "2026-07-06T08:00:00");
        let with_millis = parse_local_datetime("2026-07-06T08:00:00.250").unwrap();
        assert_eq!(format_local_datetime(with_millis), "2026-07-06T08:00:00");
    }
}
