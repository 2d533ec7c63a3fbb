//! What the OpenAPI documents of `api` and `ingest` share: the bearer-key security scheme and
//! the responses every route of an account may give before its own work.

use hookline_domain::documents::ErrorDocument;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify};

/// Adds the `api_key` bearer security scheme to a document.
#[derive(Debug)]
pub struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("hl_…").build()),
        );
    }
}

/// What every account route may answer: 401, 403 and 503, and 400 for an operator key
/// that names no account in `hookline-account`.
#[derive(IntoResponses)]
pub enum Guarded {
    /// An operator key without `hookline-account`, or an account key with it.
    #[response(
        status = 400,
        description = "An operator key must name the account in `hookline-account`",
        content_type = "application/vnd.api+json"
    )]
    AccountHeader(ErrorDocument),
    /// The key is missing, malformed, unknown, revoked or expired.
    #[response(status = 401, description = "Missing or unknown API key", content_type = "application/vnd.api+json")]
    Unauthorized(ErrorDocument),
    /// A read-only portal session writing.
    #[response(
        status = 403,
        description = "A read-only session may not write",
        content_type = "application/vnd.api+json"
    )]
    Forbidden(ErrorDocument),
    /// A dependency is throttling or unreachable.
    #[response(status = 503, description = "A dependency is busy; retry", content_type = "application/vnd.api+json")]
    Unavailable(ErrorDocument),
}

/// Every operation of a document as (method in capitals, path template): what a router's
/// test walks to check that each documented route reaches its handler.
pub fn operations(document: &utoipa::openapi::OpenApi) -> Vec<(String, String)> {
    document
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let value = serde_json::to_value(item).unwrap_or_default();
            let methods: Vec<String> =
                value.as_object().map(|operations| operations.keys().cloned().collect()).unwrap_or_default();
            methods
                .into_iter()
                .filter(|method| {
                    matches!(method.as_str(), "get" | "put" | "post" | "delete" | "patch" | "head" | "options")
                })
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}
