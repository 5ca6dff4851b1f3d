// The SDK's futures nest deeply inside the runtime's: computing their layout needs more than
// the default 128 levels.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use live_callback_relay::Config;
use live_callback_relay::aws::hold_queue::SqsHoldQueue;
use live_callback_relay::aws::limits;
use live_callback_relay::aws::setup::load_aws_config;
use live_callback_relay::aws::sns::SnsPublisher;
use live_callback_relay::aws::state_table::StateTable;
use live_callback_relay::config::State;
use live_callback_relay::lambda::{answer, unix_now};
use live_callback_relay::ports::publish::Publisher;
use live_callback_relay::relay::deduplicated::Deduplicated;
use live_callback_relay::relay::windowed::Windowed;
use live_callback_relay::relay::{CHAT_BUDGET, Chat, Mode, Relay};
use serde_json::value::RawValue;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let shared = load_aws_config(config.trust_roots).await;
    let publisher = SnsPublisher::from_shared(
        &shared,
        config.trust_roots,
        config.sns_endpoint.as_deref(),
        config.topic_arn.clone(),
    );
    let chat = config.chat.clone().map(|chat| Chat {
        publisher: publisher.for_topic(chat.topic_arn),
        events: chat.events,
    });
    // Init is not throttled as invocations are: every connection the function will need
    // is opened now, so that the first callback does not pay for it.
    match config.state.clone() {
        State::Stateless => {
            warned("SNS", publisher.warm_up().await);
            serve(Relay::new(&config, publisher), chat).await
        }
        State::Deduplicated { table } => {
            let store = StateTable::from_shared(&shared, table);
            let (sns, dynamodb) = tokio::join!(publisher.warm_up(), store.warm_up());
            warned("SNS", sns);
            warned("DynamoDB", dynamodb);
            serve(
                Relay::new(&config, publisher).with_mode(Deduplicated { store }),
                chat,
            )
            .await
        }
        State::ReconnectWindow {
            table,
            hold_queue_url,
            window_secs,
            sweep_after_secs,
        } => {
            let windowed = Windowed {
                log: StateTable::from_shared(&shared, table),
                queue: SqsHoldQueue::from_shared(&shared, hold_queue_url),
                window_secs,
                announcement_budget: limits::announcement(if chat.is_some() {
                    CHAT_BUDGET
                } else {
                    Duration::ZERO
                }),
                sweep_after_secs,
            };
            let (sns, dynamodb, sqs) = tokio::join!(
                publisher.warm_up(),
                windowed.log.warm_up(),
                windowed.queue.warm_up()
            );
            warned("SNS", sns);
            warned("DynamoDB", dynamodb);
            warned("SQS", sqs);
            serve(Relay::new(&config, publisher).with_mode(windowed), chat).await
        }
    }
}

/// A warm-up that failed costs the first callback its connection, nothing else.
fn warned<E: std::fmt::Display>(service: &str, warm_up: Result<(), E>) {
    if let Err(e) = warm_up {
        tracing::warn!(service, error = %e, "connection not opened during init");
    }
}

async fn serve<P: Publisher, M: Mode>(
    relay: Relay<P, M>,
    chat: Option<Chat<P>>,
) -> Result<(), Error> {
    let relay = &match chat {
        Some(chat) => relay.with_chat(chat),
        None => relay,
    };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        answer(relay, event, unix_now()).await
    }))
    .await
}
