//! With the reconnect window: each callback is appended to its stream's history in the
//! state table (the one write that decides every race), the stream-state machine says
//! what it means, and that is done: a notice published, or a drop parked on the hold
//! queue until its deadline. A callback appended before (Tencent's retry) gets the same
//! decision again, and its effects are redone: a retry comes only when the first answer
//! was not a 200, and whether the first publish or park went through is not known.

use crate::handler::Rejection;
use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::meaning::classify::{Event, PushEvent, Reason};
use crate::meaning::stream_state::{
    Effect, Entry, History, Input, MAX_ENTRIES, Notice, Outcome, Start, Stop,
};
use crate::ports::hold_queue::{Hold, HoldQueue};
use crate::ports::publish::Publisher;
use crate::ports::stream_log::{StreamKey, StreamLog};
use crate::relay::holds::HoldError;
use crate::relay::report::Report;
use crate::relay::{Mode, Teller};

/// How long after a callback first arrives Tencent may still send it again: up to 12
/// retries a minute apart, each after up to 20 s without an answer (PROTOCOL.md), and a
/// minute for the clocks of the relay's instances and the network.
pub const TENCENT_RETRY_SECS: u64 = 12 * (60 + 20) + 60;
/// How long past its drop's deadline a recovery waits for the drop's announcement (SQS
/// delivers a failed hold again every 90 s): then it is told anyway, not lost with
/// Tencent's last retry.
pub const RECOVERY_WAIT_SECS: u64 = 300;

#[derive(Debug)]
pub struct Windowed<L, Q> {
    pub log: L,
    pub queue: Q,
    pub window_secs: u64,
}

/// The stream-state input a callback is, arriving at `now`.
pub fn input_of(cb: &Callback, now: u64, window_secs: u64) -> Input {
    match cb.push {
        PushEvent::Started => Input::Start(Start {
            id: cb.event_id.clone(),
            sequence: cb.sequence.clone(),
            at: cb.event_time,
        }),
        PushEvent::Interrupted => Input::Stop(Stop {
            id: cb.event_id.clone(),
            sequence: cb.sequence.clone(),
            at: cb.event_time,
            reason: Reason::from_errcode(cb.errcode),
            errcode: cb.errcode,
            push_duration_ms: cb.push_duration_ms,
            hold_until: now + window_secs,
        }),
    }
}

impl<L: StreamLog, Q: HoldQueue> Windowed<L, Q> {
    /// Appends `entry` to the stream's history and returns the history and the decision
    /// for the entry (for an entry there before, the decision it had then). A long
    /// history is compacted on the way, as far as [`History::compacted`] allows.
    pub async fn decide(
        &self,
        key: &StreamKey,
        entry: &Entry,
        report: &mut Report,
    ) -> Result<(History, Vec<Effect>), Rejection> {
        let appended = self
            .log
            .append(key, entry)
            .await
            .map_err(|e| Rejection::NotRecorded(e.to_string()))?;
        let decision = appended.history.decision_at(appended.position);
        report.state = Some(if appended.fresh {
            decision.outcome
        } else {
            Outcome::Duplicate
        });
        if let Some(compacted) = appended.history.compaction(entry.received) {
            if appended.history.entries.len() > MAX_ENTRIES {
                tracing::warn!(
                    entries = appended.history.entries.len(),
                    "stream history compacted past what retries may still need"
                );
            }
            if let Err(e) = self.log.compact(key, &compacted, appended.version).await {
                tracing::warn!(error = %e, "stream history not compacted; the next append will");
            }
        }
        Ok((appended.history, decision.effects))
    }

    /// Parks `hold` on the hold queue until its deadline, and reports that.
    pub(super) async fn park(
        &self,
        hold: &Hold,
        now: u64,
        report: &mut Report,
    ) -> Result<(), String> {
        self.queue
            .park(hold, now)
            .await
            .map_err(|e| e.to_string())?;
        report.held_until = Some(hold.deadline);
        Ok(())
    }
}

impl<L: StreamLog, Q: HoldQueue> Mode for Windowed<L, Q> {
    async fn on_callback<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        callback: &Authentic<Callback>,
        body: &[u8],
        now: u64,
        report: &mut Report,
    ) -> Result<(), Rejection> {
        let cb = callback.get();
        let key = StreamKey::of(cb);
        let entry = Entry {
            received: now,
            until: callback.accepted_until().max(now + TENCENT_RETRY_SECS),
            input: input_of(cb, now, self.window_secs),
        };
        let (history, effects) = self.decide(&key, &entry, report).await?;
        for effect in effects {
            match effect {
                Effect::Publish(Notice::Recovered { drop, .. })
                    if teller.tells(Event::Recovered)
                        && !history.announced.contains(&drop.id)
                        && now < drop.at + self.window_secs + RECOVERY_WAIT_SECS =>
                {
                    return Err(Rejection::AnnouncementPending(drop.id));
                }
                Effect::Publish(notice) => {
                    teller.tell(callback, &notice, report).await?;
                }
                Effect::Hold { deadline, .. } => {
                    let hold = Hold {
                        verified_at: now,
                        deadline,
                        body: String::from_utf8_lossy(body).into_owned(),
                    };
                    self.park(&hold, now, report)
                        .await
                        .map_err(Rejection::NotRecorded)?;
                }
            }
        }
        Ok(())
    }

    async fn on_hold<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        verifier: &Verifier,
        message: &str,
        now: u64,
        report: &mut Report,
    ) -> Result<(), HoldError> {
        self.hold_came_back(teller, verifier, message, now, report)
            .await
    }
}
