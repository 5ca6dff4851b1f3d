//! A fault-injecting AWS endpoint in front of the real (moto) one: each request meets the
//! first rule that matches its operation (DynamoDB's and SQS's by `X-Amz-Target`, SNS's by
//! its `Action`), else the next scripted fault; a request with neither is forwarded. An
//! injected error is in the service's own shape (JSON for DynamoDB and SQS, XML for SNS).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::StatusCode;

use crate::BoxError;
use crate::http::{self, Received, Server};

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

/// A fault for the next `times` requests of `operation` (`UpdateItem`, `SendMessage`,
/// `Publish`, ...) whose body holds every one of `body_contains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub operation: &'static str,
    pub body_contains: Vec<String>,
    pub fault: Fault,
    pub times: usize,
}

impl Rule {
    /// `operation` failing with a 500 `times` times, whatever its body.
    pub fn fail(operation: &'static str, times: usize) -> Rule {
        Rule {
            operation,
            body_contains: Vec::new(),
            fault: Fault::ServerError,
            times,
        }
    }

    /// Only for requests whose body also holds `text`.
    pub fn when(mut self, text: impl Into<String>) -> Rule {
        self.body_contains.push(text.into());
        self
    }

    fn matches(&self, request: &Received) -> bool {
        let body = String::from_utf8_lossy(&request.body);
        operation_of(request).as_deref() == Some(self.operation)
            && self
                .body_contains
                .iter()
                .all(|text| body.contains(text.as_str()))
    }
}

/// The AWS operation a request calls: its `X-Amz-Target`'s last part (JSON protocols),
/// else its form body's `Action` (the query protocol).
fn operation_of(request: &Received) -> Option<String> {
    if let Some(target) = request.headers.get("x-amz-target") {
        let target = target.to_str().ok()?;
        return Some(target.rsplit('.').next()?.to_string());
    }
    String::from_utf8_lossy(&request.body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_string)
}

pub struct FaultInjector {
    pub url: String,
    script: Arc<Mutex<VecDeque<Fault>>>,
    rules: Arc<Mutex<Vec<Rule>>>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    _server: Server,
}

impl FaultInjector {
    /// Injects faults in front of `target` (`http://host:port`).
    pub async fn start(target: &str) -> Result<FaultInjector, BoxError> {
        let script: Arc<Mutex<VecDeque<Fault>>> = Arc::default();
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
        let (next, matching, log, target) = (
            script.clone(),
            rules.clone(),
            attempts.clone(),
            target.to_string(),
        );
        let started = Instant::now();
        let server = http::serve(move |request| {
            let ruled = {
                let mut rules = matching.lock().expect("not poisoned");
                let found = rules
                    .iter_mut()
                    .find(|r| r.times > 0 && r.matches(&request));
                found.map(|rule| {
                    rule.times -= 1;
                    rule.fault
                })
            };
            let fault = ruled.or_else(|| next.lock().expect("not poisoned").pop_front());
            let json = request.headers.contains_key("x-amz-target");
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
                        Some(error(
                            json,
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "InternalError",
                        ))
                    }
                    Some(Fault::Throttle) => {
                        record("throttled".into());
                        Some(error(json, StatusCode::BAD_REQUEST, "Throttling"))
                    }
                    Some(Fault::ServerError) => {
                        record("500".into());
                        Some(error(
                            json,
                            StatusCode::INTERNAL_SERVER_ERROR,
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
            rules,
            attempts,
            _server: server,
        })
    }

    /// Adds `rule`, checked before the script (and the rules added before it) for as many
    /// requests as it has `times`.
    pub fn fail(&self, rule: Rule) {
        self.rules.lock().expect("not poisoned").insert(0, rule);
    }

    /// Drops every rule.
    pub fn heal(&self) {
        self.rules.lock().expect("not poisoned").clear();
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

/// An error as the service answers it: in the JSON protocols' shape (DynamoDB, SQS), or in
/// SNS's query-protocol XML.
fn error(
    json: bool,
    status: StatusCode,
    code: &str,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let (body, content_type) = if json {
        (
            format!("{{\"__type\":\"{code}\",\"message\":\"injected {code}\"}}"),
            "application/x-amz-json-1.0",
        )
    } else {
        (
            format!(
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected {code}</Message></Error><RequestId>fault-injector</RequestId></ErrorResponse>"
            ),
            "text/xml",
        )
    };
    let mut response = http::response(status, body);
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static(content_type),
    );
    if json {
        response.headers_mut().insert(
            "x-amzn-errortype",
            hyper::header::HeaderValue::from_str(code).expect("a plain code"),
        );
    }
    response
}
