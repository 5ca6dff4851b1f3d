//! What the relay remembers between callbacks: nothing, claims, or streams' states with
//! the reconnect window.

use std::ops::RangeInclusive;

use super::ConfigError;
use super::values::whole_number;

/// 0 is off; Mux allows the same range.
pub const RECONNECT_WINDOW_SECS: RangeInclusive<u64> = 0..=1_800;
/// How long after a hold's park failed the sweep parks it: after Tencent's retries (which
/// park it too) are over, by default.
pub const DEFAULT_SWEEP_AFTER_SECS: u64 = crate::inbound::TENCENT_RETRY_SECS;
pub const SWEEP_AFTER_SECS: RangeInclusive<u64> = 0..=86_400;
/// The template's `maxReceiveCount` of the hold queue, and what SQS allows.
pub const DEFAULT_HOLD_MAX_RECEIVES: u64 = 10;
pub const HOLD_MAX_RECEIVES: RangeInclusive<u64> = 1..=1_000;

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

/// `RECONNECT_WINDOW_SECS`, `STATE_TABLE` and `HOLD_QUEUE_URL`, which only make sense
/// together: a window needs both, a queue without a window means a forgotten setting.
pub(super) fn state(lookup: &impl Fn(&str) -> Option<String>) -> Result<State, ConfigError> {
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
