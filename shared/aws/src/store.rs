//! The DynamoDB store: every record of Hookline in one table (layout in `keys.rs`).

use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, ReturnValue, TransactWriteItem, WriteRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};

use hookline_domain::model::{
    Account, AccountId, ApiKey, DeliveryStatus, Environment, EventType, LogEntry, NewApiKey, Webhook, WebhookId,
    hash_api_key,
};
use hookline_domain::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// Queries one page of the log may make (its day partitions and their pages).
const LOG_READS_PER_PAGE: usize = 40;
/// Items one log query reads.
const LOG_READ_SIZE: i32 = 200;
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

fn from_item<T: DeserializeOwned>(item: Item) -> Result<Envelope<T>> {
    serde_dynamo::from_item(item).map_err(|error| Error::internal(format!("decoding an item: {error}")))
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub use hookline_core::IdempotencyRecord;

/// What a log listing is narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only this environment.
    pub environment: Option<Environment>,
    /// Only messages accepted at or after this time (also where the walk back stops; the
    /// caller sets it to the retention horizon when the user did not).
    pub after: Option<DateTime<Utc>>,
    /// Only messages accepted before this time.
    pub before: Option<DateTime<Utc>>,
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatus>,
    /// Only deliveries to this webhook.
    pub webhook_id: Option<WebhookId>,
}

impl LogFilter {
    /// The smallest message id of the range: ids are `msg_` + a UUIDv7, whose first 12 hex
    /// digits are the Unix milliseconds, so a time range is a key range.
    fn low_id(&self) -> String {
        let millis = self.after.map_or(0, |at| at.timestamp_millis().max(0));
        format!("msg_{millis:012x}{}", "0".repeat(20))
    }

    fn high_id(&self) -> String {
        match self.before {
            Some(at) => format!("msg_{:012x}{}", (at.timestamp_millis() - 1).max(0), "f".repeat(20)),
            None => format!("msg_{}", "f".repeat(32)),
        }
    }

    /// The newest time the listing can reach.
    fn newest(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.before.map_or(now, |before| (before - chrono::Duration::milliseconds(1)).min(now))
    }

    /// Adds the filter expression of the conditions that are not key ranges.
    fn apply(
        &self,
        mut request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder> {
        let mut conditions = Vec::new();
        if let Some(event_type) = &self.event_type {
            conditions.push("event_type = :event_type");
            request = request.expression_attribute_values(":event_type", s(event_type.clone()));
        }
        if let Some(environment) = self.environment {
            conditions.push("#environment = :environment");
            request = request
                .expression_attribute_names("#environment", "environment")
                .expression_attribute_values(":environment", s(environment.as_str()));
        }
        if let Some(status) = self.status {
            conditions.push("#status = :status");
            request = request
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", stored_string(status)?);
        }
        if let Some(webhook) = self.webhook_id {
            conditions.push("webhook_id = :webhook");
            request = request.expression_attribute_values(":webhook", AttributeValue::N(webhook.to_string()));
        }
        Ok(if conditions.is_empty() { request } else { request.filter_expression(conditions.join(" AND ")) })
    }
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
}

impl Store {
    /// A store on `table`, through `client` (built once per process).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    // ---- accounts and keys ----

    /// Creates an account and its first API key, atomically: neither exists without the other.
    pub async fn create_account_with_key(&self, account: &Account, key: &ApiKey) -> Result<()> {
        let account_item = to_item(&Envelope::new(keys::account_pk(account.id), keys::ACCOUNT_SK, account))?;
        let key_item = to_item(&Self::api_key_envelope(key))?;
        self.transact_puts("create_account_with_key", vec![account_item, key_item]).await
    }

    /// The next account id, from an atomic counter.
    pub async fn next_account_id(&self) -> Result<AccountId> {
        self.increment(keys::ACCOUNT_COUNTER_PK.into(), keys::ACCOUNT_COUNTER_SK).await
    }

    /// Reads an account.
    pub async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        self.get(keys::account_pk(id), keys::ACCOUNT_SK).await
    }

    /// Adds an API key to an existing account.
    pub async fn put_api_key(&self, key: &ApiKey) -> Result<()> {
        if self.get_account(key.account_id).await?.is_none() {
            return Err(Error::not_found("account"));
        }
        self.put_new("put_api_key", &Self::api_key_envelope(key)).await
    }

