//! The state table on DynamoDB: one table, keyed on `pk`, holding two kinds of item
//! (README, "The state table"), each expired by the table's TTL on `expires_at`:
//!
//! - `event#<event_id>`: the claim on one event, for deduplication without the window;
//! - `stream#<["app","appname","stream_id"]>`: one stream's history (`snapshot`, `log`,
//!   the ids in it, the drops whose announcement was published), and the holds that could
//!   not be parked (`hold:<drop event_id>`, each its sealed message), with the sweep's mark
//!   (`sweep`, `unparked_at`: the sparse index `unparked` lists what the sweep is for).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use md5::{Digest, Md5};

use crate::aws::limits;
use crate::meaning::stream_state::{Entry, History, Stream};
use crate::ports::idempotency::{
    CLAIM_RETENTION_SECS, Claim, IdempotencyStore, StoreError, published_until,
};
use crate::ports::stream_log::{Appended, Mark, StreamKey, StreamLog, Unparked};

const IN_FLIGHT: &str = "in_flight";
const PUBLISHED: &str = "published";
/// A free key, an expired record (TTL deletes lazily), or an abandoned claim.
const CLAIMABLE: &str = "attribute_not_exists(pk) OR expires_at < :now OR (#state = :in_flight AND lease_until <= :now)";
/// How long a stream's history is kept after its last input.
pub const STREAM_RETENTION_SECS: u64 = 30 * 86_400;
/// The index of the streams the sweep is for, and its partition's one value.
pub const UNPARKED_INDEX: &str = "unparked";
const SWEEP: &str = "unparked";
/// The attributes of the holds not parked: `hold:<drop event_id>`.
const HOLD_PREFIX: &str = "hold:";
/// How many streams one sweep takes at most (the next takes the rest).
const SWEEP_PAGE: i32 = 100;

#[derive(Debug, Clone)]
pub struct StateTable {
    client: Client,
    table: String,
}

impl StateTable {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// A client from the shared AWS configuration with the store's call limits.
    pub fn from_shared(shared: &aws_config::SdkConfig, table: String) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(shared)
            .retry_config(limits::STORE.retry_config())
            .timeout_config(limits::STORE.timeout_config())
            .build();
        Self::new(Client::from_conf(config), table)
    }

    /// Opens the connection to DynamoDB and pays the client's first-use costs, with one
    /// read of an item that never exists.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("warm-up".into()))
            .send()
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    async fn existing(&self, pk: &str, now: u64) -> Result<Claim, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.into()))
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

fn event_pk(event_id: &str) -> AttributeValue {
    AttributeValue::S(format!("event#{event_id}"))
}

/// DynamoDB's limit on a partition key, in bytes.
const MAX_KEY_BYTES: usize = 2048;

/// A stream's key: its parts as JSON, or, for the rare stream whose parts (escaped) are
/// longer than DynamoDB allows in a key, their MD5.
fn stream_pk(key: &StreamKey) -> AttributeValue {
    let text = key.as_text();
    AttributeValue::S(if "stream#".len() + text.len() <= MAX_KEY_BYTES {
        format!("stream#{text}")
    } else {
        format!("stream#md5:{}", hex::encode(Md5::digest(text.as_bytes())))
    })
}

