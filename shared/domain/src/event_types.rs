//! The event catalog: event types an account registers, the built-in ones, and their documents.

use crate::error::{Error, Problem};
use crate::model::EventType;
use crate::webhooks::{is_event_type_name, timestamp};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
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

/// Whether `name` is built in.
pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(built_in, _)| *built_in == name)
}

/// The names an account may subscribe to: its registered types and the built-in ones.
pub fn catalog(registered: &[EventType]) -> BTreeSet<String> {
    registered.iter().map(|kind| kind.name.clone()).chain(BUILT_IN.iter().map(|(name, _)| name.to_string())).collect()
}

/// Reads a create document: `{"data": {"type": "event_types", "attributes": {name, description, schema}}}`.
pub fn parse_create(document: &Value, account_id: u64, now: DateTime<Utc>) -> Result<EventType, Error> {
    let data = document
        .get("data")
        .filter(|data| data.is_object())
        .ok_or_else(|| Error::invalid("/data", "missing_data", "the document needs a `data` object"))?;
    match data.get("type").and_then(Value::as_str) {
        Some(TYPE) => {}
        Some(other) => {
            return Err(Error::DocumentConflict(Problem::at(
                "/data/type",
                "wrong_type",
                format!("this endpoint takes `{TYPE}`, not `{other}`"),
            )));
        }
        None => return Err(Error::invalid("/data/type", "missing_type", format!("`data.type` must be \"{TYPE}\""))),
    }
    let Some(Value::Object(attributes)) = data.get("attributes") else {
        return Err(Error::invalid("/data/attributes", "missing_attributes", "`data.attributes` must be an object"));
    };
    let mut problems = Vec::new();
    let name = match attributes.get("name") {
        Some(Value::String(name)) if is_built_in(name) => {
            problems.push(Problem::at("/data/attributes/name", "built_in", format!("`{name}` is built in")));
            None
        }
        Some(Value::String(name)) if is_event_type_name(name) => Some(name.clone()),
        Some(_) => {
            problems.push(Problem::at(
                "/data/attributes/name",
                "invalid_event_type",
                "an event type is 1-128 letters, digits, `.`, `_` or `-`, starting with a letter or digit",
            ));
            None
        }
        None => {
            problems.push(Problem::at("/data/attributes/name", "required", "`name` is required"));
            None
        }
    };
    let description = match attributes.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) if text.chars().count() <= MAX_DESCRIPTION => text.clone(),
        Some(_) => {
            problems.push(Problem::at(
                "/data/attributes/description",
                "invalid_description",
                format!("a string of at most {MAX_DESCRIPTION} characters"),
            ));
            String::new()
        }
    };
    let schema = match attributes.get("schema") {
        None | Some(Value::Null) => None,
        Some(schema @ (Value::Object(_) | Value::Bool(_))) if schema.to_string().len() <= MAX_SCHEMA_BYTES => {
            Some(schema.clone())
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
    for unknown in attributes
        .keys()
        .filter(|key| !matches!(key.as_str(), "name" | "description" | "schema" | "built_in" | "created_at"))
    {
        problems.push(Problem::at(
            format!("/data/attributes/{unknown}"),
            "unknown_attribute",
            "event types have `name`, `description` and `schema`",
        ));
    }
    match (name, problems.is_empty()) {
        (Some(name), true) => Ok(EventType { account_id, name, description, schema, created_at: now }),
        _ => Err(Error::Invalid(problems)),
    }
}

/// An event type as a JSON:API resource (its id is its name).
pub fn resource(name: &str, description: &str, schema: Option<&Value>, created_at: Option<DateTime<Utc>>) -> Value {
    let mut attributes = Map::new();
    attributes.insert("name".into(), json!(name));
    attributes.insert("description".into(), json!(description));
    attributes.insert("schema".into(), schema.cloned().unwrap_or(Value::Null));
    attributes.insert("built_in".into(), json!(is_built_in(name)));
    attributes.insert("created_at".into(), created_at.map(timestamp).map_or(Value::Null, Value::String));
    json!({ "type": TYPE, "id": name, "attributes": attributes, "links": { "self": format!("/api/v3/notification/event_types/{name}") } })
}

/// Every event type of the catalog as resources: registered ones, then built-in ones, by name.
pub fn catalog_resources(registered: &[EventType]) -> Vec<Value> {
    let mut resources: Vec<(String, Value)> = registered
        .iter()
        .map(|kind| {
            (kind.name.clone(), resource(&kind.name, &kind.description, kind.schema.as_ref(), Some(kind.created_at)))
        })
        .chain(BUILT_IN.iter().map(|(name, description)| (name.to_string(), resource(name, description, None, None))))
        .collect();
    resources.sort_by(|a, b| a.0.cmp(&b.0));
    resources.into_iter().map(|(_, resource)| resource).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(resources[0]["id"], "a.b");
    }
}
