//! Deduplication without the reconnect window: each event is claimed in the state table
//! by its `event_id` before it is published, so that Tencent's retries of a published
//! callback are acknowledged without publishing it again.

use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::meaning::stream_state::Notice;
use crate::ports::idempotency::{Claim, IN_FLIGHT_LEASE_SECS, IdempotencyStore};
use crate::ports::publish::Publisher;
use crate::rejection::Rejection;
use crate::relay::report::Report;
use crate::relay::{Mode, Teller, Told};

#[derive(Debug)]
pub struct Deduplicated<S> {
    pub store: S,
}

impl<S: IdempotencyStore> Mode for Deduplicated<S> {
    async fn on_callback<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        _verifier: &Verifier,
        callback: &Authentic<Callback>,
        now: u64,
        report: &mut Report,
    ) -> Result<(), Rejection> {
        let cb = callback.get();
        let event = cb.classification().event;
        if !teller.tells(event) {
            report.not_notified.push(event);
            return Ok(());
        }
        let event_id = cb.event_id.as_str();
        let claimed = match self.store.claim(event_id, now, IN_FLIGHT_LEASE_SECS).await {
            Ok(Claim::Owned) => true,
            Ok(Claim::AlreadyPublished) => {
                report.duplicate = true;
                return Ok(());
            }
            Ok(Claim::InFlight) => return Err(Rejection::InFlight),
            Err(e) => {
                tracing::warn!(error = %e, event_id, "publishing without deduplication");
                false
            }
        };
        let told = teller.tell(callback, &Notice::plain(event), report).await;
        if claimed {
            let recorded = match told {
                Ok(Told::Published) => {
                    self.store
                        .complete(event_id, now, callback.accepted_until())
                        .await
                }
                _ => self.store.release(event_id).await,
            };
            if let Err(e) = recorded {
                tracing::warn!(error = %e, event_id, "claim not updated; it lapses after its lease");
            }
        }
        told.map(|_| ())
    }
}