impl IdempotencyStore for StateTable {
    async fn claim(&self, event_id: &str, now: u64, lease_secs: u64) -> Result<Claim, StoreError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", event_pk(event_id))
            .item("state", AttributeValue::S(IN_FLIGHT.into()))
            .item("lease_until", number(now + lease_secs))
            .item(
                "expires_at",
                number(now + lease_secs + CLAIM_RETENTION_SECS),
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
                self.existing(&format!("event#{event_id}"), now).await
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
            .key("pk", event_pk(event_id))
            .update_expression(
                "SET #state = :published, expires_at = :expires_at REMOVE lease_until",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":published", AttributeValue::S(PUBLISHED.into()))
            .expression_attribute_values(
                ":expires_at",
                number(published_until(now, CLAIM_RETENTION_SECS, accepted_until)),
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
            .key("pk", event_pk(event_id))
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

impl StreamLog for StateTable {
    async fn append(&self, key: &StreamKey, entry: &Entry) -> Result<Appended, StoreError> {
        let id = entry.id();
        let text = to_json(entry);
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", stream_pk(key))
            .update_expression(
                "SET #log = list_append(if_not_exists(#log, :empty), :entry), expires_at = :expires_at ADD #ids :ids, #version :one",
            )
            .condition_expression("NOT contains(#ids, :id)")
            .expression_attribute_names("#log", "log")
            .expression_attribute_names("#ids", "ids")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":entry", AttributeValue::L(vec![AttributeValue::S(text)]))
            .expression_attribute_values(":ids", AttributeValue::Ss(vec![id.clone()]))
            .expression_attribute_values(":id", AttributeValue::S(id.clone()))
            .expression_attribute_values(
                ":expires_at",
                number(entry.received + STREAM_RETENTION_SECS),
            )
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let (item, fresh) = match written {
            Ok(output) => (output.attributes, true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let item = match e.into_err() {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(refused) => refused.item,
                    _ => None,
                };
                (item, false)
            }
            Err(e) => return Err(store_error(e)),
        };
        let item = item.unwrap_or_default();
        let version = version_of(&item);
        let history = history_of(item)?;
        let position = history.position(&id).ok_or_else(|| {
            StoreError(format!(
                "the stream item does not hold {id} after its append"
            ))
        })?;
        Ok(Appended {
            history,
            position,
            fresh,
            version,
        })
    }

    async fn mark(&self, key: &StreamKey, mark: Mark<'_>) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", stream_pk(key))
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":one", number(1));
        let request = match mark {
            Mark::Announced(drop_id) => request
                .update_expression("ADD announced :drop, #version :one")
                .expression_attribute_values(":drop", AttributeValue::Ss(vec![drop_id.into()])),
            Mark::Unparked {
                drop_id,
                message,
                at,
            } => request
                .update_expression(
                    "SET #hold = :message, #sweep = :sweep, unparked_at = if_not_exists(unparked_at, :at) ADD #version :one",
                )
                .expression_attribute_names("#hold", format!("{HOLD_PREFIX}{drop_id}"))
                .expression_attribute_names("#sweep", "sweep")
                .expression_attribute_values(":message", AttributeValue::S(message.into()))
                .expression_attribute_values(":sweep", AttributeValue::S(SWEEP.into()))
                .expression_attribute_values(":at", number(at)),
            Mark::Parked(drop_id) => request
                .update_expression("REMOVE #hold ADD #version :one")
                .expression_attribute_names("#hold", format!("{HOLD_PREFIX}{drop_id}")),
        };
        request.send().await.map(|_| ()).map_err(store_error)
    }

    async fn unparked(&self, before: u64) -> Result<Vec<Unparked>, StoreError> {
        let found = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(UNPARKED_INDEX)
            .key_condition_expression("#sweep = :sweep AND unparked_at <= :before")
            .expression_attribute_names("#sweep", "sweep")
            .expression_attribute_values(":sweep", AttributeValue::S(SWEEP.into()))
            .expression_attribute_values(":before", number(before))
            .limit(SWEEP_PAGE)
            .send()
            .await
            .map_err(store_error)?;
        Ok(found
            .items()
            .iter()
            .filter_map(|item| {
                Some(Unparked {
                    item: item.get("pk")?.as_s().ok()?.clone(),
                    version: version_of(item),
                    holds: holds_of(item).into_iter().collect(),
                })
            })
            .collect())
    }

    async fn swept(&self, stream: &Unparked, parked: &[String]) -> Result<(), StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(stream.item.clone()))
            .condition_expression("#version = :seen")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":seen", number(stream.version))
            .expression_attribute_values(":one", number(1));
        let mut removed: Vec<String> = Vec::new();
        for (n, drop_id) in parked.iter().enumerate() {
            request = request
                .expression_attribute_names(format!("#h{n}"), format!("{HOLD_PREFIX}{drop_id}"));
            removed.push(format!("#h{n}"));
        }
        if parked.len() == stream.holds.len() {
            request = request.expression_attribute_names("#sweep", "sweep");
            removed.extend(["#sweep".to_string(), "unparked_at".to_string()]);
        }
        let expression = format!("REMOVE {} ADD #version :one", removed.join(", "));
        match request.update_expression(expression).send().await {
            Ok(_) => Ok(()),
            // written meanwhile: the next sweep takes what is left
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(store_error(e)),
        }
    }

    async fn compact(
        &self,
        key: &StreamKey,
        compacted: &History,
        seen_version: u64,
    ) -> Result<(), StoreError> {
        let log: Vec<AttributeValue> = compacted
            .entries
            .iter()
            .map(|e| AttributeValue::S(to_json(e)))
            .collect();
        let ids: Vec<String> = compacted.entries.iter().map(Entry::id).collect();
        let announced: Vec<String> = compacted.announced.iter().cloned().collect();
        // a string set cannot be empty: an empty one is removed
        let mut set: Vec<String> = ["#snapshot = :snapshot", "#log = :log", "#version = :next"]
            .map(String::from)
            .to_vec();
        let mut remove = Vec::new();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", stream_pk(key))
            .condition_expression("#version = :seen")
            .expression_attribute_names("#log", "log")
            .expression_attribute_names("#snapshot", "snapshot")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#ids", "ids")
            .expression_attribute_names("#announced", "announced")
            .expression_attribute_values(":seen", number(seen_version))
            .expression_attribute_values(":next", number(seen_version + 1))
            .expression_attribute_values(
                ":snapshot",
                AttributeValue::S(to_json(&compacted.snapshot)),
            )
            .expression_attribute_values(":log", AttributeValue::L(log));
        for (name, values) in [("ids", ids), ("announced", announced)] {
            if values.is_empty() {
                remove.push(format!("#{name}"));
            } else {
                set.push(format!("#{name} = :{name}"));
                request = request
                    .expression_attribute_values(format!(":{name}"), AttributeValue::Ss(values));
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        match request.update_expression(expression).send().await {
            Ok(_) => Ok(()),
            // written meanwhile: the next append compacts
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(store_error(e)),
        }
    }
}

/// A stored value (a state or an entry) as its JSON text.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("states and entries always serialize")
}

