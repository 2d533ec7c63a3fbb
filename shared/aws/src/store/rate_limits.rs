//! Rate-limited webhooks' send schedules: one counter item per webhook, shared by every worker.

use super::{Store, s};
use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use hookline_domain::model::{AccountId, WebhookId};
use hookline_domain::{Error, Result};

/// How long a schedule is kept after its last reservation: past SQS's retention, no task
/// waits for a slot any more.
const KEPT_SECONDS: i64 = 15 * 86_400;
/// Tries of the two conditional updates before the store is reported unavailable (each
/// failure means another worker moved the schedule in between).
const TRIES: usize = 5;

impl Store {
    /// Reserves a webhook's next `span_us` of send time (its slots of one batch) and returns
    /// where it starts (Unix microseconds): where the last reservation ended if that is ahead
    /// of `now_us`, else `now_us`. Two conditional updates of
    /// `ACCOUNT#{a}` / `RATE#{w}`, tried in the order this process last saw work: a failed
    /// condition costs a write unit, so a busy webhook usually pays one, an idle one one.
    pub async fn reserve_slots(
        &self,
        account: AccountId,
        webhook: WebhookId,
        span_us: i64,
        now_us: i64,
    ) -> Result<i64> {
        let key = (account, webhook);
        let mut ahead =
            self.schedules.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key).copied() > Some(now_us);
        for _ in 0..TRIES {
            let reserved = if ahead {
                self.take_next_slot(account, webhook, span_us, now_us).await?
            } else {
                self.restart_schedule(account, webhook, span_us, now_us).await?
            };
            if let Some(slot) = reserved {
                self.schedules.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, slot + span_us);
                return Ok(slot);
            }
            ahead = !ahead;
        }
        Err(Error::Unavailable(format!("reserve_slot: the schedule of webhook {webhook} kept moving")))
    }

    /// The schedule is ahead of now: the span starts where it ends, and it ends later.
    async fn take_next_slot(
        &self,
        account: AccountId,
        webhook: WebhookId,
        span_us: i64,
        now_us: i64,
    ) -> Result<Option<i64>> {
        let request = self
            .slot_update(account, webhook, now_us)
            .update_expression("SET next_us = next_us + :span, expires_at = :expires")
            .condition_expression("next_us >= :now")
            .expression_attribute_values(":span", AttributeValue::N(span_us.to_string()))
            .return_values(ReturnValue::UpdatedNew);
        match request.send().await.map_err(|error| classify("reserve_slot", error)) {
            Ok(output) => {
                let next = output
                    .attributes
                    .as_ref()
                    .and_then(|attributes| attributes.get("next_us"))
                    .and_then(|value| value.as_n().ok())
                    .and_then(|number| number.parse::<i64>().ok())
                    .ok_or_else(|| Error::internal("reserve_slot: no next_us returned"))?;
                Ok(Some(next - span_us))
            }
            Err(Error::Conflict(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The schedule lies in the past (or there is none): the slot is now.
    async fn restart_schedule(
        &self,
        account: AccountId,
        webhook: WebhookId,
        span_us: i64,
        now_us: i64,
    ) -> Result<Option<i64>> {
        let request = self
            .slot_update(account, webhook, now_us)
            .update_expression("SET next_us = :next, expires_at = :expires")
            .condition_expression("attribute_not_exists(next_us) OR next_us < :now")
            .expression_attribute_values(":next", AttributeValue::N((now_us + span_us).to_string()));
        match request.send().await.map_err(|error| classify("reserve_slot", error)) {
            Ok(_) => Ok(Some(now_us)),
            Err(Error::Conflict(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn slot_update(
        &self,
        account: AccountId,
        webhook: WebhookId,
        now_us: i64,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::account_pk(account)))
            .key("sk", s(keys::rate_sk(webhook)))
            .expression_attribute_values(":now", AttributeValue::N(now_us.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N((now_us / 1_000_000 + KEPT_SECONDS).to_string()))
    }
}
