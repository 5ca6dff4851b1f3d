//! Every row of the state table (README, "Stream state"), then random interleavings of
//! starts, stops, Tencent's retries and hold expiries checked against the invariant.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::meaning::classify::Reason;

const WINDOW: u64 = 60;

fn start(sequence: &str, at: u64) -> Start {
    Start {
        id: format!("{sequence}-start"),
        sequence: sequence.into(),
        at,
    }
}

fn stop(sequence: &str, at: u64, reason: Reason, received: u64) -> Stop {
    Stop {
        id: format!("{sequence}-stop"),
        sequence: sequence.into(),
        at,
        reason,
        errcode: if reason == Reason::ClientStopped {
            1
        } else {
            12
        },
        push_duration_ms: None,
        hold_until: received + WINDOW,
    }
}

fn entry(received: u64, input: Input) -> Entry {
    Entry { received, input }
}

fn push(sequence: &str, started_at: u64) -> Push {
    Push {
        sequence: sequence.into(),
        started_at,
        start_id: Some(format!("{sequence}-start")),
    }
}

fn drop_of(sequence: &str, started_at: u64, at: u64, held_at: u64) -> Drop {
    Drop {
        id: format!("{sequence}-stop"),
        sequence: sequence.into(),
        at,
        reason: Reason::Network,
        errcode: 12,
        started_at,
        held_at,
        deadline: held_at + WINDOW,
    }
}

fn state(phase: Phase, recent: &[&str]) -> Stream {
    Stream {
        phase,
        recent: recent.iter().map(|s| s.to_string()).collect(),
    }
}

fn live(sequence: &str, started_at: u64) -> Stream {
    state(
        Phase::Live {
            push: push(sequence, started_at),
        },
        &[sequence],
    )
}

fn held(sequence: &str) -> Stream {
    state(
        Phase::Held {
            drop: drop_of(sequence, 100, 200, 1_000),
        },
        &[sequence],
    )
}

fn down(sequence: &str) -> Stream {
    state(
        Phase::Down {
            drop: drop_of(sequence, 100, 200, 1_000),
            announced_at: 1_060,
        },
        &[sequence],
    )
}

fn stopped(sequence: &str) -> Stream {
    state(
        Phase::Stopped {
            push: push(sequence, 100),
            stop_id: format!("{sequence}-stop"),
        },
        &[sequence],
    )
}

fn facts(sequence: &str) -> DropFacts {
    (&drop_of(sequence, 100, 200, 1_000)).into()
}

fn publishes(notice: Notice) -> Vec<Effect> {
    vec![Effect::Publish(notice)]
}

// --- starts ---

#[test]
fn a_start_on_a_new_stream_is_published_and_the_stream_is_live() {
    let d = step(
        &Stream::default(),
        &entry(10, Input::Start(start("a", 100))),
    );
    assert_eq!(d.next, live("a", 100));
    assert_eq!(d.effects, publishes(Notice::Started));
    assert_eq!(d.outcome, Outcome::Applied);
}

#[test]
fn the_same_start_again_is_a_duplicate() {
    let d = step(&live("a", 100), &entry(70, Input::Start(start("a", 100))));
    assert_eq!(
        (d.next, d.effects, d.outcome),
        (live("a", 100), vec![], Outcome::Duplicate)
    );
}

#[test]
fn another_start_of_the_live_push_is_a_conflict_told_as_it_is() {
    let mut other = start("a", 101);
    other.id = "a-start-forged".into();
    let d = step(&live("a", 100), &entry(70, Input::Start(other)));
    assert_eq!(d.next, live("a", 100));
    assert_eq!(d.effects, publishes(Notice::Started));
    assert_eq!(d.outcome, Outcome::Conflict);
}

#[test]
fn the_late_start_of_a_push_known_from_its_stop_is_stale() {
    let mut implicit = live("a", 100);
    if let Phase::Live { push } = &mut implicit.phase {
        push.start_id = None;
    }
    let d = step(&implicit, &entry(70, Input::Start(start("a", 100))));
    assert_eq!(
        (d.next, d.effects, d.outcome),
        (implicit, vec![], Outcome::Stale)
    );
}

