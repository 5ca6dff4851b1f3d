//! `make demo`: the relay on one machine, with a reconnect window of a few seconds.
//! Starts moto (SNS, SQS, DynamoDB), the real bootstrap under the Lambda Runtime API
//! emulator, the hold queue's event source mapping, and subscribers: an on-call e-mail and
//! queue (the template's on-call preset), an all-events queue and an HTTP webhook. Then a
//! stream goes live, blips (resumed, nobody paged), drops for good (announced once the
//! window has passed) and comes back (recovered); the demo shows what a person and what
//! a machine receive.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use live_callback_relay::inbound::signature::sign;
use local_stack::aws::{self, Topology};
use local_stack::event_source::EventSourceMapping;
use local_stack::function_host::FunctionHost;
use local_stack::moto::{self, Moto};
use local_stack::receiver::Receiver;
use local_stack::template::Template;
use local_stack::{BoxError, http, poll_until};
use serde_json::{Value, json};

const KEY: &str = "demo-callback-key";
const WINDOW_SECS: u64 = 3;
const START: &str = include_str!("../tests/fixtures/seed_push_start.json");
const INTERRUPT: &str = include_str!("../tests/fixtures/seed_push_interrupt.json");

fn path_from_env(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A seed sample as Tencent would send it now: fresh times, signed with the demo key.
fn callback(sample: &str, changes: Value) -> String {
    let now = now();
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
    let document = aws::message_of(envelope).unwrap_or_default();
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

async fn post(function: &FunctionHost, what: &str, body: &str) -> Result<(), BoxError> {
    let (status, reply) = http::post_json(&function.url, body).await?;
    println!("POST {what:<62} -> {} {reply}", status.as_u16());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let moto = Moto::start(&moto::server_path()).await?;
    let receiver = Receiver::start().await?;
    let topology = Topology::create(&moto.endpoint, Some(&receiver.url)).await?;
    let presets = Template::load()?.filter_presets();
    let on_call_policy = presets
        .iter()
        .find(|(name, _)| name == "on-call")
        .map(|(_, policy)| policy.clone())
        .ok_or("the template has no on-call preset")?;
    let on_call_queue = topology
        .filtered_queue("on-call", Some(&on_call_policy))
        .await?;
    let window = aws::Window::create(&moto.endpoint, "relay-state", 5, 10).await?;
    let (chat_topic, chat_queue) = topology.chat().await?;
    let mut env = vec![
        ("SNS_TOPIC_ARN", topology.topic_arn.clone()),
        ("CALLBACK_KEYS", KEY.to_string()),
        ("CHAT_TOPIC_ARN", chat_topic.clone()),
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        // moto speaks plain HTTP; trust as in production, without scanning the system store
        ("TRUST_ROOTS", "amazon".to_string()),
        ("AWS_REGION", aws::REGION.to_string()),
        ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY_ID.to_string()),
        ("AWS_SECRET_ACCESS_KEY", aws::SECRET_ACCESS_KEY.to_string()),
    ];
    env.extend(window.env(WINDOW_SECS));
    let function = Arc::new(
        FunctionHost::start(
            &path_from_env("RELAY_BOOTSTRAP", "target/debug/live-callback-relay"),
            &env,
        )
        .await?,
    );
    let _mapping = EventSourceMapping::start(&moto.endpoint, &window.hold_queue, function.clone());

    heading("The local stack");
    println!("SNS, SQS, DynamoDB  moto server at {}", moto.endpoint);
    println!(
        "relay               the real bootstrap, initialized in {:?}, at {}",
        function.init_duration().unwrap_or_default(),
        function.url
    );
    println!(
        "reconnect window    {WINDOW_SECS} s: state table `{}`, hold queue {}",
        window.table, window.hold_queue
    );
    println!(
        "subscribers         e-mail {} and an SQS queue, with the on-call preset {on_call_policy}",
        topology.email
    );
    println!("                    SQS all-events (everything, for machines)");
    println!("                    HTTP webhook {}", receiver.url);
    println!(
        "chat                topic {chat_topic} (for Slack or Teams through Amazon Q Developer; an SQS queue here)"
    );

    heading("Tencent -> relay");
    post(
        &function,
        "push started (seed sample, sequence ...938)",
        &callback(START, json!({})),
    )
    .await?;
    post(
        &function,
        "push interrupted, errcode 14 (network): a blip",
        &callback(INTERRUPT, json!({"errcode": 14, "errmsg": "network error"})),
    )
    .await?;
    post(
        &function,
        "push started again 1 s later (sequence ...939)",
        &callback(
            START,
            json!({"sequence": "2210464508206756939", "event_time": now() + 1}),
        ),
    )
    .await?;
    post(
        &function,
        "push interrupted, errcode 12 (network): a real drop",
        &callback(
            INTERRUPT,
            json!({"errcode": 12, "errmsg": "network error", "sequence": "2210464508206756939", "push_duration": "3725000", "event_time": now() + 1}),
        ),
    )
    .await?;
    println!(
        "... {WINDOW_SECS} s pass without the stream coming back: the hold comes due on the hold queue"
    );
    let all_events = topology.drain(&topology.all_events_queue, 3).await?;
    post(
        &function,
        "push started again (sequence ...940)",
        &callback(START, json!({"sequence": "2210464508206756940"})),
    )
    .await?;
    let mut all_events = all_events;
    all_events.extend(topology.drain(&topology.all_events_queue, 1).await?);

    heading(&format!(
        "E-mail to {} (what on-call reads)",
        topology.email
    ));
    println!(
        "(moto sends no e-mail: this is the Subject and the `email` rendering of each message its on-call preset passes)"
    );
    for (message, subject) in moto.published_to(&topology.topic_arn).await? {
        let per_protocol: Value = serde_json::from_str(&message)?;
        let document: Value =
            serde_json::from_str(per_protocol["default"].as_str().unwrap_or("null"))?;
        let event = document["event"].as_str().unwrap_or_default();
        if !on_call_policy.contains(&format!("\"{event}\"")) {
            continue;
        }
        println!("\nSubject: {subject}\n");
        print!("{}", per_protocol["email"].as_str().unwrap_or_default());
        println!(
            "(SMS: {})",
            per_protocol["sms"].as_str().unwrap_or_default()
        );
    }

    heading("SQS on-call (the on-call preset: no blips)");
    for envelope in topology.drain(&on_call_queue, 2).await? {
        let document = aws::message_of(&envelope).unwrap_or_default();
        println!(
            "{} {}",
            document["event"].as_str().unwrap_or("?"),
            document["event_id"].as_str().unwrap_or("?")
        );
    }
    heading("SQS all-events (what a machine receives: every state change)");
    for envelope in &all_events {
        show_machine_message(envelope);
    }
    heading("HTTP webhook");
    let webhook = poll_until(Duration::from_secs(10), "webhook deliveries", || {
        let received = receiver.received();
        async move { (received.len() >= 4).then_some(received) }
    })
    .await?;
    for envelope in webhook {
        let document = aws::message_of(&envelope).unwrap_or_default();
        println!(
            "{} {}: {} {} (the queues' JSON document, in an envelope SNS signs, SignatureVersion {})",
            envelope["Type"].as_str().unwrap_or("?"),
            envelope["MessageId"].as_str().unwrap_or("?"),
            document["event"].as_str().unwrap_or("?"),
            document["event_id"].as_str().unwrap_or("?"),
            envelope["SignatureVersion"].as_str().unwrap_or("?"),
        );
    }

    heading(
        "Chat (what Slack or Teams shows: drops that outlast the window, recoveries; one thread a drop)",
    );
    for envelope in topology.drain(&chat_queue, 2).await? {
        let chat = aws::message_of(&envelope)?;
        println!(
            "\n{}   [thread {}]\n{}",
            chat["content"]["title"].as_str().unwrap_or("?"),
            chat["metadata"]["threadId"].as_str().unwrap_or("?"),
            chat["content"]["description"].as_str().unwrap_or("?")
        );
    }

    let logs = function.logs_with_lines(14).await?;
    let (metrics, log): (Vec<&String>, Vec<&String>) =
        logs.iter().partition(|line| line.contains("\"_aws\":"));
    heading(
        "The relay's log (one JSON line per callback and per hold; no key, sign or push token)",
    );
    for line in log {
        println!("{line}");
    }
    heading(
        "Its metrics (one EMF line per callback and per hold: CloudWatch makes metrics of them)",
    );
    for line in metrics {
        println!("{line}");
    }
    println!("\nStopping the stack.");
    Ok(())
}
