//! One SNS message per notified event: a rendering for each kind of subscriber and the
//! attributes subscription filter policies match on.

use serde::Serialize;

use crate::inbound::callback::Callback;
use crate::inbound::signature::Authentic;
use crate::meaning::classify::Event;
use crate::meaning::stream_state::Notice;
use crate::outbound::chat;
use crate::outbound::document::Document;
use crate::outbound::sanitize::{escape_noncharacters, for_attribute};
use crate::outbound::telling::Telling;
use crate::outbound::text;

/// SNS's limit on one `Publish`: message, subject and every attribute's name, type and
/// value together.
pub const MAX_PUBLISH_BYTES: usize = 262_144;
/// A raw SQS subscription drops a message with more attributes than this.
pub const MAX_ATTRIBUTES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    String(String),
    Number(String),
}

impl AttributeValue {
    pub fn data_type(&self) -> &'static str {
        match self {
            AttributeValue::String(_) => "String",
            AttributeValue::Number(_) => "Number",
        }
    }

    pub fn text(&self) -> &str {
        match self {
            AttributeValue::String(s) | AttributeValue::Number(s) => s,
        }
    }
}

/// How SNS is to read the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// `MessageStructure=json`: a rendering per protocol, for the main topic.
    PerProtocol,
    /// One message for every subscriber, without a subject: for the chat topic.
    Single,
}

/// What is published; built only from a verified callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub event: Event,
    pub event_id: String,
    pub stream_id: String,
    pub structure: Structure,
    /// Empty for a single message.
    pub subject: String,
    /// With `PerProtocol`, the `default`, `email` and `sms` renderings; with `Single`,
    /// the chat message.
    pub message: String,
    /// With `PerProtocol`, the `default` rendering: the JSON document machines read.
    document: String,
    pub attributes: Vec<(&'static str, AttributeValue)>,
}

#[derive(Serialize)]
struct PerProtocol<'a> {
    default: &'a str,
    email: String,
    sms: String,
}

impl Notification {
    /// The notification of a verified callback as it is classified, as the stateless
    /// relay tells it.
    pub fn plain(callback: &Authentic<Callback>) -> Notification {
        let event = callback.get().classification().event;
        Notification::new(callback, &Notice::plain(event))
    }

    /// The notification `notice` makes of a verified callback (for an announcement, the
    /// stop that was held).
    pub fn new(callback: &Authentic<Callback>, notice: &Notice) -> Notification {
        Notification::telling(callback, &Telling::new(callback.get(), notice))
    }

    /// The chat topic's notification of what `notice` makes of a verified callback: an
    /// Amazon Q Developer custom notification.
    pub fn chat(callback: &Authentic<Callback>, notice: &Notice) -> Notification {
        Notification::chat_telling(callback, &Telling::new(callback.get(), notice))
    }

    /// The chat notification of `telling`, worked out from `callback`.
    pub fn chat_telling(callback: &Authentic<Callback>, telling: &Telling) -> Notification {
        let cb = callback.get();
        Notification {
            event: telling.event,
            event_id: telling.event_id.clone(),
            stream_id: cb.stream_id.clone(),
            structure: Structure::Single,
            subject: String::new(),
            message: chat::message(cb, telling),
            document: String::new(),
            attributes: Vec::new(),
        }
    }

    /// The notification of `telling`, worked out from `callback`.
    pub fn telling(callback: &Authentic<Callback>, telling: &Telling) -> Notification {
        let cb = callback.get();
        let document = escape_noncharacters(
            serde_json::to_string(&Document::new(cb, telling))
                .expect("a document of strings and integers always serializes"),
        );
        let message = serde_json::to_string(&PerProtocol {
            default: &document,
            email: text::email(cb, telling),
            sms: text::sms(cb, telling),
        })
        .expect("strings always serialize");

        // appid is a String: Tencent's APPIDs (10 digits) lie beyond the ±10^9 that SNS's
        // numeric filter matching accepts.
        let mut attributes = vec![
            ("event", string(telling.event.as_str())),
            ("event_id", string(&telling.event_id)),
            ("stream_id", string(&cb.stream_id)),
            ("app", string(&cb.app)),
            ("appname", string(&cb.appname)),
            ("appid", string(&cb.appid.to_string())),
            ("region", string(cb.region().as_str())),
        ];
        if telling.drop.is_none() && telling.reason.is_some() {
            attributes.push(("errcode", AttributeValue::Number(cb.errcode.to_string())));
        }
        if let Some(reason) = telling.reason {
            attributes.push(("reason", string(reason.as_str())));
        }
        // SNS refuses empty attribute values; an absent attribute matches no filter value.
        attributes.retain(|(_, value)| !value.text().trim().is_empty());
        for (_, value) in &mut attributes {
            if let AttributeValue::String(text) = value {
                *text = for_attribute(text);
            }
        }

        Notification {
            event: telling.event,
            subject: text::subject(cb, telling),
            event_id: telling.event_id.clone(),
            stream_id: cb.stream_id.clone(),
            structure: Structure::PerProtocol,
            message,
            document,
            attributes,
        }
    }

