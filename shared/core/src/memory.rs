//! In-memory implementations of the ports, for fast tests of the flows' policies. They keep
//! the ports' contracts (a claim is atomic, a take-over honours the lease), never the proof
//! of an adapter: the emulator suites are.

use crate::ports::{
    AccountVersions, Accounts, DeliveryLog, ErasedMark, Erasures, EventTypes, Idempotency, IdempotencyRecord,
    KeyLookup, LogWriter, Outgoing, OutgoingRequest, RateLimits, SendOutcome, SubjectIndex, TaskQueue, Transport,
    Webhooks,
};
use chrono::{DateTime, NaiveDate, Utc};
use hookline_domain::model::{
    Account, AccountId, ApiKey, AttemptOutcome, DeliveryStatus, Erasure, EventType, LogEntry, MessageId, Webhook,
    WebhookId, hash_api_key,
};
use hookline_domain::{Error, Result};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A log entry's key: account, message id, webhook (none for an unmatched message).
type EntryKey = (AccountId, String, Option<WebhookId>);

/// Keys, idempotency records, webhooks and the log, in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    accounts: Mutex<HashMap<String, Account>>,
    keys: Mutex<HashMap<String, ApiKey>>,
    idempotency: Mutex<HashMap<(u64, String), IdempotencyRecord>>,
    webhooks: Mutex<HashMap<(AccountId, WebhookId), Webhook>>,
    webhook_reads: AtomicUsize,
    log: Mutex<BTreeMap<EntryKey, (LogEntry, i64)>>,
    failing_log: AtomicBool,
    versions: Mutex<HashMap<AccountId, u64>>,
    event_types: Mutex<Vec<EventType>>,
    reads: Mutex<BTreeMap<&'static str, usize>>,
    slots: Mutex<HashMap<(AccountId, WebhookId), i64>>,
    subjects: Mutex<BTreeMap<(AccountId, String, MessageId), i64>>,
    erased: Mutex<Vec<(DateTime<Utc>, AccountId, MessageId)>>,
    erasures: Mutex<HashMap<(AccountId, String), Erasure>>,
}

impl RateLimits for MemoryStore {
    async fn reserve_slots(
        &self,
        account: AccountId,
        webhook: WebhookId,
        interval_us: i64,
        count: u32,
        now_us: i64,
    ) -> Result<i64> {
        let mut slots = lock(&self.slots);
        let next = slots.entry((account, webhook)).or_insert(now_us);
        let first = (*next).max(now_us);
        *next = first + interval_us * i64::from(count);
        Ok(first)
    }
}

fn entry_key(entry: &LogEntry) -> EntryKey {
    (entry.message.account_id, entry.message.id.clone(), entry.webhook_id)
}

impl MemoryStore {
    /// Stores an account (found by its uid).
    pub fn add_account(&self, account: Account) {
        lock(&self.accounts).insert(account.uid(), account);
    }

    /// Removes a key's record, as revoking does.
    pub fn revoke_key(&self, key_hash: &str) {
        lock(&self.keys).remove(key_hash);
    }

    /// Stores a key's record (found by the hash of its plaintext).
    pub fn add_key(&self, key: ApiKey) {
        lock(&self.keys).insert(key.key_hash.clone(), key);
    }

    /// Stores a webhook as it is (no version check), bumping its account's version.
    pub fn put_webhook(&self, webhook: Webhook) {
        self.bump_version(webhook.account_id);
        lock(&self.webhooks).insert((webhook.account_id, webhook.id), webhook);
    }

    /// Registers an event type in the platform's catalog.
    pub fn add_event_type(&self, event_type: EventType) {
        lock(&self.event_types).push(event_type);
    }

    /// How many times the port `read` (`find_api_key`, `find_account_by_uid`,
    /// `list_webhooks`, `list_event_types`, `account_version`) was called.
    pub fn reads_of(&self, read: &str) -> usize {
        lock(&self.reads).get(read).copied().unwrap_or_default()
    }

    fn count(&self, read: &'static str) {
        *lock(&self.reads).entry(read).or_default() += 1;
    }

    fn bump_version(&self, account: AccountId) {
        *lock(&self.versions).entry(account).or_default() += 1;
    }

    /// A webhook as stored now, without counting a read.
    pub fn webhook(&self, account: AccountId, id: WebhookId) -> Option<Webhook> {
        lock(&self.webhooks).get(&(account, id)).cloned()
    }

    /// How many times a webhook was read through the port.
    pub fn webhook_reads(&self) -> usize {
        self.webhook_reads.load(Ordering::SeqCst)
    }

    /// Every log entry written so far, by account, message and webhook.
    pub fn log(&self) -> Vec<LogEntry> {
        lock(&self.log).values().map(|(entry, _)| entry.clone()).collect()
    }

