//! Delivery health: a webhook's stats (its account's callers) and an account's (the
//! platform's operator keys), over `window` = `1h`, `24h` (default) or `7d`.
//!
//! Computed when asked, from the log: a bounded read of the window's day partitions
//! (`Store::read_log_window`, at most `MAX_ENTRIES_READ` entries in `MAX_QUERIES` queries),
//! aggregated by `hookline_domain::stats::aggregate`. Nothing is written on the delivery path
//! for them, so the cost per delivered webhook is unchanged; each request pays its reads (see
//! `hookline_domain::stats` for the trade-off and its figures).

use crate::openapi::{BadQuery, Guarded, PlatformGuarded, WebhookNotFound};
use crate::reply;
use axum::extract::{Path, RawQuery, State};
use hookline_aws::{Context, LogFilter};
use hookline_domain::Error;
use hookline_domain::documents::StatsDocument;
use hookline_domain::model::{AccountId, WebhookId as Id};
use hookline_domain::stats::{
    ACCOUNT_STATS_TYPE, LogSample, MAX_ENTRIES_READ, MAX_QUERIES, Span, WEBHOOK_STATS_TYPE, parse_stats_query,
    stats_document,
};
use hookline_web::{Answer, Authenticated, Operator, WebhookId};

/// The log of `account` over `span`, of one webhook's deliveries or all of them, read within
/// the bounds.
async fn sample(context: &Context, account: AccountId, webhook: Option<Id>, span: &Span) -> Result<LogSample, Error> {
    let filter =
        LogFilter { webhook_id: webhook, after: Some(span.start), before: Some(span.end), ..LogFilter::default() };
    context.store.read_log_window(account, &filter, MAX_ENTRIES_READ, MAX_QUERIES).await
}

/// `GET /webhooks/{id}/stats?window=`.
#[utoipa::path(get, path = "/api/v3/notification/webhooks/{id}/stats", tag = "webhooks",
    summary = "A webhook's delivery health over a window",
    description = "Deliveries of the messages accepted in the window, by status; the success rate; the attempts' latency percentiles; the last success and failure. Computed from the log when asked, reading at most 20,000 of the webhook's own log entries: `meta.truncated` says when the figures stop at `meta.covered_from`.",
    params(("id" = u64, Path, description = "The webhook id"),
        ("window" = Option<String>, Query, description = "1h, 24h (default) or 7d", pattern = "^(1h|24h|7d)$")),
    responses(
        (status = 200, description = "The webhook's stats", body = StatsDocument, content_type = "application/vnd.api+json"),
        WebhookNotFound,
        BadQuery, Guarded,
    )
)]
pub async fn webhook(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
    RawQuery(raw): RawQuery,
) -> Answer {
    let window = parse_stats_query(raw.as_deref())?;
    context.store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))?;
    let span = Span::ending(window, chrono::Utc::now());
    let sample = sample(&context, caller.account_id, Some(id), &span).await?;
    let path = format!("/api/v3/notification/webhooks/{id}/stats");
    Ok(reply::document(200, &stats_document(WEBHOOK_STATS_TYPE, id.to_string(), &path, &span, &sample)))
}

/// `GET /api/v3/accounts/{uid}/stats?window=`.
#[utoipa::path(get, path = "/api/v3/accounts/{uid}/stats", tag = "platform",
    summary = "An account's delivery health over a window",
    description = "Deliveries of the account's messages accepted in the window, by status; the success rate; the attempts' latency percentiles; the last success and failure. Computed from the log when asked, reading at most 20,000 log entries: `meta.truncated` says when the figures stop at `meta.covered_from`.",
    params(("uid" = String, Path, description = "The account's uid"),
        ("window" = Option<String>, Query, description = "1h, 24h (default) or 7d", pattern = "^(1h|24h|7d)$")),
    responses(
        (status = 200, description = "The account's stats", body = StatsDocument, content_type = "application/vnd.api+json"),
        BadQuery, PlatformGuarded,
    )
)]
pub async fn account(
    State(context): State<Context>,
    _operator: Operator,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let window = parse_stats_query(raw.as_deref())?;
    let account = context.store.find_account_by_uid(&uid).await?.ok_or_else(|| Error::not_found("account"))?;
    let span = Span::ending(window, chrono::Utc::now());
    let sample = sample(&context, account.id, None, &span).await?;
    let path = format!("/api/v3/accounts/{uid}/stats");
    Ok(reply::document(200, &stats_document(ACCOUNT_STATS_TYPE, uid, &path, &span, &sample)))
}
