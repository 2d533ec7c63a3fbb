//! The single-table key layout: how each record's partition and sort keys are spelled.
//! `docs/data-model.md` lists the access pattern each one serves.

use chrono::NaiveDate;
use hookline_domain::model::{AccountId, KeyKind, WebhookId};

/// The partition of everything an account owns directly.
pub fn account_pk(account: AccountId) -> String {
    format!("ACCOUNT#{account}")
}

/// The sort key of the account record.
pub const ACCOUNT_SK: &str = "ACCOUNT";

/// The global account-id counter.
pub const ACCOUNT_COUNTER_PK: &str = "COUNTER";
/// The global account-id counter's sort key.
pub const ACCOUNT_COUNTER_SK: &str = "ACCOUNT";

/// The index partition listing every account, by id.
pub const ACCOUNTS_GSI1PK: &str = "ACCOUNTS";

/// An account's index sort key: its id, zero-padded so that they sort by id.
pub fn account_gsi1sk(account: AccountId) -> String {
    format!("{account:020}")
}

/// The item that reserves an account uid and names its account.
pub fn account_uid_pk(uid: &str) -> String {
    format!("ACCOUNTUID#{uid}")
}

/// The sort key of an account uid.
pub const ACCOUNT_UID_SK: &str = "ACCOUNTUID";

/// An API key, found by its hash.
pub fn api_key_pk(key_hash: &str) -> String {
    format!("APIKEY#{key_hash}")
}
/// The sort key of an API key.
pub const API_KEY_SK: &str = "APIKEY";
/// The index partition listing keys of one kind: an account's keys, its portal sessions,
/// or the platform's operator keys.
pub fn api_keys_gsi1pk(kind: KeyKind, account: AccountId) -> String {
    match kind {
        KeyKind::Account => format!("ACCOUNT#{account}#APIKEYS"),
        KeyKind::PortalSession => format!("ACCOUNT#{account}#SESSIONS"),
        KeyKind::Operator => "OPERATOR#APIKEYS".to_string(),
    }
}

/// The sort key of an account's routing version, which every change of its webhooks bumps
/// (ingest keeps the webhooks while it stays the same).
pub const ACCOUNT_VERSION_SK: &str = "VERSION";

/// The sort key of a rate-limited webhook's send schedule (in `ACCOUNT#{a}`).
pub fn rate_sk(webhook: WebhookId) -> String {
    format!("RATE#{webhook:020}")
}

/// The per-account webhook-id counter's sort key.
pub const WEBHOOK_COUNTER_SK: &str = "COUNTER#WEBHOOK";
/// Sort-key prefix of webhooks.
pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";
/// A webhook's sort key, zero-padded so that they sort by id.
pub fn webhook_sk(id: WebhookId) -> String {
    format!("{WEBHOOK_PREFIX}{id:020}")
}

/// The partition of the platform's event catalog.
pub const CATALOG_PK: &str = "CATALOG";

/// Sort-key prefix of event types (in the catalog; before it, in each account's partition).
pub const EVENT_TYPE_PREFIX: &str = "EVENTTYPE#";
/// An event type's sort key.
pub fn event_type_sk(name: &str) -> String {
    format!("{EVENT_TYPE_PREFIX}{name}")
}

/// The day of a message: the UTC date of the Unix milliseconds in the first 12 hex digits of
/// its id (`msg_` + a UUIDv7). `None` for a string that is not a message id.
pub fn message_day(message_id: &str) -> Option<NaiveDate> {
    hookline_domain::model::Message::time_of(message_id).map(|at| at.date_naive())
}

/// Partition keys each day of an account's log is spread over, by a hash of the message id:
/// a key takes about 1,000 write units a second, and a first-try delivery about one, so 16
/// keep 10,000 deliveries a second of one account at about 625 units per key. Changing it
/// moves every entry (`Store::migrate_log`).
pub const LOG_SHARDS: u32 = 16;

/// The day key of an account's log: what its partitions of that day start with, and what a
/// log cursor names.
pub fn log_day(account: AccountId, day: NaiveDate) -> String {
    format!("LOG#{account}#{}", day.format("%Y-%m-%d"))
}

/// One of the day's partitions of an account's log: the entries of the messages whose id
/// hashes to `shard`, sorted by message id (hence time), then webhook.
pub fn log_pk(account: AccountId, day: NaiveDate, shard: u32) -> String {
    format!("{}#{shard:02}", log_day(account, day))
}

/// The shard of a message: its id's last four hex digits (random in a UUIDv7), modulo
/// [`LOG_SHARDS`].
pub fn log_shard(message_id: &str) -> u32 {
    let tail = message_id.get(message_id.len().saturating_sub(4)..).unwrap_or_default();
    u32::from_str_radix(tail, 16).unwrap_or_default() % LOG_SHARDS
}

/// The partition of a message's entries; `None` for a string that is not a message id.
pub fn log_pk_of(account: AccountId, message_id: &str) -> Option<String> {
    Some(log_pk(account, message_day(message_id)?, log_shard(message_id)))
}

