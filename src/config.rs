//! Configuration from the environment, read once at cold start.

use std::collections::HashSet;
use std::fmt;
use std::ops::RangeInclusive;

use crate::aws::setup::TrustRoots;
use crate::meaning::classify::Event;

pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 300;
pub const DEFAULT_MAX_VALIDITY_SECS: u64 = 600;
/// Longer than Tencent's retry span (12 retries a minute apart).
pub const DEFAULT_IDEMPOTENCY_TTL_SECS: u64 = 3600;
/// The values each number of seconds may take (the template's parameters allow the same).
pub const CLOCK_SKEW_SECS: RangeInclusive<u64> = 0..=86_400;
pub const MAX_VALIDITY_SECS: RangeInclusive<u64> = 1..=86_400;
pub const IDEMPOTENCY_TTL_SECS: RangeInclusive<u64> = 900..=30 * 86_400;
const MAX_KEY_LEN: usize = 32;
/// The SDK's endpoint overrides the relay's clients honour.
const ENDPOINT_OVERRIDES: [&str; 3] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_DYNAMODB",
];

#[derive(Clone)]
pub struct Config {
    pub topic_arn: String,
    pub callback_keys: Vec<String>,
    pub notify_events: HashSet<Event>,
    pub clock_skew_secs: u64,
    pub max_validity_secs: u64,
    pub idempotency: Option<IdempotencyConfig>,
    /// Amazon's roots for AWS endpoints; the system's when an endpoint is overridden.
    pub trust_roots: TrustRoots,
}

/// The optional DynamoDB table that deduplicates Tencent's retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyConfig {
    pub table: String,
    pub ttl_secs: u64,
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
            .field("idempotency", &self.idempotency)
            .field("trust_roots", &self.trust_roots)
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
        let topic_arn = required(&lookup, "SNS_TOPIC_ARN")?;
        check_topic_arn(&topic_arn).map_err(|problem| ConfigError {
            variable: "SNS_TOPIC_ARN",
            problem,
        })?;
        let callback_keys =
            parse_keys(&required(&lookup, "CALLBACK_KEYS")?).map_err(|problem| ConfigError {
                variable: "CALLBACK_KEYS",
                problem,
            })?;
        let notify_events = match lookup("NOTIFY_EVENTS") {
            Some(value) => parse_events(&value).map_err(|problem| ConfigError {
                variable: "NOTIFY_EVENTS",
                problem,
            })?,
            None => HashSet::from([Event::Started, Event::StoppedAbnormally]),
        };
        if let Some(region) = lookup("AWS_REGION").filter(|r| !r.trim().is_empty()) {
            let topic_region = topic_arn.split(':').nth(3).unwrap_or_default();
            if topic_region != region.trim() {
                return Err(ConfigError {
                    variable: "SNS_TOPIC_ARN",
                    problem: format!(
                        "the topic is in {topic_region}, the function in {}: SNS answers a publish to another region's topic as invalid",
                        region.trim()
                    ),
                });
            }
        }
        let trust_roots = trust_roots(&lookup, &topic_arn)?;
        Ok(Config {
            topic_arn,
            callback_keys,
            notify_events,
            clock_skew_secs: seconds(
                &lookup,
                "CLOCK_SKEW_SECS",
                DEFAULT_CLOCK_SKEW_SECS,
                CLOCK_SKEW_SECS,
            )?,
            max_validity_secs: seconds(
                &lookup,
                "MAX_VALIDITY_SECS",
                DEFAULT_MAX_VALIDITY_SECS,
                MAX_VALIDITY_SECS,
            )?,
            idempotency: match lookup("IDEMPOTENCY_TABLE").filter(|t| !t.trim().is_empty()) {
                Some(table) => Some(IdempotencyConfig {
                    table: table.trim().to_string(),
                    ttl_secs: seconds(
                        &lookup,
                        "IDEMPOTENCY_TTL_SECS",
                        DEFAULT_IDEMPOTENCY_TTL_SECS,
                        IDEMPOTENCY_TTL_SECS,
                    )?,
                }),
                None if lookup("IDEMPOTENCY_TTL_SECS").is_some() => {
                    return Err(ConfigError {
                        variable: "IDEMPOTENCY_TTL_SECS",
                        problem: "is set, but IDEMPOTENCY_TABLE is not: there is nothing to keep records in".into(),
                    });
                }
                None => None,
            },
            trust_roots,
        })
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

fn seconds(
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
                "{raw:?} is not a whole number of seconds from {} to {}",
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
    fn defaults() {
        let config = load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")]).unwrap();
        assert_eq!(config.topic_arn, ARN);
        assert_eq!(config.callback_keys, ["k1"]);
        assert_eq!(
            config.notify_events,
            HashSet::from([Event::Started, Event::StoppedAbnormally])
        );
        assert_eq!(config.clock_skew_secs, 300);
        assert_eq!(config.max_validity_secs, 600);
        assert_eq!(config.idempotency, None);
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
    fn idempotency_table_and_its_retention() {
        let config = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            ("IDEMPOTENCY_TABLE", "relay-events"),
        ])
        .unwrap();
        assert_eq!(
            config.idempotency,
            Some(IdempotencyConfig {
                table: "relay-events".into(),
                ttl_secs: 3600
            })
        );
        let config = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            ("IDEMPOTENCY_TABLE", "relay-events"),
            ("IDEMPOTENCY_TTL_SECS", "86400"),
        ])
        .unwrap();
        assert_eq!(config.idempotency.unwrap().ttl_secs, 86400);
    }

    #[test]
    fn every_variable_set() {
        let config = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", " old_key , new-key\n"),
            (
                "NOTIFY_EVENTS",
                "stream.started, stream.stopped,stream.stopped_abnormally",
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
                &[("IDEMPOTENCY_TABLE", "t"), ("IDEMPOTENCY_TTL_SECS", "600")],
                "IDEMPOTENCY_TTL_SECS",
            ),
            (&[("IDEMPOTENCY_TTL_SECS", "3600")], "IDEMPOTENCY_TTL_SECS"),
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
