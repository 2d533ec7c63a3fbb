//! The core's ports, implemented by the DynamoDB store and the SQS queue.

use crate::queue::Queue;
use crate::store::Store;
use chrono::{DateTime, NaiveDate, Utc};
use hookline_core::{
    AccountVersions, Accounts, DeliveryLog, ErasedMark, Erasures, EventTypes, Idempotency, IdempotencyRecord,
    KeyLookup, LogWriter, Outgoing, RateLimits, SubjectIndex, TaskQueue, Webhooks,
};
use hookline_domain::Result;
use hookline_domain::model::{
    Account, AccountId, ApiKey, DeliveryStatus, Erasure, EventType, LogEntry, MessageId, Webhook, WebhookId,
};

impl KeyLookup for Store {
    async fn find_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        Store::find_api_key(self, plaintext).await
    }
}

impl Accounts for Store {
    async fn find_account_by_uid(&self, uid: &str) -> Result<Option<Account>> {
        Store::find_account_by_uid(self, uid).await
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        Store::get_account(self, id).await
    }
}

impl AccountVersions for Store {
    async fn account_version(&self, account: AccountId) -> Result<u64> {
        Store::account_version(self, account).await
    }
}

impl RateLimits for Store {
    async fn reserve_slots(
        &self,
        account: AccountId,
        webhook: WebhookId,
        interval_us: i64,
        count: u32,
        now_us: i64,
    ) -> Result<i64> {
        Store::reserve_slots(self, account, webhook, interval_us * i64::from(count.max(1)), now_us).await
    }
}

impl EventTypes for Store {
    async fn list_event_types(&self) -> Result<Vec<EventType>> {
        Store::list_event_types(self).await
    }
}

impl LogWriter for Store {
    async fn put_log_entries(&self, entries: &[(LogEntry, i64)]) -> Result<()> {
        Store::put_log_entries(self, entries).await
    }
}

impl SubjectIndex for Store {
    async fn index_subjects(&self, entries: &[(AccountId, String, MessageId, i64)]) -> Result<()> {
        Store::index_subjects(self, entries).await
    }
}

impl Erasures for Store {
    async fn subject_messages(
        &self,
        account: AccountId,
        digest: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<MessageId>, Option<String>)> {
        Store::subject_messages(self, account, digest, cursor, limit).await
    }

    async fn unindex_subject(&self, account: AccountId, digest: &str, ids: &[MessageId]) -> Result<()> {
        Store::unindex_subject(self, account, digest, ids).await
    }

    async fn mark_erased(&self, marks: &[(AccountId, String)], at: DateTime<Utc>) -> Result<()> {
        Store::mark_erased(self, marks, at).await
    }

    async fn erased_since(&self, day: NaiveDate, after: DateTime<Utc>) -> Result<Vec<ErasedMark>> {
        Store::erased_since(self, day, after).await
    }

    async fn put_erasure(&self, erasure: &Erasure) -> Result<()> {
        Store::put_erasure(self, erasure).await
    }

    async fn get_erasure(&self, account: AccountId, id: &str) -> Result<Option<Erasure>> {
        Store::get_erasure(self, account, id).await
    }
}

impl DeliveryLog for Store {
    async fn message_entries(&self, account: AccountId, message_id: &str) -> Result<Vec<LogEntry>> {
        Store::message_entries(self, account, message_id).await
    }

    async fn get_log_entry(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
    ) -> Result<Option<LogEntry>> {
        Store::get_log_entry(self, account, message_id, webhook).await
    }

    async fn replace_log_entry(
        &self,
        entry: &LogEntry,
        read_at: Option<DateTime<Utc>>,
        expires_at: i64,
    ) -> Result<bool> {
        Store::replace_log_entry(self, entry, read_at, expires_at).await
    }

    async fn reopen_delivery(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
        from: &[DeliveryStatus],
    ) -> Result<bool> {
        Store::reopen_delivery(self, account, message_id, webhook, from).await
    }
}

impl Webhooks for Store {
    async fn get_webhook(&self, account: AccountId, id: WebhookId) -> Result<Option<Webhook>> {
        Store::get_webhook(self, account, id).await
    }

    async fn list_webhooks(&self, account: AccountId) -> Result<Vec<Webhook>> {
        Store::list_webhooks(self, account).await
    }

    async fn update_webhook(&self, webhook: &Webhook) -> Result<()> {
        Store::update_webhook(self, webhook).await
    }
}

impl Idempotency for Store {
    async fn claim_idempotency(
        &self,
        account: u64,
        record: &IdempotencyRecord,
        expires_at: i64,
    ) -> Result<Option<IdempotencyRecord>> {
        Store::claim_idempotency(self, account, record, expires_at).await
    }

    async fn take_over_idempotency(&self, account: u64, key: &str, now_ms: i64, lease_until_ms: i64) -> Result<bool> {
        Store::take_over_idempotency(self, account, key, now_ms, lease_until_ms).await
    }

    async fn finish_idempotency(&self, account: u64, key: &str, response: &str) -> Result<()> {
        Store::finish_idempotency(self, account, key, response).await
    }

    async fn release_idempotency(&self, account: u64, key: &str) -> Result<()> {
        Store::release_idempotency(self, account, key).await
    }
}

impl TaskQueue for Queue {
    async fn send(&self, tasks: &[Outgoing]) -> Result<()> {
        Queue::send(self, tasks).await
    }
}
