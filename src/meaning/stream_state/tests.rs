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
    Entry {
        received,
        until: received,
        input,
    }
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

/// `sequence` live, after `earlier`'s push.
fn live_after(earlier: &str, sequence: &str, started_at: u64) -> Stream {
    let mut stream = live(sequence, started_at);
    stream.recent.insert(0, earlier.into());
    stream
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
    assert_eq!(d.next, live_after("a", "b", 300));
    assert_eq!(d.effects, publishes(Notice::Started));
}

#[test]
fn a_start_of_a_past_push_is_stale() {
    let state_ab = live_after("a", "b", 300);
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
    assert_eq!(d.next, live_after("a", "b", 300));
    assert_eq!(d.effects, publishes(Notice::Started));
}

#[test]
fn a_start_while_the_drop_is_held_resumes_it_and_the_drop_is_never_announced() {
    for received in [1_000, 1_010, 1_059] {
        let d = step(&held("a"), &entry(received, Input::Start(start("b", 204))));
        assert_eq!(d.next, live_after("a", "b", 204));
        assert_eq!(
            d.effects,
            publishes(Notice::Resumed {
                drop: facts("a"),
                gap_secs: Some(4),
                implicit: false
            }),
            "received at {received}: within the window"
        );
    }
}

#[test]
fn a_start_past_the_held_drops_deadline_announces_it_late_then_recovers_it() {
    // the drop's hold (deadline 1,060) never came back: it was never parked, or is late
    for received in [1_060, 1_061, 5_000, 90_000] {
        let d = step(
            &held("a"),
            &entry(received, Input::Start(start("b", 4_204))),
        );
        assert_eq!(d.next, live_after("a", "b", 4_204));
        assert_eq!(
            d.effects,
            vec![
                Effect::Publish(Notice::Overdue {
                    drop: facts("a"),
                    held_for_secs: received - 1_000,
                }),
                Effect::Publish(Notice::Recovered {
                    drop: facts("a"),
                    downtime_secs: Some(4_004),
                    implicit: false
                }),
            ],
            "received at {received}: the drop outlasted the window"
        );
        // its hold, if it ever comes, finds the drop resolved
        let expiry = step(
            &d.next,
            &entry(
                received + 1,
                Input::Expire {
                    drop_id: "a-stop".into(),
                },
            ),
        );
        assert_eq!(expiry.outcome, Outcome::Resolved);
        assert!(expiry.effects.is_empty());
    }
}

