//! The message log: `/api/v3/notification/messages` (cursor pages) and one message with its deliveries.

use crate::request::{caller, query};
use hookline_aws::{Context, MessageFilter};
use hookline_domain::http::json_response;
use hookline_domain::messages::{self, message_document, message_resource};
use hookline_domain::model::{DeliveryStatus, Environment};
use hookline_domain::query::{Filter, QuerySpec, cursor_link, parse_query};
use hookline_domain::{Error, Problem};
use lambda_http::Request;
use serde_json::{Value, json};

/// The collection's path.
pub const PATH: &str = "/api/v3/notification/messages";

const LIST: QuerySpec = QuerySpec {
    resource_type: messages::TYPE,
    sortable: &[],
    filterable: &["event_type", "environment", "after", "before", "status"],
    fields: &[],
    cursor: true,
    default_size: messages::DEFAULT_PAGE_SIZE,
    max_size: messages::MAX_PAGE_SIZE,
};

type Response = http::Response<String>;

fn time(name: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    chrono::DateTime::parse_from_rfc3339(value).map(|at| at.with_timezone(&chrono::Utc)).map_err(|_| {
        Error::BadRequest(Problem::param(format!("filter[{name}]"), "invalid_timestamp", "an RFC 3339 timestamp"))
    })
}

fn message_filter(filters: &[(String, Filter)]) -> Result<MessageFilter, Error> {
    let mut filter = MessageFilter::default();
    for (name, condition) in filters {
        let Filter::Equals(value) = condition else {
            return Err(Error::bad_param(format!("filter[{name}]"), "invalid_filter", "these filters take one value"));
        };
        match name.as_str() {
            "event_type" => filter.event_type = Some(value.clone()),
            "environment" => {
                filter.environment = Some(Environment::parse(value).ok_or_else(|| {
                    Error::bad_param("filter[environment]", "invalid_filter", "production or sandbox")
                })?);
            }
            "after" => filter.after = Some(time(name, value)?),
            "before" => filter.before = Some(time(name, value)?),
            // Applied to the page's deliveries in `list`.
            _ => {}
        }
    }
    Ok(filter)
}

fn delivery_status_filter(filters: &[(String, Filter)]) -> Result<Option<DeliveryStatus>, Error> {
    let Some((_, Filter::Equals(value))) = filters.iter().find(|(name, _)| name == "status") else { return Ok(None) };
    serde_json::from_value(json!(value)).map(Some).map_err(|_| {
        Error::bad_param("filter[status]", "invalid_filter", "one of pending, succeeded, failed, refused, cancelled")
    })
}

/// `GET /messages`: newest first; `page[size]`, `page[cursor]`, `filter[event_type|environment|after|before]`.
#[utoipa::path(get, path = "/api/v3/notification/messages", tag = "messages",
    summary = "The message log, newest first",
    params(
        ("page[size]" = Option<u32>, Query, description = "Messages per page: default 50, at most 250"),
        ("page[cursor]" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("filter[event_type]" = Option<String>, Query, description = "Only this event type"),
        ("filter[environment]" = Option<String>, Query, description = "production or sandbox"),
        ("filter[after]" = Option<String>, Query, description = "Accepted at or after this RFC 3339 time"),
        ("filter[before]" = Option<String>, Query, description = "Accepted before this RFC 3339 time"),
        ("filter[status]" = Option<String>, Query, description = "Messages with a delivery in this status: pending, succeeded, failed, refused or cancelled"),
    ),
    responses(
        (status = 200, description = "A page of messages (without payloads)", body = crate::openapi::MessageListDocument, content_type = "application/vnd.api+json"),
        (status = 400, description = "Bad query parameter", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 401, description = "Missing or unknown API key", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 503, description = "A dependency is busy; retry", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
    )
)]
pub async fn list(context: &Context, request: &Request) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let raw = query(request);
    let list_query = parse_query(raw, &LIST)?;
    let filter = message_filter(&list_query.filters)?;
    let status = delivery_status_filter(&list_query.filters)?;
    let mut page = context
        .store
        .page_messages_filtered(caller.account_id, &filter, list_query.page_size as i32, list_query.cursor.as_deref())
        .await?;
    if let Some(status) = status {
        // A message has no single status: it matches when one of its deliveries has it.
        let mut kept = Vec::with_capacity(page.items.len());
        for message in page.items {
            let deliveries = context.store.list_deliveries(&message.id).await?;
            if deliveries.iter().any(|delivery| delivery.status == status) {
                kept.push(message);
            }
        }
        page.items = kept;
    }
    let next = page.next_cursor.as_deref().map(|cursor| cursor_link(PATH, raw, cursor));
    let data: Vec<Value> = page.items.iter().map(|message| message_resource(message, false)).collect();
    let this = raw.map_or_else(|| PATH.to_string(), |raw| format!("{PATH}?{raw}"));
    Ok(json_response(200, &json!({ "data": data, "links": { "self": this, "next": next } })))
}

/// `GET /messages/{id}`: the message, its payload, and its deliveries in `included`.
#[utoipa::path(get, path = "/api/v3/notification/messages/{id}", tag = "messages",
    summary = "A message with its deliveries",
    params(("id" = String, Path, description = "The message id, msg_…")),
    responses(
        (status = 200, description = "The message and its deliveries", body = crate::openapi::MessageDocument, content_type = "application/vnd.api+json"),
        (status = 401, description = "Missing or unknown API key", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such message in this account (or expired)", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 503, description = "A dependency is busy; retry", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
    )
)]
pub async fn show(context: &Context, request: &Request, id: &str) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    if !id.starts_with("msg_") || id.len() > 64 {
        return Err(Error::not_found("message"));
    }
    let message = context.store.get_message(caller.account_id, id).await?.ok_or_else(|| Error::not_found("message"))?;
    let deliveries = context.store.list_deliveries(&message.id).await?;
    Ok(json_response(200, &message_document(&message, &deliveries)))
}
