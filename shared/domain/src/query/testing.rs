//! Test fixtures shared by the query modules' unit tests: two endpoint specs and helpers to inspect 400s.

use super::*;
use crate::error::{Error, Source};
use serde_json::{Map, Value};

pub(super) const WEBHOOKS: QuerySpec = QuerySpec {
    default_size: DEFAULT_PAGE_SIZE,
    max_size: MAX_PAGE_SIZE,
    resource_type: "webhooks",
    sortable: &["id", "name", "url", "created_at", "updated_at"],
    filterable: &["id", "account_id", "name", "url", "events", "scopes", "created_at", "updated_at"],
    fields: &["id", "account_id", "name", "url", "secret", "events", "scopes", "created_at", "updated_at"],
    cursor: false,
};

pub(super) const MESSAGES: QuerySpec = QuerySpec {
    default_size: DEFAULT_PAGE_SIZE,
    max_size: MAX_PAGE_SIZE,
    resource_type: "messages",
    sortable: &["created_at"],
    filterable: &["event_type"],
    fields: &["event_type", "created_at"],
    cursor: true,
};

/// The code and parameter of a 400, or a panic.
pub(super) fn bad(raw: &str, spec: &QuerySpec) -> (&'static str, String) {
    match parse_query(Some(raw), spec) {
        Err(Error::BadRequest(problem)) => match problem.source {
            Some(Source::Parameter(name)) => (problem.code, name),
            other => panic!("no parameter source: {other:?}"),
        },
        other => panic!("expected a 400 for {raw:?}, got {other:?}"),
    }
}

pub(super) fn detail(raw: &str, spec: &QuerySpec) -> String {
    match parse_query(Some(raw), spec) {
        Err(Error::BadRequest(problem)) => problem.detail,
        other => panic!("expected a 400 for {raw:?}, got {other:?}"),
    }
}

pub(super) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

pub(super) fn equals(attribute: &str, value: &str) -> (String, Filter) {
    (attribute.to_owned(), Filter::Equals(value.to_owned()))
}
