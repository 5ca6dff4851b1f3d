//! Lambda's SQS event source mapping, played locally: polls a queue, invokes the function
//! with a real SQS event of what it received, deletes the records the function did not
//! report as failed (`ReportBatchItemFailures`), and leaves the rest to come back after
//! the queue's visibility timeout (and, past its `maxReceiveCount`, to its dead-letter
//! queue). It stops when dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::BoxError;
use crate::aws::{REGION, sqs_client};
use crate::function_host::FunctionHost;

pub struct EventSourceMapping {
    task: JoinHandle<()>,
    invocations: Arc<AtomicUsize>,
}

impl Drop for EventSourceMapping {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EventSourceMapping {
    /// Starts polling `queue_url` (on the SQS `endpoint`) for `function`.
    pub fn start(
        endpoint: &str,
        queue_url: &str,
        function: Arc<FunctionHost>,
    ) -> EventSourceMapping {
        let sqs = sqs_client(endpoint);
        let queue_url = queue_url.to_string();
        let invocations = Arc::new(AtomicUsize::new(0));
        let counter = invocations.clone();
        let task = tokio::spawn(async move {
            loop {
                match poll_once(&sqs, &queue_url, &function).await {
                    Ok(true) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        eprintln!("event source mapping: {e}");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        EventSourceMapping { task, invocations }
    }

    /// How many batches the function was invoked with so far.
    pub fn invocations(&self) -> usize {
        self.invocations.load(Ordering::SeqCst)
    }
}

/// One poll; `true` when the function was invoked.
async fn poll_once(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    function: &FunctionHost,
) -> Result<bool, BoxError> {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(false);
    }
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": m.attributes().map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), json!(v))).collect::<serde_json::Map<_, _>>()),
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:holds"),
                "awsRegion": REGION
            })
        })
        .collect();
    let answer = function.invoke(&json!({ "Records": records })).await;
    let failed: Vec<String> = match &answer {
        Ok(answer) => answer["batchItemFailures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["itemIdentifier"].as_str().map(String::from))
            .collect(),
        // the whole batch failed: every record comes back
        Err(_) => messages
            .iter()
            .filter_map(|m| m.message_id.clone())
            .collect(),
    };
    let mut deletion = sqs.delete_message_batch().queue_url(queue_url);
    let mut any = false;
    for (i, message) in messages.iter().enumerate() {
        if failed
            .iter()
            .any(|id| Some(id.as_str()) == message.message_id())
        {
            continue;
        }
        any = true;
        deletion = deletion.entries(
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .build()?,
        );
    }
    if any {
        deletion.send().await?;
    }
    Ok(true)
}
