//! The rendering for a chat channel: an Amazon Q Developer (formerly AWS Chatbot) custom
//! notification (`schema/chat-notification.schema.json`), which it shows in Slack or
//! Microsoft Teams. A drop, its announcement and its recovery share a `threadId` (the
//! drop's `event_id`), so they read as one thread.

use serde::Serialize;
use std::collections::BTreeMap;

use crate::inbound::callback::Callback;
use crate::meaning::classify::Event;
use crate::outbound::sanitize::for_people;
use crate::outbound::telling::Telling;
use crate::outbound::timefmt::{human_secs, human_utc};

/// How many characters of a callback's value a chat message shows; the JSON document on
/// the main topic has them whole.
const SHOWN_MAX: usize = 120;

#[derive(Serialize)]
struct Custom<'a> {
    version: &'static str,
    source: &'static str,
    id: &'a str,
    content: Content,
    metadata: Metadata<'a>,
}

#[derive(Serialize)]
struct Content {
    #[serde(rename = "textType")]
    text_type: &'static str,
    title: String,
    description: String,
    keywords: Vec<&'static str>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "threadId")]
    thread_id: &'a str,
    summary: String,
    #[serde(rename = "eventType")]
    event_type: &'static str,
    #[serde(rename = "additionalContext")]
    additional_context: BTreeMap<&'static str, String>,
}

/// The custom notification, as the JSON text published to the chat topic.
pub fn message(cb: &Callback, telling: &Telling) -> String {
    let stream = shown(&cb.stream_id);
    let (mark, what) = match telling.event {
        Event::Started => ("🟢", "Stream live"),
        Event::Stopped => ("⚪", "Stream stopped"),
        Event::StoppedAbnormally => ("🔴", "Stream dropped"),
        Event::Resumed => ("🟡", "Stream resumed"),
        Event::Recovered => ("🟢", "Stream recovered"),
    };
    let summary = match telling.reason.filter(|_| telling.drop.is_none()) {
        Some(reason) => format!("{what} ({})", reason.as_str()),
        None => what.to_string(),
    };
    let thread = telling
        .drop
        .as_ref()
        .map_or(telling.event_id.as_str(), |drop| drop.id.as_str());
    let mut keywords = vec![telling.event.as_str()];
    keywords.extend(telling.reason.map(|r| r.as_str()));
    let custom = Custom {
        version: "1.0",
        source: "custom",
        id: &telling.event_id,
        content: Content {
            text_type: "client-markdown",
            title: format!("{mark} {summary}: {stream}"),
            description: description(cb, telling),
            keywords,
        },
        metadata: Metadata {
            thread_id: thread,
            summary,
            event_type: telling.event.as_str(),
            additional_context: BTreeMap::from([
                ("event_id", telling.event_id.clone()),
                ("stream_id", for_people(&cb.stream_id)),
                ("app", for_people(&cb.app)),
                ("appname", for_people(&cb.appname)),
                (
                    "reason",
                    telling
                        .reason
                        .map(|r| r.as_str())
                        .unwrap_or_default()
                        .to_string(),
                ),
            ]),
        },
    };
    serde_json::to_string(&custom).expect("strings always serialize")
}

fn description(cb: &Callback, telling: &Telling) -> String {
    let mut lines = Vec::new();
    let place = [&cb.app, &cb.appname]
        .iter()
        .filter(|part| !part.trim().is_empty())
        .map(|part| shown(part))
        .collect::<Vec<_>>()
        .join(" / ");
    if !place.is_empty() {
        lines.push(format!("Stream {} on {place}", shown(&cb.stream_id)));
    }
    let at = human_utc(cb.event_time);
    lines.push(match telling.event {
        Event::Started => format!("Live since {at}"),
        Event::Resumed | Event::Recovered => format!("Back at {at}"),
        Event::Stopped | Event::StoppedAbnormally => format!("Stopped at {at}"),
    });
    if let Some(reason) = telling.reason {
        let code = telling.drop.as_ref().map_or(cb.errcode, |d| d.errcode);
        lines.push(format!(
            "Why: {} (errcode {code}). {}",
            reason.as_str(),
            reason.description()
        ));
    }
    if let Some(drop) = &telling.drop {
        lines.push(format!("Dropped at {}", human_utc(drop.at)));
    }
    let duration =
        |label: &str, secs: Option<u64>| secs.map(|s| format!("{label} {}", human_secs(s)));
    lines.extend(duration("Held for", telling.held_for_secs));
    lines.extend(duration("Gone for", telling.gap_secs));
    lines.extend(duration("Down for", telling.downtime_secs));
    if telling.event == Event::Resumed {
        lines.push("Back within the reconnect window: the drop was not announced.".into());
    }
    lines.push(format!("Event {}", shown(&telling.event_id)));
    lines.join("\n")
}

/// A callback's value as chat shows it: printable, in a code span (so that no markdown,
/// link or mention in it takes effect), shortened.
fn shown(value: &str) -> String {
    let printable: String = for_people(value)
        .chars()
        .map(|c| match c {
            '`' => '\'',
            '<' => '‹',
            '>' => '›',
            c => c,
        })
        .collect();
    let mut short: String = printable.chars().take(SHOWN_MAX).collect();
    if printable.chars().count() > SHOWN_MAX {
        short.push('…');
    }
    format!("`{short}`")
}
