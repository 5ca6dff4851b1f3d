//! The reconnect window's failure edges through the deployed path: the real bootstrap,
//! moto's DynamoDB (behind the local stack's fault injector), SQS and SNS, the hold queue's
//! event source mapping. Holds are read raw on the hold queue and its dead-letter queue.

mod common;

use std::time::Duration;

use common::stack::*;
use common::*;
use local_stack::event_source::EventSourceMapping;
use local_stack::faults::{FaultInjector, Rule};
use local_stack::function_host::FunctionHost;
use local_stack::proxy::Proxy;
use local_stack::{BoxError, poll_until};
use serde_json::{Value, json};

const WINDOW_SECS: u64 = 2;

/// A start and an abnormal stop of push `sequence` of `stream`, with the push URL's
/// credentials in `stream_param`, as Tencent signs them now.
fn start(stream: &str, sequence: &str) -> String {
    fresh(START, json!({"stream_id": stream, "sequence": sequence}))
}

fn stop(stream: &str, sequence: &str) -> String {
    fresh(
        INTERRUPT,
        json!({"stream_id": stream, "sequence": sequence, "errcode": 13, "push_duration": "5000"}),
    )
}

async fn told(function: &FunctionHost, bodies: &[&str]) -> Result<(), BoxError> {
    for body in bodies {
        let (status, reply) = post_as_tencent(function, body).await?;
        if status != 200 {
            return Err(format!("{status} {reply}").into());
        }
    }
    Ok(())
}

