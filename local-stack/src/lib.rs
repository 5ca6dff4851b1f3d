//! The relay's local stack, shared by the end-to-end test, the demo and the benchmarks.
//! Every process and server it starts stops when its handle is dropped.

pub mod aws;
pub mod bench;
pub mod cgroup;
pub mod deployment;
pub mod event_source;
pub mod faults;
pub mod function_host;
pub mod http;
pub mod moto;
pub mod proxy;
pub mod receiver;
pub mod sns_stub;
pub mod template;
pub mod tls;

use std::future::Future;
use std::time::{Duration, Instant};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Polls `probe` until it yields a value or `timeout` passes.
pub async fn poll_until<T, F, Fut>(
    timeout: Duration,
    what: &str,
    mut probe: F,
) -> Result<T, BoxError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A loopback port that was free a moment ago, for a child process to listen on.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits for Ctrl-C or a termination signal.
pub async fn until_interrupted() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = terminate.recv() => Ok(()),
    }
}

/// Sends `signal` (`STOP`, `CONT`, `TERM`, ...) to process `pid`, through the system's
/// own `kill`, as Lambda freezes and thaws a function or an operator interrupts a tool.
pub fn signal(pid: u32, signal: &str) -> std::io::Result<()> {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "kill -{signal} {pid}: {status}"
        )))
    }
}
