//! The event catalog: event types an account registers, the built-in ones, and their documents.

use crate::documents::{
    self, EventTypeAttributes, EventTypeInputAttributes, EventTypeInputDocument, EventTypeResource, SelfLink,
};
use crate::error::{Error, Problem};
use crate::model::EventType;
use crate::patch::Patch;
use crate::webhooks::{is_event_type_name, timestamp};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeSet;

/// The JSON:API type of event types.
pub const TYPE: &str = "event_types";

/// Event types every account has: `(name, description)`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("webhook.test", "Sent by POST /api/v3/notification/webhooks/test/:id to check an endpoint."),
    ("webhook.disabled", "Sent to the account when Hookline disables one of its webhooks."),
];

/// The largest payload schema accepted, in bytes of JSON.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 1024;

/// Every built-in type: `(name, description)`, the operational ones included.
fn built_in() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    BUILT_IN.iter().chain(crate::operational::TYPES)
}

/// Whether `name` is built in.
pub fn is_built_in(name: &str) -> bool {
    built_in().any(|(built_in, _)| *built_in == name)
}

/// The names an account may subscribe to: its registered types and the built-in ones.
pub fn catalog(registered: &[EventType]) -> BTreeSet<String> {
    registered.iter().map(|kind| kind.name.clone()).chain(built_in().map(|(name, _)| name.to_string())).collect()
}

/// The schema of a built-in type's payload, if it has one.
fn built_in_schema(name: &str) -> Option<Value> {
    crate::operational::TYPES
        .iter()
        .any(|(operational, _)| *operational == name)
        .then(|| crate::operational::schema(name))
}

/// The problem of a value of the wrong JSON type at `pointer` of a create document.
fn shape(pointer: &str) -> Problem {
    let attribute = pointer.strip_prefix("/data/attributes/").map(|rest| rest.split('/').next().unwrap_or(rest));
    match (pointer, attribute) {
        ("" | "/data", _) => Problem::at("/data", "missing_data", "the document needs a `data` object"),
        ("/data/type", _) => Problem::at("/data/type", "missing_type", format!("`data.type` must be \"{TYPE}\"")),
        (_, Some("name")) => Problem::at("/data/attributes/name", "invalid_event_type", NAME_RULE),
        (_, Some("description")) => {
            Problem::at("/data/attributes/description", "invalid_description", description_rule())
        }
        _ => Problem::at("/data/attributes", "missing_attributes", "`data.attributes` must be an object"),
    }
}

fn description_rule() -> String {
    format!("a string of at most {MAX_DESCRIPTION} characters")
}

const NAME_RULE: &str = "an event type is 1-128 letters, digits, `.`, `_` or `-`, starting with a letter or digit";

/// Reads a create document: `{"data": {"type": "event_types", "attributes": {name, description, schema}}}`.
pub fn parse_create(document: &Value, account_id: u64, now: DateTime<Utc>) -> Result<EventType, Error> {
    let input: EventTypeInputDocument = documents::read(document, shape)?;
    let data = input.data.ok_or_else(|| Error::Invalid(vec![shape("/data")]))?;
    match data.kind.as_deref() {
        Some(TYPE) => {}
        Some(other) => {
            return Err(Error::DocumentConflict(Problem::at(
                "/data/type",
                "wrong_type",
                format!("this endpoint takes `{TYPE}`, not `{other}`"),
            )));
        }
        None => return Err(Error::Invalid(vec![shape("/data/type")])),
    }
    let attributes = data.attributes.ok_or_else(|| Error::Invalid(vec![shape("/data/attributes")]))?;
    validate(attributes).map(|(name, description, schema)| EventType {
        account_id,
        name,
        description,
        schema,
        created_at: now,
    })
}

