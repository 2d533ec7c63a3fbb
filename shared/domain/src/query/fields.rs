//! `fields[<type>]`: parsing a sparse fieldset, and keeping only the chosen attributes.

use super::QuerySpec;
use super::parse::bracket_segments;
use crate::error::Error;
use serde_json::{Map, Value};

pub(super) fn parse_fields(name: &str, value: &str, spec: &QuerySpec) -> Result<Vec<String>, Error> {
    let allowed = spec.fields.join(", ");
    match name.strip_prefix("fields").and_then(bracket_segments).as_deref() {
        Some([kind]) if *kind == spec.resource_type => {}
        _ => {
            return Err(Error::bad_param(
                name,
                "invalid_fields",
                format!("{name} is not accepted; use fields[{}] with: {allowed}", spec.resource_type),
            ));
        }
    }
    // An empty value asks for no attributes at all (JSON:API).
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields: Vec<String> = Vec::new();
    for field in value.split(',') {
        if !spec.fields.contains(&field) {
            return Err(Error::bad_param(
                name,
                "invalid_fields",
                format!("{field:?} is not a field of {}; fields: {allowed}", spec.resource_type),
            ));
        }
        if !fields.iter().any(|known| known == field) {
            fields.push(field.to_owned());
        }
    }
    Ok(fields)
}

/// Keeps only the attributes named in `fields` (all of them when `None`), in the map's order.
pub fn sparse(mut attributes: Map<String, Value>, fields: Option<&[String]>) -> Map<String, Value> {
    if let Some(fields) = fields {
        attributes.retain(|name, _| fields.iter().any(|field| field == name));
    }
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse_query;
    use crate::query::testing::{WEBHOOKS, bad, object};
    use serde_json::json;

    #[test]
    fn when_fields_type_or_name_is_unknown_should_be_invalid_fields() {
        assert_eq!(bad("fields[messages]=name", &WEBHOOKS), ("invalid_fields", "fields[messages]".to_owned()));
        assert_eq!(bad("fields[webhooks]=name,password", &WEBHOOKS), ("invalid_fields", "fields[webhooks]".to_owned()));
        assert_eq!(bad("fields[webhooks]=name,", &WEBHOOKS).0, "invalid_fields");
        assert_eq!(bad("fields=name", &WEBHOOKS).0, "invalid_fields");
        assert_eq!(parse_query(Some("fields[webhooks]="), &WEBHOOKS).map(|q| q.fields).ok(), Some(Some(vec![])));
    }

    #[test]
    fn when_fieldset_is_given_should_keep_only_those_attributes() {
        let attributes = object(json!({"name": "a", "url": "https://x", "secret": "s"}));
        assert_eq!(sparse(attributes.clone(), None), attributes);
        let fields = vec!["url".to_owned(), "name".to_owned()];
        let kept: Vec<String> = sparse(attributes, Some(&fields)).keys().cloned().collect();
        assert_eq!(kept, vec!["name".to_owned(), "url".to_owned()]);
    }
}
