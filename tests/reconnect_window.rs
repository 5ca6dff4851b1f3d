//! The reconnect window through the handler and the hold consumer, with the in-memory
//! stream log, hold queue and publisher: blips resumed and never announced, drops
//! announced when their hold comes due and recovered later, and every failure answered
//! so that nothing is lost.

mod common;

use common::unreachable::Unreachable;
use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::inbound::signature::Verifier;
use live_callback_relay::meaning::classify::Event;
use live_callback_relay::meaning::stream_state::Input;
use live_callback_relay::outbound::notification::Notification;
use live_callback_relay::ports::hold_queue::{MemoryHoldQueue, Message};
use live_callback_relay::ports::publish::{PublishError, Publisher};
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::ports::stream_log::{MemoryStreamLog, StreamKey};
use live_callback_relay::relay::Deadline;
use live_callback_relay::relay::report::Report;
use live_callback_relay::relay::windowed::{RECOVERY_WAIT_SECS, TENCENT_RETRY_SECS, Windowed};
use serde_json::{Value, json};

const WINDOW: u64 = 60;

type WindowedRelay = Relay<RecordingPublisher, Windowed<MemoryStreamLog, MemoryHoldQueue>>;

fn relay() -> WindowedRelay {
    Relay::new(
        &config(Some(
            "stream.started,stream.stopped,stream.stopped_abnormally,stream.resumed,stream.recovered",
        )),
        RecordingPublisher::new(),
    )
    .with_mode(memory_window(WINDOW))
}

fn start(sequence: &str, event_time: u64) -> String {
    signed(
        START,
        json!({"sequence": sequence, "event_time": event_time}),
    )
}

fn drop_of(sequence: &str, event_time: u64, errcode: i64) -> String {
    signed(
        INTERRUPT,
        json!({"sequence": sequence, "event_time": event_time, "errcode": errcode}),
    )
}

async fn send(relay: &WindowedRelay, body: &str, at: u64) -> StatusCode {
    relay.handle(post(body), at).await.status()
}

/// Brings `message` back at `at`, as the event source mapping would.
async fn expire_message(relay: &WindowedRelay, message: &str, at: u64) -> Result<(), String> {
    relay
        .on_hold(message, at, Deadline::unbounded(), &mut Report::default())
        .await
        .map_err(|e| e.to_string())
}

/// Brings every parked hold back at `at`, as the event source mapping would.
async fn expire(relay: &WindowedRelay, at: u64) -> Vec<Result<(), String>> {
    let mut results = Vec::new();
    for hold in relay.mode().queue.take() {
        let mut report = Report::default();
        results.push(
            relay
                .on_hold(&hold, at, Deadline::unbounded(), &mut report)
                .await
                .map_err(|e| e.to_string()),
        );
    }
    results
}

