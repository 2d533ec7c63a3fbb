//! `/api/v3/notification/webhooks`: list, create, show, patch, delete, secret, test send.

use crate::openapi::{ActionRefusals, BadQuery, DocumentRefusals, Guarded, WebhookNotFound};
use crate::reply;
use axum::extract::{RawQuery, State};
use hookline_aws::Context;
use hookline_core::operational::{self, Operational};
use hookline_domain::Error;
use hookline_domain::auth::Caller;
use hookline_domain::documents::{
    ErrorDocument, ListMeta, PageMeta, RotateRequest, RotatedSecretAttributes, RotatedSecretDocument, SecretAttributes,
    SecretDocument, SecretResource, WebhookDocument, WebhookInputDocument, WebhookListDocument, WebhookResource,
};
use hookline_domain::event_types::Catalog;
use hookline_domain::model::{Webhook, WebhookStatus};
use hookline_domain::query::{QuerySpec, matches, open_page_links, page_links, paginate, parse_query, sort, sparse};
use hookline_domain::signing;
use hookline_domain::webhooks::{self, ATTRIBUTES, Rules, apply_changes, attributes, new_webhook, resource};
use hookline_web::{Answer, ApiError, Authenticated, Document, OptionalDocument, WebhookId};
use serde_json::Value;
use std::collections::BTreeSet;

/// The collection's path.
pub const PATH: &str = "/api/v3/notification/webhooks";

/// Tries of a patch that races other writers before it answers 409.
const PATCH_TRIES: u32 = 5;

const LIST: QuerySpec = QuerySpec {
    resource_type: webhooks::TYPE,
    sortable: ATTRIBUTES,
    filterable: &[
        "id",
        "account_id",
        "name",
        "url",
        "secret",
        "events",
        "scopes",
        "created_at",
        "updated_at",
        "environment",
        "status",
        "signature_algo",
    ],
    fields: ATTRIBUTES,
    cursor: false,
    default_size: hookline_domain::query::DEFAULT_PAGE_SIZE,
    max_size: hookline_domain::query::MAX_PAGE_SIZE,
};

const SHOW: QuerySpec = QuerySpec { sortable: &[], filterable: &[], ..LIST };

fn rules<'a>(context: &Context, caller: &Caller, catalog: &'a BTreeSet<String>) -> Rules<'a> {
    Rules { environment: caller.environment, allow_http: context.settings.allow_http_webhooks, catalog }
}

/// The platform's catalog, which every account subscribes against.
async fn account_catalog(context: &Context) -> Result<Catalog, Error> {
    Ok(Catalog::new(context.store.list_event_types().await?))
}

/// The caller's webhook `id` (404 when its account has none).
pub(crate) async fn find(context: &Context, caller: &Caller, id: u64) -> Result<Webhook, Error> {
    context.store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))
}

