//! What `make bench`'s runners share: every endpoint the relay calls, over HTTPS with an
//! RSA-2048 chain (`crate::tls`), each counting its requests and connections (SNS is a
//! stub that answers at once, DynamoDB and SQS are moto), the functions' environments,
//! and signed callbacks.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::aws::{self, create_hold_queue, create_state_table};
use crate::cgroup::CpuShare;
use crate::faults::FaultInjector;
use crate::function_host::FunctionHost;
use crate::moto::{self, Moto};
use crate::sns_stub::SnsStub;
use crate::tls::{TlsFront, root_certificate};
use crate::{BoxError, http};

/// The key every benchmark callback is signed with.
pub const KEY: &str = "bench-key";
pub const START: &str = include_str!("../../tests/fixtures/seed_push_start.json");
pub const INTERRUPT: &str = include_str!("../../tests/fixtures/seed_push_interrupt.json");

/// A function to measure: its name, its bootstrap and its environment.
pub type Variant = (String, PathBuf, Vec<(&'static str, String)>);

pub struct Endpoints {
    pub sns: SnsStub,
    pub sns_front: TlsFront,
    pub dynamodb: FaultInjector,
    pub dynamodb_front: TlsFront,
    pub sqs: FaultInjector,
    pub sqs_front: TlsFront,
    /// The relay's environment without the window, and with a 60 s one.
    pub stateless: Vec<(&'static str, String)>,
    pub windowed: Vec<(&'static str, String)>,
    _moto: (Moto, http::Server),
}

impl Endpoints {
    pub async fn start() -> Result<Endpoints, BoxError> {
        let sns = SnsStub::start().await?;
        let sns_front = TlsFront::start(&sns.addr).await?;
        let moto = Moto::start(&moto::server_path()).await?;
        let kept_open = http::keep_alive_front(&moto.endpoint).await?;
        // a counting forwarder, behind its own HTTPS front, per service moto plays
        let dynamodb = FaultInjector::start(&format!("http://{}", kept_open.addr)).await?;
        let dynamodb_front = TlsFront::start(dynamodb.url.trim_start_matches("http://")).await?;
        let sqs = FaultInjector::start(&format!("http://{}", kept_open.addr)).await?;
        let sqs_front = TlsFront::start(sqs.url.trim_start_matches("http://")).await?;
        create_state_table(&moto.endpoint, "bench-state").await?;
        let (hold_queue, _) = create_hold_queue(&moto.endpoint, 30, 5).await?;
        let hold_queue = hold_queue.replace(&moto.endpoint, &sqs_front.url);
        let stateless = vec![
            (
                "SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:bench".to_string(),
            ),
            ("CALLBACK_KEYS", KEY.to_string()),
            ("AWS_ENDPOINT_URL_SNS", sns_front.url.clone()),
            ("TRUST_ROOTS", "system".to_string()),
            ("SSL_CERT_FILE", root_certificate().display().to_string()),
            ("AWS_REGION", aws::REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "bench".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
        ];
        let mut windowed = stateless.clone();
        windowed.extend([
            ("RECONNECT_WINDOW_SECS", "60".to_string()),
            ("STATE_TABLE", "bench-state".to_string()),
            ("HOLD_QUEUE_URL", hold_queue),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_front.url.clone()),
            ("AWS_ENDPOINT_URL_SQS", sqs_front.url.clone()),
        ]);
        Ok(Endpoints {
            sns,
            sns_front,
            dynamodb,
            dynamodb_front,
            sqs,
            sqs_front,
            stateless,
            windowed,
            _moto: (moto, kept_open),
        })
    }

    /// Connections accepted so far, by every endpoint together.
    pub fn connections(&self) -> usize {
        [&self.sns_front, &self.dynamodb_front, &self.sqs_front]
            .iter()
            .map(|front| front.accepted())
            .sum()
    }

    /// Requests so far, per endpoint: SNS, DynamoDB, SQS.
    pub fn requests(&self) -> [usize; 3] {
        [
            self.sns.requests(),
            self.dynamodb.attempts().len(),
            self.sqs.attempts().len(),
        ]
    }

    /// The relay, the hello-world and the earlier bootstraps `make bench` names in the
    /// environment (`RELAY_BOOTSTRAP`, `HELLO_BOOTSTRAP`; `BASELINE_BOOTSTRAP`, an earlier
    /// release, stateless only; `BEFORE_BOOTSTRAP`, this release before a change), each
    /// with the environment it runs with.
    pub fn variants(&self) -> Result<Vec<Variant>, BoxError> {
        let path = |variable: &str| std::env::var_os(variable).map(PathBuf::from);
        let relay = path("RELAY_BOOTSTRAP").ok_or("RELAY_BOOTSTRAP is not set")?;
        let hello = path("HELLO_BOOTSTRAP").ok_or("HELLO_BOOTSTRAP is not set")?;
        let mut variants = vec![("hello-world".to_string(), hello, self.stateless.clone())];
        if let Some(baseline) = path("BASELINE_BOOTSTRAP") {
            variants.push((
                "relay, earlier release".into(),
                baseline,
                self.stateless.clone(),
            ));
        }
        if let Some(before) = path("BEFORE_BOOTSTRAP") {
            variants.push((
                "relay before, window off".into(),
                before.clone(),
                self.stateless.clone(),
            ));
            variants.push((
                "relay before, window on".into(),
                before,
                self.windowed.clone(),
            ));
        }
        variants.push((
            "relay, window off".into(),
            relay.clone(),
            self.stateless.clone(),
        ));
        variants.push(("relay, window on".into(), relay, self.windowed.clone()));
        Ok(variants)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A callback of `sample` for stream `stream` and push `sequence`, signed with `sign`
/// (Tencent's `sign` of [`KEY`] and a `t`), as Tencent sends it now.
pub fn callback(
    sign: fn(&str, u64) -> String,
    sample: &str,
    stream: &str,
    sequence: &str,
    changes: Value,
) -> String {
    let now = now();
    let mut body: Value = serde_json::from_str(sample).expect("sample");
    body["stream_id"] = json!(stream);
    body["sequence"] = json!(sequence);
    body["event_time"] = json!(now);
    body["t"] = json!(now + 600);
    body["sign"] = json!(sign(KEY, now + 600));
    for (k, v) in changes.as_object().expect("object") {
        body[k] = v.clone();
    }
    body.to_string()
}

/// Posts `body` to the function's URL and returns how long the answer took; anything
/// but a 200 is an error.
pub async fn post(function: &FunctionHost, body: &str) -> Result<Duration, BoxError> {
    let started = Instant::now();
    let (status, reply) = http::post_json(&function.url, body).await?;
    if status != 200 {
        return Err(format!("answered {status}: {reply}").into());
    }
    Ok(started.elapsed())
}

/// The median of `values`.
pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// What `share` counted while `work` ran and for 50 ms after (the function writes its log
/// lines after answering): `work`'s output, the CPU time, and the periods it was throttled
/// in.
pub async fn counted<T>(
    share: &CpuShare,
    work: impl Future<Output = Result<T, BoxError>>,
) -> Result<(T, Duration, u64), BoxError> {
    let (cpu, throttled) = (share.usage_ns()?, share.throttled()?);
    let output = work.await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok((
        output,
        Duration::from_nanos(share.usage_ns()? - cpu),
        share.throttled()? - throttled,
    ))
}