/// What the unfiltered queue received (stream and event, sorted), once it has `count`,
/// and after `settle` for any more to arrive.
async fn events_of(stack: &Stack, count: usize, settle: Duration) -> Vec<(String, String)> {
    let mut received = stack.all_events(count).await.expect("deliveries");
    tokio::time::sleep(settle).await;
    received.extend(stack.all_events(0).await.expect("no more"));
    let mut events: Vec<(String, String)> = received
        .iter()
        .map(|envelope| {
            let document = local_stack::aws::message_of(envelope).unwrap();
            (
                document["stream_id"].as_str().unwrap().to_string(),
                document["event"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    events.sort();
    events
}

fn sign_of(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["sign"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What a hold queue holds, read raw (received and left to come back).
async fn raw_messages(stack: &Stack, queue: &str, count: usize) -> Vec<String> {
    let sqs = local_stack::aws::sqs_client(&stack.moto.endpoint);
    poll_until(Duration::from_secs(20), "messages on the queue", || async {
        let batch = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .ok()?;
        let bodies: Vec<String> = batch
            .messages
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m.body().map(str::to_string))
            .collect();
        (bodies.len() >= count).then_some(bodies)
    })
    .await
    .expect("messages")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn the_hold_queue_and_its_dead_letter_queue_hold_no_credential_and_no_sign() {
    let stack = Stack::queues_only().await.expect("local stack");
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let function = std::sync::Arc::new(
        stack
            .function(&stack.window_env(&windowed, WINDOW_SECS))
            .await
            .expect("function"),
    );
    let (a_start, a_stop) = (start("secrets", "s1"), stop("secrets", "s1"));
    told(&function, &[&a_start, &a_stop]).await.expect("200");
    let secrets = [TX_SECRET.to_string(), sign_of(&a_stop), KEY.to_string()];
    // GIVEN the hold on the hold queue, read as it is stored
    let parked = raw_messages(&stack, &windowed.hold_queue, 1).await;
    for secret in &secrets {
        assert!(
            !parked[0].contains(secret.as_str()),
            "{secret}: {}",
            parked[0]
        );
    }
    assert!(parked[0].contains("txSecret=***"), "{}", parked[0]);
    // WHEN SNS refuses every announcement until the hold is dead-lettered
    stack.sns.stop();
    let _mapping = EventSourceMapping::start(&stack.moto.endpoint, &windowed.hold_queue, function);
    let dead = raw_messages(&stack, &windowed.dead_letters, 1).await;
    // THEN the dead letter holds neither
    for secret in &secrets {
        assert!(!dead[0].contains(secret.as_str()), "{secret}: {}", dead[0]);
    }
    assert_eq!(hold_in(&dead[0]).stop.sequence, "s1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn a_drop_is_announced_once_whichever_step_of_its_announcement_fails() {
    let stack = Stack::queues_only().await.expect("local stack");
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let dynamodb = FaultInjector::start(&stack.moto.endpoint)
        .await
        .expect("DynamoDB's fault injector");
    let sns = FaultInjector::start(&stack.moto.endpoint)
        .await
        .expect("SNS's fault injector");
    let mut env = stack.window_env(&windowed, WINDOW_SECS);
    env.retain(|(name, _)| *name != "AWS_ENDPOINT_URL_DYNAMODB");
    env.push(("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.url.clone()));
    env.push(("AWS_ENDPOINT_URL_SNS", sns.url.clone()));
    let function = std::sync::Arc::new(stack.function(&env).await.expect("function"));
    let _mapping =
        EventSourceMapping::start(&stack.moto.endpoint, &windowed.hold_queue, function.clone());
    // each step after the hold came due, failing (past the SDK's retries) in turn
    let steps: Vec<(&str, Vec<Rule>)> = vec![
        (
            "the expiry's append",
            vec![Rule::fail("UpdateItem", 2).when("expire:e1-stop-")],
        ),
        (
            "the claim",
            vec![Rule::fail("PutItem", 2).when("announce:e2-stop-")],
        ),
        (
            "the publish",
            vec![Rule::fail("Publish", 3).when("e3-stop-")],
        ),
        (
            "the claim's completion",
            vec![Rule::fail("UpdateItem", 2).when("announce:e4-stop-")],
        ),
        (
            "the stream's mark",
            vec![
                Rule::fail("UpdateItem", 2)
                    .when("ADD announced")
                    .when("e5-stop-"),
            ],
        ),
        (
            "the completion and the mark",
            vec![
                Rule::fail("UpdateItem", 2).when("announce:e6-stop-"),
                Rule::fail("UpdateItem", 2)
                    .when("ADD announced")
                    .when("e6-stop-"),
            ],
        ),
    ];
    for (n, (step, rules)) in steps.into_iter().enumerate() {
        let (stream, sequence) = (format!("edge-{n}"), format!("e{}", n + 1));
        for rule in rules {
            if rule.operation == "Publish" {
                sns.fail(rule);
            } else {
                dynamodb.fail(rule);
            }
        }
        told(
            &function,
            &[&start(&stream, &sequence), &stop(&stream, &sequence)],
        )
        .await
        .expect("200");
        // a redelivery comes after the hold queue's visibility timeout (2 s here)
        let events = events_of(&stack, 2, Duration::from_secs(6)).await;
        assert_eq!(
            events,
            [
                (stream.clone(), "stream.started".to_string()),
                (stream.clone(), "stream.stopped_abnormally".to_string())
            ],
            "{step} failing"
        );
        dynamodb.heal();
        sns.heal();
    }
    assert_eq!(
        lines_with(&function, "its record handed to the hold queue"),
        1,
        "only where both records were refused"
    );
    assert!(stack.dead_letters(&windowed).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn two_copies_of_a_hold_are_announced_once_and_counted_as_no_failure() {
    let stack = Stack::queues_only().await.expect("local stack");
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let (function, _mapping) = stack
        .windowed_function(&windowed, WINDOW_SECS, &[])
        .await
        .expect("function");
    let a_stop = stop("copies", "c1");
    // the 200 of the stop was lost: Tencent sends it again, and a second copy is parked
    told(&function, &[&start("copies", "c1"), &a_stop, &a_stop])
        .await
        .expect("200");
    let events = events_of(&stack, 2, Duration::from_secs(6)).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let holds: Vec<String> = function
        .logs()
        .into_iter()
        .filter(|l| l.contains("\"source\":\"hold\""))
        .collect();
    // handled at once, the second copy found the first announcing (409) and came back
    let published = holds
        .iter()
        .filter(|l| l.contains("\"outcome\":\"published\""))
        .count();
    assert_eq!(published, 1, "{holds:?}");
    assert!(
        !holds.iter().any(|l| l.contains("\"status\":503")),
        "{holds:?}"
    );
    let metric_lines: Vec<String> = function
        .logs()
        .into_iter()
        .filter(|l| l.contains("\"Holds\":1"))
        .collect();
    assert!(
        !metric_lines
            .iter()
            .any(|l| l.contains("\"Status\":\"503\"")),
        "{metric_lines:?}"
    );
    assert_eq!(
        lines_with(&function, "\"HoldsParked\":1"),
        1,
        "one hold, however many copies"
    );
}

/// The relay with a reconnect window, reaching SQS through a proxy that can refuse
/// connections, with `extra` settings; the hold queue's event source mapping, as Lambda's
/// poller, reaches SQS directly.
async fn behind_a_switchable_sqs(
    stack: &Stack,
    extra: &[(&'static str, String)],
) -> (std::sync::Arc<FunctionHost>, Proxy, EventSourceMapping) {
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let sqs = Proxy::start(stack.moto.endpoint.trim_start_matches("http://"))
        .await
        .expect("a switchable SQS");
    let mut env = stack.window_env(&windowed, WINDOW_SECS);
    env.retain(|(name, _)| *name != "AWS_ENDPOINT_URL_SQS");
    env.push(("AWS_ENDPOINT_URL_SQS", sqs.url()));
    env.extend_from_slice(extra);
    let function = std::sync::Arc::new(stack.function(&env).await.expect("function"));
    let mapping =
        EventSourceMapping::start(&stack.moto.endpoint, &windowed.hold_queue, function.clone());
    (function, sqs, mapping)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn a_drop_whose_hold_was_never_parked_is_announced_late_when_its_stream_comes_back() {
    let stack = Stack::queues_only().await.expect("local stack");
    let (function, sqs, _mapping) = behind_a_switchable_sqs(&stack, &[]).await;
    told(&function, &[&start("lost", "l1")]).await.expect("200");
    // GIVEN the hold queue refuses every park until Tencent gives up on the stop
    sqs.stop();
    let (status, _) = post_as_tencent(&function, &stop("lost", "l1"))
        .await
        .expect("answered");
    assert_eq!(status, 503);
    sqs.resume().await.expect("SQS back");
    // WHEN the stream comes back after the drop's deadline
    tokio::time::sleep(Duration::from_secs(WINDOW_SECS)).await;
    told(&function, &[&start("lost", "l2")]).await.expect("200");
    // THEN the drop is announced, late, and its recovery follows
    let events: Vec<String> = events_of(&stack, 3, Duration::from_secs(3))
        .await
        .into_iter()
        .map(|(_, event)| event)
        .collect();
    assert_eq!(
        events,
        [
            "stream.recovered",
            "stream.started",
            "stream.stopped_abnormally"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn a_hold_tencent_gave_up_on_is_swept_and_its_drop_announced_though_the_stream_never_returns()
{
    let stack = Stack::queues_only().await.expect("local stack");
    // the sweep takes a hold at once here (Tencent's 17 minutes of retries are played by 13)
    let (function, sqs, _mapping) =
        behind_a_switchable_sqs(&stack, &[("SWEEP_AFTER_SECS", "0".to_string())]).await;
    told(&function, &[&start("gone", "g1")]).await.expect("200");
    sqs.stop();
    let (status, _) = post_as_tencent(&function, &stop("gone", "g1"))
        .await
        .expect("answered");
    assert_eq!(status, 503, "Tencent gives up");
    sqs.resume().await.expect("SQS back");
    let scheduled: Value =
        serde_json::from_str(include_str!("fixtures/scheduled_event.json")).unwrap();
    let answered = function.invoke(&scheduled).await.expect("swept");
    assert_eq!(answered, json!({"swept": 1}));
    let events: Vec<String> = events_of(&stack, 2, Duration::from_secs(3))
        .await
        .into_iter()
        .map(|(_, event)| event)
        .collect();
    assert_eq!(events, ["stream.started", "stream.stopped_abnormally"]);
    assert_eq!(lines_with(&function, "\"HoldsSwept\":1"), 1);
    assert_eq!(
        function.invoke(&scheduled).await.expect("swept"),
        json!({"swept": 0})
    );
}