/// `GET /webhooks`: filter, sort, page, sparse fields, count, links (seed 003).
#[utoipa::path(get, path = "/api/v3/notification/webhooks", tag = "webhooks",
    summary = "Return a paginated list of notification/webhooks",
    description = "What a page costs: in id order with no filter and no `count`, the API reads only the webhooks up to the page's end (page 1 reads its page), and `links.last` is null; a `sort`, any `filter[…]` or `count=true` reads all of the account's webhooks.",
    params(
        ("page[number]" = Option<u32>, Query, description = "The page number, default 1"),
        ("page[size]" = Option<u32>, Query, description = "Items per page: default 1000, at most 1000"),
        ("sort" = Option<String>, Query, description = "Comma list of attributes, `-` for descending, e.g. `-created_at,name`"),
        ("count" = Option<bool>, Query, description = "Return the total number of items in `meta.total`"),
        ("filter[id]" = Option<String>, Query, description = "Exact match"),
        ("filter[account_id]" = Option<String>, Query, description = "Exact match"),
        ("filter[name]" = Option<String>, Query, description = "Exact match"),
        ("filter[url]" = Option<String>, Query, description = "Exact match"),
        ("filter[secret]" = Option<String>, Query, description = "Exact match"),
        ("filter[events]" = Option<String>, Query, description = "Exact match (contains, for `events`)"),
        ("filter[scopes]" = Option<String>, Query, description = "Exact match; `filter[scopes][key]=value` matches one scope"),
        ("filter[created_at]" = Option<String>, Query, description = "Exact match"),
        ("filter[updated_at]" = Option<String>, Query, description = "Exact match"),
        ("filter[environment]" = Option<String>, Query, description = "Exact match"),
        ("filter[status]" = Option<String>, Query, description = "Exact match"),
        ("filter[signature_algo]" = Option<String>, Query, description = "Exact match"),
        ("fields[webhooks]" = Option<String>, Query, description = "Comma list of attributes to return (sparse fieldset)"),
    ),
    responses((status = 200, description = "A page of webhooks", body = WebhookListDocument, content_type = "application/vnd.api+json"), BadQuery, Guarded)
)]
pub async fn list(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    RawQuery(raw): RawQuery,
) -> Answer {
    let context = &context;
    let raw = raw.as_deref();
    let list_query = parse_query(raw, &LIST)?;
    let size = list_query.page_size as usize;
    let skip = (list_query.page_number.max(1) as usize - 1).saturating_mul(size);
    // In id order, unfiltered and uncounted, a page needs only the webhooks up to its end;
    // any other list is filtered, sorted and counted over all of them.
    let reads_to_its_end = list_query.filters.is_empty() && list_query.sort.is_empty() && !list_query.count;
    let (items, meta, links) = if reads_to_its_end {
        let (webhooks, more) = context.store.first_webhooks(caller.account_id, skip.saturating_add(size)).await?;
        let items: Vec<_> = webhooks.iter().skip(skip).map(|webhook| attributes(webhook, true)).collect();
        (items, None, open_page_links(PATH, raw, &list_query, more))
    } else {
        let mut items: Vec<_> = context
            .store
            .list_webhooks(caller.account_id)
            .await?
            .iter()
            .map(|webhook| attributes(webhook, true))
            .filter(|attributes| matches(attributes, &list_query.filters))
            .collect();
        sort(&mut items, &list_query.sort);
        let page = paginate(items, &list_query);
        let meta = list_query.count.then_some(ListMeta {
            total: page.total,
            page: PageMeta { number: list_query.page_number, size: list_query.page_size, last: page.last_page },
        });
        (page.items, meta, page_links(PATH, raw, &list_query, page.last_page))
    };
    let data: Vec<WebhookResource> = items
        .into_iter()
        .map(|mut attributes| {
            let id = attributes["id"].as_u64().unwrap_or_default();
            let masked = webhooks::mask_secret(attributes["secret"].as_str().unwrap_or_default());
            attributes.insert("secret".into(), Value::String(masked));
            resource(id, sparse(attributes, list_query.fields.as_deref()))
        })
        .collect();
    Ok(reply::document(200, &WebhookListDocument { data, links, meta }))
}

/// Tells the platform `event_type` about `webhook` (once per `key`).
async fn tell(context: &Context, event_type: &'static str, webhook: &Webhook, key: &str) {
    let mut payload =
        serde_json::json!({ "webhook_id": webhook.id, "url": webhook.url, "environment": webhook.environment });
    if event_type == operational::WEBHOOK_DISABLED {
        payload["reason"] = serde_json::json!(webhook.disabled_reason);
    }
    let event = Operational {
        event_type,
        account_id: webhook.account_id,
        payload,
        idempotency_key: format!("{}:{key}", webhook.id),
    };
    context.publisher().tell(event).await;
}

/// Tells the platform a webhook changed, and whether it was disabled or enabled by it.
async fn tell_changes(context: &Context, before: &Webhook, after: &Webhook) {
    let version = after.version.to_string();
    tell(context, operational::WEBHOOK_UPDATED, after, &version).await;
    match (before.status, after.status) {
        (WebhookStatus::Enabled, WebhookStatus::Disabled) => {
            tell(context, operational::WEBHOOK_DISABLED, after, &version).await;
        }
        (WebhookStatus::Disabled, WebhookStatus::Enabled) => {
            tell(context, operational::WEBHOOK_ENABLED, after, &version).await;
        }
        _ => {}
    }
}

