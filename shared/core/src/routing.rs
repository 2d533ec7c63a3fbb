//! What ingest keeps between requests, per container, so that a warm publish costs one small
//! read whatever the size of the account: the keys it saw, the platform's catalog, the
//! accounts acting operators named, and each account's webhooks, checked on every request
//! against the account's version, which every change of its webhooks bumps.
//!
//! The bounds: a key, an account uid and the catalog are kept at most [`KEPT_FOR`] (the
//! platform plane's revocation rule: a revoked or expired key is refused within a minute;
//! expiry itself is checked on every request); an event type the cached catalog does not have
//! reloads it (at most once a second), so a type is publishable as soon as it is created, and a
//! changed schema or deprecation applies within a minute; the webhooks are never used past a
//! version change.

use crate::ports::{AccountVersions, Accounts, EventTypes, KeyLookup, Webhooks};
use hookline_domain::Result;
use hookline_domain::event_types::Catalog;
use hookline_domain::model::{Account, AccountId, ApiKey, Webhook, hash_api_key};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a key, an account uid or the catalog is used before it is read again.
pub const KEPT_FOR: Duration = Duration::from_secs(60);
/// The shortest time between two reloads of the catalog for a type it did not have.
pub const CATALOG_RELOAD_GAP: Duration = Duration::from_secs(1);
/// Entries of each map before it is emptied: a bound on a container's memory.
const MAX_ENTRIES: usize = 10_000;

/// An account's webhooks at a version, and which of them take each event type.
#[derive(Debug)]
struct Routing {
    version: u64,
    webhooks: Vec<Webhook>,
    /// Indexes into `webhooks` by subscribed event type; `*` for those taking every type.
    by_type: HashMap<String, Vec<usize>>,
}

impl Routing {
    fn new(version: u64, webhooks: Vec<Webhook>) -> Self {
        let mut by_type: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, webhook) in webhooks.iter().enumerate() {
            for subscription in &webhook.events {
                let taking = by_type.entry(subscription.event_type.clone()).or_default();
                if taking.last() != Some(&index) {
                    taking.push(index);
                }
            }
        }
        Self { version, webhooks, by_type }
    }

    /// The webhooks subscribed to any of `event_types` (or to every type), in id order.
    fn taking(&self, event_types: &[&str]) -> Vec<Webhook> {
        let mut indexes: Vec<usize> = event_types
            .iter()
            .copied()
            .chain(["*"])
            .filter_map(|event_type| self.by_type.get(event_type))
            .flatten()
            .copied()
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes.into_iter().map(|index| self.webhooks[index].clone()).collect()
    }
}

/// A value read at an instant.
#[derive(Debug, Clone)]
struct Kept<T> {
    value: T,
    at: Instant,
}

impl<T: Clone> Kept<T> {
    fn fresh(&self, now: Instant) -> Option<T> {
        (now.duration_since(self.at) < KEPT_FOR).then(|| self.value.clone())
    }
}

/// The per-container cache of ingest (see the module's bounds).
#[derive(Debug, Default)]
pub struct RoutingCache {
    keys: Mutex<HashMap<String, Kept<Option<ApiKey>>>>,
    accounts: Mutex<HashMap<String, Kept<Option<Account>>>>,
    catalog: Mutex<Option<Kept<Arc<Catalog>>>>,
    routings: Mutex<HashMap<AccountId, Arc<Routing>>>,
}

fn bounded<K, V>(map: &mut HashMap<K, V>) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RoutingCache {
    /// The key of `plaintext`, read at most once per [`KEPT_FOR`] (an unknown key too, so
    /// that guessing keys costs a read a minute per guess, not per request).
    pub async fn key(&self, store: &impl KeyLookup, plaintext: &str) -> Result<Option<ApiKey>> {
        let hash = hash_api_key(plaintext);
        if let Some(key) = lock(&self.keys).get(&hash).and_then(|kept| kept.fresh(Instant::now())) {
            return Ok(key);
        }
        let key = store.find_api_key(plaintext).await?;
        let mut keys = lock(&self.keys);
        bounded(&mut keys);
        keys.insert(hash, Kept { value: key.clone(), at: Instant::now() });
        Ok(key)
    }

    /// The account of `uid`, read at most once per [`KEPT_FOR`].
    pub async fn account_by_uid(&self, store: &impl Accounts, uid: &str) -> Result<Option<Account>> {
        if let Some(account) = lock(&self.accounts).get(uid).and_then(|kept| kept.fresh(Instant::now())) {
            return Ok(account);
        }
        let account = store.find_account_by_uid(uid).await?;
        let mut accounts = lock(&self.accounts);
        bounded(&mut accounts);
        accounts.insert(uid.to_string(), Kept { value: account.clone(), at: Instant::now() });
        Ok(account)
    }

    /// The platform's catalog, read again after [`KEPT_FOR`], or when it lacks one of
    /// `wanted` and was read more than [`CATALOG_RELOAD_GAP`] ago.
    pub async fn catalog(&self, store: &impl EventTypes, wanted: &[&str]) -> Result<Arc<Catalog>> {
        let now = Instant::now();
        if let Some(kept) = lock(&self.catalog).as_ref() {
            let complete = wanted.iter().all(|name| kept.value.contains(name));
            let age = now.duration_since(kept.at);
            if age < KEPT_FOR && (complete || age < CATALOG_RELOAD_GAP) {
                return Ok(kept.value.clone());
            }
        }
        let catalog = Arc::new(Catalog::new(store.list_event_types().await?));
        *lock(&self.catalog) = Some(Kept { value: catalog.clone(), at: Instant::now() });
        Ok(catalog)
    }

    /// The webhooks of `account` subscribed to any of `event_types`: one consistent read of
    /// the account's version, and all its webhooks only when the version changed.
    pub async fn webhooks_taking(
        &self,
        store: &(impl AccountVersions + Webhooks),
        account: AccountId,
        event_types: &[&str],
    ) -> Result<Vec<Webhook>> {
        let version = store.account_version(account).await?;
        let kept = lock(&self.routings).get(&account).filter(|routing| routing.version == version).cloned();
        let routing = match kept {
            Some(routing) => routing,
            None => {
                let routing = Arc::new(Routing::new(version, store.list_webhooks(account).await?));
                let mut routings = lock(&self.routings);
                bounded(&mut routings);
                routings.insert(account, routing.clone());
                routing
            }
        };
        Ok(routing.taking(event_types))
    }
}

/// The store seen through the cache: what [`crate::authenticate`] reads of keys and accounts.
#[derive(Debug, Clone, Copy)]
pub struct Cached<'a, S> {
    /// The store behind.
    pub store: &'a S,
    /// The cache.
    pub cache: &'a RoutingCache,
}

impl<S: KeyLookup> KeyLookup for Cached<'_, S> {
    async fn find_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        self.cache.key(self.store, plaintext).await
    }
}

impl<S: Accounts> Accounts for Cached<'_, S> {
    async fn find_account_by_uid(&self, uid: &str) -> Result<Option<Account>> {
        self.cache.account_by_uid(self.store, uid).await
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        self.store.get_account(id).await
    }
}
