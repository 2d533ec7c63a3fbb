//! The typed, versioned tasks carried by the delivery queue.

use super::account::AccountId;
use super::message::{Message, MessageId};
use super::webhook::WebhookId;
use crate::error::{Error, Problem};
use serde::{Deserialize, Serialize};

/// A queue task. The `type` tag carries the version, so a new shape is a new variant
/// and a worker still reads tasks enqueued by the previous release. (v2 carries the message
/// itself: the log has no record of a message before its first attempt. No release ever
/// enqueued v1 tasks, so their variants are gone.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Task {
    /// Deliver one message to one webhook.
    #[serde(rename = "deliver.v2")]
    Deliver(DeliverTask),
    /// Enqueue the first attempts of one message to a chunk of its matched webhooks (the
    /// fan-out stage of large fan-outs).
    #[serde(rename = "fanout.v2")]
    Fanout(FanoutTask),
    /// A step of an erasure: a page of a subject's messages, or a message's final sweep.
    #[serde(rename = "erase.v1")]
    Erase(EraseTask),
}

/// One step of an erasure. The first pass erases the payloads of a page of the subject's
/// messages and sends the next page's task; once the subject's messages are all erased, a
/// second pass (the sweep) runs after every delivery that was in flight has ended, erasing
/// what such a delivery wrote to the log after the first pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EraseTask {
    /// The account.
    pub account_id: AccountId,
    /// The erasure job, for an erasure by subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure_id: Option<String>,
    /// The subject's digest, for an erasure by subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_digest: Option<String>,
    /// The one message, for the sweep of a message's erasure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// 1: erase; 2: the sweep.
    pub pass: u8,
    /// Where the subject's next page starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A matched webhook, with the version it had when the event was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRef {
    /// The webhook.
    pub id: WebhookId,
    /// Its version then: the worker may use any cached copy at least this recent.
    pub version: u64,
    /// Whether its deliveries go out in order (through the ordered queue).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
}

/// Fan one message out to a chunk of the webhooks it matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanoutTask {
    /// The message.
    pub message: Message,
    /// The webhooks of this chunk.
    pub webhooks: Vec<WebhookRef>,
}

/// Deliver one message to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverTask {
    /// The tenant.
    pub account_id: AccountId,
    /// The message.
    pub message_id: MessageId,
    /// The webhook.
    pub webhook_id: WebhookId,
    /// The attempt this task is for, 1 for the first.
    pub attempt: u32,
    /// Unix seconds before which it must not be sent (waits beyond SQS's 15-minute delay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// The message, on a first attempt (the log has no entry for it yet); a retry reads it
    /// from the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// The webhook's version when the event was matched (first attempts only): the worker's
    /// cached copy serves if it is at least this recent; a retry always reads the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_version: Option<u64>,
    /// The send slot (Unix microseconds) its webhook's rate limit gave it, once reserved: a
    /// task that waits for it through the queue keeps its place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_at_us: Option<i64>,
    /// A delivery of an ordered webhook: it travels in the ordered (FIFO) queue, its webhook
    /// being the message group, and waits there for its retries.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
}

impl DeliverTask {
    /// The first attempt of `message` to `webhook`.
    pub fn first(message: &Message, webhook: WebhookRef) -> Self {
        Self {
            account_id: message.account_id,
            message_id: message.id.clone(),
            webhook_id: webhook.id,
            attempt: 1,
            not_before: None,
            message: Some(message.clone()),
            webhook_version: Some(webhook.version),
            slot_at_us: None,
            ordered: webhook.ordered,
        }
    }

    /// Attempt `number` (a retry) of a delivery.
    pub fn retry(account_id: AccountId, message_id: &str, webhook_id: WebhookId, number: u32) -> Self {
        Self {
            account_id,
            message_id: message_id.to_string(),
            webhook_id,
            attempt: number,
            not_before: None,
            message: None,
            webhook_version: None,
            slot_at_us: None,
            ordered: false,
        }
    }
}

impl Task {
    /// The task as a queue message body; a task that does not encode is an internal error
    /// (never an empty body on the queue).
    pub fn to_body(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|error| Error::internal(format!("encoding a task: {error}")))
    }

    /// Reads a queue message body.
    pub fn from_body(body: &str) -> Result<Self, Error> {
        serde_json::from_str(body).map_err(|error| {
            Error::BadRequest(Problem { code: "undecodable_task", detail: error.to_string(), source: None })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task::Deliver(DeliverTask::retry(3, "msg_1", 9, 2))
    }

    #[test]
    fn when_task_round_trips_should_keep_its_version_tag() {
        let body = task().to_body().expect("encodes");
        assert!(body.contains(r#""type":"deliver.v2""#), "{body}");
        assert_eq!(Task::from_body(&body).expect("decodes"), task());
    }

    #[test]
    fn when_body_has_unknown_version_should_be_an_error() {
        let error = Task::from_body(r#"{"type":"deliver.v9","account_id":1}"#).expect_err("refused");
        assert_eq!(error.status(), 400);
    }

    #[test]
    fn when_body_is_not_json_should_be_an_error() {
        assert!(Task::from_body("not json").is_err());
    }
}
