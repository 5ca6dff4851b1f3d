//! The chat topic: what is posted there (the events `CHAT_EVENTS` names, after the main
//! topic), how a failed post is answered (200: the main notification stands), and how it
//! reads (a drop, its announcement and its recovery in one thread; nothing a callback
//! says can format, link or mention in the channel).

mod common;

use std::collections::HashSet;

use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::meaning::classify::{Event, Reason};
use live_callback_relay::meaning::stream_state::{DropFacts, Notice};
use live_callback_relay::outbound::notification::{Notification, Structure};
use live_callback_relay::ports::publish::{PublishError, Publisher};
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::relay::windowed::overdue_stop;
use live_callback_relay::relay::{CHAT_BUDGET, Chat};
use serde_json::{Value, json};

fn relay(chat_events: &[Event]) -> Relay<RecordingPublisher> {
    Relay::new(&config(None), RecordingPublisher::new()).with_chat(Chat {
        publisher: RecordingPublisher::new(),
        events: chat_events.iter().copied().collect::<HashSet<_>>(),
    })
}

fn posted(relay: &Relay<RecordingPublisher>) -> Vec<Notification> {
    relay.chat().expect("chat").publisher.published()
}

fn message(notification: &Notification) -> Value {
    serde_json::from_str(&notification.message).expect("JSON")
}

#[tokio::test]
async fn only_the_chat_events_are_posted_after_the_main_topic() {
    let relay = relay(&[Event::StoppedAbnormally]);
    let start = post(&signed(START, json!({})));
    assert_eq!(relay.handle(start, NOW).await.status(), StatusCode::OK);
    assert!(posted(&relay).is_empty());
    let drop = post(&signed(INTERRUPT, json!({"errcode": 13})));
    assert_eq!(relay.handle(drop, NOW).await.status(), StatusCode::OK);
    let posted = posted(&relay);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].structure, Structure::Single);
    assert_eq!(posted[0].subject, "", "a chat message has no subject");
    assert_eq!(
        relay.publisher().published().len(),
        2,
        "the main topic has both"
    );
    let chat = message(&posted[0]);
    assert_eq!(
        (&chat["version"], &chat["source"]),
        (&json!("1.0"), &json!("custom"))
    );
    assert_eq!(chat["content"]["textType"], "client-markdown");
    assert_eq!(chat["metadata"]["eventType"], "stream.stopped_abnormally");
    assert_eq!(
        chat["content"]["keywords"],
        json!(["stream.stopped_abnormally", "network"])
    );
}

#[tokio::test]
async fn a_post_that_fails_costs_only_itself() {
    let relay = relay(&[Event::Started]);
    relay.chat().unwrap().publisher.set_failing(true);
    let (response, report) = relay.respond(post(&signed(START, json!({}))), NOW).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the main notification stands"
    );
    assert_eq!(relay.publisher().published().len(), 1);
    assert_eq!((report.chat_posted, report.chat_failures), (0, 1));
}

#[tokio::test]
async fn an_event_only_chat_wants_is_posted_without_the_main_topic() {
    let relay =
        Relay::new(&config(Some("stream.started")), RecordingPublisher::new()).with_chat(Chat {
            publisher: RecordingPublisher::new(),
            events: HashSet::from([Event::StoppedAbnormally]),
        });
    let drop = post(&signed(INTERRUPT, json!({"errcode": 13})));
    assert_eq!(relay.handle(drop, NOW).await.status(), StatusCode::OK);
    assert!(relay.publisher().published().is_empty());
    assert_eq!(posted(&relay).len(), 1);
}

