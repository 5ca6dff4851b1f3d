//! For benchmarks only: an endpoint that answers every request at once with a valid SNS
//! response (`Publish`, and `GetTopicAttributes`, which the relay's warm-up calls), so that
//! timings measure the function and not a server behind it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::StatusCode;

use crate::BoxError;
use crate::http::{self, Server};

const PUBLISH_RESPONSE: &str = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>6f1f3a0e-0000-4000-8000-000000000000</MessageId></PublishResult><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></PublishResponse>";
const TOPIC_ATTRIBUTES_RESPONSE: &str = "<GetTopicAttributesResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><GetTopicAttributesResult><Attributes><entry><key>DisplayName</key><value>stub</value></entry></Attributes></GetTopicAttributesResult><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></GetTopicAttributesResponse>";

pub struct SnsStub {
    pub url: String,
    /// `host:port`, for a front in front of it.
    pub addr: String,
    requests: Arc<AtomicUsize>,
    publishes: Arc<AtomicUsize>,
    _server: Server,
}

impl SnsStub {
    pub async fn start() -> Result<SnsStub, BoxError> {
        let requests = Arc::new(AtomicUsize::new(0));
        let publishes = Arc::new(AtomicUsize::new(0));
        let (all, published) = (requests.clone(), publishes.clone());
        let server = http::serve(move |request| {
            all.fetch_add(1, Ordering::SeqCst);
            let publish = !request
                .body
                .windows(25)
                .any(|w| w == b"Action=GetTopicAttributes");
            if publish {
                published.fetch_add(1, Ordering::SeqCst);
            }
            async move {
                let body = if publish {
                    PUBLISH_RESPONSE
                } else {
                    TOPIC_ATTRIBUTES_RESPONSE
                };
                let mut response = http::response(StatusCode::OK, body);
                response.headers_mut().insert(
                    "content-type",
                    hyper::header::HeaderValue::from_static("text/xml"),
                );
                Some(response)
            }
        })
        .await?;
        Ok(SnsStub {
            url: format!("http://{}", server.addr),
            addr: server.addr.to_string(),
            requests,
            publishes,
            _server: server,
        })
    }

    /// Every request so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The `Publish` requests so far.
    pub fn publishes(&self) -> usize {
        self.publishes.load(Ordering::SeqCst)
    }
}
