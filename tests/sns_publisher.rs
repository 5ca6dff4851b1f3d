//! The SNS adapter, checked on the request it actually hands the SDK, with the relay's
//! own retry and timeout configuration in place.

mod common;

use std::sync::{Arc, Mutex};

use aws_sdk_sns::operation::publish::{PublishError, PublishInput, PublishOutput};
use aws_sdk_sns::types::error::InvalidParameterException;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use common::*;
use live_callback_relay::aws::limits::PUBLISH;
use live_callback_relay::aws::sns::{SnsPublisher, with_delivery_limits};
use live_callback_relay::outbound::notification::Notification;
use live_callback_relay::ports::publish::{PublishError as RelayPublishError, Publisher};
use serde_json::{Value, json};

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:live-events";

fn abnormal_stop() -> Notification {
    let body = signed(
        INTERRUPT,
        json!({"errcode": 13, "stream_param": push_url_params()}),
    );
    notification_of(&body)
}

/// A client with the relay's retry and timeout configuration, answered by `rule`.
fn client_with(rule: &Rule) -> aws_sdk_sns::Client {
    mock_client!(
        aws_sdk_sns,
        RuleMode::Sequential,
        [rule],
        with_delivery_limits
    )
}

#[tokio::test]
async fn publish_sends_the_topic_structure_subject_and_attributes() {
    let captured: Arc<Mutex<Vec<PublishInput>>> = Arc::default();
    let sink = captured.clone();
    let rule = mock!(aws_sdk_sns::Client::publish)
        .match_requests(move |input| {
            sink.lock().unwrap().push(input.clone());
            true
        })
        .then_output(|| PublishOutput::builder().message_id("msg-1").build());
    let client = client_with(&rule);
    let notification = abnormal_stop();

    let message_id = SnsPublisher::new(client, TOPIC.into())
        .publish(&notification)
        .await
        .expect("published");

    assert_eq!(message_id, "msg-1");
    assert_eq!(rule.num_calls(), 1);
    let sent = captured.lock().unwrap().pop().expect("one request");
    assert_eq!(sent.topic_arn(), Some(TOPIC));
    assert_eq!(sent.message_structure(), Some("json"));
    assert_eq!(
        sent.subject(),
        Some("Stream dropped (network): test_stream on test.domain.com/live")
    );
    let message: Value = serde_json::from_str(sent.message().unwrap()).unwrap();
    let document: Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
    assert_eq!(document["event"], "stream.stopped_abnormally");
    assert!(
        message["email"]
            .as_str()
            .unwrap()
            .contains("stopped abnormally")
    );
    assert!(
        message["sms"]
            .as_str()
            .unwrap()
            .starts_with("Stream test_stream dropped")
    );
    assert!(!sent.message().unwrap().contains(TX_SECRET));

    let attributes = sent.message_attributes().expect("attributes");
    let attr = |name: &str| {
        let value = &attributes[name];
        (value.data_type(), value.string_value().unwrap_or_default())
    };
    assert_eq!(attributes.len(), 9);
    assert_eq!(attr("event"), ("String", "stream.stopped_abnormally"));
    assert_eq!(attr("event_id"), ("String", notification.event_id.as_str()));
    assert_eq!(attr("stream_id"), ("String", "test_stream"));
    assert_eq!(attr("app"), ("String", "test.domain.com"));
    assert_eq!(attr("appname"), ("String", "live"));
    assert_eq!(attr("appid"), ("String", "12345678"));
    assert_eq!(attr("region"), ("String", "mainland"));
    assert_eq!(attr("errcode"), ("Number", "13"));
    assert_eq!(attr("reason"), ("String", "network"));
}

#[tokio::test]
async fn transient_failures_are_retried_within_the_attempt_budget() {
    let rule = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_status(500, None)
        .times((PUBLISH.max_attempts - 1) as usize)
        .output(|| PublishOutput::builder().message_id("after-retries").build())
        .build();
    let client = client_with(&rule);

    let result = SnsPublisher::new(client, TOPIC.into())
        .publish(&abnormal_stop())
        .await;

    assert_eq!(result.as_deref(), Ok("after-retries"));
    assert_eq!(rule.num_calls(), PUBLISH.max_attempts as usize);
}

#[tokio::test]
async fn a_failure_that_outlasts_the_retries_is_an_error() {
    let rule = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_status(503, None)
        .times(PUBLISH.max_attempts as usize + 1)
        .build();
    let client = client_with(&rule);

    let error = SnsPublisher::new(client, TOPIC.into())
        .publish(&abnormal_stop())
        .await
        .expect_err("retries exhausted");

    assert!(error.to_string().contains("publish failed"), "{error}");
    assert!(
        matches!(error, RelayPublishError::Unavailable(_)),
        "{error:?}"
    );
    assert_eq!(rule.num_calls(), PUBLISH.max_attempts as usize);
}

/// What publishing gets when SNS answers `InvalidParameter` with `message`, and how many
/// times it asked.
async fn publish_answered_invalid_parameter(
    message: &'static str,
) -> (Result<String, RelayPublishError>, usize) {
    let rule = mock!(aws_sdk_sns::Client::publish).then_error(move || {
        PublishError::InvalidParameterException(
            InvalidParameterException::builder()
                .message(message)
                .build(),
        )
    });
    let result = SnsPublisher::new(client_with(&rule), TOPIC.into())
        .publish(&abnormal_stop())
        .await;
    (result, rule.num_calls())
}

#[tokio::test]
async fn an_invalid_message_is_refused_and_not_retried() {
    let (result, calls) =
        publish_answered_invalid_parameter("Invalid parameter: Message too long").await;

    assert!(
        matches!(&result, Err(RelayPublishError::Refused(m)) if m.contains("Message too long")),
        "{result:?}"
    );
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn an_invalid_topic_is_worth_a_retry_once_an_operator_fixes_it() {
    let (result, _) = publish_answered_invalid_parameter("Invalid parameter: TopicArn").await;

    assert!(
        matches!(result, Err(RelayPublishError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_throttled_or_failing_sns_is_unavailable_not_refused() {
    for status in [400, 500] {
        let rule = mock!(aws_sdk_sns::Client::publish)
            .sequence()
            .http_status(status, None)
            .times(PUBLISH.max_attempts as usize)
            .build();
        let result = SnsPublisher::new(client_with(&rule), TOPIC.into())
            .publish(&abnormal_stop())
            .await;
        assert!(
            matches!(result, Err(RelayPublishError::Unavailable(_))),
            "{status}: {result:?}"
        );
    }
}
