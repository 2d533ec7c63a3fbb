//! The delivery worker: one `deliver.v1` task becomes a signed HTTP POST, an attempt record,
//! and then success, a scheduled retry through SQS, or a final state; duplicates are harmless.

use crate::guard::Allowlist;
use crate::sender::{OutgoingRequest, SendOutcome, Sender, SenderConfig, retry_after};
use chrono::{DateTime, Duration as Span, Utc};
use hookline_aws::Context;
use hookline_aws::ingest::{accept, retention_end};
use hookline_aws::queue::Outgoing;
use hookline_domain::auth::Caller;
use hookline_domain::events::NewEvent;
use hookline_domain::model::{
    Attempt, AttemptOutcome, Audit, DeliverTask, DeliveryStatus, DisabledReason, Message, Task, Webhook, WebhookStatus,
};
use hookline_domain::retry::{DEFAULT_SCHEDULE, next_delay, sqs_wait};
use hookline_domain::signing::signature_headers;
use hookline_domain::{Error, Result};
use std::collections::BTreeMap;
use std::time::Duration;

/// The delivery timeout when a webhook sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// A claimed attempt younger than this may still be in flight in another worker (the
/// function's timeout is 60 s); an older unrecorded claim is a worker that died.
const IN_FLIGHT: Span = Span::minutes(2);
/// The `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

/// What delivering needs: the store and queue, and the process's one HTTP client.
#[derive(Clone)]
pub struct Deliverer {
    /// Settings, store and queue.
    pub context: Context,
    /// The guarded HTTP client.
    pub sender: Sender,
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
        Ok(Self { context, sender })
    }

    fn disable_after(&self) -> Span {
        Span::days(i64::from(self.context.settings.disable_after_days))
    }
}

/// What became of a task.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// An HTTP attempt was made.
    Attempted(SendOutcome),
    /// Nothing to send: a duplicate, a gone webhook or message, or a wait re-enqueued.
    Skipped(&'static str),
}

/// Runs one task of the delivery queue; `receive_count` is SQS's count of its receipts.
pub async fn run_task(deliverer: &Deliverer, task: &Task, receive_count: u32) -> Result<Handled> {
    match task {
        Task::Fanout(task) => {
            hookline_aws::ingest::expand(&deliverer.context, task).await.map(|()| Handled::Skipped("fanned out"))
        }
        Task::Deliver(task) => deliver(deliverer, task, receive_count).await,
    }
}

