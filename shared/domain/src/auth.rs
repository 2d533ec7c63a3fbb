//! Who is calling: the bearer token of a request, and the audit stamp of seed 002.

use crate::error::Error;
use crate::model::{AccountId, ApiKey, Audit, Environment};

/// The request header carrying the caller's own client id (seed 002's `externalClientId`).
pub const EXTERNAL_CLIENT_ID_HEADER: &str = "hookline-external-client-id";
/// The request header naming the calling application (seed 002's `app`).
pub const APP_HEADER: &str = "hookline-app";
/// The request header naming, by uid, the account an operator key acts for.
pub const ACCOUNT_HEADER: &str = "hookline-account";
/// The audit's `app` of what the platform does for an account without naming an app.
pub const PLATFORM_APP: &str = "platform";

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account the key acts for.
    pub account_id: AccountId,
    /// The environment of the key.
    pub environment: Environment,
    /// The audit stamp of what this request writes.
    pub audit: Audit,
}

impl Caller {
    /// The caller of an account's key, with the audit headers of the request.
    pub fn new(key: &ApiKey, external_client_id: Option<&str>, app: Option<&str>) -> Self {
        Self {
            account_id: key.account_id,
            environment: key.environment,
            audit: Audit {
                client_id: key.id.clone(),
                external_client_id: clean(external_client_id),
                app: clean(app).or_else(|| Some(key.label.clone()).filter(|label| !label.is_empty())),
            },
        }
    }

    /// The platform acting for `account` with its operator `key`: the key's environment, and
    /// an audit stamp saying the platform did it (`app` from the request, else `platform`).
    pub fn acting_for(account: AccountId, key: &ApiKey, external_client_id: Option<&str>, app: Option<&str>) -> Self {
        Self {
            account_id: account,
            environment: key.environment,
            audit: Audit {
                client_id: key.id.clone(),
                external_client_id: clean(external_client_id),
                app: clean(app).or_else(|| Some(PLATFORM_APP.to_string())),
            },
        }
    }
}

/// An audit header's value: trimmed, at most 255 characters, absent if empty.
fn clean(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|value| !value.is_empty()).map(|value| value.chars().take(255).collect::<String>())
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, Error> {
    let value = authorization.ok_or_else(|| Error::Unauthorized("send `Authorization: Bearer <api key>`".into()))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Error::Unauthorized("the Authorization header must be `Bearer <api key>`".into()));
    }
    Ok(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn key() -> ApiKey {
        ApiKey {
            id: "key_1".into(),
            account_id: 4,
            environment: Environment::Sandbox,
            label: "backoffice".into(),
            key_hash: "h".into(),
            created_at: Utc::now(),
            kind: crate::model::KeyKind::Account,
            prefix: String::new(),
            expires_at: None,
            read_only: false,
            branding: None,
        }
    }

    #[test]
    fn when_bearer_header_is_well_formed_should_give_the_token() {
        assert_eq!(bearer_token(Some("Bearer abc")).expect("token"), "abc");
        assert_eq!(bearer_token(Some("bearer  abc ")).expect("token"), "abc");
    }

    #[test]
    fn when_header_missing_or_not_bearer_should_be_unauthorized() {
        for header in [None, Some("Basic abc"), Some("Bearer"), Some("Bearer   "), Some("")] {
            assert_eq!(bearer_token(header).expect_err("refused").status(), 401, "{header:?}");
        }
    }

    #[test]
    fn when_app_header_absent_should_use_the_key_label() {
        let caller = Caller::new(&key(), Some(" ext-9 "), None);
        assert_eq!(caller.audit.client_id, "key_1");
        assert_eq!(caller.audit.external_client_id.as_deref(), Some("ext-9"));
        assert_eq!(caller.audit.app.as_deref(), Some("backoffice"));
        assert_eq!(Caller::new(&key(), None, Some("portal")).audit.app.as_deref(), Some("portal"));
        assert_eq!(caller.environment, Environment::Sandbox);
    }
}
