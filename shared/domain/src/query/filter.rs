//! `filter[...]`: parsing one filter parameter into a [`Filter`], and matching attributes against filters.

use super::QuerySpec;
use super::parse::bracket_segments;
use crate::error::Error;
use serde_json::{Map, Value};

/// The condition of one `filter[...]` parameter on one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `filter[attr]=v`: the attribute equals `v` (for an array attribute: contains `v`).
    Equals(String),
    /// `filter[attr][key]=v`: the object attribute's `key` equals `v` (e.g. `filter[scopes][offering_id]=…`).
    Key(String, String),
}

pub(super) fn parse_filter(name: &str, value: &str, spec: &QuerySpec) -> Result<(String, Filter), Error> {
    let allowed = spec.filterable.join(", ");
    let segments = name.strip_prefix("filter").and_then(bracket_segments);
    let (attribute, key) = match segments.as_deref() {
        Some([attribute]) => (*attribute, None),
        Some([attribute, key]) => (*attribute, Some(*key)),
        _ => {
            return Err(Error::bad_param(
                name,
                "invalid_filter",
                format!("{name} is malformed; use filter[<attribute>] or filter[<attribute>][<key>] with: {allowed}"),
            ));
        }
    };
    if !spec.filterable.contains(&attribute) {
        return Err(Error::bad_param(
            name,
            "invalid_filter",
            format!("cannot filter on {attribute}; filterable fields: {allowed}"),
        ));
    }
    let filter = match key {
        None => Filter::Equals(value.to_owned()),
        Some(key) => Filter::Key(key.to_owned(), value.to_owned()),
    };
    Ok((attribute.to_owned(), filter))
}

/// Whether the attributes satisfy every filter (AND). An absent attribute never matches.
pub fn matches(attributes: &Map<String, Value>, filters: &[(String, Filter)]) -> bool {
    filters.iter().all(|(attribute, filter)| match (attributes.get(attribute), filter) {
        (None, _) => false,
        (Some(Value::Array(elements)), Filter::Equals(wanted)) => {
            elements.iter().any(|element| element_equals(element, wanted))
        }
        (Some(value), Filter::Equals(wanted)) => text(value).as_deref() == Some(wanted.as_str()),
        (Some(Value::Object(object)), Filter::Key(key, wanted)) => {
            object.get(key).and_then(text).as_deref() == Some(wanted.as_str())
        }
        (Some(_), Filter::Key(..)) => false,
    })
}

/// An array element equals `wanted`: an object by its `event_type` string, anything else by its text.
fn element_equals(element: &Value, wanted: &str) -> bool {
    match element {
        Value::Object(object) => object.get("event_type").and_then(Value::as_str) == Some(wanted),
        other => text(other).as_deref() == Some(wanted),
    }
}

/// A value as filter text: strings as-is, other values as JSON text; null has none.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(string) => Some(string.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::testing::{WEBHOOKS, bad, detail, equals, object};
    use serde_json::json;

    #[test]
    fn when_filter_field_is_unknown_should_be_invalid_filter_listing_filterable_fields() {
        assert_eq!(bad("filter[secret]=x", &WEBHOOKS), ("invalid_filter", "filter[secret]".to_owned()));
        let detail = detail("filter[secret]=x", &WEBHOOKS);
        assert!(detail.contains("scopes") && detail.contains("account_id"), "{detail}");
    }

    #[test]
    fn when_filter_brackets_are_malformed_should_be_invalid_filter() {
        for name in
            ["filter", "filter[]", "filter[name", "filter[name]x", "filter[a][b][c]", "filter[scopes][]", "filterx"]
        {
            let raw = format!("{name}=v");
            let (code, parameter) =
                if name == "filterx" { ("unknown_parameter", name) } else { ("invalid_filter", name) };
            assert_eq!(bad(&raw, &WEBHOOKS), (code, parameter.to_owned()), "{raw}");
        }
    }

    #[test]
    fn when_filters_match_should_require_all_of_them() {
        let attributes = object(json!({
            "id": 3, "name": "orders", "enabled": true, "gone": null,
            "events": ["order.created", {"event_type": "order.paid", "filters": {"status": ["open"]}}, 7],
            "scopes": {"offering_id": "539b", "tier": 2},
        }));
        let yes = |filters: &[(String, Filter)]| matches(&attributes, filters);
        assert!(yes(&[]));
        assert!(yes(&[equals("id", "3"), equals("name", "orders"), equals("enabled", "true")]));
        assert!(yes(&[equals("events", "order.created")]));
        assert!(yes(&[equals("events", "order.paid")]));
        assert!(yes(&[equals("events", "7")]));
        assert!(yes(&[("scopes".into(), Filter::Key("offering_id".into(), "539b".into()))]));
        assert!(yes(&[("scopes".into(), Filter::Key("tier".into(), "2".into()))]));
        assert!(!yes(&[equals("id", "3"), equals("name", "other")]));
        assert!(!yes(&[equals("events", "order.refunded")]));
        assert!(!yes(&[equals("gone", "null")]));
        assert!(!yes(&[equals("missing", "")]));
        assert!(!yes(&[("scopes".into(), Filter::Key("absent".into(), "539b".into()))]));
        assert!(!yes(&[("name".into(), Filter::Key("x".into(), "orders".into()))]));
    }
}
