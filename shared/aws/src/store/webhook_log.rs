//! A webhook's own log: the ids of its messages, by day, in segments written beside the
//! entries, so that its attempts, recovery and stats read its own entries and not its
//! account's other traffic.
//!
//! A segment is the ids one worker batch recorded for one webhook, all within
//! `SEGMENT_SPAN_MS` of each other, stored as 16 bytes each; its sort key starts with its
//! greatest id. A segment costs a write unit per batch and webhook (about 60 ids fit in a
//! unit), not per delivery: see `docs/data-model.md`.

use super::cursor::{decode_log_cursor, encode_log_cursor, invalid_cursor};
use super::log::{LogFilter, message_time};
use super::{Envelope, Item, Page, Store, from_item, s};
use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use chrono::{DateTime, NaiveDate, Utc};
use hookline_domain::model::{AccountId, LogEntry, WebhookId};
use hookline_domain::stats::{DeliveryRecord, LogSample};
use hookline_domain::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::time::Duration;

/// The most a segment's ids may lie apart in acceptance time. A page resuming below message
/// `m` re-reads the segments whose greatest id is within this of `m` (they may hold ids below
/// it); a smaller span splits a batch into more segments.
const SEGMENT_SPAN_MS: i64 = 1_000;
/// The attribute holding a segment's ids, 16 bytes each (the UUIDv7 of `msg_…`).
const IDS: &str = "ids";
/// Segments one query reads.
const SEGMENT_READ_SIZE: i32 = 100;
/// Keys DynamoDB takes in one `BatchGetItem`.
const BATCH_GET_MAX: usize = 100;
/// Tries of a batch's unprocessed keys before the read is reported as unavailable.
const BATCH_GET_TRIES: u32 = 6;
/// Entries one page may read (those a filter drops included) before it ends with a cursor.
const ENTRIES_READ_PER_PAGE: usize = 2_000;

/// One recorded delivery, as a segment names it.
pub(super) struct Recorded<'a> {
    pub account: AccountId,
    pub webhook: WebhookId,
    pub message_id: &'a str,
    pub expires_at: i64,
}

impl<'a> Recorded<'a> {
    /// The delivery an entry records; `None` for a message that matched no webhook.
    pub fn of(entry: &'a LogEntry, expires_at: i64) -> Option<Self> {
        Some(Self {
            account: entry.message.account_id,
            webhook: entry.webhook_id?,
            message_id: &entry.message.id,
            expires_at,
        })
    }
}

/// The segments naming `recorded`: per account, webhook and day, the ids in order, cut where
/// they would span more than `SEGMENT_SPAN_MS`; each kept as long as its latest entry.
pub(super) fn segment_items<'a>(recorded: impl IntoIterator<Item = Recorded<'a>>) -> Vec<Item> {
    let mut groups: HashMap<(AccountId, WebhookId, NaiveDate), Vec<(u128, i64)>> = HashMap::new();
    for delivery in recorded {
        let (Some(day), Some(id)) = (keys::message_day(delivery.message_id), id_bits(delivery.message_id)) else {
            continue;
        };
        groups.entry((delivery.account, delivery.webhook, day)).or_default().push((id, delivery.expires_at));
    }
    let mut items = Vec::new();
    for ((account, webhook, day), mut ids) in groups {
        ids.sort_unstable();
        ids.dedup_by_key(|(id, _)| *id);
        let mut start = 0;
        while start < ids.len() {
            let first = millis(ids[start].0);
            let end = start + ids[start..].iter().take_while(|(id, _)| millis(*id) - first < SEGMENT_SPAN_MS).count();
            let segment = &ids[start..end];
            let bytes: Vec<u8> = segment.iter().flat_map(|(id, _)| id.to_be_bytes()).collect();
            let greatest = id_text(segment[segment.len() - 1].0);
            let digest = hex::encode(&Sha256::digest(&bytes)[..8]);
            let expires_at = segment.iter().map(|(_, at)| *at).max().unwrap_or_default();
            items.push(Item::from([
                ("pk".to_string(), s(keys::webhook_log_pk(account, webhook, day))),
                ("sk".to_string(), s(keys::webhook_log_sk(&greatest, &digest))),
                (IDS.to_string(), AttributeValue::B(Blob::new(bytes))),
                ("expires_at".to_string(), AttributeValue::N(expires_at.to_string())),
            ]));
            start = end;
        }
    }
    items
}

