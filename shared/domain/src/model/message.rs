//! Messages (accepted events), deliveries (message x webhook), attempts, and the log entry
//! that keeps the three together.

use super::account::{AccountId, Environment};
use super::webhook::WebhookId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A message id: `msg_` + a UUIDv7, so ids sort by creation time.
pub type MessageId = String;

/// An accepted event. Before it is acknowledged it travels in SQS, inside the tasks of its
/// first attempts; the log gets it with the entry the worker writes after each delivery's first
/// attempt. A message that matched no webhook is written to the log by ingest instead.
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
    /// Whom or what it is about (a person, an entity), as the publisher says: what an erasure
    /// by subject finds it by. Removed with the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When its payload was erased (then `payload` is null, and the attempts' response bodies,
    /// which may echo it, are gone too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
}

impl Message {
    /// When the message of `id` was made: the Unix milliseconds in the first 12 hex digits of
    /// its UUIDv7. `None` for a string that is not a message id.
    pub fn time_of(id: &str) -> Option<DateTime<Utc>> {
        let hex = id.strip_prefix("msg_")?;
        if hex.len() != 32 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        DateTime::from_timestamp_millis(i64::from_str_radix(&hex[..12], 16).ok()?)
    }

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
    /// An ordered webhook's delivery not tried yet: the earlier message it waits behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<MessageId>,
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
    /// The webhook's transformation failed on this event: nothing was sent, and the same
    /// program would fail again, so it is not retried (a manual retry runs the current one).
    TransformationError,
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

/// The log's record of one message for one webhook: the message, where its delivery stands
/// and every attempt made. The delivery worker writes it after each attempt (the first ones in
/// batches), so one item per delivery is the whole delivery log; a message that matched no
/// webhook has one entry without a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The message.
    #[serde(flatten)]
    pub message: Message,
    /// The webhook; `None` for a message that matched none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<WebhookId>,
    /// Where the delivery stands; `None` without a webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeliveryStatus>,
    /// When the next try is due, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The attempts, oldest first.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// For an ordered webhook's delivery not tried yet: the earlier message it waits behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<MessageId>,
}

impl LogEntry {
    /// The entry of a message that matched no webhook.
    pub fn unmatched(message: Message) -> Self {
        let updated_at = message.created_at;
        Self {
            message,
            webhook_id: None,
            status: None,
            next_attempt_at: None,
            updated_at,
            attempts: Vec::new(),
            waiting_for: None,
        }
    }

    /// A delivery of `message` to `webhook_id` before its first attempt.
    pub fn delivery_of(message: Message, webhook_id: WebhookId, now: DateTime<Utc>) -> Self {
        Self {
            message,
            webhook_id: Some(webhook_id),
            status: Some(DeliveryStatus::Pending),
            next_attempt_at: Some(now),
            updated_at: now,
            attempts: Vec::new(),
            waiting_for: None,
        }
    }

    /// Erases the message's payload and subject, and the attempts' response bodies (which may
    /// echo the payload); a pending delivery is cancelled. Metadata and attempts stay. Whether
    /// there was anything to erase.
    pub fn erase(&mut self, at: DateTime<Utc>) -> bool {
        let left = self.message.erased_at.is_none()
            || !self.message.payload.is_null()
            || self.message.subject.is_some()
            || self.attempts.iter().any(|attempt| !attempt.response_body.is_empty());
        if !left {
            return false;
        }
        self.message.payload = Value::Null;
        self.message.subject = None;
        self.message.erased_at.get_or_insert(at);
        for attempt in &mut self.attempts {
            attempt.response_body.clear();
        }
        if self.status == Some(DeliveryStatus::Pending) {
            self.status = Some(DeliveryStatus::Cancelled);
            self.next_attempt_at = None;
        }
        self.updated_at = at;
        true
    }

    /// The delivery this entry records, if the message matched a webhook.
    pub fn delivery(&self) -> Option<Delivery> {
        Some(Delivery {
            message_id: self.message.id.clone(),
            webhook_id: self.webhook_id?,
            account_id: self.message.account_id,
            status: self.status?,
            attempts: self.attempts.len() as u32,
            next_attempt_at: self.next_attempt_at,
            updated_at: self.updated_at,
            waiting_for: self.waiting_for.clone(),
        })
    }

    /// Adds an attempt and where the delivery stands after it.
    pub fn record(&mut self, attempt: Attempt, status: DeliveryStatus, next_attempt_at: Option<DateTime<Utc>>) {
        self.updated_at = attempt.at.max(self.updated_at);
        self.attempts.push(attempt);
        self.settle(status, next_attempt_at, self.updated_at);
    }

    /// Sets where the delivery stands, without an attempt.
    pub fn settle(&mut self, status: DeliveryStatus, next_attempt_at: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        self.status = Some(status);
        self.next_attempt_at = next_attempt_at;
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        let now = Utc::now();
        Message {
            id: Message::new_id(),
            account_id: 1,
            event_type: "a.b".into(),
            environment: Environment::Sandbox,
            payload: serde_json::json!({"n": 1}),
            scopes: BTreeMap::new(),
            occurred_at: now,
            created_at: now,
            idempotency_key: None,
            matched: 1,
            subject: None,
            erased_at: None,
        }
    }

    #[test]
    fn when_attempt_recorded_should_count_it_and_settle_the_delivery() {
        let message = message();
        let mut entry = LogEntry::delivery_of(message.clone(), 7, message.created_at);
        assert_eq!(
            entry.delivery().map(|delivery| (delivery.attempts, delivery.status)),
            Some((0, DeliveryStatus::Pending))
        );
        let attempt = Attempt {
            message_id: message.id.clone(),
            webhook_id: 7,
            account_id: 1,
            number: 1,
            at: Utc::now(),
            outcome: AttemptOutcome::Success,
            status_code: Some(200),
            response_headers: BTreeMap::new(),
            response_body: String::new(),
            latency_ms: 3,
        };
        entry.record(attempt, DeliveryStatus::Succeeded, None);
        let delivery = entry.delivery().expect("a delivery");
        assert_eq!((delivery.attempts, delivery.status, delivery.webhook_id), (1, DeliveryStatus::Succeeded, 7));
        assert!(LogEntry::unmatched(message).delivery().is_none());
    }

    #[test]
    fn when_entry_round_trips_through_json_should_keep_message_and_delivery_apart() {
        let entry = LogEntry::delivery_of(message(), 3, Utc::now());
        let json = serde_json::to_value(&entry).expect("encodes");
        assert_eq!(json["webhook_id"], 3);
        assert_eq!(json["event_type"], "a.b");
        assert_eq!(serde_json::from_value::<LogEntry>(json).expect("decodes"), entry);
    }

    #[test]
    fn when_ids_made_in_sequence_should_sort_in_creation_order() {
        let ids: Vec<MessageId> = (0..50).map(|_| Message::new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids[0].starts_with("msg_"));
    }
}