#[test]
fn a_start_after_the_drop_was_announced_recovers_it() {
    let d = step(&down("a"), &entry(1_400, Input::Start(start("b", 500))));
    assert_eq!(d.next, live_after("a", "b", 500));
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
    let s = live_after("a", "b", 300);
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
    let d = step(&held("a"), &entry(2_000, Input::Stop(next.clone())));
    assert_eq!(
        d.effects,
        vec![
            Effect::Publish(Notice::Overdue {
                drop: facts("a"),
                held_for_secs: 1_000
            }),
            Effect::Publish(Notice::Recovered {
                drop: facts("a"),
                downtime_secs: Some(110),
                implicit: true
            }),
            Effect::Publish(Notice::Stopped)
        ],
        "past the held drop's deadline, it is announced late"
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
    let mut dropping = stop("b", 400, Reason::Network, 2_000);
    dropping.push_duration_ms = Some(90_000);
    let d = step(&held("a"), &entry(2_000, Input::Stop(dropping)));
    assert!(
        matches!(
            d.effects[..],
            [
                Effect::Hold { .. },
                Effect::Publish(Notice::Overdue { .. }),
                Effect::Publish(Notice::Recovered { .. })
            ]
        ),
        "the new drop parked before the notices of the old: {:?}",
        d.effects
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
        down("b"),
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

#[test]
fn an_expiry_again_once_the_drop_is_down_announces_it_again() {
    // the first expiry was compacted away; whether it was published is in `announced`
    let d = step(
        &down("a"),
        &entry(
            5_000,
            Input::Expire {
                drop_id: "a-stop".into(),
            },
        ),
    );
    assert_eq!(
        (d.next, d.effects, d.outcome),
        (
            down("a"),
            publishes(Notice::Announced { held_for_secs: 60 }),
            Outcome::Duplicate
        )
    );
}

#[test]
fn a_stop_noticed_after_a_newer_push_started_belongs_to_the_older_push() {
    // the pusher reconnected (b) before Tencent noticed a's dead connection; a's start
    // was never seen, so only its push duration tells that it began before b
    let mut late = stop("a", 1_003, Reason::Network, 1_004);
    late.push_duration_ms = Some(100_000);
    let d = step(&live("b", 1_000), &entry(1_004, Input::Stop(late.clone())));
    assert_eq!(
        (&d.next, d.effects, d.outcome),
        (&live("b", 1_000), vec![], Outcome::Stale)
    );
    // one that began after b's start is a new push
    late.push_duration_ms = Some(2_000);
    let d = step(&live("b", 1_000), &entry(1_004, Input::Stop(late)));
    assert!(matches!(d.next.phase, Phase::Held { ref drop } if drop.sequence == "a"));
    assert_eq!(d.outcome, Outcome::Applied);
}

// --- history ---

#[test]
fn a_decision_is_the_same_whenever_it_is_asked() {
    let history = History {
        snapshot: Stream::default(),
        announced: BTreeSet::from(["a-stop".to_string()]),
        unparked: BTreeMap::from([("a-stop".to_string(), "its hold".to_string())]),
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
    let compacted = history.compacted(2, 10_000);
    assert_eq!(compacted.entries.len(), 2);
    assert_eq!(
        compacted.announced, history.announced,
        "its expiry is still there"
    );
    assert!(history.compacted(1, 10_000).announced.contains("a-stop"));
    assert_eq!(
        history.compacted(0, 10_000).unparked,
        history.unparked,
        "a hold not parked is kept until it is"
    );
    assert_eq!(compacted.state(), history.state());
    assert_eq!(compacted.decision_at(0), history.decision_at(2));
    assert_eq!(history.position("b-start"), Some(2));
    assert_eq!(history.position("expire:a-stop"), Some(3));
}

/// A history of `n` pushes that each started and stopped normally, received a second
/// apart from 1,000, each callback repeatable until `horizon` after it arrived.
fn normal_pushes(n: u64, horizon: u64) -> History {
    let mut history = History::default();
    for k in 0..n {
        let sequence = format!("p{k}");
        let received = 1_000 + 2 * k;
        for (offset, input) in [
            (0, Input::Start(start(&sequence, received))),
            (
                1,
                Input::Stop(stop(
                    &sequence,
                    received + 1,
                    Reason::ClientStopped,
                    received + 1,
                )),
            ),
        ] {
            history.entries.push(Entry {
                received: received + offset,
                until: received + offset + horizon,
                input,
            });
        }
    }
    history
}

#[test]
fn compaction_keeps_every_callback_that_may_still_be_retried_and_all_after_it() {
    let history = normal_pushes(15, 100);
    // at 1,050 the entries received from 950 on may still come again: 1,000 + 2k + 1 >= 950
    for (now, kept) in [(1_200, KEEP_AFTER_COMPACTION), (1_115, 15), (1_050, 30)] {
        let compacted = history.compacted(KEEP_AFTER_COMPACTION, now);
        assert_eq!(compacted.entries.len(), kept, "at {now}");
        assert_eq!(compacted.state(), history.state());
        let first = history.entries.len() - kept;
        for (position, entry) in compacted.entries.iter().enumerate() {
            assert_eq!(
                compacted.decision_at(position),
                history.decision_at(first + position)
            );
            assert_eq!(entry, &history.entries[first + position]);
        }
    }
}

#[test]
fn a_compaction_is_written_from_the_24th_entry_on_when_it_folds_at_least_8() {
    let short = normal_pushes(11, 0);
    assert_eq!(short.entries.len(), COMPACT_AT - 2);
    assert_eq!(short.compaction(5_000), None);
    let long = normal_pushes(12, 0);
    assert_eq!(
        long.compaction(5_000).map(|c| c.entries.len()),
        Some(KEEP_AFTER_COMPACTION)
    );
    // at 1,007 the entries received from 1,007 on may still come again: 7 would fold
    assert_eq!(long.compaction(1_007), None);
    assert_eq!(
        long.compaction(1_008).map(|c| c.entries.len()),
        Some(24 - 8)
    );
}

#[test]
fn past_the_most_entries_compaction_keeps_only_the_last_few() {
    let history = normal_pushes(MAX_ENTRIES as u64 / 2 + 1, 1_000_000);
    assert!(history.entries.len() > MAX_ENTRIES);
    let compacted = history.compacted(KEEP_AFTER_COMPACTION, 2_000);
    assert_eq!(compacted.entries.len(), KEEP_AFTER_COMPACTION);
    assert_eq!(compacted.state(), history.state());
    // but not an expiry whose announcement is not recorded: its drop is not lost
    let mut pinned = dropped_and_expired(900);
    pinned.entries.extend(history.entries.iter().cloned());
    let compacted = pinned.compacted(KEEP_AFTER_COMPACTION, 2_000);
    assert_eq!(compacted.position("expire:a-stop"), Some(0));
    assert_eq!(compacted.entries.len(), pinned.entries.len() - 2);
}

/// Push `a` started at `at`, dropped a second later, and its hold expired a window later.
fn dropped_and_expired(at: u64) -> History {
    History {
        entries: vec![
            entry(at, Input::Start(start("a", at))),
            entry(
                at + 1,
                Input::Stop(stop("a", at + 1, Reason::Network, at + 1)),
            ),
            entry(
                at + 1 + WINDOW,
                Input::Expire {
                    drop_id: "a-stop".into(),
                },
            ),
        ],
        ..History::default()
    }
}

#[test]
fn compaction_keeps_an_expiry_until_its_announcement_is_recorded() {
    let mut history = dropped_and_expired(1_001);
    for k in 0..12 {
        let sequence = format!("b{k}");
        let received = 1_100 + 2 * k;
        history
            .entries
            .push(entry(received, Input::Start(start(&sequence, received))));
        history.entries.push(entry(
            received + 1,
            Input::Stop(stop(
                &sequence,
                received + 1,
                Reason::ClientStopped,
                received + 1,
            )),
        ));
    }
    let unrecorded = history.compacted(KEEP_AFTER_COMPACTION, 5_000);
    assert_eq!(
        unrecorded.entries.len(),
        history.entries.len() - 2,
        "folded up to the expiry"
    );
    assert_eq!(unrecorded.position("expire:a-stop"), Some(0));
    assert!(matches!(
        unrecorded.decision_at(0).effects[..],
        [Effect::Publish(Notice::Announced { .. })]
    ));
    history.announced.insert("a-stop".into());
    let recorded = history.compacted(KEEP_AFTER_COMPACTION, 5_000);
    assert_eq!(recorded.entries.len(), KEEP_AFTER_COMPACTION);
    assert!(
        recorded.announced.is_empty(),
        "nothing refers to a-stop any more"
    );
    assert_eq!(recorded.state(), history.state());
}

#[test]
fn compaction_keeps_the_announcement_of_the_drop_the_stream_is_down_with() {
    let mut history = History {
        snapshot: held("a"),
        ..History::default()
    };
    history.entries.push(entry(
        1_070,
        Input::Expire {
            drop_id: "a-stop".into(),
        },
    ));
    history.announced.insert("a-stop".into());
    let compacted = history.compacted(0, 5_000);
    assert!(compacted.entries.is_empty());
    assert!(matches!(compacted.snapshot.phase, Phase::Down { .. }));
    assert!(
        compacted.announced.contains("a-stop"),
        "a start must still find it announced"
    );
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
fn an_entry_has_its_own_id_and_no_other() {
    let entries = [
        entry(10, Input::Start(start("a", 100))),
        entry(20, Input::Stop(stop("a", 200, Reason::Network, 20))),
        entry(
            30,
            Input::Expire {
                drop_id: "a-stop".into(),
            },
        ),
    ];
    for (n, e) in entries.iter().enumerate() {
        for (m, other) in entries.iter().enumerate() {
            assert_eq!(e.has_id(&other.id()), n == m, "{e:?} / {other:?}");
        }
        assert!(!e.has_id("expire:"));
    }
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

/// One push of the simulated stream: whether its start reaches the relay, how it ends,
/// whether Tencent notices its end only after the pusher has reconnected as the next push,
/// and for how long Tencent may repeat its callbacks.
#[derive(Debug, Clone)]
struct PushPlan {
    start_delivered: bool,
    end: Option<Reason>,
    noticed_late: bool,
    horizon: u64,
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
        prop::bool::weighted(0.2),
        prop::sample::select(vec![60u64, 300, 960, 100_000]),
    )
        .prop_map(|(start_delivered, end, noticed_late, horizon)| PushPlan {
            start_delivered,
            end,
            noticed_late,
            horizon,
        })
}

/// What a simulated delivery carries, before the relay stamps it.
#[derive(Debug, Clone)]
enum Delivery {
    /// A callback of push `push`, which Tencent sends (again) until `until`; `retry` when
    /// it is Tencent's retry after an error.
    Callback {
        input: Input,
        push: usize,
        until: u64,
        retry: bool,
    },
    /// A hold on the hold queue, due at `due`.
    Expire { drop_id: String, due: u64 },
}

/// What a simulated run told, and what the relay ended knowing.
#[derive(Debug, Default)]
struct Run {
    /// In publish order, each notice about a drop with that drop's id.
    told: Vec<(&'static str, String)>,
    held: BTreeSet<String>,
    /// Drops whose hold was never parked (every park failed, and Tencent gave up).
    lost: BTreeSet<String>,
    /// Drops told as resumed at or after their deadline.
    resumed_late: BTreeSet<String>,
    /// Whether Tencent gave up on a callback the relay had answered with an error.
    gave_up: bool,
    /// The drops an expiry decided to announce.
    due: BTreeSet<String>,
    /// The latest push whose callbacks reached the relay, and the push the stream's
    /// state ends on.
    latest: Option<String>,
    current: Option<String>,
}

/// Runs the deliveries in the order `choices` picks, as the relay and the store do: each
/// is appended unless its id is there (then its decision is asked again and its effects
/// redone); a publish that fails (`failures`) answers Tencent with an error, so it
/// retries, or leaves the hold to SQS, which delivers it again; a recovery waits for its
/// drop's announcement; every hold is scheduled but those `lost` (never parked); the
/// history is compacted as the relay compacts it; a callback past its acceptance is
/// refused.
fn simulate(
    plans: &[PushPlan],
    retries: &[u8],
    choices: &[u16],
    steps: &[u8],
    failures: &[bool],
    lost: &[bool],
) -> Run {
    let mut pending: Vec<Delivery> = Vec::new();
    for (n, plan) in plans.iter().enumerate() {
        let sequence = format!("p{n}");
        let at = 1_000 + 100 * n as u64;
        let copies = 1 + usize::from(retries[n % retries.len()] % 3);
        let callback = |input| Delivery::Callback {
            input,
            push: n,
            until: plan.horizon,
            retry: false,
        };
        for _ in 0..copies {
            if plan.start_delivered {
                pending.push(callback(Input::Start(Start {
                    id: format!("{sequence}-start"),
                    sequence: sequence.clone(),
                    at,
                })));
            }
            if let Some(reason) = plan.end {
                // noticed late: after the next push has started
                let lasted = if plan.noticed_late { 150 } else { 50 };
                pending.push(callback(Input::Stop(Stop {
                    id: format!("{sequence}-stop"),
                    sequence: sequence.clone(),
                    at: at + lasted,
                    reason,
                    errcode: 0,
                    push_duration_ms: Some(lasted * 1_000),
                    hold_until: 0,
                })));
            }
        }
    }
    let mut history = History::default();
    let mut run = Run::default();
    let mut latest = None;
    let mut clock = 0u64;
    let mut turn = 0usize;
    while !pending.is_empty() {
        let pick = usize::from(choices[turn % choices.len()]) % pending.len();
        clock += u64::from(steps[turn % steps.len()]);
        // publishing fails now and then, then recovers for good
        let failing = turn < 200 && failures[turn % failures.len()];
        turn += 1;
        let delivery = pending.remove(pick);
        let (input, until) = match &delivery {
            Delivery::Callback { until, retry, .. } if clock > *until => {
                run.gave_up |= *retry;
                continue;
            }
            Delivery::Callback {
                input, until, push, ..
            } => {
                latest = latest.max(Some(*push));
                let mut input = input.clone();
                if let Input::Stop(stop) = &mut input {
                    stop.hold_until = clock + WINDOW;
                }
                (input, *until)
            }
            Delivery::Expire { due, .. } if clock < *due => {
                // the hold consumer parks it again for the rest of the window
                clock += 1;
                pending.push(delivery);
                continue;
            }
            Delivery::Expire { drop_id, .. } => (
                Input::Expire {
                    drop_id: drop_id.clone(),
                },
                clock,
            ),
        };
        let candidate = Entry {
            received: clock,
            until,
            input,
        };
        let position = history.position(&candidate.id()).unwrap_or_else(|| {
            history.entries.push(candidate);
            history.entries.len() - 1
        });
        let mut answered_error = false;
        for effect in history.decision_at(position).effects {
            match effect {
                Effect::Publish(Notice::Announced { .. }) => {
                    let Input::Expire { drop_id } = &history.entries[position].input else {
                        unreachable!("only an expiry announces")
                    };
                    run.due.insert(drop_id.clone());
                    if history.announced.contains(drop_id) {
                        continue;
                    }
                    if failing {
                        answered_error = true;
                        break;
                    }
                    history.announced.insert(drop_id.clone());
                    run.told.push(("announced", drop_id.clone()));
                }
                Effect::Publish(Notice::Overdue { drop, .. }) => {
                    if history.announced.contains(&drop.id) {
                        continue;
                    }
                    if failing {
                        answered_error = true;
                        break;
                    }
                    history.announced.insert(drop.id.clone());
                    run.told.push(("announced", drop.id));
                }
                Effect::Publish(Notice::Recovered { drop, .. })
                    if failing || !history.announced.contains(&drop.id) =>
                {
                    answered_error = true;
                    break;
                }
                Effect::Publish(_) if failing => {
                    answered_error = true;
                    break;
                }
                Effect::Publish(Notice::Resumed { drop, .. }) => {
                    // as decided when the input first arrived
                    if history.entries[position].received >= drop.deadline {
                        run.resumed_late.insert(drop.id.clone());
                    }
                    run.told.push(("resumed", drop.id))
                }
                Effect::Publish(Notice::Recovered { drop, .. }) => {
                    run.told.push(("recovered", drop.id))
                }
                Effect::Publish(_) => {}
                Effect::Hold { drop_id, deadline } => {
                    run.held.insert(drop_id.clone());
                    if run.lost.contains(&drop_id) {
                        continue;
                    }
                    if lost[run.held.len() % lost.len()] {
                        run.lost.insert(drop_id);
                    } else {
                        pending.push(Delivery::Expire {
                            drop_id,
                            due: deadline,
                        });
                    }
                }
            }
        }
        if answered_error {
            pending.push(match delivery {
                Delivery::Callback {
                    input, push, until, ..
                } => Delivery::Callback {
                    input,
                    push,
                    until,
                    retry: true,
                },
                expire => expire,
            });
        }
        // compacting far more often than the relay does, so that compaction meets retries
        if history.entries.len() >= 6 {
            let compacted = history.compacted(2, clock);
            assert_eq!(
                compacted.state(),
                history.state(),
                "compaction keeps the state"
            );
            history = compacted;
        }
    }
    run.latest = latest.map(|n| format!("p{n}"));
    run.current = history
        .state()
        .current()
        .map(|(sequence, _)| sequence.to_string());
    run
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
    #![proptest_config(ProptestConfig::with_cases(1024))]
    #[test]
    fn each_drop_is_resumed_or_announced_and_later_recovered_never_both(
        plans in proptest::collection::vec(push_plan(), 1..16),
        retries in proptest::collection::vec(any::<u8>(), 1..8),
        choices in proptest::collection::vec(any::<u16>(), 1..64),
        steps in proptest::collection::vec(0u8..=90, 1..32),
        failures in proptest::collection::vec(prop::bool::weighted(0.15), 1..16),
        lost in proptest::collection::vec(prop::bool::weighted(0.1), 1..8),
    ) {
        let run = simulate(&plans, &retries, &choices, &steps, &failures, &lost);
        // a publish here either fails or is kept: an announcement is made once
        for (kind, drop) in &run.told {
            let times = run.told.iter().filter(|(k, d)| k == kind && d == drop).count();
            prop_assert!(*kind != "announced" || times == 1, "{} announced {} times: {:?}", drop, times, run.told);
        }
        let by_drop = per_drop(&run.told);
        prop_assert!(
            run.resumed_late.is_empty(),
            "told as resumed past their deadline: {:?} from {:?}", run.resumed_late, run.told
        );
        for drop in &run.held {
            let kinds = by_drop.get(drop).cloned().unwrap_or_default();
            if run.lost.contains(drop) {
                // its hold never came: announced late if the stream came back, else untold
                prop_assert!(
                    kinds.is_empty() || kinds == ["resumed"] || kinds == ["announced"]
                        || kinds == ["announced", "recovered"],
                    "lost hold of drop {}: {:?} from {:?}", drop, kinds, run.told
                );
            } else if run.gave_up {
                // Tencent gave up on a callback: what it would have told is not told
                prop_assert!(
                    !(kinds.contains(&"resumed") && kinds.contains(&"announced")),
                    "drop {}: {:?} from {:?}", drop, kinds, run.told
                );
            } else {
                prop_assert!(
                    kinds == ["resumed"] || kinds == ["announced"] || kinds == ["announced", "recovered"],
                    "drop {}: {:?} from {:?}", drop, kinds, run.told
                );
            }
        }
        for drop in by_drop.keys() {
            prop_assert!(run.held.contains(drop), "{} was told about but never held", drop);
        }
        for drop in &run.due {
            // SQS never gives up on a hold
            prop_assert!(
                by_drop.get(drop).is_some_and(|kinds| kinds.contains(&"announced")),
                "{} was due to be announced but never was: {:?}", drop, run.told
            );
        }
        prop_assert_eq!(&run.current, &run.latest, "the stream ends on its latest push");
    }
}
