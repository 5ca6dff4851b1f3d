//! With the reconnect window: each callback is appended to its stream's history in the
//! state table (the one write that decides every race), the stream-state machine says
//! what it means, and that is done: a notice published, or a drop parked on the hold
//! queue until its deadline. A callback appended before (Tencent's retry) gets the same
//! decision again, and its effects are redone: a retry comes only when the first answer
//! was not a 200, and whether the first publish or park went through is not known.

use std::collections::BTreeSet;
use std::time::Duration;

pub use crate::inbound::TENCENT_RETRY_SECS;
use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::meaning::classify::{Event, PushEvent, Reason};
use crate::meaning::stream_state::{
    DropFacts, Effect, Entry, History, Input, MAX_ENTRIES, Notice, Outcome, Start, Stop,
};
use crate::ports::hold_queue::{Hold, HoldQueue, Message};
use crate::ports::publish::Publisher;
use crate::ports::stream_log::{Mark, StreamKey, StreamLog};
use crate::rejection::Rejection;
use crate::relay::announce::AnnounceError;
use crate::relay::report::Report;
use crate::relay::{Mode, Teller};

/// How long past its drop's deadline a recovery waits for the drop's announcement (SQS
/// delivers a failed hold again every 90 s): then it is told anyway, not lost with
/// Tencent's last retry.
pub const RECOVERY_WAIT_SECS: u64 = 300;

#[derive(Debug)]
pub struct Windowed<L, Q> {
    pub log: L,
    pub queue: Q,
    pub window_secs: u64,
    /// The longest an announcement may take from its claim to its record (the publish, the
    /// post to chat, the writes after them): with less left of the invocation, it is not
    /// started, so that the function never stops between a publish and its record.
    pub announcement_budget: Duration,
    /// How long after a failed park the sweep parks the hold (Tencent's retries first).
    pub sweep_after_secs: u64,
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

/// The stop of an overdue drop, as far as its stream's history knows it, for its late
/// announcement by `shown_back`, the callback that showed the stream back: the stream's
/// names from that callback, the stop's identity, time and code from the history, and
/// nothing the history does not hold (the pusher's address, its parameters, Tencent's text).
pub fn overdue_stop(shown_back: &Authentic<Callback>, drop: &DropFacts) -> Authentic<Callback> {
    let cb = shown_back.get();
    let stop = Callback {
        push: PushEvent::Interrupted,
        event_id: drop.id.clone(),
        appid: cb.appid,
        app: cb.app.clone(),
        appname: cb.appname.clone(),
        stream_id: cb.stream_id.clone(),
        channel_id: cb.channel_id.clone(),
        event_time: drop.at,
        sequence: drop.sequence.clone(),
        node: String::new(),
        user_ip: String::new(),
        stream_param: String::new(),
        push_duration_ms: Some(drop.at.saturating_sub(drop.started_at) * 1000),
        errcode: drop.errcode,
        errmsg: String::new(),
        set_id: cb.set_id,
        width: 0,
        height: 0,
        idc_id: None,
    };
    shown_back.clone().map(|_| stop)
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

    /// Seals `hold` and parks it on the hold queue until its deadline.
    pub(super) async fn park(
        &self,
        verifier: &Verifier,
        hold: &Hold,
        now: u64,
    ) -> Result<(), String> {
        self.queue
            .park(&sealed(verifier, hold), hold.delay_at(now))
            .await
            .map_err(|e| e.to_string())
    }

    /// Parks the hold of the stop `callback` until `deadline`. A hold whose park fails is
    /// kept in its stream, marked for the sweep, which parks it if Tencent's retries do not
    /// (and a retry's park is then the hold's first).
    async fn hold(
        &self,
        verifier: &Verifier,
        history: &History,
        callback: &Authentic<Callback>,
        deadline: u64,
        now: u64,
        report: &mut Report,
    ) -> Result<(), Rejection> {
        let drop_id = callback.get().event_id.as_str();
        let key = &StreamKey::of(callback.get());
        let hold = Hold {
            deadline,
            accepted_until: callback.accepted_until(),
            published: false,
            stop: callback.get().clone(),
        };
        let message = sealed(verifier, &hold);
        let unparked_before = history.unparked.contains_key(drop_id);
        match self.queue.park(&message, hold.delay_at(now)).await {
            Ok(()) => {
                report.held_until = Some(deadline);
                report.hold_parked = report.state != Some(Outcome::Duplicate) || unparked_before;
                if unparked_before && let Err(e) = self.log.mark(key, Mark::Parked(drop_id)).await {
                    tracing::warn!(error = %e, "the hold parked is left to the sweep too");
                }
                Ok(())
            }
            Err(e) => {
                let unparked = Mark::Unparked {
                    drop_id,
                    message: &message,
                    at: now,
                };
                if !unparked_before && let Err(e) = self.log.mark(key, unparked).await {
                    tracing::warn!(error = %e, "the hold not parked is not kept for the sweep");
                }
                Err(Rejection::NotRecorded(e.to_string()))
            }
        }
    }
}

/// `hold` as the hold queue carries it: its content, sealed.
fn sealed(verifier: &Verifier, hold: &Hold) -> String {
    let content = hold.content();
    let seal = verifier.seal(content.as_bytes());
    Message::sealed(content, seal)
}

impl<L: StreamLog, Q: HoldQueue> Mode for Windowed<L, Q> {
    async fn on_callback<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        verifier: &Verifier,
        callback: &Authentic<Callback>,
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
        let mut announced: BTreeSet<String> = history.announced.clone();
        for effect in effects {
            match effect {
                Effect::Publish(Notice::Overdue {
                    drop,
                    held_for_secs,
                }) => {
                    // not again once announced (by an earlier attempt, or by the drop's hold)
                    if !announced.contains(&drop.id) {
                        let stop = overdue_stop(callback, &drop);
                        let notice = Notice::Overdue {
                            drop: drop.clone(),
                            held_for_secs,
                        };
                        self.announce(teller, verifier, &stop, &notice, now, report)
                            .await
                            .map_err(AnnounceError::into_rejection)?;
                        announced.insert(drop.id);
                    }
                }
                Effect::Publish(Notice::Recovered { drop, .. })
                    if teller.tells(Event::Recovered)
                        && !announced.contains(&drop.id)
                        && now < drop.deadline + RECOVERY_WAIT_SECS =>
                {
                    return Err(Rejection::AnnouncementPending(drop.id));
                }
                Effect::Publish(notice) => {
                    teller.tell(callback, &notice, report).await?;
                }
                Effect::Hold { deadline, .. } => {
                    self.hold(verifier, &history, callback, deadline, now, report)
                        .await?;
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
    ) -> Result<(), crate::relay::holds::HoldError> {
        self.hold_came_back(teller, verifier, message, now, report)
            .await
    }

    async fn on_sweep(&self, now: u64, report: &mut Report) -> Result<(), String> {
        self.sweep(now, report).await
    }
}
