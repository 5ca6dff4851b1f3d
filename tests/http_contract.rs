//! Every row of the HTTP contract, driven by real API Gateway v1, v2 and Function URL
//! events, with a recording publisher that shows what was (not) published.

mod common;

use common::*;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use live_callback_relay::Relay;
use live_callback_relay::inbound::MAX_BODY_BYTES;
use live_callback_relay::inbound::signature::sign;
use live_callback_relay::meaning::classify::Event;
use live_callback_relay::ports::recording::RecordingPublisher;
use serde_json::{Value, json};

fn relay(notify_events: Option<&str>) -> Relay<RecordingPublisher> {
    Relay::new(&config(notify_events), RecordingPublisher::new())
}

async fn send(relay: &Relay<RecordingPublisher>, request: Request) -> (StatusCode, Value) {
    let response: Response<Body> = relay.handle(request, NOW).await;
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "every answer is JSON"
    );
    let body: Value = serde_json::from_slice(response.body().as_ref()).expect("JSON body");
    (response.status(), body)
}

#[tokio::test]
async fn a_push_start_is_published_through_every_gateway_plain_or_base64() {
    for gateway in GATEWAYS {
        for base64 in [false, true] {
            let relay = relay(None);
            let body = signed(START, json!({}));
            let (status, reply) =
                send(&relay, event(gateway, "POST", body.as_bytes(), base64)).await;
            assert_eq!(
                (status, reply),
                (StatusCode::OK, json!({"code": 0})),
                "{gateway:?} base64={base64}"
            );
            assert_eq!(
                relay.publisher().events(),
                [Event::Started],
                "{gateway:?} base64={base64}"
            );
        }
    }
}

#[tokio::test]
async fn an_abnormal_stop_is_published_with_its_reason() {
    let relay = relay(None);
    let body = signed(
        INTERRUPT,
        json!({"errcode": 12, "stream_param": push_url_params()}),
    );
    assert_eq!(
        send(&relay, post(&body)).await,
        (StatusCode::OK, json!({"code": 0}))
    );
    let published = relay.publisher().published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event, Event::StoppedAbnormally);
    assert!(
        published[0]
            .event_id
            .starts_with("2210464508206756938-stop-")
    );
    assert_eq!(published[0].event_id, notification_of(&body).event_id);
    assert!(!published[0].message.contains(TX_SECRET));
}

#[tokio::test]
async fn a_normal_stop_is_answered_but_published_only_when_configured() {
    let body = signed(INTERRUPT, json!({}));
    let default = relay(None);
    assert_eq!(
        send(&default, post(&body)).await,
        (StatusCode::OK, json!({"code": 0}))
    );
    assert!(default.publisher().events().is_empty());

    let opted_in = relay(Some(
        "stream.started,stream.stopped,stream.stopped_abnormally",
    ));
    assert_eq!(send(&opted_in, post(&body)).await.0, StatusCode::OK);
    assert_eq!(opted_in.publisher().events(), [Event::Stopped]);
}

#[tokio::test]
async fn starts_are_not_published_when_only_abnormal_stops_are_configured() {
    let relay = relay(Some("stream.stopped_abnormally"));
    assert_eq!(
        send(&relay, post(&signed(START, json!({})))).await.0,
        StatusCode::OK
    );
    assert!(relay.publisher().events().is_empty());
}

#[tokio::test]
async fn a_callback_signed_with_the_previous_key_is_accepted_during_rotation() {
    let relay = relay(None);
    let mut body: Value = serde_json::from_str(&signed(START, json!({}))).unwrap();
    body["sign"] = json!(sign(OLD_KEY, body["t"].as_u64().unwrap()));
    assert_eq!(
        send(&relay, post(&body.to_string())).await.0,
        StatusCode::OK
    );
    assert_eq!(relay.publisher().events(), [Event::Started]);
}

#[tokio::test]
async fn other_event_types_are_answered_200_and_not_published() {
    let relay = relay(None);
    let bodies = [
        signed(
            START,
            json!({"event_type": 100, "video_url": "https://example.com/a.mp4"}),
        ),
        signed(START, json!({"event_type": 200, "pic_url": "/a.jpg"})),
        json!({"event_type": 317, "streamId": "s", "channelId": "s"}).to_string(),
        json!({"event_type": 321, "abnormal_event": [{"code": 1}]}).to_string(),
        json!({"event_type": 314, "sign": "not-checked"}).to_string(),
    ];
    for body in bodies {
        assert_eq!(
            send(&relay, post(&body)).await,
            (StatusCode::OK, json!({"code": 0})),
            "{body}"
        );
    }
    assert!(relay.publisher().events().is_empty());
}

