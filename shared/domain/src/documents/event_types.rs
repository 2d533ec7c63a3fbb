//! The event catalog's documents: the platform's create and patch input, one event type, and
//! the catalog. Inputs refuse unknown members, so a typo is a 422 with its pointer.

use super::SelfLink;
use crate::patch::Patch;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /api/v3/event_types`, `PATCH /api/v3/event_types/{name}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeInputDocument {
    /// The event type.
    pub data: EventTypeInput,
}

/// The `data` of an event type document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeInput {
    /// `event_types`.
    #[serde(rename = "type")]
    #[schema(pattern = "^event_types$")]
    pub kind: String,
    /// Its name, when given: on patch, the name of the URL.
    #[serde(default)]
    pub id: Option<String>,
    /// Its attributes; on patch every one is optional.
    #[serde(default)]
    pub attributes: EventTypeInputAttributes,
}

/// The writable attributes of an event type. `built_in`, `created_at` and `updated_at` are
/// Hookline's: refused like any unknown member.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeInputAttributes {
    /// 1-128 letters, digits, `.`, `_`, `-`, starting with a letter or digit; required on
    /// create, and cannot change.
    #[serde(default)]
    pub name: Option<String>,
    /// What it means, at most 1024 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// A label to group types by in a UI, at most 128 characters.
    #[serde(default)]
    pub group: Option<String>,
    /// A JSON Schema (an object or a boolean, at most 64 KiB) every payload of the type must
    /// validate against; null removes it. It may reference only itself (`#…`) and the
    /// standard meta-schemas: nothing is fetched.
    #[serde(default)]
    #[schema(value_type = Option<Value>)]
    pub schema: Patch<Value>,
    /// A payload (a JSON object) that validates against `schema`; null removes it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub example: Patch<Value>,
    /// Whether it is deprecated: still published, but no webhook may newly subscribe to it.
    #[serde(default)]
    pub deprecated: Option<bool>,
}

/// An event type of the catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventTypeAttributes {
    /// Its name (also its id).
    pub name: String,
    /// What it means.
    pub description: String,
    /// A label to group types by in a UI (empty: none).
    pub group: String,
    /// The JSON Schema its payloads validate against, if any.
    pub schema: Option<Value>,
    /// A payload that validates against the schema, if given.
    pub example: Option<Value>,
    /// Still published, but no webhook may newly subscribe to it.
    pub deprecated: bool,
    /// Whether Hookline defines it (and alone publishes it).
    pub built_in: bool,
    /// When it was registered; null for built-in types.
    pub created_at: Option<String>,
    /// When it last changed; null for built-in types.
    pub updated_at: Option<String>,
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
    /// Registered and built-in types, by name.
    pub data: Vec<EventTypeResource>,
}

/// One event type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventTypeDocument {
    /// The event type.
    pub data: EventTypeResource,
}
