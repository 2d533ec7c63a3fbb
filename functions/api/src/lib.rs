//! The management API's Lambda handler: routes API Gateway HTTP requests to the logic in `shared/`.

mod event_types;
mod request;
mod webhooks;

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

/// A path segment that must be a resource id; anything else names no resource.
fn id(segment: &str) -> Result<u64, Error> {
    segment.parse().ok().filter(|id| *id > 0).ok_or_else(|| Error::not_found("webhook"))
}

async fn route(context: &Context, request: &Request) -> Result<http::Response<String>, Error> {
    let path = request.uri().path().trim_end_matches('/').to_string();
    let method = request.method().as_str();
    if path == "/health" {
        return match method {
            "GET" => Ok(json_response(200, &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))),
            _ => Err(Error::MethodNotAllowed),
        };
    }
    let Some(rest) = path.strip_prefix("/api/v3/notification/") else { return Err(Error::not_found("route")) };
    let segments: Vec<&str> = rest.split('/').collect();
    match (segments.as_slice(), method) {
        (["webhooks"], "GET") => webhooks::list(context, request).await,
        (["webhooks"], "POST") => webhooks::create(context, request).await,
        (["webhooks", "events"], "GET") => event_types::list(context, request).await,
        (["webhooks", "test", raw], "POST") => webhooks::test_send(context, request, id(raw)?).await,
        (["webhooks", raw], "GET") => webhooks::show(context, request, id(raw)?).await,
        (["webhooks", raw], "PATCH") => webhooks::patch(context, request, id(raw)?).await,
        (["webhooks", raw], "DELETE") => webhooks::delete(context, request, id(raw)?).await,
        (["webhooks", raw, "secret"], "GET") => webhooks::secret(context, request, id(raw)?).await,
        (["event_types"], "GET") => event_types::list(context, request).await,
        (["event_types"], "POST") => event_types::create(context, request).await,
        (["event_types", name], "DELETE") => event_types::delete(context, request, name).await,
        (
            ["webhooks"]
            | ["webhooks", _]
            | ["webhooks", _, "secret"]
            | ["webhooks", "test", _]
            | ["event_types"]
            | ["event_types", _],
            _,
        ) => Err(Error::MethodNotAllowed),
        _ => Err(Error::not_found("route")),
    }
}
