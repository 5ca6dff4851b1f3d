//! What a verified callback means: the event and, for stops, why; and, with the
//! reconnect window, what it does to its stream's state.

pub mod classify;
pub mod stream_state;
