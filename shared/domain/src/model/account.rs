//! Accounts (the platform's customers) and the keys of the platform, of its accounts and of
//! their portal sessions; a key is stored only as its SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// An account's id: an integer, as seed 003's `account_id`.
pub type AccountId = u64;

/// The uid of the platform's own account, where operational events are published.
pub const PLATFORM_UID: &str = "platform";
/// The longest account uid.
pub const MAX_UID: usize = 128;

/// One customer of the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account's id (seed 003's `account_id`).
    pub id: AccountId,
    /// The platform's own id for this customer, unique; empty in records made before uids
    /// existed, which read as their id ([`Account::uid`]).
    #[serde(default)]
    pub uid: String,
    /// A display name.
    pub name: String,
    /// The platform's notes on the account, string values only.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Account {
    /// The account's uid: the one it was given, else its id.
    pub fn uid(&self) -> String {
        if self.uid.is_empty() { self.id.to_string() } else { self.uid.clone() }
    }
}

/// Whether `uid` may name an account: 1 to 128 characters of `[A-Za-z0-9._:-]`.
pub fn valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= MAX_UID
        && uid.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-'))
}

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// An account's key: its webhooks, its log, its events.
    #[default]
    Account,
    /// The platform's key: accounts, keys, the catalog, and any account's routes when it
    /// names one in `hookline-account`.
    Operator,
    /// A portal session: an account's key that expires, and may be read-only.
    PortalSession,
}

impl KeyKind {
    /// The start of every key of this kind in `environment`.
    pub fn prefix(self, environment: Environment) -> &'static str {
        match (self, environment) {
            (Self::Account, Environment::Production) => "hl_prod_",
            (Self::Account, Environment::Sandbox) => "hl_sbx_",
            (Self::Operator, Environment::Production) => "hlop_prod_",
            (Self::Operator, Environment::Sandbox) => "hlop_sbx_",
            (Self::PortalSession, _) => "hlps_",
        }
    }
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
    /// What the key is for.
    #[serde(default)]
    pub kind: KeyKind,
    /// The key's first characters, to tell keys apart in a list.
    #[serde(default)]
    pub prefix: String,
    /// When it stops working, if ever. Stored as `valid_until`: the item's `expires_at` is
    /// its TTL, in Unix seconds.
    #[serde(default, rename = "valid_until", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// A read-only key may not write (portal sessions).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// How the portal looks to this session's user (portal sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding: Option<Branding>,
}

/// The platform's look for a portal session: its colour, logo and theme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    /// The brand colour, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// An https URL of the logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// `light` or `dark`; the user's preference when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
}

/// A portal theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Dark text on light.
    Light,
    /// Light text on dark.
    Dark,
}

impl Theme {
    /// The API name of the theme.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

impl ApiKey {
    /// Whether the key has stopped working at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What a new key is: its kind, owner, environment, label, end and rights.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// What it is for.
    pub kind: KeyKind,
    /// The account it belongs to (the platform's own for operator keys).
    pub account_id: AccountId,
    /// Its environment.
    pub environment: Environment,
    /// A label, the audit's `app` when a request names none.
    pub label: String,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it may only read.
    pub read_only: bool,
    /// The portal's look (portal sessions).
    pub branding: Option<Branding>,
}

impl KeySpec {
    /// An account key that never expires and may write.
    pub fn account(account_id: AccountId, environment: Environment, label: impl Into<String>) -> Self {
        Self {
            kind: KeyKind::Account,
            account_id,
            environment,
            label: label.into(),
            expires_at: None,
            read_only: false,
            branding: None,
        }
    }
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
    /// Generates an account key: `hl_<env>_` + 32 random bytes, base64url.
    pub fn generate(
        account_id: AccountId,
        environment: Environment,
        label: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self::of(KeySpec::account(account_id, environment, label), now)
    }

    /// Generates a key of any kind: its kind's prefix + 32 random bytes, base64url.
    pub fn of(spec: KeySpec, now: DateTime<Utc>) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let plaintext = format!("{}{}", spec.kind.prefix(spec.environment), URL_SAFE_NO_PAD.encode(bytes));
        Self::with_plaintext(plaintext, spec, now)
    }

    /// Builds the record of an account key chosen by the operator (e.g. `DEV_API_KEY`).
    pub fn from_plaintext(
        plaintext: String,
        account_id: AccountId,
        environment: Environment,
        label: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self::with_plaintext(plaintext, KeySpec::account(account_id, environment, label), now)
    }

    /// Builds the record of a key of `spec` whose plaintext is chosen.
    pub fn with_plaintext(plaintext: String, spec: KeySpec, now: DateTime<Utc>) -> Self {
        let key_hash = hash_api_key(&plaintext);
        let shown = spec.kind.prefix(spec.environment).len() + 4;
        let record = ApiKey {
            id: format!("key_{}", &key_hash[..16]),
            account_id: spec.account_id,
            environment: spec.environment,
            label: spec.label,
            key_hash,
            created_at: now,
            kind: spec.kind,
            prefix: plaintext.chars().take(shown).collect(),
            expires_at: spec.expires_at,
            read_only: spec.read_only,
            branding: spec.branding,
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
    fn when_kinds_generated_should_each_have_their_own_prefix() {
        let spec = |kind| KeySpec { kind, ..KeySpec::account(1, Environment::Production, "x") };
        let operator = NewApiKey::of(spec(KeyKind::Operator), Utc::now());
        let session = NewApiKey::of(spec(KeyKind::PortalSession), Utc::now());
        assert!(operator.plaintext.starts_with("hlop_prod_"), "{}", operator.plaintext);
        assert!(session.plaintext.starts_with("hlps_"));
        assert_eq!(operator.record.prefix, &operator.plaintext[..14]);
        assert_eq!(operator.record.kind, KeyKind::Operator);
    }

    #[test]
    fn when_uid_checked_should_take_only_the_allowed_characters_and_length() {
        for uid in ["platform", "cus_42", "a.b:c-d", &"x".repeat(128)] {
            assert!(valid_uid(uid), "{uid}");
        }
        for uid in ["", "with space", "slash/", "ümlaut", &"x".repeat(129)] {
            assert!(!valid_uid(uid), "{uid}");
        }
    }

    #[test]
    fn when_account_has_no_uid_should_read_as_its_id() {
        let account = Account {
            id: 9,
            uid: String::new(),
            name: "old".into(),
            metadata: BTreeMap::new(),
            created_at: Utc::now(),
            updated_at: None,
        };
        assert_eq!(account.uid(), "9");
    }

    #[test]
    fn when_environment_parsed_should_accept_only_known_names() {
        assert_eq!(Environment::parse("sandbox"), Some(Environment::Sandbox));
        assert_eq!(Environment::parse("production"), Some(Environment::Production));
        assert_eq!(Environment::parse("staging"), None);
    }
}
