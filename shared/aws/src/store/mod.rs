//! The DynamoDB store: every record of Hookline in one table (layout in `keys.rs`).
//!
//! This module owns the store and the operations every record kind shares; each kind's
//! methods are in a module of their own.

mod accounts;
mod cursor;
mod erasures;
mod event_types;
mod idempotency;
mod log;
mod rate_limits;
mod webhook_log;
mod webhooks;

pub use hookline_core::IdempotencyRecord;
pub use log::LogFilter;

use crate::error::classify;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, PutRequest, ReturnValue, TransactWriteItem, WriteRequest,
};
use chrono::{DateTime, Utc};
use cursor::{decode_cursor, encode_cursor};
use hookline_domain::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

pub(super) type Item = HashMap<String, AttributeValue>;

/// DynamoDB allows at most 25 writes in one `BatchWriteItem`.
const BATCH_WRITE_MAX: usize = 25;
/// Tries of a batch's unprocessed items before the batch is reported as unavailable.
const BATCH_WRITE_TRIES: u32 = 6;

/// A record with its keys: what one DynamoDB item holds.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    /// Unix seconds after which DynamoDB's TTL deletes the item; reads hide it already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(flatten)]
    record: T,
}

impl<T> Envelope<T> {
    fn new(pk: String, sk: impl Into<String>, record: T) -> Self {
        Self { pk, sk: sk.into(), gsi1pk: None, gsi1sk: None, expires_at: None, record }
    }

    fn indexed(mut self, gsi1pk: String, gsi1sk: impl Into<String>) -> Self {
        self.gsi1pk = Some(gsi1pk);
        self.gsi1sk = Some(gsi1sk.into());
        self
    }

    fn expiring(mut self, expires_at: Option<i64>) -> Self {
        self.expires_at = expires_at;
        self
    }

    fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now.timestamp())
    }
}

fn to_item<T: Serialize>(envelope: &Envelope<T>) -> Result<Item> {
    serde_dynamo::to_item(envelope).map_err(|error| Error::internal(format!("encoding an item: {error}")))
}

fn from_item<T: DeserializeOwned>(mut item: Item) -> Result<Envelope<T>> {
    log::inflate(&mut item)?;
    serde_dynamo::from_item(item).map_err(|error| Error::internal(format!("decoding an item: {error}")))
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// One page of a query, with the cursor of the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Opaque; pass it back to get the next page. `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Where a query runs: the table's primary key, or the `gsi1` index.
#[derive(Debug, Clone, Copy)]
enum On {
    Table,
    Gsi1,
}

/// The DynamoDB store.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
    /// The (account, day) log markers this process has written (`Store::mark_log_days`).
    marked_days: std::sync::Arc<
        std::sync::Mutex<std::collections::HashSet<(hookline_domain::model::AccountId, chrono::NaiveDate)>>,
    >,
    /// Each rate-limited webhook's next slot as this process last reserved it
    /// (`Store::reserve_slot` tries first what it suggests).
    schedules: std::sync::Arc<
        std::sync::Mutex<HashMap<(hookline_domain::model::AccountId, hookline_domain::model::WebhookId), i64>>,
    >,
}

impl Store {
    /// A store on `table`, through `client` (built once per process).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            marked_days: std::sync::Arc::default(),
            schedules: std::sync::Arc::default(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The DynamoDB client it uses (for tools and tests that read items as stored).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends a query and reads one page: expired items hidden, the next cursor encoded.
    async fn run_query<T: DeserializeOwned>(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Page<T>> {
        let output = request.send().await.map_err(|error| classify("query", error))?;
        let now = Utc::now();
        let mut items = Vec::new();
        for item in output.items.unwrap_or_default() {
            let envelope: Envelope<T> = from_item(item)?;
            if !envelope.is_expired(now) {
                items.push(envelope.record);
            }
        }
        let next_cursor = output.last_evaluated_key.filter(|key| !key.is_empty()).map(|key| encode_cursor(&key));
        Ok(Page { items, next_cursor })
    }

    /// An item as stored, read consistently.
    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| classify("get_item", error))?;
        Ok(output.item)
    }

    async fn get<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>> {
        let Some(item) = self.get_item(pk, sk).await? else { return Ok(None) };
        let envelope: Envelope<T> = from_item(item)?;
        Ok((!envelope.is_expired(Utc::now())).then_some(envelope.record))
    }

    /// Deletes an item if it exists; `false` if it did not.
    async fn delete_existing(&self, operation: &'static str, pk: String, sk: String) -> Result<bool> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result.map_err(|error| classify(operation, error)) {
            Ok(_) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn put_new<T: Serialize>(&self, operation: &'static str, envelope: &Envelope<T>) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(envelope)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|error| classify(operation, error))?;
        Ok(())
    }

    /// Replaces an item that exists; a not-found error if it does not.
    async fn replace_existing<T: Serialize>(&self, operation: &'static str, envelope: &Envelope<T>) -> Result<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(envelope)?))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result.map_err(|error| classify(operation, error)) {
            Ok(_) => Ok(()),
            Err(Error::Conflict(_)) => Err(Error::not_found("record")),
            Err(error) => Err(error),
        }
    }

