//! Runs a Lambda bootstrap as Lambda does: a Runtime API emulator on loopback that the
//! bootstrap polls for invocations, and a Function URL front that turns plain HTTP
//! requests into Function URL events (payload 2.0) and the function's answers back.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

use crate::http::{self, Received, Server};
use crate::{BoxError, poll_until};

const RUNTIME_PREFIX: &str = "/2018-06-01/runtime";
/// How long the front waits for the function, like a function timeout.
pub const INVOCATION_TIMEOUT: Duration = Duration::from_secs(15);
pub const FUNCTION_NAME: &str = "live-callback-relay";
/// Stands for the invocation's request id in an event until it is submitted.
const REQUEST_ID_PLACEHOLDER: &str = "local-request-id";

enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

struct Invocation {
    id: String,
    event: String,
}

struct State {
    invocations: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    submit: mpsc::UnboundedSender<Invocation>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    spawned_at: Instant,
    first_poll: OnceLock<Instant>,
    init_error: OnceLock<String>,
    next_id: AtomicU64,
}

pub struct FunctionHost {
    /// The function URL: any path under it reaches the function.
    pub url: String,
    state: Arc<State>,
    logs: Arc<Mutex<Vec<String>>>,
    child: Child,
    _runtime_api: Server,
    _front: Server,
}

impl FunctionHost {
    /// Starts `bootstrap` with Lambda's environment plus `env`, and waits until it has
    /// initialized and asks for its first invocation.
    pub async fn start(bootstrap: &Path, env: &[(&str, String)]) -> Result<FunctionHost, BoxError> {
        let (submit, invocations) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            invocations: tokio::sync::Mutex::new(invocations),
            submit,
            pending: Mutex::default(),
            spawned_at: Instant::now(),
            first_poll: OnceLock::new(),
            init_error: OnceLock::new(),
            next_id: AtomicU64::new(1),
        });
        let runtime_state = state.clone();
        let runtime_api = http::serve(move |request| {
            let state = runtime_state.clone();
            async move { Some(runtime_api(state, request).await) }
        })
        .await?;
        let front_state = state.clone();
        let front = http::serve(move |request| {
            let state = front_state.clone();
            async move { Some(function_url(state, request).await) }
        })
        .await?;

        let mut command = Command::new(bootstrap);
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{FUNCTION_NAME}"),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("_HANDLER", "bootstrap")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let logs: Arc<Mutex<Vec<String>>> = Arc::default();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = logs.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    logs.lock().expect("not poisoned").push(line);
                }
            });
        }

        let mut host = FunctionHost {
            url: format!("http://{}/", front.addr),
            state,
            logs,
            child,
            _runtime_api: runtime_api,
            _front: front,
        };
        let ready = poll_until(Duration::from_secs(30), "the function's first poll", || {
            let polled = host.state.first_poll.get().is_some();
            let exited = host.child.try_wait().ok().flatten();
            async move { (polled || exited.is_some()).then_some(exited) }
        })
        .await?;
        if let Some(status) = ready {
            return Err(format!(
                "the function exited during init ({status}); its output:\n{}",
                host.logs().join("\n")
            )
            .into());
        }
        Ok(host)
    }

    /// Invokes the function with `event` (any event source's JSON), as Lambda's event
    /// source mappings do, and returns its answer.
    pub async fn invoke(&self, event: &Value) -> Result<Value, BoxError> {
        match submit(&self.state, event.to_string()).await {
            Ok(Outcome::Response(body)) => Ok(serde_json::from_slice(&body)?),
            Ok(Outcome::Error(body)) => {
                Err(format!("the invocation failed: {}", String::from_utf8_lossy(&body)).into())
            }
            Err(problem) => Err(problem.into()),
        }
    }

    /// From process start to the first request for an invocation: Lambda's init duration.
    pub fn init_duration(&self) -> Option<Duration> {
        self.state
            .first_poll
            .get()
            .map(|polled| polled.duration_since(self.state.spawned_at))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Everything the function wrote to stdout and stderr so far, a line each.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("not poisoned").clone()
    }

    /// The function's output once at least `count` lines have been read from it.
    pub async fn logs_with_lines(&self, count: usize) -> Result<Vec<String>, BoxError> {
        poll_until(Duration::from_secs(5), "the function's log lines", || {
            let logs = self.logs();
            async move { (logs.len() >= count).then_some(logs) }
        })
        .await
    }
}

