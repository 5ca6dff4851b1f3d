//! A drop's announcement, made once: by its hold coming due, or late, by the callback that
//! shows its stream back after the deadline. Whoever announces claims the announcement in
//! the state table first (`announce:<drop event_id>`), so that copies of a hold, Tencent's
//! retries and SQS's redeliveries never publish it twice, and records it after the publish
//! in two places: the claim (completed) and the stream (the drop marked announced). When
//! the state table refuses both records, the hold is handed back to the hold queue marked
//! published, and that copy only records: a failure after the publish never publishes
//! again. What can still publish twice is a Publish whose answer is lost (SNS kept it, the
//! relay cannot know), and the table and the queue both refusing the records.

use std::time::Duration;

use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::meaning::classify::Event;
use crate::meaning::stream_state::Notice;
use crate::ports::hold_queue::{Hold, HoldQueue};
use crate::ports::idempotency::Claim;
use crate::ports::publish::{PublishError, Publisher};
use crate::ports::stream_log::{Mark, StreamKey, StreamLog};
use crate::rejection::Rejection;
use crate::relay::Teller;
use crate::relay::report::Report;
use crate::relay::windowed::Windowed;

/// How long a claim on an announcement protects an attempt in progress: longer than the
/// function's timeout (15 s) and the hold queue's visibility timeout (90 s) together, so
/// that no redelivery of the hold overtakes an attempt that may still record its publish.
pub const ANNOUNCEMENT_LEASE_SECS: u64 = 120;
/// How long a published announcement's claim is kept: as long as SQS may keep a copy of
/// its hold (14 days in the dead-letter queue), and a day.
pub const ANNOUNCEMENT_CLAIM_SECS: u64 = 15 * 86_400;

/// Why an announcement was not made (or not recorded) this time.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    #[error("another copy of this hold is announcing it")]
    InFlight,
    #[error("the announcement could not be claimed: {0}")]
    NotClaimed(String),
    #[error("less than {0:?} of the invocation is left to publish and record it")]
    NoTime(Duration),
    #[error(transparent)]
    NotPublished(PublishError),
    #[error("the announcement is not recorded: {0}")]
    NotRecorded(String),
}

impl AnnounceError {
    /// What Tencent is answered when a callback's late announcement was not made.
    pub fn into_rejection(self) -> Rejection {
        match self {
            AnnounceError::InFlight => Rejection::InFlight,
            AnnounceError::NotPublished(e) => Rejection::NotPublished(e),
            other => Rejection::NotRecorded(other.to_string()),
        }
    }
}

fn claim_of(drop_id: &str) -> String {
    format!("announce:{drop_id}")
}

impl<L: StreamLog, Q: HoldQueue> Windowed<L, Q> {
    /// Announces the drop whose stop is `stop` with `notice`, unless it was or is being
    /// announced, and records it.
    pub(super) async fn announce<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        verifier: &Verifier,
        stop: &Authentic<Callback>,
        notice: &Notice,
        now: u64,
        report: &mut Report,
    ) -> Result<(), AnnounceError> {
        let drop_id = stop.get().event_id.as_str();
        let key = &StreamKey::of(stop.get());
        if !teller.tells(Event::StoppedAbnormally) {
            report.not_notified.push(Event::StoppedAbnormally);
            return self.mark_announced(key, drop_id).await;
        }
        if !teller.deadline.allows(self.announcement_budget) {
            return Err(AnnounceError::NoTime(self.announcement_budget));
        }
        let claim = claim_of(drop_id);
        match self.log.claim(&claim, now, ANNOUNCEMENT_LEASE_SECS).await {
            Ok(Claim::Owned) => {}
            Ok(Claim::AlreadyPublished) => return self.mark_announced(key, drop_id).await,
            Ok(Claim::InFlight) => return Err(AnnounceError::InFlight),
            Err(e) => return Err(AnnounceError::NotClaimed(e.to_string())),
        }
        if let Err(rejection) = teller.tell(stop, notice, report).await {
            if let Err(e) = self.log.release(&claim).await {
                tracing::warn!(error = %e, "announcement claim not released; it lapses after its lease");
            }
            return Err(match rejection {
                Rejection::NotPublished(e) => AnnounceError::NotPublished(e),
                other => AnnounceError::NotRecorded(other.to_string()),
            });
        }
        self.record_published(stop, now, Some(verifier)).await
    }

    /// Records that the drop of `stop` was announced: its claim completed and its stream
    /// marked. When neither write is taken, the record is handed to the hold queue, sealed
    /// with `hand_back` (none for a hold that is itself such a record: it fails, and SQS
    /// delivers it again, as any hold that fails).
    pub(super) async fn record_published(
        &self,
        stop: &Authentic<Callback>,
        now: u64,
        hand_back: Option<&Verifier>,
    ) -> Result<(), AnnounceError> {
        let drop_id = stop.get().event_id.as_str();
        let key = &StreamKey::of(stop.get());
        let completed = self
            .log
            .complete(&claim_of(drop_id), now, now + ANNOUNCEMENT_CLAIM_SECS)
            .await;
        let marked = self.mark_announced(key, drop_id).await;
        let (Err(_), Err(e), Some(verifier)) = (&completed, &marked, hand_back) else {
            // marked, done; or completed only (a redelivery finds the claim published, and
            // marks the stream then); or a record handed back that failed again
            return marked;
        };
        let handed_back = Hold {
            deadline: now,
            accepted_until: stop.accepted_until(),
            published: true,
            stop: stop.get().clone(),
        };
        match self.park(verifier, &handed_back, now).await {
            Ok(()) => {
                tracing::warn!(error = %e, "announcement published, its record handed to the hold queue");
                Ok(())
            }
            Err(queue) => Err(AnnounceError::NotRecorded(format!(
                "{e}; nor handed to the hold queue: {queue}"
            ))),
        }
    }

    /// Records in the stream that the drop's announcement is done (published, refused by
    /// SNS, or not notified), so that its expiry can be compacted away.
    async fn mark_announced(&self, key: &StreamKey, drop_id: &str) -> Result<(), AnnounceError> {
        self.log
            .mark(key, Mark::Announced(drop_id))
            .await
            .map_err(|e| AnnounceError::NotRecorded(e.to_string()))
    }
}
