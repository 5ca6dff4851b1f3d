//! What Tencent is answered when a callback is not taken: the one type the HTTP contract
//! (`handler`) and the relay's modes (`relay`) share, below both.

use lambda_http::http::{Method, StatusCode};

use crate::inbound::InboundError;
use crate::ports::publish::PublishError;

/// Why a request was not answered with 200; the only place statuses are decided.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("method {0} is not allowed")]
    MethodNotAllowed(Method),
    #[error(transparent)]
    Inbound(#[from] InboundError),
    #[error("the same event is being published by another request")]
    InFlight,
    #[error(transparent)]
    NotPublished(#[from] PublishError),
    /// The stream's state or the hold could not be written: nothing was decided for good.
    #[error("not recorded: {0}")]
    NotRecorded(String),
    /// A recovery is told only after its drop's announcement, which is not published yet.
    #[error("the recovery of {0} waits for the drop's announcement")]
    AnnouncementPending(String),
}

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::Inbound(InboundError::TooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::Inbound(InboundError::Malformed(_)) => StatusCode::BAD_REQUEST,
            Rejection::Inbound(InboundError::Unauthorized(_)) => StatusCode::UNAUTHORIZED,
            Rejection::InFlight | Rejection::AnnouncementPending(_) => StatusCode::CONFLICT,
            Rejection::NotPublished(_) | Rejection::NotRecorded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// What the caller is told; the detail stays in the log.
    pub fn public_message(&self) -> &'static str {
        match self {
            Rejection::MethodNotAllowed(_) => "only POST is accepted",
            Rejection::Inbound(InboundError::TooLarge(_)) => "body too large",
            Rejection::Inbound(InboundError::Malformed(_)) => "malformed callback",
            Rejection::Inbound(InboundError::Unauthorized(_)) => "invalid or expired signature",
            Rejection::InFlight => "already being published; retry later",
            Rejection::NotPublished(_) => "notification not published; retry later",
            Rejection::NotRecorded(_) => "callback not recorded; retry later",
            Rejection::AnnouncementPending(_) => {
                "the stream's drop is being announced; retry later"
            }
        }
    }
}
