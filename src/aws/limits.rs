//! The time budget of one callback: Tencent abandons a request after 20 s and the
//! function times out at 15 s; every AWS call is bounded so that a request finishes
//! within about 10 s even when every call retries to its limit.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// Attempts, per-attempt timeout and whole-operation timeout of one AWS call.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub max_attempts: u32,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
}

/// SNS `Publish`: what the relay exists for, so it gets most of the budget.
pub const PUBLISH: CallLimits = CallLimits {
    max_attempts: 3,
    attempt_timeout: Duration::from_secs(2),
    operation_timeout: Duration::from_secs(7),
};

/// Each DynamoDB call of the idempotency store (at most two per request: claim and
/// complete or release, plus one read when a claim is refused).
pub const STORE: CallLimits = CallLimits {
    max_attempts: 2,
    attempt_timeout: Duration::from_millis(500),
    operation_timeout: Duration::from_millis(1_000),
};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest an announcement takes from its claim to its record, every call retried to
/// its limit: the claim, the publish, the post to chat (`chat`, its budget; zero without
/// chat), then the claim's completion, the stream's mark and (when both are refused) the
/// hand-off to the hold queue.
pub fn announcement(chat: Duration) -> Duration {
    PUBLISH.operation_timeout + chat + 4 * STORE.operation_timeout
}

impl CallLimits {
    pub fn retry_config(self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(Duration::from_millis(50))
    }

    pub fn timeout_config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .operation_timeout(self.operation_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
    }
}
