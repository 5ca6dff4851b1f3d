//! The stream-state machine behind the reconnect window: the state of one stream and one
//! input in, the next state and what to do out. No I/O, no clock: every input carries
//! the time it arrived, so replaying a stream's inputs always reaches the same decisions.
//!
//! A stream is a push domain, an app name and a stream name; a push is one `sequence`
//! of it. An abnormal stop is held until its deadline; if the stream comes back first
//! (a new push starts, or a stop of a push whose start was missed shows it did) the drop
//! was a blip and is announced as resumed, never as a drop. Otherwise the expiry of the
//! hold announces it, and the next push announces the recovery; a stream that comes back
//! after the deadline before the hold does (a hold late, or never parked) announces the
//! drop late and its recovery at once. For each drop exactly one of {resumed} or
//! {stopped abnormally, then recovered} is ever decided.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::meaning::classify::{Event, Reason};

/// How many recent sequences a stream remembers, to tell a late retry from a new push.
pub const RECENT_SEQUENCES: usize = 8;
/// A history is compacted once it holds this many entries...
pub const COMPACT_AT: usize = 24;
/// ...down to this many, or to fewer only where no retry of what is folded can still come
/// (see [`History::compacted`])...
pub const KEEP_AFTER_COMPACTION: usize = 8;
/// ...and past this many, down to `KEEP_AFTER_COMPACTION` whatever could still come, so
/// that a stream's item stays small.
pub const MAX_ENTRIES: usize = 128;
/// A compaction is written only when it folds at least this many entries: at most one
/// write more per this many inputs.
pub const MIN_FOLDED: usize = 8;

/// A push of the stream, from its start (or, when the start was never seen, from the
/// start its stop implies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub sequence: String,
    /// Tencent's event time of the start.
    pub started_at: u64,
    /// `None` when the start was never seen.
    pub start_id: Option<String>,
}

