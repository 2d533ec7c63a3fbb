//! The event catalog: the platform's own (`/api/v3/event_types`, operator keys only: any other
//! key gets 404) and how accounts read it (`/api/v3/notification/event_types` and seed 003's
//! `/api/v3/notification/webhooks/events`).

use crate::openapi::{DocumentRefusals, Guarded, PlatformGuarded};
use crate::reply;
use axum::extract::{Path, State};
use hookline_aws::Context;
use hookline_domain::documents::{ErrorDocument, EventTypeDocument, EventTypeInputDocument, EventTypeListDocument};
use hookline_domain::event_types::{self, Catalog, PATH, built_in_resource, is_built_in};
use hookline_domain::{Error, Result};
use hookline_web::{Answer, ApiError, Authenticated, Document, Operator};

// Each operation names its own `operation_id`: a handler's name (`show`, `patch`, ...) is
// another module's too, and a client (schemathesis' links among them) finds operations by it.

/// Tries of a patch that races other writers before it answers 409.
const PATCH_TRIES: u32 = 5;

/// The catalog: the platform's registered types and the built-in ones, by name.
async fn catalog_document(context: &Context) -> Result<EventTypeListDocument> {
    Ok(EventTypeListDocument { data: Catalog::new(context.store.list_event_types().await?).resources() })
}

/// 409 for a built-in type, which no key changes.
fn refuse_built_in(name: &str) -> Result<()> {
    if is_built_in(name) {
        return Err(Error::Conflict(format!("{name} is built in: Hookline defines it")));
    }
    Ok(())
}

/// `GET /webhooks/events` (seed 003): the types the account can subscribe to.
#[utoipa::path(get, path = "/api/v3/notification/webhooks/events", tag = "webhooks", operation_id = "list_webhook_events",
    summary = "Returns a list of available events that can be subscribed to via webhooks",
    description = "The platform's event catalog and the built-in types, by name, with their payload schemas and examples. A deprecated type is still published, but no webhook may newly subscribe to it.",
    responses((status = 200, description = "The platform's and the built-in event types", body = EventTypeListDocument, content_type = "application/vnd.api+json"), Guarded)
)]
pub async fn catalog(State(context): State<Context>, _caller: Authenticated) -> Answer {
    Ok(reply::document(200, &catalog_document(&context).await?))
}

/// `GET /event_types`: the catalog, as the account sees it.
#[utoipa::path(get, path = "/api/v3/notification/event_types", tag = "event_types", operation_id = "list_event_catalog",
    summary = "List the event catalog",
    description = "The platform's event catalog and the built-in types, by name. Accounts read it; the platform writes it at /api/v3/event_types.",
    responses((status = 200, description = "The platform's and the built-in event types", body = EventTypeListDocument, content_type = "application/vnd.api+json"), Guarded)
)]
pub async fn list(State(context): State<Context>, _caller: Authenticated) -> Answer {
    Ok(reply::document(200, &catalog_document(&context).await?))
}

/// `GET /api/v3/event_types`: the platform's catalog, built-in types included.
#[utoipa::path(get, path = "/api/v3/event_types", tag = "event_types", operation_id = "list_event_types",
    summary = "List the platform's event catalog",
    responses((status = 200, description = "Registered and built-in event types, by name", body = EventTypeListDocument, content_type = "application/vnd.api+json"), PlatformGuarded)
)]
pub async fn platform_list(State(context): State<Context>, _operator: Operator) -> Answer {
    Ok(reply::document(200, &catalog_document(&context).await?))
}

