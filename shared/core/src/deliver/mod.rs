//! The delivery flow: a batch of `deliver.v2` tasks becomes signed HTTP POSTs, one log entry
//! per delivery written after each attempt, and then success, a retry through the queue, or
//! a final state. Delivery is at least once: a task the queue hands out twice may send twice.

mod cache;
mod erased;
mod ordered;
mod settle;
mod test_send;

pub use cache::WebhookCache;
pub use ordered::Ordered;
pub use settle::{DEFAULT_TIMEOUT, USER_AGENT, build_request};
pub use test_send::describe;

use crate::accept::retention_end;
use crate::ports::{
    Accounts, DeliveryLog, Erasures, Idempotency, Outgoing, RateLimits, SendOutcome, TaskQueue, Transformer, Transport,
    Webhooks,
};
use chrono::{DateTime, Duration as Span, Utc};
use hookline_domain::model::{
    AccountId, DeliverTask, DeliveryStatus, LogEntry, Message, MessageId, Task, Webhook, WebhookId, WebhookStatus,
};
use hookline_domain::retry::sqs_wait;
use hookline_domain::{Error, Result};

/// What the delivery flow needs of the store: webhooks, the log, idempotency records (for
/// the events it emits), accounts (to tell the platform), the webhooks' rate limits, and
/// erasures (the marks of erased messages, and erasure steps, which the worker runs too).
pub trait DeliveryStore: Webhooks + DeliveryLog + Idempotency + Accounts + RateLimits + Erasures {}

impl<S: Webhooks + DeliveryLog + Idempotency + Accounts + RateLimits + Erasures> DeliveryStore for S {}

/// What the delivery policy is set to.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryPolicy {
    /// How long log entries are kept, in days.
    pub retention_days: u32,
    /// How long a webhook may fail every delivery before it is disabled.
    pub disable_after: Span,
    /// How long after an erasure its sweep runs (longer than a batch may run).
    pub erasure_sweep: std::time::Duration,
}

/// The delivery flow on its ports: the store (webhooks, log, idempotency for the operational
/// events it emits), the task queue, the HTTP transport, and this process's webhook cache.
#[derive(Debug, Clone)]
pub struct Deliverer<S, Q, T> {
    /// Webhooks, the log, idempotency records.
    pub store: S,
    /// Where retries and fan-out tasks go.
    pub queue: Q,
    /// Where the POSTs go.
    pub transport: T,
    /// Retention and disabling.
    pub policy: DeliveryPolicy,
    /// Runs webhooks' transformations.
    pub transformer: std::sync::Arc<dyn Transformer>,
    webhooks: WebhookCache,
    platform: PlatformCache,
    erased: std::sync::Arc<erased::ErasedMarks>,
}

/// The platform's account and webhooks as this process last read them, and when: operational
/// events are told from it for [`PLATFORM_TTL`], so a failing delivery does not read them each time.
type PlatformCache =
    std::sync::Arc<std::sync::Mutex<Option<(Option<crate::operational::Platform>, std::time::Instant)>>>;

/// How long the worker trusts its copy of the platform's webhooks: a webhook the platform adds
/// or changes hears operational events at most this much later.
pub const PLATFORM_TTL: std::time::Duration = std::time::Duration::from_secs(60);

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
    /// Its webhook's rate limit gave it a slot two seconds or more away: re-enqueued to wait.
    Throttled,
    /// Its message was erased before it was sent: cancelled, logged without the payload.
    Erased,
    /// An erasure step: its follow-ups were enqueued.
    ErasureStep,
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

type Ran = Result<(Handled, Followups)>;

