//! The platform's accounts (`/api/v3/accounts`): onboarding, changing, offboarding. Operator
//! keys only; any other key gets 404. Their keys and sessions are in `crate::keys`.

use crate::openapi::{DocumentRefusals, PlatformGuarded};
use crate::reply;
use axum::extract::{Path, RawQuery, State};
use hookline_aws::{Context, Store};
use hookline_core::operational::{self, Operational};
use hookline_domain::documents::{AccountDocument, AccountInputDocument, AccountListDocument, ErrorDocument, NextLink};
use hookline_domain::model::{Account, DisabledReason, KeyKind, WebhookStatus};
use hookline_domain::platform::{account_resource, parse_account_create, parse_account_patch};
use hookline_domain::query::{Filter, QuerySpec, cursor_link, parse_query};
use hookline_domain::{Error, Result};
use hookline_web::{Answer, ApiError, Document, Operator};

pub(crate) const ACCOUNTS_PATH: &str = "/api/v3/accounts";

const LIST: QuerySpec = QuerySpec {
    resource_type: "accounts",
    sortable: &[],
    filterable: &["uid", "name"],
    fields: &[],
    cursor: true,
    default_size: 50,
    max_size: 250,
};

/// The account of `uid`; 404 if there is none.
pub(crate) async fn account(store: &Store, uid: &str) -> Result<Account> {
    store.find_account_by_uid(uid).await?.ok_or_else(|| Error::not_found("account"))
}

pub(crate) fn created(document: &impl serde::Serialize, location: &str) -> http::Response<String> {
    reply::with_location(reply::document(201, document), location)
}

pub(crate) fn no_content() -> http::Response<String> {
    http::Response::builder().status(204).body(String::new()).unwrap_or_default()
}

/// Tells the platform `event_type` about `account`.
async fn tell(context: &Context, event_type: &'static str, account: &Account) {
    let event = Operational {
        event_type,
        account_id: account.id,
        payload: serde_json::json!({ "account_uid": account.uid(), "name": account.name }),
        idempotency_key: format!("{}:{}", account.id, account.created_at.timestamp_millis()),
    };
    context.publisher().tell(event).await;
}

/// `POST /api/v3/accounts`: 201, or 409 if the uid is taken.
#[utoipa::path(post, path = "/api/v3/accounts", tag = "platform",
    summary = "Onboard a customer: create an account",
    request_body(content = AccountInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "Created; `Location` names it", body = AccountDocument, content_type = "application/vnd.api+json"), DocumentRefusals, PlatformGuarded)
)]
pub async fn create(State(context): State<Context>, _operator: Operator, Document(document): Document) -> Answer {
    let new = parse_account_create(&document)?;
    let id = context.store.next_account_id().await?;
    let account = Account {
        id,
        uid: new.uid.unwrap_or_else(|| id.to_string()),
        name: new.name,
        metadata: new.metadata,
        created_at: chrono::Utc::now(),
        updated_at: None,
    };
    context.store.insert_account(&account).await.map_err(|error| match error {
        Error::Conflict(_) => Error::Conflict(format!("the uid {} names another account", account.uid)),
        other => other,
    })?;
    let location = format!("{ACCOUNTS_PATH}/{}", account.uid);
    tell(&context, operational::ACCOUNT_CREATED, &account).await;
    Ok(created(&AccountDocument { data: account_resource(&account) }, &location))
}

/// `GET /api/v3/accounts`: by id; `filter[uid]`, `filter[name]`, cursor pages.
#[utoipa::path(get, path = "/api/v3/accounts", tag = "platform",
    summary = "List the accounts",
    params(
        ("page[size]" = Option<u32>, Query, description = "Accounts per page: default 50, at most 250"),
        ("page[cursor]" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("filter[uid]" = Option<String>, Query, description = "Exact match"),
        ("filter[name]" = Option<String>, Query, description = "Exact match"),
    ),
    responses(
        (status = 200, description = "A page of accounts", body = AccountListDocument, content_type = "application/vnd.api+json"),
        (status = 400, description = "Bad query parameter", body = ErrorDocument, content_type = "application/vnd.api+json"),
        PlatformGuarded,
    )
)]
pub async fn list(State(context): State<Context>, _operator: Operator, RawQuery(raw): RawQuery) -> Answer {
    let raw = raw.as_deref();
    let query = parse_query(raw, &LIST)?;
    let equals = |name: &str| {
        query.filters.iter().find_map(|(field, filter)| match filter {
            Filter::Equals(value) if field == name => Some(value.clone()),
            _ => None,
        })
    };
    if let Some(uid) = equals("uid") {
        let found = context.store.find_account_by_uid(&uid).await?;
        let data = found.iter().filter(|account| equals("name").is_none_or(|name| account.name == name));
        let data = data.map(account_resource).collect();
        return Ok(reply::document(200, &AccountListDocument { data, links: NextLink { next: None } }));
    }
    let page = context.store.page_accounts(query.page_size as i32, query.cursor.as_deref()).await?;
    let name = equals("name");
    let data = page
        .items
        .iter()
        .filter(|account| name.as_ref().is_none_or(|name| account.name == *name))
        .map(account_resource)
        .collect();
    let next = page.next_cursor.as_deref().map(|cursor| cursor_link(ACCOUNTS_PATH, raw, cursor));
    Ok(reply::document(200, &AccountListDocument { data, links: NextLink { next } }))
}