/// Delivers one attempt of one delivery, idempotently: a task whose attempt was made
/// already only (re)schedules what follows it.
pub async fn deliver(deliverer: &Deliverer, task: &DeliverTask, receive_count: u32) -> Result<Handled> {
    let context = &deliverer.context;
    let store = &context.store;
    let now = Utc::now();
    if let Some(due) = task.not_before.and_then(|at| DateTime::from_timestamp(at, 0))
        && due > now
    {
        // A wait longer than SQS's 15-minute delay: wait again.
        enqueue_attempt(context, task, task.attempt, due).await?;
        return Ok(Handled::Skipped("not due yet"));
    }
    let Some(delivery) = store.get_delivery(&task.message_id, task.webhook_id).await? else {
        return Ok(Handled::Skipped("no such delivery (expired)"));
    };
    if delivery.status != DeliveryStatus::Pending {
        return Ok(Handled::Skipped("already settled"));
    }
    let Some(webhook) = store.get_webhook(task.account_id, task.webhook_id).await? else {
        store.settle_delivery(&task.message_id, task.webhook_id, DeliveryStatus::Cancelled, None).await?;
        return Ok(Handled::Skipped("webhook deleted"));
    };
    if webhook.status == WebhookStatus::Disabled {
        store.settle_delivery(&task.message_id, task.webhook_id, DeliveryStatus::Cancelled, None).await?;
        return Ok(Handled::Skipped("webhook disabled"));
    }
    let Some(message) = store.get_message(task.account_id, &task.message_id).await? else {
        return Ok(Handled::Skipped("message expired"));
    };
    if delivery.attempts > task.attempt {
        return Ok(Handled::Skipped("a later attempt exists"));
    }
    if delivery.attempts == task.attempt {
        // Seen before: a worker claimed this attempt. If it recorded it, only what follows may
        // be missing. If it did not: a message SQS hands out again outlived its visibility
        // timeout (6x the function's), so its worker is gone: send again; a first receipt
        // (a duplicate task) waits while the claim is young, as its worker may be sending.
        match store.get_attempt(&task.message_id, task.webhook_id, task.attempt).await? {
            Some(recorded) if delivery.next_attempt_at.is_some_and(|next| next > recorded.at) => {
                return Ok(Handled::Skipped("attempt made and next one scheduled"));
            }
            Some(recorded) => {
                let outcome = SendOutcome {
                    outcome: recorded.outcome,
                    status_code: recorded.status_code,
                    response_headers: recorded.response_headers,
                    response_body: recorded.response_body,
                    latency_ms: recorded.latency_ms,
                    error: None,
                };
                settle(deliverer, &webhook, &message, task.attempt, &outcome, true).await?;
                return Ok(Handled::Skipped("attempt recorded before; settled now"));
            }
            None if receive_count <= 1 && now - delivery.updated_at < IN_FLIGHT => {
                return Err(Error::Unavailable("this attempt is in flight in another worker".into()));
            }
            None => {}
        }
    } else if delivery.attempts + 1 == task.attempt {
        if !store.claim_attempt(&task.message_id, task.webhook_id, task.attempt).await? {
            return Ok(Handled::Skipped("claimed by another worker"));
        }
    } else {
        tracing::warn!(message_id = %task.message_id, webhook_id = task.webhook_id, attempt = task.attempt, recorded = delivery.attempts, "a task ahead of its delivery; dropped");
        return Ok(Handled::Skipped("ahead of the delivery"));
    }
    let outcome = attempt(deliverer, &webhook, &message, task.attempt).await?;
    settle(deliverer, &webhook, &message, task.attempt, &outcome, true).await?;
    Ok(Handled::Attempted(outcome))
}

