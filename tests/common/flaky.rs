//! The in-memory state table with chosen operations failing, as DynamoDB's do in a
//! brownout: for the announcement's failure orders.

use std::collections::HashSet;
use std::sync::Mutex;

use live_callback_relay::meaning::stream_state::{Entry, History};
use live_callback_relay::ports::idempotency::{Claim, IdempotencyStore, StoreError};
use live_callback_relay::ports::stream_log::{
    Appended, Mark, MemoryStreamLog, StreamKey, StreamLog, Unparked,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Append,
    Claim,
    Complete,
    Release,
    Mark,
    Unparked,
    Swept,
}

#[derive(Default)]
pub struct Flaky {
    pub log: MemoryStreamLog,
    failing: Mutex<HashSet<Op>>,
}

impl Flaky {
    /// From now on, exactly `ops` fail.
    pub fn fail(&self, ops: &[Op]) {
        *self.failing.lock().unwrap() = ops.iter().copied().collect();
    }

    fn check(&self, op: Op) -> Result<(), StoreError> {
        if self.failing.lock().unwrap().contains(&op) {
            Err(StoreError(format!("{op:?} refused (brownout)")))
        } else {
            Ok(())
        }
    }
}

impl IdempotencyStore for Flaky {
    async fn claim(&self, id: &str, now: u64, lease: u64) -> Result<Claim, StoreError> {
        self.check(Op::Claim)?;
        self.log.claim(id, now, lease).await
    }
    async fn complete(&self, id: &str, now: u64, until: u64) -> Result<(), StoreError> {
        self.check(Op::Complete)?;
        self.log.complete(id, now, until).await
    }
    async fn release(&self, id: &str) -> Result<(), StoreError> {
        self.check(Op::Release)?;
        self.log.release(id).await
    }
}

impl StreamLog for Flaky {
    async fn append(&self, key: &StreamKey, entry: &Entry) -> Result<Appended, StoreError> {
        self.check(Op::Append)?;
        self.log.append(key, entry).await
    }
    async fn mark(&self, key: &StreamKey, mark: Mark<'_>) -> Result<(), StoreError> {
        self.check(Op::Mark)?;
        self.log.mark(key, mark).await
    }
    async fn unparked(&self, before: u64) -> Result<Vec<Unparked>, StoreError> {
        self.check(Op::Unparked)?;
        self.log.unparked(before).await
    }
    async fn swept(&self, stream: &Unparked, parked: &[String]) -> Result<(), StoreError> {
        self.check(Op::Swept)?;
        self.log.swept(stream, parked).await
    }
    async fn compact(
        &self,
        key: &StreamKey,
        history: &History,
        seen: u64,
    ) -> Result<(), StoreError> {
        self.log.compact(key, history, seen).await
    }
}
