//! The reconnect window at its failure edges, with the in-memory fakes: nothing stored
//! authenticates a callback, a drop is announced once whatever fails after its publish,
//! a drop whose hold was never parked is announced late when its stream comes back, and
//! a stop and its hold are each counted once.

mod common;

use common::flaky::{Flaky, Op};
use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::meaning::classify::Event;
use live_callback_relay::ports::hold_queue::{Hold, MemoryHoldQueue};
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::relay::metrics::{Source, emf_line};
use live_callback_relay::relay::report::Report;
use live_callback_relay::relay::windowed::Windowed;
use live_callback_relay::relay::{Deadline, Mode};
use serde_json::{Value, json};

const WINDOW: u64 = 60;
const EVERY_EVENT: &str =
    "stream.started,stream.stopped,stream.stopped_abnormally,stream.resumed,stream.recovered";

type FlakyRelay = Relay<RecordingPublisher, Windowed<Flaky, MemoryHoldQueue>>;

fn relay() -> FlakyRelay {
    Relay::new(&config(Some(EVERY_EVENT)), RecordingPublisher::new()).with_mode(Windowed {
        log: Flaky::default(),
        queue: MemoryHoldQueue::new(),
        window_secs: WINDOW,
        announcement_budget: announcement_budget(),
        sweep_after_secs: live_callback_relay::config::DEFAULT_SWEEP_AFTER_SECS,
    })
}

/// Push `sequence` of the stream, with the push URL's credentials in `stream_param`,
/// signed as Tencent signs it: `t` = event time + 600.
fn start(sequence: &str, event_time: u64) -> String {
    signed(
        START,
        json!({"sequence": sequence, "event_time": event_time, "t": event_time + 600,
               "stream_param": push_url_params()}),
    )
}

fn drop_of(sequence: &str, event_time: u64) -> String {
    signed(
        INTERRUPT,
        json!({"sequence": sequence, "event_time": event_time, "t": event_time + 600,
               "errcode": 13, "push_duration": "90000", "stream_param": push_url_params()}),
    )
}

async fn send<M: Mode>(relay: &Relay<RecordingPublisher, M>, body: &str, at: u64) -> StatusCode {
    relay.handle(post(body), at).await.status()
}

async fn hold<M: Mode>(
    relay: &Relay<RecordingPublisher, M>,
    message: &str,
    at: u64,
) -> Result<(), String> {
    relay
        .on_hold(message, at, Deadline::unbounded(), &mut Report::default())
        .await
        .map_err(|e| e.to_string())
}

/// Stream `a` live at `NOW`, dropped at `NOW + 1`: its hold, due at `NOW + 61`.
async fn dropped(relay: &FlakyRelay) -> String {
    assert_eq!(
        send(relay, &start("a", NOW - 100), NOW).await,
        StatusCode::OK
    );
    assert_eq!(
        send(relay, &drop_of("a", NOW - 10), NOW + 1).await,
        StatusCode::OK
    );
    relay.mode().queue.take().remove(0)
}

#[tokio::test]
async fn a_hold_carries_neither_the_push_token_nor_a_sign_and_is_still_trusted() {
    let relay = relay();
    let body = drop_of("a", NOW - 10);
    let sign = serde_json::from_str::<Value>(&body).unwrap()["sign"]
        .as_str()
        .unwrap()
        .to_string();
    let message = dropped(&relay).await;
    for secret in [TX_SECRET, &sign, KEY, OLD_KEY] {
        assert!(!message.contains(secret), "{secret} in {message}");
    }
    let held = hold_in(&message);
    assert_eq!(held.stop.stream_param, "txSecret=***&txTime=65A0B1C2");
    assert_eq!(held.stop, verified(&body).get().clone());
    hold(&relay, &message, NOW + 61).await.unwrap();
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
}

#[tokio::test]
async fn a_hold_of_an_earlier_release_is_trusted_as_its_callback_would_be_now() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10), NOW + 1).await;
    relay.mode().queue.take();
    let earlier = |deadline: u64| {
        json!({"verified_at": NOW + 1, "deadline": deadline, "body": drop_of("a", NOW - 10)})
            .to_string()
    };
    // not due: parked again, sealed, without the body
    hold(&relay, &earlier(NOW + 1_000), NOW + 61).await.unwrap();
    let again = relay.mode().queue.take().remove(0);
    assert!(
        !again.contains(TX_SECRET) && !again.contains("\"body\""),
        "{again}"
    );
    assert_eq!(hold_in(&again).deadline, NOW + 1_000);
    // due: announced, while its t is still acceptable
    hold(&relay, &earlier(NOW + 61), NOW + 61).await.unwrap();
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
    let expired = hold(&relay, &earlier(NOW + 61), NOW + 10_000).await;
    assert!(expired.unwrap_err().contains("no longer verifies"));
}

