//! The operator's tools: accounts and their API keys (the path `hookline-local create-account` takes).

use hookline_aws::Store;
use hookline_domain::Result;
use hookline_domain::model::{Account, Environment, NewApiKey};

/// Creates an account with its first key of `environment`; returns both (the key in clear,
/// to show once).
pub async fn create_account(
    store: &Store,
    name: &str,
    environment: Environment,
    label: &str,
) -> Result<(Account, NewApiKey)> {
    let account_id = store.next_account_id().await?;
    let key = NewApiKey::generate(account_id, environment, label, chrono::Utc::now());
    let account = store.create_account(name, &key).await?;
    Ok((account, key))
}

/// The dev account's production key: `chosen` if it exists already or is new (it is
/// created), else a fresh one.
pub async fn dev_api_key(store: &Store, chosen: Option<String>) -> Result<String> {
    if let Some(key) = &chosen
        && store.find_api_key(key).await?.is_some()
    {
        return Ok(key.clone());
    }
    let account_id = store.next_account_id().await?;
    let now = chrono::Utc::now();
    let key = match chosen {
        Some(plaintext) => NewApiKey::from_plaintext(plaintext, account_id, Environment::Production, "dev", now),
        None => NewApiKey::generate(account_id, Environment::Production, "dev", now),
    };
    store.create_account("dev", &key).await?;
    Ok(key.plaintext)
}

/// A sandbox key for the account of `production_key`.
pub async fn add_sandbox_key(store: &Store, production_key: &str) -> Result<String> {
    let owner =
        store.find_api_key(production_key).await?.ok_or_else(|| hookline_domain::Error::not_found("api key"))?;
    let key = NewApiKey::generate(owner.account_id, Environment::Sandbox, "dev", chrono::Utc::now());
    store.put_api_key(&key.record).await?;
    Ok(key.plaintext)
}
