//! Faithful local simulators of Personio API v2 and TimeTrack API v2 "ext" (see
//! `/work/shared/docs/personio-api-v2.md` and `timetrack-api.md`), served on 127.0.0.1 for the client
//! contract tests, the end-to-end tests and the demo. See `README.md` for the seed company and the
//! `/_sim/` control API.

// Request parsing helpers return the ready error `Response` as their `Err`, so a handler can answer
// with `?`-like early returns; the size of that value is irrelevant for a test simulator.
#![allow(clippy::result_large_err)]

pub mod faults;
pub mod personio;
pub mod seed;
mod server;
pub mod timetrack;

pub use faults::{Fault, FaultRule};
pub use personio::{PersonioConfig, PersonioSim, RateLimit};
pub use seed::Seed;
pub use server::RequestLogEntry;
pub use timetrack::{TimeTrackConfig, TimeTrackSim};