/// `POST /webhooks`: 201 with the secret in full and a `Location`.
#[utoipa::path(post, path = "/api/v3/notification/webhooks", tag = "webhooks",
    summary = "Create a new notification/webhooks",
    request_body(content = WebhookInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "Created; the secret in full; `Location` names it", body = WebhookDocument, content_type = "application/vnd.api+json"), DocumentRefusals, Guarded)
)]
pub async fn create(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    Document(document): Document,
) -> Answer {
    let context = &context;
    let catalog = account_catalog(context).await?;
    let changes = webhooks::parse_create(&document, &rules(context, &caller, &catalog.names()))?;
    catalog.check_new_subscriptions(changes.events.as_deref(), &[])?;
    crate::transformation::check(context, &changes).await?;
    let key_given = changes.secret.is_some();
    let now = chrono::Utc::now();
    // The id comes from a counter; the put is conditional, so a taken id (a counter that is
    // not atomic) costs one more try, never an overwrite.
    let mut created = None;
    for _ in 0..3 {
        let id = context.store.next_webhook_id(caller.account_id).await?;
        let mut webhook =
            new_webhook(id, caller.account_id, changes.clone(), caller.environment, caller.audit.clone(), now);
        webhooks::fit_key(&mut webhook, key_given)?;
        webhooks::check_ordering(&webhook)?;
        match context.store.create_webhook(&webhook).await {
            Ok(()) => {
                created = Some(webhook);
                break;
            }
            Err(Error::Conflict(_)) => continue,
            Err(error) => return Err(ApiError::from(error)),
        }
    }
    let webhook = created.ok_or_else(|| Error::Conflict("no free webhook id; try again".into()))?;
    let id = webhook.id;
    tracing::info!(account_id = caller.account_id, webhook_id = id, "webhook created");
    tell(context, operational::WEBHOOK_CREATED, &webhook, &webhook.version.to_string()).await;
    let response = reply::with_location(
        reply::document(201, &WebhookDocument { data: resource(id, attributes(&webhook, true)) }),
        &webhooks::self_link(id),
    );
    Ok(response)
}

/// `GET /webhooks/:id` with `fields[webhooks]`.
#[utoipa::path(get, path = "/api/v3/notification/webhooks/{id}", tag = "webhooks",
    summary = "Show a specific notification/webhooks",
    params(("id" = u64, Path, description = "The webhook id"), ("fields[webhooks]" = Option<String>, Query, description = "Comma list of attributes to return")),
    responses((status = 200, description = "The webhook, secret masked", body = WebhookDocument, content_type = "application/vnd.api+json"), BadQuery, WebhookNotFound, Guarded)
)]
pub async fn show(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
    RawQuery(raw): RawQuery,
) -> Answer {
    let context = &context;
    let show_query = parse_query(raw.as_deref(), &SHOW)?;
    let webhook = find(context, &caller, id).await?;
    let attributes = sparse(attributes(&webhook, false), show_query.fields.as_deref());
    Ok(reply::document(200, &WebhookDocument { data: resource(id, attributes) }))
}

/// `PATCH /webhooks/:id`: partial; re-applied on a fresh read when another writer won the
/// race, so that neither change is lost; 409 only if the race persists.
#[utoipa::path(patch, path = "/api/v3/notification/webhooks/{id}", tag = "webhooks",
    summary = "Update a notification/webhooks",
    params(("id" = u64, Path, description = "The webhook id")),
    request_body(content = WebhookInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 200, description = "The updated webhook", body = WebhookDocument, content_type = "application/vnd.api+json"), DocumentRefusals, WebhookNotFound, Guarded)
)]
pub async fn patch(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
    Document(document): Document,
) -> Answer {
    let context = &context;
    let catalog = match document.pointer("/data/attributes/events") {
        Some(_) => Some(account_catalog(context).await?),
        None => None,
    };
    let names = catalog.as_ref().map(Catalog::names).unwrap_or_default();
    let changes = webhooks::parse_patch(&document, id, &rules(context, &caller, &names))?;
    crate::transformation::check(context, &changes).await?;
    for _ in 0..PATCH_TRIES {
        let current = find(context, &caller, id).await?;
        if let Some(catalog) = &catalog {
            catalog.check_new_subscriptions(changes.events.as_deref(), &current.events)?;
        }
        let mut next = apply_changes(&current, &changes, caller.audit.clone(), chrono::Utc::now());
        webhooks::fit_key(&mut next, changes.secret.is_some())?;
        webhooks::check_ordering(&next)?;
        match context.store.update_webhook(&next).await {
            Ok(()) => {
                tell_changes(context, &current, &next).await;
                return Ok(reply::document(200, &WebhookDocument { data: resource(id, attributes(&next, false)) }));
            }
            Err(Error::Conflict(_)) => continue,
            Err(error) => return Err(ApiError::from(error)),
        }
    }
    Err(ApiError::from(Error::Conflict("the webhook is being changed by other requests; try again".into())))
}

