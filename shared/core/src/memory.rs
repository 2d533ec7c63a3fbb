//! In-memory implementations of the ports, for fast tests of the flows' policies. They keep
//! the ports' contracts (a claim is atomic, a take-over honours the lease), never the proof
//! of an adapter: the emulator suites are.

use crate::ports::{Idempotency, IdempotencyRecord, KeyLookup, LogWriter, Outgoing, TaskQueue};
use hookline_domain::model::{ApiKey, LogEntry, hash_api_key};
use hookline_domain::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Keys, idempotency records and the log, in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<String, ApiKey>>,
    idempotency: Mutex<HashMap<(u64, String), IdempotencyRecord>>,
    log: Mutex<Vec<(LogEntry, i64)>>,
}

impl MemoryStore {
    /// Stores a key's record (found by the hash of its plaintext).
    pub fn add_key(&self, key: ApiKey) {
        lock(&self.keys).insert(key.key_hash.clone(), key);
    }

    /// Every log entry written so far.
    pub fn log(&self) -> Vec<LogEntry> {
        lock(&self.log).iter().map(|(entry, _)| entry.clone()).collect()
    }

    /// An idempotency record, if any.
    pub fn idempotency(&self, account: u64, key: &str) -> Option<IdempotencyRecord> {
        lock(&self.idempotency).get(&(account, key.to_string())).cloned()
    }
}

/// A suspension point where a real adapter waits on the network, so that concurrent flows
/// interleave as they do against DynamoDB and SQS.
async fn suspend() {
    tokio::task::yield_now().await;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl KeyLookup for MemoryStore {
    async fn find_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        suspend().await;
        Ok(lock(&self.keys).get(&hash_api_key(plaintext)).cloned())
    }
}

impl LogWriter for MemoryStore {
    async fn put_log_entries(&self, entries: &[(LogEntry, i64)]) -> Result<()> {
        suspend().await;
        lock(&self.log).extend(entries.iter().cloned());
        Ok(())
    }
}

impl Idempotency for MemoryStore {
    async fn claim_idempotency(
        &self,
        account: u64,
        record: &IdempotencyRecord,
        _expires_at: i64,
    ) -> Result<Option<IdempotencyRecord>> {
        suspend().await;
        let mut records = lock(&self.idempotency);
        let key = (account, record.key.clone());
        if let Some(existing) = records.get(&key) {
            return Ok(Some(existing.clone()));
        }
        records.insert(key, record.clone());
        Ok(None)
    }

    async fn take_over_idempotency(&self, account: u64, key: &str, now_ms: i64, lease_until_ms: i64) -> Result<bool> {
        suspend().await;
        let mut records = lock(&self.idempotency);
        match records.get_mut(&(account, key.to_string())) {
            Some(record) if record.response.is_none() && record.lease_until_ms < now_ms => {
                record.lease_until_ms = lease_until_ms;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn finish_idempotency(&self, account: u64, key: &str, response: &str) -> Result<()> {
        suspend().await;
        let mut records = lock(&self.idempotency);
        let record = records.get_mut(&(account, key.to_string())).ok_or_else(|| Error::not_found("idempotency key"))?;
        record.response = Some(response.to_string());
        Ok(())
    }

    async fn release_idempotency(&self, account: u64, key: &str) -> Result<()> {
        suspend().await;
        if let Some(record) = lock(&self.idempotency).get_mut(&(account, key.to_string())) {
            record.lease_until_ms = 0;
        }
        Ok(())
    }
}

/// A queue that keeps what it was sent, and can be made to fail.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<Outgoing>>,
    failing: AtomicBool,
}

impl MemoryQueue {
    /// Everything sent so far.
    pub fn sent(&self) -> Vec<Outgoing> {
        lock(&self.sent).clone()
    }

    /// Makes every send fail (`true`) as an unreachable queue does, or work again.
    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl TaskQueue for MemoryQueue {
    async fn send(&self, tasks: &[Outgoing]) -> Result<()> {
        suspend().await;
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Unavailable("the queue is unreachable".into()));
        }
        lock(&self.sent).extend(tasks.iter().cloned());
        Ok(())
    }
}
