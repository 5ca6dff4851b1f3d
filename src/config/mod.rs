//! Configuration from the environment, read once at cold start, by concern: the callbacks'
//! keys and time bounds (`callbacks`), where notifications go (`notifications`), what is
//! remembered between callbacks (`state`), the trusted roots (`endpoints`), and reading
//! one variable (`values`).

mod callbacks;
mod endpoints;
mod notifications;
mod state;
mod values;

use std::collections::HashSet;
use std::fmt;

use crate::aws::setup::TrustRoots;
use crate::meaning::classify::Event;

pub use callbacks::{
    CLOCK_SKEW_SECS, DEFAULT_CLOCK_SKEW_SECS, DEFAULT_MAX_VALIDITY_SECS, MAX_VALIDITY_SECS,
};
pub use notifications::{
    Chat, DEFAULT_CHAT_EVENTS, DEFAULT_METRICS_NAMESPACE, DEFAULT_NOTIFY_EVENTS,
};
pub use state::{
    DEFAULT_HOLD_MAX_RECEIVES, DEFAULT_SWEEP_AFTER_SECS, HOLD_MAX_RECEIVES, RECONNECT_WINDOW_SECS,
    SWEEP_AFTER_SECS, State,
};

use callbacks::parse_keys;
use endpoints::{sns_endpoint, trust_roots};
use notifications::{chat, events, metrics_namespace, topic};
use state::state;
use values::{required, whole_number};

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
    /// The SNS client's endpoint override, when one applies (`None`: SNS's regional
    /// endpoint).
    pub sns_endpoint: Option<String>,
    /// The chat topic (Amazon Q Developer in chat applications) and what is posted there.
    pub chat: Option<Chat>,
    pub metrics_namespace: String,
    /// The hold queue's `maxReceiveCount`: a hold failing its last receive is counted as
    /// dead-lettered.
    pub hold_max_receives: u32,
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
            .field("sns_endpoint", &self.sns_endpoint)
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
        let sns_endpoint = sns_endpoint(&lookup)?;
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
            sns_endpoint,
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

#[cfg(test)]
mod tests;
