//! Configuration from the environment, read once at cold start.

use std::collections::HashSet;
use std::fmt;
use std::ops::RangeInclusive;

use crate::aws::setup::TrustRoots;
use crate::meaning::classify::Event;

pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 300;
pub const DEFAULT_MAX_VALIDITY_SECS: u64 = 600;
/// The values each number of seconds may take (the template's parameters allow the same).
pub const CLOCK_SKEW_SECS: RangeInclusive<u64> = 0..=86_400;
pub const MAX_VALIDITY_SECS: RangeInclusive<u64> = 1..=86_400;
/// 0 is off; Mux allows the same range.
pub const RECONNECT_WINDOW_SECS: RangeInclusive<u64> = 0..=1_800;
/// How long after a hold's park failed the sweep parks it: after Tencent's retries (which
/// park it too) are over, by default.
pub const DEFAULT_SWEEP_AFTER_SECS: u64 = crate::inbound::TENCENT_RETRY_SECS;
pub const SWEEP_AFTER_SECS: RangeInclusive<u64> = 0..=86_400;
/// The template's `maxReceiveCount` of the hold queue, and what SQS allows.
pub const DEFAULT_HOLD_MAX_RECEIVES: u64 = 10;
pub const HOLD_MAX_RECEIVES: RangeInclusive<u64> = 1..=1_000;
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
const MAX_KEY_LEN: usize = 32;
/// CloudWatch's limit on a namespace, in characters.
const MAX_NAMESPACE_LEN: usize = 255;
/// The SDK's endpoint overrides the relay's clients honour.
const ENDPOINT_OVERRIDES: [&str; 4] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
];
/// Variables of earlier releases, and what replaced them.
const REPLACED: [(&str, &str); 2] = [
    (
        "IDEMPOTENCY_TABLE",
        "replaced by STATE_TABLE, a table keyed on `pk` (README, \"The state table\"); create it and set STATE_TABLE",
    ),
    (
        "IDEMPOTENCY_TTL_SECS",
        "no longer used: a record is kept an hour, and as long as its callback stays acceptable",
    ),
];

#[derive(Clone)]
pub struct Config {
    pub topic_arn: String,
    pub callback_keys: Vec<String>,
    pub notify_events: HashSet<Event>,
    pub clock_skew_secs: u64,
    pub max_validity_secs: u64,
    pub state: State,
    /// Amazon's roots for AWS endpoints; the system's when an endpoint is overridden.
    pub trust_roots: TrustRoots,
    /// The chat topic (Amazon Q Developer in chat applications) and what is posted there.
    pub chat: Option<Chat>,
    pub metrics_namespace: String,
    /// The hold queue's `maxReceiveCount`: a hold failing its last receive is counted as
    /// dead-lettered.
    pub hold_max_receives: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub topic_arn: String,
    pub events: HashSet<Event>,
}

/// What the relay remembers between callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Nothing: every verified callback is told as it is.
    Stateless,
    /// Claims in the state table, so that Tencent's retries of a published callback are
    /// not published again.
    Deduplicated { table: String },
    /// Streams' states in the state table and held drops on the hold queue: abnormal stops
    /// are told only if the stream has not come back within `window_secs`.
    ReconnectWindow {
        table: String,
        hold_queue_url: String,
        window_secs: u64,
        /// How long after a failed park the sweep parks the hold.
        sweep_after_secs: u64,
    },
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut events: Vec<_> = self.notify_events.iter().map(|e| e.as_str()).collect();
        events.sort_unstable();
        f.debug_struct("Config")
            .field("topic_arn", &self.topic_arn)
            .field(
                "callback_keys",
                &format_args!("[{} redacted]", self.callback_keys.len()),
            )
            .field("notify_events", &events)
            .field("clock_skew_secs", &self.clock_skew_secs)
            .field("max_validity_secs", &self.max_validity_secs)
            .field("state", &self.state)
            .field("trust_roots", &self.trust_roots)
            .field("chat", &self.chat)
            .field("metrics_namespace", &self.metrics_namespace)
            .field("hold_max_receives", &self.hold_max_receives)
            .finish()
    }
}