/// An abnormal stop, held or announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drop {
    /// The stop's `event_id`.
    pub id: String,
    pub sequence: String,
    /// Tencent's event time of the stop.
    pub at: u64,
    pub reason: Reason,
    pub errcode: i64,
    /// When the push that dropped had started.
    pub started_at: u64,
    /// When the relay received the stop, and until when it holds it (its clock).
    pub held_at: u64,
    pub deadline: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Nothing known yet.
    Idle,
    Live {
        push: Push,
    },
    /// The pusher stopped normally.
    Stopped {
        push: Push,
        stop_id: String,
    },
    /// Dropped; the drop is not announced while the stream may still come back.
    Held {
        drop: Drop,
    },
    /// Dropped, and announced.
    Down {
        drop: Drop,
        announced_at: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stream {
    pub phase: Phase,
    /// The sequences of the last pushes seen, oldest first.
    pub recent: Vec<String>,
}

impl Default for Stream {
    fn default() -> Self {
        Stream {
            phase: Phase::Idle,
            recent: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    pub id: String,
    pub sequence: String,
    /// Tencent's event time.
    pub at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    pub id: String,
    pub sequence: String,
    /// Tencent's event time.
    pub at: u64,
    pub reason: Reason,
    pub errcode: i64,
    pub push_duration_ms: Option<u64>,
    /// For an abnormal stop, until when it would be held if it is held: fixed when the
    /// stop arrives, so that replaying it later decides the same.
    pub hold_until: u64,
}

impl Stop {
    pub fn is_abnormal(&self) -> bool {
        self.reason.is_abnormal()
    }

    /// When its push must have started.
    fn implied_start(&self) -> u64 {
        self.at
            .saturating_sub(self.push_duration_ms.unwrap_or(0) / 1000)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    Start(Start),
    Stop(Stop),
    /// The hold of the drop whose stop had this `event_id` has come due.
    Expire {
        drop_id: String,
    },
}

/// An input and when the relay received it (its clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub received: u64,
    /// Until when the same input may arrive again (a callback's acceptance ends; the
    /// relay's clock): the history keeps it until then, so that a retry is recognised.
    #[serde(default)]
    pub until: u64,
    #[serde(flatten)]
    pub input: Input,
}

impl Entry {
    /// The identity by which a repeated input is recognised.
    pub fn id(&self) -> String {
        match &self.input {
            Input::Start(s) => s.id.clone(),
            Input::Stop(s) => s.id.clone(),
            Input::Expire { drop_id } => format!("expire:{drop_id}"),
        }
    }

    /// Whether [`Entry::id`] is `id`, without making it.
    pub fn has_id(&self, id: &str) -> bool {
        match &self.input {
            Input::Start(s) => s.id == id,
            Input::Stop(s) => s.id == id,
            Input::Expire { drop_id } => id.strip_prefix("expire:") == Some(drop_id.as_str()),
        }
    }
}

/// What a notice about a drop says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropFacts {
    pub id: String,
    pub sequence: String,
    pub at: u64,
    pub reason: Reason,
    pub errcode: i64,
    /// When the push that dropped had started (Tencent's clock).
    pub started_at: u64,
    /// When the relay received the stop, and until when it held it (its clock).
    pub held_at: u64,
    pub deadline: u64,
}

impl From<&Drop> for DropFacts {
    fn from(drop: &Drop) -> Self {
        DropFacts {
            id: drop.id.clone(),
            sequence: drop.sequence.clone(),
            at: drop.at,
            reason: drop.reason,
            errcode: drop.errcode,
            started_at: drop.started_at,
            held_at: drop.held_at,
            deadline: drop.deadline,
        }
    }
}

/// What to tell subscribers. Every notice is about the callback the input came from,
/// except [`Notice::Announced`] and [`Notice::Overdue`], which are about the held stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Started,
    /// A normal stop by the pusher.
    Stopped,
    /// An abnormal stop told at once: one that conflicts with the stop already recorded
    /// for its push.
    Dropped,
    /// The stream came back before its drop was announced.
    Resumed {
        drop: DropFacts,
        gap_secs: Option<u64>,
        /// Shown by a stop of a push whose start was never seen.
        implicit: bool,
    },
    /// The stream came back after its drop was announced.
    Recovered {
        drop: DropFacts,
        downtime_secs: Option<u64>,
        implicit: bool,
    },
    /// The held drop, announced when its hold came due.
    Announced {
        held_for_secs: u64,
    },
    /// The held drop, announced late by the stream coming back after its deadline: its
    /// hold never came due (it was never parked, or is still on its way). Told before the
    /// recovery that follows it.
    Overdue {
        drop: DropFacts,
        held_for_secs: u64,
    },
}

impl Notice {
    /// What the relay tells of a callback without the reconnect window: what it is.
    pub fn plain(event: Event) -> Notice {
        match event {
            Event::Stopped => Notice::Stopped,
            Event::StoppedAbnormally => Notice::Dropped,
            Event::Started | Event::Resumed | Event::Recovered => Notice::Started,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Publish(Notice),
    /// Park the stop on the hold queue until `deadline` (the relay's clock).
    Hold {
        drop_id: String,
        deadline: u64,
    },
}

/// How an input related to the stream, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// The same callback again.
    Duplicate,
    /// A callback of a push that is over, or older than the current one.
    Stale,
    /// Another body for a push and kind already recorded (one of them is not Tencent's):
    /// told as it is, the state unchanged.
    Conflict,
    /// A hold that is not due yet.
    NotDue,
    /// A hold whose drop was resolved meanwhile.
    Resolved,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Stale => "stale",
            Outcome::Conflict => "conflict",
            Outcome::NotDue => "not_due",
            Outcome::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub next: Stream,
    pub effects: Vec<Effect>,
    pub outcome: Outcome,
}

impl Decision {
    fn unchanged(state: &Stream, outcome: Outcome) -> Decision {
        Decision {
            next: state.clone(),
            effects: Vec::new(),
            outcome,
        }
    }
}

/// How an input's push relates to the stream's state.
enum Relation {
    /// The push the state is about.
    Current,
    /// A push that is over, or one older than the current push.
    Past,
    New,
}

impl Stream {
    fn current(&self) -> Option<(&str, u64)> {
        match &self.phase {
            Phase::Idle => None,
            Phase::Live { push } | Phase::Stopped { push, .. } => {
                Some((&push.sequence, push.started_at))
            }
            Phase::Held { drop } | Phase::Down { drop, .. } => {
                Some((&drop.sequence, drop.started_at))
            }
        }
    }

    /// How a push of `sequence` that began at `began_at` (Tencent's clock) relates.
    fn relation(&self, sequence: &str, began_at: u64) -> Relation {
        match self.current() {
            Some((current, _)) if current == sequence => Relation::Current,
            Some((_, started_at)) if began_at < started_at => Relation::Past,
            _ if self.recent.iter().any(|s| s == sequence) => Relation::Past,
            _ => Relation::New,
        }
    }

    fn with(&self, phase: Phase, new_sequence: Option<&str>) -> Stream {
        let mut recent = self.recent.clone();
        if let Some(sequence) = new_sequence {
            recent.push(sequence.to_string());
            let excess = recent.len().saturating_sub(RECENT_SEQUENCES);
            recent.drain(..excess);
        }
        Stream { phase, recent }
    }

    /// What the stream coming back at `came_back` (Tencent's clock, when known), received
    /// at `received` (the relay's), tells about the drop it had open: a drop still held is
    /// resumed, unless its deadline has passed (its hold did not come back in time: the drop
    /// outlasted the window), when it is announced late and recovered.
    fn resolution(&self, came_back: Option<u64>, implicit: bool, received: u64) -> Vec<Notice> {
        let since = |drop: &Drop| came_back.map(|at| at.saturating_sub(drop.at));
        let recovered = |drop: &Drop| Notice::Recovered {
            drop: drop.into(),
            downtime_secs: since(drop),
            implicit,
        };
        match &self.phase {
            Phase::Held { drop } if received >= drop.deadline => vec![
                Notice::Overdue {
                    drop: drop.into(),
                    held_for_secs: received.saturating_sub(drop.held_at),
                },
                recovered(drop),
            ],
            Phase::Held { drop } => vec![Notice::Resumed {
                drop: drop.into(),
                gap_secs: since(drop),
                implicit,
            }],
            Phase::Down { drop, .. } => vec![recovered(drop)],
            Phase::Idle | Phase::Live { .. } | Phase::Stopped { .. } => Vec::new(),
        }
    }
}

/// The decision for `entry` on a stream in state `state`.
pub fn step(state: &Stream, entry: &Entry) -> Decision {
    match &entry.input {
        Input::Start(start) => on_start(state, start, entry.received),
        Input::Stop(stop) => on_stop(state, stop, entry.received),
        Input::Expire { drop_id } => on_expire(state, drop_id, entry.received),
    }
}

fn on_start(state: &Stream, start: &Start, received: u64) -> Decision {
    match (state.relation(&start.sequence, start.at), &state.phase) {
        (Relation::Current, Phase::Live { push }) => match &push.start_id {
            Some(id) if *id == start.id => Decision::unchanged(state, Outcome::Duplicate),
            Some(_) => Decision {
                effects: vec![Effect::Publish(Notice::Started)],
                ..Decision::unchanged(state, Outcome::Conflict)
            },
            None => Decision::unchanged(state, Outcome::Stale),
        },
        (Relation::Current | Relation::Past, _) => Decision::unchanged(state, Outcome::Stale),
        (Relation::New, _) => {
            let mut notices = state.resolution(Some(start.at), false, received);
            if notices.is_empty() {
                notices.push(Notice::Started);
            }
            let push = Push {
                sequence: start.sequence.clone(),
                started_at: start.at,
                start_id: Some(start.id.clone()),
            };
            Decision {
                next: state.with(Phase::Live { push }, Some(&start.sequence)),
                effects: notices.into_iter().map(Effect::Publish).collect(),
                outcome: Outcome::Applied,
            }
        }
    }
}

fn on_stop(state: &Stream, stop: &Stop, received: u64) -> Decision {
    // a stop noticed after the pusher reconnected belongs to the older push
    match (
        state.relation(&stop.sequence, stop.implied_start()),
        &state.phase,
    ) {
        (Relation::Current, Phase::Live { push }) => {
            if stop.is_abnormal() {
                let drop = Drop {
                    id: stop.id.clone(),
                    sequence: stop.sequence.clone(),
                    at: stop.at,
                    reason: stop.reason,
                    errcode: stop.errcode,
                    started_at: push.started_at,
                    held_at: received,
                    deadline: stop.hold_until,
                };
                Decision {
                    next: state.with(Phase::Held { drop }, None),
                    effects: vec![Effect::Hold {
                        drop_id: stop.id.clone(),
                        deadline: stop.hold_until,
                    }],
                    outcome: Outcome::Applied,
                }
            } else {
                let phase = Phase::Stopped {
                    push: push.clone(),
                    stop_id: stop.id.clone(),
                };
                Decision {
                    next: state.with(phase, None),
                    effects: vec![Effect::Publish(Notice::Stopped)],
                    outcome: Outcome::Applied,
                }
            }
        }
        (Relation::Current, Phase::Stopped { stop_id, .. })
        | (
            Relation::Current,
            Phase::Held {
                drop: Drop { id: stop_id, .. },
            },
        )
        | (
            Relation::Current,
            Phase::Down {
                drop: Drop { id: stop_id, .. },
                ..
            },
        ) => {
            if *stop_id == stop.id {
                Decision::unchanged(state, Outcome::Duplicate)
            } else {
                let notice = if stop.is_abnormal() {
                    Notice::Dropped
                } else {
                    Notice::Stopped
                };
                Decision {
                    effects: vec![Effect::Publish(notice)],
                    ..Decision::unchanged(state, Outcome::Conflict)
                }
            }
        }
        (Relation::Current | Relation::Past, _) => Decision::unchanged(state, Outcome::Stale),
        (Relation::New, _) => {
            // A stop of a push whose start was never seen: it started, so the stream came
            // back; resolve what was open as that start would have, then stop it.
            let implied = stop.implied_start();
            let came_back = stop.push_duration_ms.map(|_| implied);
            let resolution = state.resolution(came_back, true, received);
            let push = Push {
                sequence: stop.sequence.clone(),
                started_at: implied,
                start_id: None,
            };
            let started = state.with(Phase::Live { push }, Some(&stop.sequence));
            let mut decision = on_stop(&started, stop, received);
            // parking the new drop first: it must not wait on a publish that may fail
            let parks = decision
                .effects
                .iter()
                .filter(|e| matches!(e, Effect::Hold { .. }))
                .count();
            decision
                .effects
                .splice(parks..parks, resolution.into_iter().map(Effect::Publish));
            decision
        }
    }
}

fn on_expire(state: &Stream, drop_id: &str, received: u64) -> Decision {
    match &state.phase {
        Phase::Held { drop } if drop.id == drop_id => {
            if received < drop.deadline {
                return Decision::unchanged(state, Outcome::NotDue);
            }
            let phase = Phase::Down {
                drop: drop.clone(),
                announced_at: received,
            };
            Decision {
                next: state.with(phase, None),
                effects: vec![Effect::Publish(Notice::Announced {
                    held_for_secs: received.saturating_sub(drop.held_at),
                })],
                outcome: Outcome::Applied,
            }
        }
        // its expiry again, once the first was compacted away: announced again, unless
        // the announcement is recorded as published
        Phase::Down { drop, announced_at } if drop.id == drop_id => Decision {
            effects: vec![Effect::Publish(Notice::Announced {
                held_for_secs: announced_at.saturating_sub(drop.held_at),
            })],
            ..Decision::unchanged(state, Outcome::Duplicate)
        },
        _ => Decision::unchanged(state, Outcome::Resolved),
    }
}

/// A stream's state as stored: a snapshot, the inputs received since, and the drops
/// whose announcement has been published (an expiry delivered again must not announce
/// a drop twice, while one whose publish failed must be announced when it comes again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub snapshot: Stream,
    pub entries: Vec<Entry>,
    pub announced: BTreeSet<String>,
    /// The holds that could not be parked when their stop was recorded (each drop's id,
    /// with its sealed message): Tencent's retry parks it, or else the sweep does. Not
    /// folded by compaction: a park takes a hold out.
    pub unparked: BTreeMap<String, String>,
}

impl History {
    /// The state after every entry.
    pub fn state(&self) -> Stream {
        self.state_before(self.entries.len())
    }

    fn state_before(&self, position: usize) -> Stream {
        self.entries[..position]
            .iter()
            .fold(self.snapshot.clone(), |state, entry| {
                step(&state, entry).next
            })
    }

    /// The decision for the entry at `position`, as it was when it arrived: the same
    /// whenever it is asked.
    pub fn decision_at(&self, position: usize) -> Decision {
        step(&self.state_before(position), &self.entries[position])
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.has_id(id))
    }

    /// The late announcement an input decided for drop `drop_id` ([`Notice::Overdue`]), if
    /// one did: the drop's hold, when it comes, stands in for it until it is announced.
    pub fn overdue_notice(&self, drop_id: &str) -> Option<Notice> {
        let mut state = self.snapshot.clone();
        for entry in &self.entries {
            let decision = step(&state, entry);
            if let Some(notice) = overdue_of(&decision, Some(drop_id)) {
                return Some(notice);
            }
            state = decision.next;
        }
        None
    }

    /// The compaction worth writing at `now`, if any: from [`COMPACT_AT`] entries on, one
    /// that folds at least [`MIN_FOLDED`].
    pub fn compaction(&self, now: u64) -> Option<History> {
        if self.entries.len() < COMPACT_AT {
            return None;
        }
        let compacted = self.compacted(KEEP_AFTER_COMPACTION, now);
        (self.entries.len() - compacted.entries.len() >= MIN_FOLDED).then_some(compacted)
    }

    /// The same state with the oldest entries folded into the snapshot, keeping at least
    /// `keep`. An entry that a repeat may still come for is never folded, nor anything
    /// after it: a callback within its acceptance (`until` not passed at `now`), and an
    /// input that announces a drop whose announcement is not recorded as published (an
    /// expiry, whose hold SQS delivers again until it is announced, or a callback that
    /// announced the drop late, for which the drop's hold stands in). Past
    /// [`MAX_ENTRIES`], callbacks are folded down to `keep` all the same, but never such
    /// an input: a drop is not lost. The announcements kept are those of the drops the
    /// compacted history still refers to; the holds not parked are all kept.
    pub fn compacted(&self, keep: usize, now: u64) -> History {
        let mut fold = self.entries.len().saturating_sub(keep);
        let mut snapshot = self.snapshot.clone();
        for (position, entry) in self.entries[..fold].iter().enumerate() {
            let decision = step(&snapshot, entry);
            if self.awaits_repeat(entry, &decision, now, self.entries.len() > MAX_ENTRIES) {
                fold = position;
                break;
            }
            snapshot = decision.next;
        }
        let entries = self.entries[fold..].to_vec();
        let open_drop = match &snapshot.phase {
            Phase::Held { drop } | Phase::Down { drop, .. } => Some(drop.id.as_str()),
            Phase::Idle | Phase::Live { .. } | Phase::Stopped { .. } => None,
        };
        let referred = |id: &str| {
            open_drop == Some(id)
                || entries.iter().any(|e| match &e.input {
                    Input::Stop(stop) => stop.id == id,
                    Input::Expire { drop_id } => drop_id == id,
                    Input::Start(_) => false,
                })
        };
        History {
            announced: self
                .announced
                .iter()
                .filter(|drop_id| referred(drop_id))
                .cloned()
                .collect(),
            unparked: self.unparked.clone(),
            snapshot,
            entries,
        }
    }

    /// Whether a repeat of `entry` may still come and must be recognised; `overflowing`,
    /// only an expiry's.
    fn awaits_repeat(
        &self,
        entry: &Entry,
        decision: &Decision,
        now: u64,
        overflowing: bool,
    ) -> bool {
        match &entry.input {
            Input::Expire { drop_id } => {
                !self.announced.contains(drop_id)
                    && decision
                        .effects
                        .iter()
                        .any(|e| matches!(e, Effect::Publish(Notice::Announced { .. })))
            }
            // a callback that announces a drop late is kept as an expiry is
            Input::Start(_) | Input::Stop(_) => match overdue_of(decision, None) {
                Some(Notice::Overdue { drop, .. }) => !self.announced.contains(&drop.id),
                _ => !overflowing && entry.until >= now,
            },
        }
    }
}

/// The late announcement among `decision`'s effects, of drop `drop_id` if given.
fn overdue_of(decision: &Decision, drop_id: Option<&str>) -> Option<Notice> {
    decision.effects.iter().find_map(|effect| match effect {
        Effect::Publish(notice @ Notice::Overdue { drop, .. })
            if drop_id.is_none_or(|id| id == drop.id) =>
        {
            Some(notice.clone())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests;
