//! The small interfaces the relay reaches AWS through, with their in-memory fakes.

pub mod hold_queue;
pub mod idempotency;
pub mod publish;
pub mod recording;
pub mod stream_log;
