//! The largest callbacks and every notice the relay can make of one: what the size and
//! schema tests build their notifications from.

use live_callback_relay::inbound::callback::{FIELD_BOUNDS, MAX_EVENT_TIME};
use live_callback_relay::meaning::classify::Reason;
use live_callback_relay::meaning::stream_state::{DropFacts, Notice};
use serde_json::{Value, json};

use super::{INTERRUPT, signed};

/// An interrupt with every string field at its bound, made of `filler`, and every number
/// at its widest.
pub fn largest(filler: &str) -> String {
    let mut changes = json!({
        "appid": u64::MAX,
        "errcode": i64::MIN,
        "event_time": MAX_EVENT_TIME,
        "push_duration": u64::MAX,
        "set_id": u32::MAX,
        "width": u32::MAX,
        "height": u32::MAX,
        "idc_id": i64::MIN,
    });
    for (field, bound) in FIELD_BOUNDS {
        // a sequence is plain ASCII, which grows no more than any other
        let filler = if field == "sequence" { "9" } else { filler };
        let text: String = filler.chars().cycle().take(bound * 4).collect();
        let mut cut = bound;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        changes[field] = Value::from(&text[..cut]);
    }
    signed(INTERRUPT, changes)
}

/// The characters that grow most on the way into a notification: a control character
/// becomes `\u0001` in the document and `\\u0001` once the document is a string of the
/// message (7 bytes for 1), and U+FFFD (3 bytes) in the texts for people; quotes and
/// backslashes double twice; noncharacters are escaped; `sig=,x` masks to `sig=***,***`.
pub const FILLERS: [&str; 7] = [
    "\u{1}",
    "\"",
    "\\",
    "\u{ffff}",
    "\u{1f600}",
    "\u{202e}\u{1}",
    "sig=,\u{1}",
];

/// Every notice the relay can make of a callback, the drops at their largest.
pub fn notices() -> Vec<Notice> {
    let drop = DropFacts {
        id: format!("{}-stop-{}", "9".repeat(64), "f".repeat(16)),
        sequence: "9".repeat(64),
        at: MAX_EVENT_TIME,
        reason: Reason::ThirdPartyAuth,
        errcode: i64::MIN,
        started_at: 0,
        held_at: 0,
        deadline: u64::MAX,
    };
    vec![
        Notice::Dropped,
        Notice::Announced {
            held_for_secs: u64::MAX,
        },
        Notice::Overdue {
            drop: drop.clone(),
            held_for_secs: u64::MAX,
        },
        Notice::Resumed {
            drop: drop.clone(),
            gap_secs: Some(u64::MAX),
            implicit: true,
        },
        Notice::Recovered {
            drop,
            downtime_secs: Some(u64::MAX),
            implicit: true,
        },
    ]
}
