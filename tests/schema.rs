//! The schemas in `schema/` describe what the relay writes, and refuse what it never
//! writes: every document it publishes (each notice, of the seed's callbacks and of the
//! largest and strangest ones) under `notification.schema.json`, every chat message under
//! the custom-notification schema, every metric line under EMF's; validated by
//! `jsonschema` (the validator `make verify` uses on a deployed stack).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::extremes::{FILLERS, largest, notices};
use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::inbound::callback::Callback;
use live_callback_relay::inbound::signature::Authentic;
use live_callback_relay::meaning::classify::{Event, PushEvent, Reason};
use live_callback_relay::meaning::stream_state::{DropFacts, Notice};
use live_callback_relay::outbound::notification::Notification;
use live_callback_relay::relay::metrics::{Source, emf_line};
use live_callback_relay::relay::report::Report;
use live_callback_relay::relay::windowed::overdue_stop;
use serde_json::{Value, json};

fn every_notice() -> Vec<Notice> {
    let drop = DropFacts {
        id: "2400-stop-0123456789abcdef".into(),
        sequence: "2400".into(),
        at: NOW,
        reason: Reason::Network,
        errcode: 3,
        started_at: NOW - 60,
        held_at: NOW,
        deadline: NOW + 60,
    };
    let mut all = notices();
    all.extend([
        Notice::Started,
        Notice::Stopped,
        Notice::Resumed {
            drop: drop.clone(),
            gap_secs: None,
            implicit: false,
        },
        Notice::Recovered {
            drop,
            downtime_secs: None,
            implicit: false,
        },
    ]);
    all
}

const NOTIFICATION: &str = "notification.schema.json";
const CHAT: &str = "chat-notification.schema.json";
const EMF: &str = "emf.schema.json";

/// Whether the relay makes `notice` of `callback`: drops and stops of stops, a start of a
/// start, a resumption or recovery of either.
fn made_of(notice: &Notice, callback: &Authentic<Callback>) -> bool {
    let start = callback.get().push == PushEvent::Started;
    match notice {
        Notice::Started => start,
        Notice::Stopped | Notice::Dropped | Notice::Announced { .. } | Notice::Overdue { .. } => {
            !start
        }
        Notice::Resumed { .. } | Notice::Recovered { .. } => true,
    }
}

