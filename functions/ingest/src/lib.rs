//! The ingestion Lambda's handler: accepts events (one, or a batch) over API Gateway HTTP
//! requests. The same list of routes builds the router and the OpenAPI document (which the
//! API serves merged into its own), so they cannot disagree.

pub mod openapi;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::documents::{
    AcceptedDocument, AcceptedResult, BatchResult, BatchResultDocument, ErrorDocument, EventBatchDocument,
    EventDocument, RefusedResult,
};
use hookline_domain::events::{
    EventRules, IDEMPOTENCY_HEADER, MAX_PAYLOAD_BYTES, NewEvent, named_event_type, parse_event, read_batch,
};
use hookline_domain::jsonapi::{MEDIA_TYPE, typed_error_document};
use hookline_web::{Answer, Document, Publisher, header};
use http::HeaderMap;
use openapi::{EventRefusals, Guarded};
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The path of the single-event route.
pub const EVENTS_PATH: &str = "/api/v3/notification/events";
/// The path of the batch route.
pub const BATCH_PATH: &str = "/api/v3/notification/events/batch";
/// The largest single-event body: the payload limit and room for the other fields.
const MAX_EVENT_BYTES: usize = MAX_PAYLOAD_BYTES + 16 * 1024;
/// The largest batch body (Lambda takes 6 MB).
const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;

/// The routes (method, path, handler), added to `base`.
fn with_routes(base: OpenApiRouter<Context>) -> OpenApiRouter<Context> {
    base.routes(routes!(publish)).routes(routes!(publish_batch))
}

/// The routes with the OpenAPI document they describe.
pub fn routes() -> (Router<Context>, utoipa::openapi::OpenApi) {
    with_routes(OpenApiRouter::with_openapi(openapi::IngestDoc::openapi())).split_for_parts()
}

/// The paths this function serves, as documented.
static PATHS: LazyLock<Vec<String>> = LazyLock::new(|| routes().1.paths.paths.into_keys().collect());

/// Whether `path` is served by this function (API Gateway sends the rest to `api`): one of
/// its documented paths, a `{parameter}` segment matching any one segment.
pub fn serves(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    PATHS.iter().any(|template| {
        let (mut template, mut path) = (template.split('/'), path.split('/'));
        loop {
            match (template.next(), path.next()) {
                (None, None) => return true,
                (Some(expected), Some(given))
                    if expected == given
                        || (expected.starts_with('{') && expected.ends_with('}') && !given.is_empty()) => {}
                _ => return false,
            }
        }
    })
}

/// The ingestion routes as one router: what Lambda runs and what the local runner serves.
pub fn router(context: Context) -> Router {
    // The same routes without the document's info and shared schemas, which a cold start
    // that serves events never needs.
    let (routes, _) = with_routes(OpenApiRouter::new()).split_for_parts();
    let routes = routes.layer(DefaultBodyLimit::disable());
    hookline_web::trimming_trailing_slash(hookline_web::with_fallbacks(routes).with_state(context))
}

/// A JSON:API response with `status` and `document`.
fn reply<T: Serialize>(status: u16, document: &T) -> http::Response<String> {
    match serde_json::to_string(document) {
        Ok(body) => http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, MEDIA_TYPE)
            .body(body)
            .unwrap_or_default(),
        Err(error) => hookline_web::error_response(&Error::internal(error)),
    }
}

/// The 202 document the acceptor answered (kept as JSON for idempotent repeats).
fn accepted_document(document: serde_json::Value) -> Result<AcceptedDocument, Error> {
    serde_json::from_value(document).map_err(Error::internal)
}

