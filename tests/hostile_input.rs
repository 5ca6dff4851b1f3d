//! The bad inputs listed in SECURITY.md, each with the answer it gets; none publishes.

mod common;

use common::*;
use lambda_http::Request;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::inbound::MAX_BODY_BYTES;
use live_callback_relay::ports::recording::RecordingPublisher;
use serde_json::{Value, json};

fn with_content_type(body: &str, content_type: &str) -> Request {
    let mut request = post(body);
    request
        .headers_mut()
        .insert("content-type", content_type.parse().unwrap());
    request
}

/// The signed seed interrupt with `field` set to a raw JSON text.
fn with_raw(field: &str, raw: &str) -> String {
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    let mut object: serde_json::Map<String, Value> = serde_json::from_str(&body).unwrap();
    object.insert(field.into(), json!("PLACEHOLDER"));
    serde_json::to_string(&object)
        .unwrap()
        .replace("\"PLACEHOLDER\"", raw)
}

#[tokio::test]
async fn every_hostile_input_gets_its_defined_answer_and_publishes_nothing() {
    let valid = signed(INTERRUPT, json!({"errcode": 12}));
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested_field = with_raw(
        "stream_param",
        &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
    );
    let cases: Vec<(&str, Request, StatusCode)> = vec![
        (
            "GET",
            event(Gateway::HttpV2, "GET", valid.as_bytes(), false),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "DELETE",
            event(Gateway::RestV1, "DELETE", b"", false),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "body over 64 KiB",
            post(&format!("{valid}{}", " ".repeat(MAX_BODY_BYTES))),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "form-encoded body",
            with_content_type(
                "event_type=0&t=1&sign=x",
                "application/x-www-form-urlencoded",
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid UTF-8",
            event(
                Gateway::FunctionUrl,
                "POST",
                b"{\"event_type\":0,\"stream_id\":\"\xc3\x28\"}",
                true,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "UTF-16 body",
            event(
                Gateway::FunctionUrl,
                "POST",
                &valid
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<_>>(),
                true,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "10,000 nested arrays",
            post(&nested),
            StatusCode::BAD_REQUEST,
        ),
        (
            "200 nested arrays in a field",
            post(&nested_field),
            StatusCode::BAD_REQUEST,
        ),
        (
            "duplicate sign",
            post(&with_raw("sign", "\"0\"").replacen('{', "{\"sign\":\"1\",", 1)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "duplicate stream_id",
            post(&valid.replacen('{', "{\"stream_id\":\"other\",", 1)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "appid beyond u64",
            post(&with_raw("appid", "18446744073709551616")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "negative appid",
            post(&with_raw("appid", "-1")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "errcode beyond i64",
            post(&with_raw("errcode", "9223372036854775808")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "set_id beyond u32",
            post(&with_raw("set_id", "4294967296")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "event_time as a float",
            post(&with_raw("event_time", "1703731606.5")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "push_duration beyond u64",
            post(&with_raw("push_duration", "\"99999999999999999999\"")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "event_type beyond i64",
            post(&with_raw("event_type", "1e400")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "t beyond u64",
            post(&with_raw("t", "18446744073709551616")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t beyond f64 (1e400)",
            post(&with_raw("t", "1e400")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t negative",
            post(&with_raw("t", "-1703732206")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t with a sign",
            post(&with_raw("t", "\"+1703732206\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t with spaces",
            post(&with_raw("t", "\" 1703732206\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t as a fraction",
            post(&with_raw("t", "1703732206.0")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t in exponent form",
            post(&with_raw("t", "1.703732206e9")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t in hex",
            post(&with_raw("t", "\"0x658CF72E\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t empty",
            post(&with_raw("t", "\"\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t null",
            post(&with_raw("t", "null")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t an object",
            post(&with_raw("t", "{\"t\":1703732206}")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t with a length-extension suffix",
            post(&with_raw("t", "\"1703732206\\u0080\\u0000\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "sign too short",
            post(&with_raw("sign", "\"5ee8ca6c28cbe415b40352969cdf824\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "sign too long",
            post(&with_raw("sign", "\"5ee8ca6c28cbe415b40352969cdf82490\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "sign not hex",
            post(&with_raw("sign", "\"zee8ca6c28cbe415b40352969cdf8249\"")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "sign a number",
            post(&with_raw("sign", "12345")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "sign of another t",
            post(&with_raw("t", "1703732207")),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (name, request, expected) in cases {
        let relay = Relay::new(&config(None), RecordingPublisher::new());
        let status = relay.handle(request, NOW).await.status();
        assert_eq!(status, expected, "{name}");
        assert!(relay.publisher().published().is_empty(), "{name} published");
    }
}

#[tokio::test]
async fn the_content_type_is_not_relied_on() {
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/octet-stream",
    ] {
        let relay = Relay::new(&config(None), RecordingPublisher::new());
        let status = relay
            .handle(with_content_type(&body, content_type), NOW)
            .await
            .status();
        assert_eq!(status, StatusCode::OK, "{content_type}");
        assert_eq!(relay.publisher().published().len(), 1, "{content_type}");
    }
}

#[test]
fn without_a_key_the_function_does_not_start() {
    let missing = live_callback_relay::Config::from_lookup(|name| {
        (name == "SNS_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:123456789012:t".to_string())
    });
    assert_eq!(missing.unwrap_err().variable, "CALLBACK_KEYS");
}
