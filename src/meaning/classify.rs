//! What a push or interrupt callback means to a subscriber: the event and, for stops, why.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The notification events this relay knows, named as subscribers see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    Started,
    Stopped,
    StoppedAbnormally,
    /// The stream came back within the reconnect window; its drop was never announced.
    Resumed,
    /// The stream came back after its drop was announced.
    Recovered,
}

impl Event {
    pub const ALL: [Event; 5] = [
        Event::Started,
        Event::Stopped,
        Event::StoppedAbnormally,
        Event::Resumed,
        Event::Recovered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Started => "stream.started",
            Event::Stopped => "stream.stopped",
            Event::StoppedAbnormally => "stream.stopped_abnormally",
            Event::Resumed => "stream.resumed",
            Event::Recovered => "stream.recovered",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event {0:?}; known events are stream.started, stream.stopped, stream.stopped_abnormally, stream.resumed, stream.recovered"
)]
pub struct UnknownEvent(pub String);

impl FromStr for Event {
    type Err = UnknownEvent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownEvent(s.to_string()))
    }
}

/// Why a push ended, grouped as Tencent's interrupt error-code table groups `errcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    ClientStopped,
    InternalError,
    AbnormalRtmp,
    FrameTooLarge,
    NoData,
    Network,
    ThirdPartyAuth,
    AbnormalAmf,
    Unknown,
}

impl Reason {
    /// Every reason but the pusher's own stop.
    pub fn is_abnormal(self) -> bool {
        self != Reason::ClientStopped
    }

    pub fn from_errcode(errcode: i64) -> Reason {
        match errcode {
            1..=4 | 35 => Reason::ClientStopped,
            5 | 9 | 10 | 11 | 24 => Reason::InternalError,
            6 | 23 => Reason::AbnormalRtmp,
            7 => Reason::FrameTooLarge,
            8 | 20 => Reason::NoData,
            12..=17 => Reason::Network,
            19 => Reason::ThirdPartyAuth,
            33 => Reason::AbnormalAmf,
            _ => Reason::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ClientStopped => "client_stopped",
            Reason::InternalError => "internal_error",
            Reason::AbnormalRtmp => "abnormal_rtmp",
            Reason::FrameTooLarge => "frame_too_large",
            Reason::NoData => "no_data",
            Reason::Network => "network",
            Reason::ThirdPartyAuth => "third_party_auth",
            Reason::AbnormalAmf => "abnormal_amf",
            Reason::Unknown => "unknown",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Reason::ClientStopped => "The push client stopped the push itself.",
            Reason::InternalError => "The live streaming service had an internal error.",
            Reason::AbnormalRtmp => "The pushed RTMP protocol content was abnormal.",
            Reason::FrameTooLarge => "A single RTMP frame exceeded the configured maximum size.",
            Reason::NoData => "The service stopped the push: no data arrived for a long time.",
            Reason::Network => "The network on the push link was abnormal.",
            Reason::ThirdPartyAuth => "Third-party authentication of the push failed.",
            Reason::AbnormalAmf => "The pushed RTMP AMF data was abnormal.",
            Reason::Unknown => "The push was interrupted for a reason Tencent does not document.",
        }
    }
}

/// A push/interrupt callback's meaning: the event and, for stops, the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub event: Event,
    pub reason: Option<Reason>,
}

/// The kinds of callback `event_type` distinguishes for this relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushEvent {
    Started,
    Interrupted,
}

impl PushEvent {
    /// `None` for event types this relay does not notify about (recording, screenshot, ...).
    pub fn from_event_type(event_type: i64) -> Option<PushEvent> {
        match event_type {
            1 => Some(PushEvent::Started),
            0 => Some(PushEvent::Interrupted),
            _ => None,
        }
    }
}

pub fn classify(push: PushEvent, errcode: i64) -> Classification {
    match push {
        PushEvent::Started => Classification {
            event: Event::Started,
            reason: None,
        },
        PushEvent::Interrupted => {
            let reason = Reason::from_errcode(errcode);
            let event = if reason.is_abnormal() {
                Event::StoppedAbnormally
            } else {
                Event::Stopped
            };
            Classification {
                event,
                reason: Some(reason),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_has_no_reason() {
        assert_eq!(
            classify(PushEvent::Started, 0),
            Classification {
                event: Event::Started,
                reason: None
            }
        );
    }

    #[test]
    fn client_stops_are_normal_stops() {
        for code in [1, 2, 3, 4, 35] {
            assert_eq!(
                classify(PushEvent::Interrupted, code),
                Classification {
                    event: Event::Stopped,
                    reason: Some(Reason::ClientStopped)
                },
                "errcode {code}"
            );
        }
    }

    #[test]
    fn every_error_code_group_is_an_abnormal_stop_with_its_reason() {
        let groups: &[(&[i64], Reason)] = &[
            (&[5, 9, 10, 11, 24], Reason::InternalError),
            (&[6, 23], Reason::AbnormalRtmp),
            (&[7], Reason::FrameTooLarge),
            (&[8, 20], Reason::NoData),
            (&[12, 13, 14, 15, 16, 17], Reason::Network),
            (&[19], Reason::ThirdPartyAuth),
            (&[33], Reason::AbnormalAmf),
            (
                &[
                    0, 18, 21, 22, 25, 26, 27, 28, 29, 30, 31, 32, 34, 36, -1, 1000,
                ],
                Reason::Unknown,
            ),
        ];
        for (codes, reason) in groups {
            for &code in *codes {
                assert_eq!(
                    classify(PushEvent::Interrupted, code),
                    Classification {
                        event: Event::StoppedAbnormally,
                        reason: Some(*reason)
                    },
                    "errcode {code}"
                );
            }
        }
    }

    #[test]
    fn only_event_types_0_and_1_are_push_events() {
        assert_eq!(PushEvent::from_event_type(1), Some(PushEvent::Started));
        assert_eq!(PushEvent::from_event_type(0), Some(PushEvent::Interrupted));
        for other in [100, 200, 314, 315, 317, 321, 332, -1, 2] {
            assert_eq!(PushEvent::from_event_type(other), None, "{other}");
        }
    }

    #[test]
    fn event_names_round_trip() {
        for event in Event::ALL {
            assert_eq!(event.as_str().parse::<Event>(), Ok(event));
        }
        assert!("stream.ended".parse::<Event>().is_err());
    }

    #[test]
    fn reason_names_and_descriptions_are_distinct_one_liners() {
        let all = [
            Reason::ClientStopped,
            Reason::InternalError,
            Reason::AbnormalRtmp,
            Reason::FrameTooLarge,
            Reason::NoData,
            Reason::Network,
            Reason::ThirdPartyAuth,
            Reason::AbnormalAmf,
            Reason::Unknown,
        ];
        let names: std::collections::HashSet<_> = all.iter().map(|r| r.as_str()).collect();
        for reason in all {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
        let descriptions: std::collections::HashSet<_> =
            all.iter().map(|r| r.description()).collect();
        assert_eq!(names.len(), all.len());
        assert_eq!(descriptions.len(), all.len());
        assert!(all.iter().all(|r| !r.description().contains('\n')));
    }
}
