//! One binary, two event sources: real API Gateway, Function URL and SQS event fixtures
//! through the function's dispatcher, answered in each source's format.

mod common;

use common::*;
use lambda_runtime::{Context, LambdaEvent};
use live_callback_relay::Relay;
use live_callback_relay::lambda::answer;
use live_callback_relay::meaning::classify::Event;
use live_callback_relay::outbound::notification::Notification;
use live_callback_relay::ports::hold_queue::{Hold, MemoryHoldQueue};
use live_callback_relay::ports::publish::{PublishError, Publisher};
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::ports::stream_log::MemoryStreamLog;
use live_callback_relay::relay::windowed::Windowed;
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// An invocation of `json`, due within the function's 15 s, as Lambda gives it.
fn invocation(json: &Value) -> LambdaEvent<Box<RawValue>> {
    let mut context = Context::default();
    context.deadline = now() * 1_000 + 15_000;
    LambdaEvent::new(serde_json::value::to_raw_value(json).unwrap(), context)
}

fn sqs_event(bodies: &[(&str, String)]) -> Value {
    let mut template: Value =
        serde_json::from_str(include_str!("fixtures/sqs_event.json")).unwrap();
    let record = template["Records"][0].clone();
    template["Records"] = bodies
        .iter()
        .map(|(id, body)| {
            let mut r = record.clone();
            r["messageId"] = json!(id);
            r["body"] = json!(body);
            r
        })
        .collect();
    template
}

fn windowed() -> Relay<RecordingPublisher, Windowed<MemoryStreamLog, MemoryHoldQueue>> {
    Relay::new(&config(None), RecordingPublisher::new()).with_mode(memory_window(60))
}

#[tokio::test]
async fn http_events_are_answered_in_their_gateways_format() {
    let relay = windowed();
    let body = signed(START, json!({}));
    for (gateway, v2) in [
        (Gateway::HttpV2, true),
        (Gateway::FunctionUrl, true),
        (Gateway::RestV1, false),
    ] {
        let json = gateway_json(gateway, "POST", body.as_bytes(), false);
        let answered = answer(&relay, invocation(&json), NOW).await.unwrap();
        let json = serde_json::to_value(&answered).unwrap();
        assert_eq!(json["statusCode"], 200);
        assert_eq!(json["body"], "{\"code\":0}");
        if v2 {
            assert_eq!(json["headers"]["content-type"], "application/json");
        } else {
            assert_eq!(
                json["multiValueHeaders"]["content-type"][0],
                "application/json"
            );
        }
    }
}

#[tokio::test]
async fn a_batch_of_holds_reports_exactly_the_records_that_failed() {
    let relay = windowed();
    relay.handle(post(&signed(START, json!({}))), NOW).await;
    let stop = signed(INTERRUPT, json!({"errcode": 13}));
    relay.handle(post(&stop), NOW).await;
    let due = relay.mode().queue.take().remove(0);
    let early = sealed(&Hold {
        deadline: NOW + 500,
        ..hold_in(&due)
    });
    let batch = sqs_event(&[
        ("due", due),
        ("unreadable", "{".to_string()),
        ("early", early),
    ]);
    let answered = answer(&relay, invocation(&batch), NOW + 60).await.unwrap();
    assert_eq!(
        serde_json::to_value(&answered).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "unreadable"}]})
    );
    assert_eq!(
        relay.publisher().published().len(),
        2,
        "the start and the announced drop"
    );
    assert_eq!(
        relay.mode().queue.parked().len(),
        1,
        "the early hold, parked again"
    );
}

/// Publishes an announced drop only once as many are under way together as the barrier
/// waits for.
struct Rendezvous(tokio::sync::Barrier, RecordingPublisher);

impl Publisher for Rendezvous {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        if notification.event == Event::StoppedAbnormally {
            self.0.wait().await;
        }
        self.1.publish(notification).await
    }
}

#[tokio::test]
async fn the_holds_of_a_batch_are_handled_together() {
    let relay = Relay::new(
        &config(None),
        Rendezvous(tokio::sync::Barrier::new(2), RecordingPublisher::new()),
    )
    .with_mode(memory_window(60));
    for stream in ["one", "two"] {
        relay
            .handle(post(&signed(START, json!({"stream_id": stream}))), NOW)
            .await;
        let stop = signed(INTERRUPT, json!({"stream_id": stream, "errcode": 13}));
        relay.handle(post(&stop), NOW).await;
    }
    let holds: Vec<(String, String)> = relay
        .mode()
        .queue
        .take()
        .iter()
        .enumerate()
        .map(|(n, hold)| (n.to_string(), hold.clone()))
        .collect();
    let batch = sqs_event(&[("0", holds[0].1.clone()), ("1", holds[1].1.clone())]);
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        answer(&relay, invocation(&batch), NOW + 60),
    )
    .await
    .expect("the holds were handled one after another")
    .unwrap();
    assert_eq!(
        serde_json::to_value(&answered).unwrap(),
        json!({"batchItemFailures": []})
    );
    assert_eq!(relay.publisher().1.published().len(), 4);
}

#[tokio::test]
async fn records_of_other_services_are_not_taken_for_holds() {
    let relay = windowed();
    let mut sns = sqs_event(&[("m", "x".into())]);
    sns["Records"][0]["eventSource"] = json!("aws:sns");
    assert!(
        answer(&relay, invocation(&sns), NOW).await.is_err(),
        "neither SQS nor HTTP"
    );
}

#[tokio::test]
async fn the_schedules_event_runs_the_sweep() {
    let relay = windowed();
    relay.handle(post(&signed(START, json!({}))), NOW).await;
    relay.mode().queue.set_failing(true);
    relay
        .handle(post(&signed(INTERRUPT, json!({"errcode": 13}))), NOW)
        .await;
    relay.mode().queue.set_failing(false);
    let scheduled: Value =
        serde_json::from_str(include_str!("fixtures/scheduled_event.json")).unwrap();
    let later = NOW + live_callback_relay::config::DEFAULT_SWEEP_AFTER_SECS;
    let answered = answer(&relay, invocation(&scheduled), later).await.unwrap();
    assert_eq!(
        serde_json::to_value(&answered).unwrap(),
        json!({"swept": 1})
    );
    assert_eq!(relay.mode().queue.parked().len(), 1);
    // a relay without the window has nothing to sweep
    let stateless = Relay::new(&config(None), RecordingPublisher::new());
    let answered = answer(&stateless, invocation(&scheduled), later)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&answered).unwrap(),
        json!({"swept": 0})
    );
    // another service's scheduled-looking event is not the schedule's
    let mut other = scheduled.clone();
    other["source"] = json!("aws.s3");
    assert!(answer(&relay, invocation(&other), later).await.is_err());
}
