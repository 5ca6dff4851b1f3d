//! Properties over arbitrary input: signatures round-trip for any key and time, any
//! one-character change breaks them, and no body, however broken, panics or publishes.

mod common;

use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::inbound::redact::redact_stream_param;
use live_callback_relay::inbound::signature::{SignatureError, Verifier, sign};
use live_callback_relay::meaning::classify::Event;
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::relay::Chat;
use proptest::prelude::*;
use serde_json::{Value, json};

const HEX: &[u8] = b"0123456789abcdef";
const ANSWERS: [u16; 6] = [200, 400, 401, 405, 409, 413];

fn verify(key: &str, t: Value, sign: &str, now: u64) -> Result<(), SignatureError> {
    let raw = |v: &Value| serde_json::value::to_raw_value(v).unwrap();
    Verifier::new(vec![key.to_string()], 300, 600)
        .verify((), Some(&raw(&t)), Some(&raw(&json!(sign))), now)
        .map(|_| ())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Answers `body` and returns the status and how many notifications were published.
fn answer(body: Vec<u8>) -> (u16, usize) {
    let relay = Relay::new(
        &config(Some(
            "stream.started,stream.stopped,stream.stopped_abnormally",
        )),
        RecordingPublisher::new(),
    );
    let request = event(Gateway::FunctionUrl, "POST", &body, true);
    let status = runtime()
        .block_on(relay.handle(request, NOW))
        .status()
        .as_u16();
    (status, relay.publisher().published().len())
}

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,32}"
}

proptest! {
    #[test]
    fn a_sign_made_for_any_key_and_time_verifies_within_its_window(key in key(), t in 0u64..=u64::MAX / 2, early in 0u64..=900, late in 0u64..=300) {
        let good = sign(&key, t);
        prop_assert_eq!(verify(&key, json!(t), &good, t.saturating_sub(early)), Ok(()));
        prop_assert_eq!(verify(&key, json!(t.to_string()), &good.to_uppercase(), t + late), Ok(()));
    }

    #[test]
    fn changing_any_one_character_of_sign_is_rejected(key in key(), t in 1_000_000_000u64..3_000_000_000, at in 0usize..32, other in 0usize..16) {
        let good = sign(&key, t);
        let mut changed = good.clone().into_bytes();
        let replacement = HEX[other];
        prop_assume!(replacement != changed[at]);
        changed[at] = replacement;
        let changed = String::from_utf8(changed).unwrap();
        prop_assert_eq!(verify(&key, json!(t), &changed, t), Err(SignatureError::Mismatch));
    }

    #[test]
    fn changing_any_one_digit_of_t_is_rejected(key in key(), t in 1_000_000_000u64..3_000_000_000, at in 0usize..10, digit in 0u8..10) {
        let good = sign(&key, t);
        let mut digits = t.to_string().into_bytes();
        prop_assume!(digits[at] != b'0' + digit);
        digits[at] = b'0' + digit;
        let changed: u64 = String::from_utf8(digits).unwrap().parse().unwrap();
        // with the clock at the forged t, only the signature can refuse it
        prop_assert_eq!(verify(&key, json!(changed), &good, changed), Err(SignatureError::Mismatch));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_never_publish(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (status, published) = answer(body);
        prop_assert!(ANSWERS.contains(&status), "status {}", status);
        prop_assert_eq!(published, 0);
    }

    #[test]
    fn arbitrary_callback_shaped_json_never_panics_and_unsigned_never_publishes(
        fields in proptest::collection::btree_map(
            prop::sample::select(vec!["event_type", "t", "sign", "appid", "app", "appname", "stream_id", "event_time", "sequence", "errcode", "push_duration", "set_id", "width", "stream_param"]),
            prop_oneof![
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(|f| json!(f)),
                ".{0,40}".prop_map(Value::from),
                Just(Value::Null),
                Just(json!([1, {"a": []}])),
            ],
            0..14,
        )
    ) {
        let body = serde_json::to_vec(&fields).unwrap();
        let (status, published) = answer(body);
        prop_assert!(ANSWERS.contains(&status), "status {}", status);
        prop_assert_eq!(published, 0);
    }

    #[test]
    fn any_change_to_a_signed_body_keeps_a_defined_answer(at in 0usize..2000, byte in any::<u8>()) {
        let mut body = signed(INTERRUPT, json!({"errcode": 12})).into_bytes();
        let at = at % body.len();
        body[at] = byte;
        let (status, published) = answer(body);
        prop_assert!(ANSWERS.contains(&status), "status {}", status);
        prop_assert!(published <= 1);
        prop_assert!(published == 0 || status == StatusCode::OK.as_u16());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]
    #[test]
    fn redaction_never_panics_whatever_the_text(
        text in "[a-zA-Z0-9=&;,?#+ :/@%._\\\\\u{a0}\u{e9}\u{1f600}-]{0,120}",
    ) {
        let shown = redact_stream_param(&text);
        // masking only ever shortens what is masked: the text shown never grows past the
        // decoded text and a mask per character
        prop_assert!(shown.len() <= 3 * text.len().max(1));
    }
}

/// Percent-encodes every byte of `text`.
fn percent_encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn sensitive_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "txSecret",
        "TXSECRET",
        "txsecret",
        "usersig",
        "UserSig",
        "sig",
        "sign",
        "signature",
        "access_token",
        "token",
        "api_key",
        "apiKey",
        "X-Auth",
        "authorization",
        "password",
        "passwd",
        "pwd",
        "client_secret",
        "credential",
    ])
    .prop_map(str::to_string)
}

