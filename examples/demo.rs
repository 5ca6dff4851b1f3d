//! `make demo`: the relay on one machine. Starts moto (SNS + SQS), the real bootstrap
//! under the Lambda Runtime API emulator, four subscribers, sends Tencent's two seed
//! callbacks and an abnormal stop, and shows what a person and what a machine receive.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use live_callback_relay::inbound::signature::sign;
use local_stack::aws::{self, ABNORMAL_ONLY_POLICY, Topology};
use local_stack::function_host::FunctionHost;
use local_stack::moto::{self, Moto};
use local_stack::receiver::Receiver;
use local_stack::{BoxError, http};
use serde_json::{Value, json};

const KEY: &str = "demo-callback-key";
const START: &str = include_str!("../tests/fixtures/seed_push_start.json");
const INTERRUPT: &str = include_str!("../tests/fixtures/seed_push_interrupt.json");

fn path_from_env(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default))
}

/// A seed sample as Tencent would send it now: fresh times, signed with the demo key.
fn callback(sample: &str, changes: Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut body: Value = serde_json::from_str(sample).expect("sample is JSON");
    body["event_time"] = json!(now);
    body["t"] = json!(now + 600);
    body["sign"] = json!(sign(KEY, now + 600));
    body["stream_param"] = json!("txSecret=9f86d081884c7d659a2feaa0c55ad015&txTime=65A0B1C2");
    for (k, v) in changes.as_object().expect("an object") {
        body[k] = v.clone();
    }
    body.to_string()
}

fn heading(text: &str) {
    println!(
        "\n=== {text} {}",
        "=".repeat(76usize.saturating_sub(text.len()))
    );
}

fn show_machine_message(envelope: &Value) {
    let document: Value =
        serde_json::from_str(envelope["Message"].as_str().unwrap_or("null")).unwrap_or_default();
    println!(
        "--- {} ({})",
        document["event"].as_str().unwrap_or("?"),
        document["event_id"].as_str().unwrap_or("?")
    );
    if let Some(attributes) = envelope["MessageAttributes"].as_object() {
        let shown: Vec<String> = attributes
            .iter()
            .map(|(name, v)| format!("{name}={}", v["Value"].as_str().unwrap_or_default()))
            .collect();
        println!(
            "attributes (what filter policies match; moto also delivers them, AWS does not promise to): {}",
            shown.join(", ")
        );
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let moto = Moto::start(&moto::server_path()).await?;
    let receiver = Receiver::start().await?;
    let topology = Topology::create(&moto.endpoint, Some(&receiver.url)).await?;
    let function = FunctionHost::start(
        &path_from_env("RELAY_BOOTSTRAP", "target/debug/live-callback-relay"),
        &[
            ("SNS_TOPIC_ARN", topology.topic_arn.clone()),
            ("CALLBACK_KEYS", KEY.to_string()),
            ("AWS_ENDPOINT_URL_SNS", moto.endpoint.clone()),
            // moto speaks plain HTTP; trust as in production, without scanning the system store
            ("TRUST_ROOTS", "amazon".to_string()),
            ("AWS_REGION", aws::REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", aws::SECRET_ACCESS_KEY.to_string()),
        ],
    )
    .await?;

    heading("The local stack");
    println!("SNS + SQS      moto server at {}", moto.endpoint);
    println!(
        "relay          the real bootstrap, initialized in {:?}, at {}",
        function.init_duration().unwrap_or_default(),
        function.url
    );
    println!("subscribers    e-mail {}", topology.email);
    println!("               SQS all-events (everything)");
    println!("               SQS abnormal-stops (filter policy {ABNORMAL_ONLY_POLICY})");
    println!("               HTTP webhook {}", receiver.url);

    heading("Tencent -> relay");
    let sends = [
        ("seed sample: push started", callback(START, json!({}))),
        (
            "seed sample: push interrupted, errcode 1 (pusher stopped)",
            callback(INTERRUPT, json!({})),
        ),
        (
            "push interrupted, errcode 12 (network)",
            callback(
                INTERRUPT,
                json!({"errcode": 12, "errmsg": "network error", "sequence": "2210464508206757001", "push_duration": "3725000"}),
            ),
        ),
    ];
    for (what, body) in &sends {
        let (status, reply) = http::post_json(&function.url, body).await?;
        println!("POST {what:<60} -> {} {reply}", status.as_u16());
    }
    println!(
        "(a normal stop is answered 200 but not notified unless NOTIFY_EVENTS adds stream.stopped)"
    );

    heading(&format!(
        "E-mail to {} (what a person reads)",
        topology.email
    ));
    println!(
        "(moto sends no e-mail: this is the Subject and the `email` rendering of each message SNS accepted)"
    );
    for (message, subject) in moto.published_to(&topology.topic_arn).await? {
        let per_protocol: Value = serde_json::from_str(&message)?;
        println!("\nSubject: {subject}\n");
        print!("{}", per_protocol["email"].as_str().unwrap_or_default());
        println!(
            "(SMS: {})",
            per_protocol["sms"].as_str().unwrap_or_default()
        );
    }

    heading("SQS all-events (what a machine receives)");
    for envelope in topology.drain(&topology.all_events_queue, 2).await? {
        show_machine_message(&envelope);
    }
    heading("SQS abnormal-stops (filtered on the event attribute)");
    for envelope in topology.drain(&topology.abnormal_queue, 1).await? {
        show_machine_message(&envelope);
    }
    heading("HTTP webhook");
    for envelope in receiver.received() {
        let document: Value = serde_json::from_str(envelope["Message"].as_str().unwrap_or("null"))?;
        println!(
            "{} {}: {} {} (the queues' JSON document, in an envelope SNS signs, SignatureVersion {})",
            envelope["Type"].as_str().unwrap_or("?"),
            envelope["MessageId"].as_str().unwrap_or("?"),
            document["event"].as_str().unwrap_or("?"),
            document["event_id"].as_str().unwrap_or("?"),
            envelope["SignatureVersion"].as_str().unwrap_or("?"),
        );
    }

    heading("The relay's log (one JSON line per request; no key, sign or push token)");
    for line in function.logs_with_lines(sends.len()).await? {
        println!("{line}");
    }
    println!("\nStopping the stack.");
    Ok(())
}
