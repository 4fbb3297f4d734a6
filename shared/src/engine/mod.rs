//! The sync engine: canonical records, fingerprints, the pure three-way planner and the plan applier.
//!
//! See `docs/sync-engine.md` for the model, the decision table and the guarantees under crashes.
pub(crate) mod apply;
pub(crate) mod clock;
pub mod fingerprint;
pub(crate) mod hint;
pub(crate) mod kind;
pub mod plan;
pub(crate) mod planner;
pub(crate) mod port;
pub mod runner;
pub mod scheduler;
mod slices;
mod targeted;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod window;

#[cfg(test)]
mod planner_tests;
#[cfg(test)]
mod runner_tests;
#[cfg(test)]
mod targeted_tests;

pub use apply::{Applier, ApplyReport};
#[cfg(any(test, feature = "testkit"))]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use fingerprint::{fingerprint, FingerprintError};
pub use hint::{ChangeHint, HintAction, HintFamily, Located, TargetScope};
pub use kind::{Record, SyncKind};
pub use plan::{Action, Conflict, ConflictCause, Plan, Resolution, Skip, SkipReason};
pub use planner::{plan, SideState};
pub use port::{Listing, PortError, PortErrorClass, Rejected, SidePort, Unrecorded, WriteJournal};
pub use runner::{EngineError, RunGate, RunRequest, RunnerConfig, StartedRun, SyncRunner};
#[cfg(any(test, feature = "testkit"))]
pub use scheduler::RecordingScheduler;
pub use scheduler::{ContinuationScheduler, SchedulerError};
