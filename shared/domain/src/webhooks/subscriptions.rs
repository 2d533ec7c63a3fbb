//! Subscriptions of a webhook: event type names, or objects with payload filters, each
//! refusal at its own pointer.

use super::validate::{Found, one};
use super::{WILDCARD, limits};
use crate::documents::{SubscriptionInput, escape};
use crate::error::Problem;
use crate::model::{EventSubscription, Filters};
use serde_json::Value;
use std::collections::BTreeSet;

/// Whether `name` is a valid event type name: letters, digits, `.`, `_`, `-`, at most 128,
/// starting with a letter or digit.
pub fn is_event_type_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|first| first.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_filter_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 256
        && path
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
}

pub(super) fn validate_events(
    items: Vec<SubscriptionInput>,
    at: &str,
    catalog: &BTreeSet<String>,
) -> Found<Vec<EventSubscription>> {
    if items.is_empty() {
        return Err(one(at, "empty", "subscribe to at least one event type"));
    }
    if items.len() > limits::EVENTS {
        return Err(one(at, "too_many", format!("at most {} event types", limits::EVENTS)));
    }
    let mut problems = Vec::new();
    let mut subscriptions = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let item_at = format!("{at}/{index}");
        let (event_type, type_at, filters) = match item {
            SubscriptionInput::Name(name) => (name, item_at.clone(), Filters::new()),
            SubscriptionInput::Filtered(object) => {
                if let Some(unknown) = object.other.keys().next() {
                    problems.push(Problem::at(
                        format!("{item_at}/{}", escape(unknown)),
                        "unknown_attribute",
                        "a subscription has `event_type` and `filters`",
                    ));
                    continue;
                }
                let Some(Value::String(name)) = object.event_type else {
                    problems.push(Problem::at(
                        format!("{item_at}/event_type"),
                        "required",
                        "`event_type` is a required string",
                    ));
                    continue;
                };
                let filters = match object.filters {
                    None | Some(Value::Null) => Filters::new(),
                    Some(filters) => match validate_filters(&filters, &format!("{item_at}/filters")) {
                        Ok(filters) => filters,
                        Err(found) => {
                            problems.extend(found);
                            continue;
                        }
                    },
                };
                (name, format!("{item_at}/event_type"), filters)
            }
        };
        if event_type != WILDCARD && !is_event_type_name(&event_type) {
            problems.push(Problem::at(
                &type_at,
                "invalid_event_type",
                "an event type is 1-128 letters, digits, `.`, `_` or `-`, or `*`",
            ));
        } else if event_type != WILDCARD && !catalog.contains(&event_type) {
            problems.push(Problem::at(
                &type_at,
                "unknown_event_type",
                format!(
                    "`{event_type}` is not in the event catalog; the platform registers types at /api/v3/event_types"
                ),
            ));
        } else if !seen.insert(event_type.clone()) {
            problems.push(Problem::at(&type_at, "duplicate_event_type", format!("`{event_type}` is listed twice")));
        } else {
            subscriptions.push(EventSubscription { event_type, filters });
        }
    }
    if problems.is_empty() { Ok(subscriptions) } else { Err(problems) }
}

fn validate_filters(value: &Value, at: &str) -> Found<Filters> {
    let Value::Object(object) = value else {
        return Err(one(at, "not_an_object", r#"filters map a payload path to its values: {"status": ["open"]}"#));
    };
    if object.len() > limits::FILTERS {
        return Err(one(at, "too_many", format!("at most {} filters", limits::FILTERS)));
    }
    let mut problems = Vec::new();
    let mut filters = Filters::new();
    for (path, values) in object {
        // JSON pointer escaping of the key (RFC 6901).
        let path_at = format!("{at}/{}", escape(path));
        if !is_filter_path(path) {
            problems.push(Problem::at(&path_at, "invalid_filter_path", "a dotted path of letters, digits, `_`, `-`"));
            continue;
        }
        match values {
            Value::Array(list) if list.is_empty() => {
                problems.push(Problem::at(&path_at, "empty", "a filter lists at least one value"))
            }
            Value::Array(list) if list.len() > limits::FILTER_VALUES => {
                problems.push(Problem::at(&path_at, "too_many", format!("at most {} values", limits::FILTER_VALUES)))
            }
            Value::Array(list) if list.iter().all(|item| !item.is_array() && !item.is_object()) => {
                filters.insert(path.clone(), list.clone());
            }
            _ => problems.push(Problem::at(
                &path_at,
                "invalid_filter_values",
                "an array of strings, numbers, booleans or null",
            )),
        }
    }
    if problems.is_empty() { Ok(filters) } else { Err(problems) }
}
