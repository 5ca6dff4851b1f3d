//! The hold queue's side of the reconnect window: a held drop coming back from SQS. Its
//! seal is checked first: only a hold this relay parked is trusted. Not due yet (a window
//! longer than SQS's 15-minute delay): parked again for the rest. Due: an expiry is
//! appended to its stream's history, and if the stream has not come back meanwhile the
//! drop is announced, once ([`crate::relay::announce`]). A hold handed back after its
//! announcement was published only records it. Any failure is reported, so that SQS
//! delivers the hold again and, after the queue's `maxReceiveCount`, moves it to the
//! dead-letter queue: a drop is never lost silently.

use lambda_http::http::StatusCode;

use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, SealError, Verifier};
use crate::inbound::{self, InboundError};
use crate::meaning::stream_state::{Effect, Entry, Input, Notice};
use crate::ports::hold_queue::{Hold, HoldQueue, Message};
use crate::ports::publish::Publisher;
use crate::ports::stream_log::{StreamKey, StreamLog};
use crate::relay::Teller;
use crate::relay::announce::AnnounceError;
use crate::relay::report::Report;
use crate::relay::windowed::Windowed;

/// Why a hold could not be handled; SQS will deliver it again.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("the hold message is unreadable: {0}")]
    Malformed(String),
    #[error(
        "the hold's seal is not this relay's (a key removed before the holds parked under it were handled, or a message the relay did not write): {0}"
    )]
    NotSealed(#[from] SealError),
    #[error(
        "the hold of an earlier release no longer verifies as a callback (its t has expired): {0}"
    )]
    NotVerified(#[from] InboundError),
    #[error(transparent)]
    Rejected(#[from] crate::rejection::Rejection),
    #[error("hold not parked again: {0}")]
    NotParked(String),
    #[error(transparent)]
    NotAnnounced(#[from] AnnounceError),
    #[error("a hold arrived, but the relay has no reconnect window (RECONNECT_WINDOW_SECS)")]
    NoWindow,
}

impl HoldError {
    /// Another copy of the hold is announcing it right now: not a failure, but this copy
    /// must come back to see it done.
    pub fn is_in_flight(&self) -> bool {
        matches!(self, HoldError::NotAnnounced(AnnounceError::InFlight))
    }

    /// The status its log line and metrics give it: 409 for a copy that finds another
    /// announcing (as a callback in flight is answered), 503 for every failure.
    pub fn status(&self) -> StatusCode {
        if self.is_in_flight() {
            StatusCode::CONFLICT
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

impl<L: StreamLog, Q: HoldQueue> Windowed<L, Q> {
    /// The hold `message` carries, if this relay sealed it; a hold of an earlier release
    /// (the stop's body as it arrived) is trusted as that callback would be at `now`.
    fn open(
        &self,
        verifier: &Verifier,
        message: &str,
        now: u64,
    ) -> Result<(Hold, Authentic<Callback>), HoldError> {
        match Message::read(message).map_err(HoldError::Malformed)? {
            Message::Sealed { content, seal } => {
                let hold = Hold::from_content(&content)
                    .map_err(|e| HoldError::Malformed(e.to_string()))?;
                let stop = verifier.unseal(
                    hold.stop.clone(),
                    content.as_bytes(),
                    &seal,
                    hold.accepted_until,
                )?;
                Ok((hold, stop))
            }
            Message::Unsealed { deadline, body } => {
                let stop = inbound::read(body.as_bytes(), verifier, now)?.ok_or_else(|| {
                    HoldError::Malformed("the held body is not a push callback".into())
                })?;
                let hold = Hold {
                    deadline,
                    accepted_until: stop.accepted_until(),
                    published: false,
                    stop: stop.get().clone(),
                };
                Ok((hold, stop))
            }
        }
    }

    /// Handles one hold message at Unix time `now`.
    pub async fn hold_came_back<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        verifier: &Verifier,
        message: &str,
        now: u64,
        report: &mut Report,
    ) -> Result<(), HoldError> {
        let (hold, stop) = self.open(verifier, message, now)?;
        let cb = stop.get();
        report.about(cb);
        let key = StreamKey::of(cb);
        if hold.published {
            report.recorded = true;
            return Ok(self.record_published(&stop, now, None).await?);
        }
        if now < hold.deadline {
            self.park(verifier, &hold, now)
                .await
                .map_err(HoldError::NotParked)?;
            report.held_until = Some(hold.deadline);
            return Ok(());
        }
        let entry = Entry {
            received: now,
            until: now,
            input: Input::Expire {
                drop_id: cb.event_id.clone(),
            },
        };
        let (history, effects) = self.decide(&key, &entry, report).await?;
        let announcement = effects
            .into_iter()
            .find_map(|effect| match effect {
                Effect::Publish(notice @ Notice::Announced { .. }) => Some(notice),
                _ => None,
            })
            // the stream came back past the deadline first, and that callback announces the
            // drop late: until it has, this hold stands in for it
            .or_else(|| history.overdue_notice(&cb.event_id));
        match announcement {
            Some(notice) if !history.announced.contains(&cb.event_id) => Ok(self
                .announce(teller, verifier, &stop, &notice, now, report)
                .await?),
            _ => Ok(()),
        }
    }
}
