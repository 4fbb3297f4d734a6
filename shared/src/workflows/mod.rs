//! The pure domain logic of each workflow: canonical values, linking and the translation between each
//! system's record view and the canonical form. Nothing here does I/O.
pub mod absences;
pub mod directory;
pub mod employees;
pub mod port_error;
pub mod time_entries;