#[test]
fn a_drop_its_announcement_and_its_recovery_share_a_thread() {
    let stop = verified(&signed(INTERRUPT, json!({"errcode": 13})));
    let start = verified(&signed(START, json!({"sequence": "2500"})));
    let drop = DropFacts {
        id: stop.get().event_id.clone(),
        sequence: stop.get().sequence.clone(),
        at: stop.get().event_time,
        reason: Reason::Network,
        errcode: 3,
        started_at: stop.get().event_time - 60,
        held_at: NOW,
        deadline: NOW + 60,
    };
    let thread = |callback, notice: &Notice| {
        message(&Notification::chat(callback, notice))["metadata"]["threadId"].clone()
    };
    let drop_thread = json!(stop.get().event_id);
    assert_eq!(
        thread(&stop, &Notice::Announced { held_for_secs: 60 }),
        drop_thread
    );
    assert_eq!(thread(&stop, &Notice::Dropped), drop_thread);
    let overdue = Notice::Overdue {
        drop: drop.clone(),
        held_for_secs: 3_600,
    };
    let late_stop = overdue_stop(&start, &drop);
    assert_eq!(thread(&late_stop, &overdue), drop_thread);
    for notice in [
        Notice::Recovered {
            drop: drop.clone(),
            downtime_secs: Some(300),
            implicit: false,
        },
        Notice::Resumed {
            drop,
            gap_secs: Some(4),
            implicit: false,
        },
    ] {
        assert_eq!(thread(&start, &notice), drop_thread, "{notice:?}");
    }
    assert_eq!(
        thread(&start, &Notice::Started),
        json!(start.get().event_id)
    );
    let recovered = message(&Notification::chat(
        &start,
        &Notice::Recovered {
            drop: DropFacts {
                id: "x".into(),
                sequence: "1".into(),
                at: NOW,
                reason: Reason::Network,
                errcode: 3,
                started_at: NOW - 60,
                held_at: NOW,
                deadline: NOW + 60,
            },
            downtime_secs: Some(300),
            implicit: false,
        },
    ));
    let description = recovered["content"]["description"].as_str().unwrap();
    assert!(description.contains("Down for 5 min"), "{description}");
    assert!(
        description.contains("Why: network (errcode 3)"),
        "{description}"
    );
}

#[test]
fn nothing_a_callback_says_formats_links_or_mentions_in_the_channel() {
    let hostile = "x`<!channel> *bold* [link](https://evil.example)\n@here\u{202e}";
    let callback = verified(&signed(
        INTERRUPT,
        json!({"errcode": 13, "stream_id": hostile, "app": "<@U123>", "appname": "`live`"}),
    ));
    let chat = message(&Notification::chat(&callback, &Notice::Dropped));
    let title = chat["content"]["title"].as_str().unwrap();
    let description = chat["content"]["description"].as_str().unwrap();
    for text in [title, description] {
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        assert!(!text.contains('\u{202e}'), "{text}");
        // every value sits inside a code span: backticks come in pairs, none from the callback
        assert_eq!(text.matches('`').count() % 2, 0, "{text}");
    }
    assert!(
        title.contains("`x'‹!channel› *bold* [link](https://evil.example)\u{fffd}@here\u{fffd}`"),
        "{title}"
    );
    assert!(
        !description.lines().any(|line| line.starts_with("@here")),
        "{description}"
    );
}

/// A publisher that never answers, when told to.
struct Unanswering(RecordingPublisher, bool);

impl Publisher for Unanswering {
    async fn publish(&self, notification: &Notification) -> Result<String, PublishError> {
        if self.1 {
            std::future::pending::<()>().await;
        }
        self.0.publish(notification).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_chat_topic_that_does_not_answer_costs_at_most_the_chat_budget() {
    let relay =
        Relay::new(&config(None), Unanswering(RecordingPublisher::new(), false)).with_chat(Chat {
            publisher: Unanswering(RecordingPublisher::new(), true),
            events: HashSet::from([Event::Started]),
        });
    let started = tokio::time::Instant::now();
    let (response, report) = relay.respond(post(&signed(START, json!({}))), NOW).await;
    assert!(started.elapsed() <= CHAT_BUDGET, "{:?}", started.elapsed());
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(relay.publisher().0.published().len(), 1);
    assert_eq!((report.chat_posted, report.chat_failures), (0, 1));
}
