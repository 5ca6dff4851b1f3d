use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_http::{Error, Request, service_fn};
use live_callback_relay::aws::dynamodb::DynamoStore;
use live_callback_relay::aws::setup::load_aws_config;
use live_callback_relay::aws::sns::SnsPublisher;
use live_callback_relay::{Config, Relay};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let shared = load_aws_config(config.trust_roots).await;
    let publisher = SnsPublisher::from_shared(&shared, config.topic_arn.clone());
    let store = config
        .idempotency
        .as_ref()
        .map(|i| DynamoStore::from_shared(&shared, i.table.clone(), i.ttl_secs));
    let relay = &Relay::new(&config, publisher).with_store(store);
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(relay.handle(request, unix_now()).await)
    }))
    .await
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
