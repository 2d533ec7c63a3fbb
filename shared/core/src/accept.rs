//! Accepting events: idempotency, matching, and the fan-out to delivery tasks (inline for
//! small fan-outs, chained through the queue for large ones), all on the queue before the 202.

use crate::ports::{Idempotency, IdempotencyRecord, LogWriter, Outgoing, SubjectIndex, TaskQueue};
use chrono::{DateTime, Duration, Utc};
use hookline_domain::auth::Caller;
use hookline_domain::events::{NewEvent, accepted_document};
use hookline_domain::matching::{EventFacts, webhook_matches};
use hookline_domain::model::{
    AccountId, DeliverTask, FanoutTask, LogEntry, Message, MessageId, Ordering, Task, Webhook, WebhookRef,
    subject_digest,
};
use hookline_domain::{Error, Problem, Result};
use serde_json::Value;

/// Up to this many matched webhooks, `ingest` enqueues the delivery tasks itself.
pub const INLINE_FANOUT_MAX: usize = 50;
/// Above it, the webhooks go to the fan-out stage in chunks of this size (one SQS message
/// each: the payload, at most 256 KiB, and the chunk's ids, under SQS's 1 MiB), which
/// `deliver` expands.
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

/// The webhooks an event reaches, with their versions.
pub fn matching_webhooks(webhooks: &[Webhook], event: &NewEvent) -> Vec<WebhookRef> {
    let facts = EventFacts {
        event_type: &event.event_type,
        environment: event.environment,
        scopes: &event.scopes,
        payload: &event.payload,
    };
    webhooks
        .iter()
        .filter(|webhook| webhook_matches(webhook, &facts))
        .map(|webhook| WebhookRef {
            id: webhook.id,
            version: webhook.version,
            ordered: webhook.ordering == Ordering::Fifo,
        })
        .collect()
}

/// When a record made at `from` expires, kept `retention_days`.
pub fn retention_end(retention_days: u32, from: DateTime<Utc>) -> i64 {
    (from + Duration::days(i64::from(retention_days))).timestamp()
}

/// The accepting flow over its ports: the store (idempotency records, the log) and the queue.
#[derive(Debug, Clone, Copy)]
pub struct Acceptor<'a, S, Q> {
    /// Idempotency records and the log.
    pub store: &'a S,
    /// The delivery queue.
    pub queue: &'a Q,
    /// How long log entries are kept.
    pub retention_days: u32,
}

