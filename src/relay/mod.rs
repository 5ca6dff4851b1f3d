//! The relay: every callback verified, then made sense of by the relay's mode
//! (stateless, deduplicated, or with the reconnect window), then told to subscribers.

pub mod deduplicated;
pub mod holds;
pub mod report;
pub mod stateless;
pub mod windowed;

use std::collections::HashSet;
use std::future::Future;

use crate::config::Config;
use crate::handler::Rejection;
use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::meaning::classify::Event;
use crate::meaning::stream_state::Notice;
use crate::outbound::notification::Notification;
use crate::ports::publish::{PublishError, Publisher};
use holds::HoldError;
use report::Report;
pub use stateless::Stateless;

/// Verifies callbacks and tells subscribers what they mean, as mode `M` decides.
#[derive(Debug)]
pub struct Relay<P, M = Stateless> {
    pub(crate) verifier: Verifier,
    notify_events: HashSet<Event>,
    publisher: P,
    mode: M,
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
            publisher,
            mode: Stateless,
        }
    }
}

impl<P: Publisher, M: Mode> Relay<P, M> {
    pub fn with_mode<N: Mode>(self, mode: N) -> Relay<P, N> {
        Relay {
            verifier: self.verifier,
            notify_events: self.notify_events,
            publisher: self.publisher,
            mode,
        }
    }

    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    pub fn mode(&self) -> &M {
        &self.mode
    }

    /// Handles one message of the hold queue at Unix time `now`.
    pub async fn on_hold(
        &self,
        message: &str,
        now: u64,
        report: &mut Report,
    ) -> Result<(), HoldError> {
        self.mode
            .on_hold(&self.teller(), &self.verifier, message, now, report)
            .await
    }

    pub(crate) fn teller(&self) -> Teller<'_, P> {
        Teller {
            publisher: &self.publisher,
            notify_events: &self.notify_events,
        }
    }
}

/// What a mode makes of a verified push or interrupt callback (`body` as it arrived),
/// and of a held drop coming back from the hold queue.
pub trait Mode: Send + Sync {
    fn on_callback<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        callback: &Authentic<Callback>,
        body: &[u8],
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

/// Publishes notifications, as `NOTIFY_EVENTS` allows.
pub struct Teller<'a, P> {
    publisher: &'a P,
    notify_events: &'a HashSet<Event>,
}

impl<P: Publisher> Teller<'_, P> {
    pub fn notifies(&self, event: Event) -> bool {
        self.notify_events.contains(&event)
    }

    /// Publishes what `notice` tells about `callback`, unless its event is not notified.
    pub async fn tell(
        &self,
        callback: &Authentic<Callback>,
        notice: &Notice,
        report: &mut Report,
    ) -> Result<Told, Rejection> {
        let notification = Notification::new(callback, notice);
        if !self.notifies(notification.event) {
            report.not_notified.push(notification.event);
            return Ok(Told::NotNotified);
        }
        match self.publisher.publish(&notification).await {
            Ok(message_id) => {
                report.told.push((notification.event, message_id));
                Ok(Told::Published)
            }
            Err(PublishError::Refused(detail)) => {
                report.refused = Some((detail, notification.document().to_string()));
                Ok(Told::Refused)
            }
            Err(unavailable) => Err(Rejection::NotPublished(unavailable)),
        }
    }
}
