//! Published events: reading and validating an event document, and the message it becomes.

use crate::documents::{
    self, AcceptedAttributes, AcceptedDocument, AcceptedMessage, EVENT_ATTRIBUTES, EventAttributes, EventBatchDocument,
    EventDocument, Member, SelfLink, escape,
};
use crate::error::{Error, Problem};
use crate::event_types::{Catalog, is_built_in};
use crate::model::{AccountId, Environment, Message, MessageId};
use crate::webhooks::{is_event_type_name, timestamp};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The largest payload, as JSON bytes. A log entry (a DynamoDB item, at most 400 KB) carries
/// it with the message's other fields and the attempts, and a task (an SQS message, at most
/// 1 MiB) with the task's fields (a fan-out task, with its chunk of webhooks).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// The deepest nesting of a payload, the payload object being level 1: a log entry keeps
/// the payload as one of its attributes, and DynamoDB nests attributes 32 levels deep at most.
pub const MAX_PAYLOAD_DEPTH: usize = 32;
/// Payload numbers are 0 or of a magnitude strictly between these (DynamoDB's range).
pub const PAYLOAD_NUMBER_RANGE: (f64, f64) = (1e-130, 1e126);
/// The most events in one batch request.
pub const MAX_BATCH: usize = 100;
/// The longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// The longest subject, in characters.
pub const MAX_SUBJECT: usize = 256;
/// The request header carrying an idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// A validated event, ready to be accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Its type, in the account's catalog.
    pub event_type: String,
    /// Any JSON object.
    pub payload: Value,
    /// The key's environment unless given (it must then be the key's).
    pub environment: Environment,
    /// Scopes it carries (seed 000's `offeringId`).
    pub scopes: BTreeMap<String, String>,
    /// When it happened (now if not given).
    pub occurred_at: DateTime<Utc>,
    /// The publisher's idempotency key.
    pub idempotency_key: Option<String>,
    /// SHA-256 of what the event says, to tell a repeat from a reuse of its key.
    pub fingerprint: String,
    /// Whom or what it is about, for erasure by subject.
    pub subject: Option<String>,
}

impl NewEvent {
    /// The message this event becomes.
    pub fn into_message(self, id: MessageId, account_id: AccountId, matched: u32, now: DateTime<Utc>) -> Message {
        Message {
            id,
            account_id,
            event_type: self.event_type,
            environment: self.environment,
            payload: self.payload,
            scopes: self.scopes,
            occurred_at: self.occurred_at,
            created_at: now,
            idempotency_key: self.idempotency_key,
            matched,
            subject: self.subject,
            erased_at: None,
        }
    }
}

/// What validation of an event needs beyond the document.
#[derive(Debug, Clone, Copy)]
pub struct EventRules<'a> {
    /// The environment of the publishing key.
    pub environment: Environment,
    /// The platform's catalog: the types that exist, and their payloads' schemas.
    pub catalog: &'a Catalog,
}

/// The event type an event document names, if it names one (before any validation): what
/// ingest needs to know of the catalog before reading the event.
pub fn named_event_type(value: &Value) -> Option<&str> {
    value.get("event_type").or_else(|| value.pointer("/data/attributes/event_type")).and_then(Value::as_str)
}

