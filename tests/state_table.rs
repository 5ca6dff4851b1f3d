//! The state table on moto's DynamoDB behaves as the in-memory fakes the other tests use:
//! the same claims at the same instants, the same histories after the same appends.

mod common;

use live_callback_relay::aws::state_table::StateTable;
use live_callback_relay::meaning::classify::Reason;
use live_callback_relay::meaning::stream_state::{Entry, Input, Start, Stop};
use live_callback_relay::ports::idempotency::{
    Claim, IN_FLIGHT_LEASE_SECS, IdempotencyStore, MemoryStore,
};
use live_callback_relay::ports::stream_log::{Mark, MemoryStreamLog, StreamKey, StreamLog};
use local_stack::aws;
use local_stack::moto::{self, Moto};

async fn table(moto: &Moto) -> StateTable {
    aws::create_state_table(&moto.endpoint, "relay-state")
        .await
        .expect("table");
    StateTable::new(aws::dynamodb_client(&moto.endpoint), "relay-state".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn claims_answer_as_the_memory_store_does_at_every_instant() {
    let moto = Moto::start(&moto::server_path()).await.expect("moto");
    let table = table(&moto).await;
    let memory = MemoryStore::new(live_callback_relay::ports::idempotency::CLAIM_RETENTION_SECS);
    // claim at 100 (lease to 130), a rival at 129 and 130, published at 131, asked again
    // within and after its retention
    let script: &[(&str, u64)] = &[
        ("claim", 100),
        ("claim", 129),
        ("claim", 130),
        ("complete", 131),
        ("claim", 132),
        ("claim", 131 + 3_600),
        ("claim", 131 + 3_601),
        ("release", 131 + 3_602),
        ("claim", 131 + 3_603),
    ];
    for (step, at) in script {
        let (a, b) = match *step {
            "claim" => (
                format!("{:?}", table.claim("e1", *at, IN_FLIGHT_LEASE_SECS).await),
                format!("{:?}", memory.claim("e1", *at, IN_FLIGHT_LEASE_SECS).await),
            ),
            "complete" => (
                format!("{:?}", table.complete("e1", *at, 0).await),
                format!("{:?}", memory.complete("e1", *at, 0).await),
            ),
            _ => (
                format!("{:?}", table.release("e1").await),
                format!("{:?}", memory.release("e1").await),
            ),
        };
        assert_eq!(a, b, "{step} at {at}");
    }
    // an announcement's claim holds for the lease it was taken with
    let lease = live_callback_relay::relay::announce::ANNOUNCEMENT_LEASE_SECS;
    for at in [100, 100 + lease - 1, 100 + lease] {
        assert_eq!(
            table.claim("e2", at, lease).await,
            memory.claim("e2", at, lease).await,
            "at {at}"
        );
    }
    assert_eq!(table.claim("e3", 0, lease).await, Ok(Claim::Owned));
    assert_eq!(
        table.claim("e3", lease - 1, lease).await,
        Ok(Claim::InFlight)
    );
}

fn entries() -> Vec<Entry> {
    let start = |sequence: &str, at| Entry {
        received: at,
        until: at,
        input: Input::Start(Start {
            id: format!("{sequence}-start"),
            sequence: sequence.into(),
            at,
        }),
    };
    let stop = |sequence: &str, at| Entry {
        received: at,
        until: at,
        input: Input::Stop(Stop {
            id: format!("{sequence}-stop"),
            sequence: sequence.into(),
            at,
            reason: Reason::Network,
            errcode: 13,
            push_duration_ms: Some(5_000),
            hold_until: at + 60,
        }),
    };
    vec![
        start("a", 100),
        stop("a", 110),
        start("a", 100),
        start("b", 120),
        Entry {
            received: 170,
            until: 170,
            input: Input::Expire {
                drop_id: "a-stop".into(),
            },
        },
        stop("b", 130),
        start("名前 \"x\"", 140),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn stream_histories_grow_repeat_and_compact_as_the_memory_log_does() {
    let moto = Moto::start(&moto::server_path()).await.expect("moto");
    let table = table(&moto).await;
    let memory = MemoryStreamLog::new();
    let key = StreamKey {
        app: "live.example.com".into(),
        appname: "live/x".into(),
        stream_id: "直播 \"1\"".into(),
    };
    let mut version = 0;
    for entry in entries() {
        let (a, b) = (
            table.append(&key, &entry).await.expect("appended"),
            memory.append(&key, &entry).await.expect("appended"),
        );
        assert_eq!(a, b, "{entry:?}");
        assert_eq!(
            a.version,
            version + u64::from(a.fresh),
            "a write counts, a repeat not"
        );
        version = a.version;
    }
    let compacted = memory.history(&key).unwrap().compacted(2, 10_000);
    assert_eq!(compacted.entries.len(), 2);
    // marking a drop is a write: a compaction computed before it changes nothing
    let unparked = |drop_id, at| Mark::Unparked {
        drop_id,
        message: "{\"v\":2,\"hold\":\"...\",\"seal\":\"...\"}",
        at,
    };
    for mark in [
        Mark::Announced("a-stop"),
        unparked("a-stop", 150),
        unparked("b-stop", 160),
        Mark::Parked("b-stop"),
        Mark::Parked("never-unparked"),
    ] {
        table.mark(&key, mark).await.expect("marked");
        memory.mark(&key, mark).await.expect("marked");
    }
    table
        .compact(&key, &compacted, version)
        .await
        .expect("refused quietly");
    memory
        .compact(&key, &compacted, version)
        .await
        .expect("refused quietly");
    let repeat = entries().remove(0);
    let (a, b) = (
        table.append(&key, &repeat).await.expect("appended"),
        memory.append(&key, &repeat).await.expect("appended"),
    );
    assert_eq!(a, b, "after a refused compaction");
    assert!(!a.fresh && a.history.entries.len() == 6);
    assert!(a.history.announced.contains("a-stop"));
    assert_eq!(
        a.history.unparked.keys().collect::<Vec<_>>(),
        ["a-stop"],
        "marked unparked, not yet parked"
    );

    // compacted from what was read: the announcement of a drop nothing refers to any more
    // goes with the entries folded
    let compacted = a.history.compacted(2, 10_000);
    table
        .compact(&key, &compacted, a.version)
        .await
        .expect("compacted");
    memory
        .compact(&key, &compacted, a.version)
        .await
        .expect("compacted");
    // a late compaction from an older read, when the history has grown back to the same
    // length, is refused: the version has moved on
    let late = compacted.clone();
    let probe = entries().remove(3);
    let (a, b) = (
        table.append(&key, &probe).await.expect("appended"),
        memory.append(&key, &probe).await.expect("appended"),
    );
    assert_eq!(a, b, "after compaction");
    assert!(a.fresh, "a compacted id is not recognised any more");
    assert!(a.history.announced.is_empty(), "{:?}", a.history.announced);
    assert_eq!(
        a.history.unparked.keys().collect::<Vec<_>>(),
        ["a-stop"],
        "compaction keeps a hold not parked"
    );
    assert_eq!(a.history.entries.len(), 3);
    table
        .compact(&key, &late, a.version - 2)
        .await
        .expect("refused quietly");
    memory
        .compact(&key, &late, a.version - 2)
        .await
        .expect("refused quietly");
    let (a, b) = (
        table.append(&key, &probe).await.expect("appended"),
        memory.append(&key, &probe).await.expect("appended"),
    );
    assert_eq!(a, b, "after a late compaction");
    assert!(!a.fresh, "the entry appended after it is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn the_sweep_finds_the_holds_not_parked_as_the_memory_log_does() {
    let moto = Moto::start(&moto::server_path()).await.expect("moto");
    let table = table(&moto).await;
    let memory = MemoryStreamLog::new();
    let key = |stream: &str| StreamKey {
        app: "live.example.com".into(),
        appname: "live".into(),
        stream_id: stream.into(),
    };
    let first = entries().remove(1);
    for (stream, at) in [("one", 100), ("two", 200), ("three", 300)] {
        table.append(&key(stream), &first).await.expect("appended");
        memory.append(&key(stream), &first).await.expect("appended");
        for drop_id in [format!("{stream}-stop-1"), format!("{stream}-stop-2")] {
            let mark = Mark::Unparked {
                drop_id: &drop_id,
                message: &format!("sealed hold of {drop_id}"),
                at,
            };
            table.mark(&key(stream), mark).await.expect("marked");
            memory.mark(&key(stream), mark).await.expect("marked");
        }
    }
    table
        .mark(&key("three"), Mark::Parked("three-stop-1"))
        .await
        .unwrap();
    memory
        .mark(&key("three"), Mark::Parked("three-stop-1"))
        .await
        .unwrap();
    let found = |mut streams: Vec<live_callback_relay::ports::stream_log::Unparked>| {
        streams.sort_by_key(|s| s.holds.clone());
        streams
            .into_iter()
            .map(|s| (s.version, s.holds))
            .collect::<Vec<_>>()
    };
    for before in [99, 100, 250, 300] {
        assert_eq!(
            found(table.unparked(before).await.expect("queried")),
            found(memory.unparked(before).await.expect("queried")),
            "before {before}"
        );
    }
    let all = table.unparked(300).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all.iter().map(|s| s.holds.len()).sum::<usize>(),
        5,
        "the hold parked meanwhile is not swept"
    );
    // swept: one hold of one, both of another; the third written since it was read
    let by = |stream: &str| {
        all.iter()
            .find(|s| s.holds[0].0.starts_with(stream))
            .unwrap()
            .clone()
    };
    table
        .swept(&by("one"), &["one-stop-1".to_string()])
        .await
        .unwrap();
    table
        .swept(&by("two"), &["two-stop-1".into(), "two-stop-2".into()])
        .await
        .unwrap();
    table
        .append(&key("three"), &entries().remove(3))
        .await
        .unwrap();
    table
        .swept(&by("three"), &["three-stop-2".to_string()])
        .await
        .expect("refused quietly");
    let left = table.unparked(300).await.unwrap();
    let mut holds: Vec<String> = left
        .iter()
        .flat_map(|s| s.holds.iter().map(|(id, _)| id.clone()))
        .collect();
    holds.sort();
    assert_eq!(holds, ["one-stop-2", "three-stop-2"]);
    let two = table.append(&key("two"), &first).await.unwrap();
    assert!(two.history.unparked.is_empty());
}