/// The history a stream item holds (an empty one for an item that does not exist).
fn history_of(item: HashMap<String, AttributeValue>) -> Result<History, StoreError> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        StoreError(format!("the stream item's {what} is unreadable: {e}"))
    };
    let snapshot = match item.get("snapshot").and_then(|v| v.as_s().ok()) {
        Some(text) => serde_json::from_str::<Stream>(text).map_err(|e| invalid("snapshot", &e))?,
        None => Stream::default(),
    };
    let entries = match item.get("log").and_then(|v| v.as_l().ok()) {
        Some(list) => list
            .iter()
            .map(|v| {
                let text = v.as_s().map_err(|_| invalid("log", &"not a string"))?;
                serde_json::from_str::<Entry>(text).map_err(|e| invalid("log", &e))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let announced: BTreeSet<String> = item
        .get("announced")
        .and_then(|v| v.as_ss().ok())
        .map(|set| set.iter().cloned().collect())
        .unwrap_or_default();
    Ok(History {
        announced,
        unparked: holds_of(&item),
        snapshot,
        entries,
    })
}

/// The holds not parked an item holds: each drop's id and its sealed message.
fn holds_of(item: &HashMap<String, AttributeValue>) -> BTreeMap<String, String> {
    item.iter()
        .filter_map(|(name, value)| {
            let drop_id = name.strip_prefix(HOLD_PREFIX)?;
            Some((drop_id.to_string(), value.as_s().ok()?.clone()))
        })
        .collect()
}

/// How many times an item has been written (0 for none).
fn version_of(item: &HashMap<String, AttributeValue>) -> u64 {
    item.get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn store_error<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError(DisplayErrorContext(&e).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stream_key_fits_dynamodbs_limit_and_stays_readable_where_it_can() {
        let readable = StreamKey {
            app: "push.example.com".into(),
            appname: "live".into(),
            stream_id: "room-1".into(),
        };
        assert_eq!(
            stream_pk(&readable),
            AttributeValue::S(r#"stream#["push.example.com","live","room-1"]"#.into())
        );
        // the longest parts of the strangest characters: escaped, six bytes each
        let longest = |c: char, n: usize| std::iter::repeat_n(c, n).collect::<String>();
        let strange = StreamKey {
            app: longest('\u{1}', 253),
            appname: longest('"', 256),
            stream_id: longest('\u{1f}', 512),
        };
        let AttributeValue::S(pk) = stream_pk(&strange) else {
            unreachable!()
        };
        assert!(
            pk.len() <= MAX_KEY_BYTES && pk.starts_with("stream#md5:"),
            "{pk}"
        );
        let other = StreamKey {
            stream_id: longest('\u{1e}', 512),
            ..strange
        };
        assert_ne!(stream_pk(&other), AttributeValue::S(pk));
    }
}
