//! Personio attendance periods ⇄ canonical time entries.
//!
//! - [`shape`]: a canonical entry → the Personio WORK/BREAK periods that hold it (split at local
//!   midnight; the break placement rule is documented there).
//! - [`grouping`]: Personio periods of a person → canonical entries, each with the ids of the periods
//!   that make it (so the workflow can update or delete them all).
//! - [`writes`]: which Personio calls (delete, patch, create, in a safe order) turn an entry's existing
//!   periods into the desired ones.
pub(crate) mod grouping;
pub(crate) mod shape;
pub(crate) mod writes;