    /// Makes every log write fail (`true`) as an unreachable table does, or work again.
    pub fn fail_log_writes(&self, failing: bool) {
        self.failing_log.store(failing, Ordering::SeqCst);
    }

    fn log_writable(&self) -> Result<()> {
        if self.failing_log.load(Ordering::SeqCst) {
            return Err(Error::Unavailable("the table is unreachable".into()));
        }
        Ok(())
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
        self.count("find_api_key");
        Ok(lock(&self.keys).get(&hash_api_key(plaintext)).cloned())
    }
}

impl Accounts for MemoryStore {
    async fn find_account_by_uid(&self, uid: &str) -> Result<Option<Account>> {
        suspend().await;
        self.count("find_account_by_uid");
        Ok(lock(&self.accounts).get(uid).cloned())
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        suspend().await;
        Ok(lock(&self.accounts).values().find(|account| account.id == id).cloned())
    }
}

impl LogWriter for MemoryStore {
    async fn put_log_entries(&self, entries: &[(LogEntry, i64)]) -> Result<()> {
        suspend().await;
        self.log_writable()?;
        let mut log = lock(&self.log);
        for (entry, expires_at) in entries {
            log.insert(entry_key(entry), (entry.clone(), *expires_at));
        }
        Ok(())
    }
}

impl SubjectIndex for MemoryStore {
    async fn index_subjects(&self, entries: &[(AccountId, String, MessageId, i64)]) -> Result<()> {
        suspend().await;
        let mut subjects = lock(&self.subjects);
        for (account, digest, id, expires_at) in entries {
            subjects.insert((*account, digest.clone(), id.clone()), *expires_at);
        }
        Ok(())
    }
}

impl Erasures for MemoryStore {
    async fn subject_messages(
        &self,
        account: AccountId,
        digest: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<MessageId>, Option<String>)> {
        suspend().await;
        let subjects = lock(&self.subjects);
        let ids: Vec<MessageId> = subjects
            .keys()
            .filter(|(owner, of, id)| {
                *owner == account && of == digest && cursor.is_none_or(|after| id.as_str() > after)
            })
            .map(|(_, _, id)| id.clone())
            .take(limit as usize + 1)
            .collect();
        let more = ids.len() > limit as usize;
        let page: Vec<MessageId> = ids.into_iter().take(limit as usize).collect();
        let next = if more { page.last().cloned() } else { None };
        Ok((page, next))
    }

    async fn unindex_subject(&self, account: AccountId, digest: &str, ids: &[MessageId]) -> Result<()> {
        suspend().await;
        let mut subjects = lock(&self.subjects);
        for id in ids {
            subjects.remove(&(account, digest.to_string(), id.clone()));
        }
        Ok(())
    }

    async fn mark_erased(&self, marks: &[(AccountId, String)], at: DateTime<Utc>) -> Result<()> {
        suspend().await;
        lock(&self.erased).extend(marks.iter().map(|(account, id)| (at, *account, id.clone())));
        Ok(())
    }

    async fn erased_since(&self, day: NaiveDate, after: DateTime<Utc>) -> Result<Vec<ErasedMark>> {
        suspend().await;
        self.count("erased_since");
        Ok(lock(&self.erased)
            .iter()
            .filter(|(at, _, _)| at.date_naive() == day && *at > after)
            .map(|(at, account, key)| (*account, key.clone(), *at))
            .collect())
    }

    async fn put_erasure(&self, erasure: &Erasure) -> Result<()> {
        suspend().await;
        lock(&self.erasures).insert((erasure.account_id, erasure.id.clone()), erasure.clone());
        Ok(())
    }

    async fn get_erasure(&self, account: AccountId, id: &str) -> Result<Option<Erasure>> {
        suspend().await;
        Ok(lock(&self.erasures).get(&(account, id.to_string())).cloned())
    }
}

impl DeliveryLog for MemoryStore {
    async fn message_entries(&self, account: AccountId, message_id: &str) -> Result<Vec<LogEntry>> {
        suspend().await;
        Ok(lock(&self.log)
            .iter()
            .filter(|((owner, id, _), _)| *owner == account && id == message_id)
            .map(|(_, (entry, _))| entry.clone())
            .collect())
    }

    async fn get_log_entry(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
    ) -> Result<Option<LogEntry>> {
        suspend().await;
        Ok(lock(&self.log).get(&(account, message_id.to_string(), Some(webhook))).map(|(entry, _)| entry.clone()))
    }

