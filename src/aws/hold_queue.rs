//! The hold queue on SQS: a held drop is a message delayed until its deadline (at most
//! 15 minutes at a time), which the queue's event source mapping hands back to the
//! function when it comes due.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;

use crate::aws::limits;
use crate::ports::hold_queue::{HoldQueue, MAX_DELAY_SECS, QueueError};

#[derive(Debug, Clone)]
pub struct SqsHoldQueue {
    client: Client,
    queue_url: String,
}

impl SqsHoldQueue {
    pub fn new(client: Client, queue_url: String) -> Self {
        Self { client, queue_url }
    }

    /// A client from the shared AWS configuration with the store's call limits.
    pub fn from_shared(shared: &aws_config::SdkConfig, queue_url: String) -> Self {
        let config = aws_sdk_sqs::config::Builder::from(shared)
            .retry_config(limits::STORE.retry_config())
            .timeout_config(limits::STORE.timeout_config())
            .build();
        Self::new(Client::from_conf(config), queue_url)
    }

    /// Opens the connection to SQS and pays the client's first-use costs, with one read
    /// of the queue's attributes.
    pub async fn warm_up(&self) -> Result<(), QueueError> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::DelaySeconds)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))
    }
}

impl HoldQueue for SqsHoldQueue {
    async fn park(&self, message: &str, delay_secs: u64) -> Result<(), QueueError> {
        let delay = i32::try_from(delay_secs.min(MAX_DELAY_SECS)).unwrap_or(0);
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message)
            .delay_seconds(delay)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))
    }
}
