//! Deduplication of Tencent's retries through the handler, with the in-memory store
//! (the DynamoDB store runs the same scenarios in the end-to-end tests).

mod common;

use common::unreachable::Unreachable;
use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::ports::idempotency::{
    Claim, IN_FLIGHT_LEASE_SECS, IdempotencyStore, MemoryStore,
};
use live_callback_relay::ports::recording::RecordingPublisher;
use live_callback_relay::relay::deduplicated::Deduplicated;
use serde_json::json;

fn relay_with<S: IdempotencyStore>(store: S) -> Relay<RecordingPublisher, Deduplicated<S>> {
    Relay::new(&config(None), RecordingPublisher::new()).with_mode(Deduplicated { store })
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
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    let store = MemoryStore::new(3600);
    assert_eq!(
        store
            .claim(&notification_of(&body).event_id, NOW, IN_FLIGHT_LEASE_SECS)
            .await,
        Ok(Claim::Owned)
    );
    let relay = relay_with(store);

    let response = relay.handle(post(&body), NOW + 1).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(relay.publisher().published().is_empty());

    // the first holder died without completing: after its lease a retry publishes
    let response = relay.handle(post(&body), NOW + 31).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(relay.publisher().published().len(), 1);
}

#[tokio::test]
async fn a_forged_callback_for_the_same_push_does_not_swallow_the_genuine_one() {
    // GIVEN someone holding a valid (t, sign) sends a fake stop for a push's sequence first
    let relay = relay_with(MemoryStore::new(3600));
    let forged = signed(INTERRUPT, json!({"errcode": 1, "errmsg": "forged"}));
    let genuine = signed(INTERRUPT, json!({"errcode": 12}));
    assert_eq!(
        relay.handle(post(&forged), NOW).await.status(),
        StatusCode::OK
    );
    // WHEN the genuine stop of that push arrives, and then Tencent's retry of it
    assert_eq!(
        relay.handle(post(&genuine), NOW + 1).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        relay.handle(post(&genuine), NOW + 61).await.status(),
        StatusCode::OK
    );
    // THEN the genuine stop is published once, under its own event id
    let published = relay.publisher().published();
    let ids: Vec<&str> = published.iter().map(|n| n.event_id.as_str()).collect();
    assert_eq!(ids, [notification_of(&genuine).event_id.as_str()]);
    assert_ne!(
        notification_of(&forged).event_id,
        notification_of(&genuine).event_id
    );
}

#[tokio::test]
async fn a_record_outlives_every_moment_its_callback_is_still_accepted() {
    // GIVEN a 600 s clock skew and the shortest retention, 900 s
    let mut config = config(None);
    config.clock_skew_secs = 600;
    let relay = Relay::new(&config, RecordingPublisher::new()).with_mode(Deduplicated {
        store: MemoryStore::new(900),
    });
    // a callback whose t lies 600 s ahead: acceptable until NOW + 1200
    let body = signed(INTERRUPT, json!({"errcode": 12, "t": NOW + 600}));
    for at in [NOW, NOW + 899, NOW + 901, NOW + 1200] {
        assert_eq!(
            relay.handle(post(&body), at).await.status(),
            StatusCode::OK,
            "at +{}",
            at - NOW
        );
    }
    assert_eq!(
        relay.handle(post(&body), NOW + 1201).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(relay.publisher().published().len(), 1);
}

#[tokio::test]
async fn a_refused_notification_releases_its_claim() {
    let store = MemoryStore::new(3600);
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    let relay = relay_with(store);
    relay.publisher().set_refusing(true);
    assert_eq!(
        relay.handle(post(&body), NOW).await.status(),
        StatusCode::OK
    );
    relay.publisher().set_refusing(false);
    assert_eq!(
        relay.handle(post(&body), NOW + 60).await.status(),
        StatusCode::OK
    );
    assert_eq!(relay.publisher().published().len(), 1);
}

#[tokio::test]
async fn an_unreachable_store_never_costs_a_notification() {
    let relay = relay_with(Unreachable);
    let body = signed(INTERRUPT, json!({"errcode": 12}));
    assert_eq!(
        relay.handle(post(&body), NOW).await.status(),
        StatusCode::OK
    );
    assert_eq!(relay.publisher().published().len(), 1);
}