/// The rules of an event type's attributes: every problem, each at its pointer.
fn validate(attributes: EventTypeInputAttributes) -> Result<(String, String, Option<Value>), Error> {
    let mut problems = Vec::new();
    let name = match attributes.name {
        Patch::Value(name) if is_built_in(&name) => {
            problems.push(Problem::at("/data/attributes/name", "built_in", format!("`{name}` is built in")));
            None
        }
        Patch::Value(name) if is_event_type_name(&name) => Some(name),
        Patch::Value(_) | Patch::Null => {
            problems.push(Problem::at("/data/attributes/name", "invalid_event_type", NAME_RULE));
            None
        }
        Patch::Absent => {
            problems.push(Problem::at("/data/attributes/name", "required", "`name` is required"));
            None
        }
    };
    let description = match attributes.description {
        Some(text) if text.chars().count() > MAX_DESCRIPTION => {
            problems.push(Problem::at("/data/attributes/description", "invalid_description", description_rule()));
            String::new()
        }
        description => description.unwrap_or_default(),
    };
    let schema = match attributes.schema {
        None | Some(Value::Null) => None,
        Some(schema @ (Value::Object(_) | Value::Bool(_))) if schema.to_string().len() <= MAX_SCHEMA_BYTES => {
            Some(schema)
        }
        Some(_) => {
            problems.push(Problem::at(
                "/data/attributes/schema",
                "invalid_schema",
                format!("a JSON Schema (an object or a boolean) of at most {MAX_SCHEMA_BYTES} bytes"),
            ));
            None
        }
    };
    for unknown in attributes.other.keys().filter(|key| !matches!(key.as_str(), "built_in" | "created_at")) {
        problems.push(Problem::at(
            format!("/data/attributes/{unknown}"),
            "unknown_attribute",
            "event types have `name`, `description` and `schema`",
        ));
    }
    match (name, problems.is_empty()) {
        (Some(name), true) => Ok((name, description, schema)),
        _ => Err(Error::Invalid(problems)),
    }
}

/// An event type as a JSON:API resource (its id is its name).
pub fn resource(
    name: &str,
    description: &str,
    schema: Option<&Value>,
    created_at: Option<DateTime<Utc>>,
) -> EventTypeResource {
    EventTypeResource {
        kind: TYPE.into(),
        id: name.into(),
        attributes: EventTypeAttributes {
            name: name.into(),
            description: description.into(),
            schema: schema.cloned(),
            built_in: is_built_in(name),
            created_at: created_at.map(timestamp),
        },
        links: SelfLink::to(format!("/api/v3/notification/event_types/{name}")),
    }
}

/// Every event type of the catalog as resources: registered ones, then built-in ones, by name.
pub fn catalog_resources(registered: &[EventType]) -> Vec<EventTypeResource> {
    let mut resources: Vec<EventTypeResource> = registered
        .iter()
        .map(|kind| resource(&kind.name, &kind.description, kind.schema.as_ref(), Some(kind.created_at)))
        .chain(built_in().map(|(name, description)| resource(name, description, built_in_schema(name).as_ref(), None)))
        .collect();
    resources.sort_by(|a, b| a.id.cmp(&b.id));
    resources
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn when_create_is_valid_should_keep_description_and_schema() {
        let document = json!({"data": {"type": "event_types", "attributes": {"name": "invoice.paid", "description": "paid", "schema": {"type": "object"}}}});
        let kind = parse_create(&document, 3, Utc::now()).expect("valid");
        assert_eq!(kind.name, "invoice.paid");
        assert_eq!(kind.schema, Some(json!({"type": "object"})));
    }

    #[test]
    fn when_name_is_built_in_or_malformed_should_point_at_it() {
        for name in [json!("webhook.test"), json!("has space"), json!(""), json!(5), json!(".leading")] {
            let document = json!({"data": {"type": "event_types", "attributes": {"name": name}}});
            let error = parse_create(&document, 3, Utc::now()).expect_err("invalid");
            assert_eq!(error.status(), 422, "{name}");
        }
    }

    #[test]
    fn when_document_is_malformed_should_point_at_data_type_or_attributes() {
        let pointer = |document: Value| match parse_create(&document, 3, Utc::now()) {
            Err(Error::Invalid(problems)) => (problems[0].code, problems[0].source.clone()),
            other => panic!("expected 422, got {other:?}"),
        };
        assert_eq!(pointer(json!({"data": 5})).0, "missing_data");
        assert_eq!(pointer(json!({"data": {"type": 5}})).0, "missing_type");
        assert_eq!(pointer(json!({"data": {"type": "event_types", "attributes": []}})).0, "missing_attributes");
        let (code, source) =
            pointer(json!({"data": {"type": "event_types", "attributes": {"name": "a.b", "description": 7}}}));
        assert_eq!(
            (code, source),
            ("invalid_description", Some(crate::Source::Pointer("/data/attributes/description".into())))
        );
        let resource = serde_json::to_value(resource("a.b", "d", None, None)).expect("json");
        assert_eq!(resource["attributes"]["created_at"], Value::Null, "null, not absent");
    }

    #[test]
    fn when_catalog_built_should_hold_registered_and_built_in_types() {
        let registered = vec![EventType {
            account_id: 1,
            name: "a.b".into(),
            description: String::new(),
            schema: None,
            created_at: Utc::now(),
        }];
        let names = catalog(&registered);
        assert!(names.contains("a.b") && names.contains("webhook.test") && names.contains("webhook.disabled"));
        let resources = catalog_resources(&registered);
        assert_eq!(resources.len(), 3);
        assert_eq!(resources[0].id, "a.b");
    }
}