impl<S, Q, T> Deliverer<S, Q, T>
where
    S: DeliveryStore,
    Q: TaskQueue,
    T: Transport,
{
    /// The flow on these ports, with an empty cache.
    pub fn new(
        store: S,
        queue: Q,
        transport: T,
        transformer: std::sync::Arc<dyn Transformer>,
        policy: DeliveryPolicy,
    ) -> Self {
        Self {
            store,
            queue,
            transport,
            policy,
            transformer,
            webhooks: WebhookCache::default(),
            platform: PlatformCache::default(),
            erased: std::sync::Arc::default(),
        }
    }

    /// When a record made at `from` expires.
    pub fn retention_end(&self, from: DateTime<Utc>) -> i64 {
        retention_end(self.policy.retention_days, from)
    }

    /// A webhook at least at `version` (`None`: any cached copy is too old), from the cache
    /// when it has one, else read (and cached).
    pub async fn webhook(&self, account: AccountId, id: WebhookId, version: Option<u64>) -> Result<Option<Webhook>> {
        if let Some(cached) = version.and_then(|version| self.webhooks.at_least(account, id, version)) {
            return Ok(Some(cached));
        }
        self.fresh_webhook(account, id).await
    }

    /// A webhook as stored now (and cached).
    pub async fn fresh_webhook(&self, account: AccountId, id: WebhookId) -> Result<Option<Webhook>> {
        let webhook = self.store.get_webhook(account, id).await?;
        self.webhooks.remember(account, id, webhook.as_ref());
        Ok(webhook)
    }

    /// Reads, once each, the webhooks the first attempts of `tasks` need and the cache lacks,
    /// so that a batch's tasks (which run concurrently) do not all miss the cache together.
    /// A failed read is left to the task, which reads again and reports it.
    async fn warm(&self, tasks: &[(Task, u32)]) {
        let wanted = tasks.iter().filter_map(|(task, _)| match task {
            Task::Deliver(DeliverTask { account_id, webhook_id, webhook_version: Some(version), .. }) => {
                Some((*account_id, *webhook_id, *version))
            }
            _ => None,
        });
        let missing = self.webhooks.missing(wanted);
        futures::future::join_all(missing.into_iter().map(|(account, id)| self.fresh_webhook(account, id))).await;
    }

    /// Reserves, in one write per rate-limited webhook, the send slots of the batch's tasks
    /// that have none yet (one per task, in the batch's order); `None` for the others, and
    /// where the reservation failed (the task then reserves its own).
    async fn reserve_batch_slots(&self, tasks: &[(Task, u32)]) -> Vec<Option<i64>> {
        let mut groups: std::collections::BTreeMap<(AccountId, WebhookId), (u32, Vec<usize>)> = Default::default();
        for (index, (task, _)) in tasks.iter().enumerate() {
            let Task::Deliver(task) = task else { continue };
            if task.slot_at_us.is_some() {
                continue;
            }
            let known = self.webhooks.at_least(task.account_id, task.webhook_id, task.webhook_version.unwrap_or(0));
            if let Some(rate) = known.and_then(|webhook| webhook.rate_limit).filter(|rate| *rate > 0) {
                groups.entry((task.account_id, task.webhook_id)).or_insert((rate, Vec::new())).1.push(index);
            }
        }
        let mut slots = vec![None; tasks.len()];
        let reservations = groups.into_iter().map(|((account, webhook), (rate, indices))| async move {
            let interval = slot_interval_us(rate);
            let count = u32::try_from(indices.len()).unwrap_or(u32::MAX);
            let now = Utc::now().timestamp_micros();
            let first = self.store.reserve_slots(account, webhook, interval, count, now).await;
            (first, interval, indices)
        });
        for (first, interval, indices) in futures::future::join_all(reservations).await {
            match first {
                Ok(first) => {
                    for (n, index) in indices.into_iter().enumerate() {
                        slots[index] = Some(first + interval * n as i64);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "reserving a batch's send slots failed; each task reserves its own")
                }
            }
        }
        slots
    }

    /// Runs a batch of tasks (each with the queue's count of its receipts) concurrently, then
    /// writes their log entries together and sends their follow-up tasks together. One result
    /// per task: a task whose writes failed is an error, so the queue hands it out again.
    pub async fn run_batch(&self, tasks: &[(Task, u32)]) -> Vec<Result<Handled>> {
        self.warm(tasks).await;
        let erased = self.erased_first_attempts(tasks).await;
        let slots = self.reserve_batch_slots(tasks).await;
        let erased = &erased;
        let ran = futures::future::join_all(tasks.iter().zip(slots).map(|((task, count), slot)| async move {
            let erased = match (erased, task) {
                (Err(error), Task::Deliver(DeliverTask { message: Some(_), .. })) => return Err(error.clone()),
                (Ok(erased), Task::Deliver(task)) => erased.contains(&(task.account_id, task.message_id.clone())),
                _ => false,
            };
            self.run_task_in_slot(task, *count, slot, erased).await
        }))
        .await;
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
        let mut entries = Vec::new();
        let mut writers = Vec::new();
        for (index, followups) in &mut pending {
            if !followups.entries.is_empty() {
                writers.push(*index);
                entries.append(&mut followups.entries);
            }
        }
        if let Err(error) = self.store.put_log_entries(&entries).await {
            // Nothing of theirs is recorded: those tasks run again, with their follow-ups.
            tracing::warn!(%error, "recording a batch's attempts failed");
            for (index, followups) in &mut pending {
                if writers.contains(index) {
                    results[*index] = Err(Error::Unavailable(format!("recording the attempt failed: {error}")));
                    followups.tasks.clear();
                }
            }
        }
        let outgoing: Vec<Outgoing> =
            pending.iter().flat_map(|(_, followups)| followups.tasks.iter().cloned()).collect();
        if let Err(error) = self.queue.send(&outgoing).await {
            tracing::warn!(%error, "enqueueing a batch's follow-ups failed");
            for (index, followups) in &pending {
                if !followups.tasks.is_empty() {
                    results[*index] = Err(Error::Unavailable(format!("enqueueing the follow-up failed: {error}")));
                }
            }
        }
        results
    }

    /// Which first attempts of the batch are of erased messages (read once for the batch).
    async fn erased_first_attempts(
        &self,
        tasks: &[(Task, u32)],
    ) -> Result<std::collections::HashSet<(AccountId, MessageId)>> {
        let firsts: Vec<&Message> = tasks
            .iter()
            .filter_map(|(task, _)| match task {
                Task::Deliver(DeliverTask { message: Some(message), .. }) => Some(message),
                _ => None,
            })
            .collect();
        self.erased.erased(&self.store, &firsts).await
    }

    /// The erasure flow on this worker's store and queue.
    pub fn eraser(&self) -> crate::erase::Eraser<'_, S, Q> {
        crate::erase::Eraser {
            store: &self.store,
            queue: &self.queue,
            retention_days: self.policy.retention_days,
            sweep_after: self.policy.erasure_sweep,
        }
    }

    /// Runs one task; `receive_count` is the queue's count of its receipts.
    pub async fn run_task(&self, task: &Task, receive_count: u32) -> Ran {
        self.run_task_in_slot(task, receive_count, None, false).await
    }

    /// Runs one task, with the send slot its batch reserved for it if its webhook is
    /// rate-limited, knowing whether its message was erased.
    async fn run_task_in_slot(&self, task: &Task, receive_count: u32, slot: Option<i64>, erased: bool) -> Ran {
        let slotted;
        let task = match (task, slot) {
            (Task::Deliver(deliver), Some(slot)) => {
                slotted = Task::Deliver(DeliverTask { slot_at_us: Some(slot), ..deliver.clone() });
                &slotted
            }
            _ => task,
        };
        match task {
            Task::Fanout(task) => Ok((
                Handled::Skipped(Skip::FannedOut),
                Followups { entries: Vec::new(), tasks: crate::accept::expand(task) },
            )),
            Task::Deliver(task) => match &task.message {
                Some(message) if erased => Ok(cancel_erased(task, message, self.retention_end(message.created_at))),
                Some(message) => self.deliver_first(task, message).await,
                None => self.deliver_retry(task, receive_count).await,
            },
            Task::Erase(task) => Ok((
                Handled::Skipped(Skip::ErasureStep),
                Followups { entries: Vec::new(), tasks: self.eraser().run(task).await? },
            )),
        }
    }

    /// The first attempt of a delivery: the message comes with the task and the webhook from
    /// the cache, so nothing is read; the log entry is written with the batch's.
    async fn deliver_first(&self, task: &DeliverTask, message: &Message) -> Ran {
        let now = Utc::now();
        let mut entry = LogEntry::delivery_of(message.clone(), task.webhook_id, now);
        let expires = self.retention_end(message.created_at);
        let webhook = match deliverable(self.webhook(task.account_id, task.webhook_id, task.webhook_version).await?) {
            Ok(webhook) => webhook,
            Err(reason) => {
                entry.settle(DeliveryStatus::Cancelled, None, now);
                return Ok((
                    Handled::Skipped(reason),
                    Followups { entries: vec![(entry, expires)], tasks: Vec::new() },
                ));
            }
        };
        if let Some(waiting) = self.throttle(&webhook, task).await? {
            return Ok((Handled::Skipped(Skip::Throttled), Followups { entries: Vec::new(), tasks: vec![waiting] }));
        }
        let (outcome, attempt) = self.attempt(&webhook, message, 1).await?;
        let next = self.settle(&webhook, &mut entry, attempt, &outcome).await?;
        Ok((
            Handled::Attempted(outcome),
            Followups { entries: vec![(entry, expires)], tasks: next.into_iter().collect() },
        ))
    }

    /// A later attempt (a retry, or a manual retry): reads the delivery's entry and the
    /// webhook, sends, and rewrites the entry if no one else did since it was read.
    async fn deliver_retry(&self, task: &DeliverTask, receive_count: u32) -> Ran {
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
        let Some(mut entry) = self.store.get_log_entry(task.account_id, &task.message_id, task.webhook_id).await?
        else {
            return nothing(Skip::NoSuchDelivery);
        };
        if entry.status != Some(DeliveryStatus::Pending) {
            return nothing(Skip::AlreadySettled);
        }
        if entry.message.erased_at.is_some() {
            // Reopened by hand after its erasure (or erased meanwhile): nothing left to send.
            let read_at = entry.updated_at;
            entry.settle(DeliveryStatus::Cancelled, None, now);
            self.store.replace_log_entry(&entry, Some(read_at), self.retention_end(entry.message.created_at)).await?;
            return nothing(Skip::Erased);
        }
        let made = entry.attempts.len() as u32;
        if made == task.attempt && receive_count > 1 {
            // This very task ran before and recorded its attempt, but its follow-up was not
            // sent (else the queue would not hand it out again): send the follow-up now.
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
        let expires = self.retention_end(entry.message.created_at);
        let webhook = match deliverable(self.fresh_webhook(task.account_id, task.webhook_id).await?) {
            Ok(webhook) => webhook,
            Err(reason) => {
                entry.settle(DeliveryStatus::Cancelled, None, now);
                self.store.replace_log_entry(&entry, Some(read_at), expires).await?;
                return nothing(reason);
            }
        };
        if let Some(waiting) = self.throttle(&webhook, task).await? {
            return Ok((Handled::Skipped(Skip::Throttled), Followups { entries: Vec::new(), tasks: vec![waiting] }));
        }
        let message = entry.message.clone();
        let (outcome, attempt) = self.attempt(&webhook, &message, task.attempt).await?;
        let next = self.settle(&webhook, &mut entry, attempt, &outcome).await?;
        if !self.store.replace_log_entry(&entry, Some(read_at), expires).await? {
            return nothing(Skip::RecordedByAnotherWorker);
        }
        Ok((Handled::Attempted(outcome), Followups { entries: Vec::new(), tasks: next.into_iter().collect() }))
    }
}

