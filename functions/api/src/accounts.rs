//! The platform's routes: its accounts (`/api/v3/accounts`), their keys and portal sessions,
//! and its own operator keys (`/api/v3/operator_keys`). Operator keys only; any other key
//! gets 404.

use crate::openapi::{DocumentRefusals, PlatformGuarded};
use crate::reply;
use axum::extract::{Path, RawQuery, State};
use hookline_aws::{Context, Store};
use hookline_core::operational::{self, Operational};
use hookline_domain::documents::{
    AccountDocument, AccountInputDocument, AccountListDocument, ErrorDocument, KeyDocument, KeyInputDocument,
    KeyListDocument, NextLink, PortalSession, PortalSessionRequest,
};
use hookline_domain::model::{Account, ApiKey, DisabledReason, KeyKind, KeySpec, NewApiKey, WebhookStatus};
use hookline_domain::platform::{
    account_resource, key_resource, parse_account_create, parse_account_patch, parse_key_create, parse_portal_session,
};
use hookline_domain::query::{Filter, QuerySpec, cursor_link, parse_query};
use hookline_domain::webhooks::timestamp;
use hookline_domain::{Error, Result};
use hookline_web::{Answer, ApiError, Document, Operator, OptionalDocument, header};
use http::HeaderMap;

const ACCOUNTS_PATH: &str = "/api/v3/accounts";
const OPERATOR_KEYS_PATH: &str = "/api/v3/operator_keys";

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
async fn account(store: &Store, uid: &str) -> Result<Account> {
    store.find_account_by_uid(uid).await?.ok_or_else(|| Error::not_found("account"))
}

fn created(document: &impl serde::Serialize, location: &str) -> http::Response<String> {
    let mut response = reply::document(201, document);
    if let Ok(location) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    response
}

fn no_content() -> http::Response<String> {
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

/// A new key of `kind` for `account_id`, from a create-key document of type `resource`.
async fn new_key(
    store: &Store,
    document: &serde_json::Value,
    resource: &str,
    kind: KeyKind,
    account_id: u64,
) -> Result<NewApiKey> {
    let now = chrono::Utc::now();
    let request = parse_key_create(document, resource, now)?;
    let spec = KeySpec {
        kind,
        account_id,
        environment: request.environment,
        label: request.label,
        expires_at: request.expires_at,
        read_only: false,
    };
    let key = NewApiKey::of(spec, now);
    store.put_api_key(&key.record).await?;
    Ok(key)
}

fn key_list(keys: &[ApiKey], resource: &str, path: &str) -> KeyListDocument {
    let mut keys: Vec<&ApiKey> = keys.iter().collect();
    keys.sort_by_key(|key| key.created_at);
    KeyListDocument { data: keys.into_iter().map(|key| key_resource(key, resource, path, None)).collect() }
}

/// Revokes the key `key_id` among `keys`; 404 if it is not one of them.
async fn revoke(store: &Store, keys: Vec<ApiKey>, key_id: &str, what: &str) -> Answer {
    let key = keys.into_iter().find(|key| key.id == key_id).ok_or_else(|| Error::not_found(what))?;
    store.delete_api_key(&key).await?;
    Ok(no_content())
}

/// `POST /api/v3/accounts/{uid}/api_keys`: the key in full, once.
#[utoipa::path(post, path = "/api/v3/accounts/{uid}/api_keys", tag = "platform",
    summary = "Give an account a key",
    params(("uid" = String, Path, description = "The account's uid")),
    request_body(content = KeyInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "The key, in full only in this answer", body = KeyDocument, content_type = "application/vnd.api+json"), DocumentRefusals, PlatformGuarded)
)]
pub async fn create_key(
    State(context): State<Context>,
    _operator: Operator,
    Path(uid): Path<String>,
    Document(document): Document,
) -> Answer {
    let account = account(&context.store, &uid).await?;
    let key = new_key(&context.store, &document, "api_keys", KeyKind::Account, account.id).await?;
    let path = format!("{ACCOUNTS_PATH}/{uid}/api_keys");
    let data = key_resource(&key.record, "api_keys", &path, Some(&key.plaintext));
    Ok(created(&KeyDocument { data }, &format!("{path}/{}", key.record.id)))
}

/// `GET /api/v3/accounts/{uid}/api_keys`: the account's keys, never in full.
#[utoipa::path(get, path = "/api/v3/accounts/{uid}/api_keys", tag = "platform",
    summary = "An account's keys",
    params(("uid" = String, Path, description = "The account's uid")),
    responses((status = 200, description = "The keys, oldest first", body = KeyListDocument, content_type = "application/vnd.api+json"), PlatformGuarded)
)]
pub async fn list_keys(State(context): State<Context>, _operator: Operator, Path(uid): Path<String>) -> Answer {
    let account = account(&context.store, &uid).await?;
    let keys = context.store.list_keys(KeyKind::Account, account.id).await?;
    Ok(reply::document(200, &key_list(&keys, "api_keys", &format!("{ACCOUNTS_PATH}/{uid}/api_keys"))))
}

/// `DELETE /api/v3/accounts/{uid}/api_keys/{key_id}`: revoked at once.
#[utoipa::path(delete, path = "/api/v3/accounts/{uid}/api_keys/{key_id}", tag = "platform",
    summary = "Revoke an account's key",
    params(("uid" = String, Path, description = "The account's uid"), ("key_id" = String, Path, description = "The key's id, key_…")),
    responses((status = 204, description = "Revoked"), PlatformGuarded)
)]
pub async fn revoke_key(
    State(context): State<Context>,
    _operator: Operator,
    Path((uid, key_id)): Path<(String, String)>,
) -> Answer {
    let account = account(&context.store, &uid).await?;
    let keys = context.store.list_keys(KeyKind::Account, account.id).await?;
    revoke(&context.store, keys, &key_id, "api key").await
}

