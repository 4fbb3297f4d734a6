//! The absences workflow, pure part: the canonical absence, the type mapping, and the translation between
//! each system's absence view, the canonical form, and the fields written back.
//!
//! - [`canonical`]: [`canonical::Absence`], its status, natural key and anchor date, and why a record
//!   cannot be synced ([`canonical::NotSyncable`]).
//! - [`parts`]: the TimeTrack absences that make one absence (a half first/last day is its own
//!   half-day absence), grouped and ungrouped.
//! - [`type_map`]: the configured TimeTrack ⇄ Personio type pairs, each with its master system.
//! - [`personio`]: Personio absence period view → canonical, canonical → Personio write fields.
//! - [`timetrack`]: TimeTrack absence view → canonical, canonical → TimeTrack write fields, and what a
//!   change costs in TimeTrack (status in place, anything else delete + re-create).
//!
//! The glue to the engine and the service (I/O at the edge):
//! - [`kind`]: [`kind::AbsenceKind`], the engine's view (natural key, anchor date, master per mapping).
//! - [`wire`]: the clients' wire types ⇄ the views and write fields above.
//! - [`overlap`]: what a 409 overlap from Personio leads to (adopt the same absence, or refuse naming
//!   both records).
//! - [`ports`]: the Personio and TimeTrack side ports (what each API can and cannot express).
//! - [`binding`]: [`binding::AbsencesBinding`], what `functions/absences` serves.
//!
//! Half-day rule (both directions, round-trip tested):
//! - Personio expresses half days with the boundary types: `starts_from.type = SECOND_HALF` (the first day
//!   counts only from midday) and `ends_at.type = FIRST_HALF` (the last day ends at midday). `null`, and
//!   also `FIRST_HALF` on the start / `SECOND_HALF` on the end, are full boundary days (the reference
//!   records both encodings).
//! - TimeTrack has no half-day field; a mapping's `half_day_timetrack_type_id` marks a half-day absence,
//!   and such an absence is one day long.
//! - A *single-day* half absence is canonically "the last day ends at midday" (`ends_midday`), whichever
//!   half Personio recorded: TimeTrack cannot say which half, so which half is not compared (otherwise a
//!   Personio afternoon off would differ forever from its TimeTrack twin). Written to Personio it becomes
//!   `ends_at.type = FIRST_HALF` (morning off).
//! - A *multi-day* absence with a half first or last day (e.g. Monday to Friday noon) is one period in
//!   Personio and, in TimeTrack, the full-day part plus one absence of the half-day type on each half
//!   day ("Urlaub" Monday–Thursday + "Urlaub (½ Tag)" Friday). The TimeTrack port groups such parts
//!   into one canonical absence ([`parts`], ADR 0012), so the engine syncs one record per side.
pub mod binding;
pub mod canonical;
pub(crate) mod kind;
pub(crate) mod overlap;
pub(crate) mod parts;
pub(crate) mod personio;
pub(crate) mod ports;
pub(crate) mod timetrack;
pub(crate) mod type_map;
pub(crate) mod wire;
