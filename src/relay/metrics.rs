//! What one callback or one hold counts, as one line in CloudWatch's Embedded Metric
//! Format: CloudWatch Logs turns it into metrics, with no API call and no permission but
//! writing the log. Dimensions stay few and bounded: an outcome, a status, a reason;
//! never a stream or a domain. A metric without dimensions is written only when it is not
//! zero (an absent data point is a zero to the dashboard and the alarms), so that a relay
//! without chat or without the window has no metric for them.

use lambda_http::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::meaning::classify::Event;
use crate::relay::report::Report;

/// Every metric the relay writes, and its unit (README, "Metrics and the dashboard").
pub const METRICS: [(&str, &str); 16] = [
    ("Callbacks", "Count"),
    ("Holds", "Count"),
    ("Rejections", "Count"),
    ("AbnormalStops", "Count"),
    ("Started", "Count"),
    ("Stopped", "Count"),
    ("StoppedAbnormally", "Count"),
    ("Resumed", "Count"),
    ("Recovered", "Count"),
    ("PublishLatency", "Milliseconds"),
    ("PublishFailures", "Count"),
    ("RefusedNotifications", "Count"),
    ("HoldsParked", "Count"),
    ("HoldsDeadLettered", "Count"),
    ("ChatPosted", "Count"),
    ("ChatFailures", "Count"),
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
        .find(|(metric, _)| *metric == name)
        .map_or("None", |(_, unit)| unit)
}

/// The EMF line of one callback or hold answered `status`, at `timestamp_ms`.
pub fn emf_line(
    namespace: &str,
    timestamp_ms: u64,
    source: Source,
    status: StatusCode,
    report: &Report,
) -> String {
    let mut root = Map::new();
    let mut directives = Vec::new();
    let mut directive = |root: &mut Map<String, Value>,
                         dimension: Option<(&str, String)>,
                         metrics: &[(&str, Value)]| {
        let mut dimensions = Vec::new();
        if let Some((name, value)) = dimension {
            dimensions.push(name.to_string());
            root.insert(name.to_string(), Value::String(value));
        }
        for (name, value) in metrics {
            root.insert(name.to_string(), value.clone());
        }
        let definitions: Vec<Value> = metrics
            .iter()
            .map(|(name, _)| json!({"Name": name, "Unit": unit(name)}))
            .collect();
        directives.push(
            json!({"Namespace": namespace, "Dimensions": [dimensions], "Metrics": definitions}),
        );
    };

    let outcome = report.outcome_at(status).to_string();
    let counted = match source {
        Source::Callback => "Callbacks",
        Source::Hold { .. } => "Holds",
    };
    directive(
        &mut root,
        Some(("Outcome", outcome)),
        &[(counted, json!(1))],
    );
    if source == Source::Callback && status != StatusCode::OK {
        let status = status.as_u16().to_string();
        directive(
            &mut root,
            Some(("Status", status)),
            &[("Rejections", json!(1))],
        );
    }
    if let (Source::Callback, Some(Event::StoppedAbnormally), Some(reason)) =
        (source, report.event, report.reason)
    {
        let reason = reason.as_str().to_string();
        directive(
            &mut root,
            Some(("Reason", reason)),
            &[("AbnormalStops", json!(1))],
        );
    }

    let mut plain: Vec<(&str, Value)> = Vec::new();
    for event in [
        Event::Started,
        Event::Stopped,
        Event::StoppedAbnormally,
        Event::Resumed,
        Event::Recovered,
    ] {
        let count = report.told.iter().filter(|(e, _)| *e == event).count();
        plain.push((published_metric(event), json!(count)));
    }
    let parked = source == Source::Callback && report.held_until.is_some();
    let dead_lettered = source == (Source::Hold { last_receive: true }) && status != StatusCode::OK;
    plain.extend([
        ("PublishFailures", json!(report.publish_failures)),
        (
            "RefusedNotifications",
            json!(u32::from(report.refused.is_some())),
        ),
        ("HoldsParked", json!(u32::from(parked))),
        ("HoldsDeadLettered", json!(u32::from(dead_lettered))),
        ("ChatPosted", json!(report.chat_posted)),
        ("ChatFailures", json!(report.chat_failures)),
    ]);
    plain.retain(|(_, value)| value.as_u64() != Some(0));
    if !report.publish_ms.is_empty() {
        let rounded: Vec<f64> = report
            .publish_ms
            .iter()
            .map(|ms| (ms * 1000.0).round() / 1000.0)
            .collect();
        plain.push(("PublishLatency", json!(rounded)));
    }
    if !plain.is_empty() {
        directive(&mut root, None, &plain);
    }

    root.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}),
    );
    // Lambda's log-level filtering keeps the line as long as INFO is logged.
    root.insert("level".into(), json!("INFO"));
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests;