    /// The JSON document (the `default` rendering; the chat message itself).
    pub fn document(&self) -> &str {
        match self.structure {
            Structure::PerProtocol => &self.document,
            Structure::Single => &self.message,
        }
    }

    /// What SNS counts against its 256 KiB limit for this `Publish`.
    pub fn publish_size(&self) -> usize {
        self.message.len()
            + self.subject.len()
            + self
                .attributes
                .iter()
                .map(|(name, value)| name.len() + value.data_type().len() + value.text().len())
                .sum::<usize>()
    }
}

fn string(value: &str) -> AttributeValue {
    AttributeValue::String(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound;
    use crate::inbound::signature::{Verifier, sign};
    use serde_json::{Value, json};

    const START: &str = include_str!("../../tests/fixtures/seed_push_start.json");
    const STOP: &str = include_str!("../../tests/fixtures/seed_push_interrupt.json");

    fn notification(sample: &str, changes: Value) -> Notification {
        let mut body: Value = serde_json::from_str(sample).unwrap();
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        let t = body["t"].as_u64().unwrap();
        body["sign"] = json!(sign("key", t));
        let verifier = Verifier::new(vec!["key".into()], 300, 600);
        match inbound::read(body.to_string().as_bytes(), &verifier, t).unwrap() {
            Some(callback) => Notification::plain(&callback),
            None => panic!("a push event"),
        }
    }

    fn renderings(n: &Notification) -> (Value, String, String) {
        let message: Value = serde_json::from_str(&n.message).unwrap();
        let keys: Vec<_> = message.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["default", "email", "sms"]);
        (
            serde_json::from_str(message["default"].as_str().unwrap()).unwrap(),
            message["email"].as_str().unwrap().to_string(),
            message["sms"].as_str().unwrap().to_string(),
        )
    }

    fn abnormal_stop() -> Notification {
        notification(
            STOP,
            json!({"errcode": 12, "errmsg": "network error", "set_id": 9,
                   "stream_param": "txSecret=0f0e0d0c0b0a&txTime=65A0B1C2"}),
        )
    }

    #[test]
    fn machine_document_of_a_start() {
        let (doc, _, _) = renderings(&notification(START, json!({})));
        assert_eq!(
            doc,
            json!({
                "version": 2,
                "event": "stream.started",
                "event_id": "2210464508206756938-start-007bd95eba7144e6",
                "reason": null,
                "reason_description": null,
                "stream_id": "test_stream",
                "channel_id": "test_stream",
                "app": "test.domain.com",
                "appname": "live",
                "appid": 12345678,
                "sequence": "2210464508206756938",
                "event_time": "2023-12-28T02:44:38Z",
                "event_time_unix": 1703731478,
                "push_duration_ms": null,
                "errcode": 0,
                "errmsg": "ok",
                "region": "mainland",
                "set_id": 2,
                "node": "42.81.194.37",
                "user_ip": "1.1.1.1",
                "idc_id": 34,
                "width": 0,
                "height": 0,
                "stream_param": "stream_param=test",
                "held_for_secs": null,
                "gap_secs": null,
                "downtime_secs": null,
                "shown_by": null,
                "drop": null
            })
        );
    }

    #[test]
    fn machine_document_of_an_abnormal_stop() {
        let n = abnormal_stop();
        let (doc, _, _) = renderings(&n);
        assert_eq!(doc["event"], "stream.stopped_abnormally");
        assert_eq!(doc["event_id"], "2210464508206756938-stop-9f76b49bbd24aad1");
        assert_eq!(doc["reason"], "network");
        assert_eq!(
            doc["reason_description"],
            "The network on the push link was abnormal."
        );
        assert_eq!(doc["push_duration_ms"], 128581);
        assert_eq!(doc["errcode"], 12);
        assert_eq!(doc["region"], "international");
        assert_eq!(doc["stream_param"], "txSecret=***&txTime=65A0B1C2");
    }

    #[test]
    fn attributes_of_a_start() {
        let n = notification(START, json!({}));
        let s = |v: &str| AttributeValue::String(v.into());
        assert_eq!(
            n.attributes,
            vec![
                ("event", s("stream.started")),
                ("event_id", s("2210464508206756938-start-007bd95eba7144e6")),
                ("stream_id", s("test_stream")),
                ("app", s("test.domain.com")),
                ("appname", s("live")),
                ("appid", s("12345678")),
                ("region", s("mainland")),
            ]
        );
    }

    #[test]
    fn attributes_of_a_stop_carry_errcode_and_reason_and_match_the_document() {
        let n = abnormal_stop();
        let (doc, _, _) = renderings(&n);
        assert!(
            n.attributes
                .contains(&("errcode", AttributeValue::Number("12".into())))
        );
        assert!(
            n.attributes
                .contains(&("reason", AttributeValue::String("network".into())))
        );
        for (name, value) in &n.attributes {
            let in_doc = match &doc[*name] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let attr = match value {
                AttributeValue::String(s) | AttributeValue::Number(s) => s,
            };
            assert_eq!(&in_doc, attr, "{name}");
        }
    }

    #[test]
    fn empty_strings_are_not_sent_as_attributes() {
        let n = notification(START, json!({"app": ""}));
        assert!(n.attributes.iter().all(|(name, _)| *name != "app"));
    }

    #[test]
    fn email_tells_a_person_what_happened() {
        let (_, email, _) = renderings(&abnormal_stop());
        assert_eq!(
            email,
            "The stream \"test_stream\" stopped abnormally. The network on the push link was abnormal.\n\
             \n\
             Stream:      test_stream\n\
             Domain:      test.domain.com\n\
             App path:    live\n\
             Stopped at:  2023-12-28 02:46:46 UTC\n\
             Live for:    2 min 08 s\n\
             Why:         network (errcode 12: \"network error\")\n\
             Pushed from: 1.1.1.1 (outside the Chinese mainland), access node 42.81.194.37\n\
             Push params: txSecret=***&txTime=65A0B1C2\n\
             Sequence:    2210464508206756938\n\
             Event ID:    2210464508206756938-stop-9f76b49bbd24aad1\n\
             \n\
             -- \n\
             Sent by live-callback-relay for Tencent Cloud live streaming (APPID 12345678).\n"
        );
    }

    #[test]
    fn email_of_a_start_and_of_a_normal_stop() {
        let (_, email, _) =
            renderings(&notification(START, json!({"width": 1920, "height": 1080})));
        assert!(email.starts_with("The stream \"test_stream\" went live.\n"));
        assert!(email.contains("Started at:  2023-12-28 02:44:38 UTC\n"));
        assert!(email.contains("Video:       1920x1080\n"));
        let (_, email, _) = renderings(&notification(STOP, json!({})));
        assert!(email.starts_with("The stream \"test_stream\" was stopped by its pusher.\n"));
        assert!(email.contains("Why:         client_stopped (errcode 1:"));
    }

    #[test]
    fn sms_is_one_short_line() {
        let (_, _, sms) = renderings(&abnormal_stop());
        assert_eq!(
            sms,
            "Stream test_stream dropped (network, errcode 12) at 02:46 UTC."
        );
        let long = "x".repeat(500);
        let (_, _, sms) = renderings(&notification(START, json!({"stream_id": long})));
        assert!(sms.chars().count() < 100, "{sms}");
        assert!(!sms.contains('\n'));
    }

    #[test]
    fn subjects() {
        assert_eq!(
            notification(START, json!({})).subject,
            "Stream started: test_stream on test.domain.com/live"
        );
        assert_eq!(
            notification(STOP, json!({})).subject,
            "Stream stopped: test_stream on test.domain.com/live"
        );
        assert_eq!(
            abnormal_stop().subject,
            "Stream dropped (network): test_stream on test.domain.com/live"
        );
    }

    #[test]
    fn subject_is_short_printable_ascii_whatever_the_stream_name() {
        for name in [
            "直播间\r\nBcc: victim@example.com".to_string(),
            "\u{0}\u{7f}\t".to_string(),
            "a".repeat(300),
            "é".repeat(120),
        ] {
            let subject = notification(START, json!({ "stream_id": name })).subject;
            assert!(subject.len() <= 99, "{subject}");
            assert!(
                subject.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "{subject:?}"
            );
        }
    }

    #[test]
    fn control_characters_cannot_forge_email_lines() {
        let (_, email, _) = renderings(&notification(
            START,
            json!({"stream_id": "cam\nEvent ID:    forged"}),
        ));
        assert!(!email.contains("\nEvent ID:    forged"), "{email}");
    }

    #[test]
    fn no_secret_reaches_any_rendering() {
        let n = abnormal_stop();
        assert!(!n.message.contains("0f0e0d0c0b0a"));
        assert!(!n.message.contains(&sign("key", 1703732206)));
        assert!(!n.subject.contains("0f0e0d0c0b0a"));
    }

    #[test]
    fn format_and_separator_characters_never_reach_a_person() {
        let hostile = "cam\u{202e}lanigiro\u{2028}Event ID:    forged\u{2029}\u{200b}\u{feff}\u{2066}x\u{2069}";
        let n = notification(
            STOP,
            json!({"errcode": 12, "stream_id": hostile, "errmsg": hostile, "node": hostile}),
        );
        let (doc, email, sms) = renderings(&n);
        for text in [&email, &sms, &n.subject] {
            for c in [
                '\u{202e}', '\u{2028}', '\u{2029}', '\u{200b}', '\u{feff}', '\u{2066}', '\u{2069}',
            ] {
                assert!(!text.contains(c), "{c:?} in {text:?}");
            }
        }
        assert!(!email.contains("\nEvent ID:    forged"), "{email}");
        assert_eq!(doc["stream_id"], hostile, "machines get the data as sent");
    }

    #[test]
    fn attribute_values_carry_no_control_character_and_blank_ones_are_dropped() {
        let n = notification(
            START,
            json!({"stream_id": "cam\u{1}\u{b}\u{1f}\u{ffff}1", "app": " \t ", "appname": "li\nve"}),
        );
        let sqs_accepts = |c: char| matches!(u32::from(c), 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF);
        for (name, value) in &n.attributes {
            assert!(value.text().chars().all(sqs_accepts), "{name}: {value:?}");
            assert!(
                !value.text().chars().any(char::is_control),
                "{name}: {value:?}"
            );
        }
        let attr = |name: &str| {
            n.attributes
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.text().to_string())
        };
        assert_eq!(
            attr("stream_id").as_deref(),
            Some("cam\u{fffd}\u{fffd}\u{fffd}\u{fffd}1")
        );
        assert_eq!(attr("appname").as_deref(), Some("li\u{fffd}ve"));
        assert_eq!(attr("app"), None);
    }

    #[test]
    fn appid_is_a_string_attribute_and_a_number_in_the_document() {
        let n = notification(START, json!({"appid": 1253488539u64}));
        assert!(
            n.attributes
                .contains(&("appid", AttributeValue::String("1253488539".into())))
        );
        let (doc, _, _) = renderings(&n);
        assert_eq!(doc["appid"], 1253488539u64);
    }

    #[test]
    fn no_notification_has_more_attributes_than_a_raw_sqs_subscription_takes() {
        for n in [
            notification(START, json!({})),
            notification(STOP, json!({})),
            abnormal_stop(),
        ] {
            assert!(n.attributes.len() <= MAX_ATTRIBUTES, "{:?}", n.attributes);
        }
    }

    #[test]
    fn noncharacters_reach_the_document_only_as_escapes() {
        let n = notification(START, json!({"stream_id": "a\u{ffff}b\u{fffe}"}));
        assert!(!n.message.contains('\u{ffff}') && !n.message.contains('\u{fffe}'));
        assert!(!n.document().contains('\u{ffff}'));
        let (doc, email, _) = renderings(&n);
        assert_eq!(doc["stream_id"], "a\u{ffff}b\u{fffe}");
        assert!(email.contains("a\u{fffd}b\u{fffd}"), "{email}");
    }

    #[test]
    fn a_subject_names_only_the_place_it_knows() {
        assert_eq!(
            notification(START, json!({"app": "", "appname": ""})).subject,
            "Stream started: test_stream"
        );
        assert_eq!(
            notification(START, json!({"appname": ""})).subject,
            "Stream started: test_stream on test.domain.com"
        );
        assert_eq!(
            notification(START, json!({"app": ""})).subject,
            "Stream started: test_stream in app live"
        );
        assert_eq!(
            notification(START, json!({"app": " ", "appname": "\t"})).subject,
            "Stream started: test_stream"
        );
    }

    /// GSM 03.38's basic character set: an SMS made only of these fits 160 per segment.
    const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    #[test]
    fn an_sms_about_a_plainly_named_stream_fits_one_gsm_segment() {
        for n in [
            notification(START, json!({"stream_id": "s".repeat(500)})),
            notification(STOP, json!({"stream_id": "s".repeat(500), "errcode": 13})),
            notification(STOP, json!({"stream_id": "s".repeat(500), "errcode": 1})),
        ] {
            let (_, _, sms) = renderings(&n);
            assert!(sms.chars().count() <= 160, "{sms}");
            assert!(sms.chars().all(|c| GSM_BASIC.contains(c)), "{sms}");
        }
    }
}
