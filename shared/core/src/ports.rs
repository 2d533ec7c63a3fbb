//! The ports the flows need: small traits over storage and the queue, implemented by
//! `hookline-aws` (DynamoDB, SQS) and by [`crate::memory`].

use chrono::{DateTime, NaiveDate, Utc};
use hookline_domain::Result;
use hookline_domain::model::{
    Account, AccountId, ApiKey, AttemptOutcome, DeliveryStatus, Erasure, EventType, LogEntry, MessageId, Task, Webhook,
    WebhookId,
};
use hookline_domain::transformations::TransformFailure;
use std::collections::BTreeMap;
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
        now_us: i64,
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

/// The platform's accounts.
pub trait Accounts: Send + Sync {
    /// The account of a uid, if there is one.
    fn find_account_by_uid(&self, uid: &str) -> impl Future<Output = Result<Option<Account>>> + Send;

    /// An account by its id.
    fn get_account(&self, id: AccountId) -> impl Future<Output = Result<Option<Account>>> + Send;
}

/// An account's webhooks.
pub trait Webhooks: Send + Sync {
    /// Reads a webhook of an account.
    fn get_webhook(&self, account: AccountId, id: WebhookId) -> impl Future<Output = Result<Option<Webhook>>> + Send;

    /// Every webhook of an account.
    fn list_webhooks(&self, account: AccountId) -> impl Future<Output = Result<Vec<Webhook>>> + Send;

    /// Replaces a webhook if its stored version is still `webhook.version - 1`; a conflict
    /// otherwise, so that of two concurrent updates one fails instead of being lost.
    fn update_webhook(&self, webhook: &Webhook) -> impl Future<Output = Result<()>> + Send;
}

/// Each rate-limited webhook's schedule of send slots, shared by every worker.
pub trait RateLimits: Send + Sync {
    /// Reserves the webhook's next `count` send slots, `interval_us` apart, starting
    /// `interval_us` after the last one reserved, or at `now_us` if that lies in the past;
    /// returns the first (Unix microseconds).
    fn reserve_slots(
        &self,
        account: AccountId,
        webhook: WebhookId,
        interval_us: i64,
        count: u32,
        now_us: i64,
    ) -> impl Future<Output = Result<i64>> + Send;
}

/// The version of an account's routing: every change of its webhooks bumps it.
pub trait AccountVersions: Send + Sync {
    /// The account's version (0 before its first change), read consistently.
    fn account_version(&self, account: AccountId) -> impl Future<Output = Result<u64>> + Send;
}

/// The platform's event catalog.
pub trait EventTypes: Send + Sync {
    /// Every registered event type.
    fn list_event_types(&self) -> impl Future<Output = Result<Vec<EventType>>> + Send;
}

/// An erasure mark: the account, the message id or subject mark, and when it was made.
pub type ErasedMark = (AccountId, String, DateTime<Utc>);

/// The subject index: which messages are about a subject (by its digest), written as events
/// are accepted.
pub trait SubjectIndex: Send + Sync {
    /// Indexes each `(account, subject digest, message id, expiry)`.
    fn index_subjects(
        &self,
        entries: &[(AccountId, String, MessageId, i64)],
    ) -> impl Future<Output = Result<()>> + Send;
}

