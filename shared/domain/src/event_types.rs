//! The event catalog: the platform's one catalog of event types (registered by operator keys)
//! and the built-in ones, the rules of their documents, and what publishing and subscribing
//! check against it (a payload's JSON Schema, a deprecated type).
//!
//! Schemas are JSON Schemas, checked and applied by the `jsonschema` crate with no retrieval
//! of its own: a `$ref` may name the schema itself (`#…`) or a standard meta-schema, nothing
//! over the network or from files.

use crate::documents::{
    self, EventTypeAttributes, EventTypeInputAttributes, EventTypeInputDocument, EventTypeResource, SelfLink, escape,
};
use crate::error::{Error, Problem};
use crate::model::{EventSubscription, EventType};
use crate::patch::Patch;
use crate::webhooks::{is_event_type_name, timestamp};
use chrono::{DateTime, Utc};
use jsonschema::error::ValidationErrorKind;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The JSON:API type of event types.
pub const TYPE: &str = "event_types";
/// The platform's catalog.
pub const PATH: &str = "/api/v3/event_types";

/// The largest payload schema accepted, in bytes of JSON.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 1024;
/// The longest group.
pub const MAX_GROUP: usize = 128;
/// The most schema failures reported for one payload.
pub const MAX_PAYLOAD_PROBLEMS: usize = 10;

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
struct Declared {
    name: &'static str,
    description: &'static str,
    group: &'static str,
    schema: Option<Value>,
    example: Option<Value>,
}

