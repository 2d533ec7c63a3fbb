//! The event type documents: the catalog, one event type, and the create input.

use super::SelfLink;
use crate::patch::Patch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An event type create document.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EventTypeInputDocument {
    /// The event type.
    #[serde(default)]
    #[schema(required = true, value_type = EventTypeInput)]
    pub data: Option<EventTypeInput>,
    /// Other members, ignored; being a map, it also keeps serde from reading an array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The `data` of an event type create document.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EventTypeInput {
    /// `event_types`.
    #[serde(default, rename = "type")]
    #[schema(required = true, value_type = String, pattern = "^event_types$")]
    pub kind: Option<String>,
    /// Its attributes.
    #[serde(default)]
    #[schema(required = true, value_type = EventTypeInputAttributes)]
    pub attributes: Option<EventTypeInputAttributes>,
    /// Other members, ignored; being a map, it also keeps serde from reading an array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// Attributes of a new event type.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EventTypeInputAttributes {
    /// 1-128 letters, digits, `.`, `_`, `-`.
    #[schema(required = true, value_type = String)]
    #[serde(default)]
    pub name: Patch<String>,
    /// What it means.
    #[serde(default)]
    pub description: Option<String>,
    /// A JSON Schema of the payload (an object or a boolean).
    #[serde(default)]
    pub schema: Option<Value>,
    /// Every other member: `built_in` and `created_at` are ignored, others refused.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// An event type of the catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventTypeAttributes {
    /// Its name (also its id).
    pub name: String,
    /// What it means.
    pub description: String,
    /// A JSON Schema of the payload, if registered with one.
    pub schema: Option<Value>,
    /// Whether every account has it.
    pub built_in: bool,
    /// When it was registered; null for built-in types.
    pub created_at: Option<String>,
}

/// An event type resource (its id is its name).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventTypeResource {
    /// `event_types`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name.
    pub id: String,
    /// Its attributes.
    pub attributes: EventTypeAttributes,
    /// `self`.
    pub links: SelfLink,
}

/// The catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventTypeListDocument {
    /// Registered then built-in types, by name.
    pub data: Vec<EventTypeResource>,
}

/// One event type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventTypeDocument {
    /// The event type.
    pub data: EventTypeResource,
}
