//! The delivery log and its actions: attempts of a webhook or a message, manual retry,
//! recovery of a webhook's failed deliveries, the test send.

use crate::request::{caller, json_body, query};
use hookline_aws::Page;
use hookline_aws::queue::Outgoing;
use hookline_delivery::worker::{Deliverer, describe, test_send as send_test};
use hookline_domain::http::json_response;
use hookline_domain::messages::attempt_resource;
use hookline_domain::model::{Attempt, AttemptOutcome, DeliverTask, DeliveryStatus, Message, Task};
use hookline_domain::query::{Filter, QuerySpec, cursor_link, parse_query};
use hookline_domain::{Error, Problem};
use lambda_http::Request;
use serde_json::{Value, json};
use std::collections::BTreeSet;

type Response = http::Response<String>;

const ATTEMPTS: QuerySpec = QuerySpec {
    resource_type: hookline_domain::messages::ATTEMPT_TYPE,
    sortable: &[],
    filterable: &["status"],
    fields: &[],
    cursor: true,
    default_size: 50,
    max_size: 250,
};

/// The statuses a delivery may be retried from.
const RETRYABLE: &[DeliveryStatus] = &[DeliveryStatus::Failed, DeliveryStatus::Refused, DeliveryStatus::Cancelled];

fn outcome_filter(filters: &[(String, Filter)]) -> Result<Option<AttemptOutcome>, Error> {
    let Some((_, Filter::Equals(value))) = filters.iter().find(|(name, _)| name == "status") else { return Ok(None) };
    serde_json::from_value(json!(value)).map(Some).map_err(|_| {
        Error::bad_param(
            "filter[status]",
            "invalid_filter",
            "one of success, http_error, timeout, connection_error, refused",
        )
    })
}

fn attempts_document(path: &str, raw: Option<&str>, page: Page<Attempt>) -> Value {
    let next = page.next_cursor.as_deref().map(|cursor| cursor_link(path, raw, cursor));
    json!({ "data": page.items.iter().map(attempt_resource).collect::<Vec<_>>(), "links": { "next": next } })
}

async fn message_of(deliverer: &Deliverer, account: u64, id: &str) -> Result<Message, Error> {
    if !id.starts_with("msg_") || id.len() > 64 {
        return Err(Error::not_found("message"));
    }
    deliverer.context.store.get_message(account, id).await?.ok_or_else(|| Error::not_found("message"))
}

/// `GET /webhooks/{id}/attempts`: newest first; `filter[status]`, cursor pages.
#[utoipa::path(get, path = "/api/v3/notification/webhooks/{id}/attempts", tag = "webhooks",
    summary = "The attempts made to deliver to a webhook, newest first",
    params(("id" = u64, Path, description = "The webhook id"),
        ("page[size]" = Option<u32>, Query, description = "Attempts per page: default 50, at most 250"),
        ("page[cursor]" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("filter[status]" = Option<String>, Query, description = "success, http_error, timeout, connection_error or refused")),
    responses(
        (status = 200, description = "A page of attempts", body = crate::openapi::AttemptListDocument, content_type = "application/vnd.api+json"),
        (status = 400, description = "Bad query parameter", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 401, description = "Missing or unknown API key", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such webhook", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
    )
)]
pub async fn webhook_attempts(deliverer: &Deliverer, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&deliverer.context.store, request).await?;
    let raw = query(request);
    let list = parse_query(raw, &ATTEMPTS)?;
    let outcome = outcome_filter(&list.filters)?;
    let store = &deliverer.context.store;
    store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))?;
    let page = store
        .page_webhook_attempts_filtered(
            caller.account_id,
            id,
            None,
            outcome,
            list.page_size as i32,
            list.cursor.as_deref(),
        )
        .await?;
    Ok(json_response(200, &attempts_document(&format!("/api/v3/notification/webhooks/{id}/attempts"), raw, page)))
}

/// `GET /messages/{id}/attempts`: by webhook then number; `filter[status]`, cursor pages.
#[utoipa::path(get, path = "/api/v3/notification/messages/{id}/attempts", tag = "messages",
    summary = "The attempts made to deliver a message",
    params(("id" = String, Path, description = "The message id"),
        ("page[size]" = Option<u32>, Query, description = "Attempts per page: default 50, at most 250"),
        ("page[cursor]" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("filter[status]" = Option<String>, Query, description = "success, http_error, timeout, connection_error or refused")),
    responses(
        (status = 200, description = "A page of attempts", body = crate::openapi::AttemptListDocument, content_type = "application/vnd.api+json"),
        (status = 400, description = "Bad query parameter", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 401, description = "Missing or unknown API key", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such message", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
    )
)]
pub async fn message_attempts(deliverer: &Deliverer, request: &Request, id: &str) -> Result<Response, Error> {
    let caller = caller(&deliverer.context.store, request).await?;
    let raw = query(request);
    let list = parse_query(raw, &ATTEMPTS)?;
    let outcome = outcome_filter(&list.filters)?;
    let message = message_of(deliverer, caller.account_id, id).await?;
    let page = deliverer
        .context
        .store
        .page_message_attempts(&message.id, outcome, list.page_size as i32, list.cursor.as_deref())
        .await?;
    Ok(json_response(200, &attempts_document(&format!("/api/v3/notification/messages/{id}/attempts"), raw, page)))
}

