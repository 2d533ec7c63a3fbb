//! The management API's Lambda handler: routes API Gateway HTTP requests to the logic in `shared/`.

use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::http::{error_response, json_response};
use lambda_http::{Body, Request, Response};
use serde_json::json;

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
        ("GET", "/health") => Ok(json_response(200, &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))),
        (_, "/health") => Err(Error::MethodNotAllowed),
        _ => Err(Error::not_found("route")),
    }
}
