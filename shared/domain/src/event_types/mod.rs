//! The event catalog: the platform's one catalog of event types (registered by operator keys)
//! and the built-in ones, the rules of their documents, and what publishing and subscribing
//! check against it (a payload's JSON Schema, a deprecated type).
//!
//! Schemas are JSON Schemas, checked and applied by the `jsonschema` crate with no retrieval
//! of its own: a `$ref` may name the schema itself (`#…`) or a standard meta-schema, nothing
//! over the network or from files.

use crate::documents::{self, EventTypeInputAttributes, EventTypeInputDocument};
use crate::error::{Error, Problem};
use crate::model::EventType;
use crate::patch::Patch;
use crate::webhooks::is_event_type_name;
use chrono::{DateTime, Utc};
use serde_json::Value;

mod catalog;

pub use catalog::*;

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
    use crate::model::EventSubscription;
    use crate::model::Filters;
    use serde_json::json;
    use std::collections::BTreeSet;

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
