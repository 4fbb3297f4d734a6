//! The time-entries workflow, pure part: working time (attendances) in one canonical form, and the
//! translation from and to each system's record view. Nothing here does I/O.
//!
//! The module names are the skeleton all three workflows share:
//! - [`canonical`]: the canonical [`canonical::TimeEntry`] (what a mapping fingerprints), why a record
//!   can't be synced ([`canonical::NotSyncable`]) and the skip report ([`canonical::SkippedRecord`]).
//! - [`personio`]: Personio attendance periods ⇄ canonical entries ([`personio::shape`],
//!   [`personio::grouping`], [`personio::writes`]).
//! - [`timetrack`]: a TimeTrack attendance ⇄ a canonical entry, honouring the timestamp mode.
//! - [`kind`]: the workflow as the engine sees it; [`ports`]: the two side ports (the only I/O);
//!   [`binding`]: the workflow plugged into the service.
//!
//! Local wall-clock times are converted with [`crate::timezone::ZoneConverter`] only.
pub mod binding;
pub mod canonical;
pub(crate) mod kind;
pub(crate) mod personio;
pub(crate) mod ports;
pub(crate) mod timetrack;

#[cfg(test)]
mod round_trip_tests;