#[tokio::test]
async fn an_announcement_is_published_once_whatever_fails_after_its_publish() {
    // every failure order among the writes after the publish: none publishes again
    for failing in [
        vec![Op::Complete],
        vec![Op::Mark],
        vec![Op::Complete, Op::Mark],
        vec![Op::Complete, Op::Mark, Op::Release],
    ] {
        let relay = relay();
        let message = dropped(&relay).await;
        relay.mode().log.fail(&failing);
        let first = hold(&relay, &message, NOW + 61).await;
        let handed_back = relay.mode().queue.take();
        relay.mode().log.fail(&[]);
        // SQS delivers what is left: the hold again if it failed, and the record handed back
        let mut again = handed_back.clone();
        if first.is_err() {
            again.push(message.clone());
        }
        for (n, message) in again.iter().enumerate() {
            hold(&relay, message, NOW + 151 + n as u64).await.unwrap();
        }
        // and a copy of the hold (Tencent's retry of the stop parked one) comes later
        hold(&relay, &message, NOW + 400).await.unwrap();
        assert_eq!(
            relay.publisher().events(),
            [Event::Started, Event::StoppedAbnormally],
            "{failing:?}: {first:?}, handed back {}",
            handed_back.len()
        );
        let recorded = relay.mode().log.log.history(&stream_key()).unwrap();
        assert!(recorded.announced.iter().any(|d| d.starts_with("a-stop-")));
        assert_eq!(
            (first.is_ok(), handed_back.len()),
            match failing.as_slice() {
                [Op::Complete] => (true, 0),
                [Op::Mark] => (false, 0),
                _ => (true, 1),
            },
            "{failing:?}"
        );
        if let [message] = handed_back.as_slice() {
            let record = hold_in(message);
            assert!(record.published && !message.contains(TX_SECRET));
        }
    }
}

fn stream_key() -> live_callback_relay::ports::stream_log::StreamKey {
    live_callback_relay::ports::stream_log::StreamKey::of(verified(&start("a", NOW)).get())
}

#[tokio::test]
async fn with_the_table_and_the_queue_both_refusing_the_record_the_hold_comes_back() {
    let relay = relay();
    let message = dropped(&relay).await;
    relay.mode().log.fail(&[Op::Complete, Op::Mark]);
    relay.mode().queue.set_failing(true);
    let err = hold(&relay, &message, NOW + 61).await.unwrap_err();
    assert!(err.contains("nor handed to the hold queue"), "{err}");
    // the documented residual: past its claim's lease, the hold's redelivery publishes again
    relay.mode().log.fail(&[]);
    relay.mode().queue.set_failing(false);
    let lease = live_callback_relay::relay::announce::ANNOUNCEMENT_LEASE_SECS;
    assert!(
        hold(&relay, &message, NOW + 61 + 90)
            .await
            .unwrap_err()
            .contains("another copy"),
        "a redelivery within the lease waits"
    );
    hold(&relay, &message, NOW + 61 + lease).await.unwrap();
    assert_eq!(
        relay.publisher().events(),
        [
            Event::Started,
            Event::StoppedAbnormally,
            Event::StoppedAbnormally
        ]
    );
}

#[tokio::test]
async fn each_step_before_the_publish_failing_in_turn_costs_a_retry_and_no_copy() {
    for failing in [Op::Append, Op::Claim] {
        let relay = relay();
        let message = dropped(&relay).await;
        relay.mode().log.fail(&[failing]);
        assert!(
            hold(&relay, &message, NOW + 61).await.is_err(),
            "{failing:?}"
        );
        relay.mode().log.fail(&[]);
        hold(&relay, &message, NOW + 151).await.unwrap();
        hold(&relay, &message, NOW + 241).await.unwrap();
        assert_eq!(
            relay.publisher().events(),
            [Event::Started, Event::StoppedAbnormally],
            "{failing:?}"
        );
    }
    // the publish itself: released, and published by the redelivery
    let relay = relay();
    let message = dropped(&relay).await;
    relay.publisher().set_failing(true);
    assert!(hold(&relay, &message, NOW + 61).await.is_err());
    relay.publisher().set_failing(false);
    hold(&relay, &message, NOW + 151).await.unwrap();
    hold(&relay, &message, NOW + 241).await.unwrap();
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
}