fn harmless_pair() -> impl Strategy<Value = String> {
    ("(h|r|a|b|txTime|quality|streamid|x)", "[a-z0-9/.]{0,8}")
        .prop_map(|(name, value)| format!("{name}={value}"))
}

/// How the push URL's parameters reach the relay: as they are, with the credential's name
/// percent-encoded, or the whole text encoded once or twice.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    Plain,
    NameEncoded,
    Once,
    Twice,
}

/// How the credential is written, innermost: `name=value` or `name:value`, with or without
/// spaces around the `=` or `:`, or as the password of a URL (with a scheme, `//` only, or
/// bare `user:password@host`), holding any character (encoded or not).
#[derive(Debug, Clone)]
enum Form {
    Pair {
        spaced: bool,
        operator: char,
    },
    UrlPassword {
        reserved: &'static str,
        authority: &'static str,
    },
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        (any::<bool>(), prop::sample::select(vec!['=', ':']))
            .prop_map(|(spaced, operator)| Form::Pair { spaced, operator }),
        (
            prop::sample::select(vec![
                "", "%2F", "%26", "%3F", "%23", "%2C", "%20", "%40", "%252F", ",", ";", "+", " ",
                "&", "=", ":", "@", "?", "#", "&token=",
            ]),
            prop::sample::select(vec!["rtmp://", "//", ""]),
        )
            .prop_map(|(reserved, authority)| Form::UrlPassword {
                reserved,
                authority
            }),
    ]
}

/// A credential value: two random runs joined as base64 or a token joins them (`+`, `/`),
/// with base64's padding or not; a leak of either run is a leak.
fn secret() -> impl Strategy<Value = (String, Vec<String>)> {
    (
        "[A-Z][a-z0-9]{7,15}",
        "[A-Z][a-z0-9]{7,15}",
        prop::sample::select(vec!["", "+", "/", "-", "_"]),
        prop::sample::select(vec!["", "=", "=="]),
    )
        .prop_map(|(a, b, join, padding)| (format!("{a}{join}{b}{padding}"), vec![a, b]))
}

