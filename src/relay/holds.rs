//! The hold queue's side of the reconnect window: a held drop coming back from SQS. Not
//! due yet (a window longer than SQS's 15-minute delay): parked again for the rest.
//! Due: its stop is verified again as it was when it was parked, an expiry is appended
//! to its stream's history, and if the stream has not come back meanwhile the drop is
//! announced, once: copies of one hold (SQS delivers at least once; a stop retried after
//! its park went through is parked twice) claim the announcement in the state table
//! before publishing it. Any failure is reported, so that SQS delivers the hold again
//! and, after the queue's `maxReceiveCount`, moves it to the dead-letter queue: a drop is
//! never lost silently.

use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::inbound::{self, InboundError};
use crate::meaning::classify::Event;
use crate::meaning::stream_state::{Effect, Entry, Input, Notice};
use crate::ports::hold_queue::{Hold, HoldQueue};
use crate::ports::idempotency::Claim;
use crate::ports::publish::Publisher;
use crate::ports::stream_log::{StreamKey, StreamLog};
use crate::relay::Teller;
use crate::relay::report::Report;
use crate::relay::windowed::Windowed;

/// Why a hold could not be handled; SQS will deliver it again.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("the hold message is unreadable: {0}")]
    Malformed(String),
    #[error(
        "the held callback no longer verifies (a key removed before the holds parked under it were handled?): {0}"
    )]
    NotVerified(#[from] InboundError),
    #[error(transparent)]
    Rejected(#[from] crate::handler::Rejection),
    #[error("hold not parked again: {0}")]
    NotParked(String),
    #[error("another copy of this hold is announcing it")]
    InFlight,
    #[error("the announcement could not be claimed: {0}")]
    NotClaimed(String),
    #[error("the announcement is not recorded in its stream: {0}")]
    NotRecorded(String),
    #[error("a hold arrived, but the relay has no reconnect window (RECONNECT_WINDOW_SECS)")]
    NoWindow,
}

/// How long an announcement's claim is kept: as long as SQS may keep a copy of its hold
/// (14 days in the dead-letter queue), and a day.
const ANNOUNCEMENT_CLAIM_SECS: u64 = 15 * 86_400;

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
        if now < hold.deadline {
            return self
                .park(&hold, now, report)
                .await
                .map_err(HoldError::NotParked);
        }
        let callback = inbound::read(hold.body.as_bytes(), verifier, hold.verified_at)?
            .ok_or_else(|| HoldError::Malformed("the held body is not a push callback".into()))?;
        let cb = callback.get();
        report.about(cb);
        let key = StreamKey::of(cb);
        let entry = Entry {
            received: now,
            until: now,
            input: Input::Expire {
                drop_id: cb.event_id.clone(),
            },
        };
        let (history, effects) = self.decide(&key, &entry, report).await?;
        for effect in effects {
            if let Effect::Publish(notice @ Notice::Announced { .. }) = effect
                && !history.announced.contains(&cb.event_id)
            {
                if teller.tells(Event::StoppedAbnormally) {
                    self.announce(teller, &key, &callback, &notice, now, report)
                        .await?;
                } else {
                    report.not_notified.push(Event::StoppedAbnormally);
                    self.record_announced(&key, &cb.event_id).await?;
                }
            }
        }
        Ok(())
    }

    /// Publishes the announcement of `callback`'s drop unless another copy of its hold
    /// has or is doing so, and records it.
    async fn announce<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        key: &StreamKey,
        callback: &Authentic<Callback>,
        notice: &Notice,
        now: u64,
        report: &mut Report,
    ) -> Result<(), HoldError> {
        let drop_id = callback.get().event_id.as_str();
        let claim = format!("announce:{drop_id}");
        match self.log.claim(&claim, now).await {
            Ok(Claim::Owned) => {}
            Ok(Claim::AlreadyPublished) => return self.record_announced(key, drop_id).await,
            Ok(Claim::InFlight) => return Err(HoldError::InFlight),
            Err(e) => return Err(HoldError::NotClaimed(e.to_string())),
        }
        if let Err(e) = teller.tell(callback, notice, report).await {
            if let Err(e) = self.log.release(&claim).await {
                tracing::warn!(error = %e, "announcement claim not released; it lapses after its lease");
            }
            return Err(e.into());
        }
        if let Err(e) = self
            .log
            .complete(&claim, now, now + ANNOUNCEMENT_CLAIM_SECS)
            .await
        {
            tracing::warn!(error = %e, "announcement claim not completed; it lapses after its lease");
        }
        self.record_announced(key, drop_id).await
    }

    /// Records in the stream that the drop's announcement is done (published, refused by
    /// SNS, or not notified), so that its expiry can be compacted away. If that fails, the
    /// hold is delivered again, finds the claim, and records it then.
    async fn record_announced(&self, key: &StreamKey, drop_id: &str) -> Result<(), HoldError> {
        self.log
            .mark_announced(key, drop_id)
            .await
            .map_err(|e| HoldError::NotRecorded(e.to_string()))
    }
}
