//! Where a held drop waits for its deadline: an SQS queue with delayed messages in
//! production, memory in tests. A hold carries the stop's body as it arrived, so that
//! when it comes due the callback is verified again, as it was when it was parked.

use std::future::Future;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::outbound::sanitize::escape_noncharacters;

/// SQS delays a message at most 15 minutes; a longer window parks the hold again for
/// the rest when it comes back early.
pub const MAX_DELAY_SECS: u64 = 900;

/// The message a held drop is parked as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// When this body was verified, the relay's clock: it is verified again as of then.
    pub verified_at: u64,
    /// When the hold comes due, the relay's clock.
    pub deadline: u64,
    /// The stop callback's body, as it arrived.
    pub body: String,
}

impl Hold {
    /// As the queue's message body: JSON, with the two noncharacters SQS refuses escaped.
    pub fn to_message(&self) -> String {
        escape_noncharacters(serde_json::to_string(self).expect("strings always serialize"))
    }

    pub fn from_message(text: &str) -> Result<Hold, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// How long to delay the message at `now` so that it comes back at the deadline, or
    /// as close to it as SQS allows.
    pub fn delay_at(&self, now: u64) -> u64 {
        self.deadline.saturating_sub(now).min(MAX_DELAY_SECS)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hold queue failed: {0}")]
pub struct QueueError(pub String);

pub trait HoldQueue: Send + Sync {
    /// Parks `hold` until its deadline (or for the longest delay the queue allows).
    fn park(&self, hold: &Hold, now: u64) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// An in-memory queue that records what is parked, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryHoldQueue {
    parked: Mutex<Vec<(Hold, u64)>>,
    failing: Mutex<bool>,
}

impl MemoryHoldQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// What was parked, with its delay, in order.
    pub fn parked(&self) -> Vec<(Hold, u64)> {
        self.parked.lock().expect("not poisoned").clone()
    }

    /// Takes every parked hold out of the queue.
    pub fn take(&self) -> Vec<Hold> {
        std::mem::take(&mut *self.parked.lock().expect("not poisoned"))
            .into_iter()
            .map(|(hold, _)| hold)
            .collect()
    }

    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("not poisoned") = failing;
    }
}

impl HoldQueue for MemoryHoldQueue {
    async fn park(&self, hold: &Hold, now: u64) -> Result<(), QueueError> {
        if *self.failing.lock().expect("not poisoned") {
            return Err(QueueError("the memory queue is set to fail".into()));
        }
        self.parked
            .lock()
            .expect("not poisoned")
            .push((hold.clone(), hold.delay_at(now)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_travels_as_sqs_safe_json_and_comes_back_whole() {
        let hold = Hold {
            verified_at: 100,
            deadline: 160,
            body: "{\"stream_id\":\"a\u{ffff}\\\"b\"}".into(),
        };
        let message = hold.to_message();
        assert!(!message.contains('\u{ffff}'));
        assert_eq!(Hold::from_message(&message).unwrap(), hold);
    }

    #[test]
    fn a_delay_never_exceeds_what_sqs_allows() {
        let hold = |deadline| Hold {
            verified_at: 0,
            deadline,
            body: String::new(),
        };
        assert_eq!(hold(60).delay_at(0), 60);
        assert_eq!(hold(1_800).delay_at(0), 900);
        assert_eq!(hold(1_800).delay_at(900), 900);
        assert_eq!(hold(1_800).delay_at(1_000), 800);
        assert_eq!(hold(60).delay_at(61), 0);
    }
}
