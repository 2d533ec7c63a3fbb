//! The delivery worker: a batch of `deliver.v2` tasks becomes signed HTTP POSTs, one log entry
//! per delivery written after each attempt, and then success, a retry through SQS, or a final
//! state. Delivery is at least once: a task SQS hands out twice may send twice.

use crate::guard::Allowlist;
use crate::sender::{OutgoingRequest, SendOutcome, Sender, SenderConfig, retry_after};
use chrono::{DateTime, Duration as Span, Utc};
use hookline_aws::Context;
use hookline_aws::queue::Outgoing;
use hookline_domain::auth::Caller;
use hookline_domain::events::NewEvent;
use hookline_domain::model::{
    AccountId, Attempt, AttemptOutcome, Audit, DeliverTask, DeliveryStatus, DisabledReason, LogEntry, Message, Task,
    Webhook, WebhookId, WebhookStatus,
};
use hookline_domain::retry::{DEFAULT_SCHEDULE, next_delay, sqs_wait};
use hookline_domain::signing::signature_headers;
use hookline_domain::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The delivery timeout when a webhook sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

/// What delivering needs: the store and queue, the process's one HTTP client, and its
/// cache of webhooks.
#[derive(Clone)]
pub struct Deliverer {
    /// Settings, store and queue.
    pub context: Context,
    /// The guarded HTTP client.
    pub sender: Sender,
    /// The webhooks this process has read, by account and id: a first attempt uses a copy at
    /// least as recent as the version its event was matched against.
    webhooks: Arc<Mutex<HashMap<(AccountId, WebhookId), Webhook>>>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Deliverer").field("context", &self.context).finish_non_exhaustive()
    }
}

impl Deliverer {
    /// Builds the HTTP client from the settings (`ALLOWED_TARGET_CIDRS`).
    pub fn new(context: Context) -> Result<Self> {
        let allowlist = Allowlist::parse(&context.settings.allowed_target_cidrs)
            .map_err(|error| Error::internal(format!("ALLOWED_TARGET_CIDRS: {error}")))?;
        let sender = Sender::new(SenderConfig {
            allowlist,
            connect_timeout: Duration::from_secs(10),
            user_agent: USER_AGENT.to_string(),
        })?;
        Ok(Self { context, sender, webhooks: Arc::default() })
    }

    fn disable_after(&self) -> Span {
        Span::days(i64::from(self.context.settings.disable_after_days))
    }

    fn remember(&self, account: AccountId, id: WebhookId, webhook: Option<&Webhook>) {
        let mut cache = self.webhooks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match webhook {
            Some(webhook) => cache.insert((account, id), webhook.clone()),
            None => cache.remove(&(account, id)),
        };
    }

    /// A webhook at least at `version` (`None`: any cached copy is too old), from the cache
    /// when it has one, else read (and cached).
    pub async fn webhook(&self, account: AccountId, id: WebhookId, version: Option<u64>) -> Result<Option<Webhook>> {
        if let Some(version) = version {
            let cache = self.webhooks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(cached) = cache.get(&(account, id)).filter(|cached| cached.version >= version) {
                return Ok(Some(cached.clone()));
            }
        }
        self.fresh_webhook(account, id).await
    }

    /// Reads, once each, the webhooks the first attempts of `tasks` need and the cache lacks,
    /// so that a batch's tasks (which run concurrently) do not all miss the cache together.
    /// A failed read is left to the task, which reads again and reports it.
    async fn warm(&self, tasks: &[(Task, u32)]) {
        let mut missing = std::collections::BTreeSet::new();
        {
            let cache = self.webhooks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (task, _) in tasks {
                if let Task::Deliver(DeliverTask { account_id, webhook_id, webhook_version: Some(version), .. }) = task
                    && cache.get(&(*account_id, *webhook_id)).is_none_or(|cached| cached.version < *version)
                {
                    missing.insert((*account_id, *webhook_id));
                }
            }
        }
        futures::future::join_all(missing.into_iter().map(|(account, id)| self.fresh_webhook(account, id))).await;
    }

    /// A webhook as stored now (and cached).
    pub async fn fresh_webhook(&self, account: AccountId, id: WebhookId) -> Result<Option<Webhook>> {
        let webhook = self.context.store.get_webhook(account, id).await?;
        self.remember(account, id, webhook.as_ref());
        Ok(webhook)
    }

