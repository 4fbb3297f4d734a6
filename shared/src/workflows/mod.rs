//! The three workflows: each has its pure domain logic (canonical values, linking, the translation between
//! each system's record view and the canonical form — no I/O) and its glue (the `SyncKind`, the two
//! side ports over the clients, and the `WorkflowBinding` its function runs).
pub mod absences;
pub(crate) mod directory;
pub mod employees;
pub(crate) mod port_error;
pub mod time_entries;
