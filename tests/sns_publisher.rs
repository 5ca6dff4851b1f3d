//! The SNS adapter on the wire: the `Publish` form it sends, moto's SNS parsing it and
//! checking its SigV4 signature (with botocore's signer, through moto's IAM
//! authentication), and how SNS's answers are read.

mod common;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use common::*;
use live_callback_relay::aws::limits::PUBLISH;
use live_callback_relay::aws::query::{Form, QueryClient, element};
use live_callback_relay::aws::setup::TrustRoots;
use live_callback_relay::aws::sns::{SnsPublisher, regional_endpoint};
use live_callback_relay::outbound::notification::{Notification, Structure};
use live_callback_relay::ports::publish::{PublishError, Publisher};
use local_stack::moto::{self, Moto};
use local_stack::{aws, http};
use serde_json::{Value, json};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:live-events";

fn abnormal_stop() -> Notification {
    let body = signed(
        INTERRUPT,
        json!({"errcode": 13, "stream_param": push_url_params()}),
    );
    notification_of(&body)
}

fn client(endpoint: &str, service: &'static str, id: &str, secret: &str) -> QueryClient {
    let credentials = Credentials::new(id, secret, None, None, "test");
    QueryClient::new(
        endpoint.to_string(),
        aws::REGION.to_string(),
        service,
        Some(SharedCredentialsProvider::new(credentials)),
        TrustRoots::System,
        PUBLISH,
    )
}

/// `form` decoded into its (name, value) pairs, in order.
fn pairs(form: &Form) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    form.as_str()
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (decode(name), decode(value))
        })
        .collect()
}

