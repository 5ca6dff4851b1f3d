//! The port through which notifications leave: SNS in production, memory in tests.

use std::future::Future;

use crate::outbound::notification::Notification;

/// The publisher did not accept the message (after its own bounded retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publish failed: {0}")]
pub struct PublishError(pub String);

pub trait Publisher: Send + Sync {
    /// Publishes one notification and returns the message id the publisher assigned.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, PublishError>> + Send;
}
