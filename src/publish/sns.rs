//! The Amazon SNS adapter: one `Publish` with `MessageStructure=json` per notification.

use std::time::Duration;

use aws_sdk_sns::Client;
use aws_sdk_sns::config::retry::RetryConfig;
use aws_sdk_sns::config::timeout::TimeoutConfig;
use aws_sdk_sns::types::MessageAttributeValue;

use super::{PublishError, Publisher};
use crate::notification::{AttributeValue, Notification};

/// Tencent abandons a callback after 20 s; every publish finishes well inside 10 s.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(9);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(2_500);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const MAX_ATTEMPTS: u32 = 3;

/// Applies the relay's retry and timeout budget to an SNS client configuration.
pub fn with_delivery_limits(builder: aws_sdk_sns::config::Builder) -> aws_sdk_sns::config::Builder {
    builder
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(100)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(OPERATION_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        )
}

#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: Client, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }

    /// A client from the standard AWS environment (credentials, region, and endpoint
    /// overrides such as `AWS_ENDPOINT_URL_SNS`), with the relay's delivery limits.
    pub async fn from_environment(topic_arn: String) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let config = with_delivery_limits(aws_sdk_sns::config::Builder::from(&shared)).build();
        Self::new(Client::from_conf(config), topic_arn)
    }
}

impl Publisher for SnsPublisher {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message_structure("json")
            .message(&notification.message)
            .subject(&notification.subject);
        for (name, value) in &notification.attributes {
            request = request.message_attributes(*name, to_sdk(value)?);
        }
        let output = request
            .send()
            .await
            .map_err(|e| PublishError(aws_sdk_sns::error::DisplayErrorContext(&e).to_string()))?;
        Ok(output.message_id.unwrap_or_default())
    }
}

fn to_sdk(value: &AttributeValue) -> Result<MessageAttributeValue, PublishError> {
    let (data_type, text) = match value {
        AttributeValue::String(s) => ("String", s),
        AttributeValue::Number(n) => ("Number", n),
    };
    MessageAttributeValue::builder()
        .data_type(data_type)
        .string_value(text)
        .build()
        .map_err(|e| PublishError(e.to_string()))
}
