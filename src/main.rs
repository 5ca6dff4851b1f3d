// The SDK's futures nest deeply inside the runtime's: computing their layout needs more than
// the default 128 levels.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use live_callback_relay::Config;
use live_callback_relay::aws::hold_queue::SqsHoldQueue;
use live_callback_relay::aws::setup::load_aws_config;
use live_callback_relay::aws::sns::SnsPublisher;
use live_callback_relay::aws::state_table::StateTable;
use live_callback_relay::config::State;
use live_callback_relay::lambda::{answer, unix_now};
use live_callback_relay::ports::publish::Publisher;
use live_callback_relay::relay::deduplicated::Deduplicated;
use live_callback_relay::relay::windowed::Windowed;
use live_callback_relay::relay::{Mode, Relay};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let shared = load_aws_config(config.trust_roots).await;
    let relay = Relay::new(
        &config,
        SnsPublisher::from_shared(&shared, config.topic_arn.clone()),
    );
    match config.state {
        State::Stateless => serve(relay).await,
        State::Deduplicated { table } => {
            let store = StateTable::from_shared(&shared, table);
            serve(relay.with_mode(Deduplicated { store })).await
        }
        State::ReconnectWindow {
            table,
            hold_queue_url,
            window_secs,
        } => {
            let windowed = Windowed {
                log: StateTable::from_shared(&shared, table),
                queue: SqsHoldQueue::from_shared(&shared, hold_queue_url),
                window_secs,
            };
            serve(relay.with_mode(windowed)).await
        }
    }
}

async fn serve<P: Publisher, M: Mode>(relay: Relay<P, M>) -> Result<(), Error> {
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        answer(relay, event, unix_now()).await
    }))
    .await
}