/// `DELETE /webhooks/:id`: 204. Tasks already queued for it find it gone and stop.
#[utoipa::path(delete, path = "/api/v3/notification/webhooks/{id}", tag = "webhooks",
    summary = "Delete the notification/webhooks",
    params(("id" = u64, Path, description = "The webhook id")),
    responses((status = 204, description = "Deleted"), WebhookNotFound, Guarded)
)]
pub async fn delete(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
) -> Answer {
    let context = &context;
    let Some(webhook) = context.store.get_webhook(caller.account_id, id).await? else {
        return Err(ApiError::from(Error::not_found("webhook")));
    };
    if !context.store.delete_webhook(caller.account_id, id).await? {
        return Err(ApiError::from(Error::not_found("webhook")));
    }
    tracing::info!(account_id = caller.account_id, webhook_id = id, "webhook deleted");
    tell(context, operational::WEBHOOK_DELETED, &webhook, &format!("deleted:{}", webhook.version)).await;
    Ok(http::Response::builder().status(204).body(String::new()).unwrap_or_default())
}

/// `GET /webhooks/:id/secret`: the secret in full.
#[utoipa::path(get, path = "/api/v3/notification/webhooks/{id}/secret", tag = "webhooks",
    summary = "Reveal the signing secret",
    params(("id" = u64, Path, description = "The webhook id")),
    responses((status = 200, description = "The secret in full", body = SecretDocument, content_type = "application/vnd.api+json"), WebhookNotFound, Guarded)
)]
pub async fn secret(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
) -> Answer {
    let context = &context;
    let webhook = find(context, &caller, id).await?;
    let attributes = SecretAttributes { secret: webhook.secret };
    Ok(reply::document(200, &SecretDocument { data: SecretResource::new(id, attributes) }))
}

/// `POST /webhooks/{id}/rotate_secret`: a new secret (generated, or `secret` given); the old
/// one keeps signing for `overlap_seconds` (default 24 h), so receivers can switch over.
#[utoipa::path(post, path = "/api/v3/notification/webhooks/{id}/rotate_secret", tag = "webhooks",
    summary = "Rotate the signing secret",
    params(("id" = u64, Path, description = "The webhook id")),
    request_body(content = Option<RotateRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The new secret in full", body = RotatedSecretDocument, content_type = "application/vnd.api+json"),
        (status = 409, description = "The webhook keeps changing", body = ErrorDocument, content_type = "application/vnd.api+json"),
        ActionRefusals, WebhookNotFound, Guarded,
    )
)]
pub async fn rotate_secret(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
    Document(body): OptionalDocument,
) -> Answer {
    let context = &context;
    let rotation = webhooks::parse_rotation(&body)?;
    for _ in 0..PATCH_TRIES {
        let current = find(context, &caller, id).await?;
        let secret = webhooks::rotation_key(&rotation, current.signature_algo)?;
        let now = chrono::Utc::now();
        let next = webhooks::rotate(&current, secret, rotation.overlap, caller.audit.clone(), now);
        match context.store.update_webhook(&next).await {
            Ok(()) => {
                let attributes = RotatedSecretAttributes {
                    public_key: signing::public_key(&next.secret).ok(),
                    previous_valid_until: next
                        .previous_secrets
                        .first()
                        .map(|retired| webhooks::timestamp(retired.until)),
                    secret: next.secret,
                };
                return Ok(reply::document(200, &RotatedSecretDocument { data: SecretResource::new(id, attributes) }));
            }
            Err(Error::Conflict(_)) => continue,
            Err(error) => return Err(ApiError::from(error)),
        }
    }
    Err(ApiError::from(Error::Conflict("the webhook is being changed by other requests; try again".into())))
}
