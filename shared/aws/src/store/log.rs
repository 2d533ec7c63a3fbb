//! The delivery log: its entries, their filters and pages, and reopening a delivery.

use super::cursor::{decode_log_cursor, encode_log_cursor};
use super::webhook_log::{Recorded, segment_items};
use super::{Envelope, Item, On, Page, Store, from_item, s, stored_string, to_item};
use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use hookline_domain::model::{AccountId, DeliveryStatus, Environment, LogEntry, WebhookId};
use hookline_domain::stats::{DeliveryRecord, LogSample};
use hookline_domain::{Error, Result};
use std::collections::HashMap;

/// Queries one page of the log may make: enough to walk 40 days of every shard when a
/// filter finds little (an empty shard's query costs half a read unit), so that a sparse
/// listing ends rather than handing out a cursor every few days.
const LOG_READS_PER_PAGE: usize = 40 * keys::LOG_SHARDS as usize;
/// Items one log query reads.
const LOG_READ_SIZE: usize = 200;
/// Items one query of `read_log_window` reads (it keeps no page, so reads are larger).
const LOG_WINDOW_READ_SIZE: usize = 1000;

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
    pub(super) fn low_id(&self) -> String {
        let millis = self.after.map_or(0, |at| at.timestamp_millis().max(0));
        format!("msg_{millis:012x}{}", "0".repeat(20))
    }

    pub(super) fn high_id(&self) -> String {
        match self.before {
            Some(at) => format!("msg_{:012x}{}", (at.timestamp_millis() - 1).max(0), "f".repeat(20)),
            None => format!("msg_{}", "f".repeat(32)),
        }
    }

    /// The newest time the listing can reach.
    pub(super) fn newest(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.before.map_or(now, |before| (before - chrono::Duration::milliseconds(1)).min(now))
    }

    /// Whether an entry read passes the conditions that are not key ranges (all but the webhook,
    /// which a webhook's own log is read by).
    pub(super) fn matches(&self, entry: &LogEntry) -> bool {
        self.event_type.as_ref().is_none_or(|event_type| *event_type == entry.message.event_type)
            && self.environment.is_none_or(|environment| environment == entry.message.environment)
            && self.status.is_none_or(|status| Some(status) == entry.status)
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

impl Store {
    /// Writes log entries (each with its TTL) in batches of 25, unconditionally: first
    /// attempts and unmatched messages, which no one else writes.
    pub async fn put_log_entries(&self, entries: &[(LogEntry, i64)]) -> Result<()> {
        // Boxed: the marker's future inside every writer's would deepen the deliver handler's
        // future past the compiler's layout depth limit.
        Box::pin(self.mark_log_days(entries.iter().map(|(entry, expires_at)| (entry, *expires_at)))).await?;
        let mut items =
            entries.iter().map(|(entry, expires_at)| log_item(entry, *expires_at)).collect::<Result<Vec<_>>>()?;
        items.extend(segment_items(entries.iter().filter_map(|(entry, expires_at)| Recorded::of(entry, *expires_at))));
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
        Box::pin(self.mark_log_days([(entry, expires_at)])).await?;
        if read_at.is_none() {
            // A new entry (the test send): its webhook's log names it first.
            self.batch_put(segment_items(Recorded::of(entry, expires_at))).await?;
        }
        let mut request = self.client.put_item().table_name(&self.table).set_item(Some(log_item(entry, expires_at)?));
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
        let Some(pk) = keys::log_pk_of(account, message_id) else { return Ok(None) };
        self.get(pk, &keys::log_sk(message_id, Some(webhook))).await
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
        let Some(pk) = keys::log_pk_of(account, message_id) else {
            return Ok(Page { items: Vec::new(), next_cursor: None });
        };
        self.query_page(On::Table, pk, Some(message_id), limit, cursor, true).await
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
        let Some(pk) = keys::log_pk_of(account, message_id) else { return Ok(false) };
        let names: Vec<String> = (0..from.len()).map(|index| format!(":from{index}")).collect();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
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
    /// to `after`, merging each day's shards by message id; filters apply after each read, so a
    /// page may hold fewer than `limit` messages (even none) and still have a next cursor. A
    /// message is never split between pages. The cursor is the day and the key the next page
    /// reads below, whatever the shards: every message above it was listed or filtered out.
    pub async fn page_log(
        &self,
        account: AccountId,
        filter: &LogFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Vec<LogEntry>>> {
        if let Some(webhook) = filter.webhook_id {
            return self.page_webhook_log(account, webhook, filter, limit, cursor).await;
        }
        let now = Utc::now();
        let oldest = filter.after.unwrap_or(now).date_naive();
        let top = filter.high_id() + "~";
        let (newest, mut below) = match cursor {
            Some(cursor) => {
                let (day, below) = decode_log_cursor(cursor, |pk| keys::log_pk_day(account, pk))?;
                (day, below.min(top.clone()))
            }
            None => (filter.newest(now).date_naive(), top.clone()),
        };
        let per_shard = limit.saturating_mul(3).div_ceil(2 * keys::LOG_SHARDS as usize).clamp(2, 200);
        let mut groups: Vec<Vec<LogEntry>> = Vec::new();
        let days = self.log_days(account, oldest, newest).await?;
        let mut queries = 1;
        for (index, &day) in days.iter().enumerate() {
            if day != newest {
                below = top.clone();
            }
            let day_key = keys::log_day(account, day);
            let mut shards: Vec<ShardRead> = (0..keys::LOG_SHARDS)
                .map(|shard| ShardRead::new(keys::log_pk(account, day, shard), per_shard))
                .collect();
            loop {
                // Every shard not done must show its next item before the greatest is taken:
                // a shard whose reads were all filtered out may still hold a greater one.
                loop {
                    if !shards.iter().any(|shard| shard.buffer.is_empty() && !shard.done) {
                        break;
                    }
                    if queries >= LOG_READS_PER_PAGE {
                        // Out of reads: the next page starts below the last message listed,
                        // or, if none was, where every shard has been read down to.
                        let last = groups.last().map(|group| group[0].message.id.clone());
                        if let Some(bound) = last.or_else(|| read_down_to(&shards)) {
                            let next_cursor = Some(encode_log_cursor(&day_key, Some(&bound)));
                            return Ok(Page { items: groups, next_cursor });
                        }
                    }
                    let waiting = shards.iter_mut().filter(|shard| shard.buffer.is_empty() && !shard.done);
                    let reads: Vec<_> = waiting.map(|shard| self.read_shard(shard, filter, &below, now)).collect();
                    queries += reads.len();
                    futures::future::try_join_all(reads).await?;
                }
                // The greatest head of all shards is the next message in order.
                let Some(shard) = shards
                    .iter_mut()
                    .filter(|shard| !shard.buffer.is_empty())
                    .max_by(|a, b| a.buffer[0].message.id.cmp(&b.buffer[0].message.id))
                else {
                    break;
                };
                let id = shard.buffer[0].message.id.clone();
                while !shard.done && shard.buffer.back().is_some_and(|entry| entry.message.id == id) {
                    queries += 1;
                    self.read_shard(shard, filter, &below, now).await?;
                }
                if groups.len() == limit {
                    let last = groups.last().map_or(below.as_str(), |group| group[0].message.id.as_str());
                    let next_cursor = Some(encode_log_cursor(&day_key, Some(last)));
                    return Ok(Page { items: groups, next_cursor });
                }
                let mut group = Vec::new();
                while shard.buffer.front().is_some_and(|entry| entry.message.id == id) {
                    group.extend(shard.buffer.pop_front());
                }
                groups.push(group);
                if queries >= LOG_READS_PER_PAGE {
                    return Ok(Page { items: groups, next_cursor: Some(encode_log_cursor(&day_key, Some(&id))) });
                }
            }
            if let Some(&previous) = days.get(index + 1)
                && queries >= LOG_READS_PER_PAGE
            {
                // Out of reads at a day's end: the next page starts with the next day.
                let next_cursor = Some(encode_log_cursor(&keys::log_day(account, previous), Some(&top)));
                return Ok(Page { items: groups, next_cursor });
            }
        }
        Ok(Page { items: groups, next_cursor: None })
    }

    /// The days from `newest` back to `oldest` on which the account's log has entries, newest
    /// first (one query of the account's day markers).
    pub(super) async fn log_days(
        &self,
        account: AccountId,
        oldest: NaiveDate,
        newest: NaiveDate,
    ) -> Result<Vec<NaiveDate>> {
        let mut days = Vec::new();
        if oldest > newest {
            return Ok(days);
        }
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                .expression_attribute_values(":pk", s(keys::account_pk(account)))
                .expression_attribute_values(":low", s(keys::log_day_sk(oldest)))
                .expression_attribute_values(":high", s(keys::log_day_sk(newest)))
                .projection_expression("sk")
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| classify("query", error))?;
            days.extend(
                output.items.unwrap_or_default().iter().filter_map(|item| keys::log_day_of_sk(&string(item, "sk")?)),
            );
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(days),
            }
        }
    }

    /// Marks the days of `entries` in their accounts' day markers, once per process and day:
    /// a listing reads only marked days. Written before the entries, so an entry is never on
    /// an unmarked day; kept two days past the latest entry it was written for.
    async fn mark_log_days<'e>(&self, entries: impl IntoIterator<Item = (&'e LogEntry, i64)>) -> Result<()> {
        let mut unmarked: HashMap<(AccountId, NaiveDate), i64> = HashMap::new();
        {
            let marked = self.marked_days.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (entry, expires_at) in entries {
                let Some(day) = keys::message_day(&entry.message.id) else { continue };
                let key = (entry.message.account_id, day);
                if !marked.contains(&key) {
                    let latest = unmarked.entry(key).or_insert(expires_at);
                    *latest = (*latest).max(expires_at);
                }
            }
        }
        for ((account, day), expires_at) in unmarked {
            self.mark_log_day(account, day, expires_at).await?;
        }
        Ok(())
    }

    /// Writes the marker of an account's log day, kept two days past `expires_at`.
    async fn mark_log_day(&self, account: AccountId, day: NaiveDate, expires_at: i64) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(keys::account_pk(account)))
            .item("sk", s(keys::log_day_sk(day)))
            .item("expires_at", AttributeValue::N((expires_at + 2 * 86_400).to_string()))
            .send()
            .await
            .map_err(|error| classify("mark_log_day", error))?;
        self.marked_days.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert((account, day));
        Ok(())
    }

    /// A query of a log partition from the filter's lowest id up to `high`, with the filter's
    /// conditions that are not key ranges.
    fn range_query(
        &self,
        pk: &str,
        filter: &LogFilter,
        high: &str,
    ) -> Result<aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder> {
        filter.apply(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":low", s(filter.low_id()))
                .expression_attribute_values(":high", s(high)),
        )
    }

    /// Reads on down one shard of a day: its next items below `below` (newest first) that
    /// pass `filter`, at most `shard.size` read, the size doubling for the next read.
    async fn read_shard(
        &self,
        shard: &mut ShardRead,
        filter: &LogFilter,
        below: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let request = self
            .range_query(&shard.pk, filter, below)?
            .scan_index_forward(false)
            .limit(i32::try_from(shard.size).unwrap_or(i32::MAX))
            .set_exclusive_start_key(
                shard.next.clone().map(|sk| [("pk".to_string(), s(shard.pk.clone())), ("sk".to_string(), sk)].into()),
            );
        let started_at = shard.next.take();
        let output = request.send().await.map_err(|error| classify("query", error))?;
        for item in output.items.unwrap_or_default() {
            let envelope: Envelope<LogEntry> = from_item(item)?;
            // The bound itself is excluded: a cursor names the last message listed.
            if !envelope.is_expired(now) && envelope.sk != below {
                shard.buffer.push_back(envelope.record);
            }
        }
        shard.next = output.last_evaluated_key.and_then(|mut key| key.remove("sk"));
        // A read that ends where it started made no progress: nothing more to read there.
        shard.done = shard.next.is_none() || shard.next == started_at;
        shard.size = (shard.size * 2).min(LOG_READ_SIZE);
        Ok(())
    }
}

