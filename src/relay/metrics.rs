//! What one callback or one hold counts, as one line in CloudWatch's Embedded Metric
//! Format: CloudWatch Logs turns it into metrics, with no API call and no permission but
//! writing the log. Dimensions stay few and bounded: an outcome, a status, a reason;
//! never a stream or a domain. A metric without dimensions is written only when it is not
//! zero (an absent data point is a zero to the dashboard and the alarms), so that a relay
//! without chat or without the window has no metric for them.

use lambda_http::http::StatusCode;
use std::fmt::Write;

use crate::meaning::classify::Event;
use crate::meaning::stream_state::Outcome;
use crate::relay::report::Report;

/// Every metric the relay writes: its name, unit and dimension (README, "Metrics and the
/// dashboard").
pub const METRICS: [(&str, &str, Option<&str>); 19] = [
    ("Callbacks", "Count", Some("Outcome")),
    ("Holds", "Count", Some("Outcome")),
    ("Sweeps", "Count", Some("Outcome")),
    ("Rejections", "Count", Some("Status")),
    ("AbnormalStops", "Count", Some("Reason")),
    ("Started", "Count", None),
    ("Stopped", "Count", None),
    ("StoppedAbnormally", "Count", None),
    ("Resumed", "Count", None),
    ("Recovered", "Count", None),
    ("PublishLatency", "Milliseconds", None),
    ("PublishFailures", "Count", None),
    ("RefusedNotifications", "Count", None),
    ("HoldsParked", "Count", None),
    ("HoldsDeadLettered", "Count", None),
    ("HoldsSwept", "Count", None),
    ("SweepFailures", "Count", None),
    ("ChatPosted", "Count", None),
    ("ChatFailures", "Count", None),
];

/// Where the line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Callback,
    /// A hold from the hold queue; `last_receive` when SQS moves it to the dead-letter
    /// queue if it fails now.
    Hold {
        last_receive: bool,
    },
    /// A sweep of the holds not parked.
    Sweep,
}

/// The metric name of each event's notifications.
fn published_metric(event: Event) -> &'static str {
    match event {
        Event::Started => "Started",
        Event::Stopped => "Stopped",
        Event::StoppedAbnormally => "StoppedAbnormally",
        Event::Resumed => "Resumed",
        Event::Recovered => "Recovered",
    }
}

fn unit(name: &str) -> &'static str {
    METRICS
        .iter()
        .find(|(metric, ..)| *metric == name)
        .map_or("None", |(_, unit, _)| unit)
}

/// A metric's value: a count, or the values of a distribution.
enum Value<'a> {
    Count(u64),
    Values(&'a [f64]),
}

/// One directive: the metrics written under one dimension (or none).
struct Directive<'a> {
    dimension: Option<(&'static str, &'a str)>,
    metrics: Vec<(&'static str, Value<'a>)>,
}

