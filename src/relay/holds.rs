//! The hold queue's side of the reconnect window: a held drop coming back from SQS. Not
//! due yet (a window longer than SQS's 15-minute delay): parked again for the rest.
//! Due: its stop is verified again as it was when it arrived, an expiry is appended to
//! its stream's history, and if the stream has not come back meanwhile the drop is
//! announced. Any failure is reported, so that SQS delivers the hold again and, after the
//! queue's `maxReceiveCount`, moves it to the dead-letter queue: a drop is never lost
//! silently.

use crate::inbound::signature::Verifier;
use crate::inbound::{self, InboundError};
use crate::meaning::stream_state::{Effect, Entry, Input, Notice};
use crate::ports::hold_queue::{Hold, HoldQueue};
use crate::ports::publish::Publisher;
use crate::ports::stream_log::{StreamKey, StreamLog};
use crate::relay::report::Report;
use crate::relay::windowed::Windowed;
use crate::relay::{Teller, Told};

/// Why a hold could not be handled; SQS will deliver it again.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("the hold message is unreadable: {0}")]
    Malformed(String),
    #[error("the held callback no longer verifies: {0}")]
    NotVerified(#[from] InboundError),
    #[error(transparent)]
    Rejected(#[from] crate::handler::Rejection),
    #[error("hold not parked again: {0}")]
    NotParked(String),
    #[error("a hold arrived, but the relay has no reconnect window (RECONNECT_WINDOW_SECS)")]
    NoWindow,
}

impl<L: StreamLog, Q: HoldQueue> Windowed<L, Q> {
    /// Handles one hold message at Unix time `now`.
    pub async fn hold_came_back<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        verifier: &Verifier,
        message: &str,
        now: u64,
        report: &mut Report,
    ) -> Result<(), HoldError> {
        let hold = Hold::from_message(message).map_err(|e| HoldError::Malformed(e.to_string()))?;
        let windowed = self;
        if now < hold.deadline {
            windowed
                .queue
                .park(&hold, now)
                .await
                .map_err(|e| HoldError::NotParked(e.to_string()))?;
            report.held_until = Some(hold.deadline);
            return Ok(());
        }
        let callback = inbound::read(hold.body.as_bytes(), verifier, hold.held_at)?
            .ok_or_else(|| HoldError::Malformed("the held body is not a push callback".into()))?;
        let cb = callback.get();
        report.event = Some(cb.classification().event);
        report.event_id = Some(cb.event_id.clone());
        report.stream_id = Some(cb.stream_id.clone());
        let key = StreamKey::of(cb);
        let entry = Entry {
            received: now,
            input: Input::Expire {
                drop_id: cb.event_id.clone(),
            },
        };
        let (history, _, effects) = windowed.decide(&key, &entry, report).await?;
        for effect in effects {
            if let Effect::Publish(notice @ Notice::Announced { .. }) = effect {
                if history.announced.contains(&cb.event_id) {
                    continue;
                }
                if teller.tell(&callback, &notice, report).await? == Told::Published
                    && let Err(e) = windowed.log.mark_announced(&key, &cb.event_id).await
                {
                    tracing::warn!(error = %e, "announcement not recorded; a second delivery of this hold would announce it again");
                }
            }
        }
        Ok(())
    }
}