    /// Changes a webhook with optimistic concurrency, re-reading it when another writer won.
    /// `change` says whether it changed anything: concurrent workers making the same change
    /// write it once. `None` if nothing was written (no change left to make, or it is gone).
    async fn update_webhook(
        &self,
        webhook: &Webhook,
        change: impl Fn(&mut Webhook) -> bool,
    ) -> Result<Option<Webhook>> {
        let mut current = webhook.clone();
        for _ in 0..5 {
            let mut next = current.clone();
            if !change(&mut next) {
                return Ok(None);
            }
            next.version = current.version + 1;
            match self.context.store.update_webhook(&next).await {
                Ok(()) => {
                    self.remember(next.account_id, next.id, Some(&next));
                    return Ok(Some(next));
                }
                Err(Error::Conflict(_)) => match self.fresh_webhook(webhook.account_id, webhook.id).await? {
                    Some(fresh) => current = fresh,
                    None => return Ok(None),
                },
                Err(error) => return Err(error),
            }
        }
        Err(Error::Conflict(format!("webhook {} keeps changing", webhook.id)))
    }
}

/// What became of a task.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// An HTTP attempt was made.
    Attempted(SendOutcome),
    /// Nothing to send: a duplicate, a gone webhook or delivery, or a wait re-enqueued.
    Skipped(Skip),
}

/// Why a task sent nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A fan-out task: its first-attempt tasks were enqueued instead.
    FannedOut,
    /// The webhook is disabled: the delivery is cancelled.
    WebhookDisabled,
    /// The webhook is deleted: the delivery is cancelled.
    WebhookDeleted,
    /// Its due time is beyond SQS's 15-minute delay: re-enqueued to wait again.
    NotDueYet,
    /// The delivery's log entry is gone (expired).
    NoSuchDelivery,
    /// The delivery is no longer pending.
    AlreadySettled,
    /// This task recorded its attempt before but its follow-up was not sent: sent now.
    FollowupSentAgain,
    /// Another task made this attempt already.
    AttemptMadeAlready,
    /// The task is for an attempt after the delivery's next one (dropped).
    AheadOfDelivery,
    /// Another worker rewrote the entry since it was read: its record stands.
    RecordedByAnotherWorker,
}

/// What a task leaves for its batch to do once every task of the batch ran: log entries to
/// write (first attempts, batched) and tasks to enqueue (retries, fan-out).
#[derive(Debug, Default)]
pub struct Followups {
    /// Entries to write, with their TTL.
    pub entries: Vec<(LogEntry, i64)>,
    /// Tasks to send.
    pub tasks: Vec<Outgoing>,
}

/// Runs a batch of tasks (each with SQS's count of its receipts) concurrently, then writes
/// their log entries in `BatchWriteItem`s and sends their follow-up tasks in
/// `SendMessageBatch`es. One result per task: a task whose writes failed is an error, so
/// SQS hands it out again.
pub async fn run_batch(deliverer: &Deliverer, tasks: &[(Task, u32)]) -> Vec<Result<Handled>> {
    deliverer.warm(tasks).await;
    let ran = futures::future::join_all(tasks.iter().map(|(task, count)| run_task(deliverer, task, *count))).await;
    let mut results = Vec::with_capacity(ran.len());
    let mut pending: Vec<(usize, Followups)> = Vec::new();
    for (index, outcome) in ran.into_iter().enumerate() {
        match outcome {
            Ok((handled, followups)) => {
                pending.push((index, followups));
                results.push(Ok(handled));
            }
            Err(error) => results.push(Err(error)),
        }
    }
    let context = &deliverer.context;
    let mut entries = Vec::new();
    let mut writers = Vec::new();
    for (index, followups) in &mut pending {
        if !followups.entries.is_empty() {
            writers.push(*index);
            entries.append(&mut followups.entries);
        }
    }
    if let Err(error) = context.store.put_log_entries(&entries).await {
        // Nothing of theirs is recorded: those tasks run again, with their follow-ups.
        tracing::warn!(%error, "recording a batch's attempts failed");
        for (index, followups) in &mut pending {
            if writers.contains(index) {
                results[*index] = Err(Error::Unavailable(format!("recording the attempt failed: {error}")));
                followups.tasks.clear();
            }
        }
    }
    let outgoing: Vec<Outgoing> = pending.iter().flat_map(|(_, followups)| followups.tasks.iter().cloned()).collect();
    if let Err(error) = context.queue.send(&outgoing).await {
        tracing::warn!(%error, "enqueueing a batch's follow-ups failed");
        for (index, followups) in &pending {
            if !followups.tasks.is_empty() {
                results[*index] = Err(Error::Unavailable(format!("enqueueing the follow-up failed: {error}")));
            }
        }
    }
    results
}

