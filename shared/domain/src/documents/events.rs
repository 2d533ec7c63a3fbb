//! The ingestion documents: an event to publish (its attributes, or a JSON:API document of
//! type `events`), a batch of them, the 202 of an accepted message, and a batch's results.
//!
//! An event is validated as a whole, every problem reported at its pointer, so its members
//! are read as [`Member`]s: a value of the wrong JSON type is kept for validation to report
//! with the member's own code, instead of failing the whole document at the first one.

use super::{ErrorObject, SelfLink};
use crate::model::Environment;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A member of a request document as sent: left out, null, of its type, or of another JSON
/// type (kept, for validation to refuse at the member's pointer with the member's code).
/// Declare it with `#[serde(default)]` so that absence reads as [`Member::Absent`].
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Member<T> {
    /// Left out of the document.
    #[default]
    Absent,
    /// Given as `null`.
    Null,
    /// Given a value of its type.
    Given(T),
    /// Given a value of another JSON type.
    Mistyped(Value),
}

impl<T: DeserializeOwned> Member<T> {
    /// The member `value` of a document (`None` when left out).
    pub fn of(value: Option<&Value>) -> Self {
        match value {
            None => Self::Absent,
            Some(Value::Null) => Self::Null,
            Some(value) => T::deserialize(value).map_or_else(|_| Self::Mistyped(value.clone()), Self::Given),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Reached only when the member is present: absence is `#[serde(default)]`'s.
        let value = Value::deserialize(deserializer)?;
        Ok(Self::of(Some(&value)))
    }
}

/// `POST /api/v3/notification/events`: an event, as its attributes or as a JSON:API
/// document carrying them. Anything but an object is refused (`not_an_object`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(example = json!({"event_type": "invoice.created", "payload": {"invoice_id": "inv_123", "status": "open"}}))]
pub enum EventDocument {
    /// `{"data": {"type": "events", "attributes": {…}}}`.
    Resource(EventResourceDocument),
    /// The attributes themselves; a `data` member that is not an `events` resource is one
    /// of them (refused as unknown).
    Attributes(EventAttributes),
}

/// An event as a JSON:API document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EventResourceDocument {
    /// The event.
    pub data: EventResource,
    /// Other members, ignored; being a map, it also keeps serde from reading an array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The `data` of an event document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EventResource {
    /// `events`.
    #[serde(rename = "type")]
    pub kind: EventsType,
    /// The event (an object, else `missing_attributes`).
    #[serde(default)]
    #[schema(required = true, value_type = EventAttributes)]
    pub attributes: Member<EventAttributes>,
    /// Other members (`id`, …), ignored; being a map, it also keeps serde from reading an
    /// array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The JSON:API type of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventsType {
    /// `events`.
    Events,
}

/// An event's attributes. Each member of the wrong JSON type is refused at its pointer,
/// together with every other problem of the event.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(from = "Map<String, Value>")]
pub struct EventAttributes {
    /// A type of the account's catalog (`/api/v3/notification/event_types`); not a built-in one.
    #[schema(required = true, value_type = String, example = "invoice.created")]
    pub event_type: Member<String>,
    /// Any JSON object, what is delivered: at most 256 KiB of JSON, nested 32 levels deep at
    /// most (the payload being the first), its numbers 0 or of a magnitude between 1e-130 and
    /// 1e126 (exclusive), as the log stores it.
    #[schema(required = true, value_type = Object)]
    pub payload: Member<Map<String, Value>>,
    /// The key's environment (the default); another one is refused.
    #[schema(value_type = Option<String>, pattern = "^(production|sandbox)$")]
    pub environment: Member<String>,
    /// Key/values that webhooks with scopes match on: keys of 1-64 characters, values of at
    /// most 1024.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub scopes: Member<Map<String, Value>>,
    /// When it happened, RFC 3339 (default: now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Member<String>,
    /// 1-255 printable characters; a repeat with the same key answers the first answer.
    /// Wins over the `Idempotency-Key` header.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255)]
    pub idempotency_key: Member<String>,
    /// Whom or what the event is about (a customer id, an email): 1-256 characters.
    /// `POST /api/v3/accounts/{uid}/erasures` erases the payloads of every message about it.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 256)]
    pub subject: Member<String>,
    /// Members that are not an event's (refused).
    #[schema(ignore)]
    pub other: Map<String, Value>,
    /// Every member as sent, in order: what the event's fingerprint is taken of.
    #[schema(ignore)]
    pub members: Map<String, Value>,
}

/// The names of an event's attributes.
pub const EVENT_ATTRIBUTES: &[&str] =
    &["event_type", "payload", "environment", "scopes", "occurred_at", "idempotency_key", "subject"];

impl From<Map<String, Value>> for EventAttributes {
    fn from(members: Map<String, Value>) -> Self {
        Self {
            event_type: Member::of(members.get("event_type")),
            payload: Member::of(members.get("payload")),
            environment: Member::of(members.get("environment")),
            scopes: Member::of(members.get("scopes")),
            occurred_at: Member::of(members.get("occurred_at")),
            idempotency_key: Member::of(members.get("idempotency_key")),
            subject: Member::of(members.get("subject")),
            other: members
                .iter()
                .filter(|(name, _)| !EVENT_ATTRIBUTES.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            members,
        }
    }
}

/// `POST /api/v3/notification/events/batch`: up to 100 events, each read and answered on
/// its own (at `/events/{index}`), so that one bad event does not sink the others.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(example = json!({"events": [
    {"event_type": "invoice.created", "payload": {"invoice_id": "inv_124"}},
    {"event_type": "loan.created", "payload": {"loan_id": "loan_987"}, "idempotency_key": "loan_987-created"}
]}))]
pub struct EventBatchDocument {
    /// The events, 1 to 100 (more are refused, `too_many`).
    // No `max_items`: drawing a batch of exactly 100 events, schemathesis's coverage phase
    // trips a CPython 3.11 bug ("AST constructor recursion depth mismatch"); 422 says it.
    #[serde(default)]
    #[schema(required = true, value_type = Vec<EventDocument>, min_items = 1)]
    pub events: Option<Vec<Value>>,
    /// Other members, ignored; being a map, it also keeps serde from reading an array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// 202: the event is accepted as a message (or, with a repeated idempotency key, the first
/// answer again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AcceptedDocument {
    /// The message.
    pub data: AcceptedMessage,
}

