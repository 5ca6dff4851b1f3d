//! `make local-stack`: a deployed relay, played on this machine, for the go-live commands
//! (`make verify`, `make tencent-connect`) to run against: moto stands for AWS (its
//! CloudFormation holds the stack `live-callback-relay-local`), the real bootstrap for the
//! function, with a reconnect window of a few seconds. It runs until interrupted.

use std::path::PathBuf;

use local_stack::BoxError;
use local_stack::deployment::LocalDeployment;

const WINDOW_SECS: u64 = 3;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let bootstrap = std::env::var_os("RELAY_BOOTSTRAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/debug/live-callback-relay")
        });
    let deployment = LocalDeployment::start(&bootstrap, WINDOW_SECS).await?;
    println!(
        "stack {} is up: callback URL {}callback, topic {}, reconnect window {WINDOW_SECS} s",
        deployment.stack_name, deployment.function.url, deployment.topic_arn
    );
    println!("to reach it, in another shell:");
    for (name, value) in deployment.environment() {
        println!("  export {name}={value}");
    }
    println!(
        "then: make verify STACK={} REGION=us-east-1",
        deployment.stack_name
    );
    println!("(Ctrl-C stops it)");
    local_stack::until_interrupted().await?;
    Ok(())
}
