//! `sort`: parsing the sort keys, and the stable multi-key sort of attribute maps.

use super::QuerySpec;
use crate::error::Error;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// One key of `sort`: an attribute, ascending unless prefixed with `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The attribute sorted on.
    pub field: String,
    /// Whether the key was prefixed with `-`.
    pub descending: bool,
}

pub(super) fn parse_sort(name: &str, value: &str, spec: &QuerySpec) -> Result<Vec<SortKey>, Error> {
    let allowed = spec.sortable.join(", ");
    let mut keys: Vec<SortKey> = Vec::new();
    for part in value.split(',') {
        let (field, descending) = match part.strip_prefix('-') {
            Some(field) => (field, true),
            None => (part, false),
        };
        if field.is_empty() {
            return Err(Error::bad_param(
                name,
                "invalid_sort",
                format!("sort has an empty key; give a comma list of: {allowed} (prefix - for descending)"),
            ));
        }
        if !spec.sortable.contains(&field) {
            return Err(Error::bad_param(
                name,
                "invalid_sort",
                format!("cannot sort on {field}; sortable fields: {allowed} (prefix - for descending)"),
            ));
        }
        if keys.iter().any(|key| key.field == field) {
            return Err(Error::bad_param(
                name,
                "invalid_sort",
                format!("sort names {field} more than once; give each of {allowed} at most once"),
            ));
        }
        keys.push(SortKey { field: field.to_owned(), descending });
    }
    Ok(keys)
}

/// Sorts by the keys, stably: items that tie on every key keep their incoming order.
///
/// Values order as: null or absent, then booleans, numbers (numerically), strings (lexicographically),
/// then arrays and objects (by JSON text). A descending key reverses that order for its key.
pub fn sort(items: &mut [Map<String, Value>], keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    items.sort_by(|a, b| {
        keys.iter()
            .map(|key| {
                let ordering = compare(a.get(&key.field), b.get(&key.field));
                if key.descending { ordering.reverse() } else { ordering }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

fn rank(value: Option<&Value>) -> u8 {
    match value {
        None | Some(Value::Null) => 0,
        Some(Value::Bool(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(Value::String(_)) => 3,
        Some(Value::Array(_) | Value::Object(_)) => 4,
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                a.cmp(&b)
            } else if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                a.cmp(&b)
            } else {
                let (a, b) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        }
        (Some(Value::String(a)), Some(Value::String(b))) => a.cmp(b),
        (Some(a @ (Value::Array(_) | Value::Object(_))), Some(b @ (Value::Array(_) | Value::Object(_)))) => {
            a.to_string().cmp(&b.to_string())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::testing::{WEBHOOKS, bad, detail, object};
    use serde_json::json;

    #[test]
    fn when_sort_key_is_empty_or_unknown_should_be_invalid_sort_listing_sortable_fields() {
        for raw in ["sort=", "sort=name,", "sort=-", "sort=secret", "sort=name,-name"] {
            assert_eq!(bad(raw, &WEBHOOKS), ("invalid_sort", "sort".to_owned()), "{raw}");
        }
        let detail = detail("sort=secret", &WEBHOOKS);
        assert!(detail.contains("secret") && detail.contains("created_at"), "{detail}");
    }

    #[test]
    fn when_sorting_should_order_by_type_then_value_and_keep_ties_stable() {
        let mut items: Vec<Map<String, Value>> = vec![
            object(json!({"id": 1, "name": "b", "n": 10})),
            object(json!({"id": 2, "name": "a", "n": 9})),
            object(json!({"id": 3, "name": null, "n": 2.5})),
            object(json!({"id": 4, "n": -1})),
            object(json!({"id": 5, "name": "b", "n": true})),
        ];
        let ids = |items: &[Map<String, Value>]| items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>();
        sort(&mut items, &[SortKey { field: "name".into(), descending: false }]);
        assert_eq!(ids(&items), vec![json!(3), json!(4), json!(2), json!(1), json!(5)]);
        sort(&mut items, &[SortKey { field: "n".into(), descending: false }]);
        assert_eq!(ids(&items), vec![json!(5), json!(4), json!(3), json!(2), json!(1)]);
        sort(
            &mut items,
            &[SortKey { field: "name".into(), descending: true }, SortKey { field: "id".into(), descending: true }],
        );
        assert_eq!(ids(&items), vec![json!(5), json!(1), json!(2), json!(4), json!(3)]);
    }

    #[test]
    fn when_sorting_timestamps_should_order_them_in_time() {
        let mut items = vec![
            object(json!({"created_at": "2026-03-01T00:00:00Z"})),
            object(json!({"created_at": "2025-12-31T23:59:59Z"})),
        ];
        sort(&mut items, &[SortKey { field: "created_at".into(), descending: false }]);
        assert_eq!(items[0]["created_at"], json!("2025-12-31T23:59:59Z"));
    }
}
