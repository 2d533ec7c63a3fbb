//! The platform's event catalog: one partition, `CATALOG`, an item per event type. Before it,
//! each account kept its own types in its partition: [`Store::list_account_event_types`]
//! reads those for the migration.

use super::{Envelope, On, Store, to_item};
use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use hookline_domain::model::{AccountId, EventType};
use hookline_domain::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event type as an account registered it, before the platform's catalog.
#[derive(Debug, Serialize, Deserialize)]
struct AccountEventType {
    #[serde(default)]
    account_id: AccountId,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    schema: Option<Value>,
    created_at: DateTime<Utc>,
}

impl Store {
    fn event_type_envelope(event_type: &EventType) -> Envelope<&EventType> {
        Envelope::new(keys::CATALOG_PK.to_string(), keys::event_type_sk(&event_type.name), event_type)
    }

    /// Registers an event type in the catalog; a conflict if the name is taken.
    pub async fn create_event_type(&self, event_type: &EventType) -> Result<()> {
        self.put_new("create_event_type", &Self::event_type_envelope(event_type)).await
    }

    /// One event type of the catalog.
    pub async fn get_event_type(&self, name: &str) -> Result<Option<EventType>> {
        self.get(keys::CATALOG_PK.to_string(), &keys::event_type_sk(name)).await
    }

    /// Every event type of the catalog, by name.
    pub async fn list_event_types(&self) -> Result<Vec<EventType>> {
        self.query_all(On::Table, keys::CATALOG_PK.to_string(), Some(keys::EVENT_TYPE_PREFIX)).await
    }

    /// Replaces an event type whose stored version is `event_type.version - 1`: a conflict if
    /// another writer changed it first, not found if it is gone.
    pub async fn update_event_type(&self, event_type: &EventType) -> Result<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&Self::event_type_envelope(event_type))?))
            .condition_expression("attribute_exists(pk) AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(event_type.version.saturating_sub(1).to_string()),
            )
            .send()
            .await;
        result.map_err(|error| classify("update_event_type", error))?;
        Ok(())
    }

    /// Removes an event type from the catalog; `false` if there was none.
    pub async fn delete_event_type(&self, name: &str) -> Result<bool> {
        self.delete_existing("delete_event_type", keys::CATALOG_PK.to_string(), keys::event_type_sk(name)).await
    }

    /// The event types an account registered before the platform's catalog, by name, as
    /// catalog types (not deprecated, no group or example; changed when registered).
    pub async fn list_account_event_types(&self, account: AccountId) -> Result<Vec<EventType>> {
        let found: Vec<AccountEventType> =
            self.query_all(On::Table, keys::account_pk(account), Some(keys::EVENT_TYPE_PREFIX)).await?;
        Ok(found
            .into_iter()
            .map(|old| EventType {
                name: old.name,
                description: old.description,
                group: String::new(),
                schema: old.schema,
                example: None,
                deprecated: false,
                created_at: old.created_at,
                updated_at: old.created_at,
                version: 1,
            })
            .collect())
    }

    /// Stores an event type as an account registered it before the platform's catalog (for
    /// the migration's tests): what `POST /api/v3/notification/event_types` used to write.
    pub async fn put_account_event_type(&self, account: AccountId, event_type: &EventType) -> Result<()> {
        let record = AccountEventType {
            account_id: account,
            name: event_type.name.clone(),
            description: event_type.description.clone(),
            schema: event_type.schema.clone(),
            created_at: event_type.created_at,
        };
        let envelope = Envelope::new(keys::account_pk(account), keys::event_type_sk(&event_type.name), record);
        self.put_new("put_account_event_type", &envelope).await.map_err(|error| match error {
            Error::Conflict(_) => Error::Conflict(format!("account {account} has {} already", event_type.name)),
            other => other,
        })
    }
}
