//! The OpenAPI 3.1 document of ingestion: its security and tag, and the response sets of its
//! routes. The paths come from the router (`crate::routes`), the schemas from the document
//! types of `hookline_domain::documents`. The API serves it merged into its own document.

use hookline_domain::documents::ErrorDocument;
pub use hookline_web::openapi::{BearerKey, Guarded};
use utoipa::{IntoResponses, OpenApi};

/// The document's info, security and tag; the paths come from the router (`crate::routes`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookline ingestion",
        description = "Publish events, one or a batch; Hookline delivers each to the webhooks it matches. Authenticate with `Authorization: Bearer <api key>`.",
    ),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    components(schemas(ErrorDocument)),
    tags((name = "events", description = "Publishing events"))
)]
pub struct IngestDoc;

/// What a route reading events may answer: 400, 413, 415 and 422.
#[derive(IntoResponses)]
pub enum EventRefusals {
    /// The body is not JSON.
    #[response(status = 400, description = "Malformed JSON", content_type = "application/vnd.api+json")]
    Malformed(ErrorDocument),
    /// Over the route's limit.
    #[response(status = 413, description = "Body too large", content_type = "application/vnd.api+json")]
    TooLarge(ErrorDocument),
    /// Neither JSON:API nor JSON.
    #[response(status = 415, description = "Unsupported content type", content_type = "application/vnd.api+json")]
    Unsupported(ErrorDocument),
    /// Valid JSON, invalid content.
    #[response(
        status = 422,
        description = "Invalid event or batch, each error pointing at its member",
        content_type = "application/vnd.api+json"
    )]
    Invalid(ErrorDocument),
}