#[tokio::test]
async fn an_announcement_is_not_started_without_the_time_to_record_it() {
    let relay = relay();
    let message = dropped(&relay).await;
    let soon = Deadline::at_epoch_ms(now() * 1_000 + 5_000);
    let mut report = Report::default();
    let err = relay
        .on_hold(&message, NOW + 61, soon, &mut report)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is left to publish and record"),
        "{err}"
    );
    assert_eq!(relay.publisher().events(), [Event::Started]);
    // not claimed: the redelivery, with a whole invocation ahead, announces at once
    let ample = Deadline::at_epoch_ms(now() * 1_000 + 15_000);
    relay
        .on_hold(&message, NOW + 62, ample, &mut Report::default())
        .await
        .unwrap();
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
}

/// Stream `a` live at `NOW`, dropped at `NOW + 1` while every park fails, for all of
/// Tencent's retries (then the queue is back).
async fn tencent_gives_up_on_a_drop(relay: &FlakyRelay) {
    send(relay, &start("a", NOW - 100), NOW).await;
    relay.mode().queue.set_failing(true);
    for retry in 0..12 {
        assert_eq!(
            send(relay, &drop_of("a", NOW - 10), NOW + 1 + 60 * retry).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    relay.mode().queue.set_failing(false);
}

#[tokio::test]
async fn a_drop_never_parked_is_announced_late_when_its_stream_comes_back() {
    let relay = relay();
    tencent_gives_up_on_a_drop(&relay).await;
    // hours later the stream comes back: the drop outlasted the window, and is told so
    let back = start("b", NOW + 7_200);
    assert_eq!(send(&relay, &back, NOW + 7_201).await, StatusCode::OK);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally, Event::Recovered]
    );
    let published = relay.publisher().published();
    let documents: Vec<Value> = published
        .iter()
        .map(|n| serde_json::from_str(n.document()).unwrap())
        .collect();
    let stop = verified(&drop_of("a", NOW - 10)).get().clone();
    let late = &documents[1];
    assert_eq!(late["event_id"], stop.event_id);
    assert_eq!(late["sequence"], "a");
    assert_eq!(late["event_time_unix"], NOW - 10);
    assert_eq!(late["errcode"], 13);
    assert_eq!(late["reason"], "network");
    assert_eq!(late["held_for_secs"], 7_200);
    assert_eq!(late["push_duration_ms"], 90_000);
    assert_eq!(
        late["stream_param"], "",
        "what the history does not keep is not told"
    );
    assert_eq!(documents[2]["drop"]["event_id"], stop.event_id);
    assert_eq!(documents[2]["downtime_secs"], 7_210);
    // Tencent's retry of the start, and a hold that turns up after all, tell nothing more
    assert_eq!(send(&relay, &back, NOW + 7_261).await, StatusCode::OK);
    let found = sealed(&Hold {
        deadline: NOW + 61,
        accepted_until: NOW + 1_000,
        published: false,
        stop,
    });
    hold(&relay, &found, NOW + 7_300).await.unwrap();
    assert_eq!(
        relay.publisher().events(),
        [
            Event::Started,
            Event::StoppedAbnormally,
            Event::Recovered,
            Event::Recovered
        ],
        "the retry tells its recovery again (at least once), never the drop"
    );
}

/// The metrics one answer of `relay` writes: (name, dimension value, value) of each.
fn counted(source: Source, status: StatusCode, report: &Report) -> Vec<(String, Value)> {
    let line: Value = serde_json::from_str(&emf_line("test", 0, source, status, report)).unwrap();
    let mut found = Vec::new();
    for directive in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
        let dimension = directive["Dimensions"][0][0].as_str();
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            let label = match dimension {
                Some(d) => format!("{name}/{}", line[d].as_str().unwrap()),
                None => name.to_string(),
            };
            found.push((label, line[name].clone()));
        }
    }
    found
}

