//! What the engine needs to know about one kind of record (employee, time entry, absence).
//!
//! The engine is generic over the kind: each workflow implements [`SyncKind`] for its canonical value
//! type and hands the engine two [`SidePort`](super::port::SidePort)s that translate the systems' wire
//! shapes into that value. The engine compares values only through their fingerprints and natural keys.
use jiff::civil::Date;
use serde::Serialize;

use crate::domain::{EntityKind, ScopeEntry, System};

/// One kind of synchronised record, seen through its canonical value.
pub trait SyncKind: Send + Sync {
    /// The canonical form: both sides' records of "the same thing" normalise to equal values.
    /// Its serde encoding is what the fingerprint hashes, so it must be deterministic (no floats that
    /// round differently, no maps keyed by non-strings, no fields that differ between the systems).
    type Value: Clone + PartialEq + std::fmt::Debug + Serialize + Send + Sync + 'static;

    fn kind(&self) -> EntityKind;

    /// Identifies "the same thing" across systems before any mapping exists (e-mail, person + start):
    /// used to adopt identical twins on the first sync and to find a record created by a run that died
    /// before it could store the mapping.
    fn natural_key(&self, value: &Self::Value) -> String;

    /// The day the record belongs to, stored on its mapping so that windowed runs load only the
    /// mappings of their window. `None` for kinds without a date (employees).
    fn anchor_date(&self, value: &Self::Value) -> Option<Date>;

    /// Which system wins when both sides changed the pair (or one side deleted and the other changed,
    /// or twins were linked with differences). A side is `None` when its record is gone.
    fn master(&self, personio: Option<&Self::Value>, timetrack: Option<&Self::Value>) -> System;

    /// Is `found` — a record on a pending intent's target with the intent's natural key but not the
    /// intended content — made only of writes the intent recorded (`recorded`, see
    /// [`PendingIntent::parts`](crate::store::PendingIntent::parts))? Then it is what the product's
    /// own create left half done (its last answer lost), not anybody's edit: the planner completes it
    /// with the intended value instead of letting the master rule copy the fragment onto the other
    /// side. Kinds whose creates are one write never have recorded parts (the default: never).
    fn is_remnant(&self, found: &Self::Value, recorded: &[String]) -> bool {
        let _ = (found, recorded);
        false
    }

    /// The person and days a record belongs to, for a targeted run that learned of the record through
    /// a mapping (the Personio side of a hint is gone, the other side's record says whose days to
    /// re-read). `None`: the kind cannot tell (targeted runs then only confirm the mapping's records).
    fn scope_entry(&self, value: &Self::Value) -> Option<ScopeEntry> {
        let _ = value;
        None
    }
}

/// A record of one system: its id there and its canonical value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record<V> {
    pub id: String,
    pub value: V,
}

impl<V> Record<V> {
    pub fn new(id: impl Into<String>, value: V) -> Self {
        Self {
            id: id.into(),
            value,
        }
    }
}
