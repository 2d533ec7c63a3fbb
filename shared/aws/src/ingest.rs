//! Accepting events: durable storage before the 202, idempotency, matching, and the fan-out
//! to delivery tasks (inline for small fan-outs, chained through SQS for large ones).

use crate::context::Context;
use crate::queue::Outgoing;
use crate::store::IdempotencyRecord;
use chrono::{DateTime, Duration, Utc};
use hookline_domain::auth::Caller;
use hookline_domain::events::{NewEvent, accepted_document};
use hookline_domain::matching::{EventFacts, webhook_matches};
use hookline_domain::model::{DeliverTask, Delivery, DeliveryStatus, FanoutTask, Message, Task, Webhook, WebhookId};
use hookline_domain::{Error, Problem, Result};
use serde_json::Value;
use std::collections::HashMap;

/// Up to this many matched webhooks, `ingest` enqueues the delivery tasks itself.
pub const INLINE_FANOUT_MAX: usize = 50;
/// Above it, the webhook ids go to the fan-out stage in chunks of this size (one SQS
/// message each, well under 256 KB), which `deliver` expands.
pub const FANOUT_CHUNK: usize = 200;
/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(25);
/// How long a request holds its idempotency key before a retry may take over.
pub const IDEMPOTENCY_LEASE: Duration = Duration::seconds(30);

/// The answer to an accepted (or replayed) event.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The message id.
    pub message_id: String,
    /// How many webhooks it matched.
    pub matched: u32,
    /// The 202 document.
    pub document: Value,
    /// Whether this is the stored answer of an earlier request with the same key.
    pub replayed: bool,
}

/// The ids of the webhooks an event reaches.
pub fn matching_webhooks(webhooks: &[Webhook], event: &NewEvent) -> Vec<WebhookId> {
    let facts = EventFacts {
        event_type: &event.event_type,
        environment: event.environment,
        scopes: &event.scopes,
        payload: &event.payload,
    };
    webhooks.iter().filter(|webhook| webhook_matches(webhook, &facts)).map(|webhook| webhook.id).collect()
}

/// When a record made at `now` expires (the retention setting).
pub fn retention_end(context: &Context, from: DateTime<Utc>) -> i64 {
    (from + Duration::days(i64::from(context.settings.retention_days))).timestamp()
}

/// Accepts one event of `caller`: stores the message, records and enqueues its deliveries.
/// `webhooks` are the account's (read once per request). With an idempotency key, a repeat
/// answers the first answer and enqueues nothing; a retry after a failure finishes the job.
pub async fn accept(context: &Context, caller: &Caller, webhooks: &[Webhook], event: NewEvent) -> Result<Accepted> {
    let now = Utc::now();
    let Some(key) = event.idempotency_key.clone() else {
        return accept_new(context, caller, webhooks, event, Message::new_id(), now, false).await;
    };
    let claim = IdempotencyRecord {
        key: key.clone(),
        message_id: Message::new_id(),
        fingerprint: event.fingerprint.clone(),
        lease_until_ms: (now + IDEMPOTENCY_LEASE).timestamp_millis(),
        response: None,
    };
    let store = &context.store;
    let expires = (now + IDEMPOTENCY_TTL).timestamp();
    let (message_id, resuming) = match store.claim_idempotency(caller.account_id, &claim, expires).await? {
        None => (claim.message_id, false),
        Some(existing) if existing.fingerprint != event.fingerprint => {
            return Err(Error::Invalid(vec![Problem::at(
                "/idempotency_key",
                "idempotency_key_reused",
                "this idempotency key was used for another event",
            )]));
        }
        Some(IdempotencyRecord { response: Some(response), message_id, .. }) => {
            let document: Value = serde_json::from_str(&response).map_err(Error::internal)?;
            let matched = document.pointer("/data/attributes/matched").and_then(Value::as_u64).unwrap_or(0) as u32;
            return Ok(Accepted { message_id, matched, document, replayed: true });
        }
        Some(existing) => {
            let lease = (now + IDEMPOTENCY_LEASE).timestamp_millis();
            if !store.take_over_idempotency(caller.account_id, &key, now.timestamp_millis(), lease).await? {
                return Err(Error::Conflict(
                    "a request with this idempotency key is in progress; retry it in a few seconds".into(),
                ));
            }
            (existing.message_id, true)
        }
    };
    match accept_new(context, caller, webhooks, event, message_id, now, resuming).await {
        Ok(accepted) => {
            if let Err(error) = store.finish_idempotency(caller.account_id, &key, &accepted.document.to_string()).await
            {
                // The message is stored and enqueued; a repeat will resume and find nothing to do.
                tracing::warn!(%error, message_id = %accepted.message_id, "the idempotency record was not finished");
            }
            Ok(accepted)
        }
        Err(error) => {
            if let Err(release) = store.release_idempotency(caller.account_id, &key).await {
                tracing::warn!(error = %release, "the idempotency lease was not released; it runs out by itself");
            }
            Err(error)
        }
    }
}

