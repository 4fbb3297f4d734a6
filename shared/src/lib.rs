//! Personio ⇄ TimeTrack sync — the common crate.
//!
//! Layout (ports and adapters):
//! - [`domain`]: identifiers and small value types every other module speaks (no I/O, no wire shapes).
//! - [`settings`]: one integration's typed, validated settings.
//! - [`credentials`]: the per-integration secret and the Secrets Manager loader; secret values never print.
//! - [`store`]: the state-store port (settings, mappings, watermarks, runs, leases) with a DynamoDB
//!   adapter and an in-memory one for unit tests.
//! - [`runs`]: the run record, what every sync run leaves behind.
//! - [`audit`]: the audit record, what every change made through the API leaves behind.
//! - [`connectors`]: HTTP clients of Personio API v2 and TimeTrack API v2 "ext" (wire shapes live here only).
//! - [`engine`]: canonical records, fingerprints, the pure three-way planner and the plan applier.
//! - [`webhooks`]: Personio's webhook edge: envelope, token, queue, receiver, consumer, replay.
pub mod audit;
pub mod aws;
pub mod connectors;
pub mod credentials;
pub mod domain;
pub mod engine;
pub mod runs;
pub mod scheduling;
pub mod service;
pub mod settings;
pub mod store;
pub mod timezone;
pub mod webhooks;
pub mod workflows;
