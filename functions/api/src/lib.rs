//! The management API's Lambda handler: routes API Gateway HTTP requests to the logic in `shared/`.

mod deliveries;
mod event_types;
mod messages;
pub mod openapi;
mod request;
mod webhooks;

use hookline_delivery::worker::Deliverer;
use hookline_domain::Error;
use hookline_domain::http::{error_response, json_response};
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// Every route this function serves: `(method, path template)`. The router below matches
/// them, and a test checks that this list, the router and the OpenAPI document agree.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/api/v3/openapi.json"),
    ("GET", "/api/v3/notification/webhooks"),
    ("POST", "/api/v3/notification/webhooks"),
    ("GET", "/api/v3/notification/webhooks/events"),
    ("POST", "/api/v3/notification/webhooks/test/{id}"),
    ("GET", "/api/v3/notification/webhooks/{id}"),
    ("PATCH", "/api/v3/notification/webhooks/{id}"),
    ("DELETE", "/api/v3/notification/webhooks/{id}"),
    ("GET", "/api/v3/notification/webhooks/{id}/secret"),
    ("POST", "/api/v3/notification/webhooks/{id}/rotate_secret"),
    ("GET", "/api/v3/notification/webhooks/{id}/attempts"),
    ("POST", "/api/v3/notification/webhooks/{id}/recover"),
    ("GET", "/api/v3/notification/event_types"),
    ("POST", "/api/v3/notification/event_types"),
    ("DELETE", "/api/v3/notification/event_types/{name}"),
    ("GET", "/api/v3/notification/messages"),
    ("GET", "/api/v3/notification/messages/{id}"),
    ("GET", "/api/v3/notification/messages/{id}/attempts"),
    ("POST", "/api/v3/notification/messages/{id}/retry"),
];

/// Answers one HTTP request. Never fails: every error becomes a JSON:API error response.
pub async fn handle(deliverer: &Deliverer, request: Request) -> Response<Body> {
    let response = match route(deliverer, &request).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    };
    response.map(Body::from)
}

/// A path segment that must be a resource id; anything else names no resource.
fn id(segment: &str) -> Result<u64, Error> {
    segment.parse().ok().filter(|id| *id > 0).ok_or_else(|| Error::not_found("webhook"))
}

async fn route(deliverer: &Deliverer, request: &Request) -> Result<http::Response<String>, Error> {
    let context = &deliverer.context;
    let path = request.uri().path().trim_end_matches('/').to_string();
    let method = request.method().as_str();
    match (path.as_str(), method) {
        ("/health", "GET") => return Ok(health()),
        ("/api/v3/openapi.json", "GET") => return Ok(openapi_document()),
        ("/health" | "/api/v3/openapi.json", _) => return Err(Error::MethodNotAllowed),
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/api/v3/notification/") else { return Err(Error::not_found("route")) };
    let segments: Vec<&str> = rest.split('/').collect();
    match (segments.as_slice(), method) {
        (["webhooks"], "GET") => webhooks::list(context, request).await,
        (["webhooks"], "POST") => webhooks::create(context, request).await,
        (["webhooks", "events"], "GET") => event_types::catalog(context, request).await,
        (["webhooks", "test", raw], "POST") => deliveries::test_send(deliverer, request, id(raw)?).await,
        (["webhooks", raw], "GET") => webhooks::show(context, request, id(raw)?).await,
        (["webhooks", raw], "PATCH") => webhooks::patch(context, request, id(raw)?).await,
        (["webhooks", raw], "DELETE") => webhooks::delete(context, request, id(raw)?).await,
        (["webhooks", raw, "secret"], "GET") => webhooks::secret(context, request, id(raw)?).await,
        (["webhooks", raw, "rotate_secret"], "POST") => webhooks::rotate_secret(context, request, id(raw)?).await,
        (["webhooks", raw, "attempts"], "GET") => deliveries::webhook_attempts(deliverer, request, id(raw)?).await,
        (["webhooks", raw, "recover"], "POST") => deliveries::recover(deliverer, request, id(raw)?).await,
        (["event_types"], "GET") => event_types::list(context, request).await,
        (["event_types"], "POST") => event_types::create(context, request).await,
        (["event_types", name], "DELETE") => event_types::delete(context, request, name).await,
        (["messages"], "GET") => messages::list(context, request).await,
        (["messages", id], "GET") => messages::show(context, request, id).await,
        (["messages", id, "attempts"], "GET") => deliveries::message_attempts(deliverer, request, id).await,
        (["messages", id, "retry"], "POST") => deliveries::retry(deliverer, request, id).await,
        (
            ["webhooks"]
            | ["webhooks", _]
            | ["webhooks", _, "secret" | "rotate_secret" | "attempts" | "recover"]
            | ["webhooks", "test", _]
            | ["event_types"]
            | ["event_types", _]
            | ["messages"]
            | ["messages", _]
            | ["messages", _, "attempts" | "retry"],
            _,
        ) => Err(Error::MethodNotAllowed),
        _ => Err(Error::not_found("route")),
    }
}

/// `GET /health`.
#[utoipa::path(get, path = "/health", tag = "webhooks", security(()),
    responses((status = 200, description = "The service answers", body = openapi::Health, content_type = "application/vnd.api+json"))
)]
pub fn health() -> http::Response<String> {
    json_response(200, &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /api/v3/openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v3/openapi.json", tag = "webhooks", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub fn openapi_document() -> http::Response<String> {
    http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(openapi::json())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A context whose clients are never called: every request below stops before the store.
    fn offline_context() -> Deliverer {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let settings = hookline_aws::Settings {
            table_name: "offline".into(),
            delivery_queue_url: "http://127.0.0.1:9/q".into(),
            retention_days: 30,
            allow_http_webhooks: false,
            allowed_target_cidrs: String::new(),
            disable_after_days: 5,
        };
        Deliverer::new(hookline_aws::Context::new(settings, &sdk)).expect("deliverer")
    }

    fn documented_routes() -> BTreeSet<(String, String)> {
        let document: serde_json::Value = serde_json::from_str(&openapi::json()).expect("the document is JSON");
        assert!(document["openapi"].as_str().expect("version").starts_with("3.1"), "OpenAPI 3.1");
        document["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, operations)| {
                operations.as_object().expect("operations").keys().map(|method| (method.to_uppercase(), path.clone()))
            })
            .collect()
    }

    #[test]
    fn when_routes_listed_should_match_the_openapi_document_exactly() {
        let listed: BTreeSet<(String, String)> =
            ROUTES.iter().map(|(method, path)| (method.to_string(), path.to_string())).collect();
        assert_eq!(documented_routes(), listed);
    }

    #[tokio::test]
    async fn when_each_listed_route_requested_should_reach_a_handler() {
        let context = offline_context();
        for (method, template) in ROUTES {
            let path =
                template.replace("messages/{id}", "messages/msg_1").replace("{id}", "1").replace("{name}", "some.type");
            let request = http::Request::builder().method(*method).uri(&path).body(Body::Empty).expect("request");
            let status = handle(&context, request).await.status().as_u16();
            let expected = if path == "/health" || path.ends_with("openapi.json") { 200 } else { 401 };
            assert_eq!(status, expected, "{method} {path}: the router serves it (401: it asked for a key)");
        }
    }

    #[tokio::test]
    async fn when_known_path_gets_another_method_should_answer_405() {
        let context = offline_context();
        let request = http::Request::builder()
            .method("PUT")
            .uri("/api/v3/notification/webhooks/1")
            .body(Body::Empty)
            .expect("request");
        assert_eq!(handle(&context, request).await.status(), 405);
    }
}
