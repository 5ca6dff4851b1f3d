//! `make bench` (third part): the warm path under a 128 MB function's CPU share, the
//! relay's release bootstrap beside the hello-world (and, when given, the bootstraps of an
//! earlier release and of this one before a change), window off and on.
//!
//! Each round cold-starts the function under the project's Runtime API emulator, moves it
//! into the CPU share once it first asks for an invocation (init is not throttled, as on
//! Lambda), sends the first callback, then `WARM` (30) callbacks back to back (each a start of
//! a new push, so every one is published, and with the window recorded). It prints, as
//! medians of the rounds: the CPU the function used per warm callback (its cgroup's
//! count), how often per warm callback the share throttled it, the warm callbacks' p50
//! wall time, the connections the endpoints accepted during the warm callbacks (0: every
//! one reuses the connection opened during init), the requests each endpoint received per
//! warm callback, and the first callback's CPU.

use std::time::Duration;

use live_callback_relay::inbound::signature::sign;
use local_stack::BoxError;
use local_stack::bench::{self, Endpoints, START, median, ms, post};
use local_stack::cgroup::{self, CpuShare};
use local_stack::function_host::FunctionHost;
use serde_json::json;

/// How many cold starts, warm callbacks after each one's first, and the memory size whose
/// CPU share applies (`ROUNDS`, `WARM` and `MEMORY_MB` override them, e.g. for a profile
/// of many warm callbacks, or the cost without throttling at 1,769 MB).
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Round {
    cpu_per_warm: Duration,
    throttled_per_warm: f64,
    warm_p50: Duration,
    connections: usize,
    requests: [usize; 3],
    first_cpu: Duration,
}

async fn round(
    name: &str,
    n: usize,
    bootstrap: &std::path::Path,
    env: &[(&str, String)],
    share: &CpuShare,
    endpoints: &Endpoints,
    warm: usize,
) -> Result<Round, BoxError> {
    let function = FunctionHost::start(bootstrap, env).await?;
    share.enter(function.pid().ok_or("no pid")?)?;
    let stream = format!("{name}-{n}");
    let start = |sequence: &str| bench::callback(sign, START, &stream, sequence, json!({}));
    let (_, first_cpu, _) = bench::counted(share, post(&function, &start("first"))).await?;
    let (connections, requests) = (endpoints.connections(), endpoints.requests());
    let (walls, cpu, throttled) = bench::counted(share, async {
        let mut walls = Vec::with_capacity(warm);
        for k in 0..warm {
            walls.push(post(&function, &start(&format!("w{k}"))).await?);
        }
        Ok(walls)
    })
    .await?;
    Ok(Round {
        cpu_per_warm: cpu / warm as u32,
        throttled_per_warm: throttled as f64 / warm as f64,
        warm_p50: median(&walls),
        connections: endpoints.connections() - connections,
        requests: std::array::from_fn(|i| endpoints.requests()[i] - requests[i]),
        first_cpu,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (cold_starts, warm) = (setting("ROUNDS", 5), setting("WARM", 30));
    let memory_mb = setting("MEMORY_MB", 128) as u64;
    let share = CpuShare::create(
        &format!("relay-warm-{}", std::process::id()),
        cgroup::quota_us(memory_mb),
    )?;
    let endpoints = Endpoints::start().await?;
    println!(
        "Warm path under a {memory_mb} MB function's CPU share ({} us per {} us): {warm} warm callbacks after the first, {cold_starts} cold starts each (medians)\n",
        cgroup::quota_us(memory_mb),
        cgroup::PERIOD_US,
    );
    println!(
        "| function | CPU per warm callback | throttled per warm callback | warm p50 wall | new connections per warm callback | requests per warm callback (SNS, DynamoDB, SQS) | first callback CPU |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, bootstrap, env) in endpoints.variants()? {
        let mut rounds = Vec::new();
        for n in 0..cold_starts {
            rounds.push(round(&name, n, &bootstrap, &env, &share, &endpoints, warm).await?);
        }
        let of = |f: fn(&Round) -> Duration| median(&rounds.iter().map(f).collect::<Vec<_>>());
        let mut throttled: Vec<f64> = rounds.iter().map(|r| r.throttled_per_warm).collect();
        throttled.sort_by(f64::total_cmp);
        let connections: usize = rounds.iter().map(|r| r.connections).sum();
        let per_warm = |total: usize| total as f64 / (cold_starts * warm) as f64;
        let requests: Vec<String> = (0..3)
            .map(|i| {
                format!(
                    "{:.2}",
                    per_warm(rounds.iter().map(|r| r.requests[i]).sum())
                )
            })
            .collect();
        println!(
            "| {name} | {} ms | {:.2} | {} ms | {:.2} | {} | {} ms |",
            ms(of(|r| r.cpu_per_warm)),
            throttled[throttled.len() / 2],
            ms(of(|r| r.warm_p50)),
            per_warm(connections),
            requests.join(", "),
            ms(of(|r| r.first_cpu)),
        );
        let each = |f: fn(&Round) -> Duration| {
            rounds
                .iter()
                .map(|r| ms(f(r)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "|  (each run) | {} | | {} | | | {} |",
            each(|r| r.cpu_per_warm),
            each(|r| r.warm_p50),
            each(|r| r.first_cpu)
        );
    }
    Ok(())
}
