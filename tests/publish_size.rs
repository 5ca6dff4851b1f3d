//! SNS refuses a `Publish` over 256 KiB (message, subject, attribute names, types and
//! values together), and moto does not enforce it. The field bounds applied at decoding
//! keep every notification under it by construction; this computes the largest one.

mod common;

use common::*;
use live_callback_relay::inbound::callback::{FIELD_BOUNDS, MAX_EVENT_TIME};
use live_callback_relay::meaning::classify::Reason;
use live_callback_relay::meaning::stream_state::{DropFacts, Notice};
use live_callback_relay::outbound::notification::{MAX_PUBLISH_BYTES, Notification};
use proptest::prelude::*;
use serde_json::{Value, json};

/// An interrupt with every string field at its bound, made of `filler`, and every number
/// at its widest.
fn largest(filler: &str) -> String {
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
const FILLERS: [&str; 7] = [
    "\u{1}",
    "\"",
    "\\",
    "\u{ffff}",
    "\u{1f600}",
    "\u{202e}\u{1}",
    "sig=,\u{1}",
];

/// Every notice the relay can make of a callback, the drops at their largest.
fn notices() -> Vec<Notice> {
    let drop = DropFacts {
        id: format!("{}-stop-{}", "9".repeat(64), "f".repeat(16)),
        sequence: "9".repeat(64),
        at: MAX_EVENT_TIME,
        reason: Reason::ThirdPartyAuth,
        errcode: i64::MIN,
    };
    vec![
        Notice::Dropped,
        Notice::Announced {
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

/// The largest `Publish` of any notice about `body`.
fn largest_publish(body: &str) -> usize {
    let callback = verified(body);
    notices()
        .iter()
        .map(|notice| Notification::new(&callback, notice).publish_size())
        .max()
        .unwrap()
}

#[test]
fn the_largest_publish_the_relay_can_build_is_under_snss_limit() {
    let mut sizes: Vec<(usize, &str)> = FILLERS
        .iter()
        .map(|filler| (largest_publish(&largest(filler)), *filler))
        .collect();
    sizes.sort();
    let (largest_size, filler) = *sizes.last().unwrap();
    eprintln!(
        "largest Publish: {largest_size} bytes of {MAX_PUBLISH_BYTES} ({:.0} %), every string field at its bound of {filler:?}",
        100.0 * largest_size as f64 / MAX_PUBLISH_BYTES as f64
    );
    assert!(largest_size < MAX_PUBLISH_BYTES, "{sizes:?}");
    assert_eq!(
        largest_publish(&largest("\u{1}")),
        largest_size,
        "{sizes:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn no_mix_of_characters_builds_a_larger_publish(chars in proptest::collection::vec(any::<char>(), 1..8)) {
        let filler: String = chars.into_iter().collect();
        prop_assume!(!filler.trim().is_empty());
        let body = largest(&filler);
        let worst = largest_publish(&largest("\u{1}"));
        prop_assert!(largest_publish(&body) <= worst);
    }
}
