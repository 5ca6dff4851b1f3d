//! Builders shared by the integration tests: signed callbacks and gateway events.
#![allow(dead_code)]

pub mod extremes;
pub mod flaky;
pub mod stack;
pub mod unreachable;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use lambda_http::Request;
use live_callback_relay::Config;
use live_callback_relay::inbound;
use live_callback_relay::inbound::callback::Callback;
use live_callback_relay::inbound::signature::{Authentic, Verifier, sign};
use live_callback_relay::outbound::notification::Notification;
use live_callback_relay::ports::hold_queue::{Hold, MemoryHoldQueue, Message};
use live_callback_relay::ports::stream_log::MemoryStreamLog;
use live_callback_relay::relay::windowed::Windowed;
use serde_json::{Value, json};

pub const KEY: &str = "test-callback-key_1";
pub const OLD_KEY: &str = "previous-key";
pub const TX_SECRET: &str = "9f86d081884c7d659a2feaa0c55ad015";
pub const START: &str = include_str!("../fixtures/seed_push_start.json");
pub const INTERRUPT: &str = include_str!("../fixtures/seed_push_interrupt.json");
/// The seed samples' event times, so that their `t` (event time + 600) is fresh.
pub const NOW: u64 = 1_703_731_700;

/// The time now, in Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The announcement budget of the tests' windows: the function's without chat.
pub fn announcement_budget() -> std::time::Duration {
    live_callback_relay::aws::limits::announcement(std::time::Duration::ZERO)
}

/// The hold a parked message carries, read without its seal (for assertions).
pub fn hold_in(message: &str) -> Hold {
    match Message::read(message).expect("a hold message") {
        Message::Sealed { content, .. } => Hold::from_content(&content).expect("a hold"),
        Message::Unsealed { .. } => panic!("an unsealed hold: {message}"),
    }
}

/// `hold` as the relay of [`config`] parks it: sealed under its newest key.
pub fn sealed(hold: &Hold) -> String {
    let verifier = Verifier::new(vec![OLD_KEY.into(), KEY.into()], 300, 600);
    let content = hold.content();
    let seal = verifier.seal(content.as_bytes());
    Message::sealed(content, seal)
}

/// A reconnect window of `window_secs` over the in-memory stream log and hold queue.
pub fn memory_window(window_secs: u64) -> Windowed<MemoryStreamLog, MemoryHoldQueue> {
    Windowed {
        log: MemoryStreamLog::new(),
        queue: MemoryHoldQueue::new(),
        window_secs,
        announcement_budget: announcement_budget(),
        sweep_after_secs: live_callback_relay::config::DEFAULT_SWEEP_AFTER_SECS,
    }
}

pub fn config(notify_events: Option<&str>) -> Config {
    Config::from_lookup(|name| match name {
        "SNS_TOPIC_ARN" => Some("arn:aws:sns:eu-west-1:123456789012:live-events".into()),
        "CALLBACK_KEYS" => Some(format!("{OLD_KEY},{KEY}")),
        "NOTIFY_EVENTS" => notify_events.map(str::to_string),
        _ => None,
    })
    .expect("valid test configuration")
}

/// A seed sample with `changes` applied and, where `t` is a number, signed with `KEY`.
pub fn signed(sample: &str, changes: Value) -> String {
    signed_with(KEY, sample, changes)
}

/// The same, signed with `key`.
pub fn signed_with(key: &str, sample: &str, changes: Value) -> String {
    let mut body: Value = serde_json::from_str(sample).expect("sample is JSON");
    for (k, v) in changes.as_object().expect("changes are an object") {
        body[k] = v.clone();
    }
    if let (Some(t), Some(_)) = (body["t"].as_u64(), body.get("sign")) {
        body["sign"] = json!(sign(key, t));
    }
    body.to_string()
}

/// `body`, a push or interrupt signed with `KEY`, verified and decoded.
pub fn verified(body: &str) -> Authentic<Callback> {
    let verifier = Verifier::new(vec![KEY.into()], 300, 600);
    inbound::read(body.as_bytes(), &verifier, NOW)
        .expect("a verified callback")
        .expect("a push or interrupt callback")
}

/// The notification the stateless relay builds from `body`.
pub fn notification_of(body: &str) -> Notification {
    Notification::plain(&verified(body))
}

pub fn push_url_params() -> String {
    format!("txSecret={TX_SECRET}&txTime=65A0B1C2")
}

#[derive(Debug, Clone, Copy)]
pub enum Gateway {
    RestV1,
    HttpV2,
    FunctionUrl,
}

pub const GATEWAYS: [Gateway; 3] = [Gateway::RestV1, Gateway::HttpV2, Gateway::FunctionUrl];

/// A real event of `gateway`'s shape carrying `method` and `body`, as Lambda delivers it.
pub fn event(gateway: Gateway, method: &str, body: &[u8], base64: bool) -> Request {
    let event = gateway_json(gateway, method, body, base64);
    lambda_http::request::from_str(&event.to_string()).expect("a valid gateway event")
}

/// The JSON of [`event`].
pub fn gateway_json(gateway: Gateway, method: &str, body: &[u8], base64: bool) -> Value {
    let (template, method_paths): (&str, &[&[&str]]) = match gateway {
        Gateway::RestV1 => (
            include_str!("../fixtures/apigw_rest_v1_request.json"),
            &[&["httpMethod"], &["requestContext", "httpMethod"]],
        ),
        Gateway::HttpV2 => (
            include_str!("../fixtures/apigw_http_v2_request.json"),
            &[&["requestContext", "http", "method"]],
        ),
        Gateway::FunctionUrl => (
            include_str!("../fixtures/function_url_request.json"),
            &[&["requestContext", "http", "method"]],
        ),
    };
    let mut event: Value = serde_json::from_str(template).expect("fixture is JSON");
    for path in method_paths {
        let mut slot = &mut event;
        for key in *path {
            slot = &mut slot[*key];
        }
        *slot = json!(method);
    }
    event["body"] = if base64 {
        json!(base64::engine::general_purpose::STANDARD.encode(body))
    } else {
        json!(String::from_utf8(body.to_vec()).expect("text body"))
    };
    event["isBase64Encoded"] = json!(base64);
    event
}

pub fn post(body: &str) -> Request {
    event(Gateway::HttpV2, "POST", body.as_bytes(), false)
}

/// Log output captured from the current thread's tracing events.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Captures every log line this thread writes while the guard lives.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}