/// Reads one event at JSON pointer `at` (`""` for a single event, `/events/3` in a batch):
/// an [`EventDocument`], then every rule, each problem at its pointer. `header_key` is the
/// `Idempotency-Key` header (single events only); the attribute wins.
pub fn parse_event(
    value: &Value,
    at: &str,
    rules: EventRules<'_>,
    header_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NewEvent, Vec<Problem>> {
    let attributes = match EventDocument::deserialize(value) {
        Ok(EventDocument::Attributes(attributes)) => attributes,
        Ok(EventDocument::Resource(document)) => match document.data.attributes {
            Member::Given(attributes) => attributes,
            Member::Absent | Member::Null | Member::Mistyped(_) => {
                return Err(vec![Problem::at(
                    format!("{at}/data/attributes"),
                    "missing_attributes",
                    "`data.attributes` must be an object",
                )]);
            }
        },
        Err(_) => return Err(vec![Problem::at(at, "not_an_object", "an event is a JSON object")]),
    };
    validate(attributes, at, rules, header_key, now)
}

/// Checks every rule of an event's attributes read at `at`.
fn validate(
    attributes: EventAttributes,
    at: &str,
    rules: EventRules<'_>,
    header_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NewEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let field = |name: &str| format!("{at}/{name}");

    for unknown in attributes.other.keys() {
        problems.push(Problem::at(
            field(unknown),
            "unknown_attribute",
            format!("events have {}", EVENT_ATTRIBUTES.join(", ")),
        ));
    }

    let event_type = match attributes.event_type {
        Member::Given(name) if !is_event_type_name(&name) => {
            problems.push(Problem::at(
                field("event_type"),
                "invalid_event_type",
                "1-128 letters, digits, `.`, `_`, `-`",
            ));
            None
        }
        Member::Given(name) if is_built_in(&name) => {
            problems.push(Problem::at(
                field("event_type"),
                "reserved_event_type",
                format!("`{name}` is sent by Hookline itself"),
            ));
            None
        }
        Member::Given(name) if !rules.catalog.contains(&name) => {
            problems.push(Problem::at(
                field("event_type"),
                "unknown_event_type",
                format!("`{name}` is not in the event catalog; the platform registers types at /api/v3/event_types"),
            ));
            None
        }
        Member::Given(name) => Some(name),
        Member::Null | Member::Mistyped(_) => {
            problems.push(Problem::at(field("event_type"), "not_a_string", "`event_type` is a string"));
            None
        }
        Member::Absent => {
            problems.push(Problem::at(field("event_type"), "required", "`event_type` is required"));
            None
        }
    };

    let payload = match attributes.payload {
        Member::Given(payload) => {
            let payload = Value::Object(payload);
            let size = payload.to_string().len();
            if size > MAX_PAYLOAD_BYTES {
                problems.push(Problem::at(
                    field("payload"),
                    "payload_too_large",
                    format!("the payload has {size} bytes of JSON; at most {MAX_PAYLOAD_BYTES}"),
                ));
            }
            problems.extend(unstorable(&payload, &field("payload")));
            payload
        }
        Member::Null | Member::Mistyped(_) => {
            problems.push(Problem::at(field("payload"), "not_an_object", "`payload` is a JSON object"));
            Value::Null
        }
        Member::Absent => {
            problems.push(Problem::at(field("payload"), "required", "`payload` is required"));
            Value::Null
        }
    };

    let environment = match attributes.environment {
        Member::Absent | Member::Null => rules.environment,
        Member::Given(name) => match Environment::parse(&name) {
            Some(environment) if environment == rules.environment => environment,
            Some(environment) => {
                problems.push(Problem::at(
                    field("environment"),
                    "environment_mismatch",
                    format!("this key publishes {} events, not {}", rules.environment.as_str(), environment.as_str()),
                ));
                environment
            }
            None => {
                problems.push(Problem::at(
                    field("environment"),
                    "invalid_value",
                    "`environment` is production or sandbox",
                ));
                rules.environment
            }
        },
        Member::Mistyped(_) => {
            problems.push(Problem::at(field("environment"), "invalid_value", "`environment` is production or sandbox"));
            rules.environment
        }
    };

    let scopes = match attributes.scopes {
        Member::Absent | Member::Null => BTreeMap::new(),
        Member::Given(object) => {
            let mut scopes = BTreeMap::new();
            for (key, value) in object {
                match value {
                    Value::String(text) if !key.is_empty() && key.len() <= 64 && text.len() <= 1024 => {
                        scopes.insert(key, text);
                    }
                    _ => problems.push(Problem::at(
                        format!("{}/{}", field("scopes"), escape(&key)),
                        "invalid_scope",
                        "a scope maps a key of 1-64 characters to a string of at most 1024",
                    )),
                }
            }
            scopes
        }
        Member::Mistyped(_) => {
            problems.push(Problem::at(field("scopes"), "not_an_object", "`scopes` maps keys to strings"));
            BTreeMap::new()
        }
    };

    let occurred_at = match attributes.occurred_at {
        Member::Absent | Member::Null => now,
        Member::Given(text) => match DateTime::parse_from_rfc3339(&text) {
            Ok(at) => at.with_timezone(&Utc),
            Err(_) => {
                problems.push(Problem::at(
                    field("occurred_at"),
                    "invalid_timestamp",
                    "an RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z",
                ));
                now
            }
        },
        Member::Mistyped(_) => {
            problems.push(Problem::at(field("occurred_at"), "invalid_timestamp", "an RFC 3339 timestamp string"));
            now
        }
    };

    let idempotency_key = match attributes.idempotency_key {
        Member::Absent | Member::Null => header_key.map(str::to_string),
        Member::Given(key) => Some(key),
        Member::Mistyped(_) => {
            problems.push(Problem::at(field("idempotency_key"), "not_a_string", "`idempotency_key` is a string"));
            None
        }
    };
    if let Some(key) = &idempotency_key
        && (key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || key.chars().any(char::is_control))
    {
        problems.push(Problem::at(
            field("idempotency_key"),
            "invalid_idempotency_key",
            format!("1 to {MAX_IDEMPOTENCY_KEY} printable characters"),
        ));
    }

    let subject = match attributes.subject {
        Member::Absent | Member::Null => None,
        Member::Given(subject)
            if !subject.is_empty()
                && subject.chars().count() <= MAX_SUBJECT
                && !subject.chars().any(char::is_control) =>
        {
            Some(subject)
        }
        Member::Given(_) | Member::Mistyped(_) => {
            problems.push(Problem::at(
                field("subject"),
                "invalid_subject",
                format!("1 to {MAX_SUBJECT} printable characters naming whom or what the event is about"),
            ));
            None
        }
    };

    // The schema is checked last, on an event otherwise valid: its failures are the payload's.
    if let Some(event_type) = &event_type
        && problems.is_empty()
    {
        problems.extend(rules.catalog.check_payload(event_type, &payload, &field("payload")));
    }

    match event_type {
        Some(event_type) if problems.is_empty() => {
            let fingerprint = fingerprint(attributes.members);
            Ok(NewEvent {
                event_type,
                payload,
                environment,
                scopes,
                occurred_at,
                idempotency_key,
                fingerprint,
                subject,
            })
        }
        _ => Err(problems),
    }
}

/// What the log could not store of `payload` (at pointer `at`): its first number out of
/// DynamoDB's range ([`PAYLOAD_NUMBER_RANGE`]), and its first value nested deeper than
/// [`MAX_PAYLOAD_DEPTH`].
pub(crate) fn unstorable(payload: &Value, at: &str) -> Vec<Problem> {
    let mut walk = Walk { path: Vec::new(), number: None, deep: None };
    walk.visit(payload, at);
    let (smallest, largest) = PAYLOAD_NUMBER_RANGE;
    let number = walk.number.map(|at| {
        Problem::at(
            at,
            "unsupported_number",
            format!("a payload number is 0 or of a magnitude between {smallest:e} and {largest:e}"),
        )
    });
    let deep = walk.deep.map(|at| {
        Problem::at(
            at,
            "payload_too_deep",
            format!("a payload nests {MAX_PAYLOAD_DEPTH} levels deep at most, the payload being the first"),
        )
    });
    number.into_iter().chain(deep).collect()
}

/// A walk through a payload, which keeps the path to where it is (the payload at depth 1)
/// and the pointers of the first problems found.
struct Walk<'a> {
    path: Vec<Segment<'a>>,
    number: Option<String>,
    deep: Option<String>,
}