/// Runs one task of the delivery queue; `receive_count` is SQS's count of its receipts.
pub async fn run_task(deliverer: &Deliverer, task: &Task, receive_count: u32) -> Result<(Handled, Followups)> {
    match task {
        Task::Fanout(task) => Ok((
            Handled::Skipped(Skip::FannedOut),
            Followups { entries: Vec::new(), tasks: hookline_core::accept::expand(task) },
        )),
        Task::Deliver(task) => match &task.message {
            Some(message) => deliver_first(deliverer, task, message).await,
            None => deliver_retry(deliverer, task, receive_count).await,
        },
    }
}

/// The first attempt of a delivery: the message comes with the task and the webhook from the
/// cache, so nothing is read; the log entry is written with the batch's.
async fn deliver_first(deliverer: &Deliverer, task: &DeliverTask, message: &Message) -> Result<(Handled, Followups)> {
    let context = &deliverer.context;
    let now = Utc::now();
    let mut entry = LogEntry::delivery_of(message.clone(), task.webhook_id, now);
    let expires = context.retention_end(message.created_at);
    let webhook = match deliverable(deliverer.webhook(task.account_id, task.webhook_id, task.webhook_version).await?) {
        Ok(webhook) => webhook,
        Err(reason) => {
            entry.settle(DeliveryStatus::Cancelled, None, now);
            return Ok((Handled::Skipped(reason), Followups { entries: vec![(entry, expires)], tasks: Vec::new() }));
        }
    };
    let (outcome, attempt) = attempt(deliverer, &webhook, message, 1).await?;
    let next = settle(deliverer, &webhook, &mut entry, attempt, &outcome).await?;
    Ok((Handled::Attempted(outcome), Followups { entries: vec![(entry, expires)], tasks: next.into_iter().collect() }))
}

/// A later attempt (a retry, or a manual retry): reads the delivery's entry and the webhook,
/// sends, and rewrites the entry if no one else did since it was read.
async fn deliver_retry(deliverer: &Deliverer, task: &DeliverTask, receive_count: u32) -> Result<(Handled, Followups)> {
    let context = &deliverer.context;
    let store = &context.store;
    let now = Utc::now();
    let nothing = |reason| Ok((Handled::Skipped(reason), Followups::default()));
    if let Some(due) = task.not_before.and_then(|at| DateTime::from_timestamp(at, 0))
        && due > now
    {
        // A wait longer than SQS's 15-minute delay: wait again.
        return Ok((
            Handled::Skipped(Skip::NotDueYet),
            Followups { entries: Vec::new(), tasks: vec![retry_task(task, task.attempt, due)] },
        ));
    }
    let Some(mut entry) = store.get_log_entry(task.account_id, &task.message_id, task.webhook_id).await? else {
        return nothing(Skip::NoSuchDelivery);
    };
    if entry.status != Some(DeliveryStatus::Pending) {
        return nothing(Skip::AlreadySettled);
    }
    let made = entry.attempts.len() as u32;
    if made == task.attempt && receive_count > 1 {
        // This very task ran before and recorded its attempt, but its follow-up was not sent
        // (else SQS would not hand it out again): send the follow-up now.
        let tasks = entry.next_attempt_at.map(|due| retry_task(task, made + 1, due)).into_iter().collect();
        return Ok((Handled::Skipped(Skip::FollowupSentAgain), Followups { entries: Vec::new(), tasks }));
    }
    if made >= task.attempt {
        return nothing(Skip::AttemptMadeAlready);
    }
    if made + 1 != task.attempt {
        tracing::warn!(message_id = %task.message_id, webhook_id = task.webhook_id, attempt = task.attempt, made, "a task ahead of its delivery; dropped");
        return nothing(Skip::AheadOfDelivery);
    }
    let read_at = entry.updated_at;
    let expires = context.retention_end(entry.message.created_at);
    let webhook = match deliverable(deliverer.fresh_webhook(task.account_id, task.webhook_id).await?) {
        Ok(webhook) => webhook,
        Err(reason) => {
            entry.settle(DeliveryStatus::Cancelled, None, now);
            store.replace_log_entry(&entry, Some(read_at), expires).await?;
            return nothing(reason);
        }
    };
    let message = entry.message.clone();
    let (outcome, attempt) = attempt(deliverer, &webhook, &message, task.attempt).await?;
    let next = settle(deliverer, &webhook, &mut entry, attempt, &outcome).await?;
    if !store.replace_log_entry(&entry, Some(read_at), expires).await? {
        return nothing(Skip::RecordedByAnotherWorker);
    }
    Ok((Handled::Attempted(outcome), Followups { entries: Vec::new(), tasks: next.into_iter().collect() }))
}

