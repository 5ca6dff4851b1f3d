//! What became of one callback or one hold, for its log line.

use lambda_http::http::StatusCode;

use crate::inbound::callback::Callback;
use crate::meaning::classify::{Event, Reason};
use crate::meaning::stream_state::Outcome;

#[derive(Debug, Default)]
pub struct Report {
    /// The callback's own event and reason (as classified), event id and stream.
    pub event: Option<Event>,
    pub reason: Option<Reason>,
    pub event_id: Option<String>,
    pub stream_id: Option<String>,
    /// What was published: each event with its message id.
    pub told: Vec<(Event, String)>,
    /// Events decided on but left out by `NOTIFY_EVENTS`.
    pub not_notified: Vec<Event>,
    /// Until when a drop is held.
    pub held_until: Option<u64>,
    /// A drop's hold was parked for the first time (not a copy parked for Tencent's retry
    /// of a stop whose park went through).
    pub hold_parked: bool,
    /// A hold handed back after its announcement was published, which only records it.
    pub recorded: bool,
    /// Holds the sweep parked, and those it could not.
    pub swept: u32,
    pub sweep_failures: u32,
    /// What the stream's state made of the callback (with the reconnect window).
    pub state: Option<Outcome>,
    /// The event was already published (deduplication).
    pub duplicate: bool,
    /// Another event type: acknowledged, never published.
    pub other_event_type: bool,
    /// SNS refused a notification as invalid: the detail and the notification's document.
    pub refused: Option<(String, String)>,
    /// How long each publish to the main topic took, in milliseconds.
    pub publish_ms: Vec<f64>,
    /// Publishes to the main topic that failed (and are Tencent's or SQS's to retry).
    pub publish_failures: u32,
    /// Notifications posted to the chat topic, and posts that failed.
    pub chat_posted: u32,
    pub chat_failures: u32,
}

impl Report {
    /// Notes which callback this is about.
    pub fn about(&mut self, cb: &Callback) {
        let class = cb.classification();
        self.event = Some(class.event);
        self.reason = class.reason;
        self.event_id = Some(cb.event_id.clone());
        self.stream_id = Some(cb.stream_id.clone());
    }

    /// The outcome of a callback or hold answered `status`: what became of it, or
    /// `rejected` when it was not done.
    pub fn outcome_at(&self, status: StatusCode) -> &'static str {
        if status == StatusCode::OK {
            self.outcome()
        } else {
            "rejected"
        }
    }

    /// The one word an operator filters the log by.
    pub fn outcome(&self) -> &'static str {
        if self.refused.is_some() {
            "refused"
        } else if self.other_event_type {
            "other_event_type"
        } else if !self.told.is_empty() {
            "published"
        } else if self.held_until.is_some() {
            "held"
        } else if self.recorded {
            "recorded"
        } else if self.duplicate {
            "duplicate"
        } else if !self.not_notified.is_empty() {
            "not_notified"
        } else {
            self.state.map_or("accepted", Outcome::as_str)
        }
    }

    /// The outcome of a sweep answered `status` (503: it could not read the streams).
    pub fn sweep_outcome_at(&self, status: StatusCode) -> &'static str {
        match (status == StatusCode::OK, self.swept, self.sweep_failures) {
            (false, ..) => "failed",
            (true, _, 1..) => "incomplete",
            (true, 1.., 0) => "swept",
            (true, 0, 0) => "nothing",
        }
    }

    /// The events published, comma-separated.
    pub fn told_events(&self) -> String {
        join(self.told.iter().map(|(event, _)| event.as_str()))
    }

    /// Their message ids, comma-separated.
    pub fn message_ids(&self) -> String {
        join(self.told.iter().map(|(_, id)| id.as_str()))
    }
}

fn join<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts.collect::<Vec<_>>().join(",")
}