/// An accepted message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AcceptedMessage {
    /// `messages`.
    #[serde(rename = "type")]
    #[schema(pattern = "^messages$")]
    pub kind: String,
    /// `msg_…`.
    pub id: String,
    /// What was accepted.
    pub attributes: AcceptedAttributes,
    /// `self`: the message in the log.
    pub links: SelfLink,
}

/// What was accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AcceptedAttributes {
    /// Its event type.
    pub event_type: String,
    /// `production` or `sandbox`.
    #[schema(value_type = String, pattern = "^(production|sandbox)$")]
    pub environment: Environment,
    /// How many webhooks it matched.
    pub matched: u32,
    /// The idempotency key, if given.
    pub idempotency_key: Option<String>,
    /// When the publisher says it happened.
    pub occurred_at: String,
    /// When Hookline accepted it.
    pub created_at: String,
}

/// 202 (every event accepted) or 207 (some refused): one result per event, in order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BatchResultDocument {
    /// The results, by index.
    pub data: Vec<BatchResult>,
}

/// The result of one event of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchResult {
    /// Accepted.
    Accepted(AcceptedResult),
    /// Refused or failed.
    Refused(RefusedResult),
}

/// An accepted event of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AcceptedResult {
    /// Its index in `events`.
    pub index: usize,
    /// `202`.
    #[schema(pattern = "^202$")]
    pub status: String,
    /// The message.
    pub data: AcceptedMessage,
    /// Whether this is the first answer to its idempotency key, again.
    pub replayed: bool,
}

/// A refused (4xx) or failed (5xx) event of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RefusedResult {
    /// Its index in `events`.
    pub index: usize,
    /// The HTTP status it would have had alone, e.g. `422`.
    #[schema(pattern = "^[45][0-9]{2}$")]
    pub status: String,
    /// Why, each pointing into the batch (`/events/{index}/…`).
    pub errors: Vec<ErrorObject>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value) -> Result<EventDocument, serde_json::Error> {
        EventDocument::deserialize(&value)
    }

    #[test]
    fn when_members_have_other_types_should_keep_them_for_validation() {
        let Ok(EventDocument::Attributes(attributes)) =
            read(json!({"event_type": 3, "payload": null, "scopes": {"k": "v"}, "colour": "red"}))
        else {
            panic!("attributes")
        };
        assert_eq!(attributes.event_type, Member::Mistyped(json!(3)));
        assert_eq!(attributes.payload, Member::Null);
        assert_eq!(attributes.scopes, Member::Given(json!({"k": "v"}).as_object().cloned().unwrap_or_default()));
        assert_eq!(attributes.environment, Member::Absent);
        assert_eq!(attributes.other.keys().collect::<Vec<_>>(), ["colour"]);
        assert_eq!(attributes.members.keys().collect::<Vec<_>>(), ["event_type", "payload", "scopes", "colour"]);
    }

    #[test]
    fn when_data_is_an_events_resource_should_read_its_attributes_and_else_take_data_as_a_member() {
        let resource = read(json!({"data": {"type": "events", "id": "x", "attributes": {"event_type": "a"}}}));
        let Ok(EventDocument::Resource(document)) = resource else { panic!("a resource") };
        let Member::Given(attributes) = document.data.attributes else { panic!("attributes") };
        assert_eq!(attributes.event_type, Member::Given("a".into()));
        let Ok(EventDocument::Resource(document)) = read(json!({"data": {"type": "events", "attributes": [1]}})) else {
            panic!("a resource")
        };
        assert_eq!(document.data.attributes, Member::Mistyped(json!([1])));
        for other in [json!({"data": {"type": "other"}}), json!({"data": ["events", {}]}), json!({"data": 1})] {
            let Ok(EventDocument::Attributes(attributes)) = read(other.clone()) else { panic!("{other}: attributes") };
            assert_eq!(attributes.other.keys().collect::<Vec<_>>(), ["data"], "{other}");
        }
    }

    #[test]
    fn when_event_is_not_an_object_should_refuse_it() {
        for value in [json!([{"data": {"type": "events", "attributes": {}}}]), json!("x"), json!(null)] {
            assert!(read(value.clone()).is_err(), "{value}");
        }
    }

    #[test]
    fn when_accepted_document_is_written_should_keep_its_members_in_order() {
        let document = AcceptedDocument {
            data: AcceptedMessage {
                kind: "messages".into(),
                id: "msg_1".into(),
                attributes: AcceptedAttributes {
                    event_type: "a".into(),
                    environment: Environment::Sandbox,
                    matched: 2,
                    idempotency_key: None,
                    occurred_at: "t0".into(),
                    created_at: "t1".into(),
                },
                links: SelfLink::to("/api/v3/notification/messages/msg_1"),
            },
        };
        assert_eq!(
            serde_json::to_string(&document).expect("JSON"),
            r#"{"data":{"type":"messages","id":"msg_1","attributes":{"event_type":"a","environment":"sandbox","matched":2,"idempotency_key":null,"occurred_at":"t0","created_at":"t1"},"links":{"self":"/api/v3/notification/messages/msg_1"}}}"#
        );
    }
}
