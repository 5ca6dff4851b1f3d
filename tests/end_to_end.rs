//! The whole path as production runs it: the real bootstrap under a Lambda Runtime API
//! emulator reached through a Function URL front, the real AWS SDK, moto's SNS and SQS,
//! and real subscribers (two SQS queues, one filtered, and an HTTP endpoint).

mod common;

use std::time::{Duration, Instant};

use common::stack::*;
use common::*;
use local_stack::function_host::FunctionHost;
use local_stack::{aws, http};
use serde_json::{Value, json};

/// The notified events, in order, and the checks every delivered envelope must pass.
fn events_of(envelopes: &[Value]) -> Vec<String> {
    envelopes
        .iter()
        .map(|envelope| {
            assert_eq!(envelope["Type"], "Notification");
            let raw = envelope["Message"].as_str().expect("a message");
            assert!(!raw.contains(TX_SECRET), "push token delivered: {raw}");
            assert!(!raw.contains(KEY), "callback key delivered: {raw}");
            let document: Value = serde_json::from_str(raw).expect("the JSON document");
            assert_eq!(document["version"], 2);
            assert_eq!(document["stream_param"], "txSecret=***&txTime=65A0B1C2");
            assert!(envelope["Subject"].as_str().unwrap().starts_with("Stream "));
            document["event"].as_str().unwrap().to_string()
        })
        .collect()
}

fn attribute(envelope: &Value, name: &str) -> Value {
    envelope["MessageAttributes"][name]["Value"].clone()
}

async fn post(function: &FunctionHost, body: &str) -> u16 {
    http::post_json(&function.url, body)
        .await
        .expect("the function URL answers")
        .0
        .as_u16()
}

