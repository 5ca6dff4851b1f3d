//! Relays Tencent Cloud live push/interrupt callbacks to Amazon SNS: verified, decoded,
//! classified, and rendered for every kind of subscriber.

pub mod aws;
pub mod config;
pub mod handler;
pub mod inbound;
pub mod lambda;
pub mod meaning;
pub mod outbound;
pub mod ports;
pub mod relay;

pub use config::Config;
pub use relay::Relay;