/// The 128 bits of a message id (`msg_` + 32 hex digits).
fn id_bits(message_id: &str) -> Option<u128> {
    let hex = message_id.strip_prefix("msg_").filter(|hex| hex.len() == 32)?;
    u128::from_str_radix(hex, 16).ok()
}

fn id_text(bits: u128) -> String {
    format!("msg_{bits:032x}")
}

/// The Unix milliseconds of a UUIDv7: its first 48 bits.
fn millis(bits: u128) -> i64 {
    i64::try_from(bits >> 80).unwrap_or(i64::MAX)
}

/// The Unix milliseconds a message id (or a bound starting with one) starts with.
fn text_millis(bound: &str) -> Option<i64> {
    i64::from_str_radix(bound.strip_prefix("msg_")?.get(..12)?, 16).ok()
}

/// A walk down one day of a webhook's log, newest id first: segments are read in order of
/// their greatest id, and an id is handed out once no segment left to read can hold a greater one.
struct DayWalk {
    pk: String,
    low: String,
    below: String,
    segments: VecDeque<(String, Vec<String>)>,
    next: Option<Item>,
    done: bool,
    waiting: BinaryHeap<String>,
    seen: HashSet<String>,
}

impl DayWalk {
    fn new(pk: String, low: String, below: String) -> Self {
        Self {
            pk,
            low,
            below,
            segments: VecDeque::new(),
            next: None,
            done: false,
            waiting: BinaryHeap::new(),
            seen: HashSet::new(),
        }
    }
}

