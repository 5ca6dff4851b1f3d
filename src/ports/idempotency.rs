//! Optional deduplication of Tencent's retries: each `event_id` is claimed before it is
//! published, so that a repeat of a published event is acknowledged without publishing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

/// How long a claim protects a callback's event that is being published; past it,
/// Tencent's retry (a minute later) may take over (the function that held it crashed).
pub const IN_FLIGHT_LEASE_SECS: u64 = 30;
/// How long a published claim is kept at least: Tencent retries for about 12 minutes.
pub const CLAIM_RETENTION_SECS: u64 = 3_600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the event: publish it, then complete or release the claim.
    Owned,
    /// The event was published before: acknowledge without publishing.
    AlreadyPublished,
    /// Another request is publishing it right now: ask Tencent to retry.
    InFlight,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("idempotency store failed: {0}")]
pub struct StoreError(pub String);

pub trait IdempotencyStore: Send + Sync {
    /// Claims `event_id` for `lease_secs`, unless it is published or another claim's lease
    /// has not ended.
    fn claim(
        &self,
        event_id: &str,
        now: u64,
        lease_secs: u64,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;
    /// Marks an owned event published. It is remembered for the store's retention window
    /// and, whatever that is, until `accepted_until`: as long as a replay of the same
    /// callback would be accepted, it must be recognised.
    fn complete(
        &self,
        event_id: &str,
        now: u64,
        accepted_until: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Gives an owned event up after a failed publish, so that Tencent's retry can publish it.
    fn release(&self, event_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// When a published record may be forgotten: after the retention window, and never while
/// the callback could still be accepted.
pub fn published_until(now: u64, retention_secs: u64, accepted_until: u64) -> u64 {
    now.saturating_add(retention_secs).max(accepted_until)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    InFlight { lease_until: u64 },
    Published { expires_at: u64 },
}

/// An in-process store with the DynamoDB store's semantics, for tests and benchmarks.
#[derive(Debug)]
pub struct MemoryStore {
    retention_secs: u64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl MemoryStore {
    pub fn new(retention_secs: u64) -> Self {
        Self {
            retention_secs,
            entries: Mutex::default(),
        }
    }
}

impl IdempotencyStore for MemoryStore {
    async fn claim(&self, event_id: &str, now: u64, lease_secs: u64) -> Result<Claim, StoreError> {
        let mut entries = self.entries.lock().expect("not poisoned");
        let claim = match entries.get(event_id) {
            Some(Entry::Published { expires_at }) if *expires_at >= now => Claim::AlreadyPublished,
            Some(Entry::InFlight { lease_until }) if *lease_until > now => Claim::InFlight,
            _ => Claim::Owned,
        };
        if claim == Claim::Owned {
            entries.insert(
                event_id.to_string(),
                Entry::InFlight {
                    lease_until: now + lease_secs,
                },
            );
        }
        Ok(claim)
    }

    async fn complete(
        &self,
        event_id: &str,
        now: u64,
        accepted_until: u64,
    ) -> Result<(), StoreError> {
        self.entries.lock().expect("not poisoned").insert(
            event_id.to_string(),
            Entry::Published {
                expires_at: published_until(now, self.retention_secs, accepted_until),
            },
        );
        Ok(())
    }

    async fn release(&self, event_id: &str) -> Result<(), StoreError> {
        let mut entries = self.entries.lock().expect("not poisoned");
        if matches!(entries.get(event_id), Some(Entry::InFlight { .. })) {
            entries.remove(event_id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_published_event_is_remembered_for_the_retention_window() {
        let store = MemoryStore::new(3600);
        assert_eq!(
            store.claim("s-stop", 100, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::Owned)
        );
        store.complete("s-stop", 101, 700).await.unwrap();
        assert_eq!(
            store.claim("s-stop", 102, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::AlreadyPublished)
        );
        assert_eq!(
            store.claim("s-stop", 3701, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::AlreadyPublished)
        );
        assert_eq!(
            store.claim("s-stop", 3702, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::Owned)
        );
    }

    #[tokio::test]
    async fn a_published_event_is_remembered_while_its_callback_is_acceptable() {
        let store = MemoryStore::new(900);
        assert_eq!(
            store.claim("s-stop", 100, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::Owned)
        );
        store.complete("s-stop", 100, 2_000).await.unwrap();
        assert_eq!(
            store.claim("s-stop", 2_000, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::AlreadyPublished)
        );
        assert_eq!(
            store.claim("s-stop", 2_001, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::Owned)
        );
    }

    #[tokio::test]
    async fn an_event_in_flight_is_not_claimed_twice_until_its_lease_ends() {
        let store = MemoryStore::new(3600);
        assert_eq!(
            store.claim("s-start", 100, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::Owned)
        );
        assert_eq!(
            store.claim("s-start", 129, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::InFlight)
        );
        assert_eq!(
            store.claim("s-start", 130, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::Owned)
        );
    }

    #[tokio::test]
    async fn a_released_event_can_be_claimed_again_but_a_published_one_is_not_released() {
        let store = MemoryStore::new(3600);
        store.claim("a", 100, IN_FLIGHT_LEASE_SECS).await.unwrap();
        store.release("a").await.unwrap();
        assert_eq!(
            store.claim("a", 101, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::Owned)
        );
        store.complete("a", 102, 200).await.unwrap();
        store.release("a").await.unwrap();
        assert_eq!(
            store.claim("a", 103, IN_FLIGHT_LEASE_SECS).await,
            Ok(Claim::AlreadyPublished)
        );
    }
}
