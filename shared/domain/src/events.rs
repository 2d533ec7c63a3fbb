//! Published events: reading and validating an event document, and the message it becomes.

use crate::error::Problem;
use crate::event_types::is_built_in;
use crate::model::{AccountId, Environment, Message, MessageId};
use crate::webhooks::{is_event_type_name, timestamp};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The largest payload, as JSON bytes. A log entry (a DynamoDB item, at most 400 KB) carries
/// it with the message's other fields and the attempts, and a task (an SQS message, at most
/// 1 MiB) with the task's fields (a fan-out task, with its chunk of webhooks).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// The most events in one batch request.
pub const MAX_BATCH: usize = 100;
/// The longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
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
        }
    }
}

/// What validation of an event needs beyond the document.
#[derive(Debug, Clone, Copy)]
pub struct EventRules<'a> {
    /// The environment of the publishing key.
    pub environment: Environment,
    /// The account's event types.
    pub catalog: &'a BTreeSet<String>,
}

const ATTRIBUTES: &[&str] = &["event_type", "payload", "environment", "scopes", "occurred_at", "idempotency_key"];

/// Reads one event at JSON pointer `at` (`""` for a single event, `/events/3` in a batch).
/// `header_key` is the `Idempotency-Key` header (single events only); the attribute wins.
pub fn parse_event(
    value: &Value,
    at: &str,
    rules: EventRules<'_>,
    header_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NewEvent, Vec<Problem>> {
    let attributes = match value {
        Value::Object(object) => match object.get("data") {
            Some(Value::Object(data)) if data.get("type").and_then(Value::as_str) == Some("events") => {
                match data.get("attributes") {
                    Some(Value::Object(attributes)) => attributes.clone(),
                    _ => {
                        return Err(vec![Problem::at(
                            format!("{at}/data/attributes"),
                            "missing_attributes",
                            "`data.attributes` must be an object",
                        )]);
                    }
                }
            }
            _ => object.clone(),
        },
        _ => return Err(vec![Problem::at(at, "not_an_object", "an event is a JSON object")]),
    };
    let mut problems = Vec::new();
    let field = |name: &str| format!("{at}/{name}");

    for unknown in attributes.keys().filter(|key| !ATTRIBUTES.contains(&key.as_str())) {
        problems.push(Problem::at(
            field(unknown),
            "unknown_attribute",
            format!("events have {}", ATTRIBUTES.join(", ")),
        ));
    }

    let event_type = match attributes.get("event_type") {
        Some(Value::String(name)) if !is_event_type_name(name) => {
            problems.push(Problem::at(
                field("event_type"),
                "invalid_event_type",
                "1-128 letters, digits, `.`, `_`, `-`",
            ));
            None
        }
        Some(Value::String(name)) if is_built_in(name) => {
            problems.push(Problem::at(
                field("event_type"),
                "reserved_event_type",
                format!("`{name}` is sent by Hookline itself"),
            ));
            None
        }
        Some(Value::String(name)) if !rules.catalog.contains(name) => {
            problems.push(Problem::at(
                field("event_type"),
                "unknown_event_type",
                format!("`{name}` is not in the event catalog; register it at /api/v3/notification/event_types"),
            ));
            None
        }
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => {
            problems.push(Problem::at(field("event_type"), "not_a_string", "`event_type` is a string"));
            None
        }
        None => {
            problems.push(Problem::at(field("event_type"), "required", "`event_type` is required"));
            None
        }
    };

    let payload = match attributes.get("payload") {
        Some(payload @ Value::Object(_)) => {
            let size = payload.to_string().len();
            if size > MAX_PAYLOAD_BYTES {
                problems.push(Problem::at(
                    field("payload"),
                    "payload_too_large",
                    format!("the payload has {size} bytes of JSON; at most {MAX_PAYLOAD_BYTES}"),
                ));
            }
            payload.clone()
        }
        Some(_) => {
            problems.push(Problem::at(field("payload"), "not_an_object", "`payload` is a JSON object"));
            Value::Null
        }
        None => {
            problems.push(Problem::at(field("payload"), "required", "`payload` is required"));
            Value::Null
        }
    };

    let environment = match attributes.get("environment") {
        None | Some(Value::Null) => rules.environment,
        Some(Value::String(name)) => match Environment::parse(name) {
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
        Some(_) => {
            problems.push(Problem::at(field("environment"), "invalid_value", "`environment` is production or sandbox"));
            rules.environment
        }
    };

    let scopes = match attributes.get("scopes") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(object)) => {
            let mut scopes = BTreeMap::new();
            for (key, value) in object {
                match value {
                    Value::String(text) if !key.is_empty() && key.len() <= 64 && text.len() <= 1024 => {
                        scopes.insert(key.clone(), text.clone());
                    }
                    _ => problems.push(Problem::at(
                        format!("{}/{}", field("scopes"), key.replace('~', "~0").replace('/', "~1")),
                        "invalid_scope",
                        "a scope maps a key of 1-64 characters to a string of at most 1024",
                    )),
                }
            }
            scopes
        }
        Some(_) => {
            problems.push(Problem::at(field("scopes"), "not_an_object", "`scopes` maps keys to strings"));
            BTreeMap::new()
        }
    };

    let occurred_at = match attributes.get("occurred_at") {
        None | Some(Value::Null) => now,
        Some(Value::String(text)) => match DateTime::parse_from_rfc3339(text) {
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
        Some(_) => {
            problems.push(Problem::at(field("occurred_at"), "invalid_timestamp", "an RFC 3339 timestamp string"));
            now
        }
    };

    let idempotency_key = match attributes.get("idempotency_key") {
        None | Some(Value::Null) => header_key.map(str::to_string),
        Some(Value::String(key)) => Some(key.clone()),
        Some(_) => {
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

    match event_type {
        Some(event_type) if problems.is_empty() => {
            let mut what: Map<String, Value> = attributes;
            what.remove("idempotency_key");
            let fingerprint = hex::encode(Sha256::digest(Value::Object(what).to_string().as_bytes()));
            Ok(NewEvent { event_type, payload, environment, scopes, occurred_at, idempotency_key, fingerprint })
        }
        _ => Err(problems),
    }
}

/// The 202 document of an accepted message.
pub fn accepted_document(message: &Message) -> Value {
    json!({
        "data": {
            "type": "messages",
            "id": message.id,
            "attributes": {
                "event_type": message.event_type,
                "environment": message.environment,
                "matched": message.matched,
                "idempotency_key": message.idempotency_key,
                "occurred_at": timestamp(message.occurred_at),
                "created_at": timestamp(message.created_at),
            },
            "links": { "self": format!("/api/v3/notification/messages/{}", message.id) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> BTreeSet<String> {
        ["invoice.created".to_string()].into_iter().collect()
    }

    fn rules(catalog: &BTreeSet<String>) -> EventRules<'_> {
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
}
