//! Idempotency records: claiming a key, taking over its lease, finishing and releasing it.

use super::{Envelope, IdempotencyRecord, Store, s};
use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use hookline_domain::model::AccountId;
use hookline_domain::{Error, Result};

impl Store {
    /// Claims an idempotency key: `None` if this call created the record, else the record
    /// that exists.
    pub async fn claim_idempotency(
        &self,
        account: AccountId,
        record: &IdempotencyRecord,
        expires_at: i64,
    ) -> Result<Option<IdempotencyRecord>> {
        let envelope = Envelope::new(keys::account_pk(account), keys::idempotency_sk(&record.key), record)
            .expiring(Some(expires_at));
        match self.put_new("claim_idempotency", &envelope).await {
            Ok(()) => Ok(None),
            Err(Error::Conflict(_)) => self.get(keys::account_pk(account), &keys::idempotency_sk(&record.key)).await,
            Err(error) => Err(error),
        }
    }

    /// Takes over an unfinished record whose lease has run out; `false` if another request
    /// holds the lease or the record is finished.
    pub async fn take_over_idempotency(
        &self,
        account: AccountId,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::account_pk(account)))
            .key("sk", s(keys::idempotency_sk(key)))
            .update_expression("SET lease_until_ms = :lease")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#response) AND lease_until_ms < :now")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":lease", AttributeValue::N(lease_until_ms.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .send()
            .await;
        match result.map_err(|error| classify("take_over_idempotency", error)) {
            Ok(_) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Records the response of a finished request; repeats answer it.
    pub async fn finish_idempotency(&self, account: AccountId, key: &str, response: &str) -> Result<()> {
        self.set_idempotency(account, key, "SET #response = :value", ":value", s(response)).await
    }

    /// Gives up the lease of a request that failed, so that its retry can resume at once.
    pub async fn release_idempotency(&self, account: AccountId, key: &str) -> Result<()> {
        self.set_idempotency(account, key, "SET lease_until_ms = :value", ":value", AttributeValue::N("0".into())).await
    }

    async fn set_idempotency(
        &self,
        account: AccountId,
        key: &str,
        expression: &str,
        name: &str,
        value: AttributeValue,
    ) -> Result<()> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::account_pk(account)))
            .key("sk", s(keys::idempotency_sk(key)))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(name, value);
        if expression.contains("#response") {
            request = request.expression_attribute_names("#response", "response");
        }
        request.send().await.map_err(|error| classify("update_idempotency", error))?;
        Ok(())
    }
}
