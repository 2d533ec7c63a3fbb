//! The event types an account registers.

use super::{Envelope, On, Store};
use crate::keys;
use hookline_domain::Result;
use hookline_domain::model::{AccountId, EventType};

impl Store {
    /// Registers an event type; a conflict if the account has it already.
    pub async fn create_event_type(&self, event_type: &EventType) -> Result<()> {
        let envelope =
            Envelope::new(keys::account_pk(event_type.account_id), keys::event_type_sk(&event_type.name), event_type);
        self.put_new("create_event_type", &envelope).await
    }

    /// Every event type of an account, by name.
    pub async fn list_event_types(&self, account: AccountId) -> Result<Vec<EventType>> {
        self.query_all(On::Table, keys::account_pk(account), Some(keys::EVENT_TYPE_PREFIX)).await
    }

    /// Removes an event type; `false` if there was none.
    pub async fn delete_event_type(&self, account: AccountId, name: &str) -> Result<bool> {
        self.delete_existing("delete_event_type", keys::account_pk(account), keys::event_type_sk(name)).await
    }
}
