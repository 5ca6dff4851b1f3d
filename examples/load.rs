//! `make load`: 10,000 distinct signed callbacks, 64 in flight, through the handler with
//! a recording publisher. Every verified event must be published exactly once and every
//! rejected one not at all; prints the throughput and the latency distribution.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::Request;
use live_callback_relay::inbound::signature::sign;
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::{Config, Relay};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const CALLBACKS: usize = 10_000;
const IN_FLIGHT: usize = 64;
const KEY: &str = "load-test-key";
const NOW: u64 = 1_703_731_700;
const SAMPLE: &str = include_str!("../tests/fixtures/seed_push_interrupt.json");
const EVENT: &str = include_str!("../tests/fixtures/apigw_http_v2_request.json");

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Start,
    AbnormalStop,
    ForgedSign,
    Expired,
}

fn callback(i: usize) -> (Kind, String, Request) {
    let kind = match i % 10 {
        8 => Kind::ForgedSign,
        9 => Kind::Expired,
        n if n % 2 == 0 => Kind::Start,
        _ => Kind::AbnormalStop,
    };
    let t = if kind == Kind::Expired {
        NOW - 400
    } else {
        NOW + 500
    };
    let mut body: Value = serde_json::from_str(SAMPLE).expect("sample");
    body["sequence"] = json!(format!("load-{i}"));
    body["event_type"] = json!(if kind == Kind::Start { 1 } else { 0 });
    body["errcode"] = json!(if kind == Kind::Start { 0 } else { 13 });
    body["t"] = json!(t);
    body["sign"] = json!(sign(
        if kind == Kind::ForgedSign {
            "guess"
        } else {
            KEY
        },
        t
    ));
    let suffix = if kind == Kind::Start { "start" } else { "stop" };
    let mut event: Value = serde_json::from_str(EVENT).expect("event");
    event["body"] = json!(body.to_string());
    let request = lambda_http::request::from_str(&event.to_string()).expect("a valid event");
    (kind, format!("load-{i}-{suffix}"), request)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let config = Config::from_lookup(|name| match name {
        "SNS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:load".into()),
        "CALLBACK_KEYS" => Some(KEY.into()),
        _ => None,
    })
    .map_err(|e| e.to_string())?;
    let relay = Arc::new(Relay::new(&config, RecordingPublisher::new()));
    let requests: Vec<_> = (0..CALLBACKS).map(callback).collect();
    let expected: HashMap<String, Kind> =
        requests.iter().map(|(k, id, _)| (id.clone(), *k)).collect();

    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for (kind, _, request) in requests {
        let permit = slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let relay = relay.clone();
        tasks.spawn(async move {
            let begun = Instant::now();
            let status = relay.handle(request, NOW).await.status().as_u16();
            drop(permit);
            (kind, status, begun.elapsed())
        });
    }
    let mut latencies = Vec::with_capacity(CALLBACKS);
    let mut statuses: HashMap<(Kind, u16), usize> = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (kind, status, took) = done.map_err(|e| e.to_string())?;
        *statuses.entry((kind, status)).or_default() += 1;
        latencies.push(took);
    }
    let elapsed = started.elapsed();

    let published = relay.publisher().published();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for n in &published {
        // `<sequence>-<start|stop>-<digest>`: what the expectations name is before the digest
        let named = n
            .event_id
            .rsplit_once('-')
            .map_or(n.event_id.as_str(), |(n, _)| n);
        *seen.entry(named).or_default() += 1;
    }
    let verified = expected
        .values()
        .filter(|k| matches!(k, Kind::Start | Kind::AbnormalStop))
        .count();
    let exactly_once = expected
        .iter()
        .filter(|(_, k)| matches!(k, Kind::Start | Kind::AbnormalStop))
        .all(|(id, _)| seen.get(id.as_str()) == Some(&1));
    let rejected_published = expected
        .iter()
        .filter(|(_, k)| matches!(k, Kind::ForgedSign | Kind::Expired))
        .any(|(id, _)| seen.contains_key(id.as_str()));

    latencies.sort_unstable();
    let mut by_status: Vec<_> = statuses.into_iter().collect();
    by_status.sort_by_key(|((kind, status), _)| (format!("{kind:?}"), *status));
    println!(
        "{CALLBACKS} callbacks, {IN_FLIGHT} in flight, in {elapsed:.2?}: {:.0} callbacks/s",
        CALLBACKS as f64 / elapsed.as_secs_f64()
    );
    println!(
        "handler latency: p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    for ((kind, status), count) in by_status {
        println!("  {kind:?} -> {status}: {count}");
    }
    println!(
        "published {} notifications for {verified} verified events; each exactly once: {exactly_once}; any rejected one published: {rejected_published}",
        published.len()
    );
    if published.len() != verified || !exactly_once || rejected_published {
        return Err("the load test lost, duplicated or wrongly published notifications".into());
    }
    Ok(())
}
