//! `make bench` (first part): per-operation time of the relay's steps, and the handler's
//! own latency distribution with a publisher that does not wait.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use live_callback_relay::aws::setup::{TrustRoots, load_aws_config};
use live_callback_relay::aws::sns::SnsPublisher;
use live_callback_relay::inbound::callback::{Callback, Envelope};
use live_callback_relay::inbound::signature::{Verifier, sign};
use live_callback_relay::meaning::classify::{Event, PushEvent, Reason};
use live_callback_relay::meaning::stream_state::Notice;
use live_callback_relay::outbound::notification::Notification;
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::relay::metrics::{Source, emf_line};
use live_callback_relay::relay::report::Report;
use live_callback_relay::{Config, Relay};
use serde_json::{Value, json};

const KEY: &str = "bench-key";
const NOW: u64 = 1_703_731_700;
const SAMPLE: &str = include_str!("../tests/fixtures/seed_push_interrupt.json");
const EVENT: &str = include_str!("../tests/fixtures/apigw_http_v2_request.json");
const LATENCY_SAMPLES: usize = 10_000;

fn body() -> String {
    let mut body: Value = serde_json::from_str(SAMPLE).expect("sample");
    body["errcode"] = json!(12);
    body["stream_param"] = json!("txSecret=9f86d081884c7d659a2feaa0c55ad015&txTime=65A0B1C2");
    body["sign"] = json!(sign(KEY, body["t"].as_u64().expect("t")));
    body.to_string()
}

fn request(body: &str) -> Request {
    let mut event: Value = serde_json::from_str(EVENT).expect("event");
    event["body"] = json!(body);
    lambda_http::request::from_str(&event.to_string()).expect("event")
}

fn relay() -> Relay<RecordingPublisher> {
    let config = Config::from_lookup(|name| match name {
        "SNS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:bench".into()),
        "CALLBACK_KEYS" => Some(KEY.into()),
        _ => None,
    })
    .expect("config");
    Relay::new(&config, RecordingPublisher::new())
}

fn steps(c: &mut Criterion) {
    // SAFETY: set before any other thread exists; the set-up benchmark reads them.
    unsafe {
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "bench");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "bench");
    }
    let body = body();
    let bytes = body.as_bytes();
    let verifier = Verifier::new(vec![KEY.into()], 300, 600);
    let envelope = Envelope::parse(bytes).expect("envelope");
    let verified = || {
        verifier
            .verify(bytes, envelope.t, envelope.sign, NOW)
            .expect("verified")
            .try_map(|b| Callback::decode(b, PushEvent::Interrupted))
            .expect("decoded")
    };
    let callback = verified();

    c.bench_function("verify signature", |b| {
        b.iter(|| verifier.verify((), black_box(envelope.t), black_box(envelope.sign), NOW))
    });
    c.bench_function("decode (envelope + every field)", |b| {
        b.iter(|| {
            let envelope = Envelope::parse(black_box(bytes)).expect("envelope");
            let push = envelope.push_event().expect("event type").expect("push");
            Callback::decode(black_box(bytes), push)
        })
    });
    c.bench_function(
        "classify + render (document, e-mail, SMS, subject, attributes)",
        |b| b.iter(|| Notification::plain(black_box(&callback))),
    );
    c.bench_function("chat rendering (custom notification)", |b| {
        b.iter(|| Notification::chat(black_box(&callback), &Notice::Dropped))
    });
    let report = Report {
        event: Some(Event::StoppedAbnormally),
        reason: Some(Reason::Network),
        told: vec![(Event::StoppedAbnormally, "message-id".into())],
        publish_ms: vec![12.5],
        ..Report::default()
    };
    c.bench_function("metrics line (EMF) of a published callback", |b| {
        b.iter(|| {
            emf_line(
                "LiveCallbackRelay/bench",
                1_795_660_000_000,
                Source::Callback,
                StatusCode::OK,
                black_box(&report),
            )
        })
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    c.bench_function("whole handler: API Gateway v2 request to response", |b| {
        b.to_async(&runtime).iter_batched(
            || (relay(), request(&body)),
            |(relay, request)| async move { relay.handle(request, NOW).await },
            criterion::BatchSize::SmallInput,
        )
    });

    c.bench_function("cold-start set-up: AWS configuration + SNS client", |b| {
        b.to_async(&runtime).iter(|| async {
            let shared = load_aws_config(TrustRoots::AmazonTrustServices).await;
            SnsPublisher::from_shared(
                &shared,
                TrustRoots::AmazonTrustServices,
                None,
                "arn:aws:sns:us-east-1:123456789012:bench".into(),
            )
        })
    });

    let relay = relay();
    let mut latencies: Vec<Duration> = (0..LATENCY_SAMPLES)
        .map(|_| {
            let request = request(&body);
            let started = Instant::now();
            let response = runtime.block_on(relay.handle(request, NOW));
            let took = started.elapsed();
            assert_eq!(response.status(), 200);
            took
        })
        .collect();
    latencies.sort_unstable();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "handler overhead over {LATENCY_SAMPLES} requests (publisher not waiting): p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    );
}

criterion_group!(benches, steps);
criterion_main!(benches);
