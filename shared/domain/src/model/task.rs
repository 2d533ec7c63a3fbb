//! The typed, versioned tasks carried by the delivery queue.

use super::account::AccountId;
use super::message::MessageId;
use super::webhook::WebhookId;
use crate::error::{Error, Problem};
use serde::{Deserialize, Serialize};

/// A queue task. The `type` tag carries the version, so a new shape is a new variant
/// and a worker still reads tasks enqueued by the previous release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Task {
    /// Deliver one message to one webhook.
    #[serde(rename = "deliver.v1")]
    Deliver(DeliverTask),
    /// Record and enqueue the deliveries of one message to a chunk of its matched webhooks
    /// (the fan-out stage of large fan-outs).
    #[serde(rename = "fanout.v1")]
    Fanout(FanoutTask),
}

/// Fan one message out to a chunk of the webhooks it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanoutTask {
    /// The tenant.
    pub account_id: AccountId,
    /// The message.
    pub message_id: MessageId,
    /// The webhooks of this chunk.
    pub webhook_ids: Vec<WebhookId>,
}

/// Deliver one message to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl Task {
    /// The task as a queue message body.
    pub fn to_body(&self) -> String {
        // A derived Serialize of plain fields cannot fail.
        serde_json::to_string(self).unwrap_or_default()
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
        Task::Deliver(DeliverTask {
            account_id: 3,
            message_id: "msg_1".into(),
            webhook_id: 9,
            attempt: 1,
            not_before: None,
        })
    }

    #[test]
    fn when_task_round_trips_should_keep_its_version_tag() {
        let body = task().to_body();
        assert!(body.contains(r#""type":"deliver.v1""#), "{body}");
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
