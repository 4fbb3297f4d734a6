//! The employees workflow, pure part: who is who on both sides, and what an employee looks like in a
//! form both systems can be compared in.
//!
//! The skeleton every workflow shares (`canonical`, `personio`, `timetrack`, `kind`, `ports`, `binding`):
//! - [`canonical`]: the canonical [`canonical::Employee`] value (what a mapping fingerprints), how each
//!   side's view becomes one (including the leaver policy), and how personal numbers compare.
//! - [`personio`] and [`timetrack`]: each side's wire-independent view of a person / user, which the
//!   adapters fill in, and the plain field sets the workflow writes there.
//! - [`kind`]: the employees' `SyncKind` (natural key, master rule) for the engine.
//! - [`ports`]: the two `SidePort`s that translate between the connectors and the views.
//! - [`binding`]: settings → the workflow's run context (pure), and the reading step inside the run.
//!
//! Its own parts:
//! - [`linking`]: pairing Personio persons with TimeTrack users by e-mail, then personal number; ambiguous
//!   matches are reported, never guessed.
//! - [`selection`]: which Personio persons the integration imports.
//! - [`sweep`]: reading both sides and the stored links once per run (and for the setup API).
//! - [`username`] and [`password`]: what a new TimeTrack user is created with.
//!
//! Decisions (recorded here because the planner and the docs rely on them):
//! - The natural key of an employee is the normalised e-mail (trimmed, lowercase). A person without an
//!   e-mail cannot be synced ([`canonical::NotSyncable::MissingEmail`]) but can still be linked by
//!   personal number for the setup screen.
//! - The personal number is kept beside the canonical value, not in it: it links records, but it is not
//!   a field the product keeps in sync (the brief's synced fields are first name, last name, status).
//! - The selection decides who is *imported* (created in TimeTrack, auto-added). Persons already linked are
//!   kept in sync whether or not they still match it, so that a leaver who dropped out of an
//!   "all active" selection is still deactivated.
//! - Status follows Personio whatever the selection: a leaver with a linkable TimeTrack user (e-mail,
//!   ignoring case, or personal number) is linked and — under `deactivate` — disabled, even when they
//!   had left before the integration was set up; under `ignore` the run that links them says so once.
pub mod binding;
pub mod canonical;
pub(crate) mod kind;
pub mod linking;
pub(crate) mod password;
pub mod personio;
pub(crate) mod ports;
pub(crate) mod selection;
pub mod sweep;
pub mod timetrack;
pub(crate) mod username;