/// The webhook if deliveries may go to it, else why not (its deliveries end cancelled).
fn deliverable(webhook: Option<Webhook>) -> std::result::Result<Webhook, Skip> {
    match webhook {
        Some(webhook) if webhook.status == WebhookStatus::Enabled => Ok(webhook),
        Some(_) => Err(Skip::WebhookDisabled),
        None => Err(Skip::WebhookDeleted),
    }
}

/// The task of attempt `number` of `task`'s delivery, due at `due` (through SQS's delay, and
/// the task's due time beyond 15 minutes).
fn retry_task(task: &DeliverTask, number: u32, due: DateTime<Utc>) -> Outgoing {
    let (delay, not_before) = sqs_wait(due, Utc::now());
    let next =
        DeliverTask { not_before, ..DeliverTask::retry(task.account_id, &task.message_id, task.webhook_id, number) };
    Outgoing { task: Task::Deliver(next), delay }
}

/// Sends one attempt; returns what happened and its record.
pub async fn attempt(
    deliverer: &Deliverer,
    webhook: &Webhook,
    message: &Message,
    number: u32,
) -> Result<(SendOutcome, Attempt)> {
    let at = Utc::now();
    let request = build_request(webhook, message, at)?;
    let outcome = deliverer.sender.send(&request).await;
    tracing::info!(
        message_id = %message.id,
        webhook_id = webhook.id,
        attempt = number,
        outcome = ?outcome.outcome,
        status = outcome.status_code,
        latency_ms = outcome.latency_ms,
        "delivery attempt"
    );
    let record = Attempt {
        message_id: message.id.clone(),
        webhook_id: webhook.id,
        account_id: message.account_id,
        number,
        at,
        outcome: outcome.outcome,
        status_code: outcome.status_code,
        response_headers: outcome.response_headers.clone(),
        response_body: match &outcome.error {
            Some(error) if outcome.response_body.is_empty() => error.clone(),
            _ => outcome.response_body.clone(),
        },
        latency_ms: outcome.latency_ms,
    };
    Ok((outcome, record))
}

/// The signed POST of `message` to `webhook`.
pub fn build_request(webhook: &Webhook, message: &Message, at: DateTime<Utc>) -> Result<OutgoingRequest> {
    let body = serde_json::to_vec(&message.payload).map_err(Error::internal)?;
    let mut headers: Vec<(String, String)> =
        vec![("content-type".into(), "application/json".into()), ("user-agent".into(), USER_AGENT.into())];
    headers.extend(webhook.headers.iter().map(|(name, value)| (name.clone(), value.clone())));
    let keys = webhook.signing_keys(at);
    for (name, value) in signature_headers(webhook.signature_algo, &keys, &message.id, at.timestamp(), &body)? {
        headers.push((name.to_string(), value));
    }
    let timeout = webhook.timeout_seconds.map_or(DEFAULT_TIMEOUT, |seconds| Duration::from_secs(u64::from(seconds)));
    Ok(OutgoingRequest { url: webhook.url.clone(), headers, body, timeout })
}

/// Decides what follows an attempt and records both in `entry`: success, a retry (the task
/// returned), or a final state; and keeps the webhook's failure record (410 and long failure
/// disable it).
async fn settle(
    deliverer: &Deliverer,
    webhook: &Webhook,
    entry: &mut LogEntry,
    attempt: Attempt,
    outcome: &SendOutcome,
) -> Result<Option<Outgoing>> {
    let now = Utc::now();
    let number = attempt.number;
    match outcome.outcome {
        AttemptOutcome::Success => {
            entry.record(attempt, DeliveryStatus::Succeeded, None);
            if webhook.failing_since.is_some() {
                deliverer.update_webhook(webhook, |hook| hook.failing_since.take().is_some()).await?;
            }
            return Ok(None);
        }
        AttemptOutcome::Refused => {
            entry.record(attempt, DeliveryStatus::Refused, None);
            return Ok(None);
        }
        _ if outcome.status_code == Some(410) => {
            entry.record(attempt, DeliveryStatus::Failed, None);
            disable(deliverer, webhook, DisabledReason::EndpointGone).await?;
            return Ok(None);
        }
        _ => {}
    }
    let asked = match outcome.status_code {
        Some(429 | 503) => retry_after(&outcome.response_headers, now),
        _ => None,
    };
    let schedule = webhook.retry_schedule.as_deref().unwrap_or(&DEFAULT_SCHEDULE);
    let jitter = rand::random_range(-1.0..=1.0);
    let next = match next_delay(schedule, number, asked, jitter) {
        Some(wait) => {
            let due = now + Span::from_std(wait).unwrap_or(Span::zero());
            entry.record(attempt, DeliveryStatus::Pending, Some(due));
            let task = DeliverTask::retry(entry.message.account_id, &entry.message.id, webhook.id, number);
            Some(retry_task(&task, number + 1, due))
        }
        None => {
            entry.record(attempt, DeliveryStatus::Failed, None);
            None
        }
    };
    match webhook.failing_since {
        None => {
            deliverer
                .update_webhook(webhook, |hook| {
                    let first_failure = hook.failing_since.is_none();
                    if first_failure {
                        hook.failing_since = Some(now);
                    }
                    first_failure
                })
                .await?;
        }
        Some(since) if now - since >= deliverer.disable_after() => {
            disable(deliverer, webhook, DisabledReason::FailingTooLong).await?;
        }
        Some(_) => {}
    }
    Ok(next)
}