impl<S, Q, T> Deliverer<S, Q, T>
where
    S: DeliveryStore,
    Q: TaskQueue,
    T: Transport,
{
    /// Holds a task to its webhook's rate limit: takes the task's slot (reserving one if it
    /// has none); a slot less than `IN_BATCH_WAIT_US` away is waited for here, one further
    /// away sends the task back to the queue, keeping its slot, to come back a second or two
    /// early (whole seconds of delay, then up to a second in the event source's batching
    /// window) and wait the rest here.
    async fn throttle(&self, webhook: &Webhook, task: &DeliverTask) -> Result<Option<Outgoing>> {
        let Some(rate) = webhook.rate_limit.filter(|rate| *rate > 0) else { return Ok(None) };
        let interval = slot_interval_us(rate);
        let mut slot = task.slot_at_us;
        for _ in 0..RESERVE_TRIES {
            let now = Utc::now().timestamp_micros();
            match slot {
                // A slot that passed while it was being reserved (a slow or contended store)
                // would go out together with the slots after it: take a fresh one instead.
                Some(reserved) if task.slot_at_us.is_some() || now - reserved <= interval => break,
                _ => slot = Some(self.store.reserve_slots(task.account_id, task.webhook_id, interval, 1, now).await?),
            }
        }
        let slot = slot.unwrap_or_default();
        // Measured after the reservation: its round trip is part of the wait, not added to it.
        let wait = slot - Utc::now().timestamp_micros();
        if wait >= IN_BATCH_WAIT_US {
            let seconds =
                u64::try_from(wait / 1_000_000 - 1).unwrap_or(0).min(hookline_domain::retry::SQS_MAX_DELAY.as_secs());
            let waiting = DeliverTask { slot_at_us: Some(slot), ..task.clone() };
            return Ok(Some(Outgoing { task: Task::Deliver(waiting), delay: std::time::Duration::from_secs(seconds) }));
        }
        if wait > 0 {
            tokio::time::sleep(std::time::Duration::from_micros(wait.unsigned_abs())).await;
        }
        Ok(None)
    }
}

