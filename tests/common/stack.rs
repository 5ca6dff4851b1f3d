//! The local stack the end-to-end tests run against: moto's SNS, SQS and DynamoDB, the
//! real bootstrap under the Runtime API emulator, and real subscribers.

use std::sync::Arc;
use std::time::Duration;

use local_stack::aws::{self, Topology, Window};
use local_stack::event_source::EventSourceMapping;
use local_stack::function_host::FunctionHost;
use local_stack::moto::{self, Moto};
use local_stack::proxy::Proxy;
use local_stack::receiver::Receiver;
use local_stack::{BoxError, http, poll_until};
use serde_json::{Value, json};

use super::*;

pub struct Stack {
    pub moto: Moto,
    pub sns: Proxy,
    pub receiver: Receiver,
    pub topology: Topology,
}

impl Stack {
    pub async fn start() -> Result<Stack, BoxError> {
        Stack::with_webhook(true).await
    }

    /// The stack without the HTTP subscriber, for runs of many callbacks.
    pub async fn queues_only() -> Result<Stack, BoxError> {
        Stack::with_webhook(false).await
    }

    async fn with_webhook(webhook: bool) -> Result<Stack, BoxError> {
        let moto = Moto::start(&moto::server_path()).await?;
        let sns = Proxy::start(moto.endpoint.trim_start_matches("http://")).await?;
        let receiver = Receiver::start().await?;
        let topology =
            Topology::create(&moto.endpoint, webhook.then_some(receiver.url.as_str())).await?;
        Ok(Stack {
            moto,
            sns,
            receiver,
            topology,
        })
    }

    /// The relay's bootstrap, configured as the deployed function is, plus `extra` variables.
    pub async fn function(&self, extra: &[(&str, String)]) -> Result<FunctionHost, BoxError> {
        let mut env = vec![
            ("SNS_TOPIC_ARN", self.topology.topic_arn.clone()),
            ("CALLBACK_KEYS", format!("{OLD_KEY},{KEY}")),
            ("AWS_ENDPOINT_URL_SNS", self.sns.url()),
            ("AWS_REGION", aws::REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", aws::SECRET_ACCESS_KEY.to_string()),
        ];
        env.extend_from_slice(extra);
        FunctionHost::start(env!("CARGO_BIN_EXE_live-callback-relay").as_ref(), &env).await
    }

    /// What the unfiltered queue got, once it has at least `count` messages.
    pub async fn all_events(&self, count: usize) -> Result<Vec<Value>, BoxError> {
        self.topology
            .drain(&self.topology.all_events_queue, count)
            .await
    }

    /// What each subscriber got: the all-events queue, the filtered queue, the webhook.
    pub async fn deliveries(
        &self,
        all: usize,
        abnormal: usize,
    ) -> Result<[Vec<Value>; 3], BoxError> {
        let all_events = self.all_events(all).await?;
        let abnormal_only = self
            .topology
            .drain(&self.topology.abnormal_queue, abnormal)
            .await?;
        let webhook = poll_until(Duration::from_secs(10), "webhook deliveries", || {
            let received = self.receiver.received();
            async move { (received.len() >= all).then_some(received) }
        })
        .await?;
        Ok([all_events, abnormal_only, webhook])
    }
}

/// Posts `body` as Tencent does: again after an answer other than 200 (a minute later
/// at Tencent, half a second here), up to 12 times.
pub async fn post_as_tencent(
    function: &FunctionHost,
    body: &str,
) -> Result<(u16, String), BoxError> {
    let mut answer = (0, String::new());
    for _ in 0..13 {
        let (status, reply) = http::post_json(&function.url, body).await?;
        answer = (status.as_u16(), reply);
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(answer)
}

/// How many of `function`'s log lines hold `text`.
pub fn lines_with(function: &FunctionHost, text: &str) -> usize {
    function.logs().iter().filter(|l| l.contains(text)).count()
}

/// A seed sample re-signed the way Tencent signs it now: `t` = event time + 600.
pub fn fresh(sample: &str, changes: Value) -> String {
    let mut all = json!({"event_time": now(), "t": now() + 600, "stream_param": push_url_params()});
    all.as_object_mut()
        .unwrap()
        .extend(changes.as_object().unwrap().clone());
    signed(sample, all)
}

/// How long a failed hold stays invisible before it comes back, and how many receives
/// move it to the dead-letter queue: short, so that the tests see both.
pub const HOLD_VISIBILITY_SECS: u32 = 2;
pub const HOLD_MAX_RECEIVES: u32 = 5;

impl Stack {
    /// The reconnect window on the local stack: the state table, the hold queue and its
    /// dead-letter queue.
    pub async fn windowed(&self) -> Result<Window, BoxError> {
        Window::create(
            &self.moto.endpoint,
            "relay-state",
            HOLD_VISIBILITY_SECS,
            HOLD_MAX_RECEIVES,
        )
        .await
    }

    /// What `window`'s hold dead-letter queue holds now (received and deleted).
    pub async fn dead_letters(&self, window: &Window) -> Vec<Value> {
        self.topology
            .drain(&window.dead_letters, 0)
            .await
            .expect("the dead-letter queue")
    }

    /// The function's settings for a reconnect window of `window_secs` over `window`, on
    /// moto.
    pub fn window_env(&self, window: &Window, window_secs: u64) -> Vec<(&'static str, String)> {
        let mut env = window.env(window_secs);
        env.push(("AWS_ENDPOINT_URL_DYNAMODB", self.moto.endpoint.clone()));
        env.push(("AWS_ENDPOINT_URL_SQS", self.moto.endpoint.clone()));
        env
    }

    /// The relay with a reconnect window of `window_secs`, and `extra` variables, its hold
    /// queue served by an event source mapping (dropped with it).
    pub async fn windowed_function(
        &self,
        window: &Window,
        window_secs: u64,
        extra: &[(&str, String)],
    ) -> Result<(Arc<FunctionHost>, EventSourceMapping), BoxError> {
        let mut env: Vec<(&str, String)> = self.window_env(window, window_secs);
        env.extend_from_slice(extra);
        let function = Arc::new(self.function(&env).await?);
        let mapping =
            EventSourceMapping::start(&self.moto.endpoint, &window.hold_queue, function.clone());
        Ok((function, mapping))
    }
}
