//! The relay: every callback verified, then made sense of by the relay's mode
//! (stateless, deduplicated, or with the reconnect window), then told to subscribers.

pub mod announce;
pub mod deduplicated;
pub mod holds;
pub mod metrics;
pub mod report;
pub mod stateless;
pub mod sweep;
pub mod windowed;

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::meaning::classify::Event;
use crate::meaning::stream_state::Notice;
use crate::outbound::notification::Notification;
use crate::outbound::telling::Telling;
use crate::ports::publish::{PublishError, Publisher};
use crate::rejection::Rejection;
use holds::HoldError;
use report::Report;
pub use stateless::Stateless;

/// Verifies callbacks and tells subscribers what they mean, as mode `M` decides.
#[derive(Debug)]
pub struct Relay<P, M = Stateless> {
    pub(crate) verifier: Verifier,
    notify_events: HashSet<Event>,
    metrics: Metrics,
    publisher: P,
    chat: Option<Chat<P>>,
    mode: M,
}

/// Where the relay's metrics go, and what they need to know.
#[derive(Debug, Clone)]
pub struct Metrics {
    pub namespace: String,
    pub hold_max_receives: u32,
}

/// The chat topic, and the events posted to it.
#[derive(Debug)]
pub struct Chat<P> {
    pub publisher: P,
    pub events: HashSet<Event>,
}

impl<P: Publisher> Relay<P> {
    pub fn new(config: &Config, publisher: P) -> Self {
        Relay {
            verifier: Verifier::new(
                config.callback_keys.clone(),
                config.clock_skew_secs,
                config.max_validity_secs,
            ),
            notify_events: config.notify_events.clone(),
            metrics: Metrics {
                namespace: config.metrics_namespace.clone(),
                hold_max_receives: config.hold_max_receives,
            },
            publisher,
            chat: None,
            mode: Stateless,
        }
    }
}

impl<P: Publisher, M: Mode> Relay<P, M> {
    pub fn with_mode<N: Mode>(self, mode: N) -> Relay<P, N> {
        Relay {
            verifier: self.verifier,
            notify_events: self.notify_events,
            metrics: self.metrics,
            publisher: self.publisher,
            chat: self.chat,
            mode,
        }
    }

    /// Posts `chat.events` to the chat topic too, after the main topic.
    pub fn with_chat(self, chat: Chat<P>) -> Self {
        Relay {
            chat: Some(chat),
            ..self
        }
    }

    pub fn chat(&self) -> Option<&Chat<P>> {
        self.chat.as_ref()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    pub fn mode(&self) -> &M {
        &self.mode
    }

    /// Handles one message of the hold queue at Unix time `now`, within `deadline`.
    pub async fn on_hold(
        &self,
        message: &str,
        now: u64,
        deadline: Deadline,
        report: &mut Report,
    ) -> Result<(), HoldError> {
        self.mode
            .on_hold(&self.teller(deadline), &self.verifier, message, now, report)
            .await
    }

    /// Runs the sweep at Unix time `now` (the window's: see [`sweep`]).
    pub async fn on_sweep(&self, now: u64, report: &mut Report) -> Result<(), String> {
        self.mode.on_sweep(now, report).await
    }

    /// The teller of one invocation, which must be done by `deadline`.
    pub(crate) fn teller(&self, deadline: Deadline) -> Teller<'_, P> {
        Teller {
            publisher: &self.publisher,
            notify_events: &self.notify_events,
            chat: self.chat.as_ref(),
            deadline,
        }
    }
}

/// When the invocation must be done by: Lambda's deadline, if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<SystemTime>);

impl Deadline {
    /// No deadline (tests and benchmarks without Lambda's context).
    pub fn unbounded() -> Deadline {
        Deadline(None)
    }

    /// Lambda's deadline, in milliseconds since the Unix epoch.
    pub fn at_epoch_ms(ms: u64) -> Deadline {
        Deadline(Some(UNIX_EPOCH + Duration::from_millis(ms)))
    }

    /// Whether `needed` is still left before the deadline.
    pub fn allows(self, needed: Duration) -> bool {
        self.0.is_none_or(|at| {
            at.duration_since(SystemTime::now())
                .is_ok_and(|left| left >= needed)
        })
    }
}