#[test]
fn a_start_of_a_new_push_while_live_is_published() {
    let d = step(&live("a", 100), &entry(70, Input::Start(start("b", 300))));
    assert_eq!(
        d.next,
        state(
            Phase::Live {
                push: push("b", 300)
            },
            &["a", "b"]
        )
    );
    assert_eq!(d.effects, publishes(Notice::Started));
}

#[test]
fn a_start_of_a_past_push_is_stale() {
    let mut state_ab = live("b", 300);
    state_ab.recent = vec!["a".into(), "b".into()];
    for input in [start("a", 100), start("x", 299)] {
        let d = step(&state_ab, &entry(500, Input::Start(input.clone())));
        assert_eq!(
            (&d.next, d.outcome),
            (&state_ab, Outcome::Stale),
            "{input:?}"
        );
        assert!(d.effects.is_empty());
    }
}

#[test]
fn a_start_of_a_push_that_already_stopped_or_dropped_is_stale() {
    for s in [stopped("a"), held("a"), down("a")] {
        let d = step(&s, &entry(1_010, Input::Start(start("a", 100))));
        assert_eq!((&d.next, d.outcome), (&s, Outcome::Stale));
        assert!(d.effects.is_empty());
    }
}

#[test]
fn a_start_after_a_normal_stop_is_published() {
    let d = step(&stopped("a"), &entry(1_010, Input::Start(start("b", 300))));
    assert_eq!(
        d.next,
        state(
            Phase::Live {
                push: push("b", 300)
            },
            &["a", "b"]
        )
    );
    assert_eq!(d.effects, publishes(Notice::Started));
}

#[test]
fn a_start_while_the_drop_is_held_resumes_it_and_the_drop_is_never_announced() {
    for received in [1_010, 1_060, 5_000] {
        let d = step(&held("a"), &entry(received, Input::Start(start("b", 204))));
        assert_eq!(
            d.next,
            state(
                Phase::Live {
                    push: push("b", 204)
                },
                &["a", "b"]
            )
        );
        assert_eq!(
            d.effects,
            publishes(Notice::Resumed {
                drop: facts("a"),
                gap_secs: Some(4),
                implicit: false
            }),
            "received at {received}: the drop was not announced yet"
        );
    }
}

#[test]
fn a_start_after_the_drop_was_announced_recovers_it() {
    let d = step(&down("a"), &entry(1_400, Input::Start(start("b", 500))));
    assert_eq!(
        d.next,
        state(
            Phase::Live {
                push: push("b", 500)
            },
            &["a", "b"]
        )
    );
    assert_eq!(
        d.effects,
        publishes(Notice::Recovered {
            drop: facts("a"),
            downtime_secs: Some(300),
            implicit: false
        })
    );
}

// --- stops ---

#[test]
fn a_normal_stop_of_the_live_push_is_published() {
    let d = step(
        &live("a", 100),
        &entry(
            1_000,
            Input::Stop(stop("a", 200, Reason::ClientStopped, 1_000)),
        ),
    );
    assert_eq!(d.next, stopped("a"));
    assert_eq!(d.effects, publishes(Notice::Stopped));
}

#[test]
fn an_abnormal_stop_of_the_live_push_is_held_until_its_deadline() {
    let d = step(
        &live("a", 100),
        &entry(1_000, Input::Stop(stop("a", 200, Reason::Network, 1_000))),
    );
    assert_eq!(d.next, held("a"));
    assert_eq!(
        d.effects,
        vec![Effect::Hold {
            drop_id: "a-stop".into(),
            deadline: 1_060
        }]
    );
}

#[test]
fn the_same_stop_again_is_a_duplicate_whatever_followed_it() {
    for (s, reason) in [
        (stopped("a"), Reason::ClientStopped),
        (held("a"), Reason::Network),
        (down("a"), Reason::Network),
    ] {
        let d = step(
            &s,
            &entry(1_070, Input::Stop(stop("a", 200, reason, 1_070))),
        );
        assert_eq!((&d.next, d.outcome), (&s, Outcome::Duplicate));
        assert!(d.effects.is_empty());
    }
}

#[test]
fn another_stop_of_a_push_already_stopped_is_a_conflict_told_at_once() {
    for s in [stopped("a"), held("a"), down("a")] {
        for (reason, notice) in [
            (Reason::ClientStopped, Notice::Stopped),
            (Reason::NoData, Notice::Dropped),
        ] {
            let mut other = stop("a", 201, reason, 1_070);
            other.id = "a-stop-other".into();
            let d = step(&s, &entry(1_070, Input::Stop(other)));
            assert_eq!((&d.next, d.outcome), (&s, Outcome::Conflict));
            assert_eq!(d.effects, publishes(notice));
        }
    }
}