fn document(relay: &WindowedRelay, n: usize) -> Value {
    let message: Value = serde_json::from_str(&relay.publisher().published()[n].message).unwrap();
    serde_json::from_str(message["default"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_blip_within_the_window_is_told_as_resumed_and_never_as_a_drop() {
    let relay = relay();
    assert_eq!(
        send(&relay, &start("a", NOW - 100), NOW).await,
        StatusCode::OK
    );
    assert_eq!(
        send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await,
        StatusCode::OK
    );
    let parked = relay.mode().queue.parked();
    assert_eq!(parked.len(), 1);
    let hold = hold_in(&parked[0].0);
    assert_eq!(
        (hold.deadline, parked[0].1, hold.published),
        (NOW + 1 + WINDOW, WINDOW, false)
    );
    assert_eq!(
        hold.stop,
        verified(&drop_of("a", NOW - 10, 13)).get().clone()
    );
    assert_eq!(
        send(&relay, &start("b", NOW - 6), NOW + 5).await,
        StatusCode::OK
    );
    assert_eq!(expire(&relay, NOW + 1 + WINDOW).await, [Ok(())]);
    assert_eq!(relay.publisher().events(), [Event::Started, Event::Resumed]);
    let resumed = document(&relay, 1);
    assert_eq!(resumed["gap_secs"], 4);
    assert_eq!(resumed["reason"], "network");
    assert_eq!(resumed["shown_by"], "start");
    assert_eq!(resumed["drop"]["errcode"], 13);
    assert!(
        resumed["event_id"]
            .as_str()
            .unwrap()
            .starts_with("b-start-")
    );
    assert_eq!(
        resumed["event_id"],
        verified(&start("b", NOW - 6)).get().event_id
    );
    assert!(
        resumed["drop"]["event_id"]
            .as_str()
            .unwrap()
            .starts_with("a-stop-")
    );
    assert_eq!(
        resumed["drop"]["event_id"],
        verified(&drop_of("a", NOW - 10, 13)).get().event_id
    );
}

#[tokio::test]
async fn a_drop_past_the_window_is_announced_then_recovered() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10, 8), NOW + 1).await;
    assert_eq!(expire(&relay, NOW + 61).await, [Ok(())]);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
    let announced = document(&relay, 1);
    assert_eq!(announced["held_for_secs"], 60);
    assert_eq!(announced["reason"], "no_data");
    assert!(
        announced["event_id"]
            .as_str()
            .unwrap()
            .starts_with("a-stop-")
    );
    assert_eq!(
        announced["event_id"],
        verified(&drop_of("a", NOW - 10, 8)).get().event_id
    );
    let message: Value = serde_json::from_str(&relay.publisher().published()[1].message).unwrap();
    assert!(
        message["email"]
            .as_str()
            .unwrap()
            .contains("did not come back within 1 min 00 s")
    );

    send(&relay, &start("b", NOW + 290), NOW + 300).await;
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally, Event::Recovered]
    );
    let recovered = document(&relay, 2);
    assert_eq!(recovered["downtime_secs"], 300);
    assert_eq!(recovered["drop"]["event_id"], announced["event_id"]);
}

#[tokio::test]
async fn a_hold_that_comes_back_early_is_parked_for_the_rest_of_the_window() {
    let relay =
        Relay::new(&config(None), RecordingPublisher::new()).with_mode(memory_window(1_800));
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10, 13), NOW).await;
    assert_eq!(relay.mode().queue.parked()[0].1, 900);
    let first = relay.mode().queue.take();
    let mut report = Report::default();
    relay
        .on_hold(&first[0], NOW + 900, Deadline::unbounded(), &mut report)
        .await
        .unwrap();
    assert_eq!(report.held_until, Some(NOW + 1_800));
    let again = relay.mode().queue.parked();
    assert_eq!((again.len(), again[0].1), (1, 900));
    assert_eq!(relay.publisher().events(), [Event::Started]);
}

#[tokio::test]
async fn a_stream_that_flaps_pages_for_nothing() {
    let relay = relay();
    for n in 0..20u64 {
        let at = NOW + n * 20;
        let sequence = format!("p{n}");
        assert_eq!(
            send(&relay, &start(&sequence, at - 200), at).await,
            StatusCode::OK
        );
        assert_eq!(
            send(&relay, &drop_of(&sequence, at - 190, 14), at + 10).await,
            StatusCode::OK
        );
    }
    expire(&relay, NOW + 2_000).await;
    let events = relay.publisher().events();
    assert_eq!(events.iter().filter(|e| **e == Event::Resumed).count(), 19);
    assert_eq!(
        events
            .iter()
            .filter(|e| **e == Event::StoppedAbnormally)
            .count(),
        1,
        "only the last drop, which never came back"
    );
}

#[tokio::test]
async fn out_of_order_and_repeated_callbacks_have_their_defined_outcomes() {
    let relay = relay();
    // a start twice: told once
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &start("a", NOW - 100), NOW + 60).await;
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::Started],
        "the retry is told again: the first answer did not reach Tencent"
    );
    // the next push starts, then the retried stop of the first arrives: stale
    send(&relay, &start("b", NOW + 100), NOW + 110).await;
    send(&relay, &drop_of("a", NOW + 50, 13), NOW + 120).await;
    assert!(relay.mode().queue.parked().is_empty());
    // a stop of an older push nobody saw: stale
    send(&relay, &drop_of("old", NOW - 500, 13), NOW + 130).await;
    assert!(relay.mode().queue.parked().is_empty());
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::Started, Event::Started]
    );
}

