//! The port through which notifications leave: SNS in production, memory in tests.

use std::future::Future;

use crate::outbound::notification::Notification;

/// Why the publisher did not accept a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// Not accepted after the publisher's own bounded retries: a later retry may succeed.
    #[error("publish failed: {0}")]
    Unavailable(String),
    /// Refused as invalid: the same message can never succeed, however often it is retried.
    #[error("publish refused as invalid: {0}")]
    Refused(String),
}

pub trait Publisher: Send + Sync {
    /// Publishes one notification and returns the message id the publisher assigned.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, PublishError>> + Send;
}
