//! The worker's cache of webhooks: a first attempt may use a copy at least as recent as the
//! version its event was matched against, so most deliveries read nothing.

use hookline_domain::model::{AccountId, Webhook, WebhookId};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Webhooks this process has read, by account and id; clones share the cache.
#[derive(Debug, Clone, Default)]
pub struct WebhookCache {
    webhooks: Arc<Mutex<HashMap<(AccountId, WebhookId), Webhook>>>,
}

impl WebhookCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<(AccountId, WebhookId), Webhook>> {
        self.webhooks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached copy of a webhook if it is at least at `version`.
    pub fn at_least(&self, account: AccountId, id: WebhookId, version: u64) -> Option<Webhook> {
        self.lock().get(&(account, id)).filter(|cached| cached.version >= version).cloned()
    }

    /// Keeps what was read: the webhook, or that it is gone.
    pub fn remember(&self, account: AccountId, id: WebhookId, webhook: Option<&Webhook>) {
        let mut cache = self.lock();
        match webhook {
            Some(webhook) => cache.insert((account, id), webhook.clone()),
            None => cache.remove(&(account, id)),
        };
    }

    /// Of the `wanted` (account, id, version) triples, those the cache has no recent enough
    /// copy of, each once.
    pub fn missing(
        &self,
        wanted: impl IntoIterator<Item = (AccountId, WebhookId, u64)>,
    ) -> BTreeSet<(AccountId, WebhookId)> {
        let cache = self.lock();
        wanted
            .into_iter()
            .filter(|(account, id, version)| cache.get(&(*account, *id)).is_none_or(|cached| cached.version < *version))
            .map(|(account, id, _)| (account, id))
            .collect()
    }
}
