//! `make bench` (second part): cold start and warm invocations measured the way Lambda
//! measures them, the relay's release bootstrap side by side with a minimal lambda_http
//! hello-world, both under the project's Lambda Runtime API emulator in the same run.
//! SNS is a local stub that answers a valid Publish response at once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use live_callback_relay::inbound::signature::sign;
use local_stack::function_host::FunctionHost;
use local_stack::sns_stub::SnsStub;
use local_stack::{BoxError, http};
use serde_json::{Value, json};

const COLD_STARTS: usize = 20;
const WARM_INVOCATIONS: usize = 1_000;
const KEY: &str = "bench-key";
const SAMPLE: &str = include_str!("../tests/fixtures/seed_push_interrupt.json");

struct Figures {
    init: Vec<Duration>,
    first: Vec<Duration>,
    warm: Vec<Duration>,
    peak_rss_kib: Vec<u64>,
}

/// A line of the report: its label, how to read it off the figures, and its unit.
type Row = (&'static str, fn(&mut Figures) -> f64, &'static str);

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort_unstable();
    values[values.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
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

fn callback() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut body: Value = serde_json::from_str(SAMPLE).expect("sample");
    body["errcode"] = json!(12);
    body["event_time"] = json!(now);
    body["t"] = json!(now + 600);
    body["sign"] = json!(sign(KEY, now + 600));
    body.to_string()
}

async fn invoke(function: &FunctionHost, body: &str) -> Result<Duration, BoxError> {
    let started = Instant::now();
    let (status, reply) = http::post_json(&function.url, body).await?;
    if status != 200 {
        return Err(format!("answered {status}: {reply}").into());
    }
    Ok(started.elapsed())
}

async fn measure(
    bootstrap: &Path,
    env: &[(&str, String)],
    body: &str,
) -> Result<Figures, BoxError> {
    let mut figures = Figures {
        init: vec![],
        first: vec![],
        warm: vec![],
        peak_rss_kib: vec![],
    };
    for round in 0..COLD_STARTS {
        let function = FunctionHost::start(bootstrap, env).await?;
        figures
            .init
            .push(function.init_duration().ok_or("no init duration")?);
        figures.first.push(invoke(&function, body).await?);
        if round == 0 {
            for _ in 0..WARM_INVOCATIONS {
                figures.warm.push(invoke(&function, body).await?);
            }
        }
        figures
            .peak_rss_kib
            .push(function.pid().map_or(0, peak_rss_kib));
    }
    figures.warm.sort_unstable();
    Ok(figures)
}

fn path_from_env(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let relay = path_from_env(
        "RELAY_BOOTSTRAP",
        "target/lambda/live-callback-relay/bootstrap",
    );
    let hello = path_from_env(
        "HELLO_BOOTSTRAP",
        "target/lambda/bench-hello-world/bootstrap",
    );
    let stub = SnsStub::start().await?;
    let env = [
        (
            "SNS_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:bench".to_string(),
        ),
        ("CALLBACK_KEYS", KEY.to_string()),
        ("AWS_ENDPOINT_URL_SNS", stub.url.clone()),
        // as in production, where no endpoint is overridden
        ("TRUST_ROOTS", "amazon".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "bench".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
    ];
    let body = callback();
    let mut hello_figures = measure(&hello, &env, &body).await?;
    let mut relay_figures = measure(&relay, &env, &body).await?;
    let published = stub.requests();

    let rows: [Row; 5] = [
        (
            "init duration (median of 20 cold starts)",
            |f| ms(median(&mut f.init)),
            "ms",
        ),
        (
            "first invocation (median of 20)",
            |f| ms(median(&mut f.first)),
            "ms",
        ),
        (
            "warm invocation p50 (1,000)",
            |f| ms(percentile(&f.warm, 0.5)),
            "ms",
        ),
        (
            "warm invocation p99 (1,000)",
            |f| ms(percentile(&f.warm, 0.99)),
            "ms",
        ),
        (
            "peak RSS (highest of 20)",
            |f| *f.peak_rss_kib.iter().max().unwrap_or(&0) as f64 / 1024.0,
            "MiB",
        ),
    ];
    println!(
        "| measure | relay | hello-world | relay / hello-world |\n| --- | ---: | ---: | ---: |"
    );
    for (name, value, unit) in rows {
        let (relay, hello) = (value(&mut relay_figures), value(&mut hello_figures));
        println!(
            "| {name} | {relay:.2} {unit} | {hello:.2} {unit} | {:.2} |",
            relay / hello
        );
    }
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let (relay_size, hello_size) = (size(&relay), size(&hello));
    println!(
        "| bootstrap size | {:.2} MiB | {:.2} MiB | {:.2} |",
        relay_size as f64 / 1048576.0,
        hello_size as f64 / 1048576.0,
        relay_size as f64 / hello_size as f64
    );
    println!("(the relay published {published} notifications to the stub)");
    Ok(())
}
