//! Operational events: what Hookline tells the platform about its accounts, their webhooks
//! and their deliveries, published into the platform's own account (uid `platform`) through
//! the ordinary pipeline, so they are matched, signed, retried and logged like any event.

use crate::accept::Acceptor;
use crate::ports::{Accounts, Idempotency, LogWriter, SubjectIndex, TaskQueue, Webhooks};
use chrono::Utc;
use hookline_domain::Result;
use hookline_domain::auth::Caller;
use hookline_domain::events::NewEvent;
use hookline_domain::model::{Account, AccountId, Audit, Environment, PLATFORM_UID, Webhook, WebhookStatus};
pub use hookline_domain::operational::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// One operational event about an account.
#[derive(Debug, Clone)]
pub struct Operational {
    /// One of [`TYPES`].
    pub event_type: &'static str,
    /// The account it is about.
    pub account_id: AccountId,
    /// What happened: its `type` and the account's id are added, and its uid unless given (a
    /// deleted account's cannot be read).
    pub payload: Value,
    /// What makes it one event however often it is told (a retried task tells it again).
    pub idempotency_key: String,
}

/// The platform's account and its webhooks, as read at one time.
#[derive(Debug, Clone)]
pub struct Platform {
    /// The account (uid `platform`).
    pub account: Account,
    /// Its webhooks.
    pub webhooks: Vec<Webhook>,
}

impl Platform {
    /// Whether an enabled webhook of the platform subscribes to `event_type`: an event no one
    /// subscribes to is not published at all, so that telling costs nothing until the platform
    /// asks to hear it.
    pub fn listens_to(&self, event_type: &str) -> bool {
        self.webhooks.iter().any(|webhook| {
            webhook.status == WebhookStatus::Enabled
                && webhook
                    .events
                    .iter()
                    .any(|subscription| subscription.event_type == event_type || subscription.event_type == "*")
        })
    }
}

/// Publishes operational events into the platform's account.
#[derive(Debug, Clone, Copy)]
pub struct Publisher<'a, S, Q> {
    /// Accounts, webhooks, idempotency records, the log.
    pub store: &'a S,
    /// The delivery queue.
    pub queue: &'a Q,
    /// How long log entries are kept.
    pub retention_days: u32,
}

impl<S: Accounts + Webhooks + Idempotency + LogWriter + SubjectIndex, Q: TaskQueue> Publisher<'_, S, Q> {
    /// Tells the platform `event`. Nothing is told without a platform account (none was
    /// bootstrapped), nothing the platform's webhooks do not subscribe to, nor about the platform's own account: its own deliveries failing must
    /// not feed events about themselves.
    pub async fn publish(&self, event: Operational) -> Result<()> {
        match self.platform().await? {
            Some(platform) => self.publish_to(&platform, event).await,
            None => Ok(()),
        }
    }

    /// The platform's account and webhooks as stored now; `None` if none was bootstrapped.
    pub async fn platform(&self) -> Result<Option<Platform>> {
        let Some(account) = self.store.find_account_by_uid(PLATFORM_UID).await? else { return Ok(None) };
        let webhooks = self.store.list_webhooks(account.id).await?;
        Ok(Some(Platform { account, webhooks }))
    }

    /// Tells `platform` (read earlier, e.g. cached by the delivery worker) `event`, if it listens.
    pub async fn publish_to(&self, platform: &Platform, event: Operational) -> Result<()> {
        if platform.account.id == event.account_id || !platform.listens_to(event.event_type) {
            return Ok(());
        }
        let mut payload = event.payload;
        if payload.get("account_uid").is_none() {
            let account_uid = match self.store.get_account(event.account_id).await? {
                Some(account) => account.uid(),
                None => event.account_id.to_string(),
            };
            payload["account_uid"] = Value::String(account_uid);
        }
        payload["account_id"] = Value::from(event.account_id);
        payload["type"] = Value::String(event.event_type.to_string());
        let caller = Caller {
            account_id: platform.account.id,
            environment: Environment::Production,
            audit: Audit { client_id: "hookline".into(), external_client_id: None, app: Some("hookline".into()) },
        };
        let new = NewEvent {
            event_type: event.event_type.to_string(),
            fingerprint: format!("{}:{}", event.event_type, event.idempotency_key),
            subject: None,
            payload,
            environment: Environment::Production,
            scopes: BTreeMap::new(),
            occurred_at: Utc::now(),
            idempotency_key: Some(format!("{}:{}", event.event_type, event.idempotency_key)),
        };
        let acceptor = Acceptor { store: self.store, queue: self.queue, retention_days: self.retention_days };
        acceptor.accept(&caller, &platform.webhooks, new).await.map(|_| ())
    }

    /// [`Publisher::publish`], for a change already made that its caller cannot undo (a webhook
    /// created through the API): a failure is logged, not returned.
    pub async fn tell(&self, event: Operational) {
        let event_type = event.event_type;
        if let Err(error) = self.publish(event).await {
            tracing::warn!(%error, event_type, "an operational event was not published");
        }
    }
}
