//! What one notification tells: its event, why, under which `event_id`, and the
//! stream-state facts around it, worked out once from the callback it is about and the
//! notice the relay decided on, for every rendering to share.

use crate::inbound::callback::Callback;
use crate::meaning::classify::{Event, Reason};
use crate::meaning::stream_state::{DropFacts, Notice};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telling {
    pub event: Event,
    /// For stops, why; for a resumed or recovered stream, why it had dropped.
    pub reason: Option<Reason>,
    pub event_id: String,
    /// How long an announced drop was held before it was told.
    pub held_for_secs: Option<u64>,
    /// The drop a resumed or recovered stream came back from.
    pub drop: Option<DropFacts>,
    /// For `stream.resumed`, how long the stream was gone (Tencent's event times).
    pub gap_secs: Option<u64>,
    /// For `stream.recovered`, how long the stream was down (Tencent's event times).
    pub downtime_secs: Option<u64>,
    /// For a resumed or recovered stream, the callback that showed it back: `start`, or
    /// `stop` when only a later stop of its push arrived.
    pub shown_by: Option<&'static str>,
}

impl Telling {
    /// What `notice` tells about `cb`, the callback it came from (for an announcement,
    /// the stop that was held).
    pub fn new(cb: &Callback, notice: &Notice) -> Telling {
        let class = cb.classification();
        let plain = Telling {
            event: class.event,
            reason: class.reason,
            event_id: cb.event_id.clone(),
            held_for_secs: None,
            drop: None,
            gap_secs: None,
            downtime_secs: None,
            shown_by: None,
        };
        let came_back = |event: Event, drop: &DropFacts, implicit: bool| Telling {
            event,
            reason: Some(drop.reason),
            event_id: if implicit {
                cb.implied_start_id()
            } else {
                cb.event_id.clone()
            },
            drop: Some(drop.clone()),
            shown_by: Some(if implicit { "stop" } else { "start" }),
            ..plain.clone()
        };
        match notice {
            Notice::Started | Notice::Stopped | Notice::Dropped => plain,
            Notice::Announced { held_for_secs } | Notice::Overdue { held_for_secs, .. } => {
                Telling {
                    event: Event::StoppedAbnormally,
                    held_for_secs: Some(*held_for_secs),
                    ..plain
                }
            }
            Notice::Resumed {
                drop,
                gap_secs,
                implicit,
            } => Telling {
                gap_secs: *gap_secs,
                ..came_back(Event::Resumed, drop, *implicit)
            },
            Notice::Recovered {
                drop,
                downtime_secs,
                implicit,
            } => Telling {
                downtime_secs: *downtime_secs,
                ..came_back(Event::Recovered, drop, *implicit)
            },
        }
    }
}
