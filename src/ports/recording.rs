//! An in-memory publisher that records what it is given, for tests and benchmarks.

use std::sync::Mutex;

use crate::meaning::classify::Event;
use crate::outbound::notification::Notification;
use crate::ports::publish::{PublishError, Publisher};

#[derive(Debug, Default)]
pub struct RecordingPublisher {
    published: Mutex<Vec<Notification>>,
    failure: Mutex<Option<PublishError>>,
}

impl RecordingPublisher {
    pub fn new() -> Self {
        Self::default()
    }

    /// While failing, every publish fails as SNS being unavailable, and nothing is recorded.
    pub fn set_failing(&self, failing: bool) {
        self.fail_with(
            failing.then(|| {
                PublishError::Unavailable("the recording publisher is set to fail".into())
            }),
        );
    }

    /// While refusing, every publish is refused as invalid, and nothing is recorded.
    pub fn set_refusing(&self, refusing: bool) {
        self.fail_with(refusing.then(|| {
            PublishError::Refused("InvalidParameter: the recording publisher refuses".into())
        }));
    }

    fn fail_with(&self, failure: Option<PublishError>) {
        *self.failure.lock().expect("not poisoned") = failure;
    }

    pub fn published(&self) -> Vec<Notification> {
        self.published.lock().expect("not poisoned").clone()
    }

    /// The events of what was published, in order.
    pub fn events(&self) -> Vec<Event> {
        self.published
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|n| n.event)
            .collect()
    }
}

impl Publisher for RecordingPublisher {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        if let Some(failure) = self.failure.lock().expect("not poisoned").clone() {
            return Err(failure);
        }
        let mut published = self.published.lock().expect("not poisoned");
        published.push(notification.clone());
        Ok(format!("memory-{}", published.len()))
    }
}
