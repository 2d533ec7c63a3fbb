//! The core's ports, implemented by the DynamoDB store and the SQS queue.

use crate::queue::Queue;
use crate::store::Store;
use hookline_core::{Idempotency, IdempotencyRecord, KeyLookup, LogWriter, Outgoing, TaskQueue};
use hookline_domain::Result;
use hookline_domain::model::{ApiKey, LogEntry};

impl KeyLookup for Store {
    async fn find_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        Store::find_api_key(self, plaintext).await
    }
}

impl LogWriter for Store {
    async fn put_log_entries(&self, entries: &[(LogEntry, i64)]) -> Result<()> {
        Store::put_log_entries(self, entries).await
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