/// Sends one attempt and records it.
pub async fn attempt(deliverer: &Deliverer, webhook: &Webhook, message: &Message, number: u32) -> Result<SendOutcome> {
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
    match deliverer.context.store.create_attempt(&record, retention_end(&deliverer.context, message.created_at)).await {
        Ok(()) | Err(Error::Conflict(_)) => Ok(outcome),
        Err(error) => Err(error),
    }
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

/// Decides what follows an attempt: success, a retry through SQS, or a final state; and
/// keeps the webhook's failure record (410 and long failure disable it).
async fn settle(
    deliverer: &Deliverer,
    webhook: &Webhook,
    message: &Message,
    number: u32,
    outcome: &SendOutcome,
    may_retry: bool,
) -> Result<()> {
    let context = &deliverer.context;
    let store = &context.store;
    let now = Utc::now();
    match outcome.outcome {
        AttemptOutcome::Success => {
            store.settle_delivery(&message.id, webhook.id, DeliveryStatus::Succeeded, None).await?;
            if webhook.failing_since.is_some() {
                update_webhook(context, webhook, |hook| hook.failing_since = None).await?;
            }
            return Ok(());
        }
        AttemptOutcome::Refused => {
            store.settle_delivery(&message.id, webhook.id, DeliveryStatus::Refused, None).await?;
            return Ok(());
        }
        _ if outcome.status_code == Some(410) => {
            store.settle_delivery(&message.id, webhook.id, DeliveryStatus::Failed, None).await?;
            disable(deliverer, webhook, DisabledReason::EndpointGone).await?;
            return Ok(());
        }
        _ => {}
    }
    let asked = match outcome.status_code {
        Some(429 | 503) => retry_after(&outcome.response_headers, now),
        _ => None,
    };
    let schedule = webhook.retry_schedule.as_deref().unwrap_or(&DEFAULT_SCHEDULE);
    let jitter = rand::random_range(-1.0..=1.0);
    match next_delay(schedule, number, asked, jitter).filter(|_| may_retry) {
        Some(wait) => {
            let due = now + Span::from_std(wait).unwrap_or(Span::zero());
            let next = DeliverTask {
                account_id: message.account_id,
                message_id: message.id.clone(),
                webhook_id: webhook.id,
                attempt: number + 1,
                not_before: None,
            };
            enqueue_attempt(context, &next, number + 1, due).await?;
            store.settle_delivery(&message.id, webhook.id, DeliveryStatus::Pending, Some(due)).await?;
        }
        None => store.settle_delivery(&message.id, webhook.id, DeliveryStatus::Failed, None).await?,
    }
    match webhook.failing_since {
        None => {
            update_webhook(context, webhook, |hook| hook.failing_since = Some(now)).await?;
        }
        Some(since) if now - since >= deliverer.disable_after() => {
            disable(deliverer, webhook, DisabledReason::FailingTooLong).await?;
        }
        Some(_) => {}
    }
    Ok(())
}

/// Enqueues attempt `number` of a delivery, due at `due` (through SQS's delay, and the
/// task's due time beyond 15 minutes).
async fn enqueue_attempt(context: &Context, task: &DeliverTask, number: u32, due: DateTime<Utc>) -> Result<()> {
    let (delay, not_before) = sqs_wait(due, Utc::now());
    let task = Task::Deliver(DeliverTask { attempt: number, not_before, ..task.clone() });
    context.queue.send(&[Outgoing { task, delay }]).await
}

/// Changes a webhook with optimistic concurrency, re-reading it when another writer won.
async fn update_webhook(
    context: &Context,
    webhook: &Webhook,
    change: impl Fn(&mut Webhook),
) -> Result<Option<Webhook>> {
    let mut current = webhook.clone();
    for _ in 0..5 {
        let mut next = current.clone();
        change(&mut next);
        next.version = current.version + 1;
        match context.store.update_webhook(&next).await {
            Ok(()) => return Ok(Some(next)),
            Err(Error::Conflict(_)) => match context.store.get_webhook(webhook.account_id, webhook.id).await? {
                Some(fresh) => current = fresh,
                None => return Ok(None),
            },
            Err(error) => return Err(error),
        }
    }
    Err(Error::Conflict(format!("webhook {} keeps changing", webhook.id)))
}

/// Disables a webhook with its reason and tells its account with a `webhook.disabled` event.
async fn disable(deliverer: &Deliverer, webhook: &Webhook, reason: DisabledReason) -> Result<()> {
    let context = &deliverer.context;
    let Some(disabled) = update_webhook(context, webhook, |hook| {
        if hook.status == WebhookStatus::Enabled {
            hook.status = WebhookStatus::Disabled;
            hook.disabled_reason = Some(reason);
            hook.updated_at = Utc::now();
        }
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
    accept(context, &caller, &webhooks, event).await.map(|_| ())
}

/// Sends one test delivery at once (seed 003's test send): a `webhook.test` message with
/// one attempt, no retries. Returns what the endpoint answered.
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
    let expires = retention_end(context, now);
    context.store.create_message(&message, expires).await?;
    let delivery = hookline_domain::model::Delivery {
        message_id: message.id.clone(),
        webhook_id: webhook.id,
        account_id: webhook.account_id,
        status: DeliveryStatus::Pending,
        attempts: 1,
        next_attempt_at: None,
        updated_at: now,
    };
    context.store.put_deliveries(std::slice::from_ref(&delivery), expires).await?;
    let outcome = attempt(deliverer, webhook, &message, 1).await?;
    let status = match outcome.outcome {
        AttemptOutcome::Success => DeliveryStatus::Succeeded,
        AttemptOutcome::Refused => DeliveryStatus::Refused,
        _ => DeliveryStatus::Failed,
    };
    context.store.settle_delivery(&message.id, webhook.id, status, None).await?;
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
