//! Where a held drop waits for its deadline: an SQS queue with delayed messages in
//! production, memory in tests. A hold carries the stop as the relay decoded it (push-URL
//! credentials masked, neither `t` nor `sign`), sealed by the relay (see
//! [`Verifier::seal`](crate::inbound::signature::Verifier::seal)), so that what comes back
//! is trusted again without anything stored being able to authenticate a callback.

use std::future::Future;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::inbound::callback::Callback;
use crate::outbound::sanitize::escape_noncharacters;

/// SQS delays a message at most 15 minutes; a longer window parks the hold again for
/// the rest when it comes back early.
pub const MAX_DELAY_SECS: u64 = 900;
/// The version of the sealed message format (1 was the callback's body as it arrived).
pub const MESSAGE_VERSION: u32 = 2;

/// A held drop.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    /// When the hold comes due, the relay's clock.
    pub deadline: u64,
    /// Until when the stop would still be accepted as a callback.
    pub accepted_until: u64,
    /// The announcement is already published, and only its record is left to write: a
    /// hold handed back to the queue when the state table refused the record.
    pub published: bool,
    /// The stop, as decoded and masked, with its `event_id`.
    pub stop: Callback,
}

/// A hold as JSON: the stop's canonical form, and its `event_id` beside it (the id of a
/// stop rebuilt from a stream's history for a late announcement is the stop's own, which
/// the rebuilt fields do not digest to).
#[derive(Serialize, Deserialize)]
struct HoldJson<S> {
    deadline: u64,
    accepted_until: u64,
    published: bool,
    event_id: String,
    stop: S,
}

impl Hold {
    /// What is sealed and carried: the hold as JSON.
    pub fn content(&self) -> String {
        let json = HoldJson {
            deadline: self.deadline,
            accepted_until: self.accepted_until,
            published: self.published,
            event_id: self.stop.event_id.clone(),
            stop: &self.stop,
        };
        serde_json::to_string(&json).expect("a hold of strings and integers always serializes")
    }

    pub fn from_content(content: &str) -> Result<Hold, serde_json::Error> {
        let json: HoldJson<Callback> = serde_json::from_str(content)?;
        Ok(Hold {
            deadline: json.deadline,
            accepted_until: json.accepted_until,
            published: json.published,
            stop: Callback {
                event_id: json.event_id,
                ..json.stop
            },
        })
    }

    /// How long to delay the message at `now` so that it comes back at the deadline, or
    /// as close to it as SQS allows.
    pub fn delay_at(&self, now: u64) -> u64 {
        self.deadline.saturating_sub(now).min(MAX_DELAY_SECS)
    }
}

/// A message of the hold queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A hold's content and the seal that vouches for it.
    Sealed { content: String, seal: String },
    /// A hold parked by a release before the seal: the stop's body as it arrived.
    Unsealed { deadline: u64, body: String },
}

#[derive(Serialize, Deserialize)]
struct SealedWire {
    v: u32,
    hold: String,
    seal: String,
}

#[derive(Deserialize)]
struct UnsealedWire {
    deadline: u64,
    body: String,
}

impl Message {
    /// The queue's message body: JSON, with the two noncharacters SQS refuses escaped.
    pub fn sealed(content: String, seal: String) -> String {
        let wire = SealedWire {
            v: MESSAGE_VERSION,
            hold: content,
            seal,
        };
        escape_noncharacters(serde_json::to_string(&wire).expect("strings always serialize"))
    }