/// What a mode makes of a verified push or interrupt callback (sealing what it keeps of
/// it with `verifier`), and of a held drop coming back from the hold queue.
pub trait Mode: Send + Sync {
    fn on_callback<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        verifier: &Verifier,
        callback: &Authentic<Callback>,
        now: u64,
        report: &mut Report,
    ) -> impl Future<Output = Result<(), Rejection>> + Send;

    /// Only the reconnect window holds drops; to any other mode a hold is an error.
    fn on_hold<P: Publisher>(
        &self,
        _teller: &Teller<'_, P>,
        _verifier: &Verifier,
        _message: &str,
        _now: u64,
        _report: &mut Report,
    ) -> impl Future<Output = Result<(), HoldError>> + Send {
        async { Err(HoldError::NoWindow) }
    }

    /// Only the reconnect window keeps holds for the sweep; any other mode has none.
    fn on_sweep(
        &self,
        _now: u64,
        _report: &mut Report,
    ) -> impl Future<Output = Result<(), String>> + Send {
        async { Ok(()) }
    }
}

/// How a notification fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Published,
    /// Its event is not in `NOTIFY_EVENTS`.
    NotNotified,
    /// SNS refused it as invalid; it is in the report, for the log.
    Refused,
}

/// How long a post to chat may take: it is not retried, and must not hold the callback
/// (and its main notification) near the function's timeout.
pub const CHAT_BUDGET: Duration = Duration::from_secs(3);

/// Publishes notifications, as `NOTIFY_EVENTS` allows, and posts them to chat, as
/// `CHAT_EVENTS` does, within one invocation.
pub struct Teller<'a, P> {
    publisher: &'a P,
    notify_events: &'a HashSet<Event>,
    chat: Option<&'a Chat<P>>,
    /// The invocation's deadline.
    pub deadline: Deadline,
}

impl<P: Publisher> Teller<'_, P> {
    pub fn notifies(&self, event: Event) -> bool {
        self.notify_events.contains(&event)
    }

    /// Whether `event` goes anywhere: to the main topic or to chat.
    pub fn tells(&self, event: Event) -> bool {
        self.notifies(event) || self.chat.is_some_and(|c| c.events.contains(&event))
    }

    /// Publishes what `notice` tells about `callback`, unless its event is not notified,
    /// then posts it to chat. A failed post to chat costs nothing but itself: the main
    /// topic is the one Tencent's retry is for.
    pub async fn tell(
        &self,
        callback: &Authentic<Callback>,
        notice: &Notice,
        report: &mut Report,
    ) -> Result<Told, Rejection> {
        let telling = Telling::new(callback.get(), notice);
        let told = if self.notifies(telling.event) {
            let notification = Notification::telling(callback, &telling);
            let started = Instant::now();
            let published = self.publisher.publish(&notification).await;
            report
                .publish_ms
                .push(started.elapsed().as_secs_f64() * 1000.0);
            match published {
                Ok(message_id) => {
                    report.told.push((notification.event, message_id));
                    Told::Published
                }
                Err(PublishError::Refused(detail)) => {
                    report.refused = Some((detail, notification.document().to_string()));
                    Told::Refused
                }
                Err(unavailable) => {
                    report.publish_failures += 1;
                    return Err(Rejection::NotPublished(unavailable));
                }
            }
        } else {
            report.not_notified.push(telling.event);
            Told::NotNotified
        };
        if let Some(chat) = self.chat.filter(|c| c.events.contains(&telling.event)) {
            let message = Notification::chat_telling(callback, &telling);
            let post = chat.publisher.publish(&message);
            match tokio::time::timeout(CHAT_BUDGET, post).await {
                Ok(Ok(_)) => report.chat_posted += 1,
                failed => {
                    report.chat_failures += 1;
                    let error = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("no answer within {CHAT_BUDGET:?}"),
                    };
                    tracing::warn!(
                        error,
                        event_id = telling.event_id,
                        "chat notification not posted"
                    );
                }
            }
        }
        Ok(told)
    }
}