/// What the credential is nested in, from the inside out: the value of another parameter
/// (`cb=token=...`), a percent-encoding of its own, or the query of a URL in a value.
#[derive(Debug, Clone)]
enum Nesting {
    Value(&'static str),
    Encoded,
    UrlQuery,
}

fn nesting() -> impl Strategy<Value = Vec<Nesting>> {
    proptest::collection::vec(
        prop_oneof![
            prop::sample::select(vec!["cb", "origin", "next", "x"]).prop_map(Nesting::Value),
            Just(Nesting::Encoded),
            Just(Nesting::UrlQuery),
        ],
        0..3,
    )
}

fn nested(credential: String, layers: &[Nesting]) -> String {
    layers.iter().fold(credential, |inner, layer| match layer {
        Nesting::Value(name) => format!("{name}={inner}"),
        Nesting::Encoded => percent_encoded(&inner),
        Nesting::UrlQuery => format!("next=https://hooks.example.com/cb?{inner}"),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn a_credential_never_reaches_a_rendering_an_attribute_or_a_log_line(
        name in sensitive_name(),
        (secret, runs) in secret(),
        more_secret in "[A-Z][a-z0-9]{11,15}",
        form in form(),
        layers in nesting(),
        before in proptest::collection::vec(harmless_pair(), 0..3),
        after in proptest::collection::vec(harmless_pair(), 0..3),
        separators in proptest::collection::vec(prop::sample::select(vec!["&", ";", ",", "+", " "]), 6),
        prefix in prop::sample::select(vec!["", "?", "#!::", "streamid=#!::"]),
        encoding in prop::sample::select(vec![Encoding::Plain, Encoding::NameEncoded, Encoding::Once, Encoding::Twice]),
        refused in any::<bool>(),
        with_chat in any::<bool>(),
    ) {
        let shown_name = match encoding {
            Encoding::NameEncoded => percent_encoded(&name),
            _ => name.clone(),
        };
        let credential = match &form {
            Form::Pair { spaced: false, operator } => format!("{shown_name}{operator}{secret}"),
            Form::Pair { spaced: true, operator } => format!("{shown_name} {operator} {secret}"),
            Form::UrlPassword { reserved, authority } => format!(
                "relay={authority}pusher:{secret}{reserved}{more_secret}@live.example.com/live/s"
            ),
        };
        let mut pairs = before.clone();
        pairs.push(nested(credential, &layers));
        pairs.extend(after.clone());
        let mut param = prefix.to_string();
        for (i, pair) in pairs.iter().enumerate() {
            if i > 0 {
                param.push_str(separators[i % separators.len()]);
            }
            param.push_str(pair);
        }
        let param = match encoding {
            Encoding::Once => percent_encoded(&param),
            Encoding::Twice => percent_encoded(&percent_encoded(&param)),
            _ => param,
        };
        // within stream_param's bound (encoding triples a text's length each time)
        prop_assume!(param.len() <= 4096);
        let body = signed(INTERRUPT, json!({"errcode": 12, "stream_param": param}));

        // a refused notification is the one whose log line carries the document
        let (captured, _guard) = capture_logs();
        let chat = RecordingPublisher::new();
        let relay = Relay::new(&config(None), RecordingPublisher::new());
        let relay = if with_chat {
            relay.with_chat(Chat { publisher: chat, events: Event::ALL.into_iter().collect() })
        } else {
            relay
        };
        relay.publisher().set_refusing(refused);
        let status = runtime().block_on(relay.handle(post(&body), NOW)).status();
        prop_assert_eq!(status, StatusCode::OK);
        let mut seen = vec![captured.text()];
        let posted = relay.chat().map(|chat| chat.publisher.published()).unwrap_or_default();
        for n in relay.publisher().published().iter().chain(&posted) {
            seen.extend([n.message.clone(), n.subject.clone()]);
            seen.extend(n.attributes.iter().map(|(_, v)| v.text().to_string()));
        }
        prop_assert!(refused || seen.len() > 1, "published");
        prop_assert!(!with_chat || !posted.is_empty(), "posted to chat");
        prop_assert!(!refused || seen[0].contains("document="), "{}", seen[0]);
        let mut hidden = runs.clone();
        if matches!(form, Form::UrlPassword { .. }) {
            hidden.push(more_secret.clone());
        }
        for text in &seen {
            for run in &hidden {
                prop_assert!(!text.contains(run.as_str()), "{} leaked from {:?} into {}", run, param, text);
                prop_assert!(!text.contains(&percent_encoded(run)));
            }
        }
    }
}
