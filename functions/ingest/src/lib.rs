//! The ingestion Lambda's handler: accepts events over API Gateway HTTP requests.

use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::http::error_response;
use lambda_http::{Body, Request, Response};

/// The path of the single-event route.
pub const EVENTS_PATH: &str = "/api/v3/notification/events";
/// The path of the batch route.
pub const BATCH_PATH: &str = "/api/v3/notification/events/batch";

/// Answers one HTTP request. Never fails: every error becomes a JSON:API error response.
pub async fn handle(context: &Context, request: Request) -> Response<Body> {
    let response = match route(context, &request).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    };
    response.map(Body::from)
}

async fn route(_context: &Context, request: &Request) -> Result<http::Response<String>, Error> {
    let path = request.uri().path().trim_end_matches('/');
    match (request.method().as_str(), path) {
        ("POST", EVENTS_PATH | BATCH_PATH) => {
            Err(Error::NotImplemented("event ingestion comes with the ingestion issue".into()))
        }
        (_, EVENTS_PATH | BATCH_PATH) => Err(Error::MethodNotAllowed),
        _ => Err(Error::not_found("route")),
    }
}

/// Whether `path` is served by this function (the rest goes to `api`).
pub fn serves(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), EVENTS_PATH | BATCH_PATH)
}
