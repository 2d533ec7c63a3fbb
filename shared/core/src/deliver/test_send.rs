//! The test send (seed 003): one `webhook.test` delivery made at once, recorded in the log,
//! never retried.

use super::{Deliverer, DeliveryStore};
use crate::ports::{SendOutcome, TaskQueue, Transport};
use chrono::Utc;
use hookline_domain::Result;
use hookline_domain::model::{AttemptOutcome, DeliveryStatus, LogEntry, Message, Webhook};
use std::collections::BTreeMap;

impl<S, Q, T> Deliverer<S, Q, T>
where
    S: DeliveryStore,
    Q: TaskQueue,
    T: Transport,
{
    /// Sends one test delivery at once: a `webhook.test` message with one attempt, no
    /// retries, recorded in the log. Returns what the endpoint answered.
    pub async fn test_send(&self, webhook: &Webhook) -> Result<SendOutcome> {
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
            subject: None,
            erased_at: None,
        };
        let mut entry = LogEntry::delivery_of(message.clone(), webhook.id, now);
        let (outcome, attempt) = self.attempt(webhook, &message, 1).await?;
        let status = match outcome.outcome {
            AttemptOutcome::Success => DeliveryStatus::Succeeded,
            AttemptOutcome::Refused => DeliveryStatus::Refused,
            _ => DeliveryStatus::Failed,
        };
        entry.record(attempt, status, None);
        self.store.replace_log_entry(&entry, None, self.retention_end(now)).await?;
        Ok(outcome)
    }
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
        (AttemptOutcome::TransformationError, _) => {
            format!("the transformation failed: {}", outcome.error.as_deref().unwrap_or("no output"))
        }
        (AttemptOutcome::Refused, _) => {
            format!("refused: {}", outcome.error.as_deref().unwrap_or("the target address is not allowed"))
        }
        (_, _) => format!("could not connect: {}", outcome.error.as_deref().unwrap_or("connection error")),
    }
}
