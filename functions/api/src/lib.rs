//! The management API's Lambda: an axum router over the handlers of its modules. The same
//! list of routes builds the router and the OpenAPI document, so they cannot disagree.

mod accounts;
mod deliveries;
mod erasures;
mod event_types;
mod keys;
mod messages;
pub mod openapi;
mod portal;
mod reply;
mod stats;
mod transformation;
mod webhooks;

use axum::Router;
use axum::extract::{FromRef, State};
use hookline_aws::{Context, Queue, Store};
use hookline_domain::documents::Health;
use hookline_outbound::Sender;
use hookline_web::Answer;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The delivery flow on DynamoDB, SQS and the guarded HTTP client: the test send's.
pub type Deliverer = hookline_core::Deliverer<Store, Queue, Sender>;

/// What every handler of the API may use.
#[derive(Clone)]
pub struct ApiState {
    /// Settings, store and queue.
    pub context: Context,
    /// The delivery flow (the test send).
    pub deliverer: Arc<Deliverer>,
    /// The OpenAPI document as JSON text, made at its first request rather than at init:
    /// a cold start that never serves it does not pay for it.
    pub openapi: Arc<std::sync::OnceLock<String>>,
}

impl FromRef<ApiState> for Context {
    fn from_ref(state: &ApiState) -> Self {
        state.context.clone()
    }
}

impl FromRef<ApiState> for Arc<Deliverer> {
    fn from_ref(state: &ApiState) -> Self {
        state.deliverer.clone()
    }
}

/// The routes (method, path, handler), added to `base`.
fn with_routes(base: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    base.routes(routes!(health))
        .routes(routes!(openapi_document))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(event_types::catalog))
        .routes(routes!(deliveries::test_send))
        .routes(routes!(webhooks::show, webhooks::patch, webhooks::delete))
        .routes(routes!(webhooks::secret))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(transformation::test))
        .routes(routes!(deliveries::webhook_attempts))
        .routes(routes!(deliveries::recover))
        .routes(routes!(stats::webhook))
        .routes(routes!(event_types::list))
        .routes(routes!(event_types::platform_list, event_types::create))
        .routes(routes!(event_types::show, event_types::patch, event_types::delete))
        .routes(routes!(messages::list))
        .routes(routes!(messages::show))
        .routes(routes!(deliveries::message_attempts))
        .routes(routes!(deliveries::retry))
        .routes(routes!(erasures::erase_payload))
        .routes(routes!(accounts::list, accounts::create))
        .routes(routes!(accounts::show, accounts::patch, accounts::delete))
        .routes(routes!(stats::account))
        .routes(routes!(erasures::create))
        .routes(routes!(erasures::show))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(keys::create_session))
        .routes(routes!(keys::revoke_session))
        .routes(routes!(keys::session))
        .routes(routes!(keys::list_operator_keys, keys::create_operator_key))
        .routes(routes!(keys::revoke_operator_key))
}

/// The routes with the OpenAPI document they describe.
pub fn routes() -> (Router<ApiState>, utoipa::openapi::OpenApi) {
    with_routes(OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())).split_for_parts()
}

/// The document served at `/api/v3/openapi.json`: the API's routes and ingestion's
/// (`hookline_ingest::routes`, served by the `ingest` function), so that a platform reads
/// in one document how to manage webhooks and how to publish.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = routes().1;
    document.merge(hookline_ingest::routes().1);
    document
}

/// The API as one router: what Lambda runs and what the local runner serves. Fails if the
/// settings' allowlist does not parse.
pub fn router(context: Context) -> Result<Router, hookline_domain::Error> {
    // The same routes without the document's info and shared schemas: the document is made
    // at its first request.
    let (routes, _) = with_routes(OpenApiRouter::new()).split_for_parts();
    let deliverer = Arc::new(context.deliverer(Sender::for_deliveries(&context.settings.allowed_target_cidrs)?));
    let state = ApiState { context, deliverer, openapi: Arc::default() };
    let routes = routes.merge(portal::routes());
    Ok(hookline_web::trimming_trailing_slash(hookline_web::with_fallbacks(routes).with_state(state)))
}

