//! The subscriber topology on moto: a topic, two SQS queues (one filtered) and an HTTP
//! subscription, reached with the real AWS SDK and dummy credentials.

use std::time::{Duration, Instant};

use aws_sdk_sns::config::{Credentials, Region};
use serde_json::Value;

use crate::BoxError;

pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
/// The filter policy of the second queue, matched against message attributes.
pub const ABNORMAL_ONLY_POLICY: &str = r#"{"event":["stream.stopped_abnormally"]}"#;

pub struct Topology {
    pub topic_arn: String,
    pub all_events_queue: String,
    pub abnormal_queue: String,
    pub email: String,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
}

fn credentials() -> Credentials {
    Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "local-stack")
}

/// An SNS client configuration for `endpoint` with the stack's region and credentials.
pub fn sns_config(endpoint: &str) -> aws_sdk_sns::config::Builder {
    aws_sdk_sns::Config::builder()
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(credentials())
}

pub fn sns_client(endpoint: &str) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::from_conf(sns_config(endpoint).build())
}

pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .endpoint_url(endpoint)
            .region(Region::new(REGION))
            .credentials_provider(credentials())
            .build(),
    )
}

/// The message an SNS envelope delivered to a queue carries, parsed as JSON.
pub fn message_of(envelope: &Value) -> Result<Value, BoxError> {
    let message = envelope["Message"]
        .as_str()
        .ok_or("an envelope without a Message")?;
    Ok(serde_json::from_str(message)?)
}

pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .endpoint_url(endpoint)
            .region(Region::new(REGION))
            .credentials_provider(credentials())
            .build(),
    )
}

impl Topology {
    /// Creates the topic and subscribes both queues, an e-mail address and `webhook_url`
    /// (if any: moto signs a certificate for every HTTP delivery, which is slow).
    pub async fn create(endpoint: &str, webhook_url: Option<&str>) -> Result<Topology, BoxError> {
        let sns = sns_client(endpoint);
        let sqs = sqs_client(endpoint);
        let topic_arn = sns
            .create_topic()
            .name("live-stream-events")
            .send()
            .await?
            .topic_arn
            .ok_or("no topic ARN")?;
        let mut topology = Topology {
            topic_arn,
            all_events_queue: String::new(),
            abnormal_queue: String::new(),
            email: "ops@example.com".to_string(),
            sns,
            sqs,
        };
        topology.all_events_queue = topology.filtered_queue("all-events", None).await?;
        topology.abnormal_queue = topology
            .filtered_queue("abnormal-stops", Some(ABNORMAL_ONLY_POLICY))
            .await?;
        if let Some(webhook_url) = webhook_url {
            topology.subscribe("http", webhook_url, None).await?;
        }
        topology.subscribe("email", &topology.email, None).await?;
        Ok(topology)
    }

    /// A new queue subscribed to the topic with `policy` (on message attributes), if any.
    pub async fn filtered_queue(
        &self,
        name: &str,
        policy: Option<&str>,
    ) -> Result<String, BoxError> {
        let queue_url = create_queue(&self.sqs, name).await?;
        let arn = queue_arn(&self.sqs, &queue_url).await?;
        self.subscribe("sqs", &arn, policy).await?;
        Ok(queue_url)
    }

    /// A chat topic, as the template's, and a queue subscribed to it: what it receives is
    /// what Amazon Q Developer would post. Returns the topic's ARN and the queue's URL.
    pub async fn chat(&self) -> Result<(String, String), BoxError> {
        let topic_arn = self
            .sns
            .create_topic()
            .name("live-chat")
            .send()
            .await?
            .topic_arn
            .ok_or("no topic ARN")?;
        let queue_url = create_queue(&self.sqs, "chat").await?;
        let arn = queue_arn(&self.sqs, &queue_url).await?;
        self.subscribe_to(&topic_arn, "sqs", &arn, None).await?;
        Ok((topic_arn, queue_url))
    }

    async fn subscribe(
        &self,
        protocol: &str,
        endpoint: &str,
        policy: Option<&str>,
    ) -> Result<(), BoxError> {
        self.subscribe_to(&self.topic_arn, protocol, endpoint, policy)
            .await
    }

    async fn subscribe_to(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        policy: Option<&str>,
    ) -> Result<(), BoxError> {
        let mut request = self
            .sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol(protocol)
            .endpoint(endpoint);
        if let Some(policy) = policy {
            request = request.attributes("FilterPolicy", policy);
        }
        request.send().await?;
        Ok(())
    }

