//! What became of one callback or one hold, for its log line.

use crate::meaning::classify::Event;
use crate::meaning::stream_state::Outcome;

#[derive(Debug, Default)]
pub struct Report {
    /// The callback's own event (as classified), event id and stream.
    pub event: Option<Event>,
    pub event_id: Option<String>,
    pub stream_id: Option<String>,
    /// What was published: each event with its message id.
    pub told: Vec<(Event, String)>,
    /// Events decided on but left out by `NOTIFY_EVENTS`.
    pub not_notified: Vec<Event>,
    /// Until when a drop is held.
    pub held_until: Option<u64>,
    /// What the stream's state made of the callback (with the reconnect window).
    pub state: Option<Outcome>,
    /// The event was already published (deduplication).
    pub duplicate: bool,
    /// Another event type: acknowledged, never published.
    pub other_event_type: bool,
    /// SNS refused a notification as invalid: the detail and the notification's document.
    pub refused: Option<(String, String)>,
}

impl Report {
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
        } else if self.duplicate {
            "duplicate"
        } else if !self.not_notified.is_empty() {
            "not_notified"
        } else {
            self.state.map_or("accepted", Outcome::as_str)
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