impl Store {
    /// Moves the log entries written before the log was sharded (partition `LOG#{account}#{day}`)
    /// to their shard's partition, as they are; returns how many moved. Idempotent. One scan
    /// of the table: run it once after upgrading (`hookline-local migrate`; `make dev` does).
    pub async fn migrate_log(&self) -> Result<usize> {
        let mut moved = 0;
        let mut start: Option<Item> = None;
        loop {
            let (items, next) = self.scan_log_page(None, None, start.take()).await?;
            for mut item in items {
                let (Some(pk), Some(sk)) = (string(&item, "pk"), string(&item, "sk")) else { continue };
                let message_id = sk.split('#').next().unwrap_or_default();
                let Some(account) = pk.split('#').nth(1).and_then(|id| id.parse().ok()) else { continue };
                let Some(sharded) = keys::log_pk_of(account, message_id) else { continue };
                // Only the day key itself is a partition of before: a shard's key is longer.
                if keys::log_pk_day(account, &pk).is_none() || pk == sharded {
                    continue;
                }
                let expires_at = item.get("expires_at").and_then(|value| value.as_n().ok()?.parse().ok());
                if let (Some(day), Some(expires_at)) = (keys::log_pk_day(account, &pk), expires_at) {
                    self.mark_log_day(account, day, expires_at).await?;
                }
                item.insert("pk".into(), s(sharded));
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(|error| classify("migrate_log", error))?;
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", s(pk))
                    .key("sk", s(sk))
                    .send()
                    .await
                    .map_err(|error| classify("migrate_log", error))?;
                moved += 1;
            }
            match next {
                Some(key) => start = Some(key),
                None => return Ok(moved),
            }
        }
    }