/// Reservations a rate-limited task makes at most, when the slots it gets have passed already.
const RESERVE_TRIES: usize = 3;

/// The longest a rate-limited task waits for its slot inside a batch; further away, it waits in
/// the queue.
const IN_BATCH_WAIT_US: i64 = 2_000_000;

/// Microseconds between two sends at `rate` a second.
pub fn slot_interval_us(rate: u32) -> i64 {
    1_000_000 / i64::from(rate.max(1))
}

/// The first attempt of an erased message: not sent; its entry records it cancelled, without
/// the payload.
fn cancel_erased(task: &DeliverTask, message: &Message, expires: i64) -> (Handled, Followups) {
    let now = Utc::now();
    let mut entry = LogEntry::delivery_of(message.clone(), task.webhook_id, now);
    entry.erase(now);
    (Handled::Skipped(Skip::Erased), Followups { entries: vec![(entry, expires)], tasks: Vec::new() })
}

/// The webhook if deliveries may go to it, else why not (its deliveries end cancelled).
fn deliverable(webhook: Option<Webhook>) -> std::result::Result<Webhook, Skip> {
    match webhook {
        Some(webhook) if webhook.status == WebhookStatus::Enabled => Ok(webhook),
        Some(_) => Err(Skip::WebhookDisabled),
        None => Err(Skip::WebhookDeleted),
    }
}

/// The task of attempt `number` of `task`'s delivery, due at `due` (through the queue's
/// delay, and the task's due time beyond 15 minutes).
fn retry_task(task: &DeliverTask, number: u32, due: DateTime<Utc>) -> Outgoing {
    let (delay, not_before) = sqs_wait(due, Utc::now());
    let next =
        DeliverTask { not_before, ..DeliverTask::retry(task.account_id, &task.message_id, task.webhook_id, number) };
    Outgoing { task: Task::Deliver(next), delay }
}
