//! A state table that cannot be reached: every call fails, as DynamoDB's does when it is
//! down or the function may not use it.

use live_callback_relay::meaning::stream_state::{Entry, History};
use live_callback_relay::ports::idempotency::{Claim, IdempotencyStore, StoreError};
use live_callback_relay::ports::stream_log::{Appended, Mark, StreamKey, StreamLog, Unparked};

pub struct Unreachable;

fn unreachable<T>() -> Result<T, StoreError> {
    Err(StoreError("table unreachable".into()))
}

impl IdempotencyStore for Unreachable {
    async fn claim(&self, _: &str, _: u64, _: u64) -> Result<Claim, StoreError> {
        unreachable()
    }
    async fn complete(&self, _: &str, _: u64, _: u64) -> Result<(), StoreError> {
        unreachable()
    }
    async fn release(&self, _: &str) -> Result<(), StoreError> {
        unreachable()
    }
}

impl StreamLog for Unreachable {
    async fn append(&self, _: &StreamKey, _: &Entry) -> Result<Appended, StoreError> {
        unreachable()
    }
    async fn mark(&self, _: &StreamKey, _: Mark<'_>) -> Result<(), StoreError> {
        unreachable()
    }
    async fn unparked(&self, _: u64) -> Result<Vec<Unparked>, StoreError> {
        unreachable()
    }
    async fn swept(&self, _: &Unparked, _: &[String]) -> Result<(), StoreError> {
        unreachable()
    }
    async fn compact(&self, _: &StreamKey, _: &History, _: u64) -> Result<(), StoreError> {
        unreachable()
    }
}