/// What `render` makes of every notice of the seed's callbacks and the largest ones.
fn rendered(render: fn(&Authentic<Callback>, &Notice) -> Notification) -> Vec<Value> {
    let mut bodies = vec![
        signed(START, json!({})),
        signed(INTERRUPT, json!({})),
        signed(INTERRUPT, json!({"errcode": 0, "errmsg": ""})),
        signed(
            START,
            json!({"stream_param": push_url_params(), "sequence": "a.b:c-d_e"}),
        ),
    ];
    bodies.extend(FILLERS.iter().map(|filler| largest(filler)));
    let mut callbacks: Vec<Authentic<Callback>> =
        bodies.iter().map(|body| verified(body)).collect();
    // what a late announcement knows of its stop: the history's facts
    let overdue = every_notice().into_iter().find_map(|notice| match notice {
        Notice::Overdue { drop, .. } => Some(drop),
        _ => None,
    });
    callbacks.extend(
        callbacks
            .clone()
            .iter()
            .filter(|cb| cb.get().push == PushEvent::Started)
            .map(|cb| overdue_stop(cb, overdue.as_ref().expect("an overdue notice"))),
    );
    callbacks
        .iter()
        .flat_map(|callback| {
            every_notice()
                .into_iter()
                .filter(|notice| made_of(notice, callback))
                .map(|notice| serde_json::from_str(render(callback, &notice).document()).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// Each document's errors under `schema` (in `schema/`), `[]` for a valid one: one list
/// per document, in order.
fn errors_of(schema: &str, documents: &[Value]) -> Vec<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = "import json, sys, jsonschema\n\
        validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))\n\
        print(json.dumps([[e.message for e in validator.iter_errors(d)] for d in json.load(sys.stdin)]))";
    let mut python = Command::new(root.join(".venv/bin/python"))
        .args(["-c", script])
        .arg(root.join("schema").join(schema))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the project's virtualenv: run `make venv`");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(documents).unwrap())
        .unwrap();
    let output = python.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let errors: Vec<Vec<String>> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(errors.len(), documents.len(), "one answer per document");
    errors
}

#[test]
#[ignore = "needs the project's virtualenv: make e2e"]
fn every_document_the_relay_publishes_is_valid_against_the_schema() {
    let documents = rendered(Notification::new);
    let errors = errors_of(NOTIFICATION, &documents);
    let invalid: Vec<_> = documents
        .iter()
        .zip(&errors)
        .filter(|(_, e)| !e.is_empty())
        .collect();
    assert!(
        invalid.is_empty(),
        "{} of {} invalid: {invalid:#?}",
        invalid.len(),
        documents.len()
    );
    let events: std::collections::BTreeSet<_> = documents
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(events.len(), 5, "{events:?}");
}

#[test]
#[ignore = "needs the project's virtualenv: make e2e"]
fn the_schema_refuses_what_the_relay_never_publishes() {
    let valid =
        serde_json::from_str::<Value>(notification_of(&signed(INTERRUPT, json!({}))).document())
            .unwrap();
    let broken: Vec<Value> = [
        ("stream_id", json!("")),
        ("version", json!(1)),
        ("event", json!("stream.paused")),
        ("event_id", json!("2400-stop-NOTHEX")),
        ("reason", json!(null)),
        ("event_time", json!("2023-12-28 10:48:20")),
        ("drop", json!({"event_id": "x"})),
        ("sign", json!("0123")),
    ]
    .into_iter()
    .map(|(field, value)| {
        let mut document = valid.clone();
        document[field] = value;
        document
    })
    .chain([{
        let mut document = valid.clone();
        document.as_object_mut().unwrap().remove("errcode");
        document
    }])
    .collect();
    let errors = errors_of(NOTIFICATION, &[vec![valid], broken.clone()].concat());
    assert_eq!(errors[0], Vec::<String>::new());
    for (document, errors) in broken.iter().zip(&errors[1..]) {
        assert!(!errors.is_empty(), "accepted: {document}");
    }
}

#[test]
#[ignore = "needs the project's virtualenv: make e2e"]
fn every_chat_message_is_a_valid_custom_notification() {
    let messages = rendered(Notification::chat);
    let errors = errors_of(CHAT, &messages);
    let invalid: Vec<_> = messages
        .iter()
        .zip(&errors)
        .filter(|(_, e)| !e.is_empty())
        .collect();
    assert!(invalid.is_empty(), "{invalid:#?}");
    let mut broken = messages[0].clone();
    broken["content"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    let mut plain = messages[0].clone();
    plain["source"] = json!("aws.cloudwatch");
    assert!(
        errors_of(CHAT, &[broken, plain])
            .iter()
            .all(|e| !e.is_empty())
    );
}

#[test]
#[ignore = "needs the project's virtualenv: make e2e"]
fn every_metric_line_is_valid_emf() {
    let published = Report {
        event: Some(Event::Started),
        told: vec![(Event::Started, "m".into())],
        publish_ms: vec![12.5],
        chat_posted: 1,
        ..Report::default()
    };
    let held = Report {
        event: Some(Event::StoppedAbnormally),
        reason: Some(Reason::Network),
        held_until: Some(NOW + 60),
        ..Report::default()
    };
    let failed = Report {
        publish_failures: 1,
        publish_ms: vec![7_000.0],
        chat_failures: 1,
        ..Report::default()
    };
    let lines: Vec<Value> = [
        (Source::Callback, StatusCode::OK, &published),
        (Source::Callback, StatusCode::OK, &held),
        (
            Source::Callback,
            StatusCode::UNAUTHORIZED,
            &Report::default(),
        ),
        (Source::Callback, StatusCode::SERVICE_UNAVAILABLE, &failed),
        (
            Source::Hold { last_receive: true },
            StatusCode::SERVICE_UNAVAILABLE,
            &failed,
        ),
        (
            Source::Hold {
                last_receive: false,
            },
            StatusCode::OK,
            &published,
        ),
    ]
    .into_iter()
    .map(|(source, status, report)| {
        serde_json::from_str(&emf_line(
            "LiveCallbackRelay/test",
            NOW * 1000,
            source,
            status,
            report,
        ))
        .unwrap()
    })
    .collect();
    let errors = errors_of(EMF, &lines);
    assert!(errors.iter().all(Vec::is_empty), "{errors:?} in {lines:#?}");
    let mut untimed = lines[0].clone();
    untimed["_aws"].as_object_mut().unwrap().remove("Timestamp");
    let mut unknown_unit = lines[0].clone();
    unknown_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Callbacks");
    assert!(
        errors_of(EMF, &[untimed, unknown_unit])
            .iter()
            .all(|e| !e.is_empty())
    );
}