impl Store {
    /// `page_log` for one webhook (`filter.webhook_id`): its day segments give its message
    /// ids newest first, and one `BatchGetItem` per page reads their entries; the other
    /// conditions of `filter` apply to the entries read. The cursor is the day and the last
    /// message listed or dropped.
    pub(super) async fn page_webhook_log(
        &self,
        account: AccountId,
        webhook: WebhookId,
        filter: &LogFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Vec<LogEntry>>> {
        let now = Utc::now();
        let oldest = filter.after.unwrap_or(now).date_naive();
        let top = filter.high_id() + "~";
        let (newest, mut below) = match cursor {
            Some(cursor) => {
                let (day, below) = decode_log_cursor(cursor, |pk| keys::webhook_log_pk_day(account, webhook, pk))?;
                if text_millis(&below).is_none() {
                    return Err(invalid_cursor());
                }
                (day, below.min(top.clone()))
            }
            None => (filter.newest(now).date_naive(), top.clone()),
        };
        // Without a condition on the entries every id read is listed: read no more than the page.
        let narrowed = filter.event_type.is_some() || filter.environment.is_some() || filter.status.is_some();
        let mut groups: Vec<Vec<LogEntry>> = Vec::new();
        let mut read = 0;
        let days = self.log_days(account, oldest, newest).await?;
        for (index, &day) in days.iter().enumerate() {
            if day != newest {
                below = top.clone();
            }
            let pk = keys::webhook_log_pk(account, webhook, day);
            let mut walk = DayWalk::new(pk.clone(), filter.low_id(), below.clone());
            let mut size = limit.max(1);
            loop {
                let wanted = if narrowed { size } else { limit - groups.len() }.clamp(1, BATCH_GET_MAX);
                let mut ids = Vec::with_capacity(wanted);
                while ids.len() < wanted {
                    match self.next_webhook_message(&mut walk, now).await? {
                        Some(id) => ids.push(id),
                        None => break,
                    }
                }
                if ids.is_empty() {
                    break;
                }
                let mut entries = self.webhook_entries(account, webhook, &ids, now).await?;
                read += ids.len();
                size = (size * 2).min(BATCH_GET_MAX);
                for id in &ids {
                    if let Some(entry) = entries.remove(id).filter(|entry| filter.matches(entry)) {
                        groups.push(vec![entry]);
                    }
                    if groups.len() == limit || (read >= ENTRIES_READ_PER_PAGE && Some(id) == ids.last()) {
                        return Ok(Page { items: groups, next_cursor: Some(encode_log_cursor(&pk, Some(id))) });
                    }
                }
            }
            if let Some(&previous) = days.get(index + 1)
                && read >= ENTRIES_READ_PER_PAGE
            {
                let next_pk = keys::webhook_log_pk(account, webhook, previous);
                return Ok(Page { items: groups, next_cursor: Some(encode_log_cursor(&next_pk, Some(&top))) });
            }
        }
        Ok(Page { items: groups, next_cursor: None })
    }

    /// `read_log_window` for one webhook: every entry of its segments in the window, reading
    /// only what the stats need.
    pub(super) async fn read_webhook_window(
        &self,
        account: AccountId,
        webhook: WebhookId,
        filter: &LogFilter,
        max_entries: usize,
    ) -> Result<LogSample> {
        let now = Utc::now();
        let after = filter.after.unwrap_or(now);
        let newest = filter.newest(now).date_naive();
        let mut sample = LogSample { deliveries: Vec::new(), entries_read: 0, truncated: false, covered_from: after };
        let top = filter.high_id() + "~";
        for day in self.log_days(account, after.date_naive(), newest).await? {
            let mut walk = DayWalk::new(keys::webhook_log_pk(account, webhook, day), filter.low_id(), top.clone());
            let mut ids = Vec::new();
            while let Some(id) = self.next_webhook_message(&mut walk, now).await? {
                ids.push(id);
            }
            if sample.entries_read + ids.len() > max_entries {
                // This day would pass the bound: it is left out.
                sample.truncated = true;
                let next_day = day.succ_opt().and_then(|next| next.and_hms_opt(0, 0, 0));
                sample.covered_from = next_day.map_or(now, |midnight| midnight.and_utc().max(after));
                return Ok(sample);
            }
            sample.entries_read += ids.len();
            let projection = Some("pk, sk, expires_at, #status, attempts, entry_z");
            for item in self.batch_get(account, webhook, &ids, projection).await? {
                let mut envelope: Envelope<DeliveryRecord> = from_item(item)?;
                if !envelope.is_expired(now) {
                    envelope.record.accepted_at = message_time(&envelope.sk);
                    sample.deliveries.push(envelope.record);
                }
            }
        }
        Ok(sample)
    }

    /// The next id of a day walk, newest first; `None` at the day's end.
    async fn next_webhook_message(&self, walk: &mut DayWalk, now: DateTime<Utc>) -> Result<Option<String>> {
        loop {
            if walk.segments.is_empty() && !walk.done {
                self.read_segments(walk, now).await?;
                continue;
            }
            let frontier = walk.segments.front().map(|(greatest, _)| greatest);
            if walk.waiting.peek().is_some_and(|id| frontier.is_none_or(|frontier| id > frontier)) {
                return Ok(walk.waiting.pop());
            }
            let Some((_, ids)) = walk.segments.pop_front() else { return Ok(None) };
            for id in ids {
                if id >= walk.low && id < walk.below && walk.seen.insert(id.clone()) {
                    walk.waiting.push(id);
                }
            }
        }
    }

    /// Reads the walk's next segments: from where it stopped, or from the greatest id that a
    /// segment holding an id below `below` can have.
    async fn read_segments(&self, walk: &mut DayWalk, now: DateTime<Utc>) -> Result<()> {
        let reach = text_millis(&walk.below).map_or(i64::MAX, |at| at.saturating_add(SEGMENT_SPAN_MS));
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
            .expression_attribute_values(":pk", s(walk.pk.clone()))
            .expression_attribute_values(":low", s(walk.low.clone()))
            .expression_attribute_values(":high", s(format!("msg_{reach:012x}~")))
            .scan_index_forward(false)
            .limit(SEGMENT_READ_SIZE)
            .set_exclusive_start_key(walk.next.take())
            .send()
            .await
            .map_err(|error| classify("query", error))?;
        for item in output.items.unwrap_or_default() {
            let expired = item
                .get("expires_at")
                .and_then(|at| at.as_n().ok()?.parse::<i64>().ok())
                .is_some_and(|at| at <= now.timestamp());
            let (Some(AttributeValue::S(sk)), Some(AttributeValue::B(ids))) = (item.get("sk"), item.get(IDS)) else {
                continue;
            };
            if expired {
                continue;
            }
            let greatest = sk.split('#').next().unwrap_or_default().to_string();
            let ids = ids
                .as_ref()
                .chunks_exact(16)
                .map(|bytes| id_text(u128::from_be_bytes(bytes.try_into().unwrap_or_default())))
                .collect();
            walk.segments.push_back((greatest, ids));
        }
        walk.next = output.last_evaluated_key;
        walk.done = walk.next.is_none();
        Ok(())
    }

    /// The live entries of `webhook` for `ids`, by message id (an id whose entry expired, or
    /// was never written, is missing).
    async fn webhook_entries(
        &self,
        account: AccountId,
        webhook: WebhookId,
        ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, LogEntry>> {
        let mut entries = HashMap::new();
        for item in self.batch_get(account, webhook, ids, None).await? {
            let envelope: Envelope<LogEntry> = from_item(item)?;
            if !envelope.is_expired(now) {
                entries.insert(envelope.record.message.id.clone(), envelope.record);
            }
        }
        Ok(entries)
    }

    /// `BatchGetItem` of `webhook`'s entries for `ids` (eventually consistent, as queries are),
    /// in chunks of 100, unprocessed keys tried again with backoff.
    async fn batch_get(
        &self,
        account: AccountId,
        webhook: WebhookId,
        ids: &[String],
        projection: Option<&str>,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_GET_MAX) {
            let keys: Vec<Item> = chunk
                .iter()
                .filter_map(|id| {
                    let pk = keys::log_pk_of(account, id)?;
                    Some(Item::from([
                        ("pk".to_string(), s(pk)),
                        ("sk".to_string(), s(keys::log_sk(id, Some(webhook)))),
                    ]))
                })
                .collect();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .set_projection_expression(projection.map(str::to_string))
                    .set_expression_attribute_names(
                        projection.map(|_| HashMap::from([("#status".to_string(), "status".to_string())])),
                    )
                    .build()
                    .map_err(Error::internal)?,
            );
            for try_number in 0..BATCH_GET_TRIES {
                let Some(request) = pending.take().filter(|request| !request.keys().is_empty()) else { break };
                if try_number > 0 {
                    tokio::time::sleep(Duration::from_millis(25 << try_number)).await;
                }
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|error| classify("batch_get_item", error))?;
                items.extend(output.responses.and_then(|mut tables| tables.remove(&self.table)).unwrap_or_default());
                pending = output.unprocessed_keys.and_then(|mut tables| tables.remove(&self.table));
            }
            if let Some(left) = pending.filter(|request| !request.keys().is_empty()) {
                return Err(Error::Unavailable(format!("batch_get_item: {} keys left unprocessed", left.keys().len())));
            }
        }
        Ok(items)
    }
}

