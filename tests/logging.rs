//! The request log: one line per request with what an operator searches for, and no
//! secret (callback key, `sign`, push-URL token) in it, accepted or rejected.

mod common;

use common::*;
use live_callback_relay::Relay;
use live_callback_relay::inbound::signature::sign;
use live_callback_relay::ports::recording::RecordingPublisher;
use serde_json::{Value, json};

async fn logs_of(bodies: &[String], set_up: impl FnOnce(&RecordingPublisher)) -> String {
    let (captured, _guard) = capture_logs();
    let relay = Relay::new(&config(None), RecordingPublisher::new());
    set_up(relay.publisher());
    for body in bodies {
        relay.handle(post(body), NOW).await;
    }
    captured.text()
}

fn assert_no_secret(logs: &str, body: &str) {
    let sent: Value = serde_json::from_str(body).unwrap();
    let sign_sent = sent["sign"].as_str().unwrap();
    assert!(!logs.contains(KEY), "key in logs:\n{logs}");
    assert!(!logs.contains(OLD_KEY), "old key in logs:\n{logs}");
    assert!(!logs.contains(sign_sent), "sign in logs:\n{logs}");
    assert!(!logs.contains(TX_SECRET), "txSecret value in logs:\n{logs}");
}

#[tokio::test]
async fn a_published_request_logs_one_line_with_its_outcome_and_no_secret() {
    let body = signed(
        INTERRUPT,
        json!({"errcode": 14, "stream_param": push_url_params()}),
    );
    let logs = logs_of(std::slice::from_ref(&body), |_| ()).await;
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 1, "{logs}");
    let event_id = format!("event_id=\"{}\"", notification_of(&body).event_id);
    for field in [
        "outcome=\"published\"",
        "status=200",
        "event=\"stream.stopped_abnormally\"",
        &event_id,
        "stream_id=\"test_stream\"",
        "message_id=\"memory-1\"",
        "elapsed_us=",
    ] {
        assert!(
            lines[0].contains(field),
            "{field} missing from {}",
            lines[0]
        );
    }
    assert_no_secret(&logs, &body);
}

#[tokio::test]
async fn rejected_and_failed_requests_log_the_detail_but_no_secret() {
    let expired = signed(
        START,
        json!({"t": NOW - 400, "stream_param": push_url_params()}),
    );
    let mut wrong_key: Value =
        serde_json::from_str(&signed(START, json!({"stream_param": push_url_params()}))).unwrap();
    wrong_key["sign"] = json!(sign("not-the-key", wrong_key["t"].as_u64().unwrap()));
    let wrong_type = signed(START, json!({"appid": format!("txSecret={TX_SECRET}")}));
    let bodies = [expired.clone(), wrong_key.to_string(), wrong_type.clone()];

    let logs = logs_of(&bodies, |_| ()).await;
    assert_eq!(logs.lines().count(), 3, "{logs}");
    assert!(
        logs.contains("status=401") && logs.contains("t expired 400 s ago"),
        "{logs}"
    );
    assert!(
        logs.contains("sign does not match any configured callback key"),
        "{logs}"
    );
    assert!(logs.contains("status=400"), "{logs}");
    for body in &bodies {
        assert_no_secret(&logs, body);
    }

    let failing = signed(
        INTERRUPT,
        json!({"errcode": 14, "stream_param": push_url_params()}),
    );
    let logs = logs_of(std::slice::from_ref(&failing), |p| p.set_failing(true)).await;
    assert!(
        logs.contains("ERROR") && logs.contains("status=503"),
        "{logs}"
    );
    assert!(
        logs.contains(&format!(
            "event_id=\"{}\"",
            notification_of(&failing).event_id
        )),
        "{logs}"
    );
    assert_no_secret(&logs, &failing);
}

#[tokio::test]
async fn a_refused_notification_is_an_error_line_with_its_document_and_no_secret() {
    let body = signed(
        INTERRUPT,
        json!({"errcode": 14, "stream_param": push_url_params()}),
    );
    let logs = logs_of(std::slice::from_ref(&body), |p| p.set_refusing(true)).await;
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 1, "{logs}");
    for field in [
        "ERROR",
        "outcome=\"refused\"",
        "status=200",
        "InvalidParameter",
        "document=",
        "txSecret=***",
    ] {
        assert!(
            lines[0].contains(field),
            "{field} missing from {}",
            lines[0]
        );
    }
    assert_no_secret(&logs, &body);
}
