//! Deduplication of Tencent's retries through the handler, with the in-memory store
//! (the DynamoDB store runs the same scenarios in the end-to-end tests).

mod common;

use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::ports::idempotency::{Claim, IdempotencyStore, MemoryStore, StoreError};
use live_callback_relay::ports::recording::RecordingPublisher;
use serde_json::json;

fn relay_with<S: IdempotencyStore>(store: S) -> Relay<RecordingPublisher, S> {
    Relay::new(&config(None), RecordingPublisher::new()).with_store(store)
}

#[tokio::test]
async fn twelve_deliveries_of_one_callback_publish_once() {
    let relay = relay_with(MemoryStore::new(3600));
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    for delivery in 0..12 {
        let response = relay.handle(post(&body), NOW + delivery).await;
        assert_eq!(response.status(), StatusCode::OK, "delivery {delivery}");
    }
    assert_eq!(relay.publisher().published().len(), 1);
}

#[tokio::test]
async fn the_start_and_the_stop_of_one_push_are_different_events() {
    let relay = relay_with(MemoryStore::new(3600));
    for body in [
        signed(START, json!({})),
        signed(INTERRUPT, json!({"errcode": 12})),
    ] {
        assert_eq!(
            relay.handle(post(&body), NOW).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(relay.publisher().published().len(), 2);
}

#[tokio::test]
async fn a_failed_publish_releases_the_event_for_tencents_retry() {
    let relay = relay_with(MemoryStore::new(3600));
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    relay.publisher().set_failing(true);
    assert_eq!(
        relay.handle(post(&body), NOW).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    relay.publisher().set_failing(false);
    assert_eq!(
        relay.handle(post(&body), NOW + 60).await.status(),
        StatusCode::OK
    );
    assert_eq!(relay.publisher().published().len(), 1);
}

#[tokio::test]
async fn a_duplicate_while_the_first_is_in_flight_is_told_to_retry_and_not_published() {
    let store = MemoryStore::new(3600);
    assert_eq!(
        store.claim("2210464508206756938-stop", NOW).await,
        Ok(Claim::Owned)
    );
    let relay = relay_with(store);
    let body = signed(INTERRUPT, json!({"errcode": 12}));

    let response = relay.handle(post(&body), NOW + 1).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(relay.publisher().published().is_empty());

    // the first holder died without completing: after its lease a retry publishes
    let response = relay.handle(post(&body), NOW + 31).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(relay.publisher().published().len(), 1);
}

struct BrokenStore;

impl IdempotencyStore for BrokenStore {
    async fn claim(&self, _: &str, _: u64) -> Result<Claim, StoreError> {
        Err(StoreError("table unreachable".into()))
    }
    async fn complete(&self, _: &str, _: u64) -> Result<(), StoreError> {
        Err(StoreError("table unreachable".into()))
    }
    async fn release(&self, _: &str) -> Result<(), StoreError> {
        Err(StoreError("table unreachable".into()))
    }
}

#[tokio::test]
async fn an_unreachable_store_never_costs_a_notification() {
    let relay = relay_with(BrokenStore);
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    assert_eq!(
        relay.handle(post(&body), NOW).await.status(),
        StatusCode::OK
    );
    assert_eq!(relay.publisher().published().len(), 1);
}
