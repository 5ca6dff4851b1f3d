//! Where each stream's history (a snapshot and the inputs since) is kept: the state
//! table in production, memory in tests. Appending is the one write a callback makes;
//! the order in which appends land decides every race between Lambda instances.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use crate::inbound::callback::Callback;
use crate::meaning::stream_state::{Entry, History};
use crate::ports::idempotency::StoreError;

/// A history is compacted once it holds this many entries...
pub const COMPACT_AT: usize = 24;
/// ...down to this many, so that a retry of a recent input is still recognised.
pub const KEEP_AFTER_COMPACTION: usize = 8;

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

/// The history right after an append, and where the appended input stands in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub history: History,
    pub position: usize,
    /// `false` when an input with the same id was already there (its position is given).
    pub fresh: bool,
}

pub trait StreamLog: Send + Sync {
    /// Appends `entry` to the stream's history unless an entry with its id is there.
    fn append(
        &self,
        key: &StreamKey,
        entry: &Entry,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// Records that the announcement of the drop whose stop was `drop_id` was published.
    fn mark_announced(
        &self,
        key: &StreamKey,
        drop_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the stream's history with `compacted`, unless it has changed since it
    /// held `seen_entries` entries (a later append is never lost).
    fn compact(
        &self,
        key: &StreamKey,
        compacted: &History,
        seen_entries: usize,
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

/// An in-process stream log with the state table's semantics, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryStreamLog {
    streams: Mutex<HashMap<StreamKey, History>>,
}

impl MemoryStreamLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn history(&self, key: &StreamKey) -> Option<History> {
        self.streams.lock().expect("not poisoned").get(key).cloned()
    }
}

impl StreamLog for MemoryStreamLog {
    async fn append(&self, key: &StreamKey, entry: &Entry) -> Result<Appended, StoreError> {
        let mut streams = self.streams.lock().expect("not poisoned");
        let history = streams.entry(key.clone()).or_default();
        let (position, fresh) = append_to(history, entry);
        Ok(Appended {
            history: history.clone(),
            position,
            fresh,
        })
    }

    async fn mark_announced(&self, key: &StreamKey, drop_id: &str) -> Result<(), StoreError> {
        let mut streams = self.streams.lock().expect("not poisoned");
        streams
            .entry(key.clone())
            .or_default()
            .announced
            .insert(drop_id.to_string());
        Ok(())
    }

    async fn compact(
        &self,
        key: &StreamKey,
        compacted: &History,
        seen_entries: usize,
    ) -> Result<(), StoreError> {
        let mut streams = self.streams.lock().expect("not poisoned");
        if let Some(history) = streams.get_mut(key)
            && history.entries.len() == seen_entries
        {
            let announced = std::mem::take(&mut history.announced);
            *history = History {
                announced,
                ..compacted.clone()
            };
        }
        Ok(())
    }
}