    /// One page of a Scan of the log's entries (`LOG#` items; with `condition` too, and only
    /// `projection` if given), from `start`; and where the next page starts. Migrations only:
    /// nothing that serves a request scans.
    pub(super) async fn scan_log_page(
        &self,
        condition: Option<&str>,
        projection: Option<&str>,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>)> {
        let filter = match condition {
            Some(condition) => format!("begins_with(pk, :log) AND {condition}"),
            None => "begins_with(pk, :log)".to_string(),
        };
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(filter)
            .expression_attribute_values(":log", s("LOG#"))
            .set_projection_expression(projection.map(str::to_string))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|error| classify("scan", error))?;
        Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
    }
}

fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

/// The bound above which every shard has been read and nothing read is waiting to be
/// listed: a shard's next item (included), else where its reads stopped.
fn read_down_to(shards: &[ShardRead]) -> Option<String> {
    shards
        .iter()
        .filter_map(|shard| match shard.buffer.front() {
            Some(entry) => Some(format!("{}~", entry.message.id)),
            None => shard.next.as_ref().and_then(|sk| sk.as_s().ok()).cloned(),
        })
        .max()
}

/// What a merge of a day's shards has read of one shard and not yet listed.
struct ShardRead {
    pk: String,
    buffer: std::collections::VecDeque<LogEntry>,
    next: Option<AttributeValue>,
    done: bool,
    size: usize,
}