/// A relay whose stream `a` dropped at `NOW + 1`, when the hold queue failed: answered 503.
async fn a_drop_not_parked() -> WindowedRelay {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    relay.mode().queue.set_failing(true);
    assert_eq!(
        send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    relay.mode().queue.set_failing(false);
    relay
}

#[tokio::test]
async fn a_stop_whose_park_failed_is_parked_when_tencent_retries() {
    let relay = a_drop_not_parked().await;
    assert_eq!(
        send(&relay, &drop_of("a", NOW - 10, 13), NOW + 61).await,
        StatusCode::OK
    );
    let parked = relay.mode().queue.parked();
    assert_eq!(parked.len(), 1);
    assert_eq!(
        (hold_in(&parked[0].0).deadline, parked[0].1),
        (NOW + 61, 0),
        "held from the stop's first arrival: due at once"
    );
}

#[tokio::test]
async fn a_retry_signed_anew_parks_a_hold_that_verifies_when_it_comes_due() {
    let relay = a_drop_not_parked().await;
    // the same stop six minutes later, with a fresh t: the same event
    let resigned = signed(
        INTERRUPT,
        json!({"sequence": "a", "event_time": NOW - 10, "errcode": 13, "t": NOW + 360 + 600}),
    );
    assert_eq!(send(&relay, &resigned, NOW + 360).await, StatusCode::OK);
    assert_eq!(expire(&relay, NOW + 361).await, [Ok(())]);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
}

#[tokio::test]
async fn a_stop_retried_after_its_hold_was_parked_parks_a_copy_announced_once() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    // the 200 of the first attempt did not reach Tencent
    send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await;
    send(&relay, &drop_of("a", NOW - 10, 13), NOW + 30).await;
    let parked = relay.mode().queue.parked();
    assert_eq!(parked.len(), 2);
    assert_eq!(
        (
            hold_in(&parked[0].0).deadline,
            hold_in(&parked[1].0).deadline
        ),
        (NOW + 61, NOW + 61)
    );
    assert_eq!(expire(&relay, NOW + 61).await, [Ok(()), Ok(())]);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
}

/// Publishes after letting every other task run: two holds handled at once interleave.
#[derive(Default)]
struct Yielding(RecordingPublisher);

impl Publisher for Yielding {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        tokio::task::yield_now().await;
        self.0.publish(notification).await
    }
}

#[tokio::test]
async fn two_copies_of_a_hold_handled_at_once_announce_it_once() {
    let relay = Relay::new(&config(None), Yielding::default()).with_mode(memory_window(WINDOW));
    relay.handle(post(&start("a", NOW - 100)), NOW).await;
    let stop = drop_of("a", NOW - 10, 13);
    relay.handle(post(&stop), NOW + 1).await;
    relay.handle(post(&stop), NOW + 2).await;
    let copies: Vec<String> = relay.mode().queue.take();
    assert_eq!(copies.len(), 2);
    let (mut first, mut second) = (Report::default(), Report::default());
    let (a, b) = tokio::join!(
        relay.on_hold(&copies[0], NOW + 61, Deadline::unbounded(), &mut first),
        relay.on_hold(&copies[1], NOW + 61, Deadline::unbounded(), &mut second)
    );
    let told = [Event::Started, Event::StoppedAbnormally];
    assert_eq!(relay.publisher().0.events(), told);
    // the copy that found the announcement under way is delivered again by SQS, and then
    // finds it done
    let again = [a, b].into_iter().position(|r| r.is_err());
    if let Some(n) = again {
        relay
            .on_hold(
                &copies[n],
                NOW + 61 + 90,
                Deadline::unbounded(),
                &mut Report::default(),
            )
            .await
            .expect("done");
    }
    assert_eq!(relay.publisher().0.events(), told);
}

fn drop_lasting(sequence: &str, event_time: u64, secs: u64) -> String {
    signed(
        INTERRUPT,
        json!({"sequence": sequence, "event_time": event_time, "errcode": 13, "push_duration": (secs * 1_000).to_string()}),
    )
}