async fn runtime_api(state: Arc<State>, request: Received) -> Response<Full<Bytes>> {
    let path = request.uri.path().to_string();
    let Some(rest) = path.strip_prefix(RUNTIME_PREFIX) else {
        return http::response(StatusCode::NOT_FOUND, "");
    };
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), parts.as_slice()) {
        ("GET", ["invocation", "next"]) => {
            let _ = state.first_poll.set(Instant::now());
            let Some(invocation) = state.invocations.lock().await.recv().await else {
                return http::response(StatusCode::GONE, "");
            };
            let deadline_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + INVOCATION_TIMEOUT.as_millis();
            Response::builder()
                .status(StatusCode::OK)
                .header("Lambda-Runtime-Aws-Request-Id", &invocation.id)
                .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
                .header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    format!("arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"),
                )
                .header(
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0",
                )
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(invocation.event)))
                .unwrap_or_else(|_| http::response(StatusCode::INTERNAL_SERVER_ERROR, ""))
        }
        ("POST", ["invocation", id, kind @ ("response" | "error")]) => {
            let outcome = if *kind == "response" {
                Outcome::Response(request.body)
            } else {
                Outcome::Error(request.body)
            };
            if let Some(waiter) = state.pending.lock().expect("not poisoned").remove(*id) {
                let _ = waiter.send(outcome);
            }
            http::response(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        ("POST", ["init", "error"]) => {
            let _ = state
                .init_error
                .set(String::from_utf8_lossy(&request.body).into_owned());
            http::response(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => http::response(StatusCode::NOT_FOUND, ""),
    }
}

/// Hands `event` to the function's next poll and waits for its outcome, as long as a
/// function timeout.
async fn submit(state: &State, event: String) -> Result<Outcome, &'static str> {
    if state.init_error.get().is_some() {
        return Err("function init failed");
    }
    let id = format!("local-{:08}", state.next_id.fetch_add(1, Ordering::SeqCst));
    let (tx, rx) = oneshot::channel();
    state
        .pending
        .lock()
        .expect("not poisoned")
        .insert(id.clone(), tx);
    let event = event.replace(REQUEST_ID_PLACEHOLDER, &id);
    if state
        .submit
        .send(Invocation {
            id: id.clone(),
            event,
        })
        .is_err()
    {
        return Err("function gone");
    }
    match tokio::time::timeout(INVOCATION_TIMEOUT, rx).await {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(_)) => Err("function gone"),
        Err(_) => {
            state.pending.lock().expect("not poisoned").remove(&id);
            Err("function timed out")
        }
    }
}

async fn function_url(state: Arc<State>, request: Received) -> Response<Full<Bytes>> {
    let event = function_url_event(REQUEST_ID_PLACEHOLDER, &request).to_string();
    match submit(&state, event).await {
        Ok(Outcome::Response(body)) => into_http(&body),
        Ok(Outcome::Error(body)) => http::response(StatusCode::BAD_GATEWAY, body),
        Err("function timed out") => {
            http::response(StatusCode::GATEWAY_TIMEOUT, "function timed out")
        }
        Err(problem) => http::response(StatusCode::BAD_GATEWAY, problem),
    }
}

/// The event Lambda sends for a Function URL request (payload format 2.0).
fn function_url_event(id: &str, request: &Received) -> Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &request.headers {
        headers.insert(
            name.as_str().to_string(),
            json!(String::from_utf8_lossy(value.as_bytes())),
        );
    }
    let is_text = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/") || ct.contains("json"));
    let (body, base64) = match std::str::from_utf8(&request.body) {
        Ok(text) if is_text => (json!(text), false),
        _ => (json!(BASE64.encode(&request.body)), true),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let path = request.uri.path();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": request.uri.query().unwrap_or_default(),
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": "local.lambda-url.us-east-1.on.aws",
            "domainPrefix": "local",
            "http": {
                "method": request.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": request.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default()
            },
            "requestId": id,
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now.as_millis() as u64
        },
        "body": body,
        "isBase64Encoded": base64
    })
}

/// A Function URL response (`statusCode`, `headers`, `body`, `isBase64Encoded`) as HTTP.
fn into_http(payload: &[u8]) -> Response<Full<Bytes>> {
    let Ok(value) = serde_json::from_slice::<Value>(payload) else {
        return http::response(StatusCode::BAD_GATEWAY, "function returned no JSON");
    };
    let status = value["statusCode"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    let text = value["body"].as_str().unwrap_or_default();
    let body = if value["isBase64Encoded"].as_bool().unwrap_or(false) {
        BASE64.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut response = http::response(status, body);
    if let Some(headers) = value["headers"].as_object() {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                hyper::header::HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(hyper::header::HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}
