//! The OpenAPI 3.1 document of the API: its info, security and tags, and the response sets
//! the handlers' annotations share. The paths come from the router (`crate::routes`), the
//! schemas from the document types of `hookline_domain::documents`.

use hookline_domain::documents::ErrorDocument;
pub use hookline_web::openapi::{BearerKey, Guarded};
use utoipa::{IntoResponses, OpenApi};

/// The document's info, security and tags; the paths come from the router (`crate::routes`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookline",
        description = "Webhooks as a service: register webhooks, publish events, Hookline delivers them signed, with retries and a log. JSON:API documents (`application/vnd.api+json`; `application/json` accepted). Authenticate with `Authorization: Bearer <api key>`; audit headers `hookline-external-client-id` and `hookline-app` are recorded in `created_by`/`updated_by`.",
    ),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    components(schemas(ErrorDocument)),
    tags((name = "webhooks", description = "Seed 003's /api/v3/notification/webhooks"), (name = "event_types", description = "The event catalog"), (name = "messages", description = "The message log"), (name = "platform", description = "The platform's own routes: accounts, keys, portal sessions (operator keys only)"))
)]
pub struct ApiDoc;

/// What every platform route may answer: 401, 404 (any key but an operator key, or no such
/// account) and 503.
#[derive(IntoResponses)]
pub enum PlatformGuarded {
    /// The key is missing, malformed, unknown, revoked or expired.
    #[response(
        status = 401,
        description = "Missing or unknown operator key",
        content_type = "application/vnd.api+json"
    )]
    Unauthorized(ErrorDocument),
    /// Not an operator key, or no such account or key.
    #[response(
        status = 404,
        description = "No such account or key (every key but an operator key gets 404 here)",
        content_type = "application/vnd.api+json"
    )]
    NotFound(ErrorDocument),
    /// A dependency is throttling or unreachable.
    #[response(status = 503, description = "A dependency is busy; retry", content_type = "application/vnd.api+json")]
    Unavailable(ErrorDocument),
}

/// What a route with query parameters may answer: 400.
#[derive(IntoResponses)]
#[response(status = 400, description = "Bad query parameter", content_type = "application/vnd.api+json")]
pub struct BadQuery(pub ErrorDocument);

/// What a route reading a JSON:API document may answer: 400, 409, 413, 415, 422.
#[derive(IntoResponses)]
pub enum DocumentRefusals {
    /// The body is not JSON.
    #[response(status = 400, description = "Malformed JSON", content_type = "application/vnd.api+json")]
    Malformed(ErrorDocument),
    /// The document's `type` or `id` is not the endpoint's, or a concurrent change won.
    #[response(
        status = 409,
        description = "Wrong `type`/`id`, or a conflicting change",
        content_type = "application/vnd.api+json"
    )]
    Conflict(ErrorDocument),
    /// Over 256 KiB.
    #[response(status = 413, description = "Body too large", content_type = "application/vnd.api+json")]
    TooLarge(ErrorDocument),
    /// Neither JSON:API nor JSON.
    #[response(status = 415, description = "Unsupported content type", content_type = "application/vnd.api+json")]
    Unsupported(ErrorDocument),
    /// Valid JSON, invalid content.
    #[response(
        status = 422,
        description = "Invalid attributes, each error points at its field",
        content_type = "application/vnd.api+json"
    )]
    Invalid(ErrorDocument),
}

/// What a route reading an optional JSON action body may answer: 400, 415 and 422.
#[derive(IntoResponses)]
pub enum ActionRefusals {
    /// The body is not JSON.
    #[response(status = 400, description = "Malformed JSON", content_type = "application/vnd.api+json")]
    Malformed(ErrorDocument),
    /// Neither JSON:API nor JSON.
    #[response(status = 415, description = "Unsupported content type", content_type = "application/vnd.api+json")]
    Unsupported(ErrorDocument),
    /// Valid JSON, invalid content; the error points at its member.
    #[response(status = 422, description = "Invalid body member", content_type = "application/vnd.api+json")]
    Invalid(ErrorDocument),
}

/// What a route naming a webhook may answer: 404.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such webhook in this account", content_type = "application/vnd.api+json")]
pub struct WebhookNotFound(pub ErrorDocument);