#[tokio::test]
async fn a_drop_noticed_after_the_pusher_reconnected_is_not_told() {
    let relay = relay();
    // a's start was never seen; the pusher reconnected as b before Tencent noticed
    send(&relay, &start("b", NOW - 5), NOW).await;
    assert_eq!(
        send(&relay, &drop_lasting("a", NOW - 2, 100), NOW + 1).await,
        StatusCode::OK
    );
    assert!(relay.mode().queue.parked().is_empty(), "b is live");
    // b's own drop later is held
    send(&relay, &drop_lasting("b", NOW + 100, 105), NOW + 101).await;
    assert_eq!(relay.mode().queue.parked().len(), 1);
    assert_eq!(expire(&relay, NOW + 161).await, [Ok(())]);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
    assert_eq!(document(&relay, 1)["sequence"], "b");
}

/// A stream flapping: `n` pushes that start and drop within the window, from `at`.
async fn flap(relay: &WindowedRelay, n: u64, at: u64) {
    for k in 0..n {
        let sequence = format!("c{k}");
        let t = at + k * 5;
        send(relay, &start(&sequence, t), t).await;
        send(relay, &drop_lasting(&sequence, t + 2, 2), t + 2).await;
    }
    relay.mode().queue.take();
}

fn about(relay: &WindowedRelay, stop_id_part: &str) -> Vec<Event> {
    relay
        .publisher()
        .published()
        .iter()
        .filter(|n| n.document().contains(stop_id_part))
        .map(|n| n.event)
        .collect()
}

#[tokio::test]
async fn a_start_retried_after_a_long_history_was_compacted_still_resumes_the_drop() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await;
    relay.mode().queue.take();
    relay.publisher().set_failing(true);
    let b = start("b", NOW - 5);
    assert_eq!(
        send(&relay, &b, NOW + 5).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    relay.publisher().set_failing(false);
    flap(&relay, 11, NOW + 10).await;
    assert!(about(&relay, "\"a-stop-").is_empty());
    assert_eq!(
        send(&relay, &b, NOW + 65).await,
        StatusCode::OK,
        "Tencent's retry"
    );
    assert_eq!(about(&relay, "\"a-stop-"), [Event::Resumed]);
}

/// A relay whose stream `a` dropped at `dropped_at` and whose hold came due at `NOW + 61`
/// while SNS failed; and the hold, which SQS delivers again.
async fn an_announcement_failed(dropped_at: u64) -> (WindowedRelay, String) {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", dropped_at, 13), NOW + 1).await;
    let hold = relay.mode().queue.take().remove(0);
    relay.publisher().set_failing(true);
    let handled = relay
        .on_hold(
            &hold,
            NOW + 61,
            Deadline::unbounded(),
            &mut Report::default(),
        )
        .await;
    assert!(handled.is_err());
    relay.publisher().set_failing(false);
    (relay, hold)
}

#[tokio::test]
async fn a_failed_announcement_is_made_before_its_recovery_even_after_compaction() {
    let (relay, hold) = an_announcement_failed(NOW - 10).await;
    // the stream comes back: its recovery waits for the announcement
    let b = start("b", NOW + 65);
    assert_eq!(send(&relay, &b, NOW + 70).await, StatusCode::CONFLICT);
    flap(&relay, 11, NOW + 75).await;
    // SQS delivers the hold again after its visibility timeout, then Tencent the start
    relay
        .on_hold(
            &hold,
            NOW + 151,
            Deadline::unbounded(),
            &mut Report::default(),
        )
        .await
        .expect("announced");
    assert_eq!(send(&relay, &b, NOW + 160).await, StatusCode::OK);
    assert_eq!(
        about(&relay, "\"a-stop-"),
        [Event::StoppedAbnormally, Event::Recovered]
    );
}

#[tokio::test]
async fn a_recovery_waits_from_its_drops_deadline_even_for_a_stop_accepted_long_after_its_event() {
    // Tencent's event time says the stream dropped ten minutes before the stop arrived
    let (relay, hold) = an_announcement_failed(NOW - 600).await;
    let b = start("b", NOW + 120);
    assert_eq!(
        send(&relay, &b, NOW + 121).await,
        StatusCode::CONFLICT,
        "the announcement, due a minute ago, is still to come"
    );
    expire_message(&relay, &hold, NOW + 151).await.unwrap();
    assert_eq!(send(&relay, &b, NOW + 181).await, StatusCode::OK);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally, Event::Recovered]
    );
}