/// The platform's own account, where operator keys belong.
async fn platform(store: &Store) -> Result<Account> {
    store
        .find_account_by_uid(hookline_domain::model::PLATFORM_UID)
        .await?
        .ok_or_else(|| Error::internal("the platform account is missing"))
}

/// `POST /api/v3/operator_keys`: the key in full, once.
#[utoipa::path(post, path = "/api/v3/operator_keys", tag = "platform",
    summary = "Make another operator key",
    request_body(content = KeyInputDocument, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "The key, in full only in this answer", body = KeyDocument, content_type = "application/vnd.api+json"), DocumentRefusals, PlatformGuarded)
)]
pub async fn create_operator_key(
    State(context): State<Context>,
    Operator(operator): Operator,
    Document(document): Document,
) -> Answer {
    let key = new_key(&context.store, &document, "operator_keys", KeyKind::Operator, operator.account_id).await?;
    let data = key_resource(&key.record, "operator_keys", OPERATOR_KEYS_PATH, Some(&key.plaintext));
    Ok(created(&KeyDocument { data }, &format!("{OPERATOR_KEYS_PATH}/{}", key.record.id)))
}

/// `GET /api/v3/operator_keys`.
#[utoipa::path(get, path = "/api/v3/operator_keys", tag = "platform",
    summary = "The operator keys",
    responses((status = 200, description = "The keys, oldest first", body = KeyListDocument, content_type = "application/vnd.api+json"), PlatformGuarded)
)]
pub async fn list_operator_keys(State(context): State<Context>, _operator: Operator) -> Answer {
    let platform = platform(&context.store).await?;
    let keys = context.store.list_keys(KeyKind::Operator, platform.id).await?;
    Ok(reply::document(200, &key_list(&keys, "operator_keys", OPERATOR_KEYS_PATH)))
}

/// `DELETE /api/v3/operator_keys/{key_id}`: revoked at once (the key in use too).
#[utoipa::path(delete, path = "/api/v3/operator_keys/{key_id}", tag = "platform",
    summary = "Revoke an operator key",
    params(("key_id" = String, Path, description = "The key's id, key_…")),
    responses((status = 204, description = "Revoked"), PlatformGuarded)
)]
pub async fn revoke_operator_key(
    State(context): State<Context>,
    _operator: Operator,
    Path(key_id): Path<String>,
) -> Answer {
    let platform = platform(&context.store).await?;
    let keys = context.store.list_keys(KeyKind::Operator, platform.id).await?;
    revoke(&context.store, keys, &key_id, "operator key").await
}

/// `POST /api/v3/accounts/{uid}/portal_sessions`: a token of the account's routes that
/// expires, read-only if asked; shown once.
#[utoipa::path(post, path = "/api/v3/accounts/{uid}/portal_sessions", tag = "platform",
    summary = "Open a portal session for an account",
    params(("uid" = String, Path, description = "The account's uid")),
    request_body(content = Option<PortalSessionRequest>, content_type = "application/json"),
    responses((status = 201, description = "The session; its token only in this answer", body = PortalSession, content_type = "application/json"), DocumentRefusals, PlatformGuarded)
)]
pub async fn create_session(
    State(context): State<Context>,
    _operator: Operator,
    Path(uid): Path<String>,
    headers: HeaderMap,
    Document(document): OptionalDocument,
) -> Answer {
    let account = account(&context.store, &uid).await?;
    let now = chrono::Utc::now();
    let request = parse_portal_session(&document, now)?;
    let spec = KeySpec {
        kind: KeyKind::PortalSession,
        account_id: account.id,
        environment: request.environment,
        label: "portal".into(),
        expires_at: Some(request.expires_at),
        read_only: request.read_only,
    };
    let key = NewApiKey::of(spec, now);
    context.store.put_api_key(&key.record).await?;
    let scheme = header(&headers, "x-forwarded-proto").unwrap_or("http");
    let host = header(&headers, "host").unwrap_or("localhost");
    let session = PortalSession {
        id: key.record.id.clone(),
        url: format!("{scheme}://{host}/portal#token={}", key.plaintext),
        token: key.plaintext,
        expires_at: timestamp(request.expires_at),
        read_only: request.read_only,
        environment: request.environment.as_str().into(),
    };
    let location = format!("{ACCOUNTS_PATH}/{uid}/portal_sessions/{}", session.id);
    let mut response = reply::typed(201, "application/json", &session);
    if let Ok(location) = http::HeaderValue::from_str(&location) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    Ok(response)
}

/// `DELETE /api/v3/accounts/{uid}/portal_sessions/{id}`: ended at once.
#[utoipa::path(delete, path = "/api/v3/accounts/{uid}/portal_sessions/{id}", tag = "platform",
    summary = "End a portal session",
    params(("uid" = String, Path, description = "The account's uid"), ("id" = String, Path, description = "The session's id")),
    responses((status = 204, description = "Ended"), PlatformGuarded)
)]
pub async fn revoke_session(
    State(context): State<Context>,
    _operator: Operator,
    Path((uid, id)): Path<(String, String)>,
) -> Answer {
    let account = account(&context.store, &uid).await?;
    let sessions = context.store.list_keys(KeyKind::PortalSession, account.id).await?;
    revoke(&context.store, sessions, &id, "portal session").await
}