impl<S: Idempotency + LogWriter + SubjectIndex, Q: TaskQueue> Acceptor<'_, S, Q> {
    /// Accepts one event of `caller`: matches it and enqueues its first attempts (the queue holds
    /// it durably; the log records it with its first attempts). `webhooks` are the account's
    /// (read once per request). With an idempotency key, a repeat answers the first answer and
    /// enqueues nothing; a retry after a failure enqueues again, under the same message id.
    pub async fn accept(&self, caller: &Caller, webhooks: &[Webhook], event: NewEvent) -> Result<Accepted> {
        let now = Utc::now();
        let Some(key) = event.idempotency_key.clone() else {
            let message = new_message(caller, webhooks, event, Message::new_id(), now);
            return self.enqueue(std::slice::from_ref(&message)).await.map(|()| accepted(&message.0));
        };
        let claim = IdempotencyRecord {
            key: key.clone(),
            message_id: Message::new_id(),
            fingerprint: event.fingerprint.clone(),
            lease_until_ms: (now + IDEMPOTENCY_LEASE).timestamp_millis(),
            response: None,
        };
        let store = self.store;
        let expires = (now + IDEMPOTENCY_TTL).timestamp();
        let message_id = match store.claim_idempotency(caller.account_id, &claim, expires).await? {
            None => claim.message_id,
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
                existing.message_id
            }
        };
        let message = new_message(caller, webhooks, event, message_id, now);
        match self.enqueue(std::slice::from_ref(&message)).await {
            Ok(()) => {
                let accepted = accepted(&message.0);
                if let Err(error) =
                    store.finish_idempotency(caller.account_id, &key, &accepted.document.to_string()).await
                {
                    // The tasks are enqueued; a repeat would enqueue them again (at least once).
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

    /// Accepts a batch of events: those with an idempotency key one by one, the others together
    /// (their tasks share `SendMessageBatch` calls). One result per event, in order.
    pub async fn accept_batch(
        &self,
        caller: &Caller,
        webhooks: &[Webhook],
        events: Vec<NewEvent>,
    ) -> Vec<Result<Accepted>> {
        let now = Utc::now();
        let mut results: Vec<Option<Result<Accepted>>> = Vec::with_capacity(events.len());
        let mut together = Vec::new();
        for event in events {
            if event.idempotency_key.is_some() {
                results.push(Some(self.accept(caller, webhooks, event).await));
            } else {
                together.push((results.len(), new_message(caller, webhooks, event, Message::new_id(), now)));
                results.push(None);
            }
        }
        let messages: Vec<(Message, Vec<WebhookRef>)> = together.iter().map(|(_, message)| message.clone()).collect();
        let outcome = self.enqueue(&messages).await;
        for (index, (message, _)) in together {
            results[index] = Some(match &outcome {
                Ok(()) => Ok(accepted(&message)),
                Err(error) => Err(error.clone()),
            });
        }
        results
            .into_iter()
            .map(|result| result.unwrap_or_else(|| Err(Error::internal("an event was left out"))))
            .collect()
    }

    /// Makes messages durable: their first attempts go to the queue (inline up to
    /// [`INLINE_FANOUT_MAX`] webhooks, else as fan-out tasks), those that matched nothing go
    /// to the log at once, and those with a subject to the subject index (an erasure by
    /// subject finds them there, whether or not they are delivered yet).
    async fn enqueue(&self, messages: &[(Message, Vec<WebhookRef>)]) -> Result<()> {
        let unmatched: Vec<(LogEntry, i64)> = messages
            .iter()
            .filter(|(_, matched)| matched.is_empty())
            .map(|(message, _)| {
                (LogEntry::unmatched(message.clone()), retention_end(self.retention_days, message.created_at))
            })
            .collect();
        let tasks: Vec<Outgoing> =
            messages.iter().flat_map(|(message, matched)| first_attempts(message, matched)).collect();
        let subjects: Vec<(AccountId, String, MessageId, i64)> = messages
            .iter()
            .filter_map(|(message, _)| {
                let subject = message.subject.as_deref()?;
                let expires = retention_end(self.retention_days, message.created_at);
                Some((message.account_id, subject_digest(subject), message.id.clone(), expires))
            })
            .collect();
        let indexed = async { if subjects.is_empty() { Ok(()) } else { self.store.index_subjects(&subjects).await } };
        let (logged, sent, indexed) =
            tokio::join!(self.store.put_log_entries(&unmatched), self.queue.send(&tasks), indexed);
        if let Err(error) = logged.and(sent).and(indexed) {
            tracing::error!(%error, "accepted events could not be enqueued");
            return Err(error);
        }
        for (message, matched) in messages {
            tracing::info!(message_id = %message.id, matched = matched.len(), "message accepted");
        }
        Ok(())
    }
}

fn new_message(
    caller: &Caller,
    webhooks: &[Webhook],
    event: NewEvent,
    message_id: String,
    now: DateTime<Utc>,
) -> (Message, Vec<WebhookRef>) {
    let matched = matching_webhooks(webhooks, &event);
    (event.into_message(message_id, caller.account_id, matched.len() as u32, now), matched)
}

fn accepted(message: &Message) -> Accepted {
    Accepted {
        message_id: message.id.clone(),
        matched: message.matched,
        document: accepted_document(message),
        replayed: false,
    }
}

/// The tasks of a message's first attempts: one per webhook when few, else fan-out tasks
/// of [`FANOUT_CHUNK`] webhooks each. Ordered webhooks always get theirs at once: a fan-out
/// stage run concurrently for two messages would let the later one overtake.
pub fn first_attempts(message: &Message, webhooks: &[WebhookRef]) -> Vec<Outgoing> {
    let (ordered, unordered): (Vec<WebhookRef>, Vec<WebhookRef>) = webhooks.iter().partition(|webhook| webhook.ordered);
    let mut tasks = deliver_tasks(message, &ordered);
    if unordered.len() <= INLINE_FANOUT_MAX {
        tasks.extend(deliver_tasks(message, &unordered));
    } else {
        tasks.extend(unordered.chunks(FANOUT_CHUNK).map(|chunk| {
            Outgoing::now(Task::Fanout(FanoutTask { message: message.clone(), webhooks: chunk.to_vec() }))
        }));
    }
    tasks
}

/// The fan-out stage: the first attempts of one chunk of a large fan-out (run by `deliver`).
pub fn expand(task: &FanoutTask) -> Vec<Outgoing> {
    deliver_tasks(&task.message, &task.webhooks)
}

/// One first-attempt task per webhook.
fn deliver_tasks(message: &Message, webhooks: &[WebhookRef]) -> Vec<Outgoing> {
    webhooks.iter().map(|&webhook| Outgoing::now(Task::Deliver(DeliverTask::first(message, webhook)))).collect()
}