    pub fn read(text: &str) -> Result<Message, String> {
        if let Ok(wire) = serde_json::from_str::<SealedWire>(text) {
            return match wire.v {
                MESSAGE_VERSION => Ok(Message::Sealed {
                    content: wire.hold,
                    seal: wire.seal,
                }),
                other => Err(format!("message version {other} is not {MESSAGE_VERSION}")),
            };
        }
        serde_json::from_str::<UnsealedWire>(text)
            .map(|wire| Message::Unsealed {
                deadline: wire.deadline,
                body: wire.body,
            })
            .map_err(|_| "neither a sealed hold nor one of an earlier release".into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hold queue failed: {0}")]
pub struct QueueError(pub String);

pub trait HoldQueue: Send + Sync {
    /// Parks `message` for `delay_secs` (at most [`MAX_DELAY_SECS`]).
    fn park(
        &self,
        message: &str,
        delay_secs: u64,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// An in-memory queue that records what is parked, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryHoldQueue {
    parked: Mutex<Vec<(String, u64)>>,
    failing: Mutex<bool>,
}

impl MemoryHoldQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// What was parked, with its delay, in order.
    pub fn parked(&self) -> Vec<(String, u64)> {
        self.parked.lock().expect("not poisoned").clone()
    }

    /// Takes every parked message out of the queue.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.parked.lock().expect("not poisoned"))
            .into_iter()
            .map(|(message, _)| message)
            .collect()
    }

    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("not poisoned") = failing;
    }
}

impl HoldQueue for MemoryHoldQueue {
    async fn park(&self, message: &str, delay_secs: u64) -> Result<(), QueueError> {
        if *self.failing.lock().expect("not poisoned") {
            return Err(QueueError("the memory queue is set to fail".into()));
        }
        self.parked
            .lock()
            .expect("not poisoned")
            .push((message.to_string(), delay_secs.min(MAX_DELAY_SECS)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound;
    use crate::inbound::signature::{Verifier, sign};
    use serde_json::{Value, json};

    const STOP: &str = include_str!("../../tests/fixtures/seed_push_interrupt.json");

    fn stop(changes: Value) -> Callback {
        let mut body: Value = serde_json::from_str(STOP).unwrap();
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body["sign"] = json!(sign("k", body["t"].as_u64().unwrap()));
        let verifier = Verifier::new(vec!["k".into()], 300, 600);
        inbound::read(body.to_string().as_bytes(), &verifier, 1_703_731_700)
            .unwrap()
            .unwrap()
            .get()
            .clone()
    }

    #[test]
    fn a_hold_travels_as_sqs_safe_json_and_comes_back_whole_with_its_identity() {
        let hold = Hold {
            deadline: 160,
            accepted_until: 900,
            published: false,
            stop: stop(json!({"stream_id": "a\u{ffff}\"b", "errcode": 13})),
        };
        let message = Message::sealed(hold.content(), "ab".repeat(32));
        assert!(!message.contains('\u{ffff}'));
        let Ok(Message::Sealed { content, seal }) = Message::read(&message) else {
            panic!("{message}")
        };
        assert_eq!(seal, "ab".repeat(32));
        assert_eq!(content, hold.content());
        let back = Hold::from_content(&content).unwrap();
        assert_eq!(back, hold);
        assert_eq!(back.stop.event_id, hold.stop.event_id);
        assert!(!back.stop.event_id.is_empty());
    }

    #[test]
    fn a_hold_keeps_its_stops_event_id_even_when_its_fields_do_not_digest_to_it() {
        let mut stop = stop(json!({}));
        stop.stream_param.clear();
        stop.event_id = "a-stop-0123456789abcdef".into();
        let hold = Hold {
            deadline: 1,
            accepted_until: 2,
            published: true,
            stop,
        };
        assert_eq!(Hold::from_content(&hold.content()).unwrap(), hold);
    }

    #[test]
    fn a_hold_of_an_earlier_release_is_read_as_unsealed_and_anything_else_is_refused() {
        assert_eq!(
            Message::read(r#"{"verified_at":1,"deadline":2,"body":"{}"}"#),
            Ok(Message::Unsealed {
                deadline: 2,
                body: "{}".into()
            })
        );
        for text in [
            "",
            "{}",
            "[]",
            r#"{"v":3,"hold":"{}","seal":""}"#,
            r#"{"deadline":2}"#,
        ] {
            assert!(Message::read(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_delay_never_exceeds_what_sqs_allows() {
        let hold = |deadline| Hold {
            deadline,
            accepted_until: 0,
            published: false,
            stop: stop(json!({})),
        };
        assert_eq!(hold(60).delay_at(0), 60);
        assert_eq!(hold(1_800).delay_at(0), 900);
        assert_eq!(hold(1_800).delay_at(900), 900);
        assert_eq!(hold(1_800).delay_at(1_000), 800);
        assert_eq!(hold(60).delay_at(61), 0);
    }
}
