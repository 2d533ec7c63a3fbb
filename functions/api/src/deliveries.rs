//! The delivery log and its actions: attempts of a webhook or a message, manual retry,
//! recovery of a webhook's failed deliveries, the test send.

use crate::Deliverer;
use crate::messages::{entries_of, within_retention};
use crate::openapi::{ActionRefusals, BadQuery, Guarded, WebhookNotFound};
use crate::reply;
use axum::extract::{Path, RawQuery, State};
use hookline_aws::{Context, LogFilter};
use hookline_core::deliver::describe;
use hookline_core::log::retry_deliveries;
use hookline_domain::Error;
use hookline_domain::documents::{
    ActionResult, AttemptListDocument, ErrorDocument, NextLink, RecoverRequest, RetryRequest, TestResult,
};
use hookline_domain::messages::{self, attempt_resource};
use hookline_domain::model::{Attempt, AttemptOutcome, LogEntry};
use hookline_domain::query::{Filter, QuerySpec, cursor_link, parse_query};
use hookline_web::{Answer, ApiError, Authenticated, Document, OptionalDocument, WebhookId};
use serde_json::json;
use std::sync::Arc;

const ATTEMPTS: QuerySpec = QuerySpec {
    resource_type: hookline_domain::messages::ATTEMPT_TYPE,
    sortable: &[],
    filterable: &["status"],
    fields: &[],
    cursor: true,
    default_size: 50,
    max_size: 250,
};

fn outcome_filter(filters: &[(String, Filter)]) -> Result<Option<AttemptOutcome>, Error> {
    let Some((_, Filter::Equals(value))) = filters.iter().find(|(name, _)| name == "status") else { return Ok(None) };
    serde_json::from_value(json!(value)).map(Some).map_err(|_| {
        Error::bad_param(
            "filter[status]",
            "invalid_filter",
            "one of success, http_error, timeout, connection_error, refused, transformation_error",
        )
    })
}

/// A page of attempts: those of `entries` with `outcome` (all without), in the entries' order;
/// within an entry oldest first, or newest first with `newest_first`.
fn attempts_document(
    path: &str,
    raw: Option<&str>,
    entries: &[LogEntry],
    outcome: Option<AttemptOutcome>,
    newest_first: bool,
    next_cursor: Option<&str>,
) -> AttemptListDocument {
    let mut attempts: Vec<&Attempt> = Vec::new();
    for entry in entries {
        let kept = entry.attempts.iter().filter(|attempt| outcome.is_none_or(|outcome| attempt.outcome == outcome));
        if newest_first { attempts.extend(kept.rev()) } else { attempts.extend(kept) }
    }
    let next = next_cursor.map(|cursor| cursor_link(path, raw, cursor));
    AttemptListDocument { data: attempts.into_iter().map(attempt_resource).collect(), links: NextLink { next } }
}

/// `GET /webhooks/{id}/attempts`: newest first; `filter[status]`, cursor pages.
#[utoipa::path(get, path = "/api/v3/notification/webhooks/{id}/attempts", tag = "webhooks",
    summary = "The attempts made to deliver to a webhook, newest first",
    params(("id" = u64, Path, description = "The webhook id"),
        ("page[size]" = Option<u32>, Query, description = "Deliveries per page, each with all its attempts: default 50, at most 250"),
        ("page[cursor]" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("filter[status]" = Option<String>, Query, description = "success, http_error, timeout, connection_error, refused or transformation_error")),
    responses(
        (status = 200, description = "A page of attempts", body = AttemptListDocument, content_type = "application/vnd.api+json"),
        WebhookNotFound,
        BadQuery, Guarded,
    )
)]
pub async fn webhook_attempts(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
    RawQuery(raw): RawQuery,
) -> Answer {
    let raw = raw.as_deref();
    let list = parse_query(raw, &ATTEMPTS)?;
    let outcome = outcome_filter(&list.filters)?;
    let store = &context.store;
    store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))?;
    let filter = within_retention(&context, LogFilter { webhook_id: Some(id), ..LogFilter::default() });
    let page = store.page_log(caller.account_id, &filter, list.page_size as usize, list.cursor.as_deref()).await?;
    let entries: Vec<LogEntry> = page.items.into_iter().flatten().collect();
    let path = format!("/api/v3/notification/webhooks/{id}/attempts");
    Ok(reply::document(200, &attempts_document(&path, raw, &entries, outcome, true, page.next_cursor.as_deref())))
}

