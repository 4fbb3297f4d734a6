//! In-memory [`StateStore`](super::StateStore) for pure unit tests.