/// `GET /api/v3/accounts/{uid}`.
#[utoipa::path(get, path = "/api/v3/accounts/{uid}", tag = "platform",
    summary = "An account",
    params(("uid" = String, Path, description = "The account's uid")),
    responses(
        (status = 200, description = "The account", body = AccountDocument, content_type = "application/vnd.api+json"),
        PlatformGuarded,
    )
)]
pub async fn show(State(context): State<Context>, _operator: Operator, Path(uid): Path<String>) -> Answer {
    let account = account(&context.store, &uid).await?;
    Ok(reply::document(200, &AccountDocument { data: account_resource(&account) }))
}

/// `PATCH /api/v3/accounts/{uid}`: name and metadata.
#[utoipa::path(patch, path = "/api/v3/accounts/{uid}", tag = "platform",
    summary = "Rename an account or change its metadata",
    params(("uid" = String, Path, description = "The account's uid")),
    request_body(content = AccountInputDocument, content_type = "application/vnd.api+json"),
    responses(
        (status = 200, description = "The account as changed", body = AccountDocument, content_type = "application/vnd.api+json"),
        DocumentRefusals, PlatformGuarded,
    )
)]
pub async fn patch(
    State(context): State<Context>,
    _operator: Operator,
    Path(uid): Path<String>,
    Document(document): Document,
) -> Answer {
    let existing = account(&context.store, &uid).await?;
    let changed = parse_account_patch(&document, &existing, chrono::Utc::now())?;
    context.store.update_account(&changed).await.map_err(|_| Error::not_found("account"))?;
    Ok(reply::document(200, &AccountDocument { data: account_resource(&changed) }))
}

/// `DELETE /api/v3/accounts/{uid}`: revokes its keys and sessions, disables its webhooks
/// (their queued deliveries end cancelled), and frees its uid; its log expires as usual.
#[utoipa::path(delete, path = "/api/v3/accounts/{uid}", tag = "platform",
    summary = "Offboard a customer: delete an account",
    params(("uid" = String, Path, description = "The account's uid")),
    responses((status = 204, description = "Deleted"), PlatformGuarded)
)]
pub async fn delete(State(context): State<Context>, _operator: Operator, Path(uid): Path<String>) -> Answer {
    let store = &context.store;
    let account = account(store, &uid).await?;
    if account.uid() == hookline_domain::model::PLATFORM_UID {
        return Err(ApiError::from(Error::Conflict("the platform's own account cannot be deleted".into())));
    }
    for kind in [KeyKind::Account, KeyKind::PortalSession] {
        for key in store.list_keys(kind, account.id).await? {
            store.delete_api_key(&key).await?;
        }
    }
    let now = chrono::Utc::now();
    for webhook in store.list_webhooks(account.id).await? {
        if webhook.status == WebhookStatus::Enabled {
            let disabled = hookline_domain::model::Webhook {
                status: WebhookStatus::Disabled,
                disabled_reason: Some(DisabledReason::AccountDeleted),
                version: webhook.version + 1,
                updated_at: now,
                ..webhook
            };
            // A concurrent change of the webhook is no reason to keep the account: its
            // deliveries still end once the account's keys are gone and it is disabled.
            if let Err(error) = store.update_webhook(&disabled).await {
                tracing::warn!(%error, webhook_id = disabled.id, "disabling a deleted account's webhook");
            }
        }
    }
    store.delete_account(&account).await?;
    tell(&context, operational::ACCOUNT_DELETED, &account).await;
    Ok(no_content())
}
