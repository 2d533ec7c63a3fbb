//! The transformation test's request and answer.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `POST /webhooks/{id}/transformation/test`: every member optional (an empty body tests the
/// webhook's saved program on its first subscribed type's example).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TransformationTestDocument {
    /// The test.
    #[serde(default)]
    pub data: Option<TransformationTestInput>,
}

/// The test's resource object.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TransformationTestInput {
    /// `transformation_tests`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// What to run it on.
    #[serde(default)]
    pub attributes: TransformationTestInputAttributes,
}

/// What to run, on what.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TransformationTestInputAttributes {
    /// The program to test (default: the webhook's own).
    #[serde(default)]
    #[schema(max_length = 16384)]
    pub transformation: Option<String>,
    /// The event's type (default: the webhook's first subscribed type in the catalog).
    #[serde(default)]
    pub event_type: Option<String>,
    /// The event's payload, an object (default: the type's example, else `{}`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Value>,
    /// Members a test does not have (refused).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The test's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransformationTestResultDocument {
    /// The result.
    pub data: TransformationTestResource,
}

/// The result as a resource (its id is the webhook's).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransformationTestResource {
    /// `transformation_tests`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The webhook id.
    pub id: String,
    /// What the program made of the event, or why it made nothing.
    pub attributes: TransformationTestAttributes,
}

/// What the program made of the event, or why it made nothing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransformationTestAttributes {
    /// `ok`, or `transformation_error` (a delivery would record that attempt and not retry).
    #[schema(pattern = "^(ok|transformation_error)$")]
    pub status: String,
    /// The event document the program read.
    #[schema(value_type = Object)]
    pub input: Value,
    /// The body the webhook would receive (and its signature cover), when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    /// The headers it would get besides its own, when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Why the program made nothing, when `transformation_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
