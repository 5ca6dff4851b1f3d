//! What comes in: Tencent's signature, the callback's two decoding passes, and the
//! masking of push-URL credentials that happens before anything else sees a field.

pub mod callback;
pub mod redact;
pub mod signature;
