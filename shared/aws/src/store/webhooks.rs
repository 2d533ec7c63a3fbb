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
        self.put_new("create_webhook", &Self::webhook_envelope(webhook)).await
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
        Ok(())
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

    /// One page of an account's webhooks, in id order.
    pub async fn page_webhooks(&self, account: AccountId, limit: i32, cursor: Option<&str>) -> Result<Page<Webhook>> {
        self.query_page(On::Table, keys::account_pk(account), Some(keys::WEBHOOK_PREFIX), limit, cursor, true).await
    }

    /// Deletes a webhook; `false` if there was none.
    pub async fn delete_webhook(&self, account: AccountId, id: WebhookId) -> Result<bool> {
        self.delete_existing("delete_webhook", keys::account_pk(account), keys::webhook_sk(id)).await
    }
}
