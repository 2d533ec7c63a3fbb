//! The OpenAPI 3.1 document of ingestion: its security and tag, and the response sets of its
//! routes. The paths come from the router (`crate::routes`), the schemas from the document
//! types of `hookline_domain::documents`. The API serves it merged into its own document.

use hookline_domain::documents::ErrorDocument;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

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

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("hl_…").build()),
        );
    }
}

/// What every route answers before reading the body: 401 and 503.
#[derive(IntoResponses)]
pub enum Guarded {
    /// The key is missing, malformed or unknown.
    #[response(status = 401, description = "Missing or unknown API key", content_type = "application/vnd.api+json")]
    Unauthorized(ErrorDocument),
    /// A dependency is throttling or unreachable.
    #[response(status = 503, description = "A dependency is busy; retry", content_type = "application/vnd.api+json")]
    Unavailable(ErrorDocument),
}

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