fn total(lines: &[Vec<(String, Value)>], metric: &str) -> u64 {
    lines
        .iter()
        .flatten()
        .filter(|(name, _)| name == metric)
        .map(|(_, v)| v.as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn a_stop_and_its_hold_are_counted_once_whatever_tencent_was_answered() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    let stop = drop_of("a", NOW - 10);
    let mut lines = Vec::new();
    let mut answer = |status: StatusCode, report: Report| {
        lines.push(counted(Source::Callback, status, &report));
        status
    };
    // the park fails: 503; the retry parks it; the 200 is lost, so Tencent retries again
    relay.mode().queue.set_failing(true);
    let (response, report) = relay.respond(post(&stop), NOW + 1).await;
    assert_eq!(
        answer(response.status(), report),
        StatusCode::SERVICE_UNAVAILABLE
    );
    relay.mode().queue.set_failing(false);
    for at in [NOW + 61, NOW + 121] {
        let (response, report) = relay.respond(post(&stop), at).await;
        assert_eq!(answer(response.status(), report), StatusCode::OK);
    }
    assert_eq!(total(&lines, "AbnormalStops/network"), 1);
    assert_eq!(total(&lines, "HoldsParked"), 1);
    assert_eq!(relay.mode().queue.parked().len(), 2, "two copies parked");
    // the same through a 409: the recovery of a drop still being announced
    let relay = relay_with_a_pending_announcement().await;
    let back = start("b", NOW + 100);
    let (first, report) = relay.respond(post(&back), NOW + 101).await;
    assert_eq!(first.status(), StatusCode::CONFLICT);
    let mut lines = vec![counted(Source::Callback, first.status(), &report)];
    let (second, report) = relay.respond(post(&back), NOW + 500).await;
    assert_eq!(second.status(), StatusCode::OK);
    lines.push(counted(Source::Callback, second.status(), &report));
    assert_eq!(total(&lines, "Recovered"), 1);
    assert_eq!(total(&lines, "Rejections/409"), 1);
}

/// A relay whose stream `a` dropped and whose announcement failed (SNS down as its hold
/// came due).
async fn relay_with_a_pending_announcement() -> FlakyRelay {
    let relay = relay();
    let message = dropped(&relay).await;
    relay.publisher().set_failing(true);
    assert!(hold(&relay, &message, NOW + 61).await.is_err());
    relay.publisher().set_failing(false);
    relay
}

/// Stream `a` live at `NOW`, dropped at `NOW + 1`, its hold lost (late, or never parked),
/// and the stream back at `NOW + 100`, past the drop's deadline: `b`'s start.
async fn back_past_the_deadline(relay: &FlakyRelay) -> (String, String) {
    let hold = dropped(relay).await;
    (hold, start("b", NOW + 95))
}

#[tokio::test]
async fn a_late_announcement_is_published_once_whatever_fails_after_it() {
    let lease = live_callback_relay::relay::announce::ANNOUNCEMENT_LEASE_SECS;
    for failing in [
        vec![Op::Complete],
        vec![Op::Mark],
        vec![Op::Complete, Op::Mark],
    ] {
        let relay = relay();
        let (hold_message, back) = back_past_the_deadline(&relay).await;
        relay.mode().log.fail(&failing);
        let first = send(&relay, &back, NOW + 100).await;
        relay.mode().log.fail(&[]);
        let handed_back = relay.mode().queue.take();
        for message in &handed_back {
            hold(&relay, message, NOW + 101).await.unwrap();
        }
        // Tencent retries (as if its answer was lost), past the claim's lease; the hold
        // turns up too
        assert_eq!(
            send(&relay, &back, NOW + 100 + lease + 60).await,
            StatusCode::OK
        );
        hold(&relay, &hold_message, NOW + 100 + lease + 61)
            .await
            .unwrap();
        let announced = relay
            .publisher()
            .events()
            .iter()
            .filter(|e| **e == Event::StoppedAbnormally)
            .count();
        assert_eq!(
            announced,
            1,
            "{failing:?}: first answered {first}, {:?}",
            relay.publisher().events()
        );
        let recorded = relay.mode().log.log.history(&stream_key()).unwrap();
        let drop_id = verified(&drop_of("a", NOW - 10)).get().event_id.clone();
        assert!(
            recorded.announced.contains(&drop_id),
            "{failing:?}: {:?}",
            recorded.announced
        );
        assert_eq!(
            handed_back.len(),
            usize::from(failing.len() == 2),
            "{failing:?}"
        );
    }
}

#[tokio::test]
async fn a_late_announcement_that_fails_is_made_by_the_drops_hold() {
    let relay = relay();
    let (hold_message, back) = back_past_the_deadline(&relay).await;
    relay.publisher().set_failing(true);
    assert_eq!(
        send(&relay, &back, NOW + 100).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // the hold arrives while SNS still fails: not acknowledged, SQS delivers it again
    assert!(hold(&relay, &hold_message, NOW + 101).await.is_err());
    relay.publisher().set_failing(false);
    hold(&relay, &hold_message, NOW + 191).await.unwrap();
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
    let announced: Value =
        serde_json::from_str(relay.publisher().published()[1].document()).unwrap();
    assert_eq!(
        announced["user_ip"], "1.1.1.1",
        "told with the whole stop the hold carries"
    );
    assert_eq!(announced["held_for_secs"], 99, "as the start decided it");
    // Tencent's retry of the start then tells the recovery, not the drop again
    assert_eq!(send(&relay, &back, NOW + 160).await, StatusCode::OK);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally, Event::Recovered]
    );
}