#[test]
fn a_stop_of_a_past_push_is_stale() {
    let mut s = live("b", 300);
    s.recent = vec!["a".into(), "b".into()];
    for input in [
        stop("a", 200, Reason::Network, 500),
        stop("x", 299, Reason::Network, 500),
    ] {
        let d = step(&s, &entry(500, Input::Stop(input.clone())));
        assert_eq!((&d.next, d.outcome), (&s, Outcome::Stale), "{input:?}");
        assert!(d.effects.is_empty());
    }
}

#[test]
fn a_stop_whose_start_was_missed_implies_it() {
    let mut normal = stop("b", 400, Reason::ClientStopped, 2_000);
    normal.push_duration_ms = Some(90_000);
    let implied = Push {
        sequence: "b".into(),
        started_at: 310,
        start_id: None,
    };
    for before in [Stream::default(), live("a", 100), stopped("a")] {
        let d = step(&before, &entry(2_000, Input::Stop(normal.clone())));
        assert_eq!(
            d.next.phase,
            Phase::Stopped {
                push: implied.clone(),
                stop_id: "b-stop".into()
            }
        );
        assert_eq!(d.effects, publishes(Notice::Stopped));
        assert_eq!(d.next.recent.last().map(String::as_str), Some("b"));
    }
    let d = step(
        &Stream::default(),
        &entry(2_000, Input::Stop(stop("b", 400, Reason::Network, 2_000))),
    );
    assert!(matches!(d.next.phase, Phase::Held { .. }));
    assert_eq!(
        d.effects,
        vec![Effect::Hold {
            drop_id: "b-stop".into(),
            deadline: 2_060
        }]
    );
}

#[test]
fn a_stop_of_a_new_push_resolves_the_open_drop_first() {
    let mut next = stop("b", 400, Reason::ClientStopped, 2_000);
    next.push_duration_ms = Some(90_000);
    let d = step(&held("a"), &entry(1_030, Input::Stop(next.clone())));
    assert_eq!(
        d.effects,
        vec![
            Effect::Publish(Notice::Resumed {
                drop: facts("a"),
                gap_secs: Some(110),
                implicit: true
            }),
            Effect::Publish(Notice::Stopped)
        ]
    );
    next.push_duration_ms = None;
    let d = step(&down("a"), &entry(2_000, Input::Stop(next)));
    assert_eq!(
        d.effects,
        vec![
            Effect::Publish(Notice::Recovered {
                drop: facts("a"),
                downtime_secs: None,
                implicit: true
            }),
            Effect::Publish(Notice::Stopped)
        ]
    );
}

// --- hold expiries ---

#[test]
fn a_due_hold_announces_the_drop() {
    let d = step(
        &held("a"),
        &entry(
            1_061,
            Input::Expire {
                drop_id: "a-stop".into(),
            },
        ),
    );
    assert_eq!(d.next, down_at("a", 1_061));
    assert_eq!(
        d.effects,
        publishes(Notice::Announced { held_for_secs: 61 })
    );
}

fn down_at(sequence: &str, announced_at: u64) -> Stream {
    state(
        Phase::Down {
            drop: drop_of(sequence, 100, 200, 1_000),
            announced_at,
        },
        &[sequence],
    )
}

#[test]
fn a_hold_before_its_deadline_does_nothing() {
    let d = step(
        &held("a"),
        &entry(
            1_059,
            Input::Expire {
                drop_id: "a-stop".into(),
            },
        ),
    );
    assert_eq!(
        (d.next, d.effects, d.outcome),
        (held("a"), vec![], Outcome::NotDue)
    );
}

#[test]
fn a_hold_whose_drop_was_resolved_does_nothing() {
    for s in [
        Stream::default(),
        live("b", 300),
        stopped("a"),
        down("a"),
        held("b"),
    ] {
        let d = step(
            &s,
            &entry(
                2_000,
                Input::Expire {
                    drop_id: "a-stop".into(),
                },
            ),
        );
        assert_eq!((&d.next, d.outcome), (&s, Outcome::Resolved));
        assert!(d.effects.is_empty());
    }
}

