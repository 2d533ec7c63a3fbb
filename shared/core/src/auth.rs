//! Authenticating a request's caller: its bearer key looked up and checked (expiry, kind,
//! rights), an operator key resolved to the account it acts for, and the audit headers.

use crate::ports::{Accounts, KeyLookup};
use chrono::{DateTime, Utc};
use hookline_domain::auth::{ACCOUNT_HEADER, Caller, bearer_token};
use hookline_domain::model::{ApiKey, KeyKind};
use hookline_domain::{Error, Problem, Result};

/// What a request says about its caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'r> {
    /// The `Authorization` header.
    pub authorization: Option<&'r str>,
    /// The caller's own client id (`hookline-external-client-id`).
    pub external_client_id: Option<&'r str>,
    /// The calling application (`hookline-app`).
    pub app: Option<&'r str>,
    /// The uid of the account an operator key acts for (`hookline-account`).
    pub account: Option<&'r str>,
    /// Whether the request writes (any method but GET and HEAD).
    pub writes: bool,
}

/// The key of a bearer token, if it is one that works at `now`: a missing, malformed,
/// unknown, revoked (deleted) or expired key is [`Error::Unauthorized`].
async fn valid_key(keys: &impl KeyLookup, authorization: Option<&str>, now: DateTime<Utc>) -> Result<ApiKey> {
    let token = bearer_token(authorization)?;
    let key = keys.find_api_key(token).await?.ok_or_else(|| Error::Unauthorized("the API key is not valid".into()))?;
    if key.is_expired(now) {
        return Err(Error::Unauthorized("the API key has expired".into()));
    }
    Ok(key)
}

/// The caller of an account's routes: an account key, a portal session (403 on a write if
/// it is read-only), or an operator key acting for the account `hookline-account` names
/// (400 without the header, 404 if it names no account).
pub async fn authenticate(
    store: &(impl KeyLookup + Accounts),
    credentials: &Credentials<'_>,
    now: DateTime<Utc>,
) -> Result<Caller> {
    authenticate_with_key(store, credentials, now).await.map(|(caller, _)| caller)
}

/// [`authenticate`], with the key that made the request (the portal's session route shows it).
pub async fn authenticate_with_key(
    store: &(impl KeyLookup + Accounts),
    credentials: &Credentials<'_>,
    now: DateTime<Utc>,
) -> Result<(Caller, ApiKey)> {
    let key = valid_key(store, credentials.authorization, now).await?;
    let named = credentials.account.map(str::trim).filter(|uid| !uid.is_empty());
    match key.kind {
        KeyKind::Operator => {
            let uid = named.ok_or_else(|| {
                Error::BadRequest(Problem::header(
                    ACCOUNT_HEADER,
                    "account_required",
                    "an operator key acts for an account: name its uid in the `hookline-account` header",
                ))
            })?;
            let account = store.find_account_by_uid(uid).await?.ok_or_else(|| Error::not_found("account"))?;
            let caller = Caller::acting_for(account.id, &key, credentials.external_client_id, credentials.app);
            Ok((caller, key))
        }
        KeyKind::Account | KeyKind::PortalSession => {
            if named.is_some() {
                return Err(Error::BadRequest(Problem::header(
                    ACCOUNT_HEADER,
                    "operator_only",
                    "only an operator key acts for an account; this key acts for its own",
                )));
            }
            if key.read_only && credentials.writes {
                return Err(Error::Forbidden("this session is read-only".into()));
            }
            let caller = Caller::new(&key, credentials.external_client_id, credentials.app);
            Ok((caller, key))
        }
    }
}

/// The operator key of a platform route. Any other valid key gets 404, as if the route did
/// not exist: an account never learns what the platform's routes are.
pub async fn authenticate_operator(
    keys: &impl KeyLookup,
    authorization: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApiKey> {
    let key = valid_key(keys, authorization, now).await?;
    if key.kind != KeyKind::Operator {
        return Err(Error::not_found("route"));
    }
    Ok(key)
}