impl ShardRead {
    fn new(pk: String, size: usize) -> Self {
        Self { pk, buffer: std::collections::VecDeque::new(), next: None, done: false, size }
    }
}

impl Store {
    /// The deliveries of an account's log that pass `filter` (its `after` must be set: where
    /// the read stops), newest day first, every shard of a day, only what the stats need
    /// (status and attempts: the payload is not fetched, though DynamoDB bills the whole items
    /// it reads). Bounded: at most `max_entries` items read (those the filter drops included:
    /// DynamoDB bills them too) in at most `max_queries` queries; a read that stops at its
    /// bound leaves out the day it stopped in, and says the oldest time it covers in full.
    pub async fn read_log_window(
        &self,
        account: AccountId,
        filter: &LogFilter,
        max_entries: usize,
        max_queries: usize,
    ) -> Result<LogSample> {
        if let Some(webhook) = filter.webhook_id {
            return self.read_webhook_window(account, webhook, filter, max_entries).await;
        }
        let now = Utc::now();
        let after = filter.after.unwrap_or(now);
        let oldest = after.date_naive();
        let newest = filter.newest(now).date_naive();
        let mut sample = LogSample { deliveries: Vec::new(), entries_read: 0, truncated: false, covered_from: after };
        let mut queries = 1;
        for day in self.log_days(account, oldest, newest).await? {
            let kept = sample.deliveries.len();
            for shard in 0..keys::LOG_SHARDS {
                let pk = keys::log_pk(account, day, shard);
                let mut start: Option<AttributeValue> = None;
                loop {
                    if sample.entries_read >= max_entries || queries >= max_queries {
                        // This day is only partly read: its entries are left out.
                        sample.deliveries.truncate(kept);
                        sample.truncated = true;
                        let next_day = day.succ_opt().and_then(|next| next.and_hms_opt(0, 0, 0));
                        sample.covered_from = next_day.map_or(now, |midnight| midnight.and_utc().max(after));
                        return Ok(sample);
                    }
                    let limit = (max_entries - sample.entries_read).min(LOG_WINDOW_READ_SIZE);
                    let request = self
                        .range_query(&pk, filter, &(filter.high_id() + "~"))?
                        .projection_expression("pk, sk, expires_at, #status, attempts, entry_z")
                        .expression_attribute_names("#status", "status")
                        .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                        .set_exclusive_start_key(
                            start.take().map(|sk| [("pk".to_string(), s(pk.clone())), ("sk".to_string(), sk)].into()),
                        );
                    let output = request.send().await.map_err(|error| classify("query", error))?;
                    queries += 1;
                    sample.entries_read += usize::try_from(output.scanned_count).unwrap_or(0);
                    for item in output.items.unwrap_or_default() {
                        let mut envelope: Envelope<DeliveryRecord> = from_item(item)?;
                        if !envelope.is_expired(now) {
                            envelope.record.accepted_at = message_time(&envelope.sk);
                            sample.deliveries.push(envelope.record);
                        }
                    }
                    match output.last_evaluated_key.and_then(|mut key| key.remove("sk")) {
                        Some(sk) => start = Some(sk),
                        None => break,
                    }
                }
            }
        }
        Ok(sample)
    }
}

