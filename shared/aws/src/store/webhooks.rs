//! Webhooks: their id counter, versioned updates and listings.

use super::{Envelope, On, Page, Store, to_item};
use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use hookline_domain::Result;
use hookline_domain::model::{AccountId, Webhook, WebhookId};

impl Store {
    /// The next webhook id of an account, from its atomic counter.
    pub async fn next_webhook_id(&self, account: AccountId) -> Result<WebhookId> {
        self.increment(keys::account_pk(account), keys::WEBHOOK_COUNTER_SK).await
    }

    /// Stores a new webhook; a conflict if its id is taken.
    pub async fn create_webhook(&self, webhook: &Webhook) -> Result<()> {
        self.put_new("create_webhook", &Self::webhook_envelope(webhook)).await?;
        self.bump_account_version(webhook.account_id).await
    }

    /// The account's routing version: 0 before any webhook changed (a consistent read).
    pub async fn account_version(&self, account: AccountId) -> Result<u64> {
        let item = self.get_item(keys::account_pk(account), keys::ACCOUNT_VERSION_SK).await?;
        Ok(item
            .as_ref()
            .and_then(|item| item.get("value"))
            .and_then(|value| value.as_n().ok())
            .and_then(|number| number.parse().ok())
            .unwrap_or_default())
    }

    /// Bumps the account's routing version, after a change of its webhooks: a reader that
    /// sees the new version reads the change. Two calls, not a transaction (one would make
    /// concurrent changes of an account's webhooks conflict): if the process stops between
    /// them, ingest's cache keeps the change's predecessor until the account's next change.
    async fn bump_account_version(&self, account: AccountId) -> Result<()> {
        self.increment(keys::account_pk(account), keys::ACCOUNT_VERSION_SK).await.map(|_| ())
    }

    /// Replaces a webhook if its stored version is still `webhook.version - 1`; a conflict
    /// otherwise, so that of two concurrent updates one fails instead of being lost.
    pub async fn update_webhook(&self, webhook: &Webhook) -> Result<()> {
        let item = to_item(&Self::webhook_envelope(webhook))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk) AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", AttributeValue::N(webhook.version.saturating_sub(1).to_string()))
            .send()
            .await
            .map_err(|error| classify("update_webhook", error))?;
        self.bump_account_version(webhook.account_id).await
    }

    fn webhook_envelope(webhook: &Webhook) -> Envelope<&Webhook> {
        Envelope::new(keys::account_pk(webhook.account_id), keys::webhook_sk(webhook.id), webhook)
    }

    /// Reads a webhook of an account.
    pub async fn get_webhook(&self, account: AccountId, id: WebhookId) -> Result<Option<Webhook>> {
        self.get(keys::account_pk(account), &keys::webhook_sk(id)).await
    }

    /// Every webhook of an account, in id order (all pages of the query).
    pub async fn list_webhooks(&self, account: AccountId) -> Result<Vec<Webhook>> {
        self.query_all(On::Table, keys::account_pk(account), Some(keys::WEBHOOK_PREFIX)).await
    }

    /// The first `count` webhooks of an account in id order, and whether more follow: reads
    /// `count + 1` items, not the account's other webhooks.
    pub async fn first_webhooks(&self, account: AccountId, count: usize) -> Result<(Vec<Webhook>, bool)> {
        let mut webhooks = Vec::new();
        let mut cursor: Option<String> = None;
        while webhooks.len() <= count {
            let wanted = i32::try_from((count + 1 - webhooks.len()).min(1000)).unwrap_or(1000);
            let page = self.page_webhooks(account, wanted, cursor.as_deref()).await?;
            webhooks.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let more = webhooks.len() > count;
        webhooks.truncate(count);
        Ok((webhooks, more))
    }

    /// One page of an account's webhooks, in id order.
    pub async fn page_webhooks(&self, account: AccountId, limit: i32, cursor: Option<&str>) -> Result<Page<Webhook>> {
        self.query_page(On::Table, keys::account_pk(account), Some(keys::WEBHOOK_PREFIX), limit, cursor, true).await
    }

    /// Deletes a webhook; `false` if there was none.
    pub async fn delete_webhook(&self, account: AccountId, id: WebhookId) -> Result<bool> {
        let deleted = self.delete_existing("delete_webhook", keys::account_pk(account), keys::webhook_sk(id)).await?;
        if deleted {
            self.bump_account_version(account).await?;
        }
        Ok(deleted)
    }
}