    /// Receives and deletes what `queue_url` holds, waiting until at least `expected`
    /// messages arrived (or the deadline passed), then taking whatever else is there.
    pub async fn drain(&self, queue_url: &str, expected: usize) -> Result<Vec<Value>, BoxError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut received = Vec::new();
        while received.len() < expected && Instant::now() < deadline {
            received.extend(self.receive(queue_url).await?);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        loop {
            let batch = self.receive(queue_url).await?;
            if batch.is_empty() {
                break;
            }
            received.extend(batch);
        }
        if received.len() < expected {
            return Err(format!(
                "{queue_url}: {} of {expected} messages arrived",
                received.len()
            )
            .into());
        }
        Ok(received)
    }

    async fn receive(&self, queue_url: &str) -> Result<Vec<Value>, BoxError> {
        let output = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await?;
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut deletion = self.sqs.delete_message_batch().queue_url(queue_url);
        let mut bodies = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            deletion = deletion.entries(
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .build()?,
            );
            bodies.push(serde_json::from_str(message.body().unwrap_or("null"))?);
        }
        deletion.send().await?;
        Ok(bodies)
    }
}

/// The state table as the template creates it: key `pk`, TTL on `expires_at`, and the
/// sparse index `unparked` (`sweep`, `unparked_at`) of the streams the sweep is for.
pub async fn create_state_table(endpoint: &str, name: &str) -> Result<(), BoxError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    };
    let dynamodb = dynamodb_client(endpoint);
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S)?)
        .attribute_definitions(attribute("sweep", ScalarAttributeType::S)?)
        .attribute_definitions(attribute("unparked_at", ScalarAttributeType::N)?)
        .key_schema(key("pk", KeyType::Hash)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("unparked")
                .key_schema(key("sweep", KeyType::Hash)?)
                .key_schema(key("unparked_at", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        )
        .send()
        .await?;
    dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// The reconnect window's resources as the template creates them (the state table, the
/// hold queue and its dead-letter queue), and the function's settings that use them.
pub struct Window {
    pub table: String,
    pub hold_queue: String,
    pub dead_letters: String,
    pub max_receives: u32,
}

impl Window {
    /// Creates state table `table` and a hold queue whose failed holds come back after
    /// `visibility_secs` and move to the dead-letter queue after `max_receives`.
    pub async fn create(
        endpoint: &str,
        table: &str,
        visibility_secs: u32,
        max_receives: u32,
    ) -> Result<Window, BoxError> {
        create_state_table(endpoint, table).await?;
        let (hold_queue, dead_letters) =
            create_hold_queue(endpoint, visibility_secs, max_receives).await?;
        Ok(Window {
            table: table.to_string(),
            hold_queue,
            dead_letters,
            max_receives,
        })
    }

    /// The function's settings for a reconnect window of `window_secs` over these, as the
    /// template sets them (`HOLD_MAX_RECEIVES` = the queue's `maxReceiveCount`).
    pub fn env(&self, window_secs: u64) -> Vec<(&'static str, String)> {
        vec![
            ("RECONNECT_WINDOW_SECS", window_secs.to_string()),
            ("STATE_TABLE", self.table.clone()),
            ("HOLD_QUEUE_URL", self.hold_queue.clone()),
            ("HOLD_MAX_RECEIVES", self.max_receives.to_string()),
        ]
    }
}

/// The hold queue as the template creates it, with `visibility_secs` for a failed hold to
/// come back, and its dead-letter queue after `max_receives`: (queue URL, DLQ URL).
pub async fn create_hold_queue(
    endpoint: &str,
    visibility_secs: u32,
    max_receives: u32,
) -> Result<(String, String), BoxError> {
    let sqs = sqs_client(endpoint);
    let dead_letters = create_queue(&sqs, "holds-dead-letters").await?;
    let dead_letters_arn = queue_arn(&sqs, &dead_letters).await?;
    let queue = sqs
        .create_queue()
        .queue_name("holds")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            visibility_secs.to_string(),
        )
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            serde_json::json!({
                "deadLetterTargetArn": dead_letters_arn,
                "maxReceiveCount": max_receives
            })
            .to_string(),
        )
        .send()
        .await?
        .queue_url
        .ok_or("no queue URL")?;
    Ok((queue, dead_letters))
}

async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String, BoxError> {
    Ok(sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await?
        .queue_url
        .ok_or("no queue URL")?)
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<String, BoxError> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await?;
    attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| "no queue ARN".into())
}