/// What erasures need besides the log: the subject index read and emptied, the marks that
/// cancel erased messages' queued first attempts, and the erasure jobs.
pub trait Erasures: SubjectIndex {
    /// A page of the messages indexed under a subject, in id order, and where the next starts.
    fn subject_messages(
        &self,
        account: AccountId,
        digest: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = Result<(Vec<MessageId>, Option<String>)>> + Send;

    /// Removes index entries of a subject.
    fn unindex_subject(
        &self,
        account: AccountId,
        digest: &str,
        ids: &[MessageId],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Marks messages (by id) or subjects (by [`hookline_domain::model::subject_mark`]) as
    /// erased at `at`, for workers to cancel their queued first attempts.
    fn mark_erased(&self, marks: &[(AccountId, String)], at: DateTime<Utc>) -> impl Future<Output = Result<()>> + Send;

    /// The marks made on `day` after `after` (read consistently), each with its time.
    fn erased_since(
        &self,
        day: NaiveDate,
        after: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<ErasedMark>>> + Send;

    /// Writes an erasure job.
    fn put_erasure(&self, erasure: &Erasure) -> impl Future<Output = Result<()>> + Send;

    /// Reads an account's erasure job.
    fn get_erasure(&self, account: AccountId, id: &str) -> impl Future<Output = Result<Option<Erasure>>> + Send;
}

/// The delivery log: one entry per (message, webhook), rewritten after each attempt.
pub trait DeliveryLog: LogWriter {
    /// Every entry of a message (one per webhook, or its one unmatched entry).
    fn message_entries(
        &self,
        account: AccountId,
        message_id: &str,
    ) -> impl Future<Output = Result<Vec<LogEntry>>> + Send;

    /// One delivery's entry.
    fn get_log_entry(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
    ) -> impl Future<Output = Result<Option<LogEntry>>> + Send;

    /// Rewrites a delivery's entry unless someone changed it since it was read with
    /// `updated_at == read_at` (`None`: unless it exists); `false` if someone did.
    fn replace_log_entry(
        &self,
        entry: &LogEntry,
        read_at: Option<DateTime<Utc>>,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Puts a finished delivery back to pending for one more try; `false` if it is not in
    /// one of `from`.
    fn reopen_delivery(
        &self,
        account: AccountId,
        message_id: &str,
        webhook: WebhookId,
        from: &[DeliveryStatus],
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// One HTTP POST to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// The target, `http` or `https`.
    pub url: String,
    /// The request headers (content-type, signature headers, …), sent as given.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// The total timeout: connecting, sending, and reading the response.
    pub timeout: Duration,
}

/// How one send ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SendOutcome {
    /// Success (2xx only), HttpError (any other status, 3xx included: redirects are not followed), Timeout,
    /// ConnectionError, or Refused (the SSRF guard, or a URL that is not http/https).
    pub outcome: AttemptOutcome,
    /// The response status, if one came.
    pub status_code: Option<u16>,
    /// A few response headers (the transport says which), lower-case names.
    pub response_headers: BTreeMap<String, String>,
    /// The first 4096 bytes of the response body, lossy UTF-8.
    pub response_body: String,
    /// From the start of the send to the end of the body read, in milliseconds.
    pub latency_ms: u64,
    /// A short description of what went wrong when there is no response (no full URL, no secrets).
    pub error: Option<String>,
}

impl SendOutcome {
    /// A send that got no response: refused, timed out, or failed to connect.
    pub fn without_response(outcome: AttemptOutcome, error: String, latency_ms: u64) -> Self {
        Self {
            outcome,
            status_code: None,
            response_headers: BTreeMap::new(),
            response_body: String::new(),
            latency_ms,
            error: Some(error),
        }
    }
}

/// Where a delivery's HTTP POST goes: in production the SSRF-guarded client of
/// `hookline-outbound`. It never fails: every problem is an outcome.
pub trait Transport: Send + Sync {
    /// Sends the request and classifies what happened.
    fn send(&self, request: &OutgoingRequest) -> impl Future<Output = SendOutcome> + Send;
}

/// Runs webhooks' transformations: in production the sandbox process of `hookline-transform`,
/// which bounds each run in time and memory.
pub trait Transformer: Send + Sync + std::fmt::Debug {
    /// `program`'s output on `input`, or why there is none (the delivery's attempt records
    /// it); an error when the transformer itself failed (the task is tried again).
    fn transform<'a>(
        &'a self,
        program: &'a str,
        input: serde_json::Value,
    ) -> futures::future::BoxFuture<'a, Result<std::result::Result<serde_json::Value, TransformFailure>>>;
}
