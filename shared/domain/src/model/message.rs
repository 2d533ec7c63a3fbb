//! Messages (accepted events), deliveries (message x webhook) and attempts.

use super::account::{AccountId, Environment};
use super::webhook::WebhookId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A message id: `msg_` + a UUIDv7, so ids sort by creation time.
pub type MessageId = String;

/// An accepted event, stored before it is acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_…`; also the `webhook-id` header of every delivery.
    pub id: MessageId,
    /// Its tenant.
    pub account_id: AccountId,
    /// Its event type.
    pub event_type: String,
    /// Its environment.
    pub environment: Environment,
    /// The payload, any JSON object.
    pub payload: Value,
    /// Scopes it carries.
    #[serde(default)]
    pub scopes: BTreeMap<String, String>,
    /// When the event happened, as the publisher says.
    pub occurred_at: DateTime<Utc>,
    /// When Hookline accepted it.
    pub created_at: DateTime<Utc>,
    /// The publisher's idempotency key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// How many webhooks it matched.
    pub matched: u32,
}

impl Message {
    /// A new, time-ordered message id.
    pub fn new_id() -> MessageId {
        format!("msg_{}", uuid::Uuid::now_v7().simple())
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next try.
    Pending,
    /// An attempt got a 2xx.
    Succeeded,
    /// Every try failed; replayable.
    Failed,
    /// The target address is forbidden (SSRF guard); not retried.
    Refused,
    /// The webhook was deleted or disabled before it was delivered.
    Cancelled,
}

/// One message for one webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The message.
    pub message_id: MessageId,
    /// The webhook.
    pub webhook_id: WebhookId,
    /// Their tenant.
    pub account_id: AccountId,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next try is due, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// 2xx.
    Success,
    /// A non-2xx answer (3xx included).
    HttpError,
    /// No answer in time.
    Timeout,
    /// Could not connect or the connection broke.
    ConnectionError,
    /// The target address is forbidden.
    Refused,
}

/// One HTTP try of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The message.
    pub message_id: MessageId,
    /// The webhook.
    pub webhook_id: WebhookId,
    /// Their tenant.
    pub account_id: AccountId,
    /// 1 for the first try.
    pub number: u32,
    /// When it started.
    pub at: DateTime<Utc>,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The response status, if one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// A few response headers.
    #[serde(default)]
    pub response_headers: BTreeMap<String, String>,
    /// The first 4 KB of the response body.
    #[serde(default)]
    pub response_body: String,
    /// Time to the full response, in milliseconds.
    pub latency_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_ids_made_in_sequence_should_sort_in_creation_order() {
        let ids: Vec<MessageId> = (0..50).map(|_| Message::new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids[0].starts_with("msg_"));
    }
}
