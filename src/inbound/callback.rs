//! Decoding a push/interrupt callback body, in two passes: the envelope (`event_type`,
//! `t`, `sign`) first, so that unsigned event types and bad signatures are told apart
//! from malformed bodies; then, once verified, every field of Tencent's tables.

use md5::{Digest, Md5};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::inbound::redact::redact_stream_param;
use crate::meaning::classify::{Classification, PushEvent, classify};

/// The longest value, in bytes, each string field may have. Real values are far shorter
/// (a domain name, an IP address, a 19-digit sequence); anything longer is malformed, and
/// these bounds keep every notification built from a callback within SNS's size limit.
pub const FIELD_BOUNDS: [(&str, usize); 9] = [
    ("app", 253),
    ("appname", 256),
    ("stream_id", 512),
    ("channel_id", 512),
    ("sequence", 64),
    ("node", 64),
    ("user_ip", 64),
    ("stream_param", 4096),
    ("errmsg", 1024),
];

/// 9999-12-31T23:59:59Z: the last instant RFC 3339 can write.
pub const MAX_EVENT_TIME: u64 = 253_402_300_799;

/// Why a body could not be decoded. The texts never echo a field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("body is not a JSON object: {0}")]
    NotJsonObject(String),
    #[error("event_type is missing")]
    MissingEventType,
    #[error("event_type is not an integer")]
    EventTypeNotInteger,
    #[error("field is missing or has the wrong type: {0}")]
    InvalidField(String),
    #[error("{0} is empty or blank")]
    BlankField(&'static str),
    #[error("sequence holds a character other than letters, digits, '-', '_', '.' and ':'")]
    SequenceNotPlain,
    #[error("{field} is {len} bytes long, over its bound of {bound}")]
    FieldTooLong {
        field: &'static str,
        len: usize,
        bound: usize,
    },
    #[error("event_time lies beyond the year 9999")]
    EventTimeOutOfRange,
    #[error("errcode is missing from an interrupt callback")]
    MissingErrcode,
}

/// The fields needed before verification: what kind of callback, and its signature,
/// `t` and `sign` kept as their raw JSON text so that the verifier parses them itself.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    event_type: Option<Value>,
    #[serde(borrow)]
    pub t: Option<&'a RawValue>,
    #[serde(borrow)]
    pub sign: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Envelope<'a>, DecodeError> {
        let text = std::str::from_utf8(body)
            .map_err(|e| DecodeError::NotJsonObject(format!("not UTF-8: {e}")))?;
        require_object(text.as_bytes()).map_err(DecodeError::NotJsonObject)?;
        serde_json::from_str(text).map_err(|e| DecodeError::NotJsonObject(describe(&e)))
    }

    /// The push event this callback reports, or `None` for other callback types.
    pub fn push_event(&self) -> Result<Option<PushEvent>, DecodeError> {
        let event_type = self
            .event_type
            .as_ref()
            .ok_or(DecodeError::MissingEventType)?
            .as_i64()
            .ok_or(DecodeError::EventTypeNotInteger)?;
        Ok(PushEvent::from_event_type(event_type))
    }
}

/// serde's derived structs also accept a JSON array, field by field: only an object is a
/// callback. JSON allows space, tab, line feed and carriage return before it.
fn require_object(body: &[u8]) -> Result<(), String> {
    match body
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        Some(b'{') => Ok(()),
        Some(_) => Err("the top-level value is not an object".into()),
        None => Err("the body is empty".into()),
    }
}

/// A decoded push or interrupt callback. `stream_param` is already redacted. Serialized,
/// it is the canonical form of what the callback says, which its `event_id` digests; read
/// back, a stop (the only kind stored, in a hold, which keeps its `event_id` beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Callback {
    #[serde(skip, default = "stored_push")]
    pub push: PushEvent,
    /// See [`Callback::event_id`].
    #[serde(skip)]
    pub event_id: String,
    pub appid: u64,
    pub app: String,
    pub appname: String,
    pub stream_id: String,
    pub channel_id: String,
    pub event_time: u64,
    pub sequence: String,
    pub node: String,
    pub user_ip: String,
    pub stream_param: String,
    pub push_duration_ms: Option<u64>,
    pub errcode: i64,
    pub errmsg: String,
    pub set_id: Option<u32>,
    pub width: u32,
    pub height: u32,
    pub idc_id: Option<i64>,
}

/// Where the push came from, as Tencent's `set_id` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Mainland,
    International,
    Unknown,
}

