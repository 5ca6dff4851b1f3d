//! What goes out: one SNS message per notified event, rendered for people and machines.

pub mod chat;
pub mod document;
pub mod notification;
pub mod sanitize;
pub mod telling;
pub mod text;
pub mod timefmt;
