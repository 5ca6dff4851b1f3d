//! A fault-injecting SNS endpoint: each request meets the next scripted fault, and a
//! request with no fault left is forwarded to the real (moto) endpoint behind it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::StatusCode;

use crate::BoxError;
use crate::http::{self, Server};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `400 Throttling`, as SNS answers above a rate limit.
    Throttle,
    /// `500 InternalError`.
    ServerError,
    /// Holds the request for this long, then answers 500: slower than an attempt timeout.
    Stall(Duration),
    /// Closes the connection without answering.
    CloseConnection,
    /// Hands the request to the endpoint behind, which accepts it, then closes the
    /// connection without passing the answer on: the sender cannot know it succeeded.
    AcceptThenClose,
}

/// What one request met, and when (from the injector's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: Duration,
    pub met: String,
}

pub struct FaultInjector {
    pub url: String,
    script: Arc<Mutex<VecDeque<Fault>>>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    _server: Server,
}

impl FaultInjector {
    /// Injects faults in front of `target` (`http://host:port`).
    pub async fn start(target: &str) -> Result<FaultInjector, BoxError> {
        let script: Arc<Mutex<VecDeque<Fault>>> = Arc::default();
        let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
        let (next, log, target) = (script.clone(), attempts.clone(), target.to_string());
        let started = Instant::now();
        let server = http::serve(move |request| {
            let fault = next.lock().expect("not poisoned").pop_front();
            let (log, target) = (log.clone(), target.clone());
            async move {
                let record = |met: String| {
                    log.lock().expect("not poisoned").push(Attempt {
                        at: started.elapsed(),
                        met,
                    })
                };
                match fault {
                    None => {
                        record("forwarded".into());
                        Some(http::forward(&target, request).await.unwrap_or_else(|e| {
                            http::response(StatusCode::BAD_GATEWAY, e.to_string())
                        }))
                    }
                    Some(Fault::CloseConnection) => {
                        record("connection closed".into());
                        None
                    }
                    Some(Fault::AcceptThenClose) => {
                        let accepted = http::forward(&target, request).await.is_ok();
                        record(format!("forwarded (accepted: {accepted}), answer dropped"));
                        None
                    }
                    Some(Fault::Stall(delay)) => {
                        record(format!("stalled {delay:?}"));
                        tokio::time::sleep(delay).await;
                        Some(sns_error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "Receiver",
                            "InternalError",
                        ))
                    }
                    Some(Fault::Throttle) => {
                        record("throttled".into());
                        Some(sns_error(StatusCode::BAD_REQUEST, "Sender", "Throttling"))
                    }
                    Some(Fault::ServerError) => {
                        record("500".into());
                        Some(sns_error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "Receiver",
                            "InternalError",
                        ))
                    }
                }
            }
        })
        .await?;
        Ok(FaultInjector {
            url: format!("http://{}", server.addr),
            script,
            attempts,
            _server: server,
        })
    }

    /// Replaces the script and forgets the attempts seen so far.
    pub fn script(&self, faults: &[Fault]) {
        *self.script.lock().expect("not poisoned") = faults.iter().copied().collect();
        self.attempts.lock().expect("not poisoned").clear();
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().expect("not poisoned").clone()
    }
}

/// An error in SNS's query-protocol XML.
fn sns_error(
    status: StatusCode,
    kind: &str,
    code: &str,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    let body = format!(
        "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected {code}</Message></Error><RequestId>fault-injector</RequestId></ErrorResponse>"
    );
    let mut response = http::response(status, body);
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/xml"),
    );
    response
}
