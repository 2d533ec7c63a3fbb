//! The catalog as publishing and subscribing see it: the built-in types, the registered ones,
//! their compiled schemas, and what a payload or a new subscription is checked against.

use crate::documents::{EventTypeAttributes, EventTypeResource, SelfLink, escape};
use crate::error::{Error, Problem};
use crate::model::{EventSubscription, EventType};
use crate::webhooks::timestamp;
use chrono::{DateTime, Utc};
use jsonschema::error::ValidationErrorKind;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::*;

/// A built-in event type: in every account's catalog, published by Hookline alone.
///
/// `schema` and `example` are functions (a closure without captures will do, e.g.
/// `Some(|| json!({...}))`), run when the catalog is shown or a payload is checked; a unit
/// test checks that every schema is a valid JSON Schema and every example validates.
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    /// Its name.
    pub name: &'static str,
    /// What it means.
    pub description: &'static str,
    /// Its group in a UI.
    pub group: &'static str,
    /// The JSON Schema of its payload, if declared.
    pub schema: Option<fn() -> Value>,
    /// A payload that validates against `schema`.
    pub example: Option<fn() -> Value>,
}

/// Event types every account has: the source of built-in types.
pub const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "webhook.test",
        description: "Sent by POST /api/v3/notification/webhooks/test/:id to check an endpoint.",
        group: "webhooks",
        schema: Some(|| {
            json!({
                "type": "object",
                "required": ["type", "webhook_id", "sent_at"],
                "properties": {
                    "type": {"const": "webhook.test"},
                    "webhook_id": {"type": "integer", "minimum": 1},
                    "sent_at": {"type": "string"},
                },
            })
        }),
        example: Some(|| json!({"type": "webhook.test", "webhook_id": 42, "sent_at": "2026-11-22T10:00:00Z"})),
    },
    BuiltIn {
        name: "webhook.disabled",
        description: "Sent to the account when Hookline disables one of its webhooks.",
        group: "webhooks",
        schema: Some(|| {
            json!({
                "type": "object",
                "required": ["webhook_id", "reason"],
                "properties": {
                    "webhook_id": {"type": "integer", "minimum": 1},
                    "url": {"type": "string"},
                    "reason": {"type": "string"},
                    "disabled_at": {"type": "string"},
                },
            })
        }),
        example: Some(|| {
            json!({
                "webhook_id": 42,
                "url": "https://example.com/hooks",
                "reason": "failing_too_long",
                "disabled_at": "2026-11-22T10:00:00Z",
            })
        }),
    },
];

/// A built-in type as the catalog shows it.
pub(super) struct Declared {
    pub(super) name: &'static str,
    description: &'static str,
    group: &'static str,
    pub(super) schema: Option<Value>,
    pub(super) example: Option<Value>,
}

/// Every built-in type: [`BUILT_IN`], then the operational types it does not declare yet
/// (with the schema `crate::operational` gives them).
pub(super) fn built_in() -> impl Iterator<Item = Declared> {
    let declared = BUILT_IN.iter().map(|kind| Declared {
        name: kind.name,
        description: kind.description,
        group: kind.group,
        schema: kind.schema.map(|schema| schema()),
        example: kind.example.map(|example| example()),
    });
    let operational = crate::operational::TYPES
        .iter()
        .filter(|(name, _)| !BUILT_IN.iter().any(|kind| kind.name == *name))
        .map(|(name, description)| Declared {
            name,
            description,
            group: "operational",
            schema: Some(crate::operational::schema(name)),
            example: None,
        });
    declared.chain(operational)
}

/// Whether `name` is built in.
pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|kind| kind.name == name) || crate::operational::TYPES.iter().any(|(kind, _)| *kind == name)
}

/// A schema ready to check payloads: compiled once, on first use.
#[derive(Debug, Default)]
struct Compiled(OnceLock<Option<jsonschema::Validator>>);

impl Compiled {
    fn get(&self, schema: &Value) -> Option<&jsonschema::Validator> {
        // A stored schema was compiled when it was registered: one that no longer compiles
        // (a newer validator reads it differently) checks nothing rather than refusing events.
        self.0.get_or_init(|| compile(schema).ok()).as_ref()
    }
}

/// One type of the catalog, registered or built in.
#[derive(Debug)]
struct Entry {
    name: String,
    description: String,
    group: String,
    schema: Option<Value>,
    example: Option<Value>,
    deprecated: bool,
    built_in: bool,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    compiled: Compiled,
}

impl Entry {
    fn registered(kind: EventType) -> Self {
        Self {
            name: kind.name,
            description: kind.description,
            group: kind.group,
            schema: kind.schema,
            example: kind.example,
            deprecated: kind.deprecated,
            built_in: false,
            created_at: Some(kind.created_at),
            updated_at: Some(kind.updated_at),
            compiled: Compiled::default(),
        }
    }

    fn built_in(kind: Declared) -> Self {
        Self {
            name: kind.name.into(),
            description: kind.description.into(),
            group: kind.group.into(),
            schema: kind.schema,
            example: kind.example,
            deprecated: false,
            built_in: true,
            created_at: None,
            updated_at: None,
            compiled: Compiled::default(),
        }
    }

