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

use std::path::Path;
use std::time::Duration;

use live_callback_relay::inbound::signature::sign;
use local_stack::BoxError;
use local_stack::bench::{self, Endpoints, INTERRUPT, START, median, ms, post};
use local_stack::cgroup::{self, CpuShare};
use local_stack::function_host::FunctionHost;
use serde_json::json;

const COLD_STARTS: usize = 7;
const WARM_INVOCATIONS: usize = 500;
const MEMORY_MB: u64 = 128;

fn callback(sample: &str, stream: &str, sequence: &str, changes: serde_json::Value) -> String {
    bench::callback(sign, sample, stream, sequence, changes)
}

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
        let stream = format!("{name}-{round}");
        let first = callback(START, &stream, "s1", json!({}));
        let (wall, cpu, throttled) = bench::counted(share, post(&function, &first)).await?;
        figures.first_wall.push(wall);
        figures.first_cpu.push(cpu);
        figures.first_throttled.push(throttled);
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
    endpoints: &Endpoints,
) -> Result<Vec<(String, [usize; 3])>, BoxError> {
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
        let before = endpoints.requests();
        post(&function, &body).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = endpoints.requests();
        rows.push((what.to_string(), [0, 1, 2].map(|i| after[i] - before[i])));
    }
    Ok(rows)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let share = CpuShare::create(
        &format!("relay-bench-{}", std::process::id()),
        cgroup::quota_us(MEMORY_MB),
    )?;
    let endpoints = Endpoints::start().await?;
    let variants = endpoints.variants()?;

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
        let each =
            |values: &[Duration]| values.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(" ");
        println!(
            "|  (each run) | {} | {} | {} | {} | | | |",
            each(&f.init_wall),
            each(&f.init_cpu),
            each(&f.first_wall),
            each(&f.first_cpu),
        );
    }

    println!("\nRequests of one warm callback, per endpoint:\n");
    println!("| function | callback | SNS | DynamoDB | SQS |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for (name, bootstrap, env) in variants
        .iter()
        .filter(|(name, ..)| name.starts_with("relay"))
    {
        for (what, counts) in round_trips(bootstrap, env, &endpoints).await? {
            println!(
                "| {name} | {what} | {} | {} | {} |",
                counts[0], counts[1], counts[2]
            );
        }
    }
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let sizes: Vec<String> = variants
        .iter()
        .filter(|(name, ..)| !name.ends_with("window on"))
        .map(|(name, bootstrap, _)| format!("{name} {} B", size(bootstrap)))
        .collect();
    println!("\nbootstrap sizes: {}", sizes.join(", "));
    Ok(())
}