// --- history ---

#[test]
fn a_decision_is_the_same_whenever_it_is_asked() {
    let history = History {
        snapshot: Stream::default(),
        announced: BTreeSet::from(["a-stop".to_string()]),
        entries: vec![
            entry(10, Input::Start(start("a", 100))),
            entry(1_000, Input::Stop(stop("a", 200, Reason::Network, 1_000))),
            entry(1_005, Input::Start(start("b", 204))),
            entry(
                1_060,
                Input::Expire {
                    drop_id: "a-stop".into(),
                },
            ),
        ],
    };
    let resumed = history.decision_at(2);
    assert!(matches!(
        resumed.effects[..],
        [Effect::Publish(Notice::Resumed { .. })]
    ));
    assert_eq!(history.decision_at(3).outcome, Outcome::Resolved);
    let compacted = history.compacted(2);
    assert_eq!(compacted.entries.len(), 2);
    assert_eq!(
        compacted.announced, history.announced,
        "its expiry is still there"
    );
    assert!(history.compacted(1).announced.contains("a-stop"));
    assert_eq!(compacted.state(), history.state());
    assert_eq!(compacted.decision_at(0), history.decision_at(2));
    assert_eq!(history.position("b-start"), Some(2));
    assert_eq!(history.position("expire:a-stop"), Some(3));
}

#[test]
fn a_stream_that_flaps_resumes_every_blip_and_pages_for_none() {
    let mut history = History::default();
    let mut notices = Vec::new();
    for n in 0..50u64 {
        let sequence = format!("p{n}");
        let t = 1_000 + n * 30;
        for input in [
            Input::Start(start(&sequence, t)),
            Input::Stop(stop(&sequence, t + 25, Reason::Network, t + 25)),
        ] {
            history.entries.push(entry(t + 25, input));
            notices.extend(history.decision_at(history.entries.len() - 1).effects);
        }
    }
    let resumed = notices
        .iter()
        .filter(|e| matches!(e, Effect::Publish(Notice::Resumed { .. })))
        .count();
    assert_eq!(resumed, 49);
    assert!(!notices.iter().any(|e| matches!(
        e,
        Effect::Publish(Notice::Announced { .. } | Notice::Dropped | Notice::Recovered { .. })
    )));
    assert_eq!(history.state().recent.len(), RECENT_SEQUENCES);
}

#[test]
fn the_state_survives_storage_as_json() {
    for s in [
        Stream::default(),
        live("a", 1),
        stopped("a"),
        held("a"),
        down("a"),
    ] {
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Stream>(&text).unwrap(), s);
    }
    let e = entry(5, Input::Stop(stop("a", 2, Reason::NoData, 5)));
    let text = serde_json::to_string(&e).unwrap();
    assert!(
        text.contains("\"input\":\"stop\"") && text.contains("\"reason\":\"no_data\""),
        "{text}"
    );
    assert_eq!(serde_json::from_str::<Entry>(&text).unwrap(), e);
}

// --- the invariant under random interleavings ---

/// One push of the simulated stream: whether its start reaches the relay, how it ends.
#[derive(Debug, Clone)]
struct PushPlan {
    start_delivered: bool,
    end: Option<Reason>,
}

fn push_plan() -> impl Strategy<Value = PushPlan> {
    (
        prop::bool::weighted(0.9),
        prop::option::weighted(
            0.9,
            prop::sample::select(vec![
                Reason::ClientStopped,
                Reason::Network,
                Reason::NoData,
                Reason::Unknown,
            ]),
        ),
    )
        .prop_map(|(start_delivered, end)| PushPlan {
            start_delivered,
            end,
        })
}

/// What a simulated delivery carries, before the relay stamps it.
#[derive(Debug, Clone)]
enum Delivery {
    Start(Start),
    Stop(Stop),
    Expire { drop_id: String, due: u64 },
}

