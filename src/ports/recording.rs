//! An in-memory publisher that records what it is given, for tests and benchmarks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::outbound::notification::Notification;
use crate::ports::publish::{PublishError, Publisher};

#[derive(Debug, Default)]
pub struct RecordingPublisher {
    published: Mutex<Vec<Notification>>,
    failing: AtomicBool,
}

impl RecordingPublisher {
    pub fn new() -> Self {
        Self::default()
    }

    /// While failing, every publish is refused and nothing is recorded.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn published(&self) -> Vec<Notification> {
        self.published.lock().expect("not poisoned").clone()
    }
}

impl Publisher for RecordingPublisher {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PublishError(
                "the recording publisher is set to fail".into(),
            ));
        }
        let mut published = self.published.lock().expect("not poisoned");
        published.push(notification.clone());
        Ok(format!("memory-{}", published.len()))
    }
}