#[tokio::test]
async fn a_record_handed_back_that_the_table_refuses_again_is_left_to_sqs() {
    let relay = relay();
    let message = dropped(&relay).await;
    relay.mode().log.fail(&[Op::Complete, Op::Mark]);
    hold(&relay, &message, NOW + 61).await.unwrap();
    let record = relay.mode().queue.take().remove(0);
    let mut report = Report::default();
    let err = relay
        .on_hold(&record, NOW + 62, Deadline::unbounded(), &mut report)
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE, "{err}");
    assert!(
        relay.mode().queue.parked().is_empty(),
        "not handed back again"
    );
    relay.mode().log.fail(&[]);
    let mut report = Report::default();
    relay
        .on_hold(&record, NOW + 152, Deadline::unbounded(), &mut report)
        .await
        .unwrap();
    assert_eq!(report.outcome(), "recorded");
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
}

#[tokio::test]
async fn a_stop_answered_409_after_its_append_is_counted_once() {
    let relay = relay_with_a_pending_announcement().await;
    // a stop of a new push whose start was missed: it parks its own drop, then its recovery
    // of the first drop waits for that drop's announcement
    let next = signed(
        INTERRUPT,
        json!({"sequence": "b", "event_time": NOW + 100, "t": NOW + 700, "errcode": 13,
               "push_duration": "30000", "stream_param": push_url_params()}),
    );
    let mut lines = Vec::new();
    for (at, expected) in [
        (NOW + 101, StatusCode::CONFLICT),
        (NOW + 500, StatusCode::OK),
    ] {
        let (response, report) = relay.respond(post(&next), at).await;
        assert_eq!(response.status(), expected);
        lines.push(counted(Source::Callback, response.status(), &report));
    }
    assert_eq!(total(&lines, "AbnormalStops/network"), 1);
    assert_eq!(total(&lines, "HoldsParked"), 1);
    assert_eq!(total(&lines, "Rejections/409"), 1);
}

/// Publishes after letting every other task run, so that two holds handled at once
/// interleave.
#[derive(Default)]
struct Yielding(RecordingPublisher);

impl live_callback_relay::ports::publish::Publisher for Yielding {
    async fn publish(
        &self,
        notification: &live_callback_relay::outbound::notification::Notification,
    ) -> Result<String, live_callback_relay::ports::publish::PublishError> {
        tokio::task::yield_now().await;
        self.0.publish(notification).await
    }
}

