//! Erasure: `DELETE /messages/{id}/payload` (one message, by its account) and erasures by
//! subject (`/api/v3/accounts/{uid}/erasures`, by the platform), jobs that can be polled.

use crate::accounts::account;
use crate::openapi::{DocumentRefusals, Guarded, PlatformGuarded};
use crate::reply;
use axum::extract::{Path, State};
use hookline_aws::Context;
use hookline_domain::documents::{ErasureDocument, ErasureInputDocument, ErrorDocument};
use hookline_domain::model::Message;
use hookline_domain::{Error, erasures};
use hookline_web::{Answer, ApiError, Authenticated, Document, Operator};

/// How old a message with nothing in the log may be and still be erased: its first attempts
/// may wait in the queue (which keeps a task 14 days) before its entries are written.
const QUEUED_FOR_DAYS: i64 = 14;

/// `DELETE /messages/{id}/payload`: removes the payload from every entry of the message (its
/// metadata and attempts stay, marked erased), and cancels its deliveries still queued. 204.
#[utoipa::path(delete, path = "/api/v3/notification/messages/{id}/payload", tag = "messages",
    summary = "Erase a message's payload",
    description = "Removes the payload (and the subject, and the attempts' response bodies, which may echo it) from every entry of the message; its metadata and attempts stay, with `payload_erased_at`. Its deliveries not yet sent are cancelled. Deliveries already being sent when it lands may complete; a sweep erases again what they record.",
    params(("id" = String, Path, description = "The message id, msg_…")),
    responses(
        (status = 204, description = "Erased"),
        (status = 404, description = "No such message in this account", body = ErrorDocument, content_type = "application/vnd.api+json"),
        Guarded,
    )
)]
pub async fn erase_payload(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Answer {
    let context = &context;
    let made = Message::time_of(&id).ok_or_else(|| Error::not_found("message"))?;
    let known = !context.store.message_entries(caller.account_id, &id).await?.is_empty();
    let queued = chrono::Utc::now() - made < chrono::Duration::days(QUEUED_FOR_DAYS);
    if !known && !queued {
        return Err(ApiError::from(Error::not_found("message")));
    }
    let erased = context.eraser().erase_message(caller.account_id, &id).await?;
    tracing::info!(account_id = caller.account_id, message_id = %id, entries = erased, "message payload erased");
    Ok(crate::accounts::no_content())
}

/// `POST /api/v3/accounts/{uid}/erasures`: erases the payloads of every message of the account
/// about `subject`. 202 with the job; poll it until `done`.
#[utoipa::path(post, path = "/api/v3/accounts/{uid}/erasures", tag = "platform",
    summary = "Erase everything about a subject",
    description = "Erases the payloads of the account's messages whose events carried this `subject` (accepted before the request), and cancels their deliveries not yet sent. Runs in the background: the job says how many messages it erased, and is `done` once nothing of them is readable and no delivery in flight can record it again.",
    params(("uid" = String, Path, description = "The account's uid")),
    request_body(content = ErasureInputDocument, content_type = "application/vnd.api+json"),
    responses(
        (status = 202, description = "Started; `Location` names the job", body = ErasureDocument, content_type = "application/vnd.api+json"),
        DocumentRefusals, PlatformGuarded,
    )
)]
pub async fn create(
    State(context): State<Context>,
    _operator: Operator,
    Path(uid): Path<String>,
    Document(document): Document,
) -> Answer {
    let subject = erasures::parse_request(&document)?;
    let account = account(&context.store, &uid).await?;
    let erasure = context.eraser().start(account.id, &subject).await?;
    tracing::info!(account_id = account.id, erasure_id = %erasure.id, "erasure by subject started");
    let location = erasures::self_link(&uid, &erasure.id);
    Ok(reply::with_location(reply::document(202, &erasures::document(&uid, &erasure)), &location))
}

/// `GET /api/v3/accounts/{uid}/erasures/{id}`: the job.
#[utoipa::path(get, path = "/api/v3/accounts/{uid}/erasures/{id}", tag = "platform",
    summary = "An erasure: running, or done and how many messages it erased",
    params(("uid" = String, Path, description = "The account's uid"), ("id" = String, Path, description = "The erasure id, ers_…")),
    responses(
        (status = 200, description = "The job", body = ErasureDocument, content_type = "application/vnd.api+json"),
        (status = 404, description = "No such account, or no such erasure of it", body = ErrorDocument, content_type = "application/vnd.api+json"),
        PlatformGuarded,
    )
)]
pub async fn show(
    State(context): State<Context>,
    _operator: Operator,
    Path((uid, id)): Path<(String, String)>,
) -> Answer {
    let account = account(&context.store, &uid).await?;
    let erasure =
        context.store.get_erasure(account.id, &id).await?.ok_or_else(|| ApiError::from(Error::not_found("erasure")))?;
    Ok(reply::document(200, &erasures::document(&uid, &erasure)))
}
