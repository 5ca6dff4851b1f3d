//! The reconnect window as production runs it: the real bootstrap, moto's DynamoDB (the
//! state table), SQS (the hold queue, with delays, its dead-letter queue, and the local
//! stack playing Lambda's event source mapping) and SNS, and queues subscribed with the
//! template's own filter presets.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::stack::*;
use common::*;
use local_stack::BoxError;
use local_stack::function_host::FunctionHost;
use local_stack::template::Template;
use serde_json::{Value, json};

/// Long enough that a stop and the next start, sent one after the other through moto under
/// load, land within it on the relay's whole-second clock.
const WINDOW_SECS: u64 = 3;
const EVERY_EVENT: &str =
    "stream.started,stream.stopped,stream.stopped_abnormally,stream.resumed,stream.recovered";

/// A step of a stream's story: a callback (sequence, event time offset, kind) or a pause.
#[derive(Debug, Clone, Copy)]
enum Step {
    Start(&'static str, u64),
    /// Another body for the same push's start (not Tencent's).
    StartForged(&'static str, u64),
    Stop(&'static str, u64, i64),
    StopForged(&'static str, u64, i64),
    /// Until the window has passed and the hold came due.
    Wait,
}

fn body(stream: &str, step: Step, base: u64) -> Option<String> {
    let (sample, sequence, offset, changes) = match step {
        Step::Start(s, at) => (START, s, at, json!({})),
        Step::StartForged(s, at) => (START, s, at, json!({"width": 1})),
        // every push lasts 5 s before its stop, by its push duration
        Step::Stop(s, at, errcode) => (
            INTERRUPT,
            s,
            at,
            json!({"errcode": errcode, "push_duration": "5000"}),
        ),
        Step::StopForged(s, at, errcode) => (
            INTERRUPT,
            s,
            at,
            json!({"errcode": errcode, "errmsg": "forged", "push_duration": "5000"}),
        ),
        Step::Wait => return None,
    };
    let mut all = json!({"stream_id": stream, "sequence": sequence, "event_time": base + offset});
    all.as_object_mut()
        .unwrap()
        .extend(changes.as_object().unwrap().clone());
    Some(fresh(sample, all))
}

async fn tell(
    function: &FunctionHost,
    stream: &str,
    steps: &[Step],
    base: u64,
) -> Result<(), BoxError> {
    for step in steps {
        match body(stream, *step, base) {
            Some(body) => {
                let (status, reply) = post_as_tencent(function, &body).await?;
                if status != 200 {
                    return Err(format!("{stream} {step:?}: {status} {reply}").into());
                }
            }
            None => tokio::time::sleep(Duration::from_secs(WINDOW_SECS + 2)).await,
        }
    }
    Ok(())
}

/// The events each stream's notifications carry, per stream, sorted.
fn by_stream(envelopes: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut streams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for envelope in envelopes {
        let document = local_stack::aws::message_of(envelope).unwrap();
        streams
            .entry(document["stream_id"].as_str().unwrap().to_string())
            .or_default()
            .push(
                document["event"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("stream.")
                    .to_string(),
            );
    }
    streams.values_mut().for_each(|events| events.sort());
    streams
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn every_row_of_the_state_table_through_the_deployed_path() {
    use Step::*;
    // (row, the stream's callbacks, every event published for it, in any order)
    let rows: Vec<(&str, Vec<Step>, Vec<&str>)> = vec![
        ("idle + start", vec![Start("a", 0)], vec!["started"]),
        (
            "live + the same start again",
            vec![Start("a", 0), Start("a", 0)],
            vec!["started", "started"],
        ),
        (
            "live + another body for its start",
            vec![Start("a", 0), StartForged("a", 0)],
            vec!["started", "started"],
        ),
        (
            "live + a new push",
            vec![Start("a", 0), Start("b", 20)],
            vec!["started", "started"],
        ),
        (
            "live + a start of a past push",
            vec![Start("a", 0), Start("b", 20), StartForged("a", 0)],
            vec!["started", "started"],
        ),
        (
            "live + Tencent's retry of a past push's start: told again",
            vec![Start("a", 0), Start("b", 20), Start("a", 0)],
            vec!["started", "started", "started"],
        ),
        (
            "stopped + a start of its push",
            vec![Start("a", 0), Stop("a", 10, 1), StartForged("a", 0)],
            vec!["started", "stopped"],
        ),
        (
            "stopped + a new push",
            vec![Start("a", 0), Stop("a", 10, 1), Start("b", 20)],
            vec!["started", "stopped", "started"],
        ),
        (
            "held + a start of its push",
            vec![Start("a", 0), Stop("a", 10, 13), StartForged("a", 0), Wait],
            vec!["started", "stopped_abnormally"],
        ),
        (
            "held + a new push: resumed, never announced",
            vec![Start("a", 0), Stop("a", 10, 13), Start("b", 14), Wait],
            vec!["started", "resumed"],
        ),
        (
            "down + a new push: recovered",
            vec![Start("a", 0), Stop("a", 10, 13), Wait, Start("b", 300)],
            vec!["started", "stopped_abnormally", "recovered"],
        ),
        (
            "live + a normal stop",
            vec![Start("a", 0), Stop("a", 10, 1)],
            vec!["started", "stopped"],
        ),
        (
            "live + an abnormal stop: held, then announced",
            vec![Start("a", 0), Stop("a", 10, 13), Wait],
            vec!["started", "stopped_abnormally"],
        ),
        (
            "stopped + the same stop again",
            vec![Start("a", 0), Stop("a", 10, 1), Stop("a", 10, 1)],
            vec!["started", "stopped", "stopped"],
        ),
        (
            "held + the same stop again: announced once",
            vec![Start("a", 0), Stop("a", 10, 13), Stop("a", 10, 13), Wait],
            vec!["started", "stopped_abnormally"],
        ),
        (
            "stopped + another body for its stop",
            vec![Start("a", 0), Stop("a", 10, 1), StopForged("a", 10, 13)],
            vec!["started", "stopped", "stopped_abnormally"],
        ),
        (
            "held + another body for its stop",
            vec![
                Start("a", 0),
                Stop("a", 10, 13),
                StopForged("a", 10, 1),
                Wait,
            ],
            vec!["started", "stopped", "stopped_abnormally"],
        ),
        (
            "live + the stop of a past push",
            vec![Start("a", 0), Start("b", 20), Stop("a", 10, 13), Wait],
            vec!["started", "started"],
        ),
        (
            "idle + a stop whose start was missed",
            vec![Stop("b", 10, 1)],
            vec!["stopped"],
        ),
        (
            "held + a stop of a new push",
            vec![Start("a", 0), Stop("a", 10, 13), Stop("b", 30, 1), Wait],
            vec!["started", "resumed", "stopped"],
        ),
        (
            "down + a stop of a new push",
            vec![Start("a", 0), Stop("a", 10, 13), Wait, Stop("b", 300, 1)],
            vec!["started", "stopped_abnormally", "recovered", "stopped"],
        ),
    ];

    let stack = Stack::queues_only().await.expect("local stack");
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let (chat_topic, chat_queue) = stack.topology.chat().await.expect("the chat topic");
    let (function, _mapping) = stack
        .windowed_function(
            &windowed,
            WINDOW_SECS,
            &[
                ("NOTIFY_EVENTS", EVERY_EVENT.to_string()),
                ("CHAT_TOPIC_ARN", chat_topic),
            ],
        )
        .await
        .expect("function");
    let base = now() - 500;
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (_, steps, _)) in rows.iter().enumerate() {
        let (function, steps) = (function.clone(), steps.clone());
        tasks.spawn(async move { tell(&function, &format!("row-{n}"), &steps, base).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("every callback answered 200");
    }
    tokio::time::sleep(Duration::from_secs(WINDOW_SECS + 3)).await;

    let expected: usize = rows.iter().map(|(_, _, events)| events.len()).sum();
    let received = stack.all_events(expected).await.expect("deliveries");
    let streams = by_stream(&received);
    for (n, (row, _, events)) in rows.iter().enumerate() {
        let mut events: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        events.sort();
        assert_eq!(
            streams
                .get(&format!("row-{n}"))
                .cloned()
                .unwrap_or_default(),
            events,
            "{row}"
        );
    }
    assert_eq!(received.len(), expected);
    let dead = stack.dead_letters(&windowed).await;
    assert!(dead.is_empty(), "{dead:?}");

    // the chat topic has what pages on-call (CHAT_EVENTS' default), a drop and its
    // recovery in one thread
    let on_call = |event: &&&str| matches!(**event, "stopped_abnormally" | "recovered");
    let chat_expected: usize = rows
        .iter()
        .map(|(_, _, events)| events.iter().filter(on_call).count())
        .sum();
    let posted = stack
        .topology
        .drain(&chat_queue, chat_expected)
        .await
        .expect("chat posts");
    assert_eq!(posted.len(), chat_expected);
    let mut threads: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for envelope in &posted {
        let chat = local_stack::aws::message_of(envelope).unwrap();
        assert_eq!(
            (&chat["version"], &chat["source"]),
            (&json!("1.0"), &json!("custom"))
        );
        let context = &chat["metadata"]["additionalContext"];
        threads
            .entry(context["stream_id"].as_str().unwrap().to_string())
            .or_default()
            .push((
                chat["metadata"]["eventType"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("stream.")
                    .to_string(),
                chat["metadata"]["threadId"].as_str().unwrap().to_string(),
            ));
    }
    for (n, (row, _, events)) in rows.iter().enumerate() {
        let mut expected: Vec<String> = events
            .iter()
            .filter(on_call)
            .map(|e| e.to_string())
            .collect();
        expected.sort();
        let mut told = threads
            .get(&format!("row-{n}"))
            .cloned()
            .unwrap_or_default();
        told.sort();
        assert_eq!(
            told.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>(),
            expected,
            "{row}"
        );
        if expected == ["recovered", "stopped_abnormally"] {
            assert_eq!(told[0].1, told[1].1, "{row}: one thread");
        }
    }

    // the bootstrap wrote one metric line per callback and per hold
    let metric_lines: Vec<Value> = function
        .logs()
        .iter()
        .filter(|line| line.contains("\"_aws\":"))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let count = |name: &str| metric_lines.iter().filter(|l| l[name] == 1).count();
    let callbacks_sent = rows
        .iter()
        .flat_map(|(_, steps, _)| steps)
        .filter(|step| !matches!(step, Wait))
        .count();
    assert!(
        count("Callbacks") >= callbacks_sent,
        "{} of {callbacks_sent}",
        count("Callbacks")
    );
    let announced: usize = metric_lines
        .iter()
        .filter(|l| l["Holds"] == 1)
        .filter_map(|l| l["StoppedAbnormally"].as_u64())
        .sum::<u64>() as usize;
    let expected_announced = rows
        .iter()
        .filter(|(_, steps, _)| steps.iter().any(|s| matches!(s, Wait)))
        .filter(|(_, _, events)| events.contains(&"stopped_abnormally"))
        .count();
    assert!(
        announced >= expected_announced,
        "{announced} of {expected_announced}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn sns_down_when_a_hold_comes_due_then_back_announces_it_once_late() {
    let stack = Stack::queues_only().await.expect("local stack");
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let (function, mapping) = stack
        .windowed_function(&windowed, WINDOW_SECS, &[])
        .await
        .expect("function");
    let base = now() - 100;
    tell(
        &function,
        "dropped",
        &[Step::Start("a", 0), Step::Stop("a", 10, 13)],
        base,
    )
    .await
    .expect("200");

    // GIVEN SNS refuses connections when the hold comes due, for two of its deliveries
    stack.sns.stop();
    let down_since = Instant::now();
    local_stack::poll_until(
        Duration::from_secs(20),
        "two failed deliveries of the hold",
        || {
            let failed = function
                .logs()
                .iter()
                .filter(|l| l.contains("\"source\":\"hold\"") && l.contains("\"status\":503"))
                .count();
            async move { (failed >= 2).then_some(()) }
        },
    )
    .await
    .expect("the hold came back and failed twice");
    // WHEN SNS is back THEN the drop is announced, once, late
    stack.sns.resume().await.expect("proxy back");
    let received = stack.all_events(2).await.expect("deliveries");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = stack.all_events(0).await.expect("nothing more");
    assert_eq!(
        by_stream(&received)["dropped"],
        ["started", "stopped_abnormally"]
    );
    assert!(later.is_empty(), "{later:?}");
    let announced = received
        .iter()
        .map(|e| local_stack::aws::message_of(e).unwrap())
        .find(|document| document["event"] == "stream.stopped_abnormally")
        .expect("the announcement");
    assert!(announced["held_for_secs"].as_u64().unwrap() >= WINDOW_SECS);
    eprintln!(
        "announced {:.1?} after SNS went down, held {} s; {} batches handed to the function",
        down_since.elapsed(),
        announced["held_for_secs"],
        mapping.invocations()
    );
    assert!(stack.dead_letters(&windowed).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn a_hold_that_keeps_failing_lands_in_the_dead_letter_queue_and_is_announced_when_moved_back()
{
    let stack = Stack::queues_only().await.expect("local stack");
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let (function, mapping) = stack
        .windowed_function(&windowed, WINDOW_SECS, &[])
        .await
        .expect("function");
    tell(
        &function,
        "outage",
        &[Step::Start("a", 0), Step::Stop("a", 10, 13)],
        now() - 100,
    )
    .await
    .expect("200");
    stack.sns.stop();
    let dead = stack.topology.drain(&windowed.dead_letters, 1).await;
    let dead = match dead {
        Ok(dead) => dead,
        Err(_) => local_stack::poll_until(
            Duration::from_secs(30),
            "the hold in the dead-letter queue",
            || async {
                stack
                    .topology
                    .drain(&windowed.dead_letters, 0)
                    .await
                    .ok()
                    .filter(|d| !d.is_empty())
            },
        )
        .await
        .expect("dead-lettered"),
    };
    assert_eq!(dead.len(), 1);
    drop(mapping);

    // the operator's redrive: the dead letter back to the hold queue, SNS back
    stack.sns.resume().await.expect("proxy back");
    let sqs = local_stack::aws::sqs_client(&stack.moto.endpoint);
    sqs.send_message()
        .queue_url(&windowed.hold_queue)
        .message_body(dead[0].to_string())
        .send()
        .await
        .expect("moved back");
    let _mapping = local_stack::event_source::EventSourceMapping::start(
        &stack.moto.endpoint,
        &windowed.hold_queue,
        function.clone(),
    );
    let received = stack.all_events(2).await.expect("deliveries");
    assert_eq!(
        by_stream(&received)["outage"],
        ["started", "stopped_abnormally"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn two_instances_racing_a_start_against_an_expiry_announce_each_drop_once() {
    const STREAMS: usize = 12;
    let stack = Stack::queues_only().await.expect("local stack");
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let env = stack.window_env(&windowed, WINDOW_SECS);
    let http_instance = Arc::new(stack.function(&env).await.expect("one instance"));
    let hold_instance = Arc::new(stack.function(&env).await.expect("another instance"));
    let base = now() - 100;
    for n in 0..STREAMS {
        tell(
            &http_instance,
            &format!("race-{n}"),
            &[Step::Start("a", 0), Step::Stop("a", 10, 13)],
            base,
        )
        .await
        .expect("200");
    }
    let sqs = local_stack::aws::sqs_client(&stack.moto.endpoint);
    let mut holds = Vec::new();
    let due_by = Instant::now() + Duration::from_secs(WINDOW_SECS + 30);
    while holds.len() < STREAMS {
        assert!(
            Instant::now() < due_by,
            "{} of {STREAMS} holds came due",
            holds.len()
        );
        let batch = sqs
            .receive_message()
            .queue_url(&windowed.hold_queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await
            .expect("receive");
        holds.extend(batch.messages.unwrap_or_default());
    }

    // each stream's start and its hold's expiry, at once, on two instances
    let mut races = tokio::task::JoinSet::new();
    for (n, hold) in holds.into_iter().enumerate() {
        let (http_instance, hold_instance) = (http_instance.clone(), hold_instance.clone());
        let stream = hold_in(hold.body().unwrap()).stop.stream_id;
        races.spawn(async move {
            let event = json!({"Records": [{
                "messageId": format!("m-{n}"), "body": hold.body(), "eventSource": "aws:sqs",
                "attributes": {}, "messageAttributes": {}, "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:holds"
            }]});
            let start = body(&stream, Step::Start("b", 14), base).unwrap();
            // a recovery waits for its drop's announcement: Tencent's retry tells it
            let (answered, expired) = tokio::join!(
                post_as_tencent(&http_instance, &start),
                hold_instance.invoke(&event)
            );
            assert_eq!(answered.expect("answered").0, 200);
            // a hold that found the start announcing its drop comes back later (SQS
            // would deliver it again): never a failure
            expired.expect("invoked")["batchItemFailures"]
                .as_array()
                .map_or(0, Vec::len)
        });
    }
    let mut again = 0;
    while let Some(race) = races.join_next().await {
        again += race.expect("race");
    }
    assert_eq!(
        lines_with(
            &hold_instance,
            "\"source\":\"hold\",\"outcome\":\"rejected\",\"status\":409"
        ),
        again,
        "every hold not done found its drop being announced"
    );
    assert_eq!(lines_with(&hold_instance, "\"status\":503"), 0);

    let received = stack.all_events(STREAMS * 2).await.expect("deliveries");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut all = received;
    all.extend(stack.all_events(0).await.unwrap());
    // the start arrives after the drop's deadline, whichever append lands first: the drop
    // outlasted the window, announced by the hold or, late, by the start
    let streams = by_stream(&all);
    assert_eq!(streams.len(), STREAMS);
    for (stream, events) in &streams {
        assert_eq!(
            events,
            &["recovered", "started", "stopped_abnormally"],
            "{stream}"
        );
    }
    let late = lines_with(&http_instance, "\"told\":\"stream.stopped_abnormally");
    eprintln!(
        "{STREAMS} races: {late} of the announcements made by the start, the rest by the hold; {again} holds found the start announcing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn two_hundred_streams_flapping_at_once_page_nobody_and_every_count_is_exact() {
    const STREAMS: usize = 200;
    let stack = Stack::queues_only().await.expect("local stack");
    let presets = Template::load().expect("template").filter_presets();
    let mut preset_queues = Vec::new();
    for (name, policy) in &presets {
        let queue = stack
            .topology
            .filtered_queue(name, Some(policy))
            .await
            .expect("preset queue");
        preset_queues.push((name.clone(), queue));
    }
    let windowed = stack.windowed().await.expect("state table and hold queue");
    let (function, mapping) = stack
        .windowed_function(&windowed, WINDOW_SECS, &[])
        .await
        .expect("function");
    let base = now() - 100;
    let started = Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    let mut streams = tokio::task::JoinSet::new();
    for n in 0..STREAMS {
        let (function, slots) = (function.clone(), slots.clone());
        streams.spawn(async move {
            let _slot = slots.acquire().await.expect("open");
            use Step::*;
            let story = [
                Start("p0", 0),
                Stop("p0", 5, 14),
                Start("p1", 6),
                Stop("p1", 9, 14),
                Start("p2", 10),
            ];
            tell(&function, &format!("flap-{n}"), &story, base).await
        });
    }
    while let Some(done) = streams.join_next().await {
        done.expect("task").expect("every callback answered 200");
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(WINDOW_SECS + 3)).await;

    let all = stack.all_events(STREAMS * 3).await.expect("deliveries");
    assert_eq!(all.len(), STREAMS * 3);
    let streams = by_stream(&all);
    assert_eq!(streams.len(), STREAMS);
    for (stream, events) in &streams {
        assert_eq!(events, &["resumed", "resumed", "started"], "{stream}");
    }
    let mut counts = Vec::new();
    for (name, queue) in &preset_queues {
        let received = stack
            .topology
            .drain(queue, 0)
            .await
            .expect("preset deliveries");
        let expected = if name == "starts" { STREAMS } else { 0 };
        assert_eq!(received.len(), expected, "preset {name}");
        counts.push(format!("{name} {}", received.len()));
    }
    assert!(stack.dead_letters(&windowed).await.is_empty());
    eprintln!(
        "{STREAMS} streams x 5 callbacks, 16 at a time, in {took:.1?}: {} notifications (every one a start or a blip resumed), {} hold batches, presets: {}",
        all.len(),
        mapping.invocations(),
        counts.join(", ")
    );
}
