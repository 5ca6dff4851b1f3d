//! The small interfaces the relay reaches AWS through, with their in-memory fakes.

pub mod idempotency;
pub mod publish;
pub mod recording;