impl Region {
    pub fn from_set_id(set_id: Option<u32>) -> Region {
        match set_id {
            Some(1..=6) => Region::Mainland,
            Some(7..=200) => Region::International,
            _ => Region::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Mainland => "mainland",
            Region::International => "international",
            Region::Unknown => "unknown",
        }
    }
}

impl Callback {
    /// Decodes every documented field of a push (`push`) callback body.
    pub fn decode(body: &[u8], push: PushEvent) -> Result<Callback, DecodeError> {
        require_object(body).map_err(DecodeError::InvalidField)?;
        let wire: Wire =
            serde_json::from_slice(body).map_err(|e| DecodeError::InvalidField(describe(&e)))?;
        for (field, value) in [("stream_id", &wire.stream_id), ("sequence", &wire.sequence)] {
            if value.trim().is_empty() {
                return Err(DecodeError::BlankField(field));
            }
        }
        // Tencent's sequences are digits; keeping them plain keeps every `event_id` the
        // same wherever it is shown (an attribute value is sanitised, a document escaped).
        let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':');
        if !wire.sequence.bytes().all(plain) {
            return Err(DecodeError::SequenceNotPlain);
        }
        for ((field, bound), value) in FIELD_BOUNDS.into_iter().zip(wire.bounded_strings()) {
            if value.len() > bound {
                let len = value.len();
                return Err(DecodeError::FieldTooLong { field, len, bound });
            }
        }
        if wire.event_time > MAX_EVENT_TIME {
            return Err(DecodeError::EventTimeOutOfRange);
        }
        let errcode = match (push, wire.errcode) {
            (_, Some(code)) => code,
            (PushEvent::Started, None) => 0,
            (PushEvent::Interrupted, None) => return Err(DecodeError::MissingErrcode),
        };
        let mut callback = Callback {
            push,
            event_id: String::new(),
            appid: wire.appid,
            app: wire.app,
            appname: wire.appname,
            stream_id: wire.stream_id,
            channel_id: wire.channel_id,
            event_time: wire.event_time,
            sequence: wire.sequence,
            node: wire.node,
            user_ip: wire.user_ip,
            stream_param: redact_stream_param(&wire.stream_param),
            push_duration_ms: wire.push_duration,
            errcode,
            errmsg: wire.errmsg,
            set_id: wire.set_id,
            width: wire.width,
            height: wire.height,
            idc_id: wire.idc_id,
        };
        callback.event_id = callback.content_id();
        Ok(callback)
    }

    pub fn classification(&self) -> Classification {
        classify(self.push, self.errcode)
    }

    /// The identity subscribers deduplicate on: `<sequence>-<start|stop>-<digest>`. The
    /// start and the stop of one push share `sequence`, so the kind is part of it; the
    /// digest (64 bits of MD5) covers everything the callback says (its decoded fields,
    /// `stream_param` already masked; not `t` or `sign`), so that a retry of the same
    /// callback has the same identity and a different body claiming the same push never does.
    fn content_id(&self) -> String {
        let kind = match self.push {
            PushEvent::Started => "start",
            PushEvent::Interrupted => "stop",
        };
        let canonical =
            serde_json::to_vec(self).expect("a callback of strings and integers serializes");
        let digest: [u8; 16] = Md5::digest(&canonical).into();
        format!("{}-{kind}-{}", self.sequence, hex::encode(&digest[..8]))
    }

    /// The identity of the start a stop implies, told when that start was never seen:
    /// `<sequence>-start-<this stop's digest>`.
    pub fn implied_start_id(&self) -> String {
        let digest = self.event_id.rsplit('-').next().unwrap_or_default();
        format!("{}-start-{digest}", self.sequence)
    }

    pub fn region(&self) -> Region {
        Region::from_set_id(self.set_id)
    }
}

/// What the relay stores of a callback is a held stop.
fn stored_push() -> PushEvent {
    PushEvent::Interrupted
}

#[derive(Deserialize)]
struct Wire {
    appid: u64,
    app: String,
    appname: String,
    stream_id: String,
    #[serde(default)]
    channel_id: String,
    event_time: u64,
    sequence: String,
    #[serde(default)]
    node: String,
    #[serde(default)]
    user_ip: String,
    #[serde(default)]
    stream_param: String,
    #[serde(default, deserialize_with = "number_or_digits")]
    push_duration: Option<u64>,
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: String,
    set_id: Option<u32>,
    #[serde(default)]
    width: u32,
    #[serde(default)]
    height: u32,
    idc_id: Option<i64>,
}