async fn accept_new(
    context: &Context,
    caller: &Caller,
    webhooks: &[Webhook],
    event: NewEvent,
    message_id: String,
    now: DateTime<Utc>,
    resuming: bool,
) -> Result<Accepted> {
    let matched = matching_webhooks(webhooks, &event);
    let mut message = event.into_message(message_id, caller.account_id, matched.len() as u32, now);
    let expires = retention_end(context, now);
    match context.store.create_message(&message, expires).await {
        Ok(()) => {}
        Err(Error::Conflict(_)) if resuming => {
            if let Some(stored) = context.store.get_message(caller.account_id, &message.id).await? {
                message = Message { matched: message.matched, ..stored };
            }
        }
        Err(error) => return Err(error),
    }
    dispatch(context, &message, &matched, resuming).await.map_err(|error| {
        tracing::error!(%error, message_id = %message.id, "the message is stored but its fan-out failed");
        Error::Unavailable(format!("the fan-out of {} failed: {error}", message.id))
    })?;
    tracing::info!(message_id = %message.id, matched = matched.len(), resuming, "message accepted");
    Ok(Accepted {
        message_id: message.id.clone(),
        matched: message.matched,
        document: accepted_document(&message),
        replayed: false,
    })
}

/// Sends a message to its matched webhooks: inline when few, else as fan-out tasks.
pub async fn dispatch(context: &Context, message: &Message, webhook_ids: &[WebhookId], resuming: bool) -> Result<()> {
    if webhook_ids.len() <= INLINE_FANOUT_MAX {
        return deliver_to(context, message, webhook_ids, resuming).await;
    }
    let tasks: Vec<Outgoing> = webhook_ids
        .chunks(FANOUT_CHUNK)
        .map(|chunk| {
            Outgoing::now(Task::Fanout(FanoutTask {
                account_id: message.account_id,
                message_id: message.id.clone(),
                webhook_ids: chunk.to_vec(),
            }))
        })
        .collect();
    context.queue.send(&tasks).await
}

/// Records the deliveries of `message` to `webhook_ids` and enqueues their first attempt.
/// With `check_existing` (a retry, or any fan-out task, which SQS may deliver twice) the
/// deliveries already recorded are kept, and only those not yet tried are enqueued again;
/// the delivery worker ignores a task for an attempt already made.
pub async fn deliver_to(
    context: &Context,
    message: &Message,
    webhook_ids: &[WebhookId],
    check_existing: bool,
) -> Result<()> {
    let existing: HashMap<WebhookId, Delivery> = if check_existing {
        context
            .store
            .list_deliveries(&message.id)
            .await?
            .into_iter()
            .map(|delivery| (delivery.webhook_id, delivery))
            .collect()
    } else {
        HashMap::new()
    };
    let now = Utc::now();
    let missing: Vec<Delivery> = webhook_ids
        .iter()
        .filter(|id| !existing.contains_key(id))
        .map(|&webhook_id| Delivery {
            message_id: message.id.clone(),
            webhook_id,
            account_id: message.account_id,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            updated_at: now,
        })
        .collect();
    context.store.put_deliveries(&missing, retention_end(context, message.created_at)).await?;
    let tasks: Vec<Outgoing> = webhook_ids
        .iter()
        .filter(|id| {
            existing.get(id).is_none_or(|delivery| delivery.status == DeliveryStatus::Pending && delivery.attempts == 0)
        })
        .map(|&webhook_id| {
            Outgoing::now(Task::Deliver(DeliverTask {
                account_id: message.account_id,
                message_id: message.id.clone(),
                webhook_id,
                attempt: 1,
                not_before: None,
            }))
        })
        .collect();
    context.queue.send(&tasks).await
}

/// The fan-out stage: expands one chunk of a large fan-out (run by `deliver`).
pub async fn expand(context: &Context, task: &FanoutTask) -> Result<()> {
    let Some(message) = context.store.get_message(task.account_id, &task.message_id).await? else {
        tracing::warn!(message_id = %task.message_id, "fan-out of a message that is gone (expired); nothing to do");
        return Ok(());
    };
    deliver_to(context, &message, &task.webhook_ids, true).await
}