/// Every built-in type: [`BUILT_IN`], then the operational types it does not declare yet
/// (with the schema `crate::operational` gives them).
fn built_in() -> impl Iterator<Item = Declared> {
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
fn payload_problems(validator: &jsonschema::Validator, payload: &Value, at: &str, code: &'static str) -> Vec<Problem> {
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

/// The problem of a value of the wrong JSON type (or an unknown member) at `pointer`.
fn shape(pointer: &str) -> Problem {
    let field = pointer.strip_prefix("/data/attributes/").map(|rest| rest.split('/').next().unwrap_or(rest));
    let code = match (pointer, field) {
        ("/data/type", _) => "invalid_type",
        ("/data/id", _) => "invalid_id",
        (_, Some("name")) => "invalid_event_type",
        (_, Some("description")) => "invalid_description",
        (_, Some("group")) => "invalid_group",
        (_, Some("deprecated")) => "invalid_deprecated",
        _ => "invalid_document",
    };
    Problem::at(if pointer.is_empty() { "/" } else { pointer }, code, "")
}

const NAME_RULE: &str = "an event type is 1-128 letters, digits, `.`, `_` or `-`, starting with a letter or digit";

/// Reads a document and checks its type and id (`expected`, the URL's name on patch).
fn read(document: &Value, expected: Option<&str>) -> Result<(Option<String>, EventTypeInputAttributes), Error> {
    let input: EventTypeInputDocument = documents::read(document, shape)?;
    if input.data.kind != TYPE {
        return Err(Error::DocumentConflict(Problem::at(
            "/data/type",
            "wrong_type",
            format!("this endpoint takes `{TYPE}`, not `{}`", input.data.kind),
        )));
    }
    let expected = expected.or(input.data.attributes.name.as_deref());
    if let (Some(id), Some(expected)) = (&input.data.id, expected)
        && id != expected
    {
        return Err(Error::DocumentConflict(Problem::at(
            "/data/id",
            "wrong_id",
            format!("`data.id` must be the event type's name, {expected}"),
        )));
    }
    Ok((input.data.id, input.data.attributes))
}

/// Reads a create document of the platform's catalog.
pub fn parse_create(document: &Value, now: DateTime<Utc>) -> Result<EventType, Error> {
    let (_, attributes) = read(document, None)?;
    let mut problems = Vec::new();
    let name = match &attributes.name {
        Some(name) if is_built_in(name) => {
            problems.push(Problem::at("/data/attributes/name", "built_in", format!("`{name}` is built in")));
            String::new()
        }
        Some(name) if is_event_type_name(name) => name.clone(),
        Some(_) => {
            problems.push(Problem::at("/data/attributes/name", "invalid_event_type", NAME_RULE));
            String::new()
        }
        None => {
            problems.push(Problem::at("/data/attributes/name", "required", "`name` is required"));
            String::new()
        }
    };
    let blank = EventType {
        name,
        description: String::new(),
        group: String::new(),
        schema: None,
        example: None,
        deprecated: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    match apply(&blank, attributes, problems) {
        Ok(kind) => Ok(kind),
        Err(problems) => Err(Error::Invalid(problems)),
    }
}

/// Applies a patch document to `current` (the URL's type): every attribute optional, the name
/// unchangeable.
pub fn parse_patch(document: &Value, current: &EventType, now: DateTime<Utc>) -> Result<EventType, Error> {
    let (_, attributes) = read(document, Some(&current.name))?;
    let mut problems = Vec::new();
    if attributes.name.as_ref().is_some_and(|name| *name != current.name) {
        problems.push(Problem::at("/data/attributes/name", "immutable", "an event type's name cannot change"));
    }
    match apply(current, attributes, problems) {
        Ok(mut changed) => {
            changed.updated_at = now;
            changed.version = current.version + 1;
            Ok(changed)
        }
        Err(problems) => Err(Error::Invalid(problems)),
    }
}

/// `current` with `attributes` applied (the name aside), or every problem, each at its pointer.
fn apply(
    current: &EventType,
    attributes: EventTypeInputAttributes,
    mut problems: Vec<Problem>,
) -> Result<EventType, Vec<Problem>> {
    let mut changed = current.clone();
    if let Some(description) = attributes.description {
        if description.chars().count() > MAX_DESCRIPTION {
            problems.push(Problem::at(
                "/data/attributes/description",
                "invalid_description",
                format!("a string of at most {MAX_DESCRIPTION} characters"),
            ));
        }
        changed.description = description;
    }
    if let Some(group) = attributes.group {
        if group.chars().count() > MAX_GROUP {
            problems.push(Problem::at(
                "/data/attributes/group",
                "invalid_group",
                format!("a string of at most {MAX_GROUP} characters"),
            ));
        }
        changed.group = group;
    }
    if let Some(deprecated) = attributes.deprecated {
        changed.deprecated = deprecated;
    }
    let schema_given = attributes.schema.is_given();
    changed.schema = match attributes.schema {
        Patch::Absent => current.schema.clone(),
        Patch::Null => None,
        Patch::Value(schema) => {
            let found = schema_problems(&schema);
            if !found.is_empty() {
                problems.extend(found);
                return Err(problems);
            }
            Some(schema)
        }
    };
    let example_given = attributes.example.is_given();
    changed.example = match attributes.example {
        Patch::Absent => current.example.clone(),
        Patch::Null => None,
        Patch::Value(example @ Value::Object(_)) => {
            let size = example.to_string().len();
            if size > crate::events::MAX_PAYLOAD_BYTES {
                problems.push(Problem::at(
                    "/data/attributes/example",
                    "invalid_example",
                    format!("an example is a payload: at most {} bytes of JSON", crate::events::MAX_PAYLOAD_BYTES),
                ));
            }
            problems.extend(crate::events::unstorable(&example, "/data/attributes/example"));
            Some(example)
        }
        Patch::Value(_) => {
            problems.push(Problem::at(
                "/data/attributes/example",
                "invalid_example",
                "an example is a payload: a JSON object",
            ));
            None
        }
    };
    if let (Some(schema), Some(example)) = (&changed.schema, &changed.example)
        && (schema_given || example_given)
        && problems.is_empty()
        && let Ok(validator) = compile(schema)
    {
        let failures = payload_problems(&validator, example, "", "example_mismatch");
        if let Some(first) = failures.first() {
            let at = match &first.source {
                Some(crate::Source::Pointer(pointer)) if !pointer.is_empty() => pointer.as_str(),
                _ => "/",
            };
            let kept = if example_given { "" } else { " (the example it has, against the new schema)" };
            problems.push(Problem::at(
                "/data/attributes/example",
                "example_mismatch",
                format!("the example does not validate against the schema{kept}: at {at}, {}", first.detail),
            ));
        }
    }
    if problems.is_empty() { Ok(changed) } else { Err(problems) }
}

/// What is wrong with a schema: not an object or a boolean, too large, not storable, or not a
/// valid JSON Schema (its meta-schema refuses it, or a `$ref` names something not in it).
fn schema_problems(schema: &Value) -> Vec<Problem> {
    const AT: &str = "/data/attributes/schema";
    if !matches!(schema, Value::Object(_) | Value::Bool(_)) || schema.to_string().len() > MAX_SCHEMA_BYTES {
        return vec![Problem::at(
            AT,
            "invalid_schema",
            format!("a JSON Schema (an object or a boolean) of at most {MAX_SCHEMA_BYTES} bytes"),
        )];
    }
    let unstorable = crate::events::unstorable(schema, AT);
    if !unstorable.is_empty() {
        return unstorable;
    }
    match compile(schema) {
        Ok(_) => Vec::new(),
        Err(error) => vec![Problem::at(AT, "invalid_schema", format!("not a valid JSON Schema: {error}"))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Filters;

    fn create(attributes: Value) -> Result<EventType, Error> {
        parse_create(&json!({"data": {"type": "event_types", "attributes": attributes}}), Utc::now())
    }

    fn problems(result: Result<EventType, Error>) -> Vec<(String, &'static str)> {
        match result {
            Err(Error::Invalid(problems)) => problems
                .into_iter()
                .map(|problem| match problem.source {
                    Some(crate::Source::Pointer(pointer)) => (pointer, problem.code),
                    other => (format!("{other:?}"), problem.code),
                })
                .collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    fn amount_schema() -> Value {
        json!({
            "type": "object",
            "required": ["invoice", "amount"],
            "properties": {"invoice": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}},
        })
    }

    #[test]
    fn when_create_is_valid_should_keep_every_attribute() {
        let kind = create(json!({
            "name": "invoice.paid", "description": "paid", "group": "billing",
            "schema": amount_schema(), "example": {"invoice": "inv_1", "amount": 10}, "deprecated": true,
        }))
        .expect("valid");
        assert_eq!((kind.name.as_str(), kind.group.as_str(), kind.deprecated), ("invoice.paid", "billing", true));
        assert_eq!(kind.schema, Some(amount_schema()));
        assert_eq!(kind.created_at, kind.updated_at);
        let bare = create(json!({"name": "a.b"})).expect("valid");
        assert_eq!((bare.schema, bare.example, bare.deprecated), (None, None, false));
    }

    #[test]
    fn when_schema_is_not_a_json_schema_should_point_at_it() {
        for schema in [
            json!({"type": "integr"}),
            json!({"minimum": "zero"}),
            json!({"required": "amount"}),
            json!({"pattern": "(unclosed"}),
            json!("a string"),
            json!(7),
            json!({"$ref": "#/$defs/missing"}),
            json!({"$schema": "https://example.com/no-such-draft"}),
        ] {
            let found = problems(create(json!({"name": "a.b", "schema": schema})));
            assert_eq!(found, [("/data/attributes/schema".to_string(), "invalid_schema")], "{schema}");
        }
        let draft7 = json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"});
        assert!(create(json!({"name": "a.b", "schema": draft7})).is_ok(), "a bundled draft");
        assert!(create(json!({"name": "a.b", "schema": true})).is_ok(), "a boolean schema");
    }

    #[test]
    fn when_schema_refers_to_a_remote_document_should_refuse_it_without_fetching() {
        // No retrieval is compiled in: the reference cannot be resolved, whatever the address.
        for reference in ["https://example.com/schema.json", "http://127.0.0.1:9/s.json", "file:///etc/passwd"] {
            let found = problems(create(json!({"name": "a.b", "schema": {"$ref": reference}})));
            assert_eq!(found, [("/data/attributes/schema".to_string(), "invalid_schema")], "{reference}");
        }
    }

    #[test]
    fn when_example_does_not_validate_should_point_at_the_example() {
        let found = problems(create(json!({"name": "a.b", "schema": amount_schema(), "example": {"invoice": "i"}})));
        assert_eq!(found, [("/data/attributes/example".to_string(), "example_mismatch")]);
        let found = problems(create(json!({"name": "a.b", "example": [1]})));
        assert_eq!(found, [("/data/attributes/example".to_string(), "invalid_example")]);
        let found =
            problems(create(json!({"name": "a.b", "schema": amount_schema(), "example": {"invoice": 1, "amount": 1}})));
        assert_eq!(found, [("/data/attributes/example".to_string(), "example_mismatch")]);
    }

    #[test]
    fn when_name_is_built_in_malformed_or_missing_should_point_at_it() {
        for (name, code) in [
            (json!("webhook.test"), "built_in"),
            (json!("has space"), "invalid_event_type"),
            (json!(""), "invalid_event_type"),
            (json!(".leading"), "invalid_event_type"),
            (json!(5), "invalid_event_type"),
            (Value::Null, "required"),
        ] {
            let found = problems(create(json!({"name": name})));
            assert_eq!(found, [("/data/attributes/name".to_string(), code)], "{name}");
        }
    }

    #[test]
    fn when_document_is_malformed_should_point_at_the_member() {
        let found = problems(create(json!({"name": "a.b", "colour": "red"})));
        assert_eq!(found, [("/data/attributes/colour".to_string(), "invalid_document")]);
        let found = problems(create(json!({"name": "a.b", "deprecated": "yes"})));
        assert_eq!(found, [("/data/attributes/deprecated".to_string(), "invalid_deprecated")]);
        let found = problems(create(json!({"name": "a.b", "built_in": true})));
        assert_eq!(found[0].1, "invalid_document", "Hookline's attributes are not writable");
        let wrong = parse_create(&json!({"data": {"type": "webhooks", "attributes": {"name": "a.b"}}}), Utc::now());
        assert_eq!(wrong.expect_err("conflict").status(), 409);
        let missing = parse_create(&json!({"data": {"attributes": {"name": "a.b"}}}), Utc::now());
        assert_eq!(missing.expect_err("type required").status(), 422);
    }

    #[test]
    fn when_patched_should_change_what_is_given_and_check_the_pair() {
        let current =
            create(json!({"name": "a.b", "schema": amount_schema(), "example": {"invoice": "i", "amount": 1}}))
                .expect("valid");
        let patch = |attributes: Value| {
            parse_patch(
                &json!({"data": {"type": "event_types", "id": "a.b", "attributes": attributes}}),
                &current,
                Utc::now(),
            )
        };
        let deprecated = patch(json!({"deprecated": true, "group": "billing"})).expect("valid");
        assert!(deprecated.deprecated);
        assert_eq!((deprecated.schema.clone(), deprecated.version), (current.schema.clone(), current.version + 1));
        let narrower = json!({"type": "object", "required": ["currency"]});
        assert_eq!(
            problems(patch(json!({"schema": narrower}))),
            [("/data/attributes/example".to_string(), "example_mismatch")],
            "the example it keeps must still validate"
        );
        let cleared = patch(json!({"schema": null})).expect("valid");
        assert_eq!(cleared.schema, None);
        assert_eq!(problems(patch(json!({"name": "c.d"}))), [("/data/attributes/name".to_string(), "immutable")]);
        let other_id = parse_patch(&json!({"data": {"type": "event_types", "id": "x.y"}}), &current, Utc::now());
        assert_eq!(other_id.expect_err("conflict").status(), 409);
    }

    #[test]
    fn when_payload_does_not_validate_should_point_at_the_failing_member() {
        let kind = create(json!({"name": "invoice.paid", "schema": amount_schema()})).expect("valid");
        let catalog = Catalog::new(vec![kind]);
        let pointers = |payload: Value, at: &str| -> Vec<String> {
            catalog
                .check_payload("invoice.paid", &payload, at)
                .into_iter()
                .map(|problem| match problem.source {
                    Some(crate::Source::Pointer(pointer)) => pointer,
                    other => format!("{other:?}"),
                })
                .collect()
        };
        assert!(pointers(json!({"invoice": "i", "amount": 3}), "/payload").is_empty());
        assert_eq!(pointers(json!({"invoice": "i", "amount": "3"}), "/payload"), ["/payload/amount"]);
        assert_eq!(pointers(json!({"invoice": "i", "amount": -1}), "/events/3/payload"), ["/events/3/payload/amount"]);
        assert_eq!(pointers(json!({"invoice": "i"}), "/payload"), ["/payload/amount"], "a missing member");
        let mut both = pointers(json!({"invoice": 1}), "/payload");
        both.sort();
        assert_eq!(both, ["/payload/amount", "/payload/invoice"]);
        assert!(pointers(json!({"anything": true}), "/payload").len() == 2);
        assert!(catalog.check_payload("no.schema", &json!({}), "/payload").is_empty());
    }

    #[test]
    fn when_member_names_need_escaping_should_escape_them_in_the_pointer() {
        let schema = json!({"type": "object", "properties": {"a/b": {"type": "string"}}, "required": ["c~d"]});
        let kind = create(json!({"name": "x.y", "schema": schema})).expect("valid");
        let catalog = Catalog::new(vec![kind]);
        let mut found: Vec<String> = catalog
            .check_payload("x.y", &json!({"a/b": 1}), "/payload")
            .into_iter()
            .filter_map(|problem| match problem.source {
                Some(crate::Source::Pointer(pointer)) => Some(pointer),
                _ => None,
            })
            .collect();
        found.sort();
        assert_eq!(found, ["/payload/a~1b", "/payload/c~0d"]);
    }

    #[test]
    fn when_a_deprecated_type_is_newly_subscribed_should_refuse_only_the_new_subscriptions() {
        let old = create(json!({"name": "old.type", "deprecated": true})).expect("valid");
        let fresh = create(json!({"name": "new.type"})).expect("valid");
        let catalog = Catalog::new(vec![old, fresh]);
        let subscribe = |name: &str| EventSubscription { event_type: name.into(), filters: Filters::new() };
        let asked = [subscribe("new.type"), subscribe("old.type")];
        let refused = catalog.check_new_subscriptions(Some(&asked), &[]).expect_err("deprecated");
        let Error::Invalid(found) = refused else { panic!("expected 422") };
        assert_eq!(found[0].source, Some(crate::Source::Pointer("/data/attributes/events/1".into())));
        assert_eq!(found[0].code, "deprecated_event_type");
        assert!(catalog.check_new_subscriptions(Some(&asked), &[subscribe("old.type")]).is_ok(), "kept");
        assert!(catalog.check_new_subscriptions(None, &[]).is_ok());
    }

    #[test]
    fn when_catalog_built_should_hold_registered_and_built_in_types_by_name() {
        let registered = create(json!({"name": "a.b", "group": "g"})).expect("valid");
        let catalog = Catalog::new(vec![registered]);
        let names = catalog.names();
        assert!(names.contains("a.b") && names.contains("webhook.test") && names.contains("webhook.disabled"));
        let resources = catalog.resources();
        assert_eq!(resources[0].id, "a.b");
        assert!(resources.windows(2).all(|pair| pair[0].id < pair[1].id), "by name");
        let test = resources.iter().find(|resource| resource.id == "webhook.test").expect("built in");
        assert!(test.attributes.built_in && test.attributes.created_at.is_none());
        let json = serde_json::to_value(test).expect("json");
        assert_eq!(json["attributes"]["updated_at"], Value::Null, "null, not absent");
        assert_eq!(json["links"]["self"], "/api/v3/event_types/webhook.test");
        assert!(built_in_resource("webhook.test").is_some() && built_in_resource("a.b").is_none());
    }

    #[test]
    fn when_built_in_types_declare_schemas_should_be_valid_and_their_examples_validate() {
        let mut names = BTreeSet::new();
        for kind in built_in() {
            assert!(names.insert(kind.name), "{} is declared once", kind.name);
            assert!(is_built_in(kind.name) && is_event_type_name(kind.name));
            let Some(schema) = &kind.schema else { continue };
            let validator = compile(schema).unwrap_or_else(|error| panic!("{}: {error}", kind.name));
            if let Some(example) = &kind.example {
                assert!(example.is_object(), "{}: an example is a payload", kind.name);
                let failures = payload_problems(&validator, example, "", "x");
                assert!(failures.is_empty(), "{}: {failures:?}", kind.name);
            }
        }
    }
}