impl Wire {
    /// The string fields, in the order of [`FIELD_BOUNDS`].
    fn bounded_strings(&self) -> [&str; 9] {
        [
            &self.app,
            &self.appname,
            &self.stream_id,
            &self.channel_id,
            &self.sequence,
            &self.node,
            &self.user_ip,
            &self.stream_param,
            &self.errmsg,
        ]
    }
}

/// A count Tencent sends as a JSON number in some versions and a string of digits in others.
fn number_or_digits<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("push_duration is not an unsigned integer")),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom("push_duration is out of range")),
        Some(_) => Err(D::Error::custom(
            "push_duration is neither a number nor a string of digits",
        )),
    }
}

/// serde_json's message without any quoted value it may echo (a body can carry secrets).
fn describe(error: &serde_json::Error) -> String {
    let mut out = String::new();
    let mut in_quotes = false;
    let mut escaped = false;
    for c in error.to_string().chars() {
        match (in_quotes, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, true, _) => escaped = false,
            (true, false, '"') => {
                in_quotes = false;
                out.push_str("…\"");
            }
            (true, false, _) => {}
            (false, _, '"') => {
                in_quotes = true;
                out.push('"');
            }
            (false, _, _) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meaning::classify::{Event, Reason};
    use serde_json::json;
    use serde_json::value::RawValue;

    const START_SAMPLE: &str = include_str!("../../tests/fixtures/seed_push_start.json");
    const STOP_SAMPLE: &str = include_str!("../../tests/fixtures/seed_push_interrupt.json");

    fn decode(body: &str) -> Result<Callback, DecodeError> {
        let push = Envelope::parse(body.as_bytes())?
            .push_event()?
            .expect("a push event");
        Callback::decode(body.as_bytes(), push)
    }

    fn with(sample: &str, field: &str, value: Value) -> String {
        let mut v: Value = serde_json::from_str(sample).unwrap();
        v[field] = value;
        v.to_string()
    }

    fn without(sample: &str, field: &str) -> String {
        let mut v: Value = serde_json::from_str(sample).unwrap();
        v.as_object_mut().unwrap().remove(field);
        v.to_string()
    }

    #[test]
    fn seed_push_start_sample_decodes_every_field() {
        let envelope = Envelope::parse(START_SAMPLE.as_bytes()).unwrap();
        assert_eq!(envelope.t.map(RawValue::get), Some("1703732078"));
        assert_eq!(
            envelope.sign.map(RawValue::get),
            Some("\"df49************************f5d4\"")
        );
        assert_eq!(
            decode(START_SAMPLE).unwrap(),
            Callback {
                push: PushEvent::Started,
                // md5 of the canonical JSON (keys in this order, no spaces), as Python's
                // hashlib computes it: 007bd95eba7144e6...
                event_id: "2210464508206756938-start-007bd95eba7144e6".into(),
                appid: 12345678,
                app: "test.domain.com".into(),
                appname: "live".into(),
                stream_id: "test_stream".into(),
                channel_id: "test_stream".into(),
                event_time: 1703731478,
                sequence: "2210464508206756938".into(),
                node: "42.81.194.37".into(),
                user_ip: "1.1.1.1".into(),
                stream_param: "stream_param=test".into(),
                push_duration_ms: None,
                errcode: 0,
                errmsg: "ok".into(),
                set_id: Some(2),
                width: 0,
                height: 0,
                idc_id: Some(34),
            }
        );
    }

    #[test]
    fn seed_interrupt_sample_decodes_as_a_normal_stop() {
        let cb = decode(STOP_SAMPLE).unwrap();
        assert_eq!(cb.push, PushEvent::Interrupted);
        assert_eq!(cb.push_duration_ms, Some(128581));
        assert_eq!(cb.errcode, 1);
        assert_eq!(cb.event_time, 1703731606);
        assert_eq!(
            cb.classification(),
            Classification {
                event: Event::Stopped,
                reason: Some(Reason::ClientStopped)
            }
        );
    }

    #[test]
    fn start_and_stop_of_one_push_have_distinct_event_ids() {
        let start = decode(START_SAMPLE).unwrap();
        let stop = decode(STOP_SAMPLE).unwrap();
        assert!(start.event_id.starts_with("2210464508206756938-start-"));
        assert!(stop.event_id.starts_with("2210464508206756938-stop-"));
        for id in [&start.event_id, &stop.event_id] {
            let digest = id.rsplit('-').next().unwrap();
            assert_eq!(digest.len(), 16, "{id}");
            assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
    }

    #[test]
    fn the_event_id_covers_what_the_callback_says_and_not_its_signature() {
        let genuine = decode(STOP_SAMPLE).unwrap().event_id;
        let retried = with(
            &with(STOP_SAMPLE, "t", json!(1703732999)),
            "sign",
            json!("f".repeat(32)),
        );
        assert_eq!(decode(&retried).unwrap().event_id, genuine);
        for (field, value) in [
            ("errcode", json!(12)),
            ("event_time", json!(1703731607)),
            ("stream_id", json!("other")),
            ("push_duration", json!("1")),
            ("errmsg", json!("forged")),
            ("idc_id", json!(35)),
        ] {
            let forged = decode(&with(STOP_SAMPLE, field, value)).unwrap();
            assert_ne!(forged.event_id, genuine, "{field}");
            assert!(forged.event_id.starts_with("2210464508206756938-stop-"));
        }
    }

    #[test]
    fn push_duration_as_number_or_string() {
        for value in [json!(128581), json!("128581")] {
            let cb = decode(&with(STOP_SAMPLE, "push_duration", value)).unwrap();
            assert_eq!(cb.push_duration_ms, Some(128581));
        }
        let cb = decode(&with(STOP_SAMPLE, "push_duration", json!(""))).unwrap();
        assert_eq!(cb.push_duration_ms, None);
        for bad in [json!("12s"), json!(-5), json!(1.5), json!(true)] {
            assert!(
                matches!(
                    decode(&with(STOP_SAMPLE, "push_duration", bad.clone())),
                    Err(DecodeError::InvalidField(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn width_and_height_are_kept() {
        let body = with(
            &with(START_SAMPLE, "width", json!(1280)),
            "height",
            json!(720),
        );
        let cb = decode(&body).unwrap();
        assert_eq!((cb.width, cb.height), (1280, 720));
    }

    #[test]
    fn unknown_fields_are_ignored_and_optional_fields_default() {
        let mut body = with(START_SAMPLE, "brand_new_field", json!({"nested": [1, 2]}));
        for field in [
            "channel_id",
            "node",
            "user_ip",
            "stream_param",
            "errcode",
            "errmsg",
            "set_id",
            "width",
            "height",
            "idc_id",
        ] {
            body = without(&body, field);
        }
        let cb = decode(&body).unwrap();
        assert_eq!(cb.channel_id, "");
        assert_eq!(cb.set_id, None);
        assert_eq!(cb.region(), Region::Unknown);
        assert_eq!(cb.idc_id, None);
    }

    #[test]
    fn required_fields_missing_are_invalid() {
        for field in [
            "appid",
            "app",
            "appname",
            "stream_id",
            "event_time",
            "sequence",
        ] {
            let err = decode(&without(START_SAMPLE, field)).unwrap_err();
            assert!(
                matches!(&err, DecodeError::InvalidField(m) if m.contains(field)),
                "{field}: {err}"
            );
        }
        assert_eq!(
            decode(&without(STOP_SAMPLE, "errcode")),
            Err(DecodeError::MissingErrcode)
        );
    }

    #[test]
    fn wrong_types_are_invalid_and_the_value_is_not_echoed() {
        let err = decode(&with(START_SAMPLE, "appid", json!("txSecret=abcdef"))).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, DecodeError::InvalidField(_)));
        assert!(!text.contains("abcdef"), "{text}");
        for (field, value) in [
            ("stream_id", json!(5)),
            ("event_time", json!(-1)),
            ("set_id", json!("2")),
            ("errcode", json!("1")),
            ("width", json!(-1)),
        ] {
            assert!(
                matches!(
                    decode(&with(STOP_SAMPLE, field, value)),
                    Err(DecodeError::InvalidField(_))
                ),
                "{field}"
            );
        }
    }

    #[test]
    fn identity_fields_must_not_be_empty_or_blank() {
        for blank in ["", " ", "\t\n", "\u{3000}"] {
            assert_eq!(
                decode(&with(START_SAMPLE, "stream_id", json!(blank))),
                Err(DecodeError::BlankField("stream_id")),
                "{blank:?}"
            );
            assert_eq!(
                decode(&with(START_SAMPLE, "sequence", json!(blank))),
                Err(DecodeError::BlankField("sequence")),
                "{blank:?}"
            );
        }
    }

    #[test]
    fn a_sequence_is_plain() {
        for sequence in [
            "22104645 08",
            "2210\u{1}",
            "序列",
            "2210\u{202e}",
            "a\"b",
            "a/b",
        ] {
            assert_eq!(
                decode(&with(START_SAMPLE, "sequence", json!(sequence))),
                Err(DecodeError::SequenceNotPlain),
                "{sequence:?}"
            );
        }
        let uuid = decode(&with(START_SAMPLE, "sequence", json!("0f8e-Ab_9.1:2"))).unwrap();
        assert!(uuid.event_id.starts_with("0f8e-Ab_9.1:2-start-"));
    }

    #[test]
    fn every_string_field_is_bounded() {
        for (field, bound) in FIELD_BOUNDS {
            let at_bound = with(STOP_SAMPLE, field, json!("7".repeat(bound)));
            assert!(decode(&at_bound).is_ok(), "{field} at {bound}");
            let over = with(STOP_SAMPLE, field, json!("7".repeat(bound + 1)));
            assert_eq!(
                decode(&over),
                Err(DecodeError::FieldTooLong {
                    field,
                    len: bound + 1,
                    bound
                }),
                "{field}"
            );
        }
    }

    #[test]
    fn event_time_must_be_writable_in_rfc3339() {
        let last = with(START_SAMPLE, "event_time", json!(MAX_EVENT_TIME));
        assert_eq!(decode(&last).unwrap().event_time, MAX_EVENT_TIME);
        let beyond = with(START_SAMPLE, "event_time", json!(MAX_EVENT_TIME + 1));
        assert_eq!(decode(&beyond), Err(DecodeError::EventTimeOutOfRange));
    }

    #[test]
    fn only_a_json_object_is_a_callback_in_either_pass() {
        for body in [
            "[1, 1703732078, \"5ee8ca6c28cbe415b40352969cdf8249\"]",
            "[100]",
            " \n[0]",
            "\"text\"",
            "1",
            "null",
            "",
            "   ",
        ] {
            assert!(
                matches!(
                    Envelope::parse(body.as_bytes()),
                    Err(DecodeError::NotJsonObject(_))
                ),
                "{body:?}"
            );
            assert!(
                matches!(
                    Callback::decode(body.as_bytes(), PushEvent::Started),
                    Err(DecodeError::InvalidField(_))
                ),
                "{body:?}"
            );
        }
        assert!(Envelope::parse(b" \r\n\t{\"event_type\":1}").is_ok());
    }

    #[test]
    fn envelope_errors() {
        assert!(matches!(
            Envelope::parse(b"not json"),
            Err(DecodeError::NotJsonObject(_))
        ));
        assert!(matches!(
            Envelope::parse(b"{\"event_type\":1,\"x\":\"\xff\"}"),
            Err(DecodeError::NotJsonObject(_))
        ));
        assert!(matches!(
            Envelope::parse(b"[1,2]"),
            Err(DecodeError::NotJsonObject(_))
        ));
        assert!(matches!(
            Envelope::parse(br#"{"event_type":1,"event_type":0}"#),
            Err(DecodeError::NotJsonObject(_))
        ));
        let missing = Envelope::parse(b"{}").unwrap();
        assert_eq!(missing.push_event(), Err(DecodeError::MissingEventType));
        for bad in [r#"{"event_type":"1"}"#, r#"{"event_type":1.5}"#] {
            let envelope = Envelope::parse(bad.as_bytes()).unwrap();
            assert_eq!(envelope.push_event(), Err(DecodeError::EventTypeNotInteger));
        }
        let other = Envelope::parse(br#"{"event_type":100}"#).unwrap();
        assert_eq!(other.push_event(), Ok(None));
    }

    #[test]
    fn stream_param_is_redacted_on_decode() {
        let body = with(
            START_SAMPLE,
            "stream_param",
            json!("txSecret=0123456789abcdef&txTime=65A0B1C2&quality=hd"),
        );
        assert_eq!(
            decode(&body).unwrap().stream_param,
            "txSecret=***&txTime=65A0B1C2&quality=hd"
        );
    }

    #[test]
    fn region_from_set_id() {
        assert_eq!(Region::from_set_id(Some(1)), Region::Mainland);
        assert_eq!(Region::from_set_id(Some(6)), Region::Mainland);
        assert_eq!(Region::from_set_id(Some(7)), Region::International);
        assert_eq!(Region::from_set_id(Some(200)), Region::International);
        assert_eq!(Region::from_set_id(Some(0)), Region::Unknown);
        assert_eq!(Region::from_set_id(Some(201)), Region::Unknown);
    }
}
