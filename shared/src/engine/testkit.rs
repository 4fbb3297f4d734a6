//! Test doubles for the engine, public (but hidden from docs) so that the workflow crates can reuse
//! them: a minimal kind ([`FakeKind`] over [`FakeValue`]) and an in-memory system ([`FakePort`]) with
//! injectable failures and an injectable crash.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::hint::{HintFamily, Located};
use super::kind::{Record, SyncKind};
use super::port::{Listing, PortError, PortErrorClass, Rejected, SidePort};
use crate::domain::{DateWindow, EntityKind, ScopeEntry, System};

/// The person of a fake value: its key up to the first `|` (`"ann|1"` → `"ann"`).
pub fn fake_person(value: &FakeValue) -> &str {
    value.key.split('|').next().unwrap_or(&value.key)
}

/// A canonical value with a natural key, a day (the anchor) and some content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FakeValue {
    pub key: String,
    pub day: Date,
    pub payload: String,
}

impl FakeValue {
    pub fn new(key: impl Into<String>, day: Date, payload: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            day,
            payload: payload.into(),
        }
    }
}

/// A kind whose natural key is `FakeValue::key` and whose master is fixed.
#[derive(Debug, Clone, Copy)]
pub struct FakeKind {
    pub master: System,
}

impl SyncKind for FakeKind {
    type Value = FakeValue;
    fn kind(&self) -> EntityKind {
        EntityKind::TimeEntry
    }
    fn natural_key(&self, value: &FakeValue) -> String {
        value.key.clone()
    }
    fn anchor_date(&self, value: &FakeValue) -> Option<Date> {
        Some(value.day)
    }
    fn master(&self, _: Option<&FakeValue>, _: Option<&FakeValue>) -> System {
        self.master
    }
    /// A fake create records the payloads it writes: a record whose payload was recorded is a remnant.
    fn is_remnant(&self, found: &FakeValue, recorded: &[String]) -> bool {
        recorded.contains(&found.payload)
    }
    fn scope_entry(&self, value: &FakeValue) -> Option<ScopeEntry> {
        Some(ScopeEntry {
            person: fake_person(value).to_string(),
            days: Some(DateWindow {
                from: value.day,
                to: value.day,
            }),
        })
    }
}

/// Counts writes across both fake systems and "kills the process" after the k-th: that write happens,
/// but the call returns a `Fatal` error, so the engine never records it in the mapping — exactly what
/// a Lambda dying between a write and its mapping update looks like.
///
/// An update that a [`FakePort`] performs as create-new + delete-old counts as two writes (the create,
/// then the delete), so a crash can also fall *inside* it: after the replacement was created, before
/// the original was deleted. [`CrashSwitch::arm_inside_update`] aims at exactly that point.
#[derive(Debug, Default)]
pub struct CrashSwitch {
    state: Mutex<CrashState>,
}

#[derive(Debug, Default)]
struct CrashState {
    writes: usize,
    die_after_write: Option<usize>,
    recreating_updates: usize,
    die_inside_update: Option<usize>,
}

