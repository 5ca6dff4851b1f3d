//! Minimal HTTP/1.1 server and client plumbing on hyper.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::BoxError;

/// A request with its body read in full.
pub struct Received {
    pub method: hyper::Method,
    pub uri: hyper::Uri,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

/// A server on a loopback port; it stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves every request with `handler` on a fresh loopback port. A handler that answers
/// `None` makes the server close the connection without a response.
pub async fn serve<H, Fut>(handler: H) -> Result<Server, BoxError>
where
    H: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Response<Full<Bytes>>>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let handler = Arc::new(handler);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let received = Received {
                            method: parts.method,
                            uri: parts.uri,
                            headers: parts.headers,
                            body,
                        };
                        handler(received).await.ok_or(ConnectionClosed)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Server { addr, task })
}

#[derive(Debug)]
struct ConnectionClosed;

impl std::fmt::Display for ConnectionClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without a response")
    }
}

impl std::error::Error for ConnectionClosed {}

pub fn response(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// Sends `request` on to `base` (scheme and authority) and returns the answer.
pub async fn forward(base: &str, request: Received) -> Result<Response<Full<Bytes>>, BoxError> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let path = request.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = Request::builder()
        .method(request.method)
        .uri(format!("{base}{path}"))
        .body(Full::new(request.body))?;
    *outgoing.headers_mut() = request.headers;
    let answer = client.request(outgoing).await?;
    let (parts, body) = answer.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// Sends one request and returns the status and body.
pub async fn send(
    method: &str,
    url: &str,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Result<(StatusCode, String), BoxError> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", content_type)
        .body(Full::new(body.into()))?;
    let response = client.request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

pub async fn post_json(url: &str, body: &str) -> Result<(StatusCode, String), BoxError> {
    send("POST", url, "application/json", body.to_string()).await
}

/// A front for `backend` (`http://host:port`) that keeps its clients' connections open,
/// as AWS's endpoints do, forwarding each request: moto's server closes every
/// connection after its answer (`Connection: close`).
pub async fn keep_alive_front(backend: &str) -> Result<Server, BoxError> {
    let backend = backend.to_string();
    serve(move |request| {
        let backend = backend.clone();
        async move {
            let mut answer = forward(&backend, request).await.ok()?;
            answer.headers_mut().remove(hyper::header::CONNECTION);
            Some(answer)
        }
    })
    .await
}
