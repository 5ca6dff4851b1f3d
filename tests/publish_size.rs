//! SNS refuses a `Publish` over 256 KiB (message, subject, attribute names, types and
//! values together), and moto does not enforce it. The field bounds applied at decoding
//! keep every notification under it by construction; this computes the largest one.

mod common;

use common::extremes::{FILLERS, largest, notices};
use common::*;
use live_callback_relay::outbound::notification::{MAX_PUBLISH_BYTES, Notification};
use proptest::prelude::*;

/// The largest `Publish` of any notice about `body`.
fn largest_publish(body: &str) -> usize {
    let callback = verified(body);
    notices()
        .iter()
        .map(|notice| Notification::new(&callback, notice).publish_size())
        .max()
        .unwrap()
}

#[test]
fn the_largest_publish_the_relay_can_build_is_under_snss_limit() {
    let mut sizes: Vec<(usize, &str)> = FILLERS
        .iter()
        .map(|filler| (largest_publish(&largest(filler)), *filler))
        .collect();
    sizes.sort();
    let (largest_size, filler) = *sizes.last().unwrap();
    eprintln!(
        "largest Publish: {largest_size} bytes of {MAX_PUBLISH_BYTES} ({:.0} %), every string field at its bound of {filler:?}",
        100.0 * largest_size as f64 / MAX_PUBLISH_BYTES as f64
    );
    assert!(largest_size < MAX_PUBLISH_BYTES, "{sizes:?}");
    assert_eq!(
        largest_publish(&largest("\u{1}")),
        largest_size,
        "{sizes:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn no_mix_of_characters_builds_a_larger_publish(chars in proptest::collection::vec(any::<char>(), 1..8)) {
        let filler: String = chars.into_iter().collect();
        prop_assume!(!filler.trim().is_empty());
        let body = largest(&filler);
        let worst = largest_publish(&largest("\u{1}"));
        prop_assert!(largest_publish(&body) <= worst);
    }
}