/// `POST /events`: 202 with the message id and the number of webhooks matched.
#[utoipa::path(post, path = "/api/v3/notification/events", tag = "events",
    summary = "Publish an event",
    description = "Accepts one event of a type of the platform's catalog (its payload must validate against the type's JSON Schema, if it has one: a failure is a 422 pointing at the failing member, e.g. `/payload/amount`) and enqueues its delivery to every webhook it matches. With an idempotency key (the `idempotency_key` attribute, else the `Idempotency-Key` header), a repeat within 25 hours answers the first answer and enqueues nothing. Body: at most 256 KiB of payload.",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, description = "1-255 printable characters; the `idempotency_key` attribute wins")),
    request_body(content(
        (EventDocument = "application/json"),
        (EventDocument = "application/vnd.api+json"),
    )),
    responses(
        (status = 202, description = "Accepted; `idempotent-replayed: true` when it is the first answer to its key, again",
            body = AcceptedDocument, content_type = "application/vnd.api+json",
            headers(("idempotent-replayed" = String, description = "`true` on a repeat of an idempotency key"))),
        (status = 409, description = "A request with this idempotency key is in progress; retry it", body = ErrorDocument, content_type = "application/vnd.api+json"),
        EventRefusals, Guarded,
    )
)]
async fn publish(
    State(context): State<Context>,
    Publisher(caller): Publisher,
    headers: HeaderMap,
    Document(document): Document<MAX_EVENT_BYTES>,
) -> Answer {
    let context = &context;
    let (store, cache) = (&context.store, &context.routing);
    let catalog = cache.catalog(store, &Vec::from_iter(named_event_type(&document))).await?;
    let rules = EventRules { environment: caller.environment, catalog: &catalog };
    let event = parse_event(&document, "", rules, header(&headers, IDEMPOTENCY_HEADER), chrono::Utc::now())
        .map_err(Error::Invalid)?;
    let webhooks = cache.webhooks_taking(store, caller.account_id, &[event.event_type.as_str()]).await?;
    let accepted = context.acceptor().accept(&caller, &webhooks, event).await?;
    let mut response = reply(202, &accepted_document(accepted.document)?);
    if accepted.replayed {
        response.headers_mut().insert("idempotent-replayed", http::HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `POST /events/batch`: up to 100 events, a result per event; one bad event does not sink
/// the others. 202 when every event is accepted, 207 otherwise.
#[utoipa::path(post, path = "/api/v3/notification/events/batch", tag = "events",
    summary = "Publish up to 100 events",
    description = "Each event is read, validated and accepted on its own, as by `POST /api/v3/notification/events` (an event's `idempotency_key` attribute works; the header does not apply), and answered by a result at its index: 202 when every event is accepted, 207 when some are not. Body: at most 5 MiB.",
    request_body(content(
        (EventBatchDocument = "application/json"),
        (EventBatchDocument = "application/vnd.api+json"),
    )),
    responses(
        (status = 202, description = "Every event accepted", body = BatchResultDocument, content_type = "application/vnd.api+json"),
        (status = 207, description = "Some events refused or failed; each result has its status, refusals their errors (pointers `/events/{index}/…`)",
            body = BatchResultDocument, content_type = "application/vnd.api+json"),
        EventRefusals, Guarded,
    )
)]
async fn publish_batch(
    State(context): State<Context>,
    Publisher(caller): Publisher,
    Document(document): Document<MAX_BATCH_BYTES>,
) -> Answer {
    let context = &context;
    let events = read_batch(&document)?;
    let (store, cache) = (&context.store, &context.routing);
    let named: Vec<&str> = events.iter().filter_map(named_event_type).collect();
    let catalog = cache.catalog(store, &named).await?;
    let rules = EventRules { environment: caller.environment, catalog: &catalog };
    let now = chrono::Utc::now();
    let parsed: Vec<Result<NewEvent, Error>> = events
        .iter()
        .enumerate()
        .map(|(index, event)| parse_event(event, &format!("/events/{index}"), rules, None, now).map_err(Error::Invalid))
        .collect();
    let valid: Vec<NewEvent> = parsed.iter().filter_map(|event| event.as_ref().ok().cloned()).collect();
    let types: Vec<&str> = valid.iter().map(|event| event.event_type.as_str()).collect();
    let webhooks = cache.webhooks_taking(store, caller.account_id, &types).await?;
    let mut outcomes = context.acceptor().accept_batch(&caller, &webhooks, valid).await.into_iter();
    let mut results = Vec::with_capacity(events.len());
    let mut all_accepted = true;
    for (index, event) in parsed.into_iter().enumerate() {
        let outcome = match event {
            Ok(_) => outcomes.next().unwrap_or_else(|| Err(Error::internal("an event was left out"))),
            Err(error) => Err(error),
        }
        .and_then(|accepted| Ok((accepted_document(accepted.document)?, accepted.replayed)));
        results.push(match outcome {
            Ok((document, replayed)) => {
                BatchResult::Accepted(AcceptedResult { index, status: "202".into(), data: document.data, replayed })
            }
            Err(error) => {
                all_accepted = false;
                let (status, document) = typed_error_document(&error);
                if status >= 500 {
                    tracing::error!(index, error = %error, "a batch event failed");
                }
                BatchResult::Refused(RefusedResult { index, status: status.to_string(), errors: document.errors })
            }
        });
    }
    Ok(reply(if all_accepted { 202 } else { 207 }, &BatchResultDocument { data: results }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    /// A context whose clients are never called: every request below stops before the store.
    fn offline_router() -> Router {
        router(hookline_aws::Context::unreachable())
    }

    async fn status(router: &Router, method: &str, path: &str) -> u16 {
        let request =
            http::Request::builder().method(method).uri(path).body(axum::body::Body::empty()).expect("request");
        router.clone().oneshot(request).await.expect("infallible").status().as_u16()
    }

    fn document() -> serde_json::Value {
        serde_json::to_value(routes().1).expect("the document is JSON")
    }

    fn documented_routes() -> Vec<(String, String)> {
        hookline_web::openapi::operations(&routes().1)
    }

    #[tokio::test]
    async fn when_each_documented_route_requested_should_reach_its_handler() {
        let router = offline_router();
        let documented = documented_routes();
        assert_eq!(
            documented,
            [("POST".to_string(), EVENTS_PATH.to_string()), ("POST".to_string(), BATCH_PATH.to_string())]
        );
        for (method, path) in documented {
            assert_eq!(status(&router, &method, &path).await, 401, "{method} {path}: served (401: it asked for a key)");
            assert!(serves(&path), "{path}: dispatched to ingest");
        }
    }

    #[tokio::test]
    async fn when_known_path_gets_another_method_should_answer_405_and_an_unknown_path_404() {
        let router = offline_router();
        assert_eq!(status(&router, "GET", EVENTS_PATH).await, 405);
        assert_eq!(status(&router, "POST", "/api/v3/notification/events/other").await, 404);
        assert_eq!(status(&router, "POST", "/api/v3/notification/events/batch/").await, 401, "trailing slash");
    }

    #[test]
    fn when_path_is_asked_about_should_serve_the_documented_ones_only() {
        for path in [EVENTS_PATH, BATCH_PATH, "/api/v3/notification/events/", "/api/v3/notification/events/batch//"] {
            assert!(serves(path), "{path}");
        }
        for path in ["/health", "/api/v3/notification/event_types", "/api/v3/notification/events/x", "/", ""] {
            assert!(!serves(path), "{path}");
        }
    }

    #[test]
    fn when_document_is_built_should_describe_bodies_and_every_answer() {
        let document = document();
        let statuses = |path: &str| -> Vec<String> {
            document["paths"][path]["post"]["responses"].as_object().expect("responses").keys().cloned().collect()
        };
        // 403: a read-only portal session publishing (the shared `Guarded` set).
        assert_eq!(statuses(EVENTS_PATH), ["202", "400", "401", "403", "409", "413", "415", "422", "503"]);
        assert_eq!(statuses(BATCH_PATH), ["202", "207", "400", "401", "403", "413", "415", "422", "503"]);
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        for name in
            ["EventDocument", "EventAttributes", "EventBatchDocument", "AcceptedDocument", "BatchResultDocument"]
        {
            assert!(schemas.contains_key(name), "{name} in {:?}", schemas.keys().collect::<Vec<_>>());
        }
        let body = &document["paths"][EVENTS_PATH]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["$ref"], "#/components/schemas/EventDocument");
        assert_eq!(document["security"][0]["api_key"], serde_json::json!([]));
    }
}
