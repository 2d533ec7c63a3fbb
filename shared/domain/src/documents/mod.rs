//! The management API's request and response bodies as serde types; their `ToSchema` is the
//! OpenAPI schema, so the document and the code cannot disagree. Requests are read with the
//! path of any type error kept as a JSON pointer, then validated.

pub mod erasures;
pub mod errors;
pub mod event_types;
pub mod events;
pub mod messages;
pub mod platform;
pub mod stats;
pub mod transformations;
pub mod webhooks;

use crate::error::{Error, Problem};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_path_to_error::Segment;
use utoipa::ToSchema;

pub use erasures::*;
pub use errors::{ErrorDocument, ErrorObject, ErrorSource};
pub use event_types::*;
pub use events::*;
pub use messages::*;
pub use platform::*;
pub use stats::*;
pub use transformations::*;
pub use webhooks::*;

/// Reads `document` as a `T`. A value of the wrong JSON type is refused with the problem
/// `shape` names for its pointer (422), so each refusal keeps its `source.pointer`.
pub fn read<T: DeserializeOwned>(document: &Value, shape: impl Fn(&str) -> Problem) -> Result<T, Error> {
    serde_path_to_error::deserialize(document).map_err(|error| {
        let pointer = pointer_of(error.path());
        let mut problem = shape(&pointer);
        if problem.detail.is_empty() {
            problem.detail = error.into_inner().to_string();
        }
        Error::Invalid(vec![problem])
    })
}

/// A serde path as a JSON pointer (RFC 6901), e.g. `/data/attributes/events/0`.
pub fn pointer_of(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(escape(key)),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .fold(String::new(), |pointer, segment| format!("{pointer}/{segment}"))
}

/// A key escaped for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The `links` of a resource object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SelfLink {
    /// The resource's own path.
    #[serde(rename = "self")]
    pub self_: String,
}

impl SelfLink {
    /// A link to `path`.
    pub fn to(path: impl Into<String>) -> Self {
        Self { self_: path.into() }
    }
}

/// The health check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The deployed version.
    pub version: String,
}

/// A resource identifier of a relationship.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Identifier {
    /// The related resource's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
}

/// A to-one relationship.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ToOne {
    /// The related resource.
    pub data: Identifier,
}

/// A to-many relationship.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ToMany {
    /// The related resources.
    pub data: Vec<Identifier>,
}

/// How many deliveries an action (retry, recover) enqueued.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionResult {
    /// The action as a resource.
    pub data: ActionResource,
}

/// An action's resource: `retries` or `recoveries`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionResource {
    /// `retries` or `recoveries`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The message or webhook acted on.
    pub id: String,
    /// What was done.
    pub attributes: ActionAttributes,
}

/// What an action did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionAttributes {
    /// Deliveries enqueued again.
    pub enqueued: usize,
}

impl ActionResult {
    /// The result of action `kind` on `id`.
    pub fn new(kind: &str, id: impl Into<String>, enqueued: usize) -> Self {
        Self { data: ActionResource { kind: kind.into(), id: id.into(), attributes: ActionAttributes { enqueued } } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[allow(dead_code)]
        items: Vec<std::collections::BTreeMap<String, u32>>,
    }

    #[test]
    fn when_a_value_has_the_wrong_type_should_point_at_it() {
        let document = json!({"items": [{"a": 1}, {"a/b": "x"}]});
        let error = read::<Sample>(&document, |at| Problem::at(at, "wrong", "")).expect_err("refused");
        let Error::Invalid(problems) = error else { panic!("expected 422") };
        assert_eq!(problems[0].source, Some(crate::Source::Pointer("/items/1/a~1b".into())));
        assert!(!problems[0].detail.is_empty());
    }
}
