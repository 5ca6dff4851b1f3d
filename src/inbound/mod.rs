//! What comes in: Tencent's signature, the callback's two decoding passes, and the
//! masking of push-URL credentials that happens before anything else sees a field.

pub mod callback;
pub mod redact;
pub mod signature;

use callback::{Callback, DecodeError, Envelope};
use signature::{Authentic, SignatureError, Verifier};

/// The largest push or interrupt callback accepted; real ones are under 1 KiB. Other event
/// types are not bounded here: API Gateway (10 MB) and Lambda (6 MB) bound every body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long after a callback first arrives Tencent may still send it again: up to 12
/// retries a minute apart, each after up to 20 s without an answer (PROTOCOL.md), and a
/// minute for the clocks of the relay's instances and the network.
pub const TENCENT_RETRY_SECS: u64 = 12 * (60 + 20) + 60;

/// Why a body is not a verified push or interrupt callback.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("body of {0} bytes is over the {MAX_BODY_BYTES}-byte limit")]
    TooLarge(usize),
    #[error(transparent)]
    Malformed(#[from] DecodeError),
    #[error(transparent)]
    Unauthorized(#[from] SignatureError),
}

/// Reads a callback body at Unix time `now`: the envelope, then (for push and interrupt
/// callbacks) the size limit, the signature and every field. `None` is another callback
/// type (recording, screenshot, moderation, ...): not verified, since several are
/// unsigned, and never published.
pub fn read(
    body: &[u8],
    verifier: &Verifier,
    now: u64,
) -> Result<Option<Authentic<Callback>>, InboundError> {
    let envelope = Envelope::parse(body)?;
    let Some(push) = envelope.push_event()? else {
        return Ok(None);
    };
    if body.len() > MAX_BODY_BYTES {
        return Err(InboundError::TooLarge(body.len()));
    }
    let verified = verifier.verify(body, envelope.t, envelope.sign, now)?;
    Ok(Some(verified.try_map(|body| Callback::decode(body, push))?))
}