    /// Creates an account with a key: the operator's path (dev runner, admin tools).
    pub async fn create_account(&self, name: &str, key: &NewApiKey) -> Result<Account> {
        let account = Account { id: key.record.account_id, name: name.into(), created_at: key.record.created_at };
        self.create_account_with_key(&account, &key.record).await?;
        Ok(account)
    }

    fn api_key_envelope(key: &ApiKey) -> Envelope<&ApiKey> {
        Envelope::new(keys::api_key_pk(&key.key_hash), keys::API_KEY_SK, key)
            .indexed(keys::api_keys_gsi1pk(key.account_id), key.id.clone())
    }

    /// The record of a bearer key, if it is one.
    pub async fn find_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        self.get(keys::api_key_pk(&hash_api_key(plaintext)), keys::API_KEY_SK).await
    }

    /// Every key of an account (records only; the keys themselves are not stored).
    pub async fn list_api_keys(&self, account: AccountId) -> Result<Vec<ApiKey>> {
        self.query_all(On::Gsi1, keys::api_keys_gsi1pk(account), None).await
    }

    // ---- webhooks ----

    /// The next webhook id of an account, from its atomic counter.
    pub async fn next_webhook_id(&self, account: AccountId) -> Result<WebhookId> {
        self.increment(keys::account_pk(account), keys::WEBHOOK_COUNTER_SK).await
    }

    /// Stores a new webhook; a conflict if its id is taken.
    pub async fn create_webhook(&self, webhook: &Webhook) -> Result<()> {
        self.put_new("create_webhook", &Self::webhook_envelope(webhook)).await
    }

    /// Replaces a webhook if its stored version is still `webhook.version - 1`; a conflict
    /// otherwise, so that of two concurrent updates one fails instead of being lost.
    pub async fn update_webhook(&self, webhook: &Webhook) -> Result<()> {
        let item = to_item(&Self::webhook_envelope(webhook))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk) AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", AttributeValue::N(webhook.version.saturating_sub(1).to_string()))
            .send()
            .await
            .map_err(|error| classify("update_webhook", error))?;
        Ok(())
    }

    fn webhook_envelope(webhook: &Webhook) -> Envelope<&Webhook> {
        Envelope::new(keys::account_pk(webhook.account_id), keys::webhook_sk(webhook.id), webhook)
    }

    /// Reads a webhook of an account.
    pub async fn get_webhook(&self, account: AccountId, id: WebhookId) -> Result<Option<Webhook>> {
        self.get(keys::account_pk(account), &keys::webhook_sk(id)).await
    }

    /// Every webhook of an account, in id order (all pages of the query).
    pub async fn list_webhooks(&self, account: AccountId) -> Result<Vec<Webhook>> {
        self.query_all(On::Table, keys::account_pk(account), Some(keys::WEBHOOK_PREFIX)).await
    }

    /// One page of an account's webhooks, in id order.
    pub async fn page_webhooks(&self, account: AccountId, limit: i32, cursor: Option<&str>) -> Result<Page<Webhook>> {
        self.query_page(On::Table, keys::account_pk(account), Some(keys::WEBHOOK_PREFIX), limit, cursor, true).await
    }

    /// Deletes a webhook; `false` if there was none.
    pub async fn delete_webhook(&self, account: AccountId, id: WebhookId) -> Result<bool> {
        self.delete_existing("delete_webhook", keys::account_pk(account), keys::webhook_sk(id)).await
    }

    // ---- event types ----

    /// Registers an event type; a conflict if the account has it already.
    pub async fn create_event_type(&self, event_type: &EventType) -> Result<()> {
        let envelope =
            Envelope::new(keys::account_pk(event_type.account_id), keys::event_type_sk(&event_type.name), event_type);
        self.put_new("create_event_type", &envelope).await
    }

    /// Every event type of an account, by name.
    pub async fn list_event_types(&self, account: AccountId) -> Result<Vec<EventType>> {
        self.query_all(On::Table, keys::account_pk(account), Some(keys::EVENT_TYPE_PREFIX)).await
    }

    /// Removes an event type; `false` if there was none.
    pub async fn delete_event_type(&self, account: AccountId, name: &str) -> Result<bool> {
        self.delete_existing("delete_event_type", keys::account_pk(account), keys::event_type_sk(name)).await
    }

    // ---- the delivery log ----

    /// Writes log entries (each with its TTL) in batches of 25, unconditionally: first
    /// attempts and unmatched messages, which no one else writes.
    pub async fn put_log_entries(&self, entries: &[(LogEntry, i64)]) -> Result<()> {
        let items = entries
            .iter()
            .map(|(entry, expires_at)| to_item(&log_envelope(entry, *expires_at)?))
            .collect::<Result<Vec<_>>>()?;
        self.batch_put(items).await
    }

    /// Rewrites a delivery's entry after an attempt, unless someone changed it since it was
    /// read with `updated_at == read_at` (`None`: unless it exists). `false` if someone did.
    pub async fn replace_log_entry(
        &self,
        entry: &LogEntry,
        read_at: Option<DateTime<Utc>>,
        expires_at: i64,
    ) -> Result<bool> {
        let mut request =
            self.client.put_item().table_name(&self.table).set_item(Some(to_item(&log_envelope(entry, expires_at)?)?));
        request = match read_at {
            Some(at) => request
                .condition_expression("updated_at = :read_at")
                .expression_attribute_values(":read_at", stored_string(at)?),
            None => request.condition_expression("attribute_not_exists(pk)"),
        };
        match request.send().await.map_err(|error| classify("replace_log_entry", error)) {
            Ok(_) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// One delivery's entry (another account's reads as absent, as an expired one).
    pub async fn get_log_entry(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
    ) -> Result<Option<LogEntry>> {
        let Some(day) = keys::message_day(message_id) else { return Ok(None) };
        self.get(keys::log_pk(account, day), &keys::log_sk(message_id, Some(webhook))).await
    }

    /// Every entry of a message, by webhook id; empty if there is no such message (yet).
    pub async fn message_entries(&self, account: AccountId, message_id: &str) -> Result<Vec<LogEntry>> {
        let mut entries = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.page_message_entries(account, message_id, 1000, cursor.as_deref()).await?;
            entries.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(entries),
            }
        }
    }

    /// A page of a message's entries, by webhook id.
    pub async fn page_message_entries(
        &self,
        account: AccountId,
        message_id: &str,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<LogEntry>> {
        let Some(day) = keys::message_day(message_id) else { return Ok(Page { items: Vec::new(), next_cursor: None }) };
        self.query_page(On::Table, keys::log_pk(account, day), Some(message_id), limit, cursor, true).await
    }

    /// Puts a finished delivery back to pending for one more try (manual retry, recovery);
    /// `false` if it is not in one of `from`.
    pub async fn reopen_delivery(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
        from: &[DeliveryStatus],
    ) -> Result<bool> {
        let Some(day) = keys::message_day(message_id) else { return Ok(false) };
        let names: Vec<String> = (0..from.len()).map(|index| format!(":from{index}")).collect();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::log_pk(account, day)))
            .key("sk", s(keys::log_sk(message_id, Some(webhook))))
            .update_expression("SET #status = :pending, updated_at = :now, next_attempt_at = :now")
            .condition_expression(format!("#status IN ({})", names.join(", ")))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", stored_string(DeliveryStatus::Pending)?)
            .expression_attribute_values(":now", stored_string(Utc::now())?);
        for (name, status) in names.iter().zip(from) {
            request = request.expression_attribute_values(name, stored_string(*status)?);
        }
        match request.send().await.map_err(|error| classify("reopen_delivery", error)) {
            Ok(_) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// A page of an account's log, newest message first, each message with its entries
    /// (only those that pass `filter`). Walks the day partitions from `before` (or now) back
    /// to `after`; filters apply after each read, so a page may hold fewer than `limit`
    /// messages (even none) and still have a next cursor. A message is never split between
    /// pages unless it alone outgrows a page's reads.
    pub async fn page_log(
        &self,
        account: AccountId,
        filter: &LogFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Vec<LogEntry>>> {
        let now = Utc::now();
        let oldest = filter.after.unwrap_or(now).date_naive();
        let (mut day, mut start) = match cursor {
            Some(cursor) => {
                let mut key = decode_cursor(cursor)?;
                let day = key
                    .get("pk")
                    .and_then(|pk| pk.as_s().ok())
                    .and_then(|pk| keys::log_pk_day(account, pk))
                    .filter(|_| key.keys().all(|name| name == "pk" || name == "sk"))
                    .ok_or_else(invalid_cursor)?;
                (day, key.remove("sk").map(|sk| (keys::log_pk(account, day), sk)))
            }
            None => (filter.newest(now).date_naive(), None),
        };
        let mut groups: Vec<Vec<LogEntry>> = Vec::new();
        let mut last_keys: Vec<(String, String)> = Vec::new();
        for _ in 0..LOG_READS_PER_PAGE {
            if day < oldest {
                return Ok(Page { items: groups, next_cursor: None });
            }
            let pk = keys::log_pk(account, day);
            let request = filter
                .apply(
                    self.client
                        .query()
                        .table_name(&self.table)
                        .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                        .expression_attribute_values(":pk", s(pk.clone()))
                        .expression_attribute_values(":low", s(filter.low_id()))
                        .expression_attribute_values(":high", s(filter.high_id() + "~"))
                        .scan_index_forward(false)
                        .limit(LOG_READ_SIZE),
                )?
                .set_exclusive_start_key(
                    start
                        .take()
                        .map(|(pk, sk)| [("pk".to_string(), s(pk)), ("sk".to_string(), sk)].into_iter().collect()),
                );
            let output = request.send().await.map_err(|error| classify("query", error))?;
            for item in output.items.unwrap_or_default() {
                let envelope: Envelope<LogEntry> = from_item(item)?;
                if envelope.is_expired(now) {
                    continue;
                }
                let same_message = groups.last().is_some_and(|group| group[0].message.id == envelope.record.message.id);
                if same_message {
                    if let (Some(group), Some(key)) = (groups.last_mut(), last_keys.last_mut()) {
                        group.push(envelope.record);
                        *key = (envelope.pk, envelope.sk);
                    }
                    continue;
                }
                if groups.len() == limit {
                    // The last message is complete: the next page starts after it.
                    let next = last_keys.pop().map(|(pk, sk)| encode_log_cursor(&pk, Some(&sk)));
                    return Ok(Page { items: groups, next_cursor: next });
                }
                groups.push(vec![envelope.record]);
                last_keys.push((envelope.pk, envelope.sk));
            }
            match output.last_evaluated_key.and_then(|mut key| key.remove("sk")) {
                Some(sk) => start = Some((pk, sk)),
                None => day = day.pred_opt().unwrap_or(NaiveDate::MIN),
            }
        }
        // Out of reads for this page: stop after the last message known to be complete.
        let next = if day < oldest {
            None
        } else if groups.len() > 1 {
            groups.pop();
            last_keys.pop();
            last_keys.last().map(|(pk, sk)| encode_log_cursor(pk, Some(sk)))
        } else {
            Some(match &start {
                Some((pk, sk)) => encode_log_cursor(pk, sk.as_s().ok().map(String::as_str)),
                None => encode_log_cursor(&keys::log_pk(account, day), None),
            })
        };
        Ok(Page { items: groups, next_cursor: next })
    }

    // ---- idempotency ----

    /// Claims an idempotency key: `None` if this call created the record, else the record
    /// that exists.
    pub async fn claim_idempotency(
        &self,
        account: AccountId,
        record: &IdempotencyRecord,
        expires_at: i64,
    ) -> Result<Option<IdempotencyRecord>> {
        let envelope = Envelope::new(keys::account_pk(account), keys::idempotency_sk(&record.key), record)
            .expiring(Some(expires_at));
        match self.put_new("claim_idempotency", &envelope).await {
            Ok(()) => Ok(None),
            Err(Error::Conflict(_)) => self.get(keys::account_pk(account), &keys::idempotency_sk(&record.key)).await,
            Err(error) => Err(error),
        }
    }

    /// Takes over an unfinished record whose lease has run out; `false` if another request
    /// holds the lease or the record is finished.
    pub async fn take_over_idempotency(
        &self,
        account: AccountId,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::account_pk(account)))
            .key("sk", s(keys::idempotency_sk(key)))
            .update_expression("SET lease_until_ms = :lease")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#response) AND lease_until_ms < :now")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":lease", AttributeValue::N(lease_until_ms.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .send()
            .await;
        match result.map_err(|error| classify("take_over_idempotency", error)) {
            Ok(_) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Records the response of a finished request; repeats answer it.
    pub async fn finish_idempotency(&self, account: AccountId, key: &str, response: &str) -> Result<()> {
        self.set_idempotency(account, key, "SET #response = :value", ":value", s(response)).await
    }

    /// Gives up the lease of a request that failed, so that its retry can resume at once.
    pub async fn release_idempotency(&self, account: AccountId, key: &str) -> Result<()> {
        self.set_idempotency(account, key, "SET lease_until_ms = :value", ":value", AttributeValue::N("0".into())).await
    }

    async fn set_idempotency(
        &self,
        account: AccountId,
        key: &str,
        expression: &str,
        name: &str,
        value: AttributeValue,
    ) -> Result<()> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::account_pk(account)))
            .key("sk", s(keys::idempotency_sk(key)))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(name, value);
        if expression.contains("#response") {
            request = request.expression_attribute_names("#response", "response");
        }
        request.send().await.map_err(|error| classify("update_idempotency", error))?;
        Ok(())
    }

    // ---- the generic operations ----

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

    async fn get<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>> {
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
        let Some(item) = output.item else { return Ok(None) };
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
        for chunk in items.chunks(BATCH_WRITE_MAX) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder().set_item(Some(item.clone())).build().map_err(Error::internal)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_>>()?;
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

/// A log entry with its keys and TTL.
fn log_envelope(entry: &LogEntry, expires_at: i64) -> Result<Envelope<&LogEntry>> {
    let day = keys::message_day(&entry.message.id)
        .ok_or_else(|| Error::internal(format!("{} is not a message id", entry.message.id)))?;
    Ok(Envelope::new(
        keys::log_pk(entry.message.account_id, day),
        keys::log_sk(&entry.message.id, entry.webhook_id),
        entry,
    )
    .expiring(Some(expires_at)))
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

/// A cursor is the query's last evaluated key (string attributes only), as base64url JSON.
fn encode_cursor(key: &Item) -> String {
    let strings: serde_json::Map<String, serde_json::Value> = key
        .iter()
        .filter_map(|(name, value)| value.as_s().ok().map(|text| (name.clone(), text.clone().into())))
        .collect();
    // A JSON object of strings always encodes: no error to lose, no empty cursor.
    URL_SAFE_NO_PAD.encode(serde_json::Value::Object(strings).to_string())
}

/// A position in the log: a day partition, and the last key read in it (none: its start).
fn encode_log_cursor(pk: &str, sk: Option<&str>) -> String {
    let mut key: Item = [("pk".to_string(), s(pk))].into_iter().collect();
    if let Some(sk) = sk {
        key.insert("sk".into(), s(sk));
    }
    encode_cursor(&key)
}

fn invalid_cursor() -> Error {
    Error::bad_param("page[cursor]", "invalid_cursor", "the cursor is not one this API gave")
}

fn decode_cursor(cursor: &str) -> Result<Item> {
    let invalid = invalid_cursor;
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let strings: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let allowed = ["pk", "sk", "gsi1pk", "gsi1sk"];
    if strings.is_empty() || strings.keys().any(|name| !allowed.contains(&name.as_str())) {
        return Err(invalid());
    }
    Ok(strings.into_iter().map(|(name, value)| (name, AttributeValue::S(value))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_cursor_round_trips_should_give_the_same_key() {
        let key: Item = [("pk".to_string(), s("A")), ("sk".to_string(), s("B"))].into_iter().collect();
        assert_eq!(decode_cursor(&encode_cursor(&key)).expect("decodes"), key);
    }

    #[test]
    fn when_cursor_is_forged_should_be_a_bad_parameter() {
        assert_eq!(decode_cursor("!!!").expect_err("bad").status(), 400);
        let forged = URL_SAFE_NO_PAD.encode(br#"{"other":"x"}"#);
        assert_eq!(decode_cursor(&forged).expect_err("bad").status(), 400);
    }

    #[test]
    fn when_time_range_given_should_bound_message_ids_by_their_uuid7_time() {
        let at = DateTime::from_timestamp_millis(1_795_000_000_123).expect("time");
        let id = format!(
            "msg_{}",
            uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, 1_795_000_000, 123_000_000)).simple()
        );
        let inside =
            LogFilter { after: Some(at), before: Some(at + chrono::Duration::milliseconds(1)), ..Default::default() };
        assert!(inside.low_id() <= id && id <= inside.high_id(), "{} <= {id} <= {}", inside.low_id(), inside.high_id());
        let later = LogFilter { after: Some(at + chrono::Duration::milliseconds(1)), ..Default::default() };
        assert!(id < later.low_id());
        let earlier = LogFilter { before: Some(at), ..Default::default() };
        assert!(id > earlier.high_id());
        let all = LogFilter::default();
        assert!(all.low_id() <= id && id <= all.high_id());
    }

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
