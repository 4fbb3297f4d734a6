//! The side port: what a workflow implements for each system (an adapter around that system's client
//! that speaks canonical values). The engine reads and writes the two systems only through it.
use std::fmt;

use async_trait::async_trait;
use thiserror::Error;

use super::hint::{HintFamily, Located};
use super::kind::Record;
use crate::domain::{DateWindow, ScopeEntry};

/// Reads and writes one system's records of one kind, in canonical form.
#[async_trait]
pub trait SidePort<V>: Send + Sync {
    /// The records in the window. Records that cannot be parsed or mapped to the canonical form go to
    /// `rejected` (with their id when known): the engine reports them and never treats a rejected id as
    /// deleted. Kinds without dates (employees) ignore the window.
    async fn list(&self, window: &DateWindow) -> Result<Listing<V>, PortError>;

    /// The records of one scope entry (a person and their days) for a targeted run: the same selection
    /// as [`list`](Self::list) would make for those days, narrowed to the person with the system's
    /// filters. Ports that cannot narrow refuse (`Fatal`); their workflow resolves no hint to them.
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<V>, PortError> {
        Err(PortError::new(
            PortErrorClass::Fatal,
            format!(
                "{} cannot list one person ({}); targeted runs are not supported here",
                std::any::type_name::<Self>(),
                entry.person
            ),
        ))
    }

    /// Reads the record a change hint of `family` names (`id`, this system's id) to learn whose days
    /// it concerns; `Gone` when the system says it does not exist. The default resolves no family.
    async fn locate(&self, family: HintFamily, id: &str) -> Result<Located, PortError> {
        let _ = (family, id);
        Ok(Located::NotHandled)
    }

    /// One record by id. `Ok(None)` means confirmed gone (404, soft-deleted); the engine calls this for
    /// every mapped record missing from the listing before it propagates a delete.
    async fn get(&self, id: &str) -> Result<Option<Record<V>>, PortError>;

    /// Creates the record; returns its new id.
    async fn create(&self, value: &V) -> Result<String, PortError>;

    /// Creates the record like [`create`](Self::create), for a port whose create takes several
    /// writes: each write is recorded in `journal` *before* it is sent, and a retry of an interrupted
    /// create gets the earlier attempts' records back ([`WriteJournal::earlier`]) to find and adopt or
    /// remove what they left. Rules for such ports (docs/sync-engine.md, "Write groups"): a write whose
    /// outcome is unknown (5xx, timeout, dropped connection) counts as possibly applied, so a failed
    /// create never undoes writes that a possibly-applied later write depends on; what is left is
    /// always accounted for by the journal. The default is a single-write create.
    async fn create_recorded(
        &self,
        value: &V,
        journal: &dyn WriteJournal,
    ) -> Result<String, PortError>
    where
        V: Sync,
    {
        let _ = journal;
        self.create(value).await
    }

    /// Overwrites record `id` with `value` (`previous` is the record's current canonical value when
    /// known, for systems that can change only some fields in place). Returns the record's id after
    /// the update, which differs when the system implements an update as delete + re-create
    /// (TimeTrack absences).
    async fn update(&self, id: &str, value: &V, previous: Option<&V>) -> Result<String, PortError>;

    /// Deletes record `id`; a record that is already gone is `NotFound`, which the engine accepts.
    async fn delete(&self, id: &str) -> Result<(), PortError>;
}

/// Where a port records the single writes of a multi-write create before sending them (the engine
/// keeps them on the mapping's pending intent, durably, in the state store).
#[async_trait]
pub trait WriteJournal: Send + Sync {
    /// `None` on a first attempt. On a retry of a pending intent, what earlier attempts recorded
    /// (empty when they recorded nothing, e.g. intents written before parts were recorded).
    fn earlier(&self) -> Option<&[String]>;

    /// Records `part` durably. The port must not send the write when this fails.
    async fn record(&self, part: &str) -> Result<(), PortError>;
}

/// A journal that records nothing: for a create outside the engine's intents (tests, tools).
#[derive(Debug, Default, Clone, Copy)]
pub struct Unrecorded;

#[async_trait]
impl WriteJournal for Unrecorded {
    fn earlier(&self) -> Option<&[String]> {
        None
    }

    async fn record(&self, _part: &str) -> Result<(), PortError> {
        Ok(())
    }
}

/// One side's records in a window, in canonical form (built by a port from the connector's
/// [`crate::connectors::WireListing`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<V> {
    pub records: Vec<Record<V>>,
    pub rejected: Vec<Rejected>,
}

impl<V> Default for Listing<V> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            rejected: Vec::new(),
        }
    }
}

/// A record the port could not turn into a canonical value (reported, never synced, never deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub id: Option<String>,
    pub reason: String,
}

impl Rejected {
    /// A listed record the connector could not parse at all (a field missing or malformed): its
    /// content is unknown, so it may be the twin of a new record on the other side. The reason starts
    /// with `unreadable `, which [`Rejected::is_unreadable`] recognises.
    pub fn unreadable(id: Option<String>, what: &str, error: &str) -> Self {
        Self {
            id,
            reason: format!("unreadable {what}: {error}"),
        }
    }

    /// Whether the record could not be read at all (as opposed to read and refused, e.g. of a person
    /// not linked to a user): the planner creates nothing on that side that it could be the twin of.
    pub fn is_unreadable(&self) -> bool {
        self.reason.starts_with("unreadable ")
    }
}

/// How the engine reacts to a failed call, decided by the adapter that knows the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortErrorClass {
    /// The record does not exist (any more).
    NotFound,
    /// Permanently refused (e.g. an approved or locked period): retrying cannot help, so the record is
    /// parked at once and reported.
    Refused,
    /// This record's data was rejected (validation); retried next run, parked after repeated failures.
    Invalid,
    /// The system reports a conflicting record (overlap, duplicate); retried next run.
    Conflict,
    /// Rate limit, timeout, 5xx after the client's own retries: retried next run.
    Transient,
    /// The whole run cannot go on (authentication, permissions, configuration): the run aborts.
    Fatal,
}

impl PortErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            PortErrorClass::NotFound => "not_found",
            PortErrorClass::Refused => "refused",
            PortErrorClass::Invalid => "invalid",
            PortErrorClass::Conflict => "conflict",
            PortErrorClass::Transient => "transient",
            PortErrorClass::Fatal => "fatal",
        }
    }
}

impl fmt::Display for PortErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed port call. `message` is the API's error text with context; adapters must keep secrets out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{class}: {message}")]
pub struct PortError {
    pub class: PortErrorClass,
    pub message: String,
}

impl PortError {
    pub fn new(class: PortErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }
}