/// The item saying `migrate_webhook_log` ran.
const MIGRATED_PK: &str = "MIGRATION";
const MIGRATED_SK: &str = "WEBHOOKLOG";

impl Store {
    /// Writes the segments of the entries recorded before webhooks had their own log, once
    /// (an item remembers it ran); returns how many segments it wrote. One scan of the log's
    /// entries: `hookline-local migrate` runs it (and `make dev`). An entry written while it
    /// runs may be named twice, which readers ignore.
    pub async fn migrate_webhook_log(&self) -> Result<usize> {
        let marker = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(MIGRATED_PK))
            .key("sk", s(MIGRATED_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| classify("migrate_webhook_log", error))?;
        if marker.item.is_some() {
            return Ok(0);
        }
        let mut found: Vec<(AccountId, WebhookId, String, i64)> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let (items, next) = self
                .scan_log_page(
                    Some("attribute_exists(webhook_id)"),
                    Some("pk, sk, webhook_id, expires_at"),
                    start.take(),
                )
                .await?;
            for item in items {
                let number = |name: &str| item.get(name).and_then(|value| value.as_n().ok()?.parse::<i64>().ok());
                let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) = (item.get("pk"), item.get("sk"))
                else {
                    continue;
                };
                let account = pk.split('#').nth(1).and_then(|id| id.parse().ok());
                let webhook = number("webhook_id").and_then(|id| WebhookId::try_from(id).ok());
                let message_id = sk.split('#').next().unwrap_or_default().to_string();
                if let (Some(account), Some(webhook), Some(expires_at)) = (account, webhook, number("expires_at")) {
                    found.push((account, webhook, message_id, expires_at));
                }
            }
            match next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        let segments = segment_items(found.iter().map(|(account, webhook, message_id, expires_at)| Recorded {
            account: *account,
            webhook: *webhook,
            message_id,
            expires_at: *expires_at,
        }));
        let written = segments.len();
        self.batch_put(segments).await?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(MIGRATED_PK))
            .item("sk", s(MIGRATED_SK))
            .item("at", s(Utc::now().to_rfc3339()))
            .send()
            .await
            .map_err(|error| classify("migrate_webhook_log", error))?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_at(millis: u64, random: u16) -> String {
        format!("msg_{millis:012x}7000800000000000{random:04x}")
    }

    #[test]
    fn when_ids_lie_apart_should_cut_segments_within_the_span() {
        let ids = [id_at(1_795_000_000_000, 1), id_at(1_795_000_000_999, 2), id_at(1_795_000_001_000, 3)];
        let entries = ids.iter().map(|id| Recorded { account: 1, webhook: 2, message_id: id, expires_at: 9 });
        let items = segment_items(entries);
        assert_eq!(items.len(), 2, "the third id is 1,000 ms after the first");
        let mut greatest: Vec<String> = items
            .iter()
            .map(|item| item["sk"].as_s().expect("sk").split('#').next().expect("id").to_string())
            .collect();
        greatest.sort();
        assert_eq!(greatest, vec![ids[1].clone(), ids[2].clone()]);
        let sizes: Vec<usize> = items.iter().map(|item| item[IDS].as_b().expect("ids").as_ref().len()).collect();
        assert!(sizes.contains(&32) && sizes.contains(&16), "{sizes:?}");
    }

    #[test]
    fn when_the_same_batch_is_written_twice_should_make_the_same_segment() {
        let ids = [id_at(1_795_000_000_000, 1), id_at(1_795_000_000_001, 2)];
        let make = || {
            segment_items(ids.iter().rev().map(|id| Recorded { account: 1, webhook: 2, message_id: id, expires_at: 9 }))
        };
        assert_eq!(make(), make());
        let other = segment_items([Recorded { account: 1, webhook: 2, message_id: &ids[1], expires_at: 9 }]);
        assert_ne!(other[0]["sk"], make()[0]["sk"], "another set of ids is another item");
    }

    #[test]
    fn when_ids_are_read_back_should_be_the_message_ids() {
        let id = id_at(1_795_000_000_123, 0xbeef);
        let bits = id_bits(&id).expect("an id");
        assert_eq!(id_text(bits), id);
        assert_eq!(millis(bits), 1_795_000_000_123);
        assert_eq!(text_millis(&(id + "~")), Some(1_795_000_000_123));
        assert_eq!(id_bits("msg_short"), None);
    }
}
