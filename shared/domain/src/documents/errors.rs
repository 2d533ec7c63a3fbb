//! The JSON:API error document every refusal is answered with.

use serde::Serialize;
use utoipa::ToSchema;

/// Every failure is answered with this document.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorDocument {
    /// One object per problem.
    pub errors: Vec<ErrorObject>,
}

/// One JSON:API error.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorObject {
    /// The HTTP status, as a string.
    pub status: String,
    /// A stable machine-readable code, e.g. `invalid_url`.
    pub code: String,
    /// The kind of problem.
    pub title: String,
    /// This occurrence.
    pub detail: String,
    /// Where the problem is, when it is in the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ErrorSource>,
}

/// `pointer` into the body, `parameter` of the query, or `header` of the request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ErrorSource {
    /// A JSON pointer into the request body.
    Pointer(String),
    /// A query parameter.
    Parameter(String),
    /// A request header.
    Header(String),
}