/// The EMF line of one callback or hold answered `status`, at `timestamp_ms`. Written
/// by hand: every name and dimension value is one of the relay's own identifiers, and
/// the namespace is escaped as JSON.
pub fn emf_line(
    namespace: &str,
    timestamp_ms: u64,
    source: Source,
    status: StatusCode,
    report: &Report,
) -> String {
    let (counted, outcome) = match source {
        Source::Callback => ("Callbacks", report.outcome_at(status)),
        Source::Hold { .. } => ("Holds", report.outcome_at(status)),
        Source::Sweep => ("Sweeps", report.sweep_outcome_at(status)),
    };
    let status_text = status.as_u16().to_string();
    let mut directives = vec![Directive {
        dimension: Some(("Outcome", outcome)),
        metrics: vec![(counted, Value::Count(1))],
    }];
    // a hold that failed is answered 503 to SQS, which delivers it again; a sweep has no
    // one to answer, and takes what is left next time
    if status != StatusCode::OK && source != Source::Sweep {
        directives.push(Directive {
            dimension: Some(("Status", &status_text)),
            metrics: vec![("Rejections", Value::Count(1))],
        });
    }
    // a stop counted once: when it is first accepted (with the window, when it is first
    // recorded, whatever the answer; not again for Tencent's repeats of it)
    let first = match report.state {
        Some(state) => state != Outcome::Duplicate,
        None => status == StatusCode::OK && !report.duplicate,
    };
    if let (Source::Callback, true, Some(Event::StoppedAbnormally), Some(reason)) =
        (source, first, report.event, report.reason)
    {
        directives.push(Directive {
            dimension: Some(("Reason", reason.as_str())),
            metrics: vec![("AbnormalStops", Value::Count(1))],
        });
    }
    let told = |event: Event| report.told.iter().filter(|(e, _)| *e == event).count() as u64;
    let parked = source == Source::Callback && report.hold_parked;
    let dead_lettered = source == (Source::Hold { last_receive: true }) && status != StatusCode::OK;
    let mut plain: Vec<(&'static str, Value)> = Event::ALL
        .into_iter()
        .map(|event| (published_metric(event), Value::Count(told(event))))
        .chain([
            (
                "PublishFailures",
                Value::Count(report.publish_failures.into()),
            ),
            (
                "RefusedNotifications",
                Value::Count(report.refused.is_some().into()),
            ),
            ("HoldsParked", Value::Count(parked.into())),
            ("HoldsDeadLettered", Value::Count(dead_lettered.into())),
            ("HoldsSwept", Value::Count(report.swept.into())),
            ("SweepFailures", Value::Count(report.sweep_failures.into())),
            ("ChatPosted", Value::Count(report.chat_posted.into())),
            ("ChatFailures", Value::Count(report.chat_failures.into())),
        ])
        .filter(|(_, value)| !matches!(value, Value::Count(0)))
        .collect();
    if !report.publish_ms.is_empty() {
        plain.push(("PublishLatency", Value::Values(&report.publish_ms)));
    }
    if !plain.is_empty() {
        directives.push(Directive {
            dimension: None,
            metrics: plain,
        });
    }
    render(namespace, timestamp_ms, &directives)
}

fn render(namespace: &str, timestamp_ms: u64, directives: &[Directive]) -> String {
    let namespace = serde_json::to_string(namespace).expect("a string always serializes");
    let mut out = String::with_capacity(256 + 160 * directives.len());
    out.push('{');
    for directive in directives {
        if let Some((name, value)) = directive.dimension {
            let _ = write!(out, "\"{name}\":\"{value}\",");
        }
        for (name, value) in &directive.metrics {
            let _ = match value {
                Value::Count(count) => write!(out, "\"{name}\":{count},"),
                Value::Values(values) => {
                    let shown: Vec<String> = values
                        .iter()
                        .map(|ms| ((ms * 1000.0).round() / 1000.0).to_string())
                        .collect();
                    write!(out, "\"{name}\":[{}],", shown.join(","))
                }
            };
        }
    }
    let _ = write!(
        out,
        "\"_aws\":{{\"Timestamp\":{timestamp_ms},\"CloudWatchMetrics\":["
    );
    for (n, directive) in directives.iter().enumerate() {
        let dimensions = directive
            .dimension
            .map(|(name, _)| format!("\"{name}\""))
            .unwrap_or_default();
        let metrics: Vec<String> = directive
            .metrics
            .iter()
            .map(|(name, _)| format!("{{\"Name\":\"{name}\",\"Unit\":\"{}\"}}", unit(name)))
            .collect();
        let _ = write!(
            out,
            "{}{{\"Namespace\":{namespace},\"Dimensions\":[[{dimensions}]],\"Metrics\":[{}]}}",
            if n == 0 { "" } else { "," },
            metrics.join(",")
        );
    }
    // Lambda's log-level filtering keeps the line as long as INFO is logged.
    out.push_str("]},\"level\":\"INFO\"}");
    out
}

#[cfg(test)]
mod tests;
