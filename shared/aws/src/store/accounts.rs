//! Accounts (with the item that reserves each uid), their id counter, and every kind of key.

use super::{Envelope, On, Page, Store, to_item};
use crate::keys;
use hookline_domain::model::{Account, AccountId, ApiKey, KeyKind, NewApiKey, hash_api_key};
use hookline_domain::{Error, Result};
use serde::{Deserialize, Serialize};

/// The record that reserves a uid for its account.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccountUid {
    account_id: AccountId,
}

impl Store {
    fn account_envelope(account: &Account) -> Envelope<&Account> {
        Envelope::new(keys::account_pk(account.id), keys::ACCOUNT_SK, account)
            .indexed(keys::ACCOUNTS_GSI1PK.to_string(), keys::account_gsi1sk(account.id))
    }

    fn account_items(account: &Account) -> Result<Vec<super::Item>> {
        let uid = AccountUid { account_id: account.id };
        Ok(vec![
            to_item(&Self::account_envelope(account))?,
            to_item(&Envelope::new(keys::account_uid_pk(&account.uid()), keys::ACCOUNT_UID_SK, &uid))?,
        ])
    }

    /// Creates an account and reserves its uid, atomically; a conflict if the uid is taken.
    pub async fn insert_account(&self, account: &Account) -> Result<()> {
        self.transact_puts("insert_account", Self::account_items(account)?).await
    }

    /// Creates an account, its uid and its first API key, atomically: none exists without the
    /// others.
    pub async fn create_account_with_key(&self, account: &Account, key: &ApiKey) -> Result<()> {
        let mut items = Self::account_items(account)?;
        items.push(to_item(&Self::api_key_envelope(key))?);
        self.transact_puts("create_account_with_key", items).await
    }

    /// The next account id, from an atomic counter.
    pub async fn next_account_id(&self) -> Result<AccountId> {
        self.increment(keys::ACCOUNT_COUNTER_PK.into(), keys::ACCOUNT_COUNTER_SK).await
    }

    /// The highest account id given so far.
    pub async fn last_account_id(&self) -> Result<AccountId> {
        self.counter(keys::ACCOUNT_COUNTER_PK.into(), keys::ACCOUNT_COUNTER_SK).await
    }

    /// Reads an account.
    pub async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        self.get(keys::account_pk(id), keys::ACCOUNT_SK).await
    }

    /// The account of a uid.
    pub async fn find_account_by_uid(&self, uid: &str) -> Result<Option<Account>> {
        let Some(reserved) = self.get::<AccountUid>(keys::account_uid_pk(uid), keys::ACCOUNT_UID_SK).await? else {
            return Ok(None);
        };
        self.get_account(reserved.account_id).await
    }

    /// A page of accounts, by id.
    pub async fn page_accounts(&self, limit: i32, cursor: Option<&str>) -> Result<Page<Account>> {
        self.query_page(On::Gsi1, keys::ACCOUNTS_GSI1PK.to_string(), None, limit, cursor, true).await
    }

    /// Replaces an account's name and metadata (its uid and id never change).
    pub async fn update_account(&self, account: &Account) -> Result<()> {
        self.replace_existing("update_account", &Self::account_envelope(account)).await
    }

    /// Deletes an account and frees its uid; `false` if there was none.
    pub async fn delete_account(&self, account: &Account) -> Result<bool> {
        let deleted =
            self.delete_existing("delete_account", keys::account_pk(account.id), keys::ACCOUNT_SK.into()).await?;
        self.delete_existing("delete_account_uid", keys::account_uid_pk(&account.uid()), keys::ACCOUNT_UID_SK.into())
            .await?;
        Ok(deleted)
    }

    /// Gives an account made before uids its uid (its id) and its place in the account
    /// list; `false` if it had them already. Idempotent.
    pub async fn migrate_account(&self, account: &Account) -> Result<bool> {
        if !account.uid.is_empty() {
            return Ok(false);
        }
        let migrated = Account { uid: account.uid(), ..account.clone() };
        let uid = AccountUid { account_id: account.id };
        match self
            .put_new("migrate_account", &Envelope::new(keys::account_uid_pk(&migrated.uid), keys::ACCOUNT_UID_SK, &uid))
            .await
        {
            Ok(()) | Err(Error::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
        self.replace_existing("migrate_account", &Self::account_envelope(&migrated)).await?;
        Ok(true)
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
        let account = Account {
            id: key.record.account_id,
            uid: key.record.account_id.to_string(),
            name: name.into(),
            metadata: Default::default(),
            created_at: key.record.created_at,
            updated_at: None,
        };
        self.create_account_with_key(&account, &key.record).await?;
        Ok(account)
    }

    fn api_key_envelope(key: &ApiKey) -> Envelope<&ApiKey> {
        // DynamoDB deletes an expired key some time after; reads already refuse it.
        Envelope::new(keys::api_key_pk(&key.key_hash), keys::API_KEY_SK, key)
            .indexed(keys::api_keys_gsi1pk(key.kind, key.account_id), key.id.clone())
            .expiring(key.expires_at.map(|at| at.timestamp()))
    }

    /// The record of a bearer key, if it is one.
    pub async fn find_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        self.get(keys::api_key_pk(&hash_api_key(plaintext)), keys::API_KEY_SK).await
    }

    /// Every account key of an account (records only; the keys themselves are not stored).
    pub async fn list_api_keys(&self, account: AccountId) -> Result<Vec<ApiKey>> {
        self.list_keys(KeyKind::Account, account).await
    }

    /// Every key of `kind` of an account (the platform's own for operator keys), unexpired.
    pub async fn list_keys(&self, kind: KeyKind, account: AccountId) -> Result<Vec<ApiKey>> {
        let keys: Vec<ApiKey> = self.query_all(On::Gsi1, keys::api_keys_gsi1pk(kind, account), None).await?;
        let now = chrono::Utc::now();
        Ok(keys.into_iter().filter(|key| !key.is_expired(now)).collect())
    }

    /// Revokes a key: its record is deleted, so it is refused at once. `false` if it was gone.
    pub async fn delete_api_key(&self, key: &ApiKey) -> Result<bool> {
        self.delete_existing("delete_api_key", keys::api_key_pk(&key.key_hash), keys::API_KEY_SK.into()).await
    }
}