#[tokio::test]
async fn a_recovery_waits_for_its_announcement_a_few_minutes_then_is_told_anyway() {
    let (relay, hold) = an_announcement_failed(NOW).await;
    // the hold is on its way to the dead-letter queue (SNS down), the stream comes back
    let b = start("b", NOW + 120);
    assert_eq!(
        send(&relay, &b, NOW + 121).await,
        StatusCode::CONFLICT,
        "waits"
    );
    // the drop's deadline: its arrival (NOW + 1) and the window
    let deadline = NOW + 1 + WINDOW;
    assert_eq!(
        send(&relay, &b, deadline + RECOVERY_WAIT_SECS - 1).await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        send(&relay, &b, deadline + RECOVERY_WAIT_SECS).await,
        StatusCode::OK,
        "told anyway"
    );
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::Recovered]
    );
    // redriven from the dead-letter queue, the drop is announced, late
    relay
        .on_hold(
            &hold,
            NOW + 3_600,
            Deadline::unbounded(),
            &mut Report::default(),
        )
        .await
        .expect("announced");
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::Recovered, Event::StoppedAbnormally]
    );
}

#[tokio::test]
async fn a_flapping_stream_remembers_only_the_announcements_it_still_needs() {
    let relay = relay();
    for k in 0..40u64 {
        let sequence = format!("p{k}");
        let t = NOW + k * 100;
        let fresh = |body: String| signed(&body, json!({"t": t + 600}));
        assert_eq!(
            send(&relay, &fresh(start(&sequence, t)), t).await,
            StatusCode::OK
        );
        let dropped = fresh(drop_lasting(&sequence, t + 1, 1));
        assert_eq!(send(&relay, &dropped, t + 1).await, StatusCode::OK);
        assert_eq!(expire(&relay, t + 61).await, [Ok(())]);
    }
    let key = StreamKey {
        app: "test.domain.com".into(),
        appname: "live".into(),
        stream_id: "test_stream".into(),
    };
    let history = relay.mode().log.history(&key).unwrap();
    // three inputs a push, a push every 100 s: what Tencent may still retry, and no more
    let retryable = 3 * (TENCENT_RETRY_SECS / 100 + 2) as usize;
    assert!(
        history.entries.len() <= retryable,
        "{}",
        history.entries.len()
    );
    let expiries = history
        .entries
        .iter()
        .filter(|e| matches!(e.input, Input::Expire { .. }))
        .count();
    assert!(
        history.announced.len() <= expiries + 1,
        "{:?}",
        history.announced
    );
    assert_eq!(
        relay
            .publisher()
            .events()
            .iter()
            .filter(|e| **e == Event::StoppedAbnormally)
            .count(),
        40
    );
    assert_eq!(
        relay
            .publisher()
            .events()
            .iter()
            .filter(|e| **e == Event::Recovered)
            .count(),
        39
    );
}

#[tokio::test]
async fn sns_down_when_a_hold_comes_due_is_retried_and_announced_once() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await;
    let hold = relay.mode().queue.take().remove(0);
    relay.publisher().set_failing(true);
    let mut report = Report::default();
    assert!(
        relay
            .on_hold(&hold, NOW + 61, Deadline::unbounded(), &mut report)
            .await
            .is_err()
    );
    relay.publisher().set_failing(false);
    for at in [NOW + 151, NOW + 241] {
        let mut report = Report::default();
        relay
            .on_hold(&hold, at, Deadline::unbounded(), &mut report)
            .await
            .unwrap();
    }
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
    assert_eq!(
        document(&relay, 1)["held_for_secs"],
        60,
        "held until the expiry first came"
    );
}

#[tokio::test]
async fn a_publish_that_fails_is_answered_503_and_told_when_tencent_retries() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await;
    relay.publisher().set_failing(true);
    assert_eq!(
        send(&relay, &start("b", NOW - 5), NOW + 5).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    relay.publisher().set_failing(false);
    assert_eq!(
        send(&relay, &start("b", NOW - 5), NOW + 65).await,
        StatusCode::OK
    );
    assert_eq!(expire(&relay, NOW + 61).await, [Ok(())]);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::Resumed],
        "decided once, at first arrival"
    );
}

