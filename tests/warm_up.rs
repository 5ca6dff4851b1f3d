//! The cold start opens the connection to SNS (over TLS, as in AWS), so that the first
//! callback does not pay for it; a connection the server closed while the function was
//! frozen costs a reconnect, never a failed callback.

mod common;

use std::time::Duration;

use common::*;
use local_stack::function_host::FunctionHost;
use local_stack::http;
use local_stack::sns_stub::SnsStub;
use local_stack::tls::{TlsFront, root_certificate};
use serde_json::json;

/// The relay's settings with SNS at `sns_url`, over TLS, trusting the fronts' root.
fn behind_tls(sns_url: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "SNS_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:t".to_string(),
        ),
        ("CALLBACK_KEYS", KEY.to_string()),
        ("AWS_ENDPOINT_URL_SNS", sns_url.to_string()),
        ("TRUST_ROOTS", "system".to_string()),
        ("SSL_CERT_FILE", root_certificate().display().to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "a".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "b".to_string()),
    ]
}

async fn relay_behind_tls(front: &TlsFront) -> FunctionHost {
    let env = behind_tls(&front.url);
    FunctionHost::start(env!("CARGO_BIN_EXE_live-callback-relay").as_ref(), &env)
        .await
        .expect("the function starts")
}

fn signal(function: &FunctionHost, signal: &str) {
    local_stack::signal(function.pid().expect("running"), signal).expect("signalled");
}

fn start_callback() -> String {
    signed(START, json!({"event_time": now(), "t": now() + 600}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_opens_the_connection_the_first_callback_uses() {
    let stub = SnsStub::start().await.unwrap();
    let front = TlsFront::start(&stub.addr).await.unwrap();
    let function = relay_behind_tls(&front).await;
    assert_eq!(
        (stub.requests(), stub.publishes()),
        (1, 0),
        "one warm-up call during init: {:?}",
        function.logs()
    );
    assert_eq!(front.open_connections(), 1);

    let (status, _) = http::post_json(&function.url, &start_callback())
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(stub.publishes(), 1);
    assert_eq!(
        front.open_connections(),
        1,
        "the first callback reused the connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_while_the_function_was_frozen_costs_a_reconnect() {
    let stub = SnsStub::start().await.unwrap();
    let front = TlsFront::start(&stub.addr).await.unwrap();
    let function = relay_behind_tls(&front).await;

    // GIVEN the function is frozen between its init and its first invocation, as Lambda
    // freezes it, and SNS closes the idle connection meanwhile
    signal(&function, "STOP");
    assert_eq!(front.close_connections(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&function, "CONT");

    // WHEN the first callback comes THEN it is published, over a new connection
    let (status, reply) = http::post_json(&function.url, &start_callback())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    assert_eq!(stub.publishes(), 1);
    assert_eq!(front.open_connections(), 1);
}

/// The relay with the reconnect window, every endpoint behind its own TLS front: SNS
/// (the stub), and moto's DynamoDB and SQS (through a front that keeps connections open,
/// as AWS does), with the state table and the hold queue.
struct Windowed {
    _moto: (local_stack::moto::Moto, http::Server),
    sns: SnsStub,
    fronts: [TlsFront; 3],
    function: FunctionHost,
}

async fn windowed_relay_behind_tls() -> Windowed {
    let moto = local_stack::moto::Moto::start(&local_stack::moto::server_path())
        .await
        .expect("moto");
    let window = local_stack::aws::Window::create(&moto.endpoint, "relay-state", 30, 5)
        .await
        .unwrap();
    let sns = SnsStub::start().await.unwrap();
    let kept_open = http::keep_alive_front(&moto.endpoint).await.unwrap();
    let moto_addr = kept_open.addr.to_string();
    let fronts = [
        TlsFront::start(&sns.addr).await.unwrap(),
        TlsFront::start(&moto_addr).await.unwrap(),
        TlsFront::start(&moto_addr).await.unwrap(),
    ];
    let mut env = behind_tls(&fronts[0].url);
    env.extend(window.env(60));
    env.extend([
        ("AWS_ENDPOINT_URL_DYNAMODB", fronts[1].url.clone()),
        ("AWS_ENDPOINT_URL_SQS", fronts[2].url.clone()),
    ]);
    let function = FunctionHost::start(env!("CARGO_BIN_EXE_live-callback-relay").as_ref(), &env)
        .await
        .expect("the function starts");
    Windowed {
        _moto: (moto, kept_open),
        sns,
        fronts,
        function,
    }
}

impl Windowed {
    fn open_connections(&self) -> [usize; 3] {
        [0, 1, 2].map(|n| self.fronts[n].open_connections())
    }

    /// A start, then an abnormal stop of the same push: a publish, two appends, a park.
    async fn start_and_drop(&self) {
        let at = now();
        for body in [
            signed(START, json!({"event_time": at, "t": at + 600})),
            signed(
                INTERRUPT,
                json!({"event_time": at + 1, "t": at + 601, "errcode": 13, "push_duration": "1000"}),
            ),
        ] {
            let (status, reply) = http::post_json(&self.function.url, &body).await.unwrap();
            assert_eq!(status, 200, "{reply}: {:?}", self.function.logs());
        }
        assert_eq!(self.sns.publishes(), 1, "the start; the drop is held");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: make e2e"]
async fn with_the_window_init_opens_the_connections_to_sns_dynamodb_and_sqs() {
    let relay = windowed_relay_behind_tls().await;
    assert_eq!(
        relay.open_connections(),
        [1, 1, 1],
        "{:?}",
        relay.function.logs()
    );
    relay.start_and_drop().await;
    assert_eq!(
        relay.open_connections(),
        [1, 1, 1],
        "the first callbacks reused them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: make e2e"]
async fn with_the_window_connections_closed_while_frozen_cost_reconnects() {
    let relay = windowed_relay_behind_tls().await;
    signal(&relay.function, "STOP");
    let closed = [0, 1, 2].map(|n| relay.fronts[n].close_connections());
    assert_eq!(closed, [1, 1, 1]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&relay.function, "CONT");
    relay.start_and_drop().await;
    assert_eq!(relay.open_connections(), [1, 1, 1]);
}
