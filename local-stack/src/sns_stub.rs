//! For benchmarks only: an endpoint that answers every request at once with a valid SNS
//! `Publish` response, so that timings measure the function and not a server behind it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::StatusCode;

use crate::BoxError;
use crate::http::{self, Server};

const PUBLISH_RESPONSE: &str = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>6f1f3a0e-0000-4000-8000-000000000000</MessageId></PublishResult><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></PublishResponse>";

pub struct SnsStub {
    pub url: String,
    requests: Arc<AtomicUsize>,
    _server: Server,
}

impl SnsStub {
    pub async fn start() -> Result<SnsStub, BoxError> {
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let server = http::serve(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                let mut response = http::response(StatusCode::OK, PUBLISH_RESPONSE);
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
            requests,
            _server: server,
        })
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}
