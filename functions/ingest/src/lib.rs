//! The ingestion Lambda's handler: accepts events (one, or a batch) over API Gateway HTTP requests.

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::event_types::catalog;
use hookline_domain::events::{EventRules, IDEMPOTENCY_HEADER, MAX_BATCH, MAX_PAYLOAD_BYTES, NewEvent, parse_event};
use hookline_domain::jsonapi::error_document;
use hookline_web::{Answer, ApiError, Authenticated, Document, header, json_response};
use http::HeaderMap;
use serde_json::{Value, json};

/// The path of the single-event route.
pub const EVENTS_PATH: &str = "/api/v3/notification/events";
/// The path of the batch route.
pub const BATCH_PATH: &str = "/api/v3/notification/events/batch";
/// The largest single-event body: the payload limit and room for the other fields.
const MAX_EVENT_BYTES: usize = MAX_PAYLOAD_BYTES + 16 * 1024;
/// The largest batch body (Lambda takes 6 MB).
const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;

/// Whether `path` is served by this function (API Gateway sends the rest to `api`).
pub fn serves(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), EVENTS_PATH | BATCH_PATH)
}

/// The ingestion routes as one router: what Lambda runs and what the local runner serves.
pub fn router(context: Context) -> Router {
    let routes = Router::new()
        .route(EVENTS_PATH, post(publish))
        .route(BATCH_PATH, post(publish_batch))
        .layer(DefaultBodyLimit::disable());
    hookline_web::trimming_trailing_slash(hookline_web::with_fallbacks(routes).with_state(context))
}

/// `POST /events`: 202 with the message id and the number of webhooks matched.
async fn publish(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    Document(document): Document<MAX_EVENT_BYTES>,
) -> Answer {
    let context = &context;
    let store = &context.store;
    let (event_types, webhooks) =
        tokio::try_join!(store.list_event_types(caller.account_id), store.list_webhooks(caller.account_id))?;
    let catalog = catalog(&event_types);
    let rules = EventRules { environment: caller.environment, catalog: &catalog };
    let event = parse_event(&document, "", rules, header(&headers, IDEMPOTENCY_HEADER), chrono::Utc::now())
        .map_err(Error::Invalid)?;
    let accepted = context.acceptor().accept(&caller, &webhooks, event).await?;
    let mut response = json_response(202, &accepted.document);
    if accepted.replayed {
        response.headers_mut().insert("idempotent-replayed", http::HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `POST /events/batch`: up to 100 events, a result per event; one bad event does not sink
/// the others. 202 when every event is accepted, 207 otherwise.
async fn publish_batch(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Document(document): Document<MAX_BATCH_BYTES>,
) -> Answer {
    let context = &context;
    let events = match document.get("events") {
        Some(Value::Array(events)) if events.is_empty() => {
            return Err(ApiError::from(Error::invalid("/events", "empty", "send at least one event")));
        }
        Some(Value::Array(events)) if events.len() > MAX_BATCH => {
            return Err(ApiError::from(Error::invalid(
                "/events",
                "too_many",
                format!("at most {MAX_BATCH} events per batch"),
            )));
        }
        Some(Value::Array(events)) => events,
        _ => return Err(ApiError::from(Error::invalid("/events", "required", r#"the body is {"events": [...]}"#))),
    };
    let store = &context.store;
    let (event_types, webhooks) =
        tokio::try_join!(store.list_event_types(caller.account_id), store.list_webhooks(caller.account_id))?;
    let catalog = catalog(&event_types);
    let rules = EventRules { environment: caller.environment, catalog: &catalog };
    let now = chrono::Utc::now();
    let parsed: Vec<Result<NewEvent, Error>> = events
        .iter()
        .enumerate()
        .map(|(index, event)| parse_event(event, &format!("/events/{index}"), rules, None, now).map_err(Error::Invalid))
        .collect();
    let valid: Vec<NewEvent> = parsed.iter().filter_map(|event| event.as_ref().ok().cloned()).collect();
    let mut outcomes = context.acceptor().accept_batch(&caller, &webhooks, valid).await.into_iter();
    let mut results = Vec::with_capacity(events.len());
    let mut all_accepted = true;
    for (index, event) in parsed.into_iter().enumerate() {
        let outcome = match event {
            Ok(_) => outcomes.next().unwrap_or_else(|| Err(Error::internal("an event was left out"))),
            Err(error) => Err(error),
        };
        results.push(match outcome {
            Ok(accepted) => {
                json!({ "index": index, "status": "202", "data": accepted.document["data"], "replayed": accepted.replayed })
            }
            Err(error) => {
                all_accepted = false;
                let (status, errors) = error_document(&error);
                if status >= 500 {
                    tracing::error!(index, error = %error, "a batch event failed");
                }
                json!({ "index": index, "status": status.to_string(), "errors": errors["errors"] })
            }
        });
    }
    Ok(json_response(if all_accepted { 202 } else { 207 }, &json!({ "data": results })))
}
