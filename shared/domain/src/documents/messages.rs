//! The message log's documents: messages, their deliveries and attempts, and the bodies of
//! the retry and recover actions.

use super::{Identifier, SelfLink, ToMany, ToOne};
use crate::model::{AttemptOutcome, DeliveryStatus, Environment};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A message's attributes; `payload` only on the show route.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageAttributes {
    /// Its event type.
    pub event_type: String,
    /// `production` or `sandbox`.
    #[schema(value_type = String, pattern = "^(production|sandbox)$")]
    pub environment: Environment,
    /// The scopes it carried.
    pub scopes: BTreeMap<String, String>,
    /// How many webhooks it matched when accepted.
    pub matched: u32,
    /// The publisher's idempotency key, if given.
    pub idempotency_key: Option<String>,
    /// When the publisher says it happened.
    pub occurred_at: String,
    /// When Hookline accepted it.
    pub created_at: String,
    /// Whom or what it is about, if the publisher said (null once erased).
    pub subject: Option<String>,
    /// When its payload was erased; null if it was not. An erased message keeps its metadata
    /// and attempts; its payload is null and its attempts' response bodies are empty.
    pub payload_erased_at: Option<String>,
    /// The event's payload (the show route only); null once erased.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    pub payload: Option<Value>,
}

/// The relationships of a shown message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageRelationships {
    /// Its deliveries, in `included`.
    pub deliveries: ToMany,
}

/// A message resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageResource {
    /// `messages`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `msg_…`.
    pub id: String,
    /// Its attributes.
    pub attributes: MessageAttributes,
    /// `self`.
    pub links: SelfLink,
    /// Its deliveries (the show route only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationships: Option<MessageRelationships>,
}

/// `self`, and `next` (null on the last page).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CursorLinks {
    /// This page.
    #[serde(rename = "self")]
    pub self_: String,
    /// The next page; null on the last.
    pub next: Option<String>,
}

/// A page of the message log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageListDocument {
    /// Newest first, without payloads.
    pub data: Vec<MessageResource>,
    /// `self` and `next`.
    pub links: CursorLinks,
}

/// A delivery's attributes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttributes {
    /// The message.
    pub message_id: String,
    /// The webhook.
    pub webhook_id: u64,
    /// Where it stands.
    #[schema(value_type = String, pattern = "^(pending|succeeded|failed|refused|cancelled)$")]
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due, if one is.
    pub next_attempt_at: Option<String>,
    /// When it last changed.
    pub updated_at: String,
    /// Why it waits, for an ordered webhook's delivery not tried yet: the earlier message
    /// (`msg_…`) whose delivery holds it until that one succeeds or fails for good.
    pub waiting_for: Option<String>,
}

/// The relationships of a delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryRelationships {
    /// Its webhook.
    pub webhook: ToOne,
}

/// A delivery: one message for one webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryResource {
    /// `deliveries`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `{message id}:{webhook id}`.
    pub id: String,
    /// Its attributes.
    pub attributes: DeliveryAttributes,
    /// Its webhook.
    pub relationships: DeliveryRelationships,
}

/// A message with its deliveries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageDocument {
    /// The message, with its payload.
    pub data: MessageResource,
    /// Its deliveries.
    pub included: Vec<DeliveryResource>,
}

/// One HTTP attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptAttributes {
    /// The message.
    pub message_id: String,
    /// The webhook.
    pub webhook_id: u64,
    /// From 1.
    pub number: u32,
    /// When it was made.
    pub at: String,
    /// How it ended.
    #[schema(value_type = String, pattern = "^(success|http_error|timeout|connection_error|refused|transformation_error)$")]
    pub status: AttemptOutcome,
    /// The HTTP status, when the endpoint answered.
    pub status_code: Option<u16>,
    /// A few response headers.
    pub response_headers: BTreeMap<String, String>,
    /// The first 4 KB of the response body, or what went wrong.
    pub response_body: String,
    /// How long it took.
    pub latency_ms: u64,
}

/// An attempt resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptResource {
    /// `attempts`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `{message id}:{webhook id}:{number}`.
    pub id: String,
    /// Its attributes.
    pub attributes: AttemptAttributes,
}

/// `next`: null on the last page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextLink {
    /// The next page; null on the last.
    pub next: Option<String>,
}

/// A page of attempts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptListDocument {
    /// The attempts.
    pub data: Vec<AttemptResource>,
    /// `next`.
    pub links: NextLink,
}

/// Which delivery of the message to retry; every failed one without it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RetryRequest {
    /// The webhook whose delivery to retry.
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub webhook_id: crate::Patch<u64>,
    /// Members that are not a retry's (refused).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// From when to re-send a webhook's failed deliveries.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RecoverRequest {
    /// RFC 3339.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub since: Option<String>,
    /// Other members, ignored; being a map, it also keeps serde from reading an array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

impl Identifier {
    /// The identifier of a resource of `kind`.
    pub fn new(kind: &str, id: impl Into<String>) -> Self {
        Self { kind: kind.into(), id: id.into() }
    }
}
