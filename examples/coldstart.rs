//! `make bench` (second part): cold starts measured the way Lambda runs them, the relay's
//! release bootstrap beside a minimal lambda_http hello-world (and, when given, the
//! bootstrap of an earlier release), each under the project's Runtime API emulator.
//!
//! Every endpoint the relay calls is HTTPS with an RSA-2048 chain (`local_stack::tls`):
//! SNS is a stub that answers at once, DynamoDB and SQS are moto. Init runs unthrottled,
//! as Lambda's does; once the function first asks for an invocation it is moved into a
//! cgroup whose CFS quota is a 128 MB function's share of one core (1.45 ms per 20 ms),
//! and the first callback is measured there: its wall time, and its CPU time as the
//! cgroup counts it. Then warm invocations, peak RSS, and the requests each warm callback
//! makes to each endpoint.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use live_callback_relay::inbound::signature::sign;
use local_stack::aws::{self, create_hold_queue, create_state_table};
use local_stack::cgroup::{self, CpuShare};
use local_stack::faults::FaultInjector;
use local_stack::function_host::FunctionHost;
use local_stack::moto::{self, Moto};
use local_stack::sns_stub::SnsStub;
use local_stack::tls::{TlsFront, root_certificate};
use local_stack::{BoxError, http};
use serde_json::{Value, json};

