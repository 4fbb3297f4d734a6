//! The engine's only source of time, so that windows, deadlines and leases are testable.
use jiff::Timestamp;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock for tests: starts at a fixed instant and moves only when told, or by `step` on every read
/// (which lets a test make "time pass" per engine step without sleeping).
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug)]
pub struct ManualClock {
    state: std::sync::Mutex<(Timestamp, jiff::SignedDuration)>,
}

#[cfg(any(test, feature = "testkit"))]
impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            state: std::sync::Mutex::new((start, jiff::SignedDuration::ZERO)),
        }
    }
    /// Every later `now()` returns the current instant and then advances by `step`.
    pub fn with_step(self, step: jiff::SignedDuration) -> Self {
        self.lock().1 = step;
        self
    }
    pub fn set(&self, to: Timestamp) {
        self.lock().0 = to;
    }
    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut state = self.lock();
        state.0 = state.0.saturating_add(by).unwrap_or(state.0);
    }
    /// The current instant, without stepping.
    pub fn peek(&self) -> Timestamp {
        self.lock().0
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, (Timestamp, jiff::SignedDuration)> {
        // A poisoned clock only means another test thread panicked; the instant is still valid.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(any(test, feature = "testkit"))]
impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let mut state = self.lock();
        let now = state.0;
        state.0 = now.saturating_add(state.1).unwrap_or(now);
        now
    }
}
