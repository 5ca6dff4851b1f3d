//! What a verified callback means: the event and, for stops, why.

pub mod classify;
