//! DynamoDB adapter of the [`StateStore`](super::StateStore).