/// Disables a webhook with its reason and tells its account with a `webhook.disabled` event.
async fn disable(deliverer: &Deliverer, webhook: &Webhook, reason: DisabledReason) -> Result<()> {
    let context = &deliverer.context;
    let Some(disabled) = deliverer
        .update_webhook(webhook, |hook| {
            let enabled = hook.status == WebhookStatus::Enabled;
            if enabled {
                hook.status = WebhookStatus::Disabled;
                hook.disabled_reason = Some(reason);
                hook.updated_at = Utc::now();
            }
            enabled
        })
        .await?
    else {
        return Ok(());
    };
    tracing::warn!(account_id = webhook.account_id, webhook_id = webhook.id, ?reason, "webhook disabled");
    let payload = serde_json::json!({
        "webhook_id": webhook.id,
        "url": webhook.url,
        "reason": reason,
        "disabled_at": hookline_domain::webhooks::timestamp(disabled.updated_at),
    });
    let event = NewEvent {
        event_type: "webhook.disabled".into(),
        fingerprint: payload.to_string(),
        payload,
        environment: webhook.environment,
        scopes: BTreeMap::new(),
        occurred_at: Utc::now(),
        idempotency_key: Some(format!("webhook.disabled:{}:{}", webhook.id, disabled.version)),
    };
    let caller = Caller {
        account_id: webhook.account_id,
        environment: webhook.environment,
        audit: Audit { client_id: "hookline".into(), external_client_id: None, app: Some("delivery".into()) },
    };
    let webhooks = context.store.list_webhooks(webhook.account_id).await?;
    context.acceptor().accept(&caller, &webhooks, event).await.map(|_| ())
}

/// Sends one test delivery at once (seed 003's test send): a `webhook.test` message with
/// one attempt, no retries, recorded in the log. Returns what the endpoint answered.
pub async fn test_send(deliverer: &Deliverer, webhook: &Webhook) -> Result<SendOutcome> {
    let context = &deliverer.context;
    let now = Utc::now();
    let message = Message {
        id: Message::new_id(),
        account_id: webhook.account_id,
        event_type: "webhook.test".into(),
        environment: webhook.environment,
        payload: serde_json::json!({ "type": "webhook.test", "webhook_id": webhook.id, "sent_at": hookline_domain::webhooks::timestamp(now) }),
        scopes: BTreeMap::new(),
        occurred_at: now,
        created_at: now,
        idempotency_key: None,
        matched: 1,
    };
    let mut entry = LogEntry::delivery_of(message.clone(), webhook.id, now);
    let (outcome, attempt) = attempt(deliverer, webhook, &message, 1).await?;
    let status = match outcome.outcome {
        AttemptOutcome::Success => DeliveryStatus::Succeeded,
        AttemptOutcome::Refused => DeliveryStatus::Refused,
        _ => DeliveryStatus::Failed,
    };
    entry.record(attempt, status, None);
    context.store.replace_log_entry(&entry, None, context.retention_end(now)).await?;
    Ok(outcome)
}

/// A one-line account of an attempt, for the test send's `message`.
pub fn describe(outcome: &SendOutcome) -> String {
    match (outcome.outcome, outcome.status_code) {
        (AttemptOutcome::Success, Some(status)) => {
            format!("the endpoint answered {status} in {} ms", outcome.latency_ms)
        }
        (AttemptOutcome::HttpError, Some(status)) => {
            format!("the endpoint answered {status} in {} ms; only 2xx counts as delivered", outcome.latency_ms)
        }
        (AttemptOutcome::Timeout, _) => format!("no answer in time ({} ms)", outcome.latency_ms),
        (AttemptOutcome::Refused, _) => {
            format!("refused: {}", outcome.error.as_deref().unwrap_or("the target address is not allowed"))
        }
        (_, _) => format!("could not connect: {}", outcome.error.as_deref().unwrap_or("connection error")),
    }
}