/// A step into a payload: a member, or an item.
enum Segment<'a> {
    Member(&'a str),
    Item(usize),
}

impl<'a> Walk<'a> {
    fn visit(&mut self, value: &'a Value, at: &str) {
        if self.number.is_some() && self.deep.is_some() {
            return;
        }
        let nested = matches!(value, Value::Object(_) | Value::Array(_));
        match value {
            Value::Number(number) if self.number.is_none() => {
                let magnitude = number.as_f64().unwrap_or_default().abs();
                let (smallest, largest) = PAYLOAD_NUMBER_RANGE;
                if magnitude != 0.0 && !(magnitude > smallest && magnitude < largest) {
                    self.number = Some(self.pointer(at));
                }
            }
            _ if nested && self.path.len() >= MAX_PAYLOAD_DEPTH => {
                self.deep = self.deep.take().or_else(|| Some(self.pointer(at)));
            }
            Value::Object(members) => {
                for (key, member) in members {
                    self.path.push(Segment::Member(key));
                    self.visit(member, at);
                    self.path.pop();
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.path.push(Segment::Item(index));
                    self.visit(item, at);
                    self.path.pop();
                }
            }
            _ => {}
        }
    }

    /// The JSON pointer of where the walk is, under `at`.
    fn pointer(&self, at: &str) -> String {
        self.path.iter().fold(at.to_string(), |pointer, segment| match segment {
            Segment::Member(key) => format!("{pointer}/{}", escape(key)),
            Segment::Item(index) => format!("{pointer}/{index}"),
        })
    }
}

