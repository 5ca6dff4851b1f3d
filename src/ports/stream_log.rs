//! Where each stream's history (a snapshot and the inputs since) is kept: the state
//! table in production, memory in tests. Appending is the one write a callback makes;
//! the order in which appends land decides every race between Lambda instances.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use crate::inbound::callback::Callback;
use crate::meaning::stream_state::{Entry, History};
use crate::ports::idempotency::{
    CLAIM_RETENTION_SECS, Claim, IdempotencyStore, MemoryStore, StoreError,
};

/// A stream: push domain, app name and stream name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamKey {
    pub app: String,
    pub appname: String,
    pub stream_id: String,
}

impl StreamKey {
    pub fn of(cb: &Callback) -> StreamKey {
        StreamKey {
            app: cb.app.clone(),
            appname: cb.appname.clone(),
            stream_id: cb.stream_id.clone(),
        }
    }

    /// An unambiguous text for the three parts, whatever characters they hold.
    pub fn as_text(&self) -> String {
        serde_json::to_string(&[&self.app, &self.appname, &self.stream_id])
            .expect("strings always serialize")
    }
}

/// What the relay records about a drop in its stream's history, besides inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark<'a> {
    /// The announcement of the drop whose stop was this is done.
    Announced(&'a str),
    /// The hold of this drop (its sealed `message`) could not be parked at `at`: the
    /// stream is marked for the sweep...
    Unparked {
        drop_id: &'a str,
        message: &'a str,
        at: u64,
    },
    /// ...until its hold is parked.
    Parked(&'a str),
}

impl Mark<'_> {
    /// Applies the mark to `history`.
    pub fn apply(self, history: &mut History) {
        match self {
            Mark::Announced(drop_id) => {
                history.announced.insert(drop_id.to_string());
            }
            Mark::Unparked {
                drop_id, message, ..
            } => {
                history
                    .unparked
                    .insert(drop_id.to_string(), message.to_string());
            }
            Mark::Parked(drop_id) => {
                history.unparked.remove(drop_id);
            }
        }
    }
}

/// A stream marked for the sweep: the holds of it that could not be parked (each drop's
/// id and sealed message), as of the stream's `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparked {
    /// The stream, as the store knows it.
    pub item: String,
    pub version: u64,
    pub holds: Vec<(String, String)>,
}

/// The history right after an append, and where the appended input stands in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub history: History,
    pub position: usize,
    /// `false` when an input with the same id was already there (its position is given).
    pub fresh: bool,
    /// How many times the stored history had been written: a compaction replaces it only
    /// if it is still this one.
    pub version: u64,
}

/// A stream's history, and claims on what is published once (see [`IdempotencyStore`]),
/// kept together: the state table.
pub trait StreamLog: IdempotencyStore + Send + Sync {
    /// Appends `entry` to the stream's history unless an entry with its id is there.
    fn append(
        &self,
        key: &StreamKey,
        entry: &Entry,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// Records `mark` in the stream's history (a write of the history, as an append is).
    fn mark(
        &self,
        key: &StreamKey,
        mark: Mark<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The streams marked for the sweep since before `before` (at most a page of them).
    fn unparked(
        &self,
        before: u64,
    ) -> impl Future<Output = Result<Vec<Unparked>, StoreError>> + Send;

    /// Takes the holds `parked` out of `stream`, and its mark for the sweep when no other
    /// is left, unless the stream has been written since `stream.version` (the next sweep
    /// finds it then).
    fn swept(
        &self,
        stream: &Unparked,
        parked: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the stream's history with `compacted`, unless it has been written since
    /// its `version` was `seen_version` (a later append or mark is never lost).
    fn compact(
        &self,
        key: &StreamKey,
        compacted: &History,
        seen_version: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The position of `entry` once appended to `history`, and whether it is new there.
pub fn append_to(history: &mut History, entry: &Entry) -> (usize, bool) {
    match history.position(&entry.id()) {
        Some(position) => (position, false),
        None => {
            history.entries.push(entry.clone());
            (history.entries.len() - 1, true)
        }
    }
}

/// An in-process stream log and claim store with the state table's semantics, for tests
/// and benchmarks.
#[derive(Debug)]
pub struct MemoryStreamLog {
    streams: Mutex<HashMap<StreamKey, Stored>>,
    claims: MemoryStore,
}

/// A stream's history as stored, its version, and since when it is marked for the sweep.
type Stored = (History, u64, Option<u64>);

impl Default for MemoryStreamLog {
    fn default() -> Self {
        MemoryStreamLog {
            streams: Mutex::default(),
            claims: MemoryStore::new(CLAIM_RETENTION_SECS),
        }
    }
}

impl MemoryStreamLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn history(&self, key: &StreamKey) -> Option<History> {
        let streams = self.streams.lock().expect("not poisoned");
        streams.get(key).map(|(history, ..)| history.clone())
    }
}

impl StreamLog for MemoryStreamLog {
    async fn append(&self, key: &StreamKey, entry: &Entry) -> Result<Appended, StoreError> {
        let mut streams = self.streams.lock().expect("not poisoned");
        let (history, version, _) = streams.entry(key.clone()).or_default();
        let (position, fresh) = append_to(history, entry);
        *version += u64::from(fresh);
        Ok(Appended {
            history: history.clone(),
            position,
            fresh,
            version: *version,
        })
    }

    async fn mark(&self, key: &StreamKey, mark: Mark<'_>) -> Result<(), StoreError> {
        let mut streams = self.streams.lock().expect("not poisoned");
        let (history, version, since) = streams.entry(key.clone()).or_default();
        mark.apply(history);
        if let Mark::Unparked { at, .. } = mark {
            since.get_or_insert(at);
        }
        *version += 1;
        Ok(())
    }

    async fn unparked(&self, before: u64) -> Result<Vec<Unparked>, StoreError> {
        let streams = self.streams.lock().expect("not poisoned");
        Ok(streams
            .iter()
            .filter(|(_, (.., since))| since.is_some_and(|at| at <= before))
            .map(|(key, (history, version, _))| Unparked {
                item: key.as_text(),
                version: *version,
                holds: history.unparked.clone().into_iter().collect(),
            })
            .collect())
    }

    async fn swept(&self, stream: &Unparked, parked: &[String]) -> Result<(), StoreError> {
        let mut streams = self.streams.lock().expect("not poisoned");
        let found = streams
            .iter_mut()
            .find(|(key, _)| key.as_text() == stream.item);
        if let Some((_, (history, version, since))) = found
            && *version == stream.version
        {
            for drop_id in parked {
                history.unparked.remove(drop_id);
            }
            if history.unparked.is_empty() {
                *since = None;
            }
            *version += 1;
        }
        Ok(())
    }

    async fn compact(
        &self,
        key: &StreamKey,
        compacted: &History,
        seen_version: u64,
    ) -> Result<(), StoreError> {
        let mut streams = self.streams.lock().expect("not poisoned");
        if let Some((history, version, _)) = streams.get_mut(key)
            && *version == seen_version
        {
            *history = compacted.clone();
            *version += 1;
        }
        Ok(())
    }
}

impl IdempotencyStore for MemoryStreamLog {
    async fn claim(&self, event_id: &str, now: u64, lease_secs: u64) -> Result<Claim, StoreError> {
        self.claims.claim(event_id, now, lease_secs).await
    }

    async fn complete(&self, event_id: &str, now: u64, until: u64) -> Result<(), StoreError> {
        self.claims.complete(event_id, now, until).await
    }

    async fn release(&self, event_id: &str) -> Result<(), StoreError> {
        self.claims.release(event_id).await
    }
}
