//! The renderings for people: the e-mail body, the SMS line and the subject.

use std::fmt::Write;

use crate::inbound::callback::{Callback, Region};
use crate::meaning::classify::{Event, Reason};
use crate::outbound::sanitize::for_people as printable;
use crate::outbound::telling::Telling;
use crate::outbound::timefmt::{clock_utc, human_duration, human_secs, human_utc};

/// SNS allows 100; one less leaves room for clients that count a terminator.
pub const SUBJECT_MAX: usize = 99;
const SMS_NAME_MAX: usize = 40;

pub fn subject(cb: &Callback, telling: &Telling) -> String {
    let what = match (telling.event, telling.reason) {
        (Event::StoppedAbnormally, Some(reason)) => format!("Stream dropped ({})", reason.as_str()),
        (Event::Stopped, _) => "Stream stopped".to_string(),
        (Event::Resumed, _) => "Stream resumed".to_string(),
        (Event::Recovered, _) => "Stream recovered".to_string(),
        _ => "Stream started".to_string(),
    };
    let place = match (cb.app.trim().is_empty(), cb.appname.trim().is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" on {}", cb.app),
        (true, false) => format!(" in app {}", cb.appname),
        (false, false) => format!(" on {}/{}", cb.app, cb.appname),
    };
    let text = format!("{what}: {}{place}", cb.stream_id);
    let ascii: String = text
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    truncate_with_ellipsis(&ascii, SUBJECT_MAX, "...")
}

/// `after 4 s`, or nothing when the time is not known.
fn after(secs: Option<u64>) -> String {
    secs.map(|s| format!(" after {}", human_secs(s)))
        .unwrap_or_default()
}

pub fn sms(cb: &Callback, telling: &Telling) -> String {
    let what = match (telling.event, telling.reason) {
        (Event::StoppedAbnormally, Some(reason)) => {
            format!("dropped ({}, errcode {})", reason.as_str(), cb.errcode)
        }
        (Event::Stopped, _) => "stopped".to_string(),
        (Event::Resumed, _) => format!("resumed{}", after(telling.gap_secs)),
        (Event::Recovered, _) => format!("recovered{}", after(telling.downtime_secs)),
        _ => "went live".to_string(),
    };
    format!(
        "Stream {} {what} at {}.",
        truncate_with_ellipsis(&printable(&cb.stream_id), SMS_NAME_MAX, "..."),
        clock_utc(cb.event_time)
    )
}

pub fn email(cb: &Callback, telling: &Telling) -> String {
    let stream = printable(&cb.stream_id);
    let why = |reason: Option<Reason>| reason.map(|r| r.description()).unwrap_or_default();
    let dropped_for = |reason: Option<Reason>| {
        reason
            .map(|r| format!(" ({})", r.as_str()))
            .unwrap_or_default()
    };
    let headline = match telling.event {
        Event::Started => format!("The stream \"{stream}\" went live."),
        Event::Stopped => format!("The stream \"{stream}\" was stopped by its pusher."),
        Event::StoppedAbnormally => match telling.held_for_secs {
            Some(held) => format!(
                "The stream \"{stream}\" stopped abnormally, and did not come back within {}. {}",
                human_secs(held),
                why(telling.reason)
            ),
            None => format!(
                "The stream \"{stream}\" stopped abnormally. {}",
                why(telling.reason)
            ),
        },
        Event::Resumed => format!(
            "The stream \"{stream}\" came back{} from a drop{}, within the reconnect window: the drop was not announced.",
            after(telling.gap_secs),
            dropped_for(telling.reason)
        ),
        Event::Recovered => format!(
            "The stream \"{stream}\" is live again{} after its drop{}.",
            telling
                .downtime_secs
                .map(|s| format!(", {}", human_secs(s)))
                .unwrap_or_default(),
            dropped_for(telling.reason)
        ),
    };
    let back = matches!(telling.event, Event::Resumed | Event::Recovered);
    let when_label = match telling.event {
        Event::Started => "Started at",
        _ if back => "Back at",
        _ => "Stopped at",
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("Stream", stream.clone()),
        ("Domain", printable(&cb.app)),
        ("App path", printable(&cb.appname)),
        (when_label, human_utc(cb.event_time)),
    ];
    if let Some(drop) = &telling.drop {
        rows.push(("Dropped at", human_utc(drop.at)));
        rows.push((
            "Why",
            format!("{} (errcode {})", drop.reason.as_str(), drop.errcode),
        ));
    }
    if let Some(held) = telling.held_for_secs {
        rows.push(("Held for", human_secs(held)));
    }
    if let Some(ms) = cb.push_duration_ms.filter(|_| !back) {
        rows.push(("Live for", human_duration(ms)));
    }
    if let (Some(reason), false) = (telling.reason, back) {
        rows.push((
            "Why",
            format!(
                "{} (errcode {}: \"{}\")",
                reason.as_str(),
                cb.errcode,
                printable(&cb.errmsg)
            ),
        ));
    }
    rows.push(("Pushed from", origin(cb)));
    if telling.event == Event::Started {
        rows.push(("Video", resolution(cb)));
    }
    if !cb.stream_param.is_empty() {
        rows.push(("Push params", printable(&cb.stream_param)));
    }
    rows.push(("Sequence", printable(&cb.sequence)));
    rows.push(("Event ID", printable(&telling.event_id)));
    if let Some(drop) = &telling.drop {
        rows.push(("Drop ID", printable(&drop.id)));
    }

    let mut out = format!("{headline}\n\n");
    for (label, value) in rows {
        let _ = writeln!(out, "{:<12} {value}", format!("{label}:"));
    }
    let _ = write!(
        out,
        "\n-- \nSent by live-callback-relay for Tencent Cloud live streaming (APPID {}).\n",
        cb.appid
    );
    out
}

fn origin(cb: &Callback) -> String {
    let ip = if cb.user_ip.is_empty() {
        "an unknown address".to_string()
    } else {
        printable(&cb.user_ip)
    };
    let place = match cb.region() {
        Region::Mainland => " (inside the Chinese mainland)",
        Region::International => " (outside the Chinese mainland)",
        Region::Unknown => "",
    };
    let node = if cb.node.is_empty() {
        String::new()
    } else {
        format!(", access node {}", printable(&cb.node))
    };
    format!("{ip}{place}{node}")
}

fn resolution(cb: &Callback) -> String {
    if cb.width == 0 || cb.height == 0 {
        "resolution not known yet".to_string()
    } else {
        format!("{}x{}", cb.width, cb.height)
    }
}

fn truncate_with_ellipsis(text: &str, max_chars: usize, ellipsis: &str) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let keep = max_chars - ellipsis.chars().count();
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(ellipsis);
    out
}
