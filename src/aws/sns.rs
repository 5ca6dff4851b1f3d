//! The Amazon SNS adapter: one `Publish` per notification, with `MessageStructure=json`
//! for the main topic's renderings, through the Query protocol (`crate::aws::query`).

use crate::aws::limits;
use crate::aws::query::{CallError, Form, QueryClient, element};
use crate::aws::setup::TrustRoots;
use crate::outbound::notification::{Notification, Structure};
use crate::ports::publish::{PublishError, Publisher};

const VERSION: &str = "2010-03-31";

/// The codes SNS answers a `Publish` with when the message is invalid:
/// `InvalidParameterException` and `InvalidParameterValueException`, whose code on the
/// wire is `ParameterValueInvalid` (`InvalidParameterValue` kept for other SNS-speaking
/// servers).
const INVALID_MESSAGE: [&str; 3] = [
    "InvalidParameter",
    "ParameterValueInvalid",
    "InvalidParameterValue",
];

#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: QueryClient,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: QueryClient, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }

    /// A client with the shared AWS configuration's credentials and region, through
    /// `endpoint` (the configuration's override; SNS's regional endpoint without one), with
    /// the relay's delivery limits.
    pub fn from_shared(
        shared: &aws_config::SdkConfig,
        roots: TrustRoots,
        endpoint: Option<&str>,
        topic_arn: String,
    ) -> Self {
        let region = shared
            .region()
            .map(|r| r.as_ref().to_owned())
            .or_else(|| topic_arn.split(':').nth(3).map(str::to_owned))
            .unwrap_or_default();
        let endpoint = endpoint.map_or_else(|| regional_endpoint(&region), str::to_owned);
        let client = QueryClient::new(
            endpoint,
            region,
            "sns",
            shared.credentials_provider(),
            roots,
            limits::PUBLISH,
        );
        Self::new(client, topic_arn)
    }

    /// A publisher to another topic through the same client (and its connections).
    pub fn for_topic(&self, topic_arn: String) -> Self {
        Self::new(self.client.clone(), topic_arn)
    }

    /// Opens the connection to SNS and pays the first call's costs (credentials, signing,
    /// the TLS handshake), with one read of the topic's attributes.
    pub async fn warm_up(&self) -> Result<(), PublishError> {
        let mut form = Form::new("GetTopicAttributes", VERSION);
        form.param("TopicArn", &self.topic_arn);
        self.client
            .call(&form)
            .await
            .map(|_| ())
            .map_err(|e| PublishError::Unavailable(e.to_string()))
    }

    /// What `Publish` is sent for `notification`.
    pub fn form(&self, notification: &Notification) -> Form {
        let mut form = Form::new("Publish", VERSION);
        form.param("TopicArn", &self.topic_arn)
            .param("Message", &notification.message);
        if notification.structure == Structure::PerProtocol {
            form.param("MessageStructure", "json")
                .param("Subject", &notification.subject);
        }
        for (n, (name, value)) in notification.attributes.iter().enumerate() {
            let entry = format!("MessageAttributes.entry.{}", n + 1);
            form.param(&format!("{entry}.Name"), name)
                .param(&format!("{entry}.Value.DataType"), value.data_type())
                .param(&format!("{entry}.Value.StringValue"), value.text());
        }
        form
    }
}

/// SNS's endpoint in `region`: `amazonaws.com.cn` in the China regions.
pub fn regional_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://sns.{region}.{domain}")
}

impl Publisher for SnsPublisher {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        let answer = self
            .client
            .call(&self.form(notification))
            .await
            .map_err(classify_error)?;
        Ok(element(&answer, "MessageId")
            .unwrap_or_default()
            .into_owned())
    }
}

/// `InvalidParameter` and `ParameterValueInvalid` are about the message itself: sending it
/// again cannot succeed. Everything else (throttling, SNS or KMS faults, a missing topic or
/// permission that an operator may restore, the network) is worth Tencent's retry, and so
/// is an `InvalidParameter` about the topic (SNS's answer to a topic of another region).
fn classify_error(error: CallError) -> PublishError {
    let refused = matches!(
        &error,
        CallError::Service { code, message, .. }
            if INVALID_MESSAGE.contains(&code.as_str()) && !message.contains("TopicArn")
    );
    if refused {
        PublishError::Refused(error.to_string())
    } else {
        PublishError::Unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, code: &str, message: &str) -> PublishError {
        classify_error(CallError::Service {
            status,
            code: code.into(),
            message: message.into(),
        })
    }

    #[test]
    fn only_an_invalid_message_is_refused() {
        for code in INVALID_MESSAGE {
            let refused = answered(400, code, "Invalid parameter: Message too long");
            assert!(
                matches!(&refused, PublishError::Refused(m) if m.contains("Message too long")),
                "{refused:?}"
            );
        }
        for (status, code, message) in [
            (400, "InvalidParameter", "Invalid parameter: TopicArn"),
            (400, "Throttled", "Rate exceeded"),
            (403, "AuthorizationError", "not authorized"),
            (404, "NotFound", "Topic does not exist"),
            (500, "InternalError", ""),
        ] {
            let answer = answered(status, code, message);
            assert!(
                matches!(answer, PublishError::Unavailable(_)),
                "{code}: {answer:?}"
            );
        }
        let unanswered = classify_error(CallError::Unanswered("connection refused".into()));
        assert!(matches!(unanswered, PublishError::Unavailable(m) if m == "connection refused"));
    }
}
