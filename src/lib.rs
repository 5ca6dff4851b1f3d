//! Relays Tencent Cloud live push/interrupt callbacks to Amazon SNS: verified, decoded,
//! classified, and rendered for every kind of subscriber.

pub mod aws_setup;
pub mod callback;
pub mod classify;
pub mod config;
pub mod document;
pub mod handler;
pub mod idempotency;
pub mod limits;
pub mod notification;
pub mod publish;
pub mod redact;
pub mod signature;
pub mod text;
pub mod timefmt;

pub use config::Config;
pub use handler::Relay;
