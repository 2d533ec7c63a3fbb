//! The message log's documents: messages with their deliveries (`included`).

use crate::model::{Delivery, Message};
use crate::webhooks::timestamp;
use serde_json::{Value, json};

/// The JSON:API type of messages.
pub const TYPE: &str = "messages";
/// The JSON:API type of deliveries.
pub const DELIVERY_TYPE: &str = "deliveries";
/// The default page size of the log.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page of the log (payloads are large; Lambda answers at most 6 MB).
pub const MAX_PAGE_SIZE: u32 = 250;

/// A message; its payload only when `with_payload` (the show route).
pub fn message_resource(message: &Message, with_payload: bool) -> Value {
    let mut attributes = json!({
        "event_type": message.event_type,
        "environment": message.environment,
        "scopes": message.scopes,
        "matched": message.matched,
        "idempotency_key": message.idempotency_key,
        "occurred_at": timestamp(message.occurred_at),
        "created_at": timestamp(message.created_at),
    });
    if with_payload {
        attributes["payload"] = message.payload.clone();
    }
    json!({
        "type": TYPE,
        "id": message.id,
        "attributes": attributes,
        "links": { "self": format!("/api/v3/notification/messages/{}", message.id) },
    })
}

/// The id of a delivery: `{message id}:{webhook id}`.
pub fn delivery_id(delivery: &Delivery) -> String {
    format!("{}:{}", delivery.message_id, delivery.webhook_id)
}

/// A delivery, with its webhook as a relationship.
pub fn delivery_resource(delivery: &Delivery) -> Value {
    json!({
        "type": DELIVERY_TYPE,
        "id": delivery_id(delivery),
        "attributes": {
            "message_id": delivery.message_id,
            "webhook_id": delivery.webhook_id,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at.map(timestamp),
            "updated_at": timestamp(delivery.updated_at),
        },
        "relationships": {
            "webhook": { "data": { "type": "webhooks", "id": delivery.webhook_id.to_string() } }
        },
    })
}

/// The JSON:API type of attempts.
pub const ATTEMPT_TYPE: &str = "attempts";

/// One HTTP attempt of a delivery.
pub fn attempt_resource(attempt: &crate::model::Attempt) -> Value {
    json!({
        "type": ATTEMPT_TYPE,
        "id": format!("{}:{}:{}", attempt.message_id, attempt.webhook_id, attempt.number),
        "attributes": {
            "message_id": attempt.message_id,
            "webhook_id": attempt.webhook_id,
            "number": attempt.number,
            "at": timestamp(attempt.at),
            "status": attempt.outcome,
            "status_code": attempt.status_code,
            "response_headers": attempt.response_headers,
            "response_body": attempt.response_body,
            "latency_ms": attempt.latency_ms,
        },
    })
}

/// A message with its deliveries: `relationships.deliveries` and the resources in `included`.
pub fn message_document(message: &Message, deliveries: &[Delivery]) -> Value {
    let mut data = message_resource(message, true);
    data["relationships"] = json!({
        "deliveries": {
            "data": deliveries.iter().map(|d| json!({ "type": DELIVERY_TYPE, "id": delivery_id(d) })).collect::<Vec<_>>()
        }
    });
    json!({ "data": data, "included": deliveries.iter().map(delivery_resource).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeliveryStatus, Environment};
    use chrono::Utc;
    use std::collections::BTreeMap;

    #[test]
    fn when_message_shown_should_include_each_delivery_and_link_it() {
        let now = Utc::now();
        let message = Message {
            id: "msg_1".into(),
            account_id: 1,
            event_type: "a.b".into(),
            environment: Environment::Production,
            payload: json!({"k": 1}),
            scopes: BTreeMap::new(),
            occurred_at: now,
            created_at: now,
            idempotency_key: None,
            matched: 2,
        };
        let delivery = |webhook_id| Delivery {
            message_id: "msg_1".into(),
            webhook_id,
            account_id: 1,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: None,
            updated_at: now,
        };
        let document = message_document(&message, &[delivery(3), delivery(4)]);
        assert_eq!(document["data"]["attributes"]["payload"], json!({"k": 1}));
        assert_eq!(document["data"]["relationships"]["deliveries"]["data"][1]["id"], "msg_1:4");
        assert_eq!(document["included"][0]["attributes"]["status"], "pending");
        assert_eq!(document["included"][1]["relationships"]["webhook"]["data"]["id"], "4");
        assert!(message_resource(&message, false)["attributes"].get("payload").is_none());
    }
}
