//! Keys: an account's (`/api/v3/accounts/{uid}/api_keys`), its portal sessions, and the
//! platform's operator keys (`/api/v3/operator_keys`), operator keys only (any other key gets
//! 404); and `/api/v3/notification/session`, where any caller reads its own key.

use crate::accounts::{ACCOUNTS_PATH, account, created, no_content};
use crate::openapi::{DocumentRefusals, PlatformGuarded};
use crate::reply;
use axum::extract::{Path, State};
use hookline_aws::{Context, Store};
use hookline_domain::documents::{
    KeyDocument, KeyInputDocument, KeyListDocument, PortalSession, PortalSessionRequest, SessionDocument,
};
use hookline_domain::model::{Account, ApiKey, KeyKind, KeySpec, NewApiKey};
use hookline_domain::platform::{
    branding_document, key_resource, parse_key_create, parse_portal_session, session_document,
};
use hookline_domain::webhooks::timestamp;
use hookline_domain::{Error, Result};
use hookline_web::openapi::Guarded;
use hookline_web::{Answer, AuthenticatedKey, Document, Operator, OptionalDocument, header};
use http::HeaderMap;

const OPERATOR_KEYS_PATH: &str = "/api/v3/operator_keys";

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
        branding: None,
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
        branding: request.branding,
    };
    let key = NewApiKey::of(spec, now);
    context.store.put_api_key(&key.record).await?;
    let scheme = header(&headers, "x-forwarded-proto").unwrap_or("http");
    let host = header(&headers, "host").unwrap_or("localhost");
    let session = PortalSession {
        id: key.record.id.clone(),
        url: format!("{scheme}://{host}/portal/#token={}", key.plaintext),
        token: key.plaintext,
        expires_at: timestamp(request.expires_at),
        read_only: request.read_only,
        environment: request.environment.as_str().into(),
        branding: branding_document(key.record.branding.as_ref()),
    };
    let location = format!("{ACCOUNTS_PATH}/{uid}/portal_sessions/{}", session.id);
    let response = reply::with_location(reply::typed(201, "application/json", &session), &location);
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

/// `GET /api/v3/notification/session`: the caller's own key, which the portal reads first.
#[utoipa::path(get, path = "/api/v3/notification/session", tag = "webhooks",
    summary = "The caller's key: its account, rights, expiry and the portal's branding",
    responses((status = 200, description = "The caller's key", body = SessionDocument, content_type = "application/vnd.api+json"), Guarded)
)]
pub async fn session(State(context): State<Context>, AuthenticatedKey { caller, key }: AuthenticatedKey) -> Answer {
    let account = context.store.get_account(caller.account_id).await?.ok_or_else(|| Error::not_found("account"))?;
    Ok(reply::document(200, &session_document(&key, &account)))
}