    /// A counter's value; 0 if it was never incremented.
    async fn counter(&self, pk: String, sk: &str) -> Result<u64> {
        let item = self.get_item(pk, sk).await?;
        match item.as_ref().and_then(|item| item.get("value")) {
            Some(AttributeValue::N(value)) => value.parse().map_err(Error::internal),
            Some(_) => Err(Error::internal("a counter that is not a number")),
            None => Ok(0),
        }
    }

    async fn increment(&self, pk: String, sk: &str) -> Result<u64> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression("ADD #value :one")
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|error| classify("increment", error))?;
        output
            .attributes
            .as_ref()
            .and_then(|attributes| attributes.get("value"))
            .and_then(|value| value.as_n().ok())
            .and_then(|number| number.parse().ok())
            .ok_or_else(|| Error::internal("counter update returned no value"))
    }

    async fn transact_puts(&self, operation: &'static str, items: Vec<Item>) -> Result<()> {
        let mut request = self.client.transact_write_items();
        for item in items {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)?;
            request = request.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(error) => {
                let cancelled_by_condition = error
                    .as_service_error()
                    .and_then(|service| match service {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled) => Some(cancelled),
                        _ => None,
                    })
                    .is_some_and(|cancelled| {
                        cancelled.cancellation_reasons().iter().any(|reason| reason.code() == Some("ConditionalCheckFailed"))
                    });
                if cancelled_by_condition {
                    Err(Error::Conflict(format!("{operation}: a record exists already")))
                } else {
                    Err(classify(operation, error))
                }
            }
        }
    }

    async fn batch_put(&self, items: Vec<Item>) -> Result<()> {
        let requests = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build().map_err(Error::internal)?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>>>()?;
        self.batch_write(requests).await
    }

    /// Deletes the items of these `(pk, sk)` keys, in batches of 25.
    async fn batch_delete(&self, keys: Vec<(String, String)>) -> Result<()> {
        let requests = keys
            .into_iter()
            .map(|(pk, sk)| {
                let key = HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))]);
                let delete = DeleteRequest::builder().set_key(Some(key)).build().map_err(Error::internal)?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>>>()?;
        self.batch_write(requests).await
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(BATCH_WRITE_MAX) {
            let mut pending: Vec<WriteRequest> = chunk.to_vec();
            for try_number in 0..BATCH_WRITE_TRIES {
                if pending.is_empty() {
                    break;
                }
                if try_number > 0 {
                    tokio::time::sleep(Duration::from_millis(25 << try_number)).await;
                }
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|error| classify("batch_write_item", error))?;
                pending = output.unprocessed_items.and_then(|mut map| map.remove(&self.table)).unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(Error::Unavailable(format!("batch_write_item: {} items left unprocessed", pending.len())));
            }
        }
        Ok(())
    }

    async fn query_all<T: DeserializeOwned>(&self, on: On, pk: String, prefix: Option<&str>) -> Result<Vec<T>> {
        let mut records = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.query_page(on, pk.clone(), prefix, 1000, cursor.as_deref(), true).await?;
            records.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(records),
            }
        }
    }

    async fn query_page<T: DeserializeOwned>(
        &self,
        on: On,
        pk: String,
        prefix: Option<&str>,
        limit: i32,
        cursor: Option<&str>,
        ascending: bool,
    ) -> Result<Page<T>> {
        let (pk_name, sk_name) = match on {
            On::Table => ("pk", "sk"),
            On::Gsi1 => ("gsi1pk", "gsi1sk"),
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(pk))
            .limit(limit.max(1))
            .scan_index_forward(ascending)
            .set_exclusive_start_key(cursor.map(decode_cursor).transpose()?);
        if let On::Gsi1 = on {
            request = request.index_name("gsi1");
        }
        request = match prefix {
            Some(prefix) => request
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", sk_name)
                .expression_attribute_values(":prefix", s(prefix)),
            None => request.key_condition_expression("#pk = :pk"),
        };
        self.run_query(request).await
    }
}

/// A value (a time, a delivery status) as serde stores it, for a condition on a stored
/// attribute. A value that is not stored as a string is an internal error: a condition on
/// anything else would silently never hold.
fn stored_string(value: impl Serialize) -> Result<AttributeValue> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(s(text)),
        Ok(other) => Err(Error::internal(format!("a condition value is not stored as a string: {other}"))),
        Err(error) => Err(Error::internal(format!("encoding a condition value: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookline_domain::model::DeliveryStatus;

    #[test]
    fn when_condition_value_is_not_stored_as_a_string_should_be_an_internal_error() {
        let at = DateTime::from_timestamp_millis(1_795_000_000_123).expect("time");
        assert_eq!(
            stored_string(at).expect("a time"),
            s(serde_json::to_value(at).expect("json").as_str().expect("str"))
        );
        assert_eq!(stored_string(DeliveryStatus::Pending).expect("a status"), s("pending"));
        assert_eq!(stored_string(7).expect_err("a number").status(), 500);
    }

    #[test]
    fn when_envelope_expired_should_report_it() {
        let envelope = Envelope::new("p".into(), "s", ()).expiring(Some(10));
        assert!(envelope.is_expired(DateTime::from_timestamp(10, 0).expect("time")));
        assert!(!envelope.is_expired(DateTime::from_timestamp(9, 0).expect("time")));
    }
}
