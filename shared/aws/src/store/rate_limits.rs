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
            if let Some(slot) = self.try_reserve(account, webhook, span_us, now_us, ahead).await? {
                self.schedules.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, slot + span_us);
                return Ok(slot);
            }
            ahead = !ahead;
        }
        Err(Error::Unavailable(format!("reserve_slot: the schedule of webhook {webhook} kept moving")))
    }

    /// One conditional update: if the schedule is `ahead` of now, the span starts where the
    /// schedule ends (which moves on by the span); else the schedule lies in the past (or there
    /// is none) and the span starts now. `None` when the schedule was not as supposed.
    async fn try_reserve(
        &self,
        account: AccountId,
        webhook: WebhookId,
        span_us: i64,
        now_us: i64,
        ahead: bool,
    ) -> Result<Option<i64>> {
        let span = AttributeValue::N(span_us.to_string());
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::account_pk(account)))
            .key("sk", s(keys::rate_sk(webhook)))
            .expression_attribute_values(":now", AttributeValue::N(now_us.to_string()))
            .expression_attribute_values(":span", span)
            .expression_attribute_values(":expires", AttributeValue::N((now_us / 1_000_000 + KEPT_SECONDS).to_string()))
            .return_values(ReturnValue::UpdatedNew);
        let request = if ahead {
            request
                .update_expression("SET next_us = next_us + :span, expires_at = :expires")
                .condition_expression("next_us >= :now")
        } else {
            request
                .update_expression("SET next_us = :now + :span, expires_at = :expires")
                .condition_expression("attribute_not_exists(next_us) OR next_us < :now")
        };
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
}
