//! The shared HTTPS client: it builds with the embedded Amazon roots (and with the
//! system's), and carries the relay's SDK calls.

use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
use live_callback_relay::aws::setup::{AMAZON_TRUST_SERVICES_PEM, TrustRoots, https_client};
use local_stack::sns_stub::SnsStub;

#[test]
fn the_embedded_bundle_holds_the_six_amazon_trust_services_roots() {
    let pem = std::str::from_utf8(AMAZON_TRUST_SERVICES_PEM).unwrap();
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 6);
    assert_eq!(pem.matches("-----END CERTIFICATE-----").count(), 6);
}

#[tokio::test]
async fn sdk_calls_go_through_the_client_with_either_trust_store() {
    for roots in [TrustRoots::AmazonTrustServices, TrustRoots::System] {
        let stub = SnsStub::start().await.unwrap();
        let config = aws_sdk_sns::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(https_client(roots))
            .endpoint_url(&stub.url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .build();
        let output = aws_sdk_sns::Client::from_conf(config)
            .publish()
            .topic_arn("arn:aws:sns:us-east-1:123456789012:t")
            .message("m")
            .send()
            .await
            .expect("published through the client");
        assert!(output.message_id().is_some());
        assert_eq!(stub.requests(), 1, "{roots:?}");
    }
}
