//! A deployed stack, played on this machine: moto (SNS, SQS, DynamoDB, CloudFormation),
//! the relay's bootstrap under the Runtime API emulator with the reconnect window, the
//! hold queue's event source mapping, and a CloudFormation stack in moto whose outputs
//! are the template's (`CallbackUrl`, `TopicArn`, `FilterPresets`, `ReconnectWindowSecs`),
//! so that the go-live commands run against it exactly as against AWS.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_cloudformation::config::{Credentials, Region};
use serde_json::{Value, json};

use crate::aws::{self, ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY};
use crate::event_source::EventSourceMapping;
use crate::function_host::FunctionHost;
use crate::moto::{self, Moto};
use crate::template::Template;
use crate::{BoxError, poll_until};

pub const STACK_NAME: &str = "live-callback-relay-local";
pub const CALLBACK_KEY: &str = "local-callback-key";

pub struct LocalDeployment {
    pub moto: Moto,
    pub function: Arc<FunctionHost>,
    pub stack_name: String,
    pub topic_arn: String,
    pub chat_topic_arn: String,
    _mapping: EventSourceMapping,
}

impl LocalDeployment {
    /// Starts everything, `bootstrap` with a reconnect window of `window_secs`.
    pub async fn start(bootstrap: &Path, window_secs: u64) -> Result<LocalDeployment, BoxError> {
        let moto = Moto::start(&moto::server_path()).await?;
        let window = aws::Window::create(&moto.endpoint, "relay-state", 2, 5).await?;
        let cloudformation = cloudformation(&moto.endpoint);
        // the topics first, through the stack, so that their ARNs are the stack's outputs
        let created = create_stack(&cloudformation, &stack_template("", window_secs)?).await?;
        let topic_arn = created["TopicArn"].clone();
        let mut env = vec![
            ("SNS_TOPIC_ARN", topic_arn.clone()),
            ("CHAT_TOPIC_ARN", created["ChatTopicArn"].clone()),
            ("CALLBACK_KEYS", CALLBACK_KEY.to_string()),
            ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
            ("TRUST_ROOTS", "amazon".to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
        ];
        env.extend(window.env(window_secs));
        let function = Arc::new(FunctionHost::start(bootstrap, &env).await?);
        let mapping =
            EventSourceMapping::start(&moto.endpoint, &window.hold_queue, function.clone());
        let url = format!("{}callback", function.url);
        cloudformation
            .update_stack()
            .stack_name(STACK_NAME)
            .template_body(stack_template(&url, window_secs)?.to_string())
            .send()
            .await?;
        poll_until(
            std::time::Duration::from_secs(10),
            "the stack's update",
            || {
                let (cloudformation, url) = (cloudformation.clone(), url.clone());
                async move {
                    (outputs(&cloudformation).await.ok()?.get("CallbackUrl")? == &url).then_some(())
                }
            },
        )
        .await?;
        Ok(LocalDeployment {
            moto,
            function,
            stack_name: STACK_NAME.to_string(),
            topic_arn,
            chat_topic_arn: created["ChatTopicArn"].clone(),
            _mapping: mapping,
        })
    }

    /// What the go-live commands need to reach it: moto as every AWS endpoint, its
    /// credentials and region, and the callback key.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.moto.endpoint.clone()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
            ("CALLBACK_KEY", CALLBACK_KEY.to_string()),
        ]
    }
}

fn cloudformation(endpoint: &str) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::from_conf(
        aws_sdk_cloudformation::Config::builder()
            .endpoint_url(endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                None,
                None,
                "local-stack",
            ))
            .build(),
    )
}

/// A template with the topics (the main one, and chat's) and the outputs the relay's
/// template has.
fn stack_template(callback_url: &str, window_secs: u64) -> Result<Value, BoxError> {
    let mut presets = serde_json::Map::new();
    for (name, policy) in Template::load()?.filter_presets() {
        presets.insert(name, serde_json::from_str(&policy)?);
    }
    Ok(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "live-callback-relay-local"}},
            "ChatTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "live-callback-relay-local-chat"}}
        },
        "Outputs": {
            "CallbackUrl": {"Value": if callback_url.is_empty() { "pending" } else { callback_url }},
            "TopicArn": {"Value": {"Ref": "Topic"}},
            "ChatTopicArn": {"Value": {"Ref": "ChatTopic"}},
            "FilterPresets": {"Value": Value::Object(presets).to_string()},
            "ReconnectWindowSecs": {"Value": window_secs.to_string()},
        }
    }))
}

/// Creates the stack of `template` and returns its outputs.
async fn create_stack(
    cloudformation: &aws_sdk_cloudformation::Client,
    template: &Value,
) -> Result<std::collections::HashMap<String, String>, BoxError> {
    cloudformation
        .create_stack()
        .stack_name(STACK_NAME)
        .template_body(template.to_string())
        .send()
        .await?;
    let outputs = poll_until(std::time::Duration::from_secs(10), "the stack", || {
        let cloudformation = cloudformation.clone();
        async move {
            outputs(&cloudformation)
                .await
                .ok()
                .filter(|o| o.contains_key("TopicArn") && o.contains_key("ChatTopicArn"))
        }
    })
    .await?;
    Ok(outputs)
}

async fn outputs(
    cloudformation: &aws_sdk_cloudformation::Client,
) -> Result<std::collections::HashMap<String, String>, BoxError> {
    let stacks = cloudformation
        .describe_stacks()
        .stack_name(STACK_NAME)
        .send()
        .await?;
    let stack = stacks.stacks().first().ok_or("no stack")?;
    Ok(stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect())
}