    async fn replace_log_entry(
        &self,
        entry: &LogEntry,
        read_at: Option<DateTime<Utc>>,
        expires_at: i64,
    ) -> Result<bool> {
        suspend().await;
        self.log_writable()?;
        let mut log = lock(&self.log);
        let key = entry_key(entry);
        let stored_at = log.get(&key).map(|(stored, _)| stored.updated_at);
        let unchanged = match read_at {
            Some(read_at) => stored_at == Some(read_at),
            None => stored_at.is_none(),
        };
        if unchanged {
            log.insert(key, (entry.clone(), expires_at));
        }
        Ok(unchanged)
    }

    async fn reopen_delivery(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
        from: &[DeliveryStatus],
    ) -> Result<bool> {
        suspend().await;
        self.log_writable()?;
        let mut log = lock(&self.log);
        let Some((entry, _)) = log.get_mut(&(account, message_id.to_string(), Some(webhook))) else {
            return Ok(false);
        };
        if !entry.status.is_some_and(|status| from.contains(&status)) {
            return Ok(false);
        }
        let now = Utc::now();
        entry.status = Some(DeliveryStatus::Pending);
        entry.updated_at = now;
        entry.next_attempt_at = Some(now);
        Ok(true)
    }
}

impl Webhooks for MemoryStore {
    async fn get_webhook(&self, account: AccountId, id: WebhookId) -> Result<Option<Webhook>> {
        suspend().await;
        self.webhook_reads.fetch_add(1, Ordering::SeqCst);
        Ok(self.webhook(account, id))
    }

    async fn list_webhooks(&self, account: AccountId) -> Result<Vec<Webhook>> {
        suspend().await;
        self.count("list_webhooks");
        let mut webhooks: Vec<Webhook> =
            lock(&self.webhooks).values().filter(|webhook| webhook.account_id == account).cloned().collect();
        webhooks.sort_by_key(|webhook| webhook.id);
        Ok(webhooks)
    }

    async fn update_webhook(&self, webhook: &Webhook) -> Result<()> {
        suspend().await;
        let mut webhooks = lock(&self.webhooks);
        match webhooks.get(&(webhook.account_id, webhook.id)) {
            Some(stored) if stored.version + 1 == webhook.version => {
                webhooks.insert((webhook.account_id, webhook.id), webhook.clone());
                drop(webhooks);
                self.bump_version(webhook.account_id);
                Ok(())
            }
            _ => Err(Error::Conflict(format!("webhook {} changed or is gone", webhook.id))),
        }
    }
}

impl AccountVersions for MemoryStore {
    async fn account_version(&self, account: AccountId) -> Result<u64> {
        suspend().await;
        self.count("account_version");
        Ok(lock(&self.versions).get(&account).copied().unwrap_or_default())
    }
}

impl EventTypes for MemoryStore {
    async fn list_event_types(&self) -> Result<Vec<EventType>> {
        suspend().await;
        self.count("list_event_types");
        Ok(lock(&self.event_types).clone())
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

    async fn take_over_idempotency(&self, account: u64, key: &str, now_us: i64, lease_until_ms: i64) -> Result<bool> {
        suspend().await;
        let mut records = lock(&self.idempotency);
        match records.get_mut(&(account, key.to_string())) {
            Some(record) if record.response.is_none() && record.lease_until_ms < now_us => {
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

/// An HTTP transport that answers from a script (then `200` for ever) and keeps every
/// request; clones share both.
#[derive(Debug, Clone, Default)]
pub struct MemoryTransport {
    script: Arc<Mutex<VecDeque<SendOutcome>>>,
    requests: Arc<Mutex<Vec<OutgoingRequest>>>,
}

impl MemoryTransport {
    /// Queues the outcome of the next send.
    pub fn then(&self, outcome: SendOutcome) -> &Self {
        lock(&self.script).push_back(outcome);
        self
    }

    /// Every request sent so far.
    pub fn requests(&self) -> Vec<OutgoingRequest> {
        lock(&self.requests).clone()
    }
}

/// The outcome of an answer with `status` and `headers` (`2xx` succeeds).
pub fn answered(status: u16, headers: &[(&str, &str)]) -> SendOutcome {
    SendOutcome {
        outcome: if (200..300).contains(&status) { AttemptOutcome::Success } else { AttemptOutcome::HttpError },
        status_code: Some(status),
        response_headers: headers.iter().map(|(name, value)| ((*name).to_string(), (*value).to_string())).collect(),
        response_body: format!("answer {status}"),
        latency_ms: 1,
        error: None,
    }
}

impl Transport for MemoryTransport {
    async fn send(&self, request: &OutgoingRequest) -> SendOutcome {
        suspend().await;
        lock(&self.requests).push(request.clone());
        lock(&self.script).pop_front().unwrap_or_else(|| answered(200, &[]))
    }
}