/// SHA-256 of what an event says: its members as sent, but its idempotency key.
fn fingerprint(mut members: Map<String, Value>) -> String {
    members.remove("idempotency_key");
    hex::encode(Sha256::digest(Value::Object(members).to_string().as_bytes()))
}

/// Reads a batch document: its events, 1 to [`MAX_BATCH`], each to be read on its own with
/// [`parse_event`] at `/events/{index}`.
pub fn read_batch(document: &Value) -> Result<Vec<Value>, Error> {
    let required = |_: &str| Problem::at("/events", "required", r#"the body is {"events": [...]}"#);
    let batch: EventBatchDocument = documents::read(document, required)?;
    match batch.events {
        None => Err(Error::Invalid(vec![required("")])),
        Some(events) if events.is_empty() => Err(Error::invalid("/events", "empty", "send at least one event")),
        Some(events) if events.len() > MAX_BATCH => {
            Err(Error::invalid("/events", "too_many", format!("at most {MAX_BATCH} events per batch")))
        }
        Some(events) => Ok(events),
    }
}

/// The 202 document of an accepted message.
pub fn accepted(message: &Message) -> AcceptedDocument {
    AcceptedDocument {
        data: AcceptedMessage {
            kind: "messages".into(),
            id: message.id.clone(),
            attributes: AcceptedAttributes {
                event_type: message.event_type.clone(),
                environment: message.environment,
                matched: message.matched,
                idempotency_key: message.idempotency_key.clone(),
                occurred_at: timestamp(message.occurred_at),
                created_at: timestamp(message.created_at),
            },
            links: SelfLink::to(format!("/api/v3/notification/messages/{}", message.id)),
        },
    }
}

/// [`accepted`] as JSON: what an idempotency record keeps, to answer a repeat.
pub fn accepted_document(message: &Message) -> Value {
    serde_json::to_value(accepted(message)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        let now = Utc::now();
        let kind = |name: &str, schema: Option<Value>| crate::model::EventType {
            name: name.into(),
            description: String::new(),
            group: String::new(),
            schema,
            example: None,
            deprecated: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let amount = json!({"type": "object", "properties": {"amount": {"type": "integer"}}, "required": ["amount"]});
        Catalog::new(vec![kind("invoice.created", None), kind("invoice.paid", Some(amount))])
    }

    fn rules(catalog: &Catalog) -> EventRules<'_> {
        EventRules { environment: Environment::Production, catalog }
    }

    fn codes(problems: &[Problem]) -> Vec<(&'static str, String)> {
        problems
            .iter()
            .map(|problem| match &problem.source {
                Some(crate::Source::Pointer(pointer)) => (problem.code, pointer.clone()),
                _ => (problem.code, String::new()),
            })
            .collect()
    }

    #[test]
    fn when_event_is_complete_should_keep_every_field() {
        let catalog = catalog();
        let event = parse_event(
            &json!({"event_type": "invoice.created", "payload": {"id": "inv_1"}, "scopes": {"offering_id": "o1"},
                    "occurred_at": "2026-11-22T10:00:00+01:00", "idempotency_key": "k1"}),
            "",
            rules(&catalog),
            Some("header-key"),
            Utc::now(),
        )
        .expect("valid");
        assert_eq!(event.idempotency_key.as_deref(), Some("k1"), "the attribute wins over the header");
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-11-22T09:00:00+00:00");
        assert_eq!(event.scopes["offering_id"], "o1");
        assert_eq!(event.environment, Environment::Production);
    }

    #[test]
    fn when_same_event_repeats_should_have_the_same_fingerprint_and_differ_otherwise() {
        let catalog = catalog();
        let parse = |payload: Value, key: &str| {
            parse_event(
                &json!({"event_type": "invoice.created", "payload": payload}),
                "",
                rules(&catalog),
                Some(key),
                Utc::now(),
            )
            .expect("valid")
            .fingerprint
        };
        assert_eq!(
            parse(json!({"a": 1}), "k1"),
            parse(json!({"a": 1}), "k2"),
            "the key is not part of the fingerprint"
        );
        assert_ne!(parse(json!({"a": 1}), "k1"), parse(json!({"a": 2}), "k1"));
    }

    #[test]
    fn when_event_is_wrong_should_point_at_each_field() {
        let catalog = catalog();
        let problems = parse_event(
            &json!({"event_type": "never.registered", "payload": [1], "environment": "staging", "scopes": {"k": 1},
                    "occurred_at": "yesterday", "colour": "red"}),
            "/events/2",
            rules(&catalog),
            None,
            Utc::now(),
        )
        .expect_err("invalid");
        let found = codes(&problems);
        for expected in [
            ("unknown_event_type", "/events/2/event_type"),
            ("not_an_object", "/events/2/payload"),
            ("invalid_value", "/events/2/environment"),
            ("invalid_scope", "/events/2/scopes/k"),
            ("invalid_timestamp", "/events/2/occurred_at"),
            ("unknown_attribute", "/events/2/colour"),
        ] {
            assert!(found.contains(&(expected.0, expected.1.to_string())), "{expected:?} not in {found:?}");
        }
    }

    #[test]
    fn when_event_type_is_built_in_or_malformed_or_missing_should_refuse() {
        let catalog = catalog();
        for (event_type, code) in [
            (json!("webhook.test"), "reserved_event_type"),
            (json!("a b"), "invalid_event_type"),
            (json!(3), "not_a_string"),
        ] {
            let problems =
                parse_event(&json!({"event_type": event_type, "payload": {}}), "", rules(&catalog), None, Utc::now())
                    .expect_err("refused");
            assert_eq!(problems[0].code, code);
        }
        let problems =
            parse_event(&json!({"payload": {}}), "", rules(&catalog), None, Utc::now()).expect_err("refused");
        assert_eq!(codes(&problems), vec![("required", "/event_type".to_string())]);
    }

    #[test]
    fn when_payload_fails_its_types_schema_should_point_at_the_failing_member() {
        let catalog = catalog();
        let parse = |payload: Value, at: &str| {
            parse_event(
                &json!({"event_type": "invoice.paid", "payload": payload}),
                at,
                rules(&catalog),
                None,
                Utc::now(),
            )
        };
        assert!(parse(json!({"amount": 5}), "").is_ok());
        let single = parse(json!({"amount": "5"}), "").expect_err("refused");
        assert_eq!(codes(&single), vec![("invalid_payload", "/payload/amount".to_string())]);
        let batch = parse(json!({}), "/events/3").expect_err("refused");
        assert_eq!(codes(&batch), vec![("invalid_payload", "/events/3/payload/amount".to_string())]);
        let both = parse_event(
            &json!({"event_type": "invoice.paid", "payload": {"amount": "5"}, "colour": "red"}),
            "",
            rules(&catalog),
            None,
            Utc::now(),
        )
        .expect_err("refused");
        assert_eq!(
            codes(&both),
            vec![("unknown_attribute", "/colour".to_string())],
            "the schema runs on a valid event"
        );
    }

    #[test]
    fn when_payload_exceeds_the_limit_should_refuse_it() {
        let catalog = catalog();
        let big = json!({"blob": "x".repeat(MAX_PAYLOAD_BYTES)});
        let problems = parse_event(
            &json!({"event_type": "invoice.created", "payload": big}),
            "",
            rules(&catalog),
            None,
            Utc::now(),
        )
        .expect_err("too large");
        assert_eq!(problems[0].code, "payload_too_large");
    }

    #[test]
    fn when_environment_differs_from_the_key_should_refuse() {
        let catalog = catalog();
        let problems = parse_event(
            &json!({"event_type": "invoice.created", "payload": {}, "environment": "sandbox"}),
            "",
            rules(&catalog),
            None,
            Utc::now(),
        )
        .expect_err("mismatch");
        assert_eq!(problems[0].code, "environment_mismatch");
    }

    #[test]
    fn when_json_api_document_is_sent_should_read_its_attributes() {
        let catalog = catalog();
        let event = parse_event(
            &json!({"data": {"type": "events", "attributes": {"event_type": "invoice.created", "payload": {"a": 1}}}}),
            "",
            rules(&catalog),
            None,
            Utc::now(),
        )
        .expect("valid");
        assert_eq!(event.payload, json!({"a": 1}));
    }

    #[test]
    fn when_event_has_an_idempotency_key_should_fingerprint_the_members_as_sent_without_it() {
        let catalog = catalog();
        let text = r#"{"event_type":"invoice.created","idempotency_key":"k1","payload":{"id":"inv_1","n":1.5,"big":18446744073709551615,"neg":-3},"scopes":{"offering_id":"o1"},"occurred_at":"2026-11-22T10:00:00Z"}"#;
        let value: Value = serde_json::from_str(text).expect("JSON");
        let event = parse_event(&value, "", rules(&catalog), None, Utc::now()).expect("valid");
        // Pinned: idempotency records compare fingerprints across releases.
        assert_eq!(event.fingerprint, "5e29c619dd79748f06123cd572ee35a6dc9e586b414083344c4b4af2fc094d35");
        let resource = json!({"data": {"type": "events", "attributes": value}});
        let same = parse_event(&resource, "", rules(&catalog), None, Utc::now()).expect("valid");
        assert_eq!(same.fingerprint, event.fingerprint);
    }

    #[test]
    fn when_event_is_not_an_object_or_its_resource_has_no_attributes_should_point_at_it() {
        let catalog = catalog();
        for (value, expected) in [
            (json!([1]), ("not_an_object", "/events/4")),
            (json!("x"), ("not_an_object", "/events/4")),
            (json!({"data": {"type": "events"}}), ("missing_attributes", "/events/4/data/attributes")),
            (
                json!({"data": {"type": "events", "attributes": [1]}}),
                ("missing_attributes", "/events/4/data/attributes"),
            ),
        ] {
            let problems = parse_event(&value, "/events/4", rules(&catalog), None, Utc::now()).expect_err("refused");
            assert_eq!(codes(&problems), vec![(expected.0, expected.1.to_string())], "{value}");
        }
        let problems = parse_event(
            &json!({"data": {"type": "other"}, "event_type": null, "payload": null}),
            "",
            rules(&catalog),
            None,
            Utc::now(),
        )
        .expect_err("refused");
        assert_eq!(
            codes(&problems),
            vec![
                ("unknown_attribute", "/data".to_string()),
                ("not_a_string", "/event_type".to_string()),
                ("not_an_object", "/payload".to_string())
            ]
        );
    }

    #[test]
    fn when_batch_is_read_should_refuse_a_missing_empty_or_oversized_list() {
        let one = json!({"event_type": "invoice.created", "payload": {}});
        assert_eq!(read_batch(&json!({"events": [one.clone(), 1]})).expect("read").len(), 2);
        let refusal = |document: Value| match read_batch(&document) {
            Err(Error::Invalid(problems)) => codes(&problems),
            other => panic!("{document}: {other:?}"),
        };
        for missing in [json!({}), json!({"events": null}), json!({"events": {}}), json!([[one.clone()]]), json!(3)] {
            assert_eq!(refusal(missing), vec![("required", "/events".to_string())]);
        }
        assert_eq!(refusal(json!({"events": []})), vec![("empty", "/events".to_string())]);
        let too_many = json!({"events": vec![one; MAX_BATCH + 1]});
        assert_eq!(refusal(too_many), vec![("too_many", "/events".to_string())]);
    }

    #[test]
    fn when_message_is_accepted_should_document_it_as_before() {
        let event = parse_event(
            &json!({"event_type": "invoice.created", "payload": {}, "idempotency_key": "k"}),
            "",
            rules(&catalog()),
            None,
            Utc::now(),
        )
        .expect("valid");
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").expect("time").with_timezone(&Utc);
        let message = event.into_message("msg_1".into(), 7, 3, at);
        assert_eq!(
            accepted_document(&message).to_string(),
            json!({"data": {
                "type": "messages",
                "id": "msg_1",
                "attributes": {
                    "event_type": "invoice.created",
                    "environment": "production",
                    "matched": 3,
                    "idempotency_key": "k",
                    "occurred_at": timestamp(message.occurred_at),
                    "created_at": "2026-11-22T10:00:00.000Z",
                },
                "links": {"self": "/api/v3/notification/messages/msg_1"}
            }})
            .to_string()
        );
    }

    #[test]
    fn when_payload_has_what_the_log_cannot_store_should_point_at_the_first_of_each() {
        let catalog = catalog();
        // `n` objects, the payload being the first; `n` arrays under `l`.
        let objects = |n: usize| (0..n).fold(json!(1), |inner, _| json!({"a": inner}));
        let arrays = |n: usize| json!({"l": (0..n).fold(json!(1), |inner, _| json!([inner]))});
        let numbers = json!({"ok": [0, -0.0, 1.5e-130, -9.9e125, 18446744073709551615u64], "x/y": [1, 1e-131, 2e126]});
        let cases = [
            (numbers, vec![("unsupported_number", "/payload/x~1y/1".to_string())]),
            (json!({"l": [[1e300]], "m": 1e-300}), vec![("unsupported_number", "/payload/l/0/0".to_string())]),
            (objects(MAX_PAYLOAD_DEPTH), vec![]),
            (objects(MAX_PAYLOAD_DEPTH + 1), vec![("payload_too_deep", format!("/payload{}", "/a".repeat(32)))]),
            (arrays(MAX_PAYLOAD_DEPTH - 1), vec![]),
            (arrays(MAX_PAYLOAD_DEPTH), vec![("payload_too_deep", format!("/payload/l{}", "/0".repeat(31)))]),
        ];
        for (payload, expected) in cases {
            let event = json!({"event_type": "invoice.created", "payload": payload});
            let found = parse_event(&event, "", rules(&catalog), None, Utc::now()).err().unwrap_or_default();
            assert_eq!(codes(&found), expected, "{payload}");
        }
    }
}
