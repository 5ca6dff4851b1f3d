//! The HTTP contract with Tencent: every request gets a defined status and a short body.

use std::collections::HashSet;
use std::time::Instant;

use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::config::Config;
use crate::inbound::signature::Verifier;
use crate::inbound::{self, InboundError};
use crate::meaning::classify::Event;
use crate::outbound::notification::Notification;
use crate::ports::idempotency::{Claim, IdempotencyStore, NoStore};
use crate::ports::publish::{PublishError, Publisher};

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
}

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::Inbound(InboundError::TooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::Inbound(InboundError::Malformed(_)) => StatusCode::BAD_REQUEST,
            Rejection::Inbound(InboundError::Unauthorized(_)) => StatusCode::UNAUTHORIZED,
            Rejection::InFlight => StatusCode::CONFLICT,
            Rejection::NotPublished(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// What the caller is told; the detail stays in the log.
    fn public_message(&self) -> &'static str {
        match self {
            Rejection::MethodNotAllowed(_) => "only POST is accepted",
            Rejection::Inbound(InboundError::TooLarge(_)) => "body too large",
            Rejection::Inbound(InboundError::Malformed(_)) => "malformed callback",
            Rejection::Inbound(InboundError::Unauthorized(_)) => "invalid or expired signature",
            Rejection::InFlight => "already being published; retry later",
            Rejection::NotPublished(_) => "notification not published; retry later",
        }
    }
}

/// What happened to a request that is answered 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Published {
        message_id: String,
    },
    AlreadyPublished,
    NotNotified,
    OtherEventType,
    /// SNS refused the notification as invalid: no retry could change that, so Tencent is
    /// not asked for one; the notification's document goes to the log as an error instead.
    Refused {
        detail: String,
        document: String,
    },
}

impl Accepted {
    fn as_str(&self) -> &'static str {
        match self {
            Accepted::Published { .. } => "published",
            Accepted::AlreadyPublished => "duplicate",
            Accepted::NotNotified => "not_notified",
            Accepted::OtherEventType => "other_event_type",
            Accepted::Refused { .. } => "refused",
        }
    }
}

/// The fields an operator searches the request's log line by.
#[derive(Debug, Default)]
struct Trail {
    event: Option<Event>,
    event_id: Option<String>,
    stream_id: Option<String>,
}

/// Verifies, decodes, classifies and publishes callbacks, each event once when `S`
/// is an idempotency store.
#[derive(Debug)]
pub struct Relay<P, S = NoStore> {
    verifier: Verifier,
    notify_events: HashSet<Event>,
    publisher: P,
    store: S,
}

impl<P: Publisher> Relay<P> {
    pub fn new(config: &Config, publisher: P) -> Self {
        Relay {
            verifier: Verifier::new(
                config.callback_keys.clone(),
                config.clock_skew_secs,
                config.max_validity_secs,
            ),
            notify_events: config.notify_events.clone(),
            publisher,
            store: NoStore,
        }
    }
}

impl<P: Publisher, S: IdempotencyStore> Relay<P, S> {
    pub fn with_store<T: IdempotencyStore>(self, store: T) -> Relay<P, T> {
        Relay {
            verifier: self.verifier,
            notify_events: self.notify_events,
            publisher: self.publisher,
            store,
        }
    }

    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// Answers one HTTP request at Unix time `now`, and logs one line about it.
    pub async fn handle(&self, request: Request, now: u64) -> Response<Body> {
        let started = Instant::now();
        let mut trail = Trail::default();
        let result = self.process(&request, now, &mut trail).await;
        let elapsed_us = started.elapsed().as_micros() as u64;
        let event = trail.event.map(Event::as_str).unwrap_or_default();
        let event_id = trail.event_id.as_deref().unwrap_or_default();
        let stream_id = trail.stream_id.as_deref().unwrap_or_default();
        match result {
            Ok(Accepted::Refused { detail, document }) => {
                tracing::error!(
                    outcome = "refused",
                    status = 200,
                    event,
                    event_id,
                    stream_id,
                    detail,
                    document,
                    elapsed_us,
                    "notification refused by SNS; not retried"
                );
                reply(StatusCode::OK, json!({"code": 0}))
            }
            Ok(accepted) => {
                let message_id = match &accepted {
                    Accepted::Published { message_id } => message_id.as_str(),
                    _ => "",
                };
                tracing::info!(
                    outcome = accepted.as_str(),
                    status = 200,
                    event,
                    event_id,
                    stream_id,
                    message_id,
                    elapsed_us,
                    "callback accepted"
                );
                reply(StatusCode::OK, json!({"code": 0}))
            }
            Err(rejection) => {
                let status = rejection.status();
                let detail = rejection.to_string();
                macro_rules! log_rejection {
                    ($level:expr, $message:literal) => {
                        tracing::event!(
                            $level,
                            outcome = "rejected",
                            status = status.as_u16(),
                            event,
                            event_id,
                            stream_id,
                            detail,
                            elapsed_us,
                            $message
                        )
                    };
                }
                if status.is_server_error() {
                    log_rejection!(tracing::Level::ERROR, "callback not published");
                } else {
                    log_rejection!(tracing::Level::WARN, "callback rejected");
                }
                let mut response = reply(
                    status,
                    json!({"code": status.as_u16(), "message": rejection.public_message()}),
                );
                if let Rejection::MethodNotAllowed(_) = rejection {
                    response
                        .headers_mut()
                        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
                }
                response
            }
        }
    }

    async fn process(
        &self,
        request: &Request,
        now: u64,
        trail: &mut Trail,
    ) -> Result<Accepted, Rejection> {
        if request.method() != Method::POST {
            return Err(Rejection::MethodNotAllowed(request.method().clone()));
        }
        let Some(callback) = inbound::read(request.body().as_ref(), &self.verifier, now)? else {
            return Ok(Accepted::OtherEventType);
        };
        let class = callback.get().classification();
        trail.event = Some(class.event);
        trail.event_id = Some(callback.get().event_id.clone());
        trail.stream_id = Some(callback.get().stream_id.clone());
        if !self.notify_events.contains(&class.event) {
            return Ok(Accepted::NotNotified);
        }
        let event_id = trail.event_id.as_deref().unwrap_or_default();
        let claimed = match self.store.claim(event_id, now).await {
            Ok(Claim::Owned) => true,
            Ok(Claim::AlreadyPublished) => return Ok(Accepted::AlreadyPublished),
            Ok(Claim::InFlight) => return Err(Rejection::InFlight),
            Err(e) => {
                tracing::warn!(error = %e, event_id, "publishing without deduplication");
                false
            }
        };
        let notification = Notification::new(&callback);
        let published = self.publisher.publish(&notification).await;
        if claimed {
            let recorded = match published {
                Ok(_) => {
                    self.store
                        .complete(event_id, now, callback.accepted_until())
                        .await
                }
                Err(_) => self.store.release(event_id).await,
            };
            if let Err(e) = recorded {
                tracing::warn!(error = %e, event_id, "claim not updated; it lapses after its lease");
            }
        }
        match published {
            Ok(message_id) => Ok(Accepted::Published { message_id }),
            Err(PublishError::Refused(detail)) => Ok(Accepted::Refused {
                detail,
                document: notification.document().to_string(),
            }),
            Err(unavailable) => Err(unavailable.into()),
        }
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .expect("a static status and header always build")
}
