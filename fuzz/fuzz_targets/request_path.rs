//! The whole request path: a raw Lambda event (API Gateway v1, v2 or Function URL JSON)
//! through lambda_http's conversion and the relay's handler to the response.
#![no_main]

use std::panic;

use base64::Engine;
use lambda_http::Request;
use libfuzzer_sys::fuzz_target;
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::{Config, Relay};

/// The key and clock `make_seed_corpus.py` signs its seeds with.
const KEY: &str = "fuzz-key";
const NOW: u64 = 1_703_731_700;
const STATUSES: [u16; 7] = [200, 400, 401, 405, 409, 413, 503];

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
}

/// lambda_http panics on events API Gateway never sends (a body flagged base64 that is
/// not); lambda_runtime's panic layer turns that into an invocation error before the
/// relay runs. The harness skips those events so that every panic it reports is ours.
fn convert(text: &str) -> Option<Request> {
    let event: serde_json::Value = serde_json::from_str(text).ok()?;
    if event["isBase64Encoded"] == true {
        let body = event["body"].as_str().unwrap_or_default();
        base64::engine::general_purpose::STANDARD.decode(body).ok()?;
    }
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let converted = panic::catch_unwind(|| lambda_http::request::from_str(text));
    panic::set_hook(hook);
    converted.ok()?.ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(request) = convert(text) else {
        return;
    };
    let config = Config::from_lookup(|name| match name {
        "SNS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:fuzz".into()),
        "CALLBACK_KEYS" => Some(KEY.into()),
        "NOTIFY_EVENTS" => Some("stream.started,stream.stopped,stream.stopped_abnormally".into()),
        _ => None,
    })
    .expect("valid configuration");
    let relay = Relay::new(&config, RecordingPublisher::new());
    let response = RUNTIME.with(|rt| rt.block_on(relay.handle(request, NOW)));
    let status = response.status().as_u16();
    assert!(STATUSES.contains(&status), "status {status}");
    let published = relay.publisher().published();
    assert!(published.len() <= 1);
    if !published.is_empty() {
        assert_eq!(status, 200);
        assert!(published[0].subject.len() <= 99);
        assert!(!published[0].message.contains(KEY));
    }
});