#[tokio::test]
async fn without_the_state_table_nothing_is_decided_and_tencent_retries() {
    let relay = Relay::new(&config(None), RecordingPublisher::new()).with_mode(Windowed {
        log: Unreachable,
        queue: MemoryHoldQueue::new(),
        window_secs: WINDOW,
        announcement_budget: announcement_budget(),
        sweep_after_secs: live_callback_relay::config::DEFAULT_SWEEP_AFTER_SECS,
    });
    let response = relay.handle(post(&start("a", NOW - 100)), NOW).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(
        body,
        json!({"code": 503, "message": "callback not recorded; retry later"})
    );
    assert!(relay.publisher().published().is_empty());
}

/// The message of `a`'s drop parked by a relay with the window.
async fn a_parked_drop() -> (WindowedRelay, String) {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await;
    let message = relay.mode().queue.take().remove(0);
    (relay, message)
}

#[tokio::test]
async fn holds_are_refused_by_a_relay_without_the_window() {
    let (_, message) = a_parked_drop().await;
    let relay = Relay::new(&config(None), RecordingPublisher::new());
    let mut report = Report::default();
    let err = relay
        .on_hold(&message, NOW + 61, Deadline::unbounded(), &mut report)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no reconnect window"), "{err}");
}

/// An earlier release's hold: the stop's body as it arrived.
fn unsealed(deadline: u64, body: &str) -> String {
    json!({"verified_at": NOW, "deadline": deadline, "body": body}).to_string()
}

#[tokio::test]
async fn a_tampered_forged_or_unreadable_hold_is_not_told() {
    let (relay, message) = a_parked_drop().await;
    let Message::Sealed { content, seal } = Message::read(&message).unwrap() else {
        panic!("{message}")
    };
    let other_key = Verifier::new(vec!["someone-elses-key".into()], 300, 600);
    let mut forged = hold_in(&message);
    forged.stop.stream_id = "another-stream".into();
    let bad_sign = drop_of("a", NOW - 10, 13).replace("\"sign\":\"", "\"sign\":\"0");
    for (case, bad) in [
        ("not JSON", "not json".to_string()),
        (
            "a later format",
            json!({"v": 3, "hold": content, "seal": seal}).to_string(),
        ),
        (
            "its content changed under its seal",
            Message::sealed(forged.content(), seal.clone()),
        ),
        (
            "sealed with another key",
            Message::sealed(
                forged.content(),
                other_key.seal(forged.content().as_bytes()),
            ),
        ),
        ("unsealed, with a sign of no key", unsealed(NOW, &bad_sign)),
        (
            "unsealed, its t expired",
            unsealed(NOW, &drop_of("a", NOW - 10, 13)),
        ),
    ] {
        let mut report = Report::default();
        let at = if case.ends_with("expired") {
            NOW + 10_000
        } else {
            NOW + 61
        };
        assert!(
            relay
                .on_hold(&bad, at, Deadline::unbounded(), &mut report)
                .await
                .is_err(),
            "{case}: {bad}"
        );
    }
    assert_eq!(relay.publisher().events(), [Event::Started]);
    // the genuine one is announced
    expire_message(&relay, &message, NOW + 61).await.unwrap();
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::StoppedAbnormally]
    );
}

#[tokio::test]
async fn a_conflicting_stop_for_a_held_push_is_told_at_once_and_the_held_drop_stays_held() {
    let relay = relay();
    send(&relay, &start("a", NOW - 100), NOW).await;
    send(&relay, &drop_of("a", NOW - 10, 13), NOW + 1).await;
    let forged = signed(
        INTERRUPT,
        json!({"sequence": "a", "event_time": NOW - 10, "errcode": 1, "errmsg": "forged"}),
    );
    assert_eq!(send(&relay, &forged, NOW + 2).await, StatusCode::OK);
    assert_eq!(expire(&relay, NOW + 61).await, [Ok(())]);
    assert_eq!(
        relay.publisher().events(),
        [Event::Started, Event::Stopped, Event::StoppedAbnormally],
        "the forged normal stop cannot cancel the genuine drop"
    );
}
