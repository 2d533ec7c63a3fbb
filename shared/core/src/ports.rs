//! The ports the flows need: small traits over storage and the queue, implemented by
//! `hookline-aws` (DynamoDB, SQS) and by [`crate::memory`].

use hookline_domain::Result;
use hookline_domain::model::{ApiKey, LogEntry, Task};
use std::future::Future;
use std::time::Duration;

/// A task to send, after an optional delay.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The task.
    pub task: Task,
    /// How long the queue hides it before it can be received.
    pub delay: Duration,
}

impl Outgoing {
    /// A task to deliver as soon as possible.
    pub fn now(task: Task) -> Self {
        Self { task, delay: Duration::ZERO }
    }
}

/// The state of a request made with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdempotencyRecord {
    /// The publisher's key.
    pub key: String,
    /// The message the request creates.
    pub message_id: String,
    /// What the request said, to refuse a reuse of the key for another event.
    pub fingerprint: String,
    /// Until when (Unix ms) the request holding it may finish; then a retry takes over.
    pub lease_until_ms: i64,
    /// The response, once the request finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// Where the delivery tasks go.
pub trait TaskQueue: Send + Sync {
    /// Sends the tasks; all or an error (a task sent twice is delivered at least once).
    fn send(&self, tasks: &[Outgoing]) -> impl Future<Output = Result<()>> + Send;
}

/// Where log entries are written.
pub trait LogWriter: Send + Sync {
    /// Writes entries, each with its expiry (Unix seconds).
    fn put_log_entries(&self, entries: &[(LogEntry, i64)]) -> impl Future<Output = Result<()>> + Send;
}

/// The idempotency records of an account.
pub trait Idempotency: Send + Sync {
    /// Claims a key: `None` if this call created the record, else the record that exists.
    fn claim_idempotency(
        &self,
        account: u64,
        record: &IdempotencyRecord,
        expires_at: i64,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>>> + Send;

    /// Takes over an unfinished record whose lease ran out; `false` if another request holds
    /// the lease or the record is finished.
    fn take_over_idempotency(
        &self,
        account: u64,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Records the answer of a finished request.
    fn finish_idempotency(&self, account: u64, key: &str, response: &str) -> impl Future<Output = Result<()>> + Send;

    /// Gives up the lease of a request that failed.
    fn release_idempotency(&self, account: u64, key: &str) -> impl Future<Output = Result<()>> + Send;
}

/// API keys, found by their plaintext (stored only as hashes).
pub trait KeyLookup: Send + Sync {
    /// The record of a bearer key, if it is one.
    fn find_api_key(&self, plaintext: &str) -> impl Future<Output = Result<Option<ApiKey>>> + Send;
}
