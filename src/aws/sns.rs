//! The Amazon SNS adapter: one `Publish` per notification, with `MessageStructure=json`
//! for the main topic's renderings.

use aws_sdk_sns::Client;
use aws_sdk_sns::error::{DisplayErrorContext, SdkError};
use aws_sdk_sns::operation::publish::PublishError as SdkPublishError;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::aws::limits;
use crate::outbound::notification::{AttributeValue, Notification, Structure};
use crate::ports::publish::{PublishError, Publisher};

/// Applies the relay's retry and timeout budget for publishing to an SNS client configuration.
pub fn with_delivery_limits(builder: aws_sdk_sns::config::Builder) -> aws_sdk_sns::config::Builder {
    builder
        .retry_config(limits::PUBLISH.retry_config())
        .timeout_config(limits::PUBLISH.timeout_config())
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

    /// A client from the shared AWS configuration (credentials, region, and endpoint
    /// overrides such as `AWS_ENDPOINT_URL_SNS`), with the relay's delivery limits.
    pub fn from_shared(shared: &aws_config::SdkConfig, topic_arn: String) -> Self {
        let config = with_delivery_limits(aws_sdk_sns::config::Builder::from(shared)).build();
        Self::new(Client::from_conf(config), topic_arn)
    }

    /// A publisher to another topic through the same client (and its connections).
    pub fn for_topic(&self, topic_arn: String) -> Self {
        Self::new(self.client.clone(), topic_arn)
    }

    /// Opens the connection to SNS and pays the client's first-use costs (endpoint
    /// resolution, signing, the TLS handshake), with one read of the topic's attributes.
    pub async fn warm_up(&self) -> Result<(), PublishError> {
        self.client
            .get_topic_attributes()
            .topic_arn(&self.topic_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| PublishError::Unavailable(DisplayErrorContext(&e).to_string()))
    }
}

impl Publisher for SnsPublisher {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(&notification.message);
        if notification.structure == Structure::PerProtocol {
            request = request
                .message_structure("json")
                .subject(&notification.subject);
        }
        for (name, value) in &notification.attributes {
            request = request.message_attributes(*name, to_sdk(value)?);
        }
        let output = request.send().await.map_err(classify_error)?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// `InvalidParameter` and `InvalidParameterValue` are about the message itself: sending it
/// again cannot succeed. Everything else (throttling, SNS or KMS faults, a missing topic or
/// permission that an operator may restore, the network) is worth Tencent's retry, and so
/// is an `InvalidParameter` about the topic (SNS's answer to a topic of another region).
fn classify_error<R>(error: SdkError<SdkPublishError, R>) -> PublishError
where
    R: std::fmt::Debug,
{
    let refused = matches!(
        &error,
        SdkError::ServiceError(e)
            if (e.err().is_invalid_parameter_exception()
                || e.err().is_invalid_parameter_value_exception())
                && !e.err().to_string().contains("TopicArn")
    );
    let detail = DisplayErrorContext(&error).to_string();
    if refused {
        PublishError::Refused(detail)
    } else {
        PublishError::Unavailable(detail)
    }
}

fn to_sdk(value: &AttributeValue) -> Result<MessageAttributeValue, PublishError> {
    MessageAttributeValue::builder()
        .data_type(value.data_type())
        .string_value(value.text())
        .build()
        .map_err(|e| PublishError::Refused(e.to_string()))
}