#[test]
fn the_publish_form_carries_the_topic_structure_subject_and_attributes() {
    let notification = abnormal_stop();
    let publisher = SnsPublisher::new(client("https://sns.test", "sns", "a", "b"), TOPIC.into());

    let form = publisher.form(&notification);

    assert!(
        form.as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~%=&".contains(&b)),
        "only unreserved characters and escapes: {}",
        form.as_str()
    );
    let sent = pairs(&form);
    let get = |name: &str| {
        let found: Vec<&str> = sent
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(found.len(), 1, "{name} once: {sent:?}");
        found[0].to_string()
    };
    assert_eq!(get("Action"), "Publish");
    assert_eq!(get("Version"), "2010-03-31");
    assert_eq!(get("TopicArn"), TOPIC);
    assert_eq!(get("MessageStructure"), "json");
    assert_eq!(
        get("Subject"),
        "Stream dropped (network): test_stream on test.domain.com/live"
    );
    let message: Value = serde_json::from_str(&get("Message")).unwrap();
    assert_eq!(get("Message"), notification.message);
    let document: Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
    assert_eq!(document["event"], "stream.stopped_abnormally");
    assert!(!form.as_str().contains(TX_SECRET));
    assert!(!get("Message").contains(TX_SECRET));

    let attributes: Vec<(String, String, String)> = (1..=notification.attributes.len())
        .map(|n| {
            let entry = format!("MessageAttributes.entry.{n}");
            (
                get(&format!("{entry}.Name")),
                get(&format!("{entry}.Value.DataType")),
                get(&format!("{entry}.Value.StringValue")),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("event", "String", "stream.stopped_abnormally"),
        ("event_id", "String", notification.event_id.as_str()),
        ("stream_id", "String", "test_stream"),
        ("app", "String", "test.domain.com"),
        ("appname", "String", "live"),
        ("appid", "String", "12345678"),
        ("region", "String", "mainland"),
        ("errcode", "Number", "13"),
        ("reason", "String", "network"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    let mut attributes_sorted = attributes.clone();
    let mut expected_sorted = expected.clone();
    attributes_sorted.sort();
    expected_sorted.sort();
    assert_eq!(attributes_sorted, expected_sorted);
    assert_eq!(sent.len(), 6 + 3 * expected.len(), "{sent:?}");
}

#[test]
fn a_chat_message_is_sent_without_structure_or_subject() {
    let mut notification = abnormal_stop();
    notification.structure = Structure::Single;
    let publisher = SnsPublisher::new(client("https://sns.test", "sns", "a", "b"), TOPIC.into());

    let sent = pairs(&publisher.form(&notification));

    assert!(
        sent.iter()
            .all(|(n, _)| n != "MessageStructure" && n != "Subject")
    );
    assert!(sent.contains(&("Message".into(), notification.message.clone())));
}

#[test]
fn the_regional_endpoints_follow_the_partition() {
    assert_eq!(
        regional_endpoint("ap-east-1"),
        "https://sns.ap-east-1.amazonaws.com"
    );
    assert_eq!(
        regional_endpoint("cn-north-1"),
        "https://sns.cn-north-1.amazonaws.com.cn"
    );
}

#[test]
fn answers_are_read_with_their_entities_resolved() {
    let published = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1</RequestId></ResponseMetadata></PublishResponse>";
    assert_eq!(
        element(published, "MessageId").as_deref(),
        Some("94f20ce6-13c5-43a0-9a9e-ca52d816e90b")
    );
    let refused = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: &lt;Subject&gt; &amp; &quot;x&quot; &#x263A; &#65; &bogus; &</Message></Error></ErrorResponse>";
    assert_eq!(
        element(refused, "Message").as_deref(),
        Some("Invalid parameter: <Subject> & \"x\" \u{263A} A &bogus; &")
    );
    assert_eq!(
        element(refused, "Code").as_deref(),
        Some("InvalidParameter")
    );
    assert_eq!(element(refused, "Missing"), None);
    assert_eq!(element("<Code>unterminated", "Code"), None);
}

/// A moto that checks every request's SigV4 signature from now on, and an access key it
/// knows (created through the same client, before authentication is on) allowed to
/// publish.
async fn moto_checking_signatures(moto: &Moto) -> (String, String) {
    let iam = client(&moto.endpoint, "iam", "testing", "testing");
    let call = |pairs: &[(&str, &str)]| {
        let mut form = Form::new(pairs[0].1, "2010-05-08");
        for (name, value) in &pairs[1..] {
            form.param(name, value);
        }
        let iam = iam.clone();
        async move { iam.call(&form).await.expect("IAM call") }
    };
    call(&[("Action", "CreateUser"), ("UserName", "relay")]).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sns:*", "Resource": "*"}]})
    .to_string();
    call(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "relay"),
        ("PolicyName", "publish"),
        ("PolicyDocument", &policy),
    ])
    .await;
    let key = call(&[("Action", "CreateAccessKey"), ("UserName", "relay")]).await;
    let id = element(&key, "AccessKeyId").unwrap().into_owned();
    let secret = element(&key, "SecretAccessKey").unwrap().into_owned();
    let (status, _) = http::send(
        "POST",
        &format!("{}/moto-api/reset-auth", moto.endpoint),
        "text/plain",
        "0",
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    (id, secret)
}

#[tokio::test]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn sns_accepts_the_signed_publish_and_refuses_a_wrong_signature() {
    let moto = Moto::start(&moto::server_path()).await.expect("moto");
    let topology = aws::Topology::create(&moto.endpoint, None)
        .await
        .expect("topology");
    let (id, secret) = moto_checking_signatures(&moto).await;
    // moto rebuilds the body it checks from the parameters it parsed, differently from the
    // bytes sent once a value holds a reserved character (the SDK's own requests then fail
    // its check too): the message checked here is unreserved text, with every attribute
    let mut notification = abnormal_stop();
    notification.structure = Structure::Single;
    notification.message = "stream-test_stream.dropped~13".into();

    let signed = SnsPublisher::new(
        client(&moto.endpoint, "sns", &id, &secret),
        topology.topic_arn.clone(),
    );
    let message_id = signed.publish(&notification).await.expect("published");
    let forged = SnsPublisher::new(
        client(&moto.endpoint, "sns", &id, "not-the-secret"),
        topology.topic_arn.clone(),
    );
    let refused = forged.publish(&notification).await;

    assert!(!message_id.is_empty());
    signed
        .warm_up()
        .await
        .expect("topic attributes read, signed");
    assert!(
        matches!(&refused, Err(PublishError::Unavailable(m)) if m.contains("SignatureDoesNotMatch") && m.contains("403")),
        "{refused:?}"
    );
    let published = moto.published_to(&topology.topic_arn).await.unwrap();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0].0, notification.message);
}

#[tokio::test]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn a_message_sns_refuses_is_refused_at_once_and_a_foreign_topic_is_retried() {
    let moto = Moto::start(&moto::server_path()).await.expect("moto");
    let topology = aws::Topology::create(&moto.endpoint, None)
        .await
        .expect("topology");
    let publisher = SnsPublisher::new(
        client(&moto.endpoint, "sns", "testing", "testing"),
        topology.topic_arn.clone(),
    );
    let mut too_long = abnormal_stop();
    too_long.message = "x".repeat(262_145);

    let refused = publisher.publish(&too_long).await;
    let missing = publisher
        .for_topic("arn:aws:sns:us-east-1:123456789012:absent".into())
        .publish(&abnormal_stop())
        .await;

    assert!(
        matches!(&refused, Err(PublishError::Refused(m)) if m.contains("Message too long")),
        "{refused:?}"
    );
    assert!(
        matches!(&missing, Err(PublishError::Unavailable(m)) if m.contains("NotFound")),
        "{missing:?}"
    );
}