#[tokio::test]
async fn other_event_types_of_any_size_are_answered_200() {
    let relay = relay(None);
    let mut body = json!({"event_type": 100, "video_url": "x".repeat(300_000)}).to_string();
    assert!(body.len() > MAX_BODY_BYTES);
    assert_eq!(
        send(&relay, post(&body)).await,
        (StatusCode::OK, json!({"code": 0}))
    );
    body = signed(START, json!({"padding": "x".repeat(MAX_BODY_BYTES)}));
    assert_eq!(
        send(&relay, post(&body)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(relay.publisher().events().is_empty());
}

#[tokio::test]
async fn a_notification_sns_refuses_is_answered_200_and_not_retried() {
    let relay = relay(None);
    relay.publisher().set_refusing(true);
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    assert_eq!(
        send(&relay, post(&body)).await,
        (StatusCode::OK, json!({"code": 0}))
    );
    assert!(relay.publisher().events().is_empty());
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_accepted() {
    let relay = relay(None);
    let mut body = signed(START, json!({}));
    body.push_str(&" ".repeat(MAX_BODY_BYTES - body.len()));
    assert_eq!(send(&relay, post(&body)).await.0, StatusCode::OK);
    assert_eq!(relay.publisher().events(), [Event::Started]);
}

/// Each error row of the contract: the request, its status, and nothing published.
#[tokio::test]
async fn every_error_row_has_its_status_a_short_message_and_publishes_nothing() {
    let t = 1_703_732_078u64;
    let field_removed = |field: &str| {
        let mut v: Value = serde_json::from_str(&signed(START, json!({}))).unwrap();
        v.as_object_mut().unwrap().remove(field);
        v.to_string()
    };
    let oversized = {
        let mut body = signed(START, json!({}));
        body.push_str(&" ".repeat(MAX_BODY_BYTES + 1 - body.len()));
        body
    };
    let cases: Vec<(&str, Request, StatusCode)> = vec![
        (
            "not JSON",
            post("event_type=1&t=1"),
            StatusCode::BAD_REQUEST,
        ),
        ("empty body", post(""), StatusCode::BAD_REQUEST),
        ("JSON array", post("[1]"), StatusCode::BAD_REQUEST),
        (
            "JSON array in the fields' order (event_type, t, sign)",
            post(&format!("[1, {t}, \"{}\"]", sign(KEY, t))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "JSON array of another event type",
            post("[100]"),
            StatusCode::BAD_REQUEST,
        ),
        ("JSON string", post("\"{}\""), StatusCode::BAD_REQUEST),
        (
            "blank stream_id",
            post(&signed(START, json!({"stream_id": "  "}))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "blank sequence",
            post(&signed(START, json!({"sequence": "\t"}))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "stream_id longer than any real one",
            post(&signed(START, json!({"stream_id": "s".repeat(513)}))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "sequence longer than any real one",
            post(&signed(START, json!({"sequence": "9".repeat(65)}))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "event_time beyond the year 9999",
            post(&signed(START, json!({"event_time": 253_402_300_800u64}))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid UTF-8",
            event(
                Gateway::HttpV2,
                "POST",
                b"{\"event_type\":1,\"app\":\"\xff\"}",
                true,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "event_type missing",
            post(&field_removed("event_type")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "event_type a string",
            post(&signed(START, json!({"event_type": "1"}))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "stream_id missing",
            post(&field_removed("stream_id")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "appid wrong type",
            post(&signed(START, json!({"appid": "12345678"}))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "errcode missing from a stop",
            post(&{
                let mut v: Value = serde_json::from_str(&signed(INTERRUPT, json!({}))).unwrap();
                v.as_object_mut().unwrap().remove("errcode");
                v.to_string()
            }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "sign missing",
            post(&field_removed("sign")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t missing",
            post(&field_removed("t")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t malformed",
            post(&signed(START, json!({"t": "17037320780x"}))),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "sign of another key",
            post(&signed(START, json!({})).replace(&sign(KEY, t), &sign("intruder", t))),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "sign too short",
            post(&signed(START, json!({})).replace(&sign(KEY, t), &sign(KEY, t)[..30])),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t expired",
            post(&signed(START, json!({"t": NOW - 301}))),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "t too far ahead",
            post(&signed(START, json!({"t": NOW + 901}))),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "GET",
            event(
                Gateway::HttpV2,
                "GET",
                signed(START, json!({})).as_bytes(),
                false,
            ),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "PUT through REST v1",
            event(
                Gateway::RestV1,
                "PUT",
                signed(START, json!({})).as_bytes(),
                false,
            ),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "over 64 KiB",
            post(&oversized),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (name, request, expected) in cases {
        let relay = relay(None);
        let (status, body) = send(&relay, request).await;
        assert_eq!(status, expected, "{name}");
        assert_eq!(body["code"], expected.as_u16(), "{name}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && message.len() < 60,
            "{name}: {message}"
        );
        assert!(
            relay.publisher().events().is_empty(),
            "{name} published something"
        );
    }
}

#[tokio::test]
async fn method_not_allowed_names_the_allowed_method() {
    let response = relay(None)
        .handle(event(Gateway::FunctionUrl, "GET", b"", false), NOW)
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_verified_callback_that_could_not_be_published_is_answered_503_for_a_retry() {
    let relay = relay(None);
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    relay.publisher().set_failing(true);
    let (status, reply) = send(&relay, post(&body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply["code"], 503);
    assert!(relay.publisher().events().is_empty());

    relay.publisher().set_failing(false);
    assert_eq!(send(&relay, post(&body)).await.0, StatusCode::OK);
    assert_eq!(relay.publisher().events(), [Event::StoppedAbnormally]);
}

#[tokio::test]
async fn rejections_never_echo_the_sign_or_the_body() {
    let relay = relay(None);
    let body = signed(
        START,
        json!({"t": NOW - 1000, "stream_param": push_url_params()}),
    );
    let response = relay.handle(post(&body), NOW).await;
    let text = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !text.contains(&sign(KEY, NOW - 1000)) && !text.contains(TX_SECRET),
        "{text}"
    );
}
