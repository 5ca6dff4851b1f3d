//! Every line is valid EMF (the specification's rules, beyond what its JSON schema can
//! say: every dimension and metric named is a member of the root, of the right type) and
//! carries the right values for each outcome.

use super::*;
use crate::meaning::classify::Reason;
use crate::meaning::stream_state::Outcome;
use serde_json::{Value, json};

const NAMESPACE: &str = "LiveCallbackRelay/test";
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// A metric written: its name, its dimensions (name and value) and its value.
type Written = (String, Vec<(String, String)>, Value);

/// The line, checked against the specification; and each metric with its dimensions.
fn metrics_of(line: &str) -> Vec<Written> {
    assert!(!line.contains('\n'), "one line");
    let root: Value = serde_json::from_str(line).expect("JSON");
    let aws = &root["_aws"];
    assert!(aws["Timestamp"].is_u64(), "{line}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    assert!(!directives.is_empty());
    let mut found = Vec::new();
    for directive in directives {
        assert_eq!(directive["Namespace"], NAMESPACE);
        let sets = directive["Dimensions"].as_array().expect("dimension sets");
        assert!(!sets.is_empty(), "at least one dimension set: {line}");
        let metrics = directive["Metrics"].as_array().expect("metrics");
        assert!(!metrics.is_empty() && metrics.len() <= 100, "{line}");
        for set in sets {
            let keys = set.as_array().expect("a dimension set");
            assert!(keys.len() <= 30);
            let dimensions: Vec<(String, String)> = keys
                .iter()
                .map(|key| {
                    let key = key.as_str().expect("a dimension name");
                    let value = root[key]
                        .as_str()
                        .unwrap_or_else(|| panic!("{key} in {line}"));
                    assert!(!value.is_empty() && value.chars().count() <= 1024);
                    (key.to_string(), value.to_string())
                })
                .collect();
            for metric in metrics {
                let name = metric["Name"].as_str().expect("a metric name");
                let unit = metric["Unit"].as_str().expect("a unit");
                assert!(UNITS.contains(&unit), "{unit}");
                let dimension = dimensions.first().map(|(key, _)| key.as_str());
                assert!(
                    METRICS.contains(&(name, unit, dimension)),
                    "{name} ({unit}, {dimension:?}) is one of METRICS"
                );
                let value = &root[name];
                let numbers = match value {
                    Value::Array(values) => values.clone(),
                    single => vec![single.clone()],
                };
                assert!(
                    !numbers.is_empty()
                        && numbers.len() <= 100
                        && numbers.iter().all(Value::is_number),
                    "{name} = {value} in {line}"
                );
                found.push((name.to_string(), dimensions.clone(), numeric(value.clone())));
            }
        }
    }
    assert_eq!(root["level"], "INFO");
    found
}

fn line(source: Source, status: StatusCode, report: &Report) -> Vec<Written> {
    metrics_of(&emf_line(
        NAMESPACE,
        1_795_660_000_123,
        source,
        status,
        report,
    ))
}

fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn metric(name: &str, dimensions: &[(&str, &str)], value: Value) -> Written {
    (name.to_string(), dims(dimensions), numeric(value))
}

/// A metric's value with every number as a float: `3` and `3.0` are one value to EMF.
fn numeric(value: Value) -> Value {
    match value {
        Value::Array(values) => Value::Array(values.into_iter().map(numeric).collect()),
        Value::Number(n) => json!(n.as_f64().unwrap()),
        other => other,
    }
}

#[test]
fn a_published_start_counts_the_callback_its_notification_and_the_publish_time() {
    let report = Report {
        event: Some(Event::Started),
        told: vec![(Event::Started, "m-1".into())],
        publish_ms: vec![12.345_678],
        ..Report::default()
    };
    assert_eq!(
        line(Source::Callback, StatusCode::OK, &report),
        [
            metric("Callbacks", &[("Outcome", "published")], json!(1)),
            metric("Started", &[], json!(1)),
            metric("PublishLatency", &[], json!([12.346])),
        ]
    );
}

#[test]
fn a_held_abnormal_stop_counts_its_reason_and_its_park() {
    let report = Report {
        event: Some(Event::StoppedAbnormally),
        reason: Some(Reason::Network),
        held_until: Some(100),
        hold_parked: true,
        state: Some(Outcome::Applied),
        ..Report::default()
    };
    assert_eq!(
        line(Source::Callback, StatusCode::OK, &report),
        [
            metric("Callbacks", &[("Outcome", "held")], json!(1)),
            metric("AbnormalStops", &[("Reason", "network")], json!(1)),
            metric("HoldsParked", &[], json!(1)),
        ]
    );
}

#[test]
fn a_rejected_callback_counts_its_status() {
    for status in [
        StatusCode::BAD_REQUEST,
        StatusCode::UNAUTHORIZED,
        StatusCode::METHOD_NOT_ALLOWED,
        StatusCode::CONFLICT,
        StatusCode::PAYLOAD_TOO_LARGE,
    ] {
        assert_eq!(
            line(Source::Callback, status, &Report::default()),
            [
                metric("Callbacks", &[("Outcome", "rejected")], json!(1)),
                metric("Rejections", &[("Status", status.as_str())], json!(1)),
            ]
        );
    }
}

#[test]
fn a_publish_that_failed_counts_as_a_failure_and_a_503() {
    let report = Report {
        event: Some(Event::StoppedAbnormally),
        reason: Some(Reason::NoData),
        publish_ms: vec![2_000.0],
        publish_failures: 1,
        ..Report::default()
    };
    assert_eq!(
        line(Source::Callback, StatusCode::SERVICE_UNAVAILABLE, &report),
        [
            metric("Callbacks", &[("Outcome", "rejected")], json!(1)),
            metric("Rejections", &[("Status", "503")], json!(1)),
            metric("PublishFailures", &[], json!(1)),
            metric("PublishLatency", &[], json!([2_000.0])),
        ]
    );
}

#[test]
fn a_notification_sns_refused_and_chat_are_counted() {
    let report = Report {
        event: Some(Event::Started),
        refused: Some(("InvalidParameter".into(), "{}".into())),
        publish_ms: vec![3.0],
        chat_posted: 1,
        chat_failures: 1,
        ..Report::default()
    };
    assert_eq!(
        line(Source::Callback, StatusCode::OK, &report),
        [
            metric("Callbacks", &[("Outcome", "refused")], json!(1)),
            metric("RefusedNotifications", &[], json!(1)),
            metric("ChatPosted", &[], json!(1)),
            metric("ChatFailures", &[], json!(1)),
            metric("PublishLatency", &[], json!([3.0])),
        ]
    );
}

#[test]
fn holds_count_apart_from_callbacks_and_a_last_failure_is_dead_lettered() {
    let announced = Report {
        event: Some(Event::StoppedAbnormally),
        reason: Some(Reason::Network),
        told: vec![(Event::StoppedAbnormally, "m-2".into())],
        publish_ms: vec![5.0],
        state: Some(Outcome::Applied),
        ..Report::default()
    };
    assert_eq!(
        line(
            Source::Hold {
                last_receive: false
            },
            StatusCode::OK,
            &announced
        ),
        [
            metric("Holds", &[("Outcome", "published")], json!(1)),
            metric("StoppedAbnormally", &[], json!(1)),
            metric("PublishLatency", &[], json!([5.0])),
        ]
    );
    let failed = Report {
        publish_failures: 1,
        publish_ms: vec![7_000.0],
        ..Report::default()
    };
    for (last_receive, dead_lettered) in [(false, None), (true, Some(json!(1)))] {
        let counted = line(
            Source::Hold { last_receive },
            StatusCode::SERVICE_UNAVAILABLE,
            &failed,
        );
        assert_eq!(
            counted[0],
            metric("Holds", &[("Outcome", "rejected")], json!(1))
        );
        assert_eq!(
            counted
                .iter()
                .find(|(name, ..)| name == "HoldsDeadLettered")
                .map(|(.., value)| value.clone()),
            dead_lettered.map(numeric)
        );
        assert!(counted.contains(&metric("Rejections", &[("Status", "503")], json!(1))));
    }
}

#[test]
fn a_stop_is_counted_once_and_a_hold_once_whatever_was_answered_and_retried() {
    let stop = |duplicate: bool, state: Option<Outcome>, hold_parked: bool| Report {
        event: Some(Event::StoppedAbnormally),
        reason: Some(Reason::Network),
        held_until: hold_parked.then_some(1),
        hold_parked,
        duplicate,
        state,
        ..Report::default()
    };
    let counts = |report: &Report, status: StatusCode| {
        let counted = line(Source::Callback, status, report);
        ["AbnormalStops", "HoldsParked"].map(|name| counted.iter().any(|(n, ..)| n == name))
    };
    let (ok, unavailable) = (StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE);
    let applied = Some(Outcome::Applied);
    let repeat = Some(Outcome::Duplicate);
    // with the window: the first append counts the stop, whatever Tencent is answered...
    assert_eq!(counts(&stop(false, applied, true), ok), [true, true]);
    assert_eq!(
        counts(&stop(false, applied, false), unavailable),
        [true, false]
    );
    assert_eq!(
        counts(&stop(false, Some(Outcome::Stale), false), ok),
        [true, false]
    );
    // ...and a retry never again; its park counts only where the first one failed
    assert_eq!(counts(&stop(false, repeat, true), ok), [false, true]);
    assert_eq!(counts(&stop(false, repeat, false), ok), [false, false]);
    assert_eq!(
        counts(&stop(false, repeat, false), unavailable),
        [false, false]
    );
    // without it: the first 200 counts, not a repeat deduplication recognised
    assert_eq!(counts(&stop(false, None, false), ok), [true, false]);
    assert_eq!(
        counts(&stop(false, None, false), unavailable),
        [false, false]
    );
    assert_eq!(counts(&stop(true, None, false), ok), [false, false]);
}

#[test]
fn a_sweep_counts_itself_by_outcome_and_what_it_parked_never_a_rejection() {
    let swept = Report {
        swept: 3,
        ..Report::default()
    };
    assert_eq!(
        line(Source::Sweep, StatusCode::OK, &swept),
        [
            metric("Sweeps", &[("Outcome", "swept")], json!(1)),
            metric("HoldsSwept", &[], json!(3)),
        ]
    );
    assert_eq!(
        line(Source::Sweep, StatusCode::OK, &Report::default()),
        [metric("Sweeps", &[("Outcome", "nothing")], json!(1))]
    );
    assert_eq!(
        line(
            Source::Sweep,
            StatusCode::SERVICE_UNAVAILABLE,
            &Report::default()
        ),
        [metric("Sweeps", &[("Outcome", "failed")], json!(1))]
    );
}

#[test]
fn a_hold_another_copy_is_announcing_is_not_a_failure() {
    let counted = line(
        Source::Hold {
            last_receive: false,
        },
        StatusCode::CONFLICT,
        &Report::default(),
    );
    assert_eq!(
        counted,
        [
            metric("Holds", &[("Outcome", "rejected")], json!(1)),
            metric("Rejections", &[("Status", "409")], json!(1)),
        ]
    );
}

#[test]
fn a_callback_that_tells_two_events_counts_each() {
    let report = Report {
        event: Some(Event::Stopped),
        reason: Some(Reason::ClientStopped),
        told: vec![
            (Event::Recovered, "m-3".into()),
            (Event::Stopped, "m-4".into()),
        ],
        publish_ms: vec![4.0, 6.0],
        ..Report::default()
    };
    let counted = line(Source::Callback, StatusCode::OK, &report);
    assert!(counted.contains(&metric("Recovered", &[], json!(1))));
    assert!(counted.contains(&metric("Stopped", &[], json!(1))));
    assert!(counted.contains(&metric("PublishLatency", &[], json!([4.0, 6.0]))));
    assert!(!counted.iter().any(|(name, ..)| name == "AbnormalStops"));
}

#[test]
fn every_metric_listed_is_one_some_callback_or_hold_writes() {
    let everything = Report {
        event: Some(Event::StoppedAbnormally),
        reason: Some(Reason::Network),
        told: [
            Event::Started,
            Event::Stopped,
            Event::StoppedAbnormally,
            Event::Resumed,
            Event::Recovered,
        ]
        .map(|event| (event, "m".to_string()))
        .to_vec(),
        held_until: Some(1),
        hold_parked: true,
        refused: Some(("InvalidParameter".into(), "{}".into())),
        publish_ms: vec![1.0],
        publish_failures: 1,
        chat_posted: 1,
        chat_failures: 1,
        ..Report::default()
    };
    let mut written: Vec<String> = [
        line(Source::Callback, StatusCode::OK, &everything),
        line(
            Source::Callback,
            StatusCode::SERVICE_UNAVAILABLE,
            &everything,
        ),
        line(
            Source::Hold { last_receive: true },
            StatusCode::SERVICE_UNAVAILABLE,
            &everything,
        ),
        line(
            Source::Sweep,
            StatusCode::OK,
            &Report {
                swept: 2,
                sweep_failures: 1,
                ..Report::default()
            },
        ),
    ]
    .concat()
    .into_iter()
    .map(|(name, ..)| name)
    .collect();
    written.sort();
    written.dedup();
    let mut listed: Vec<String> = METRICS.iter().map(|(name, ..)| name.to_string()).collect();
    listed.sort();
    assert_eq!(written, listed);
}
