//! `/api/v3/notification/event_types` and the catalog at `/api/v3/notification/webhooks/events`.

use crate::openapi::{DocumentRefusals, Guarded};
use crate::reply;
use axum::extract::{Path, State};
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::documents::{ErrorDocument, EventTypeDocument, EventTypeInputDocument, EventTypeListDocument};
use hookline_domain::event_types::{self, catalog_resources, is_built_in};
use hookline_web::{Answer, ApiError, Authenticated, Document};

/// `GET /webhooks/events` (seed 003): the types the account can subscribe to.
#[utoipa::path(get, path = "/api/v3/notification/webhooks/events", tag = "webhooks",
    summary = "Returns a list of available events that can be subscribed to via webhooks",
    responses((status = 200, description = "Registered and built-in event types", body = EventTypeListDocument, content_type = "application/vnd.api+json"), Guarded)
)]
pub async fn catalog(state: State<Context>, caller: Authenticated) -> Answer {
    list(state, caller).await
}

/// `GET /event_types`: registered and built-in types.
#[utoipa::path(get, path = "/api/v3/notification/event_types", tag = "event_types",
    summary = "List the event catalog",
    responses((status = 200, description = "Registered and built-in event types", body = EventTypeListDocument, content_type = "application/vnd.api+json"), Guarded)
)]
pub async fn list(State(context): State<Context>, Authenticated(caller): Authenticated) -> Answer {
    let context = &context;
    let registered = context.store.list_event_types(caller.account_id).await?;
    Ok(reply::document(200, &EventTypeListDocument { data: catalog_resources(&registered) }))
}

/// `POST /event_types`: 201, or 409 if the name is registered.
#[utoipa::path(post, path = "/api/v3/notification/event_types", tag = "event_types",
    summary = "Register an event type",
    request_body(content = EventTypeInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "Registered", body = EventTypeDocument, content_type = "application/vnd.api+json"), DocumentRefusals, Guarded)
)]
pub async fn create(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Document(document): Document,
) -> Answer {
    let context = &context;
    let kind = event_types::parse_create(&document, caller.account_id, chrono::Utc::now())?;
    context.store.create_event_type(&kind).await.map_err(|error| match error {
        Error::Conflict(_) => Error::Conflict(format!("the event type {} is registered already", kind.name)),
        other => other,
    })?;
    let resource = event_types::resource(&kind.name, &kind.description, kind.schema.as_ref(), Some(kind.created_at));
    let mut response = reply::document(201, &EventTypeDocument { data: resource });
    if let Ok(location) = http::HeaderValue::from_str(&format!("/api/v3/notification/event_types/{}", kind.name)) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    Ok(response)
}

/// `DELETE /event_types/:name`: 204. Webhooks subscribed to it keep their subscription.
#[utoipa::path(delete, path = "/api/v3/notification/event_types/{name}", tag = "event_types",
    summary = "Remove an event type",
    params(("name" = String, Path, description = "The event type")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such event type in this account", body = ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 409, description = "A built-in event type", body = ErrorDocument, content_type = "application/vnd.api+json"),
        Guarded,
    )
)]
pub async fn delete(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Answer {
    let context = &context;
    if is_built_in(&name) {
        return Err(ApiError::from(Error::Conflict(format!("{name} is built in and cannot be removed"))));
    }
    if !context.store.delete_event_type(caller.account_id, &name).await? {
        return Err(ApiError::from(Error::not_found("event type")));
    }
    Ok(http::Response::builder().status(204).body(String::new()).unwrap_or_default())
}
