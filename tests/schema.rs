//! `schema/notification.schema.json` describes every document the relay publishes: each
//! notice, of the seed's callbacks and of the largest and strangest ones, is valid against
//! it under `jsonschema` (the validator `make verify` uses on a deployed stack), and the
//! schema refuses documents that break it.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::extremes::{FILLERS, largest, notices};
use common::*;
use live_callback_relay::inbound::callback::Callback;
use live_callback_relay::inbound::signature::Authentic;
use live_callback_relay::meaning::classify::{PushEvent, Reason};
use live_callback_relay::meaning::stream_state::{DropFacts, Notice};
use live_callback_relay::outbound::notification::Notification;
use serde_json::{Value, json};

fn every_notice() -> Vec<Notice> {
    let drop = DropFacts {
        id: "2400-stop-0123456789abcdef".into(),
        sequence: "2400".into(),
        at: NOW,
        reason: Reason::Network,
        errcode: 3,
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

/// Whether the relay makes `notice` of `callback`: drops and stops of stops, a start of a
/// start, a resumption or recovery of either.
fn made_of(notice: &Notice, callback: &Authentic<Callback>) -> bool {
    let start = callback.get().push == PushEvent::Started;
    match notice {
        Notice::Started => start,
        Notice::Stopped | Notice::Dropped | Notice::Announced { .. } => !start,
        Notice::Resumed { .. } | Notice::Recovered { .. } => true,
    }
}

fn documents() -> Vec<Value> {
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
    bodies
        .iter()
        .flat_map(|body| {
            let callback = verified(body);
            every_notice()
                .into_iter()
                .filter(|notice| made_of(notice, &callback))
                .map(|notice| {
                    serde_json::from_str(Notification::new(&callback, &notice).document()).unwrap()
                })
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// Each document's errors under the schema, `[]` for a valid one.
fn errors_of(documents: &[Value]) -> Vec<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = "import json, sys, jsonschema\n\
        validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))\n\
        print(json.dumps([[e.message for e in validator.iter_errors(d)] for d in json.load(sys.stdin)]))";
    let mut python = Command::new(root.join(".venv/bin/python"))
        .args(["-c", script])
        .arg(root.join("schema/notification.schema.json"))
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
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
#[ignore = "needs the project's virtualenv: make e2e"]
fn every_document_the_relay_publishes_is_valid_against_the_schema() {
    let documents = documents();
    let errors = errors_of(&documents);
    assert_eq!(errors.len(), documents.len());
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
    let errors = errors_of(&[vec![valid], broken.clone()].concat());
    assert_eq!(errors[0], Vec::<String>::new());
    for (document, errors) in broken.iter().zip(&errors[1..]) {
        assert!(!errors.is_empty(), "accepted: {document}");
    }
}