/// Sort-key prefix of the days an account's log has entries in (in `ACCOUNT#{a}`), so that a
/// listing reads only those days' shards.
pub const LOG_DAY_PREFIX: &str = "LOGDAY#";

/// The sort key saying that an account's log has entries on `day`.
pub fn log_day_sk(day: NaiveDate) -> String {
    format!("{LOG_DAY_PREFIX}{}", day.format("%Y-%m-%d"))
}

/// The day of a [`log_day_sk`].
pub fn log_day_of_sk(sk: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(sk.strip_prefix(LOG_DAY_PREFIX)?, "%Y-%m-%d").ok()
}

/// The day of a log day key of `account` ([`log_day`]); `None` for any other key.
pub fn log_pk_day(account: AccountId, pk: &str) -> Option<NaiveDate> {
    let day = pk.strip_prefix(&format!("LOG#{account}#"))?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// A log entry's sort key: the message id, then the zero-padded webhook id (none for a
/// message that matched no webhook), so a message's entries are adjacent.
pub fn log_sk(message_id: &str, webhook: Option<WebhookId>) -> String {
    match webhook {
        Some(webhook) => format!("{message_id}#{webhook:020}"),
        None => message_id.to_string(),
    }
}

/// The partition of a webhook's own log for one day: segments of the ids of its messages of
/// that day (`store/webhook_log.rs`), so that its attempts are found without reading its
/// account's other traffic.
pub fn webhook_log_pk(account: AccountId, webhook: WebhookId, day: NaiveDate) -> String {
    format!("WEBHOOKLOG#{account}#{webhook:020}#{}", day.format("%Y-%m-%d"))
}

/// The day of a [`webhook_log_pk`] of `account`'s `webhook`; `None` for any other key.
pub fn webhook_log_pk_day(account: AccountId, webhook: WebhookId, pk: &str) -> Option<NaiveDate> {
    let day = pk.strip_prefix(&format!("WEBHOOKLOG#{account}#{webhook:020}#"))?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// A segment's sort key: its greatest message id, then a digest of all its ids (two
/// segments with the same greatest id are two items; the same segment written twice is one).
pub fn webhook_log_sk(greatest: &str, digest: &str) -> String {
    format!("{greatest}#{digest}")
}

/// An idempotency record's sort key.
pub fn idempotency_sk(key: &str) -> String {
    format!("IDEMPOTENCY#{key}")
}

/// The subject index of an account's subject (by its digest): one item per message about it.
pub fn subject_pk(account: AccountId, digest: &str) -> String {
    format!("SUBJECT#{account}#{digest}")
}

/// The erasure marks made on `day`: one item per erased message, sorted by when.
pub fn erased_pk(day: NaiveDate) -> String {
    format!("ERASED#{day}")
}

/// An erasure mark's sort key: when (Unix milliseconds, fixed width), the account, the message.
pub fn erased_sk(at_ms: i64, account: AccountId, message_id: &str) -> String {
    format!("{at_ms:013}#{account}#{message_id}")
}

/// An account's erasure job.
pub fn erasure_sk(id: &str) -> String {
    format!("ERASURE#{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_webhook_ids_padded_should_sort_numerically() {
        assert!(webhook_sk(9) < webhook_sk(10));
        assert!(log_sk("msg_1", Some(9)) < log_sk("msg_1", Some(10)));
        assert!(log_sk("msg_1", None) < log_sk("msg_1", Some(1)));
    }

    #[test]
    fn when_message_id_read_should_give_the_day_of_its_uuid7_time() {
        let id = format!(
            "msg_{}",
            uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, 1_795_000_000, 0)).simple()
        );
        let day = message_day(&id).expect("a message id");
        assert_eq!(day.to_string(), "2026-11-18");
        assert_eq!(log_pk_day(4, &log_day(4, day)), Some(day));
        assert_eq!(log_pk_day(5, &log_day(4, day)), None);
        assert_eq!(log_pk_of(4, &id), Some(format!("{}#{:02}", log_day(4, day), log_shard(&id))));
        assert_eq!(message_day("msg_nothex"), None);
        assert_eq!(message_day("wh_0123456789abcdef0123456789abcdef"), None);
        assert_eq!(webhook_log_pk_day(4, 9, &webhook_log_pk(4, 9, day)), Some(day));
        assert_eq!(webhook_log_pk_day(4, 19, &webhook_log_pk(4, 9, day)), None);
        assert_eq!(webhook_log_pk_day(44, 9, &webhook_log_pk(4, 9, day)), None);
    }

    #[test]
    fn when_messages_are_many_should_spread_them_evenly_over_the_shards() {
        let mut counts = [0u32; LOG_SHARDS as usize];
        for _ in 0..16_000 {
            counts[log_shard(&format!("msg_{}", uuid::Uuid::now_v7().simple())) as usize] += 1;
        }
        assert!(counts.iter().all(|count| (800..1200).contains(count)), "{counts:?}");
    }
}
