//! Erasures: the request of an erasure by subject, and the job it answers.

use super::SelfLink;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `POST /api/v3/accounts/{uid}/erasures`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(example = json!({"data": {"type": "erasures", "attributes": {"subject": "customer_42"}}}))]
pub struct ErasureInputDocument {
    /// The erasure.
    #[schema(required = true)]
    pub data: Option<ErasureInput>,
}

/// The erasure asked for.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ErasureInput {
    /// `erasures`.
    #[serde(rename = "type", default)]
    #[schema(required = true, value_type = String, pattern = "^erasures$")]
    pub kind: Option<String>,
    /// What to erase.
    #[serde(default)]
    #[schema(required = true)]
    pub attributes: Option<ErasureInputAttributes>,
}

/// What to erase.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ErasureInputAttributes {
    /// The subject, as events carried it (1-256 characters).
    #[serde(default)]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 256)]
    pub subject: Option<String>,
    /// Members an erasure does not have (refused).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// An erasure job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureDocument {
    /// The job.
    pub data: ErasureResource,
}

/// An erasure job as a resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureResource {
    /// `erasures`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `ers_…`.
    pub id: String,
    /// Where it stands.
    pub attributes: ErasureAttributes,
    /// Where to poll it.
    pub links: SelfLink,
}

/// Where an erasure stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureAttributes {
    /// `running` until every message about the subject has no payload left, then `done`.
    #[schema(pattern = "^(running|done)$")]
    pub status: String,
    /// SHA-256 of the subject, hex (the subject itself is not kept).
    pub subject_digest: String,
    /// Messages whose payload it erased so far.
    pub erased: u64,
    /// When it was asked for.
    pub created_at: String,
    /// When it finished; null while running.
    pub finished_at: Option<String>,
}
