//! Where notifications go and which: the topic, the events told, the chat topic, and the
//! metrics' namespace.

use std::collections::HashSet;

use super::ConfigError;
use crate::meaning::classify::Event;

/// What is published when `NOTIFY_EVENTS` is not set: a normal stop is opt-in.
pub const DEFAULT_NOTIFY_EVENTS: [Event; 4] = [
    Event::Started,
    Event::StoppedAbnormally,
    Event::Resumed,
    Event::Recovered,
];
/// What is posted to the chat topic when `CHAT_EVENTS` is not set: what pages on-call.
pub const DEFAULT_CHAT_EVENTS: [Event; 2] = [Event::StoppedAbnormally, Event::Recovered];
/// The CloudWatch namespace of the relay's metrics when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_METRICS_NAMESPACE: &str = "LiveCallbackRelay";
/// CloudWatch's limit on a namespace, in characters.
pub(super) const MAX_NAMESPACE_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub topic_arn: String,
    pub events: HashSet<Event>,
}

/// `CHAT_TOPIC_ARN` and `CHAT_EVENTS`: chat is on when the topic is given.
pub(super) fn chat(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<Chat>, ConfigError> {
    let events = events(lookup, "CHAT_EVENTS", &DEFAULT_CHAT_EVENTS)?;
    match lookup("CHAT_TOPIC_ARN").filter(|v| !v.trim().is_empty()) {
        Some(arn) => Ok(Some(Chat {
            topic_arn: topic(lookup, "CHAT_TOPIC_ARN", arn.trim().to_string())?,
            events,
        })),
        None if lookup("CHAT_EVENTS").is_some() => Err(ConfigError {
            variable: "CHAT_EVENTS",
            problem:
                "is set, but CHAT_TOPIC_ARN is not: set the chat topic, or leave the events out"
                    .into(),
        }),
        None => Ok(None),
    }
}

pub(super) fn metrics_namespace(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let Some(value) = lookup("METRICS_NAMESPACE") else {
        return Ok(DEFAULT_METRICS_NAMESPACE.to_string());
    };
    let value = value.trim();
    let valid = !value.is_empty()
        && value.len() <= MAX_NAMESPACE_LEN
        && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && !value.starts_with("AWS/");
    if valid {
        Ok(value.to_string())
    } else {
        Err(ConfigError {
            variable: "METRICS_NAMESPACE",
            problem: format!(
                "{value:?} is not a CloudWatch namespace: 1 to {MAX_NAMESPACE_LEN} printable ASCII characters, not starting with AWS/"
            ),
        })
    }
}

/// The topic `arn`, named by `variable`: a standard SNS topic in the function's region.
pub(super) fn topic(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    arn: String,
) -> Result<String, ConfigError> {
    let invalid = |problem| ConfigError { variable, problem };
    check_topic_arn(&arn).map_err(invalid)?;
    if let Some(region) = lookup("AWS_REGION").filter(|r| !r.trim().is_empty()) {
        let topic_region = arn.split(':').nth(3).unwrap_or_default();
        if topic_region != region.trim() {
            return Err(invalid(format!(
                "the topic is in {topic_region}, the function in {}: SNS answers a publish to another region's topic as invalid",
                region.trim()
            )));
        }
    }
    Ok(arn)
}

pub(super) fn events(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: &[Event],
) -> Result<HashSet<Event>, ConfigError> {
    match lookup(variable) {
        Some(value) => parse_events(&value).map_err(|problem| ConfigError { variable, problem }),
        None => Ok(default.iter().copied().collect()),
    }
}

pub(super) fn check_topic_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "sns"
        && parts.iter().all(|p| !p.is_empty());
    if !well_formed {
        return Err(format!(
            "{arn:?} is not an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<topic>)"
        ));
    }
    if arn.ends_with(".fifo") {
        return Err(format!(
            "{arn:?} is a FIFO topic, which delivers to SQS queues only (not e-mail, HTTPS or Lambda); use a standard topic"
        ));
    }
    Ok(())
}

pub(super) fn parse_events(value: &str) -> Result<HashSet<Event>, String> {
    let events = value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| name.parse::<Event>().map_err(|e| e.to_string()))
        .collect::<Result<HashSet<_>, _>>()?;
    if events.is_empty() {
        return Err("names no event; leave it unset for the default".into());
    }
    Ok(events)
}