impl CrashSwitch {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    /// Die right after write number `k` (1-based) from now on; `None` disarms (both crash points).
    pub fn arm(&self, k: Option<usize>) {
        *lock(&self.state) = CrashState {
            die_after_write: k,
            ..CrashState::default()
        };
    }
    /// Die inside re-creating update number `k` (1-based) from now on, between its create and its
    /// delete; `None` disarms (both crash points).
    pub fn arm_inside_update(&self, k: Option<usize>) {
        *lock(&self.state) = CrashState {
            die_inside_update: k,
            ..CrashState::default()
        };
    }
    /// Counts one write; true when this write is the one after which the process dies.
    fn count(&self) -> bool {
        let mut state = lock(&self.state);
        state.writes += 1;
        state.die_after_write == Some(state.writes)
    }
    /// Counts the create half of a re-creating update (one write); true when the process dies now.
    fn count_update_create(&self) -> bool {
        let after_write = self.count();
        let mut state = lock(&self.state);
        state.recreating_updates += 1;
        after_write || state.die_inside_update == Some(state.recreating_updates)
    }
    /// Writes since the switch was (re-)armed.
    pub fn writes(&self) -> usize {
        lock(&self.state).writes
    }
    /// Re-creating updates started since the switch was (re-)armed.
    pub fn recreating_updates(&self) -> usize {
        lock(&self.state).recreating_updates
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One write a [`FakePort`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeWrite {
    Create {
        id: String,
        value: FakeValue,
    },
    Update {
        id: String,
        new_id: String,
        value: FakeValue,
    },
    Delete {
        id: String,
    },
}

#[derive(Debug, Default)]
struct FakeState {
    records: BTreeMap<String, FakeValue>,
    rejected: BTreeMap<String, String>,
    next_id: u64,
    log: Vec<FakeWrite>,
    /// Writes touching a value with this natural key fail with this class.
    failing_keys: HashMap<String, PortErrorClass>,
}

/// An in-memory system of one side.
#[derive(Debug)]
pub struct FakePort {
    system: System,
    /// Update is create-new + delete-old with a new id (like TimeTrack absences); see [`CrashSwitch`].
    update_recreates: bool,
    state: Mutex<FakeState>,
    crash: Arc<CrashSwitch>,
}

impl FakePort {
    pub fn new(system: System, crash: Arc<CrashSwitch>) -> Self {
        Self {
            system,
            update_recreates: false,
            state: Mutex::new(FakeState::default()),
            crash,
        }
    }
    pub fn with_update_recreates(mut self) -> Self {
        self.update_recreates = true;
        self
    }
    fn state(&self) -> MutexGuard<'_, FakeState> {
        lock(&self.state)
    }
    fn new_id(&self, state: &mut FakeState) -> String {
        state.next_id += 1;
        let prefix = match self.system {
            System::Personio => "p",
            System::TimeTrack => "t",
        };
        format!("{prefix}{}", state.next_id)
    }
    /// Seeds a record (not logged as a write); returns its id.
    pub fn insert(&self, value: FakeValue) -> String {
        let mut state = self.state();
        let id = self.new_id(&mut state);
        state.records.insert(id.clone(), value);
        id
    }
    /// Changes a record behind the engine's back (a user edit).
    pub fn set(&self, id: &str, value: FakeValue) {
        self.state().records.insert(id.to_string(), value);
    }
    /// Deletes a record behind the engine's back.
    pub fn remove(&self, id: &str) -> Option<FakeValue> {
        self.state().records.remove(id)
    }
    /// Makes a record unreadable (listed as rejected, get fails) without deleting it.
    pub fn reject(&self, id: &str, reason: &str) {
        self.state()
            .rejected
            .insert(id.to_string(), reason.to_string());
    }
    pub fn fail_key(&self, key: &str, class: PortErrorClass) {
        self.state().failing_keys.insert(key.to_string(), class);
    }
    pub fn heal_key(&self, key: &str) {
        self.state().failing_keys.remove(key);
    }
    pub fn records(&self) -> BTreeMap<String, FakeValue> {
        self.state().records.clone()
    }
    pub fn writes(&self) -> Vec<FakeWrite> {
        self.state().log.clone()
    }
    fn check_key(state: &FakeState, key: &str) -> Result<(), PortError> {
        match state.failing_keys.get(key) {
            Some(class) => Err(PortError::new(
                *class,
                format!("injected failure for {key}"),
            )),
            None => Ok(()),
        }
    }
    /// The crash check after a performed write.
    fn after_write<T>(&self, result: T) -> Result<T, PortError> {
        if self.crash.count() {
            Err(PortError::new(
                PortErrorClass::Fatal,
                "injected crash after the write",
            ))
        } else {
            Ok(result)
        }
    }
}

#[async_trait]
impl SidePort<FakeValue> for FakePort {
    async fn list(&self, window: &DateWindow) -> Result<Listing<FakeValue>, PortError> {
        let state = self.state();
        let mut listing = Listing::default();
        for (id, value) in &state.records {
            if !window.contains(value.day) {
                continue;
            }
            match state.rejected.get(id) {
                Some(reason) => listing.rejected.push(Rejected {
                    id: Some(id.clone()),
                    reason: reason.clone(),
                }),
                None => listing.records.push(Record::new(id.clone(), value.clone())),
            }
        }
        Ok(listing)
    }

    /// The person's records on the entry's days (what a filtered listing returns).
    async fn list_scope(&self, entry: &ScopeEntry) -> Result<Listing<FakeValue>, PortError> {
        let Some(days) = entry.days else {
            return Ok(Listing::default());
        };
        let mut listing = self.list(&days).await?;
        let state = self.state();
        let of_person = |id: &str| {
            state
                .records
                .get(id)
                .is_some_and(|v| fake_person(v) == entry.person)
        };
        listing.records.retain(|r| of_person(&r.id));
        listing
            .rejected
            .retain(|r| r.id.as_deref().is_some_and(of_person));
        Ok(listing)
    }

    /// Attendance hints: the record's person and day, or gone.
    async fn locate(&self, family: HintFamily, id: &str) -> Result<Located, PortError> {
        if family != HintFamily::AttendancePeriod {
            return Ok(Located::NotHandled);
        }
        let state = self.state();
        Ok(match state.records.get(id) {
            Some(v) => Located::Found(ScopeEntry {
                person: fake_person(v).to_string(),
                days: Some(DateWindow {
                    from: v.day,
                    to: v.day,
                }),
            }),
            None => Located::Gone,
        })
    }

    async fn get(&self, id: &str) -> Result<Option<Record<FakeValue>>, PortError> {
        let state = self.state();
        if state.rejected.contains_key(id) {
            return Err(PortError::new(PortErrorClass::Invalid, "unreadable record"));
        }
        Ok(state
            .records
            .get(id)
            .map(|v| Record::new(id.to_string(), v.clone())))
    }

    async fn create(&self, value: &FakeValue) -> Result<String, PortError> {
        let id = {
            let mut state = self.state();
            Self::check_key(&state, &value.key)?;
            let id = self.new_id(&mut state);
            state.records.insert(id.clone(), value.clone());
            state.log.push(FakeWrite::Create {
                id: id.clone(),
                value: value.clone(),
            });
            id
        };
        self.after_write(id)
    }

    async fn update(
        &self,
        id: &str,
        value: &FakeValue,
        _previous: Option<&FakeValue>,
    ) -> Result<String, PortError> {
        {
            let state = self.state();
            Self::check_key(&state, &value.key)?;
            let Some(old) = state.records.get(id) else {
                return Err(PortError::new(
                    PortErrorClass::NotFound,
                    format!("{id} not found"),
                ));
            };
            Self::check_key(&state, &old.key.clone())?;
        }
        if !self.update_recreates {
            let mut state = self.state();
            state.records.insert(id.to_string(), value.clone());
            state.log.push(FakeWrite::Update {
                id: id.to_string(),
                new_id: id.to_string(),
                value: value.clone(),
            });
            drop(state);
            return self.after_write(id.to_string());
        }
        // Like the TimeTrack absences port: create the replacement first, then delete the original,
        // so that the record exists at every moment (twice between the two halves).
        let new_id = {
            let mut state = self.state();
            let new_id = self.new_id(&mut state);
            state.records.insert(new_id.clone(), value.clone());
            new_id
        };
        if self.crash.count_update_create() {
            // Died between the halves: to the outside world this was just a create.
            self.state().log.push(FakeWrite::Create {
                id: new_id,
                value: value.clone(),
            });
            return Err(PortError::new(
                PortErrorClass::Fatal,
                "injected crash inside the update, after creating the replacement",
            ));
        }
        {
            let mut state = self.state();
            state.records.remove(id);
            state.log.push(FakeWrite::Update {
                id: id.to_string(),
                new_id: new_id.clone(),
                value: value.clone(),
            });
        }
        self.after_write(new_id)
    }

    async fn delete(&self, id: &str) -> Result<(), PortError> {
        {
            let mut state = self.state();
            let Some(old) = state.records.get(id) else {
                return Err(PortError::new(
                    PortErrorClass::NotFound,
                    format!("{id} not found"),
                ));
            };
            Self::check_key(&state, &old.key.clone())?;
            state.records.remove(id);
            state.log.push(FakeWrite::Delete { id: id.to_string() });
        }
        self.after_write(())
    }
}