/// A variable that is missing or invalid; the text names it and never shows a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which maps a variable name to its value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let topic_arn = topic(
            &lookup,
            "SNS_TOPIC_ARN",
            required(&lookup, "SNS_TOPIC_ARN")?,
        )?;
        let callback_keys =
            parse_keys(&required(&lookup, "CALLBACK_KEYS")?).map_err(|problem| ConfigError {
                variable: "CALLBACK_KEYS",
                problem,
            })?;
        let notify_events = events(&lookup, "NOTIFY_EVENTS", &DEFAULT_NOTIFY_EVENTS)?;
        if let Some((variable, problem)) = REPLACED.iter().find(|(v, _)| lookup(v).is_some()) {
            return Err(ConfigError {
                variable,
                problem: problem.to_string(),
            });
        }
        let trust_roots = trust_roots(&lookup, &topic_arn)?;
        Ok(Config {
            topic_arn,
            callback_keys,
            notify_events,
            clock_skew_secs: whole_number(
                &lookup,
                "CLOCK_SKEW_SECS",
                DEFAULT_CLOCK_SKEW_SECS,
                CLOCK_SKEW_SECS,
            )?,
            max_validity_secs: whole_number(
                &lookup,
                "MAX_VALIDITY_SECS",
                DEFAULT_MAX_VALIDITY_SECS,
                MAX_VALIDITY_SECS,
            )?,
            state: state(&lookup)?,
            trust_roots,
            chat: chat(&lookup)?,
            metrics_namespace: metrics_namespace(&lookup)?,
            hold_max_receives: whole_number(
                &lookup,
                "HOLD_MAX_RECEIVES",
                DEFAULT_HOLD_MAX_RECEIVES,
                HOLD_MAX_RECEIVES,
            )? as u32,
        })
    }
}