#[tokio::test]
async fn two_copies_handled_at_once_publish_once_and_the_second_is_a_409() {
    let relay = Relay::new(&config(Some(EVERY_EVENT)), Yielding::default())
        .with_mode(memory_window(WINDOW));
    relay.handle(post(&start("a", NOW - 100)), NOW).await;
    let stop = drop_of("a", NOW - 10);
    relay.handle(post(&stop), NOW + 1).await;
    relay.handle(post(&stop), NOW + 2).await;
    let copies = relay.mode().queue.take();
    let (mut first, mut second) = (Report::default(), Report::default());
    let (a, b) = tokio::join!(
        relay.on_hold(&copies[0], NOW + 61, Deadline::unbounded(), &mut first),
        relay.on_hold(&copies[1], NOW + 61, Deadline::unbounded(), &mut second)
    );
    let statuses: Vec<StatusCode> = [&a, &b]
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.status(), |()| StatusCode::OK))
        .collect();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    let lines = [
        counted(
            Source::Hold {
                last_receive: false,
            },
            statuses[0],
            &first,
        ),
        counted(
            Source::Hold {
                last_receive: false,
            },
            statuses[1],
            &second,
        ),
    ];
    assert_eq!(total(&lines, "Rejections/503"), 0);
    assert_eq!(total(&lines, "PublishFailures"), 0);
    assert_eq!(total(&lines, "StoppedAbnormally"), 1);
}

async fn sweep(relay: &FlakyRelay, at: u64) -> Report {
    let mut report = Report::default();
    relay.on_sweep(at, &mut report).await.unwrap();
    report
}

#[tokio::test]
async fn the_sweep_parks_a_hold_tencent_gave_up_on_and_its_drop_is_announced() {
    let relay = relay();
    tencent_gives_up_on_a_drop(&relay).await;
    let held = relay
        .mode()
        .log
        .log
        .history(&stream_key())
        .unwrap()
        .unparked;
    assert_eq!(held.len(), 1, "the hold is kept for the sweep");
    assert!(
        !held.values().any(|m| m.contains(TX_SECRET)),
        "sealed, masked"
    );
    let sweep_after = live_callback_relay::config::DEFAULT_SWEEP_AFTER_SECS;
    // Tencent's retries may still park it: the sweep waits them out
    assert_eq!(sweep(&relay, NOW + sweep_after).await.swept, 0);
    let report = sweep(&relay, NOW + 1 + sweep_after).await;
    assert_eq!(
        (report.swept, report.sweep_outcome_at(StatusCode::OK)),
        (1, "swept")
    );
    let parked = relay.mode().queue.take();
    assert_eq!(relay.mode().queue.parked().len(), 0);
    assert_eq!(parked.len(), 1);
    assert_eq!(
        sweep(&relay, NOW + 2 + sweep_after).await.swept,
        0,
        "taken out once parked"
    );
    // the stream never came back: its hold, due long ago, announces the drop, late
    hold(&relay, &parked[0], NOW + 2 + sweep_after)
        .await
        .unwrap();
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
    let announced: Value =
        serde_json::from_str(relay.publisher().published()[1].document()).unwrap();
    assert_eq!(announced["held_for_secs"], 1 + sweep_after);
}

#[tokio::test]
async fn a_hold_parked_by_tencents_retry_is_not_swept() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    relay.mode().queue.set_failing(true);
    send(&relay, &drop_of("a", NOW - 10), NOW + 1).await;
    relay.mode().queue.set_failing(false);
    assert_eq!(
        send(&relay, &drop_of("a", NOW - 10), NOW + 61).await,
        StatusCode::OK
    );
    assert_eq!(relay.mode().queue.take().len(), 1);
    let mut report = Report::default();
    relay.on_sweep(NOW + 100_000, &mut report).await.unwrap();
    assert_eq!(
        (report.swept, report.sweep_outcome_at(StatusCode::OK)),
        (0, "nothing")
    );
    assert!(relay.mode().queue.parked().is_empty());
}

#[tokio::test]
async fn a_sweep_that_cannot_park_or_read_leaves_the_holds_to_the_next_one() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    relay.mode().queue.set_failing(true);
    send(&relay, &drop_of("a", NOW - 10), NOW + 1).await;
    let later = NOW + 100_000;
    let mut report = Report::default();
    relay.on_sweep(later, &mut report).await.unwrap();
    assert_eq!((report.swept, report.sweep_failures), (0, 1));
    assert_eq!(report.sweep_outcome_at(StatusCode::OK), "incomplete");
    relay.mode().queue.set_failing(false);
    relay.mode().log.fail(&[Op::Unparked]);
    assert!(relay.on_sweep(later, &mut Report::default()).await.is_err());
    relay.mode().log.fail(&[]);
    let mut report = Report::default();
    relay.on_sweep(later, &mut report).await.unwrap();
    assert_eq!(report.swept, 1);
}
