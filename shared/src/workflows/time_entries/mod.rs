//! The time-entries workflow, pure part: working time (attendances) in one canonical form, and the
//! translation from and to each system's record view. Nothing here does I/O.
//!
//! - [`entry`]: the canonical [`entry::TimeEntry`] (what a mapping fingerprints), why a record can't be
//!   synced ([`entry::NotSyncable`]) and the skip report ([`entry::SkippedRecord`]).
//! - [`timetrack_shape`]: a TimeTrack attendance ⇄ a canonical entry, honouring the timestamp mode.
//! - [`personio_shape`]: a canonical entry → the Personio WORK/BREAK periods that hold it (split at local
//!   midnight; the break placement rule is documented there).
//! - [`personio_grouping`]: Personio periods of a person → canonical entries, each with the ids of the
//!   periods that make it (so the workflow can update or delete them all).
//! - [`personio_writes`]: which Personio calls (delete, patch, create, in a safe order) turn an entry's
//!   existing periods into the desired ones.
//!
//! Local wall-clock times are converted with [`crate::timezone::ZoneConverter`] only.
pub mod entry;
pub mod personio_grouping;
pub mod personio_shape;
pub mod personio_writes;
pub mod timetrack_shape;

pub mod binding;
pub mod kind;
pub mod ports;

#[cfg(test)]
mod round_trip_tests;
