//! Authenticating a request's caller: its bearer key looked up, with the audit headers.

use crate::ports::KeyLookup;
use hookline_domain::auth::{Caller, bearer_token};
use hookline_domain::{Error, Result};

/// The caller of a request. A missing, malformed or unknown key is [`Error::Unauthorized`].
pub async fn authenticate(
    keys: &impl KeyLookup,
    authorization: Option<&str>,
    external_client_id: Option<&str>,
    app: Option<&str>,
) -> Result<Caller> {
    let token = bearer_token(authorization)?;
    let key = keys.find_api_key(token).await?.ok_or_else(|| Error::Unauthorized("the API key is not valid".into()))?;
    Ok(Caller::new(&key, external_client_id, app))
}