/// Reopens deliveries and enqueues one more attempt of each; returns how many.
async fn reopen(deliverer: &Deliverer, message: &Message, webhooks: &[u64]) -> Result<usize, Error> {
    let store = &deliverer.context.store;
    let mut tasks = Vec::new();
    for &webhook_id in webhooks {
        let Some(delivery) = store.get_delivery(&message.id, webhook_id).await? else { continue };
        if RETRYABLE.contains(&delivery.status) && store.reopen_delivery(&message.id, webhook_id, RETRYABLE).await? {
            tasks.push(Outgoing::now(Task::Deliver(DeliverTask {
                account_id: message.account_id,
                message_id: message.id.clone(),
                webhook_id,
                attempt: delivery.attempts + 1,
                not_before: None,
            })));
        }
    }
    deliverer.context.queue.send(&tasks).await?;
    Ok(tasks.len())
}

/// `POST /messages/{id}/retry`: one more try of one webhook's delivery (`{"webhook_id": n}`),
/// or of every failed, refused or cancelled delivery of the message (empty body).
#[utoipa::path(post, path = "/api/v3/notification/messages/{id}/retry", tag = "messages",
    summary = "Retry a message's failed deliveries",
    params(("id" = String, Path, description = "The message id")),
    request_body(content = Option<crate::openapi::RetryRequest>, content_type = "application/json"),
    responses(
        (status = 202, description = "How many deliveries were enqueued again", body = crate::openapi::ActionResult, content_type = "application/vnd.api+json"),
        (status = 400, description = "Malformed JSON", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 401, description = "Missing or unknown API key", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such message or delivery", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 415, description = "Unsupported content type", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 422, description = "Invalid webhook_id", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
    )
)]
pub async fn retry(deliverer: &Deliverer, request: &Request, id: &str) -> Result<Response, Error> {
    let caller = caller(&deliverer.context.store, request).await?;
    let message = message_of(deliverer, caller.account_id, id).await?;
    let webhook = if request.body().is_empty() {
        None
    } else {
        match json_body(request)? {
            Value::Object(body) if body.is_empty() => None,
            Value::Object(body) => match body.get("webhook_id") {
                Some(Value::Number(number)) if number.as_u64().is_some() => number.as_u64(),
                _ => {
                    return Err(Error::invalid(
                        "/webhook_id",
                        "invalid_webhook_id",
                        "a webhook id (integer), or no body",
                    ));
                }
            },
            _ => return Err(Error::Invalid(vec![Problem::at("", "not_an_object", "a JSON object or no body")])),
        }
    };
    let store = &deliverer.context.store;
    let targets: Vec<u64> = match webhook {
        Some(webhook_id) => {
            store.get_delivery(&message.id, webhook_id).await?.ok_or_else(|| Error::not_found("delivery"))?;
            vec![webhook_id]
        }
        None => store.list_deliveries(&message.id).await?.iter().map(|delivery| delivery.webhook_id).collect(),
    };
    let enqueued = reopen(deliverer, &message, &targets).await?;
    Ok(json_response(
        202,
        &json!({ "data": { "type": "retries", "id": message.id, "attributes": { "enqueued": enqueued } } }),
    ))
}

/// `POST /webhooks/{id}/recover` with `{"since": "<RFC 3339>"}`: one more try of each of
/// its deliveries that failed since then (found through its attempts, newest index first).
#[utoipa::path(post, path = "/api/v3/notification/webhooks/{id}/recover", tag = "webhooks",
    summary = "Re-send a webhook's failed deliveries since a time",
    params(("id" = u64, Path, description = "The webhook id")),
    request_body(content = crate::openapi::RecoverRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "How many deliveries were enqueued again", body = crate::openapi::ActionResult, content_type = "application/vnd.api+json"),
        (status = 400, description = "Malformed JSON", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 401, description = "Missing or unknown API key", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such webhook", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 415, description = "Unsupported content type", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 422, description = "Invalid `since`", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
    )
)]
pub async fn recover(deliverer: &Deliverer, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&deliverer.context.store, request).await?;
    let body = json_body(request)?;
    let since = body
        .get("since")
        .and_then(Value::as_str)
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&chrono::Utc))
        .ok_or_else(|| Error::invalid("/since", "invalid_timestamp", "`since` is an RFC 3339 timestamp"))?;
    let store = &deliverer.context.store;
    store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))?;
    let mut messages = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .page_webhook_attempts_filtered(caller.account_id, id, Some(since), None, 1000, cursor.as_deref())
            .await?;
        messages.extend(page.items.into_iter().map(|attempt| attempt.message_id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut enqueued = 0;
    for message_id in messages {
        if let Some(message) = store.get_message(caller.account_id, &message_id).await? {
            enqueued += reopen(deliverer, &message, &[id]).await?;
        }
    }
    Ok(json_response(
        202,
        &json!({ "data": { "type": "recoveries", "id": id.to_string(), "attributes": { "enqueued": enqueued } } }),
    ))
}

/// `POST /webhooks/test/{id}` (seed 003): sends a `webhook.test` event at once and answers
/// `{success, message}` with what the endpoint answered.
#[utoipa::path(post, path = "/api/v3/notification/webhooks/test/{id}", tag = "webhooks",
    summary = "Sends a test notification to the webhook to verify it's working correctly",
    params(("id" = u64, Path, description = "The webhook id")),
    responses(
        (status = 200, description = "What the endpoint answered", body = crate::openapi::TestResult, content_type = "application/json"),
        (status = 401, description = "Missing or unknown API key", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such webhook", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
        (status = 503, description = "A dependency is busy; retry", body = crate::openapi::ErrorDocument, content_type = "application/vnd.api+json"),
    )
)]
pub async fn test_send(deliverer: &Deliverer, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&deliverer.context.store, request).await?;
    let webhook =
        deliverer.context.store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))?;
    let outcome = send_test(deliverer, &webhook).await?;
    let body = json!({ "success": outcome.outcome == AttemptOutcome::Success, "message": describe(&outcome) });
    Ok(http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .unwrap_or_default())
}
