//! The HTTP contract with Tencent: every request gets a defined status and a short body,
//! and one log line.

use std::time::Instant;

use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use crate::inbound;
use crate::ports::publish::Publisher;
use crate::rejection::Rejection;
use crate::relay::report::Report;
use crate::relay::{Deadline, Mode, Relay};

impl<P: Publisher, M: Mode> Relay<P, M> {
    /// Answers one HTTP request at Unix time `now`, and logs one line about it.
    pub async fn handle(&self, request: Request, now: u64) -> Response<Body> {
        self.respond(request, now).await.0
    }

    /// [`Relay::handle`], with what became of the request.
    pub async fn respond(&self, request: Request, now: u64) -> (Response<Body>, Report) {
        let started = Instant::now();
        let mut report = Report::default();
        let result = self.process(&request, now, &mut report).await;
        let status = result
            .as_ref()
            .map_or_else(Rejection::status, |_| StatusCode::OK);
        let detail = result.as_ref().err().map(|r| r as &dyn std::fmt::Display);
        log_line("callback", status, &report, detail, started);
        let response = match result {
            Ok(()) => reply(StatusCode::OK, json!({"code": 0})),
            Err(rejection) => {
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
        };
        (response, report)
    }

    async fn process(
        &self,
        request: &Request,
        now: u64,
        report: &mut Report,
    ) -> Result<(), Rejection> {
        if request.method() != Method::POST {
            return Err(Rejection::MethodNotAllowed(request.method().clone()));
        }
        let body = request.body().as_ref();
        let Some(callback) = inbound::read(body, &self.verifier, now)? else {
            report.other_event_type = true;
            return Ok(());
        };
        report.about(callback.get());
        let deadline = request
            .lambda_context_ref()
            .map_or(Deadline::unbounded(), |context| {
                Deadline::at_epoch_ms(context.deadline)
            });
        self.mode()
            .on_callback(
                &self.teller(deadline),
                &self.verifier,
                &callback,
                now,
                report,
            )
            .await
    }
}

/// The one line logged per request (`source` "callback"), per hold ("hold") or per sweep
/// ("sweep"): its status (200, or what Tencent is answered; a hold that failed is 503, as
/// SQS delivers it again), an outcome an operator filters by, and never a key, `sign` or
/// push token.
pub fn log_line(
    source: &str,
    status: StatusCode,
    report: &Report,
    rejection: Option<&dyn std::fmt::Display>,
    started: Instant,
) {
    let outcome = match source {
        "sweep" => report.sweep_outcome_at(status),
        _ => report.outcome_at(status),
    };
    let elapsed_us = started.elapsed().as_micros() as u64;
    let event = report.event.map(|e| e.as_str()).unwrap_or_default();
    let event_id = report.event_id.as_deref().unwrap_or_default();
    let stream_id = report.stream_id.as_deref().unwrap_or_default();
    let told = report.told_events();
    let message_id = report.message_ids();
    let state = report.state.map(|s| s.as_str()).unwrap_or_default();
    let held_until = report.held_until.unwrap_or_default();
    let swept = report.swept;
    let (detail, document) = match (rejection, &report.refused) {
        (Some(rejection), _) => (rejection.to_string(), ""),
        (None, Some((detail, document))) => (detail.clone(), document.as_str()),
        (None, None) => (String::new(), ""),
    };
    macro_rules! line {
        ($level:expr, $message:literal) => {
            tracing::event!(
                $level,
                source,
                outcome,
                status = status.as_u16(),
                event,
                event_id,
                stream_id,
                told,
                message_id,
                state,
                held_until,
                swept,
                detail,
                document,
                elapsed_us,
                $message
            )
        };
    }
    if status.is_server_error() {
        line!(tracing::Level::ERROR, "not done; to be retried");
    } else if report.refused.is_some() {
        line!(
            tracing::Level::ERROR,
            "notification refused by SNS; not retried"
        );
    } else if status.is_client_error() {
        line!(tracing::Level::WARN, "rejected");
    } else {
        line!(tracing::Level::INFO, "done");
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .expect("a static status and header always build")
}