async fn assert_logs_hold_no_secret(function: &FunctionHost, bodies: &[&str]) {
    let logs = function
        .logs_with_lines(bodies.len())
        .await
        .expect("a log line per request")
        .join("\n");
    assert!(
        !logs.contains(KEY) && !logs.contains(OLD_KEY),
        "key in logs"
    );
    assert!(!logs.contains(TX_SECRET), "push token in logs");
    for body in bodies {
        if let Some(sign) = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|b| b["sign"].as_str().map(String::from))
        {
            assert!(!logs.contains(&sign), "sign in logs");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn each_subscriber_receives_exactly_what_it_subscribed_to() {
    let stack = Stack::start().await.expect("local stack");
    let function = stack.function(&[]).await.expect("function");

    // GIVEN a push that starts and stops normally, another that drops on a network error,
    // an event type the relay does not notify about, and three hostile requests
    let start = fresh(START, json!({}));
    let normal_stop = fresh(INTERRUPT, json!({}));
    let abnormal_stop = fresh(
        INTERRUPT,
        json!({"errcode": 12, "sequence": "7000000000000000012"}),
    );
    let recording = fresh(START, json!({"event_type": 100}));
    let bad_sign = fresh(START, json!({})).replace(
        &live_callback_relay::inbound::signature::sign(KEY, now() + 600),
        &"0".repeat(32),
    );
    let expired = signed(START, json!({"t": now() - 400, "event_time": now() - 1000}));
    let cases = [
        (&start, 200),
        (&normal_stop, 200),
        (&abnormal_stop, 200),
        (&recording, 200),
        (&bad_sign, 401),
        (&expired, 401),
        (&"{\"event_type\": 1, \"t\": ".to_string(), 400),
    ];

    // WHEN Tencent posts them to the function URL
    for (body, expected) in cases {
        assert_eq!(post(&function, body).await, expected, "{body}");
    }

    // THEN the all-events queue and the webhook get the start and the abnormal stop,
    // the filtered queue only the abnormal stop, and nothing else arrives anywhere
    let [all_events, abnormal_only, webhook] = stack.deliveries(2, 1).await.expect("deliveries");
    let expected = ["stream.started", "stream.stopped_abnormally"];
    assert_eq!(events_of(&all_events), expected);
    assert_eq!(events_of(&abnormal_only), ["stream.stopped_abnormally"]);
    assert_eq!(events_of(&webhook), expected);
    assert_eq!(attribute(&all_events[1], "reason"), "network");
    assert_eq!(attribute(&all_events[1], "errcode"), "12");
    assert_eq!(attribute(&all_events[0], "stream_id"), "test_stream");
    let abnormal = aws::message_of(&abnormal_only[0]).unwrap();
    let event_id = abnormal["event_id"].as_str().unwrap();
    assert!(
        event_id.starts_with("7000000000000000012-stop-"),
        "{event_id}"
    );
    assert_eq!(attribute(&abnormal_only[0], "event_id"), event_id);
    assert_eq!(abnormal["reason"], "network");
    assert_eq!(abnormal["stream_id"], "test_stream");
    let bodies: Vec<&str> = cases.iter().map(|(b, _)| b.as_str()).collect();
    assert_logs_hold_no_secret(&function, &bodies).await;
    let published_lines = function
        .logs()
        .iter()
        .filter(|l| l.contains("\"outcome\":\"published\""))
        .count();
    assert_eq!(published_lines, 2, "{:#?}", function.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn normal_stops_reach_subscribers_once_enabled() {
    let stack = Stack::start().await.expect("local stack");
    let function = stack
        .function(&[(
            "NOTIFY_EVENTS",
            "stream.started,stream.stopped,stream.stopped_abnormally".to_string(),
        )])
        .await
        .expect("function");

    for body in [fresh(START, json!({})), fresh(INTERRUPT, json!({}))] {
        assert_eq!(post(&function, &body).await, 200);
    }

    let [all_events, abnormal_only, webhook] = stack.deliveries(2, 0).await.expect("deliveries");
    assert_eq!(events_of(&all_events), ["stream.started", "stream.stopped"]);
    assert!(abnormal_only.is_empty(), "{abnormal_only:#?}");
    assert_eq!(events_of(&webhook), ["stream.started", "stream.stopped"]);
    assert_eq!(attribute(&all_events[1], "reason"), "client_stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn a_callback_that_meets_sns_down_is_answered_503_and_published_once_on_retry() {
    let stack = Stack::start().await.expect("local stack");
    let function = stack.function(&[]).await.expect("function");
    let drop = fresh(INTERRUPT, json!({"errcode": 8}));

    // GIVEN SNS refuses connections
    stack.sns.stop();
    // WHEN the callback arrives THEN it is answered 503, within the 10 s budget
    let started = Instant::now();
    assert_eq!(post(&function, &drop).await, 503);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "503 took {took:?}");
    eprintln!("503 with SNS down answered in {took:?}");
    assert!(
        stack
            .moto
            .published_to(&stack.topology.topic_arn)
            .await
            .unwrap()
            .is_empty()
    );

    // GIVEN SNS is back WHEN Tencent retries the same callback THEN it is published once
    stack.sns.resume().await.expect("proxy back");
    assert_eq!(post(&function, &drop).await, 200);
    let [all_events, abnormal_only, webhook] = stack.deliveries(1, 1).await.expect("deliveries");
    assert_eq!(events_of(&all_events), ["stream.stopped_abnormally"]);
    assert_eq!(events_of(&abnormal_only), ["stream.stopped_abnormally"]);
    assert_eq!(events_of(&webhook), ["stream.stopped_abnormally"]);
    assert_eq!(attribute(&all_events[0], "reason"), "no_data");
    assert_eq!(
        stack
            .moto
            .published_to(&stack.topology.topic_arn)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn with_the_idempotency_store_twelve_deliveries_reach_each_subscriber_once() {
    let stack = Stack::start().await.expect("local stack");
    aws::create_state_table(&stack.moto.endpoint, "relay-events")
        .await
        .expect("table");
    let function = stack
        .function(&[
            ("STATE_TABLE", "relay-events".to_string()),
            ("AWS_ENDPOINT_URL_DYNAMODB", stack.moto.endpoint.clone()),
        ])
        .await
        .expect("function");
    let drop = fresh(INTERRUPT, json!({"errcode": 16}));
    let start = fresh(START, json!({}));

    // GIVEN SNS is down for Tencent's first attempt, WHEN Tencent delivers the drop
    // 12 times and the start twice, THEN each subscriber gets each event exactly once
    stack.sns.stop();
    assert_eq!(post(&function, &drop).await, 503);
    stack.sns.resume().await.expect("proxy back");
    for delivery in 1..12 {
        assert_eq!(post(&function, &drop).await, 200, "delivery {delivery}");
    }
    for _ in 0..2 {
        assert_eq!(post(&function, &start).await, 200);
    }

    let [all_events, abnormal_only, webhook] = stack.deliveries(2, 1).await.expect("deliveries");
    assert_eq!(
        events_of(&all_events),
        ["stream.stopped_abnormally", "stream.started"]
    );
    assert_eq!(events_of(&abnormal_only), ["stream.stopped_abnormally"]);
    assert_eq!(
        events_of(&webhook),
        ["stream.stopped_abnormally", "stream.started"]
    );
    let duplicates = function
        .logs_with_lines(14)
        .await
        .expect("a line per request")
        .iter()
        .filter(|l| l.contains("\"outcome\":\"duplicate\""))
        .count();
    assert_eq!(duplicates, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn five_hundred_callbacks_sixteen_at_a_time_none_lost_none_duplicated() {
    const CALLBACKS: usize = 500;
    let stack = Stack::start().await.expect("local stack");
    let function = std::sync::Arc::new(stack.function(&[]).await.expect("function"));
    let bodies: Vec<String> = (0..CALLBACKS)
        .map(|i| {
            let sequence = format!("load-{i}");
            if i % 2 == 0 {
                fresh(START, json!({"sequence": sequence}))
            } else {
                fresh(INTERRUPT, json!({"sequence": sequence, "errcode": 14}))
            }
        })
        .collect();

    let started = Instant::now();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for body in bodies {
        let (function, slots) = (function.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire().await.expect("semaphore open");
            post(&function, &body).await
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.expect("task"), 200);
    }
    let took = started.elapsed();

    let [all_events, abnormal_only, webhook] = stack
        .deliveries(CALLBACKS, CALLBACKS / 2)
        .await
        .expect("deliveries");
    let ids = |envelopes: &[Value]| {
        envelopes
            .iter()
            .map(|e| {
                serde_json::from_str::<Value>(e["Message"].as_str().unwrap()).unwrap()["event_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        all_events.len(),
        CALLBACKS,
        "duplicates or losses in the all-events queue"
    );
    assert_eq!(ids(&all_events).len(), CALLBACKS);
    assert_eq!(abnormal_only.len(), CALLBACKS / 2);
    assert_eq!(ids(&abnormal_only).len(), CALLBACKS / 2);
    assert_eq!(webhook.len(), CALLBACKS);
    assert_eq!(ids(&webhook), ids(&all_events));
    eprintln!(
        "{CALLBACKS} callbacks through the local stack in {took:.2?} ({:.0}/s): {} queued, {} filtered, {} webhook posts, none lost or duplicated",
        CALLBACKS as f64 / took.as_secs_f64(),
        all_events.len(),
        abnormal_only.len(),
        webhook.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn a_real_ten_digit_appid_can_be_filtered_on() {
    // GIVEN a queue with the README's APPID filter (SNS refuses numeric filters beyond 10^9)
    let stack = Stack::queues_only().await.expect("local stack");
    let one_appid = stack
        .topology
        .filtered_queue("one-appid", Some(r#"{"appid":["1253488539"]}"#))
        .await
        .expect("filtered queue");
    let function = stack.function(&[]).await.expect("function");

    // WHEN starts of two APPIDs arrive
    for (appid, sequence) in [(1_253_488_539u64, "appid-a"), (1_253_488_540, "appid-b")] {
        let body = fresh(START, json!({"appid": appid, "sequence": sequence}));
        assert_eq!(post(&function, &body).await, 200);
    }

    // THEN the queue gets the one of its APPID (a String attribute), which stays a number
    // in the document
    let received = stack.topology.drain(&one_appid, 1).await.expect("delivery");
    assert_eq!(events_of(&received), ["stream.started"]);
    assert_eq!(received[0]["MessageAttributes"]["appid"]["Type"], "String");
    let document = aws::message_of(&received[0]).unwrap();
    assert_eq!(document["appid"], 1_253_488_539u64);
    assert_eq!(document["sequence"], "appid-a");
}