/// `CHAT_TOPIC_ARN` and `CHAT_EVENTS`: chat is on when the topic is given.
fn chat(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<Chat>, ConfigError> {
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

fn metrics_namespace(lookup: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
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
fn topic(
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

fn events(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: &[Event],
) -> Result<HashSet<Event>, ConfigError> {
    match lookup(variable) {
        Some(value) => parse_events(&value).map_err(|problem| ConfigError { variable, problem }),
        None => Ok(default.iter().copied().collect()),
    }
}

/// `RECONNECT_WINDOW_SECS`, `STATE_TABLE` and `HOLD_QUEUE_URL`, which only make sense
/// together: a window needs both, a queue without a window means a forgotten setting.
fn state(lookup: &impl Fn(&str) -> Option<String>) -> Result<State, ConfigError> {
    let window_secs = whole_number(lookup, "RECONNECT_WINDOW_SECS", 0, RECONNECT_WINDOW_SECS)?;
    let optional = |variable| lookup(variable).filter(|v| !v.trim().is_empty());
    match (window_secs, optional("STATE_TABLE"), optional("HOLD_QUEUE_URL")) {
        (0, None, None) => Ok(State::Stateless),
        (0, Some(table), None) => Ok(State::Deduplicated {
            table: table.trim().to_string(),
        }),
        (0, _, Some(_)) => Err(ConfigError {
            variable: "HOLD_QUEUE_URL",
            problem: "is set, but RECONNECT_WINDOW_SECS is 0 (off): set the window, or leave the queue out".into(),
        }),
        (_, Some(table), Some(queue)) => Ok(State::ReconnectWindow {
            table: table.trim().to_string(),
            hold_queue_url: queue.trim().to_string(),
            window_secs,
            sweep_after_secs: whole_number(
                lookup,
                "SWEEP_AFTER_SECS",
                DEFAULT_SWEEP_AFTER_SECS,
                SWEEP_AFTER_SECS,
            )?,
        }),
        (_, None, _) => Err(ConfigError {
            variable: "STATE_TABLE",
            problem: "is required when RECONNECT_WINDOW_SECS is set: the streams' states are kept there".into(),
        }),
        (_, _, None) => Err(ConfigError {
            variable: "HOLD_QUEUE_URL",
            problem: "is required when RECONNECT_WINDOW_SECS is set: held drops wait there".into(),
        }),
    }
}

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<String, ConfigError> {
    match lookup(variable) {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_string()),
        _ => Err(ConfigError {
            variable,
            problem: "is required and not set".into(),
        }),
    }
}

fn check_topic_arn(arn: &str) -> Result<(), String> {
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

fn parse_keys(value: &str) -> Result<Vec<String>, String> {
    let keys: Vec<String> = value.split(',').map(|k| k.trim().to_string()).collect();
    let count = keys.len();
    for (i, key) in keys.iter().enumerate() {
        let which = format!("key {} of {count}", i + 1);
        if key.is_empty() {
            return Err(format!("{which} is empty"));
        }
        if key.len() > MAX_KEY_LEN {
            return Err(format!(
                "{which} is longer than Tencent's {MAX_KEY_LEN} characters"
            ));
        }
        if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "{which} has a character other than letters, digits, '_' and '-'"
            ));
        }
    }
    Ok(keys)
}

fn parse_events(value: &str) -> Result<HashSet<Event>, String> {
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

/// `TRUST_ROOTS` when set; otherwise Amazon's roots, or the system's when an endpoint
/// override may lead to a server with another certificate authority, or in the China
/// regions, whose endpoints (`*.amazonaws.com.cn`) AWS does not say chain to Amazon Trust
/// Services.
fn trust_roots(
    lookup: &impl Fn(&str) -> Option<String>,
    topic_arn: &str,
) -> Result<TrustRoots, ConfigError> {
    let in_china = topic_arn.starts_with("arn:aws-cn:")
        || lookup("AWS_REGION").is_some_and(|region| region.trim().starts_with("cn-"));
    match lookup("TRUST_ROOTS").as_deref().map(str::trim) {
        Some("amazon") => Ok(TrustRoots::AmazonTrustServices),
        Some("system") => Ok(TrustRoots::System),
        Some(other) => Err(ConfigError {
            variable: "TRUST_ROOTS",
            problem: format!("{other:?} is neither \"amazon\" nor \"system\""),
        }),
        None if in_china || ENDPOINT_OVERRIDES.iter().any(|v| lookup(v).is_some()) => {
            Ok(TrustRoots::System)
        }
        None => Ok(TrustRoots::AmazonTrustServices),
    }
}

fn whole_number(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(raw) = lookup(variable) else {
        return Ok(default);
    };
    match raw.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            problem: format!(
                "{raw:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const ARN: &str = "arn:aws:sns:eu-west-1:123456789012:live-events";

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn chat_is_on_with_its_topic_and_posts_what_pages_on_call_unless_told() {
        let base = [("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")];
        assert_eq!(load(&base).unwrap().chat, None);
        let chat_arn = "arn:aws:sns:eu-west-1:123456789012:live-chat";
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            load(&vars)
        };
        assert_eq!(
            with(&[("CHAT_TOPIC_ARN", chat_arn)]).unwrap().chat,
            Some(Chat {
                topic_arn: chat_arn.into(),
                events: HashSet::from(DEFAULT_CHAT_EVENTS)
            })
        );
        let started_only = with(&[
            ("CHAT_TOPIC_ARN", chat_arn),
            ("CHAT_EVENTS", "stream.started"),
        ]);
        assert_eq!(
            started_only.unwrap().chat.unwrap().events,
            HashSet::from([Event::Started])
        );
        for (vars, variable) in [
            (&[("CHAT_EVENTS", "stream.started")][..], "CHAT_EVENTS"),
            (&[("CHAT_TOPIC_ARN", "live-chat")][..], "CHAT_TOPIC_ARN"),
            (
                &[(
                    "CHAT_TOPIC_ARN",
                    "arn:aws:sns:eu-west-1:123456789012:c.fifo",
                )][..],
                "CHAT_TOPIC_ARN",
            ),
            (
                &[
                    ("CHAT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:c"),
                    ("AWS_REGION", "eu-west-1"),
                ][..],
                "CHAT_TOPIC_ARN",
            ),
            (
                &[
                    ("CHAT_TOPIC_ARN", chat_arn),
                    ("CHAT_EVENTS", "stream.paused"),
                ][..],
                "CHAT_EVENTS",
            ),
        ] {
            assert_eq!(with(vars).unwrap_err().variable, variable, "{vars:?}");
        }
    }

    #[test]
    fn the_metrics_namespace_is_one_cloudwatch_accepts() {
        let with = |namespace: &str| {
            load(&[
                ("SNS_TOPIC_ARN", ARN),
                ("CALLBACK_KEYS", "k1"),
                ("METRICS_NAMESPACE", namespace),
            ])
        };
        assert_eq!(
            load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")])
                .unwrap()
                .metrics_namespace,
            DEFAULT_METRICS_NAMESPACE
        );
        assert_eq!(
            with("LiveCallbackRelay/prod").unwrap().metrics_namespace,
            "LiveCallbackRelay/prod"
        );
        for bad in ["", "AWS/Lambda", "名前", "a\tb", &"x".repeat(256)] {
            assert_eq!(
                with(bad).unwrap_err().variable,
                "METRICS_NAMESPACE",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn defaults() {
        let config = load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")]).unwrap();
        assert_eq!(config.topic_arn, ARN);
        assert_eq!(config.callback_keys, ["k1"]);
        assert_eq!(
            config.notify_events,
            HashSet::from([
                Event::Started,
                Event::StoppedAbnormally,
                Event::Resumed,
                Event::Recovered
            ])
        );
        assert_eq!(config.clock_skew_secs, 300);
        assert_eq!(config.max_validity_secs, 600);
        assert_eq!(config.state, State::Stateless);
        assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
    }

    #[test]
    fn an_endpoint_override_trusts_the_system_roots() {
        for variable in ENDPOINT_OVERRIDES {
            let config = load(&[
                ("SNS_TOPIC_ARN", ARN),
                ("CALLBACK_KEYS", "k1"),
                (variable, "https://sns.internal.example.com"),
            ])
            .unwrap();
            assert_eq!(config.trust_roots, TrustRoots::System, "{variable}");
        }
        let config = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            (
                "AWS_ENDPOINT_URL_SNS",
                "https://vpce-1.sns.eu-west-1.vpce.amazonaws.com",
            ),
            ("TRUST_ROOTS", "amazon"),
        ])
        .unwrap();
        assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
    }

    #[test]
    fn the_china_regions_trust_the_system_roots() {
        for vars in [
            [
                ("SNS_TOPIC_ARN", "arn:aws-cn:sns:cn-north-1:123456789012:t"),
                ("AWS_REGION", "cn-north-1"),
            ],
            [
                (
                    "SNS_TOPIC_ARN",
                    "arn:aws-cn:sns:cn-northwest-1:123456789012:t",
                ),
                ("CALLBACK_KEYS", "k1"),
            ],
            [
                ("SNS_TOPIC_ARN", "arn:aws:sns:cn-northwest-1:123456789012:t"),
                ("AWS_REGION", "cn-northwest-1"),
            ],
        ] {
            let mut all = vec![("CALLBACK_KEYS", "k1")];
            all.extend_from_slice(&vars);
            assert_eq!(
                load(&all).unwrap().trust_roots,
                TrustRoots::System,
                "{vars:?}"
            );
        }
        let config = load(&[
            ("SNS_TOPIC_ARN", "arn:aws-cn:sns:cn-north-1:123456789012:t"),
            ("CALLBACK_KEYS", "k1"),
            ("TRUST_ROOTS", "amazon"),
        ])
        .unwrap();
        assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
        let config = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            ("AWS_REGION", "eu-west-1"),
        ])
        .unwrap();
        assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
    }

    #[test]
    fn a_table_alone_deduplicates_and_a_window_needs_the_table_and_the_queue() {
        let base = [("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            load(&vars)
        };
        assert_eq!(
            with(&[("STATE_TABLE", " relay-state ")]).unwrap().state,
            State::Deduplicated {
                table: "relay-state".into()
            }
        );
        assert_eq!(
            with(&[
                ("RECONNECT_WINDOW_SECS", "60"),
                ("STATE_TABLE", "relay-state"),
                (
                    "HOLD_QUEUE_URL",
                    "https://sqs.eu-west-1.amazonaws.com/123456789012/holds"
                ),
            ])
            .unwrap()
            .state,
            State::ReconnectWindow {
                table: "relay-state".into(),
                hold_queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/holds".into(),
                window_secs: 60,
                sweep_after_secs: DEFAULT_SWEEP_AFTER_SECS,
            }
        );
        assert_eq!(
            with(&[("RECONNECT_WINDOW_SECS", "0")]).unwrap().state,
            State::Stateless
        );
        for (extra, variable) in [
            (
                &[("RECONNECT_WINDOW_SECS", "60"), ("HOLD_QUEUE_URL", "q")][..],
                "STATE_TABLE",
            ),
            (
                &[("RECONNECT_WINDOW_SECS", "60"), ("STATE_TABLE", "t")][..],
                "HOLD_QUEUE_URL",
            ),
            (
                &[("STATE_TABLE", "t"), ("HOLD_QUEUE_URL", "q")][..],
                "HOLD_QUEUE_URL",
            ),
            (
                &[
                    ("RECONNECT_WINDOW_SECS", "1801"),
                    ("STATE_TABLE", "t"),
                    ("HOLD_QUEUE_URL", "q"),
                ][..],
                "RECONNECT_WINDOW_SECS",
            ),
            (
                &[("RECONNECT_WINDOW_SECS", "-1")][..],
                "RECONNECT_WINDOW_SECS",
            ),
            (
                &[("IDEMPOTENCY_TABLE", "old-table")][..],
                "IDEMPOTENCY_TABLE",
            ),
            (
                &[("IDEMPOTENCY_TTL_SECS", "3600")][..],
                "IDEMPOTENCY_TTL_SECS",
            ),
        ] {
            let err = with(extra).unwrap_err();
            assert_eq!(err.variable, variable, "{extra:?}: {err}");
        }
    }

    #[test]
    fn the_sweep_waits_for_tencents_retries_unless_told() {
        let window = [
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            ("RECONNECT_WINDOW_SECS", "60"),
            ("STATE_TABLE", "relay-state"),
            (
                "HOLD_QUEUE_URL",
                "https://sqs.eu-west-1.amazonaws.com/123456789012/holds",
            ),
        ];
        let sweep_after = |value: Option<&'static str>| {
            let mut vars = window.to_vec();
            vars.extend(value.map(|v| ("SWEEP_AFTER_SECS", v)));
            load(&vars).map(|c| match c.state {
                State::ReconnectWindow {
                    sweep_after_secs, ..
                } => sweep_after_secs,
                other => panic!("{other:?}"),
            })
        };
        assert_eq!(sweep_after(None), Ok(crate::inbound::TENCENT_RETRY_SECS));
        assert_eq!(sweep_after(Some("0")), Ok(0));
        assert_eq!(sweep_after(Some("86400")), Ok(86_400));
        for bad in ["86401", "-1", "soon"] {
            assert_eq!(
                sweep_after(Some(bad)).map_err(|e| e.variable),
                Err("SWEEP_AFTER_SECS")
            );
        }
    }

    #[test]
    fn every_variable_set() {
        let config = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", " old_key , new-key\n"),
            (
                "NOTIFY_EVENTS",
                "stream.started, stream.stopped,stream.stopped_abnormally,stream.resumed,stream.recovered",
            ),
            ("CLOCK_SKEW_SECS", "0"),
            ("MAX_VALIDITY_SECS", "900"),
        ])
        .unwrap();
        assert_eq!(config.callback_keys, ["old_key", "new-key"]);
        assert_eq!(config.notify_events, HashSet::from(Event::ALL));
        assert_eq!(config.clock_skew_secs, 0);
        assert_eq!(config.max_validity_secs, 900);
    }

    #[test]
    fn missing_required_variables_are_named() {
        assert_eq!(
            load(&[("CALLBACK_KEYS", "k")]).unwrap_err().variable,
            "SNS_TOPIC_ARN"
        );
        assert_eq!(
            load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "  ")])
                .unwrap_err()
                .variable,
            "CALLBACK_KEYS"
        );
    }

    #[test]
    fn invalid_values_are_named_without_showing_keys() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("SNS_TOPIC_ARN", "live-events")], "SNS_TOPIC_ARN"),
            (
                &[("SNS_TOPIC_ARN", "arn:aws:sqs:eu-west-1:1:q")],
                "SNS_TOPIC_ARN",
            ),
            (&[("CALLBACK_KEYS", "good,,also-good")], "CALLBACK_KEYS"),
            (&[("CALLBACK_KEYS", "has space secret")], "CALLBACK_KEYS"),
            (&[("CALLBACK_KEYS", &"k".repeat(33))], "CALLBACK_KEYS"),
            (
                &[("NOTIFY_EVENTS", "stream.started,stream.ended")],
                "NOTIFY_EVENTS",
            ),
            (&[("NOTIFY_EVENTS", " , ")], "NOTIFY_EVENTS"),
            (&[("CLOCK_SKEW_SECS", "-1")], "CLOCK_SKEW_SECS"),
            (&[("CLOCK_SKEW_SECS", "5m")], "CLOCK_SKEW_SECS"),
            (&[("MAX_VALIDITY_SECS", "0")], "MAX_VALIDITY_SECS"),
            (&[("MAX_VALIDITY_SECS", "86401")], "MAX_VALIDITY_SECS"),
            (&[("TRUST_ROOTS", "all")], "TRUST_ROOTS"),
            (
                &[(
                    "SNS_TOPIC_ARN",
                    "arn:aws:sns:eu-west-1:123456789012:live.fifo",
                )],
                "SNS_TOPIC_ARN",
            ),
        ];
        for (overrides, variable) in cases {
            let mut vars = vec![("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")];
            vars.retain(|(name, _)| overrides.iter().all(|(o, _)| o != name));
            vars.extend_from_slice(overrides);
            let err = load(&vars).unwrap_err();
            assert_eq!(err.variable, *variable, "{overrides:?}");
            let text = err.to_string();
            assert!(text.starts_with(variable), "{text}");
            assert!(
                !text.contains("secret") && !text.contains("also-good"),
                "{text}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_keys() {
        let config = load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k-one,k-two")]).unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("k-one") && !shown.contains("k-two"),
            "{shown}"
        );
        assert!(shown.contains("2 redacted"));
    }
}