/// Runs the deliveries in the order `choices` picks, appending each as the store does
/// (a repeated id is not appended: its decision is asked again and its effects redone),
/// scheduling an expiry for every hold and compacting the history as the store does.
/// Returns, in publish order, each notice about a drop with that drop's id, and the
/// drops that were held.
fn simulate(
    plans: &[PushPlan],
    retries: &[u8],
    choices: &[u16],
    steps: &[u8],
) -> (Vec<(&'static str, String)>, BTreeSet<String>) {
    let mut pending: Vec<Delivery> = Vec::new();
    for (n, plan) in plans.iter().enumerate() {
        let sequence = format!("p{n}");
        let at = 1_000 + 100 * n as u64;
        let copies = 1 + usize::from(retries[n % retries.len()] % 3);
        for _ in 0..copies {
            if plan.start_delivered {
                pending.push(Delivery::Start(Start {
                    id: format!("{sequence}-start"),
                    sequence: sequence.clone(),
                    at,
                }));
            }
            if let Some(reason) = plan.end {
                pending.push(Delivery::Stop(Stop {
                    id: format!("{sequence}-stop"),
                    sequence: sequence.clone(),
                    at: at + 50,
                    reason,
                    errcode: 0,
                    push_duration_ms: Some(50_000),
                    hold_until: 0,
                }));
            }
        }
    }
    let mut history = History::default();
    let mut told = Vec::new();
    let mut held = BTreeSet::new();
    let mut clock = 0u64;
    let mut turn = 0usize;
    while !pending.is_empty() {
        let pick = usize::from(choices[turn % choices.len()]) % pending.len();
        clock += u64::from(steps[turn % steps.len()]);
        turn += 1;
        let input = match pending.remove(pick) {
            Delivery::Start(s) => Input::Start(s),
            Delivery::Stop(mut s) => {
                s.hold_until = clock + WINDOW;
                Input::Stop(s)
            }
            Delivery::Expire { drop_id, due } if clock < due => {
                // the hold consumer parks it again for the rest of the window
                pending.push(Delivery::Expire { drop_id, due });
                continue;
            }
            Delivery::Expire { drop_id, .. } => Input::Expire { drop_id },
        };
        let candidate = entry(clock, input);
        let position = history.position(&candidate.id()).unwrap_or_else(|| {
            history.entries.push(candidate);
            history.entries.len() - 1
        });
        for effect in history.decision_at(position).effects {
            match (effect, &history.entries[position].input) {
                (Effect::Publish(Notice::Announced { .. }), Input::Expire { drop_id }) => {
                    if history.announced.insert(drop_id.clone()) {
                        told.push(("announced", drop_id.clone()));
                    }
                }
                (Effect::Publish(Notice::Resumed { drop, .. }), _) => {
                    told.push(("resumed", drop.id))
                }
                (Effect::Publish(Notice::Recovered { drop, .. }), _) => {
                    told.push(("recovered", drop.id))
                }
                (Effect::Publish(_), _) => {}
                (Effect::Hold { drop_id, deadline }, _) => {
                    held.insert(drop_id.clone());
                    pending.push(Delivery::Expire {
                        drop_id,
                        due: deadline,
                    });
                }
            }
        }
        if history.entries.len() > 12 {
            let before = history.state();
            history = history.compacted(6);
            assert_eq!(history.state(), before, "compaction keeps the state");
        }
    }
    (told, held)
}

/// For each drop, the kinds of notice told about it, in publish order, repeats merged.
fn per_drop(told: &[(&'static str, String)]) -> BTreeMap<String, Vec<&'static str>> {
    let mut by_drop: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for (kind, drop) in told {
        let kinds = by_drop.entry(drop.clone()).or_default();
        if kinds.last() != Some(kind) {
            kinds.push(kind);
        }
    }
    by_drop
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn each_drop_is_resumed_or_announced_and_later_recovered_never_both(
        plans in proptest::collection::vec(push_plan(), 1..8),
        retries in proptest::collection::vec(any::<u8>(), 1..8),
        choices in proptest::collection::vec(any::<u16>(), 1..64),
        steps in proptest::collection::vec(0u8..=90, 1..32),
    ) {
        let (told, held) = simulate(&plans, &retries, &choices, &steps);
        let by_drop = per_drop(&told);
        for drop in &held {
            let kinds = by_drop.get(drop).cloned().unwrap_or_default();
            prop_assert!(
                kinds == ["resumed"] || kinds == ["announced"] || kinds == ["announced", "recovered"],
                "drop {}: {:?} from {:?}", drop, kinds, told
            );
        }
        for drop in by_drop.keys() {
            prop_assert!(held.contains(drop), "{} was told about but never held", drop);
        }
    }
}
