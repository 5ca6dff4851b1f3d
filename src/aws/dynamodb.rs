//! The idempotency store on DynamoDB: one item per `event_id`, claimed with a conditional
//! write, expired by the table's TTL on `expires_at`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::aws::limits;
use crate::ports::idempotency::{
    Claim, IN_FLIGHT_LEASE_SECS, IdempotencyStore, StoreError, published_until,
};

const IN_FLIGHT: &str = "in_flight";
const PUBLISHED: &str = "published";
/// A free key, an expired record (TTL deletes lazily), or an abandoned claim.
const CLAIMABLE: &str = "attribute_not_exists(event_id) OR expires_at < :now OR (#state = :in_flight AND lease_until <= :now)";

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    retention_secs: u64,
}

impl DynamoStore {
    pub fn new(client: Client, table: String, retention_secs: u64) -> Self {
        Self {
            client,
            table,
            retention_secs,
        }
    }

    /// A client from the shared AWS configuration with the store's call limits.
    pub fn from_shared(shared: &aws_config::SdkConfig, table: String, retention_secs: u64) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(shared)
            .retry_config(limits::STORE.retry_config())
            .timeout_config(limits::STORE.timeout_config())
            .build();
        Self::new(Client::from_conf(config), table, retention_secs)
    }

    async fn existing(&self, event_id: &str, now: u64) -> Result<Claim, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("event_id", AttributeValue::S(event_id.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?
            .item;
        let number = |name: &str| {
            item.as_ref()
                .and_then(|i| i.get(name))
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let state = item
            .as_ref()
            .and_then(|i| i.get("state"))
            .and_then(|v| v.as_s().ok())
            .map(String::as_str);
        Ok(match state {
            Some(PUBLISHED) if number("expires_at") >= now => Claim::AlreadyPublished,
            // In flight, or changed between the refused write and this read: retry later.
            _ => Claim::InFlight,
        })
    }
}

impl IdempotencyStore for DynamoStore {
    async fn claim(&self, event_id: &str, now: u64) -> Result<Claim, StoreError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("event_id", AttributeValue::S(event_id.into()))
            .item("state", AttributeValue::S(IN_FLIGHT.into()))
            .item("lease_until", number(now + IN_FLIGHT_LEASE_SECS))
            .item(
                "expires_at",
                number(now + IN_FLIGHT_LEASE_SECS + self.retention_secs),
            )
            .condition_expression(CLAIMABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_flight", AttributeValue::S(IN_FLIGHT.into()))
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        match written {
            Ok(_) => Ok(Claim::Owned),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                self.existing(event_id, now).await
            }
            Err(e) => Err(store_error(e)),
        }
    }

    async fn complete(
        &self,
        event_id: &str,
        now: u64,
        accepted_until: u64,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("event_id", AttributeValue::S(event_id.into()))
            .update_expression(
                "SET #state = :published, expires_at = :expires_at REMOVE lease_until",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":published", AttributeValue::S(PUBLISHED.into()))
            .expression_attribute_values(
                ":expires_at",
                number(published_until(now, self.retention_secs, accepted_until)),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    async fn release(&self, event_id: &str) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("event_id", AttributeValue::S(event_id.into()))
            .condition_expression("#state = :in_flight")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_flight", AttributeValue::S(IN_FLIGHT.into()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(store_error(e)),
        }
    }
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn store_error<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError(DisplayErrorContext(&e).to_string())
}