const COLD_STARTS: usize = 7;
const WARM_INVOCATIONS: usize = 500;
const MEMORY_MB: u64 = 128;
const KEY: &str = "bench-key";
const START: &str = include_str!("../tests/fixtures/seed_push_start.json");
const INTERRUPT: &str = include_str!("../tests/fixtures/seed_push_interrupt.json");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A signed callback of `sample` for stream `stream` and push `sequence`.
fn callback(sample: &str, stream: &str, sequence: &str, changes: Value) -> String {
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

/// A function to measure: its name, its bootstrap and its environment.
type Variant<'a> = (&'a str, PathBuf, Vec<(&'a str, String)>);

#[derive(Default)]
struct Figures {
    init_wall: Vec<Duration>,
    init_cpu: Vec<Duration>,
    first_wall: Vec<Duration>,
    first_cpu: Vec<Duration>,
    first_throttled: Vec<u64>,
    warm: Vec<Duration>,
    peak_rss_kib: u64,
}

fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

async fn post(function: &FunctionHost, body: &str) -> Result<Duration, BoxError> {
    let started = Instant::now();
    let (status, reply) = http::post_json(&function.url, body).await?;
    if status != 200 {
        return Err(format!("answered {status}: {reply}").into());
    }
    Ok(started.elapsed())
}

/// Cold starts of `bootstrap`, each first callback under the CPU share, then (from the
/// first) warm invocations.
async fn measure(
    name: &str,
    bootstrap: &Path,
    env: &[(&str, String)],
    share: &CpuShare,
) -> Result<Figures, BoxError> {
    let mut figures = Figures::default();
    for round in 0..COLD_STARTS {
        let function = FunctionHost::start(bootstrap, env).await?;
        let pid = function.pid().ok_or("no pid")?;
        figures
            .init_wall
            .push(function.init_duration().ok_or("no init")?);
        figures
            .init_cpu
            .push(Duration::from_nanos(cgroup::process_cpu_ns(pid)));
        share.enter(pid)?;
        let (before, throttled) = (share.usage_ns()?, share.throttled()?);
        let stream = format!("{name}-{round}");
        figures
            .first_wall
            .push(post(&function, &callback(START, &stream, "s1", json!({}))).await?);
        tokio::time::sleep(Duration::from_millis(50)).await;
        figures
            .first_cpu
            .push(Duration::from_nanos(share.usage_ns()? - before));
        figures.first_throttled.push(share.throttled()? - throttled);
        if round == 0 {
            for n in 0..WARM_INVOCATIONS {
                let sequence = format!("w{n}");
                figures
                    .warm
                    .push(post(&function, &callback(START, &stream, &sequence, json!({}))).await?);
            }
            figures.warm.sort_unstable();
        }
        figures.peak_rss_kib = figures.peak_rss_kib.max(peak_rss_kib(pid));
    }
    Ok(figures)
}

/// The requests a warm start and a warm abnormal stop each make, per endpoint.
async fn round_trips(
    bootstrap: &Path,
    env: &[(&str, String)],
    counters: &[(&str, &dyn Fn() -> usize)],
) -> Result<Vec<(String, Vec<usize>)>, BoxError> {
    let function = FunctionHost::start(bootstrap, env).await?;
    post(&function, &callback(START, "trips", "a", json!({}))).await?;
    let mut rows = Vec::new();
    for (what, body) in [
        (
            "abnormal stop",
            callback(INTERRUPT, "trips", "a", json!({"errcode": 13})),
        ),
        ("start", callback(START, "trips", "b", json!({}))),
    ] {
        let before: Vec<usize> = counters.iter().map(|(_, count)| count()).collect();
        post(&function, &body).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after: Vec<usize> = counters.iter().map(|(_, count)| count()).collect();
        rows.push((
            what.to_string(),
            after.iter().zip(&before).map(|(a, b)| a - b).collect(),
        ));
    }
    Ok(rows)
}

fn path_from_env(variable: &str) -> Option<PathBuf> {
    std::env::var_os(variable).map(PathBuf::from)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let relay = path_from_env("RELAY_BOOTSTRAP").ok_or("RELAY_BOOTSTRAP is not set")?;
    let hello = path_from_env("HELLO_BOOTSTRAP").ok_or("HELLO_BOOTSTRAP is not set")?;
    // an earlier release (stateless only), and this release built without a change, to
    // measure the change in the same run
    let baseline = path_from_env("BASELINE_BOOTSTRAP");
    let before = path_from_env("BEFORE_BOOTSTRAP");
    let share = CpuShare::create(
        &format!("relay-bench-{}", std::process::id()),
        cgroup::quota_us(MEMORY_MB),
    )?;

    let sns = SnsStub::start().await?;
    let sns_front = TlsFront::start(&sns.addr).await?;
    let moto = Moto::start(&moto::server_path()).await?;
    // one counting forwarder, behind its own HTTPS front, per service moto plays
    let dynamodb_counter = FaultInjector::start(&moto.endpoint).await?;
    let dynamodb_front =
        TlsFront::start(dynamodb_counter.url.trim_start_matches("http://")).await?;
    let sqs_counter = FaultInjector::start(&moto.endpoint).await?;
    let sqs_front = TlsFront::start(sqs_counter.url.trim_start_matches("http://")).await?;
    create_state_table(&moto.endpoint, "bench-state").await?;
    let (hold_queue, _) = create_hold_queue(&moto.endpoint, 30, 5).await?;
    let hold_queue = hold_queue.replace(&moto.endpoint, &sqs_front.url);

    let common = vec![
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
    let mut windowed = common.clone();
    windowed.extend([
        ("RECONNECT_WINDOW_SECS", "60".to_string()),
        ("STATE_TABLE", "bench-state".to_string()),
        ("HOLD_QUEUE_URL", hold_queue.clone()),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_front.url.clone()),
        ("AWS_ENDPOINT_URL_SQS", sqs_front.url.clone()),
    ]);

    let mut variants: Vec<Variant> = vec![("hello-world", hello.clone(), common.clone())];
    if let Some(baseline) = &baseline {
        variants.push(("relay, earlier release", baseline.clone(), common.clone()));
    }
    if let Some(before) = &before {
        variants.push(("relay before, window off", before.clone(), common.clone()));
        variants.push(("relay before, window on", before.clone(), windowed.clone()));
    }
    variants.push(("relay, window off", relay.clone(), common.clone()));
    variants.push(("relay, window on", relay.clone(), windowed.clone()));

    println!(
        "CPU share after init: {} us per {} us ({} MB); {COLD_STARTS} cold starts each (medians); the first callback is a start\n",
        cgroup::quota_us(MEMORY_MB),
        cgroup::PERIOD_US,
        MEMORY_MB
    );
    println!(
        "| function | init wall | init CPU | first callback wall | first callback CPU | throttled periods | warm p50 / p99 | peak RSS |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, bootstrap, env) in &variants {
        let f = measure(name, bootstrap, env, &share).await?;
        let p = |q: f64| f.warm[((f.warm.len() as f64 * q) as usize).min(f.warm.len() - 1)];
        let mut throttled = f.first_throttled.clone();
        throttled.sort_unstable();
        println!(
            "| {name} | {} ms | {} ms | {} ms | {} ms | {} | {} / {} ms | {:.1} MiB |",
            ms(median(&f.init_wall)),
            ms(median(&f.init_cpu)),
            ms(median(&f.first_wall)),
            ms(median(&f.first_cpu)),
            throttled[throttled.len() / 2],
            ms(p(0.5)),
            ms(p(0.99)),
            f.peak_rss_kib as f64 / 1024.0
        );
        println!(
            "|  (each run) | {} | {} | {} | {} | | | |",
            f.init_wall
                .iter()
                .map(|d| ms(*d))
                .collect::<Vec<_>>()
                .join(" "),
            f.init_cpu
                .iter()
                .map(|d| ms(*d))
                .collect::<Vec<_>>()
                .join(" "),
            f.first_wall
                .iter()
                .map(|d| ms(*d))
                .collect::<Vec<_>>()
                .join(" "),
            f.first_cpu
                .iter()
                .map(|d| ms(*d))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }

    println!("\nRequests of one warm callback, per endpoint:\n");
    println!("| function | callback | SNS | DynamoDB | SQS |");
    println!("| --- | --- | ---: | ---: | ---: |");
    let sns_requests = || sns.requests();
    let dynamodb_requests = || dynamodb_counter.attempts().len();
    let sqs_requests = || sqs_counter.attempts().len();
    let counters: [(&str, &dyn Fn() -> usize); 3] = [
        ("SNS", &sns_requests),
        ("DynamoDB", &dynamodb_requests),
        ("SQS", &sqs_requests),
    ];
    let mut trips: Vec<Variant> = Vec::new();
    if let Some(baseline) = &baseline {
        trips.push(("relay, earlier release", baseline.clone(), common.clone()));
    }
    trips.push(("relay, window off", relay.clone(), common.clone()));
    trips.push(("relay, window on", relay.clone(), windowed.clone()));
    for (name, bootstrap, env) in trips {
        for (what, counts) in round_trips(&bootstrap, &env, &counters).await? {
            println!(
                "| {name} | {what} | {} | {} | {} |",
                counts[0], counts[1], counts[2]
            );
        }
    }
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "\nbootstrap sizes: relay {} B, hello-world {} B{}",
        size(&relay),
        size(&hello),
        baseline
            .map(|b| format!(", earlier release {} B", size(&b)))
            .unwrap_or_default()
    );
    Ok(())
}
