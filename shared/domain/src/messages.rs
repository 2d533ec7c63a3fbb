//! The message log's rendering: messages with their deliveries (`included`), and attempts.

use crate::documents::{self, RecoverRequest, RetryRequest};
use crate::documents::{
    AttemptAttributes, AttemptResource, DeliveryAttributes, DeliveryRelationships, DeliveryResource, Identifier,
    MessageAttributes, MessageDocument, MessageRelationships, MessageResource, SelfLink, ToMany, ToOne,
};
use crate::error::{Error, Problem};
use crate::model::{Delivery, Message};
use crate::patch::Patch;
use crate::webhooks::timestamp;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The JSON:API type of messages.
pub const TYPE: &str = "messages";
/// The JSON:API type of deliveries.
pub const DELIVERY_TYPE: &str = "deliveries";
/// The default page size of the log.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page of the log (payloads are large; Lambda answers at most 6 MB).
pub const MAX_PAGE_SIZE: u32 = 250;

/// A message; its payload only when `with_payload` (the show route).
pub fn message_resource(message: &Message, with_payload: bool) -> MessageResource {
    MessageResource {
        kind: TYPE.into(),
        id: message.id.clone(),
        attributes: MessageAttributes {
            event_type: message.event_type.clone(),
            environment: message.environment,
            scopes: message.scopes.clone(),
            matched: message.matched,
            idempotency_key: message.idempotency_key.clone(),
            occurred_at: timestamp(message.occurred_at),
            created_at: timestamp(message.created_at),
            subject: message.subject.clone(),
            payload_erased_at: message.erased_at.map(timestamp),
            payload: with_payload.then(|| message.payload.clone()),
        },
        links: SelfLink::to(format!("/api/v3/notification/messages/{}", message.id)),
        relationships: None,
    }
}

/// Reads a retry body (`{}` when left out): the webhook whose delivery to retry, or `None`
/// for every retryable delivery of the message.
pub fn parse_retry(body: &Value) -> Result<Option<u64>, Error> {
    let invalid = || Problem::at("/webhook_id", "invalid_webhook_id", "a webhook id (integer), or no body");
    let request: RetryRequest = documents::read(body, |at| match at {
        "" => Problem::at("", "not_an_object", "a JSON object or no body"),
        _ => invalid(),
    })?;
    match request.webhook_id {
        Patch::Absent if request.other.is_empty() => Ok(None),
        Patch::Value(id) if request.other.is_empty() => Ok(Some(id)),
        _ => Err(Error::Invalid(vec![invalid()])),
    }
}

/// Reads a recover body: `since`, an RFC 3339 time.
pub fn parse_recover(body: &Value) -> Result<DateTime<Utc>, Error> {
    let invalid = || Problem::at("/since", "invalid_timestamp", "`since` is an RFC 3339 timestamp");
    let request: RecoverRequest = documents::read(body, |_| invalid())?;
    request
        .since
        .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| Error::Invalid(vec![invalid()]))
}

/// The id of a delivery: `{message id}:{webhook id}`.
pub fn delivery_id(delivery: &Delivery) -> String {
    format!("{}:{}", delivery.message_id, delivery.webhook_id)
}

/// A delivery, with its webhook as a relationship.
pub fn delivery_resource(delivery: &Delivery) -> DeliveryResource {
    DeliveryResource {
        kind: DELIVERY_TYPE.into(),
        id: delivery_id(delivery),
        attributes: DeliveryAttributes {
            message_id: delivery.message_id.clone(),
            webhook_id: delivery.webhook_id,
            status: delivery.status,
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at.map(timestamp),
            updated_at: timestamp(delivery.updated_at),
            waiting_for: delivery.waiting_for.clone(),
        },
        relationships: DeliveryRelationships {
            webhook: ToOne { data: Identifier::new(crate::webhooks::TYPE, delivery.webhook_id.to_string()) },
        },
    }
}

/// The JSON:API type of attempts.
pub const ATTEMPT_TYPE: &str = "attempts";

/// One HTTP attempt of a delivery.
pub fn attempt_resource(attempt: &crate::model::Attempt) -> AttemptResource {
    AttemptResource {
        kind: ATTEMPT_TYPE.into(),
        id: format!("{}:{}:{}", attempt.message_id, attempt.webhook_id, attempt.number),
        attributes: AttemptAttributes {
            message_id: attempt.message_id.clone(),
            webhook_id: attempt.webhook_id,
            number: attempt.number,
            at: timestamp(attempt.at),
            status: attempt.outcome,
            status_code: attempt.status_code,
            response_headers: attempt.response_headers.clone(),
            response_body: attempt.response_body.clone(),
            latency_ms: attempt.latency_ms,
        },
    }
}

/// A message with its deliveries: `relationships.deliveries` and the resources in `included`.
pub fn message_document(message: &Message, deliveries: &[Delivery]) -> MessageDocument {
    let mut data = message_resource(message, true);
    data.relationships = Some(MessageRelationships {
        deliveries: ToMany {
            data: deliveries.iter().map(|delivery| Identifier::new(DELIVERY_TYPE, delivery_id(delivery))).collect(),
        },
    });
    MessageDocument { data, included: deliveries.iter().map(delivery_resource).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeliveryStatus, Environment};
    use chrono::Utc;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn value(document: impl serde::Serialize) -> Value {
        serde_json::to_value(document).expect("serializable")
    }

    #[test]
    fn when_retry_body_is_empty_or_names_a_webhook_should_read_it() {
        assert_eq!(parse_retry(&json!({})).expect("all"), None);
        assert_eq!(parse_retry(&json!({"webhook_id": 4})).expect("one"), Some(4));
        for bad in [json!({"webhook_id": "4"}), json!({"webhook_id": null}), json!({"other": 1}), json!([])] {
            let error = parse_retry(&bad).expect_err("refused");
            assert_eq!(error.status(), 422, "{bad}");
        }
    }

    #[test]
    fn when_recover_since_is_not_a_time_should_point_at_since() {
        assert!(parse_recover(&json!({"since": "2026-01-02T03:04:05Z"})).is_ok());
        for bad in [json!({}), json!({"since": 5}), json!({"since": "yesterday"}), json!(["2026-01-02T03:04:05Z"])] {
            let Err(Error::Invalid(problems)) = parse_recover(&bad) else { panic!("{bad} refused") };
            assert_eq!(problems[0].source, Some(crate::Source::Pointer("/since".into())), "{bad}");
        }
    }

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
            subject: None,
            erased_at: None,
        };
        let delivery = |webhook_id| Delivery {
            message_id: "msg_1".into(),
            webhook_id,
            account_id: 1,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: None,
            updated_at: now,
            waiting_for: None,
        };
        let document = value(message_document(&message, &[delivery(3), delivery(4)]));
        assert_eq!(document["data"]["attributes"]["payload"], json!({"k": 1}));
        assert_eq!(document["data"]["relationships"]["deliveries"]["data"][1]["id"], "msg_1:4");
        assert_eq!(document["included"][0]["attributes"]["status"], "pending");
        assert_eq!(document["included"][1]["relationships"]["webhook"]["data"]["id"], "4");
        assert!(value(message_resource(&message, false))["attributes"].get("payload").is_none());
        let keys: Vec<String> = value(&document["data"]).as_object().expect("object").keys().cloned().collect();
        assert_eq!(keys, ["type", "id", "attributes", "links", "relationships"]);
    }
}
