//! The relay's SigV4 signer (`src/aws/sigv4.rs`) gives the signature the SDK's own signer
//! (`aws-sigv4`) gives, for any body, time, host and credentials, with and without a
//! session token, and while it reuses its derived key across requests and days.

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use live_callback_relay::aws::sigv4::{Signer, Signing};
use live_callback_relay::outbound::timefmt::basic_utc;
use proptest::prelude::*;

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// What `aws-sigv4` adds: (`x-amz-date`, `authorization`, `x-amz-security-token`).
fn reference(
    credentials: &Signing<'_>,
    region: &str,
    url: &str,
    body: &[u8],
    unix_secs: u64,
) -> (String, String, Option<String>) {
    let identity = Credentials::new(
        credentials.access_key_id,
        credentials.secret_access_key,
        credentials.session_token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sns")
        .time(UNIX_EPOCH + Duration::from_secs(unix_secs))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        "POST",
        url,
        [("content-type", CONTENT_TYPE)].into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let header = |name: &str| {
        instructions
            .headers()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    };
    (
        header("x-amz-date").unwrap(),
        header("authorization").unwrap(),
        header("x-amz-security-token"),
    )
}

proptest! {
    #[test]
    fn signatures_match_the_sdks_signer(
        body in proptest::collection::vec(any::<u8>(), 0..4096),
        unix_secs in 0u64..4_102_444_800,
        later in 0u64..200_000,
        host in prop_oneof![
            Just("sns.us-east-1.amazonaws.com"),
            Just("sns.cn-north-1.amazonaws.com.cn"),
            Just("127.0.0.1:4566"),
        ],
        region in prop_oneof![Just("us-east-1"), Just("ap-east-1"), Just("cn-north-1")],
        secret in "[A-Za-z0-9/+]{40}",
        token in proptest::option::of("[A-Za-z0-9/+=]{16,300}"),
    ) {
        let signer = Signer::new(region.to_string(), "sns");
        let credentials = Signing {
            access_key_id: "ASIAEXAMPLEKEYID1234",
            secret_access_key: &secret,
            session_token: token.as_deref(),
        };
        let url = format!("https://{host}/");
        for at in [unix_secs, unix_secs + later, unix_secs] {
            let ours = signer.sign(&credentials, host, CONTENT_TYPE, &body, &basic_utc(at));
            let (date, authorization, session) = reference(&credentials, region, &url, &body, at);
            prop_assert_eq!(&ours.amz_date, &date);
            prop_assert_eq!(&ours.authorization, &authorization);
            prop_assert_eq!(session.as_deref(), token.as_deref());
        }
    }
}

#[test]
fn another_secret_is_another_key_even_on_the_same_day() {
    let signer = Signer::new("us-east-1".into(), "sns");
    let with = |secret| Signing {
        access_key_id: "AKID",
        secret_access_key: secret,
        session_token: None,
    };
    let date = basic_utc(1_703_731_478);
    let first = signer.sign(&with("one"), "h", CONTENT_TYPE, b"x", &date);
    let second = signer.sign(&with("two"), "h", CONTENT_TYPE, b"x", &date);
    let again = signer.sign(&with("one"), "h", CONTENT_TYPE, b"x", &date);
    assert_ne!(first, second);
    assert_eq!(first, again);
    let url = "https://h/";
    assert_eq!(
        second.authorization,
        reference(&with("two"), "us-east-1", url, b"x", 1_703_731_478).1
    );
}