    fn resource(&self) -> EventTypeResource {
        EventTypeResource {
            kind: TYPE.into(),
            id: self.name.clone(),
            attributes: EventTypeAttributes {
                name: self.name.clone(),
                description: self.description.clone(),
                group: self.group.clone(),
                schema: self.schema.clone(),
                example: self.example.clone(),
                deprecated: self.deprecated,
                built_in: self.built_in,
                created_at: self.created_at.map(timestamp),
                updated_at: self.updated_at.map(timestamp),
            },
            links: SelfLink::to(format!("{PATH}/{}", self.name)),
        }
    }
}

/// The catalog every account publishes and subscribes against: the platform's registered
/// types and the built-in ones (which win a name both have).
#[derive(Debug)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
}

impl Catalog {
    /// The catalog of the platform's `registered` types and the built-in ones.
    pub fn new(registered: Vec<EventType>) -> Self {
        let mut entries: BTreeMap<String, Entry> =
            registered.into_iter().map(|kind| (kind.name.clone(), Entry::registered(kind))).collect();
        for kind in built_in() {
            entries.insert(kind.name.to_string(), Entry::built_in(kind));
        }
        Self { entries }
    }

    /// Every name of the catalog.
    pub fn names(&self) -> BTreeSet<String> {
        self.entries.keys().cloned().collect()
    }

    /// Whether the catalog has `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The example payload of type `name`, if it has one.
    pub fn example(&self, name: &str) -> Option<Value> {
        self.entries.get(name).and_then(|entry| entry.example.clone())
    }

    /// Whether `name` is deprecated.
    pub fn is_deprecated(&self, name: &str) -> bool {
        self.entries.get(name).is_some_and(|entry| entry.deprecated)
    }

    /// Every type as a resource, by name.
    pub fn resources(&self) -> Vec<EventTypeResource> {
        self.entries.values().map(Entry::resource).collect()
    }

    /// What is wrong with `payload` (read at pointer `at`) for the schema of type `name`: each
    /// failure at the pointer of the payload's failing member; none without a schema.
    pub fn check_payload(&self, name: &str, payload: &Value, at: &str) -> Vec<Problem> {
        let Some(entry) = self.entries.get(name) else { return Vec::new() };
        let Some(validator) = entry.schema.as_ref().and_then(|schema| entry.compiled.get(schema)) else {
            return Vec::new();
        };
        payload_problems(validator, payload, at, "invalid_payload")
    }

    /// Refuses subscriptions `events` (a webhook's new list) that name a deprecated type the
    /// webhook did not subscribe to already (`current`): each at its place in the list.
    pub fn check_new_subscriptions(
        &self,
        events: Option<&[EventSubscription]>,
        current: &[EventSubscription],
    ) -> Result<(), Error> {
        let had: BTreeSet<&str> = current.iter().map(|subscription| subscription.event_type.as_str()).collect();
        let problems: Vec<Problem> = events
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, subscription)| {
                self.is_deprecated(&subscription.event_type) && !had.contains(subscription.event_type.as_str())
            })
            .map(|(index, subscription)| {
                Problem::at(
                    format!("/data/attributes/events/{index}"),
                    "deprecated_event_type",
                    format!(
                        "`{}` is deprecated: webhooks that have it keep it, none may newly subscribe",
                        subscription.event_type
                    ),
                )
            })
            .collect();
        if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
    }
}

/// A registered event type as a JSON:API resource (its id is its name).
pub fn resource(kind: &EventType) -> EventTypeResource {
    Entry::registered(kind.clone()).resource()
}

/// A built-in type as a resource; `None` for any other name.
pub fn built_in_resource(name: &str) -> Option<EventTypeResource> {
    built_in().find(|kind| kind.name == name).map(|kind| Entry::built_in(kind).resource())
}

/// Compiles a JSON Schema (checked against its meta-schema first); the error says what is wrong.
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|error| error.to_string())
}

/// Each failure of `payload` against `validator`, at `at` + the failing member's pointer.
pub(super) fn payload_problems(
    validator: &jsonschema::Validator,
    payload: &Value,
    at: &str,
    code: &'static str,
) -> Vec<Problem> {
    validator
        .iter_errors(payload)
        .take(MAX_PAYLOAD_PROBLEMS)
        .map(|error| {
            // A missing or unexpected member is named by the object that lacks or has it;
            // the pointer names the member itself.
            let member = match error.kind() {
                ValidationErrorKind::Required { property: Value::String(name) } => Some(name.clone()),
                ValidationErrorKind::AdditionalProperties { unexpected }
                | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected.first().cloned(),
                _ => None,
            };
            let mut pointer = format!("{at}{}", error.instance_path().as_str());
            if let Some(member) = member {
                pointer = format!("{pointer}/{}", escape(&member));
            }
            Problem::at(pointer, code, error.to_string())
        })
        .collect()
}
