//! Accounts (tenants) and their API keys; a key is stored only as its SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An account's id: an integer, as seed 003's `account_id`.
pub type AccountId = u64;

/// A tenant of Hookline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account's id.
    pub id: AccountId,
    /// A display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Where a webhook or an event lives (seed 000): production, or a sandbox for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Real traffic; https endpoints only, unless the operator allows http.
    #[default]
    Production,
    /// Test traffic.
    Sandbox,
}

impl Environment {
    /// Every environment, for validation messages.
    pub const ALL: [Environment; 2] = [Environment::Production, Environment::Sandbox];

    /// The name used in the API and in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Sandbox => "sandbox",
        }
    }

    /// Parses the API name of an environment.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|environment| environment.as_str() == text)
    }
}

/// An API key's record. The key itself is never stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// The key's public id (`key_…`), recorded as `client_id` in audits.
    pub id: String,
    /// The account the key acts for.
    pub account_id: AccountId,
    /// The environment of what the key creates.
    pub environment: Environment,
    /// A label, used as the audit's `app` when the request names none.
    pub label: String,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A freshly generated key: the secret shown once, and the record to store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The bearer token, shown to the operator once.
    pub plaintext: String,
    /// What is stored.
    pub record: ApiKey,
}

impl NewApiKey {
    /// Generates a key for an account: `hl_<env>_` + 32 random bytes, base64url.
    pub fn generate(
        account_id: AccountId,
        environment: Environment,
        label: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let prefix = match environment {
            Environment::Production => "hl_prod_",
            Environment::Sandbox => "hl_sbx_",
        };
        let plaintext = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
        Self::from_plaintext(plaintext, account_id, environment, label, now)
    }

    /// Builds the record of a key chosen by the operator (e.g. `DEV_API_KEY`).
    pub fn from_plaintext(
        plaintext: String,
        account_id: AccountId,
        environment: Environment,
        label: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        let key_hash = hash_api_key(&plaintext);
        let record = ApiKey {
            id: format!("key_{}", &key_hash[..16]),
            account_id,
            environment,
            label: label.into(),
            key_hash,
            created_at: now,
        };
        Self { plaintext, record }
    }
}

/// The stored form of a bearer key: hex SHA-256. Keys are high-entropy, so no salt or
/// slow hash is needed; the hash is also the lookup key.
pub fn hash_api_key(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_key_generated_should_store_only_its_hash() {
        let key = NewApiKey::generate(7, Environment::Sandbox, "cli", Utc::now());
        assert!(key.plaintext.starts_with("hl_sbx_"));
        assert_eq!(key.record.key_hash, hash_api_key(&key.plaintext));
        assert!(!key.record.key_hash.contains(&key.plaintext));
        assert!(key.record.id.starts_with("key_"));
    }

    #[test]
    fn when_two_keys_generated_should_differ() {
        let a = NewApiKey::generate(1, Environment::Production, "a", Utc::now());
        let b = NewApiKey::generate(1, Environment::Production, "a", Utc::now());
        assert_ne!(a.plaintext, b.plaintext);
        assert_ne!(a.record.id, b.record.id);
    }

    #[test]
    fn when_environment_parsed_should_accept_only_known_names() {
        assert_eq!(Environment::parse("sandbox"), Some(Environment::Sandbox));
        assert_eq!(Environment::parse("production"), Some(Environment::Production));
        assert_eq!(Environment::parse("staging"), None);
    }
}