/// The acceptance time of the message a log sort key (`{m}` or `{m}#{w}`) starts with: the
/// Unix milliseconds in the first 12 hex digits of its UUIDv7.
pub(super) fn message_time(sk: &str) -> Option<DateTime<Utc>> {
    let hex = sk.strip_prefix("msg_")?.get(..12)?;
    DateTime::from_timestamp_millis(i64::from_str_radix(hex, 16).ok()?)
}

/// The attribute holding the rest of a stored entry: its JSON, deflated.
const DEFLATED: &str = "entry_z";
/// The attributes of an entry kept as they are, outside `entry_z`: what key conditions,
/// filter expressions, condition expressions and `reopen_delivery`'s update name.
const PLAIN: [&str; 6] = ["event_type", "environment", "status", "webhook_id", "updated_at", "next_attempt_at"];
/// Deflate's level: 6 compresses realistic JSON within 2 % of 9, at a third of its CPU.
const DEFLATE_LEVEL: u8 = 6;
/// The most a stored entry may inflate to: the 256 KiB payload limit, with room for its attempts.
const MAX_INFLATED: usize = 4 << 20;

/// A log entry's item: its keys, TTL and `PLAIN` attributes, and everything else (the
/// payload, the attempts with their responses) deflated into one binary attribute. A delivery's
/// entry is written at least once per attempt, and each write costs a unit per KB of item,
/// so its size is the log's cost (see `docs/data-model.md`).
fn log_item(entry: &LogEntry, expires_at: i64) -> Result<Item> {
    let serde_json::Value::Object(mut rest) = serde_json::to_value(entry).map_err(Error::internal)? else {
        return Err(Error::internal("a log entry is a JSON object"));
    };
    let plain: serde_json::Map<String, serde_json::Value> =
        PLAIN.iter().filter_map(|name| rest.remove_entry(*name)).collect();
    let pk = keys::log_pk_of(entry.message.account_id, &entry.message.id)
        .ok_or_else(|| Error::internal(format!("{} is not a message id", entry.message.id)))?;
    let envelope =
        Envelope::new(pk, keys::log_sk(&entry.message.id, entry.webhook_id), plain).expiring(Some(expires_at));
    let mut item = to_item(&envelope)?;
    let json = serde_json::to_vec(&rest).map_err(Error::internal)?;
    let deflated = miniz_oxide::deflate::compress_to_vec(&json, DEFLATE_LEVEL);
    item.insert(DEFLATED.into(), AttributeValue::B(Blob::new(deflated)));
    Ok(item)
}

/// Puts a stored entry's deflated attributes back beside its plain ones, as every reader
/// expects them. Items written before entries were deflated have none, and are left as they
/// are; a plain attribute wins over a deflated one of the same name.
pub(super) fn inflate(item: &mut Item) -> Result<()> {
    let Some(AttributeValue::B(deflated)) = item.remove(DEFLATED) else { return Ok(()) };
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(deflated.as_ref(), MAX_INFLATED)
        .map_err(|error| Error::internal(format!("inflating a stored entry: {error}")))?;
    let rest: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&json).map_err(Error::internal)?;
    for (name, value) in rest {
        if let std::collections::hash_map::Entry::Vacant(vacant) = item.entry(name) {
            let value = serde_dynamo::to_attribute_value(value)
                .map_err(|error| Error::internal(format!("decoding a stored entry: {error}")))?;
            vacant.insert(value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
