//! Accounts, their id counter and their API keys.

use super::{Envelope, On, Store, to_item};
use crate::keys;
use hookline_domain::model::{Account, AccountId, ApiKey, NewApiKey, hash_api_key};
use hookline_domain::{Error, Result};

impl Store {
    /// Creates an account and its first API key, atomically: neither exists without the other.
    pub async fn create_account_with_key(&self, account: &Account, key: &ApiKey) -> Result<()> {
        let account_item = to_item(&Envelope::new(keys::account_pk(account.id), keys::ACCOUNT_SK, account))?;
        let key_item = to_item(&Self::api_key_envelope(key))?;
        self.transact_puts("create_account_with_key", vec![account_item, key_item]).await
    }

    /// The next account id, from an atomic counter.
    pub async fn next_account_id(&self) -> Result<AccountId> {
        self.increment(keys::ACCOUNT_COUNTER_PK.into(), keys::ACCOUNT_COUNTER_SK).await
    }

    /// Reads an account.
    pub async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        self.get(keys::account_pk(id), keys::ACCOUNT_SK).await
    }

    /// Adds an API key to an existing account.
    pub async fn put_api_key(&self, key: &ApiKey) -> Result<()> {
        if self.get_account(key.account_id).await?.is_none() {
            return Err(Error::not_found("account"));
        }
        self.put_new("put_api_key", &Self::api_key_envelope(key)).await
    }

    /// Creates an account with a key: the operator's path (dev runner, admin tools).
    pub async fn create_account(&self, name: &str, key: &NewApiKey) -> Result<Account> {
        let account = Account { id: key.record.account_id, name: name.into(), created_at: key.record.created_at };
        self.create_account_with_key(&account, &key.record).await?;
        Ok(account)
    }

    fn api_key_envelope(key: &ApiKey) -> Envelope<&ApiKey> {
        Envelope::new(keys::api_key_pk(&key.key_hash), keys::API_KEY_SK, key)
            .indexed(keys::api_keys_gsi1pk(key.account_id), key.id.clone())
    }

    /// The record of a bearer key, if it is one.
    pub async fn find_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        self.get(keys::api_key_pk(&hash_api_key(plaintext)), keys::API_KEY_SK).await
    }

    /// Every key of an account (records only; the keys themselves are not stored).
    pub async fn list_api_keys(&self, account: AccountId) -> Result<Vec<ApiKey>> {
        self.query_all(On::Gsi1, keys::api_keys_gsi1pk(account), None).await
    }
}