/// `GET /messages/{id}/attempts`: by webhook then number; `filter[status]`, cursor pages.
#[utoipa::path(get, path = "/api/v3/notification/messages/{id}/attempts", tag = "messages",
    summary = "The attempts made to deliver a message",
    params(("id" = String, Path, description = "The message id"),
        ("page[size]" = Option<u32>, Query, description = "Deliveries per page, each with all its attempts: default 50, at most 250"),
        ("page[cursor]" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("filter[status]" = Option<String>, Query, description = "success, http_error, timeout, connection_error, refused or transformation_error")),
    responses(
        (status = 200, description = "A page of attempts", body = AttemptListDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such message", body = ErrorDocument, content_type = "application/vnd.api+json"),
        BadQuery, Guarded,
    )
)]
pub async fn message_attempts(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let raw = raw.as_deref();
    let list = parse_query(raw, &ATTEMPTS)?;
    let outcome = outcome_filter(&list.filters)?;
    let page = context
        .store
        .page_message_entries(caller.account_id, &id, list.page_size as i32, list.cursor.as_deref())
        .await?;
    if page.items.is_empty() && list.cursor.is_none() {
        return Err(ApiError::from(Error::not_found("message")));
    }
    let path = format!("/api/v3/notification/messages/{id}/attempts");
    Ok(reply::document(200, &attempts_document(&path, raw, &page.items, outcome, false, page.next_cursor.as_deref())))
}

/// `POST /messages/{id}/retry`: one more try of one webhook's delivery (`{"webhook_id": n}`),
/// or of every failed, refused or cancelled delivery of the message (empty body).
#[utoipa::path(post, path = "/api/v3/notification/messages/{id}/retry", tag = "messages",
    summary = "Retry a message's failed deliveries",
    params(("id" = String, Path, description = "The message id")),
    request_body(content = Option<RetryRequest>, content_type = "application/json"),
    responses(
        (status = 202, description = "How many deliveries were enqueued again", body = ActionResult, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such message or delivery", body = ErrorDocument, content_type = "application/vnd.api+json"),
        ActionRefusals, Guarded,
    )
)]
pub async fn retry(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    Document(body): OptionalDocument,
) -> Answer {
    let entries = entries_of(&context, caller.account_id, &id).await?;
    let webhook = messages::parse_retry(&body)?;
    let targets: Vec<LogEntry> = match webhook {
        Some(webhook_id) => {
            let entry = entries.into_iter().find(|entry| entry.webhook_id == Some(webhook_id));
            vec![entry.ok_or_else(|| Error::not_found("delivery"))?]
        }
        None => entries,
    };
    let enqueued = retry_deliveries(&context.store, &context.queue, &targets).await?;
    Ok(reply::document(202, &ActionResult::new("retries", id, enqueued)))
}

/// `POST /webhooks/{id}/recover` with `{"since": "<RFC 3339>"}`: one more try of each of
/// its failed, refused or cancelled deliveries of messages accepted since then.
#[utoipa::path(post, path = "/api/v3/notification/webhooks/{id}/recover", tag = "webhooks",
    summary = "Re-send a webhook's failed deliveries since a time",
    params(("id" = u64, Path, description = "The webhook id")),
    request_body(content = RecoverRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "How many deliveries were enqueued again", body = ActionResult, content_type = "application/vnd.api+json"),
        ActionRefusals, WebhookNotFound, Guarded,
    )
)]
pub async fn recover(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
    Document(body): Document,
) -> Answer {
    let since = messages::parse_recover(&body)?;
    let store = &context.store;
    store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))?;
    let mut filter = LogFilter { webhook_id: Some(id), after: Some(since), ..LogFilter::default() };
    filter = within_retention(&context, filter);
    let mut enqueued = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = store.page_log(caller.account_id, &filter, 1000, cursor.as_deref()).await?;
        let entries: Vec<LogEntry> = page.items.into_iter().flatten().collect();
        enqueued += retry_deliveries(&context.store, &context.queue, &entries).await?;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(reply::document(202, &ActionResult::new("recoveries", id.to_string(), enqueued)))
}

/// `POST /webhooks/test/{id}` (seed 003): sends a `webhook.test` event at once and answers
/// `{success, message}` with what the endpoint answered.
#[utoipa::path(post, path = "/api/v3/notification/webhooks/test/{id}", tag = "webhooks",
    summary = "Sends a test notification to the webhook to verify it's working correctly",
    params(("id" = u64, Path, description = "The webhook id")),
    responses(
        (status = 200, description = "What the endpoint answered", body = TestResult, content_type = "application/json"),
        WebhookNotFound, Guarded,
    )
)]
pub async fn test_send(
    State(deliverer): State<Arc<Deliverer>>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
) -> Answer {
    let webhook =
        deliverer.store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))?;
    let outcome = deliverer.test_send(&webhook).await?;
    let result = TestResult { success: outcome.outcome == AttemptOutcome::Success, message: describe(&outcome) };
    Ok(reply::typed(200, "application/json", &result))
}
