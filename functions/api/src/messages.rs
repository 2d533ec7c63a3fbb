//! The message log: `/api/v3/notification/messages` (cursor pages) and one message with its deliveries.

use crate::openapi::{BadQuery, Guarded};
use crate::reply;
use axum::extract::{Path, RawQuery, State};
use hookline_aws::{Context, LogFilter};
use hookline_domain::documents::{CursorLinks, ErrorDocument, MessageDocument, MessageListDocument, MessageResource};
use hookline_domain::messages::{self, message_document, message_resource};
use hookline_domain::model::{Environment, LogEntry};
use hookline_domain::query::{Filter, QuerySpec, cursor_link, parse_query};
use hookline_domain::{Error, Problem};
use hookline_web::{Answer, Authenticated};
use serde_json::json;

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

fn time(name: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    chrono::DateTime::parse_from_rfc3339(value).map(|at| at.with_timezone(&chrono::Utc)).map_err(|_| {
        Error::BadRequest(Problem::param(format!("filter[{name}]"), "invalid_timestamp", "an RFC 3339 timestamp"))
    })
}

fn message_filter(filters: &[(String, Filter)]) -> Result<LogFilter, Error> {
    let mut filter = LogFilter::default();
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
            "status" => {
                filter.status = Some(serde_json::from_value(json!(value)).map_err(|_| {
                    Error::bad_param(
                        "filter[status]",
                        "invalid_filter",
                        "one of pending, succeeded, failed, refused, cancelled",
                    )
                })?);
            }
            _ => {}
        }
    }
    Ok(filter)
}

/// Narrows `filter` to the retention horizon: nothing older is kept, so the walk back
/// through the log's days stops there.
pub fn within_retention(context: &Context, mut filter: LogFilter) -> LogFilter {
    let horizon = chrono::Utc::now() - chrono::Duration::days(i64::from(context.settings.retention_days) + 1);
    filter.after = Some(filter.after.map_or(horizon, |after| after.max(horizon)));
    filter
}

/// The log entries of a message of `account`; 404 if it has none (no such message, not yet
/// in the log, or not a message id: the store finds nothing for those).
pub async fn entries_of(context: &Context, account: u64, id: &str) -> Result<Vec<LogEntry>, Error> {
    let entries = context.store.message_entries(account, id).await?;
    if entries.is_empty() {
        return Err(Error::not_found("message"));
    }
    Ok(entries)
}

/// The deliveries recorded in a message's entries.
pub fn deliveries(entries: &[LogEntry]) -> Vec<hookline_domain::model::Delivery> {
    entries.iter().filter_map(LogEntry::delivery).collect()
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
        (status = 200, description = "A page of messages (without payloads)", body = MessageListDocument, content_type = "application/vnd.api+json"),
        BadQuery, Guarded,
    )
)]
pub async fn list(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    RawQuery(raw): RawQuery,
) -> Answer {
    let context = &context;
    let raw = raw.as_deref();
    let list_query = parse_query(raw, &LIST)?;
    let filter = within_retention(context, message_filter(&list_query.filters)?);
    let page = context
        .store
        .page_log(caller.account_id, &filter, list_query.page_size as usize, list_query.cursor.as_deref())
        .await?;
    let next = page.next_cursor.as_deref().map(|cursor| cursor_link(PATH, raw, cursor));
    let data: Vec<MessageResource> = page
        .items
        .iter()
        .filter_map(|entries| entries.first())
        .map(|entry| message_resource(&entry.message, false))
        .collect();
    let this = raw.map_or_else(|| PATH.to_string(), |raw| format!("{PATH}?{raw}"));
    Ok(reply::document(200, &MessageListDocument { data, links: CursorLinks { self_: this, next } }))
}

/// `GET /messages/{id}`: the message, its payload, and its deliveries in `included`.
#[utoipa::path(get, path = "/api/v3/notification/messages/{id}", tag = "messages",
    summary = "A message with its deliveries",
    params(("id" = String, Path, description = "The message id, msg_…")),
    responses(
        (status = 200, description = "The message and its deliveries", body = MessageDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such message in this account (expired, or not yet in the log: a message enters it with its first attempts)", body = ErrorDocument, content_type = "application/vnd.api+json"),
        Guarded,
    )
)]
pub async fn show(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Answer {
    let context = &context;
    let entries = entries_of(context, caller.account_id, &id).await?;
    let first = entries.first().ok_or_else(|| Error::not_found("message"))?;
    Ok(reply::document(200, &message_document(&first.message, &deliveries(&entries))))
}
