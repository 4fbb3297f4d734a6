//! Pinned listings: the filtered, sorted ids of a TimeTrack list request, kept for the following pages
//! of the same walk while the records have not changed.
//!
//! TimeTrack pages by `page_number`, so every page of a walk used to filter and sort all stored
//! records again (issue 16: 21 pages × 20,000 attendances at 1,000 people, 101 × 100,000 at 5,000).
//! A pin is keyed by the request's filters (everything but `page_number`) and by the records'
//! **generation**, which every mutable access to the state moves ([`StateGuard`]). A page served from
//! a pin is therefore exactly the page a fresh listing would give: any write in between — through the
//! API or a test's state handle — starts a fresh listing, and a walk over changing data shifts by
//! offset as TimeTrack's does.
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::state::TimeTrackState;
use crate::faults::lock;

/// How many pinned listings a simulator keeps (a walk reads one listing at a time).
const PINS_KEPT: usize = 4;

/// The state behind its lock; a mutable access moves the generation when the guard is dropped
/// (still under the lock, so no listing can see the change without the new generation).
pub struct StateGuard<'a> {
    guard: MutexGuard<'a, TimeTrackState>,
    generation: &'a AtomicU64,
    mutated: bool,
}

impl Deref for StateGuard<'_> {
    type Target = TimeTrackState;

    fn deref(&self) -> &TimeTrackState {
        &self.guard
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut TimeTrackState {
        self.mutated = true;
        &mut self.guard
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if self.mutated {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// One listing as its first page saw it.
struct Pin {
    /// The request's filters (resource and query without `page_number`).
    key: String,
    generation: u64,
    ids: Arc<Vec<i64>>,
}

/// The records' generation and the pins of a simulator.
#[derive(Default)]
pub(crate) struct Pins {
    generation: AtomicU64,
    held: Mutex<Vec<Pin>>,
}

impl Pins {
    /// Locks `state`; see [`StateGuard`].
    pub(crate) fn guard<'a>(&'a self, state: &'a Mutex<TimeTrackState>) -> StateGuard<'a> {
        StateGuard {
            guard: lock(state),
            generation: &self.generation,
            mutated: false,
        }
    }

    /// The ids listed under `key` for the state `guard` holds: the pinned ones when nothing changed
    /// since they were listed, else `list()` afresh (and pinned).
    pub(crate) fn listing(
        &self,
        guard: &StateGuard<'_>,
        key: String,
        list: impl FnOnce(&TimeTrackState) -> Vec<i64>,
    ) -> Arc<Vec<i64>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut held = lock(&self.held);
        if let Some(pin) = held
            .iter()
            .find(|p| p.key == key && p.generation == generation)
        {
            return pin.ids.clone();
        }
        let ids = Arc::new(list(guard));
        held.retain(|p| p.generation == generation && p.key != key);
        if held.len() >= PINS_KEPT {
            held.remove(0);
        }
        held.push(Pin {
            key,
            generation,
            ids: ids.clone(),
        });
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::TimeTrackSeed;

    fn state() -> Mutex<TimeTrackState> {
        Mutex::new(TimeTrackState::from_seed(&TimeTrackSeed::default()))
    }

    /// Reading keeps a pin; a mutable access (even one that changes nothing) drops it; another key
    /// lists on its own.
    #[test]
    fn a_pin_is_reused_until_the_state_is_accessed_mutably() {
        let pins = Pins::default();
        let state = state();
        let first = pins.listing(&pins.guard(&state), "a".into(), |_| vec![1, 2]);
        assert_eq!(*first, vec![1, 2]);
        let again = pins.listing(&pins.guard(&state), "a".into(), |_| panic!("listed again"));
        assert_eq!(*again, vec![1, 2]);
        let other = pins.listing(&pins.guard(&state), "b".into(), |_| vec![3]);
        assert_eq!(*other, vec![3]);
        {
            let mut guard = pins.guard(&state);
            let _ = &mut guard.attendances;
        }
        let fresh = pins.listing(&pins.guard(&state), "a".into(), |_| vec![4]);
        assert_eq!(*fresh, vec![4]);
    }
}
