//! An HTTP(S)-subscriber stand-in: records every notification SNS posts to it.

use std::sync::{Arc, Mutex};

use hyper::StatusCode;
use serde_json::Value;

use crate::BoxError;
use crate::http::{self, Server};

pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Value>>>,
    _server: Server,
}

impl Receiver {
    pub async fn start() -> Result<Receiver, BoxError> {
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = received.clone();
        let server = http::serve(move |request| {
            let sink = sink.clone();
            async move {
                Some(match serde_json::from_slice(&request.body) {
                    Ok(value) => {
                        sink.lock().expect("not poisoned").push(value);
                        http::response(StatusCode::OK, "")
                    }
                    Err(_) => http::response(StatusCode::BAD_REQUEST, "not JSON"),
                })
            }
        })
        .await?;
        Ok(Receiver {
            url: format!("http://{}/sns", server.addr),
            received,
            _server: server,
        })
    }

    /// The SNS envelopes received so far (`Type`, `Message`, `Subject`, ...).
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().expect("not poisoned").clone()
    }
}
