//! The renderings for people: the e-mail body, the SMS line and the subject.

use std::fmt::Write;

use crate::inbound::callback::{Callback, Region};
use crate::meaning::classify::{Classification, Event};
use crate::outbound::sanitize::for_people as printable;
use crate::outbound::timefmt::{clock_utc, human_duration, human_utc};

/// SNS allows 100; one less leaves room for clients that count a terminator.
pub const SUBJECT_MAX: usize = 99;
const SMS_NAME_MAX: usize = 40;

pub fn subject(cb: &Callback, class: Classification) -> String {
    let what = match (class.event, class.reason) {
        (Event::StoppedAbnormally, Some(reason)) => format!("Stream dropped ({})", reason.as_str()),
        (Event::Stopped, _) => "Stream stopped".to_string(),
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

pub fn sms(cb: &Callback, class: Classification) -> String {
    let what = match (class.event, class.reason) {
        (Event::StoppedAbnormally, Some(reason)) => {
            format!("dropped ({}, errcode {})", reason.as_str(), cb.errcode)
        }
        (Event::Stopped, _) => "stopped".to_string(),
        _ => "went live".to_string(),
    };
    format!(
        "Stream {} {what} at {}.",
        truncate_with_ellipsis(&printable(&cb.stream_id), SMS_NAME_MAX, "..."),
        clock_utc(cb.event_time)
    )
}

pub fn email(cb: &Callback, class: Classification, event_id: &str) -> String {
    let stream = printable(&cb.stream_id);
    let headline = match (class.event, class.reason) {
        (Event::Started, _) => format!("The stream \"{stream}\" went live."),
        (Event::Stopped, _) => format!("The stream \"{stream}\" was stopped by its pusher."),
        (Event::StoppedAbnormally, reason) => format!(
            "The stream \"{stream}\" stopped abnormally. {}",
            reason.map(|r| r.description()).unwrap_or_default()
        ),
    };
    let when_label = if class.event == Event::Started {
        "Started at"
    } else {
        "Stopped at"
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("Stream", stream.clone()),
        ("Domain", printable(&cb.app)),
        ("App path", printable(&cb.appname)),
        (when_label, human_utc(cb.event_time)),
    ];
    if let Some(ms) = cb.push_duration_ms {
        rows.push(("Live for", human_duration(ms)));
    }
    if let Some(reason) = class.reason {
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
    if class.event == Event::Started {
        rows.push(("Video", resolution(cb)));
    }
    if !cb.stream_param.is_empty() {
        rows.push(("Push params", printable(&cb.stream_param)));
    }
    rows.push(("Sequence", printable(&cb.sequence)));
    rows.push(("Event ID", printable(event_id)));

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