/// `GET /health`.
#[utoipa::path(get, path = "/health", tag = "webhooks", security(()),
    responses((status = 200, description = "The service answers", body = Health, content_type = "application/vnd.api+json"))
)]
pub async fn health() -> http::Response<String> {
    reply::document(200, &Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// `GET /api/v3/openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v3/openapi.json", tag = "webhooks", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_document(State(state): State<ApiState>) -> Answer {
    let json = match state.openapi.get() {
        Some(json) => json,
        None => {
            let made = document().to_json().map_err(hookline_domain::Error::internal)?;
            state.openapi.get_or_init(|| made)
        }
    };
    Ok(reply::raw(200, "application/json", json.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    /// A context whose clients are never called: every request below stops before the store.
    fn offline_router() -> Router {
        router(hookline_aws::Context::unreachable()).expect("router")
    }

    async fn status(router: &Router, method: &str, path: &str) -> u16 {
        let request =
            http::Request::builder().method(method).uri(path).body(axum::body::Body::empty()).expect("request");
        router.clone().oneshot(request).await.expect("infallible").status().as_u16()
    }

    fn documented_routes() -> Vec<(String, String)> {
        hookline_web::openapi::operations(&routes().1)
    }

    #[tokio::test]
    async fn when_each_documented_route_requested_should_reach_its_handler() {
        let router = offline_router();
        let documented = documented_routes();
        assert_eq!(documented.len(), 43, "{documented:?}");
        for (method, template) in documented {
            let path = template
                .replace("messages/{id}", "messages/msg_1")
                .replace("{id}", "1")
                .replace("{name}", "some.type")
                .replace("{uid}", "cus_1")
                .replace("{key_id}", "key_1");
            let expected = if path == "/health" || path.ends_with("openapi.json") { 200 } else { 401 };
            assert_eq!(
                status(&router, &method, &path).await,
                expected,
                "{method} {path}: served (401: it asked for a key)"
            );
        }
    }

    #[tokio::test]
    async fn when_openapi_document_served_should_describe_the_api_and_ingestion() {
        let router = offline_router();
        let request =
            http::Request::builder().uri("/api/v3/openapi.json").body(axum::body::Body::empty()).expect("request");
        let response = router.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), 200);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        let served: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        let paths = served["paths"].as_object().expect("paths");
        let api = documented_routes();
        let ingest = serde_json::to_value(hookline_ingest::routes().1).expect("JSON");
        let ingest = ingest["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), api.iter().map(|(_, path)| path).collect::<std::collections::BTreeSet<_>>().len() + 2);
        for (path, operations) in ingest {
            assert_eq!(&paths[path], operations, "{path} as ingestion documents it");
        }
        assert!(paths.contains_key("/api/v3/notification/events/batch"));
        assert_eq!(served["info"]["title"], "Hookline", "the API's info");
        let tags: Vec<&str> =
            served["tags"].as_array().expect("tags").iter().filter_map(|tag| tag["name"].as_str()).collect();
        assert_eq!(tags, ["webhooks", "event_types", "messages", "platform", "events"]);
        assert_eq!(served["components"]["securitySchemes"].as_object().expect("schemes").len(), 1);
        assert_eq!(served["security"].as_array().expect("security").len(), 1);
        for schema in ["EventDocument", "AcceptedDocument", "BatchResultDocument", "WebhookDocument", "ErrorDocument"] {
            assert!(served["components"]["schemas"][schema].is_object(), "{schema}");
        }
    }

    #[tokio::test]
    async fn when_ingestion_path_requested_from_the_api_should_answer_404() {
        let router = offline_router();
        assert_eq!(status(&router, "POST", "/api/v3/notification/events").await, 404, "API Gateway sends it to ingest");
    }

    #[tokio::test]
    async fn when_known_path_gets_another_method_should_answer_405_and_an_unknown_path_404() {
        let router = offline_router();
        assert_eq!(status(&router, "PUT", "/api/v3/notification/webhooks/1").await, 405);
        assert_eq!(status(&router, "GET", "/api/v3/nowhere").await, 404);
    }

    #[tokio::test]
    async fn when_path_has_a_trailing_slash_should_serve_it_as_without() {
        let router = offline_router();
        assert_eq!(status(&router, "GET", "/health/").await, 200);
        assert_eq!(status(&router, "GET", "/api/v3/notification/webhooks/").await, 401);
    }
}
