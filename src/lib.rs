//! Relays Tencent Cloud live push/interrupt callbacks to Amazon SNS: verified, decoded,
//! classified, and rendered for every kind of subscriber.
//!
//! The layers, from the top; a module imports only modules below it (`tests/layers.rs`
//! checks it):
//!
//! 1. `lambda`: the function's event sources (HTTP, the hold queue's batches, the
//!    sweep's schedule) and what each is answered;
//! 2. `handler`: the HTTP contract with Tencent;
//! 3. `relay`: the relay's modes (stateless, deduplicated, with the reconnect window),
//!    holds, announcements, the sweep, metrics;
//! 4. `rejection`: what Tencent is answered when a callback is not taken;
//! 5. `config`: the configuration, read once at cold start;
//! 6. `aws`: the adapters to SNS, DynamoDB and SQS behind `ports`;
//! 7. `ports`: what the relay needs of the outside, with in-memory implementations;
//! 8. `outbound`: notifications, their renderings and attributes;
//! 9. `inbound`: reading, verifying, decoding and masking a callback;
//! 10. `meaning`: the pure decisions: classification and the stream-state machine.

pub mod aws;
pub mod config;
pub mod handler;
pub mod inbound;
pub mod lambda;
pub mod meaning;
pub mod outbound;
pub mod ports;
pub mod rejection;
pub mod relay;

pub use config::Config;
pub use relay::Relay;