/// `POST /api/v3/event_types`: 201, or 409 if the name is registered.
#[utoipa::path(post, path = "/api/v3/event_types", tag = "event_types", operation_id = "create_event_type",
    summary = "Register an event type in the platform's catalog",
    description = "Every account may then publish it and subscribe to it. A `schema` (a JSON Schema) is checked against its meta-schema, an `example` against the schema; every published payload must validate against it (422 pointing at the failing member).",
    request_body(content = EventTypeInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "Registered; `Location` names it", body = EventTypeDocument, content_type = "application/vnd.api+json"), DocumentRefusals, PlatformGuarded)
)]
pub async fn create(State(context): State<Context>, _operator: Operator, Document(document): Document) -> Answer {
    let kind = event_types::parse_create(&document, chrono::Utc::now())?;
    context.store.create_event_type(&kind).await.map_err(|error| match error {
        Error::Conflict(_) => Error::Conflict(format!("the event type {} is registered already", kind.name)),
        other => other,
    })?;
    let response = reply::with_location(
        reply::document(201, &EventTypeDocument { data: event_types::resource(&kind) }),
        &format!("{PATH}/{}", kind.name),
    );
    Ok(response)
}

/// `GET /api/v3/event_types/{name}`: a registered or built-in type.
#[utoipa::path(get, path = "/api/v3/event_types/{name}", tag = "event_types", operation_id = "show_event_type",
    summary = "An event type of the platform's catalog",
    params(("name" = String, Path, description = "The event type")),
    responses((status = 200, description = "The event type", body = EventTypeDocument, content_type = "application/vnd.api+json"), PlatformGuarded)
)]
pub async fn show(State(context): State<Context>, _operator: Operator, Path(name): Path<String>) -> Answer {
    let resource = match built_in_resource(&name) {
        Some(resource) => resource,
        None => {
            let kind = context.store.get_event_type(&name).await?.ok_or_else(|| Error::not_found("event type"))?;
            event_types::resource(&kind)
        }
    };
    Ok(reply::document(200, &EventTypeDocument { data: resource }))
}

/// `PATCH /api/v3/event_types/{name}`: description, group, schema, example, deprecated.
#[utoipa::path(patch, path = "/api/v3/event_types/{name}", tag = "event_types", operation_id = "patch_event_type",
    summary = "Change an event type of the platform's catalog",
    description = "Attributes left out are kept; null removes `schema` or `example`. The example (given or kept) must validate against the schema (given or kept). Deprecating a type keeps it publishable and keeps the subscriptions webhooks have; no webhook may newly subscribe to it. A built-in type cannot change (409).",
    params(("name" = String, Path, description = "The event type")),
    request_body(content = EventTypeInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 200, description = "The event type as changed", body = EventTypeDocument, content_type = "application/vnd.api+json"), DocumentRefusals, PlatformGuarded)
)]
pub async fn patch(
    State(context): State<Context>,
    _operator: Operator,
    Path(name): Path<String>,
    Document(document): Document,
) -> Answer {
    refuse_built_in(&name)?;
    for _ in 0..PATCH_TRIES {
        let current = context.store.get_event_type(&name).await?.ok_or_else(|| Error::not_found("event type"))?;
        let changed = event_types::parse_patch(&document, &current, chrono::Utc::now())?;
        match context.store.update_event_type(&changed).await {
            Ok(()) => return Ok(reply::document(200, &EventTypeDocument { data: event_types::resource(&changed) })),
            Err(Error::Conflict(_)) => continue,
            Err(error) => return Err(ApiError::from(error)),
        }
    }
    Err(ApiError::from(Error::Conflict("the event type is being changed by other requests; try again".into())))
}

/// `DELETE /api/v3/event_types/{name}`: 204. Webhooks subscribed to it keep their subscription;
/// publishing it is refused until it is registered again.
#[utoipa::path(delete, path = "/api/v3/event_types/{name}", tag = "event_types", operation_id = "delete_event_type",
    summary = "Remove an event type from the platform's catalog",
    params(("name" = String, Path, description = "The event type")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "A built-in event type", body = ErrorDocument, content_type = "application/vnd.api+json"),
        PlatformGuarded,
    )
)]
pub async fn delete(State(context): State<Context>, _operator: Operator, Path(name): Path<String>) -> Answer {
    refuse_built_in(&name)?;
    if !context.store.delete_event_type(&name).await? {
        return Err(ApiError::from(Error::not_found("event type")));
    }
    Ok(http::Response::builder().status(204).body(String::new()).unwrap_or_default())
}
