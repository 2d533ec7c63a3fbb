//! Erasures' items: the subject index (`SUBJECT#{a}#{digest}` / `{message id}`), the erasure
//! marks workers read (`ERASED#{day}` / `{ms}#{a}#{message id}`, kept past the queue's
//! retention) and the erasure jobs (`ACCOUNT#{a}` / `ERASURE#{id}`).

use super::{Envelope, Store, s, to_item};
use crate::error::classify;
use crate::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use hookline_core::ErasedMark;
use hookline_domain::Result;
use hookline_domain::model::{AccountId, Erasure, MessageId};
use serde::{Deserialize, Serialize};

/// How long an erasure mark is kept: past the queue's retention (14 days), no first attempt of
/// its message can come any more.
const MARK_KEPT_SECONDS: i64 = 15 * 86_400;

/// An item of the subject index or an erasure mark: its keys (and TTL) say it all.
#[derive(Serialize, Deserialize)]
struct Bare {}

impl Store {
    /// Indexes each `(account, subject digest, message id, expiry)`.
    pub async fn index_subjects(&self, entries: &[(AccountId, String, MessageId, i64)]) -> Result<()> {
        let items = entries
            .iter()
            .map(|(account, digest, id, expires_at)| {
                to_item(
                    &Envelope::new(keys::subject_pk(*account, digest), id.clone(), Bare {}).expiring(Some(*expires_at)),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        self.batch_put(items).await
    }

    /// A page of the messages indexed under a subject, in id order, and the id the next page
    /// starts after.
    pub async fn subject_messages(
        &self,
        account: AccountId,
        digest: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<MessageId>, Option<String>)> {
        let pk = keys::subject_pk(account, digest);
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk.clone()))
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX).max(1));
        if let Some(after) = cursor {
            request = request.exclusive_start_key("pk", s(pk)).exclusive_start_key("sk", s(after));
        }
        let output = request.send().await.map_err(|error| classify("subject_messages", error))?;
        let ids: Vec<MessageId> = output
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|mut item| match item.remove("sk") {
                Some(AttributeValue::S(id)) => Some(id),
                _ => None,
            })
            .collect();
        let next = output.last_evaluated_key.filter(|key| !key.is_empty()).and_then(|_| ids.last().cloned());
        Ok((ids, next))
    }

    /// Removes index entries of a subject.
    pub async fn unindex_subject(&self, account: AccountId, digest: &str, ids: &[MessageId]) -> Result<()> {
        let pk = keys::subject_pk(account, digest);
        self.batch_delete(ids.iter().map(|id| (pk.clone(), id.clone())).collect()).await
    }

    /// Marks messages (or subjects) as erased at `at`, under `at`'s day.
    pub async fn mark_erased(&self, marks: &[(AccountId, String)], at: DateTime<Utc>) -> Result<()> {
        let pk = keys::erased_pk(at.date_naive());
        let expires_at = at.timestamp() + MARK_KEPT_SECONDS;
        let items = marks
            .iter()
            .map(|(account, id)| {
                let sk = keys::erased_sk(at.timestamp_millis(), *account, id);
                to_item(&Envelope::new(pk.clone(), sk, Bare {}).expiring(Some(expires_at)))
            })
            .collect::<Result<Vec<_>>>()?;
        self.batch_put(items).await
    }

    /// The marks made on `day` after `after`, read consistently (every page).
    pub async fn erased_since(&self, day: NaiveDate, after: DateTime<Utc>) -> Result<Vec<ErasedMark>> {
        let mut marks = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":pk", s(keys::erased_pk(day)))
                .expression_attribute_values(":after", s(format!("{:013}", after.timestamp_millis().max(0))))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| classify("erased_since", error))?;
            for item in output.items.unwrap_or_default() {
                let Some(AttributeValue::S(sk)) = item.get("sk") else { continue };
                let mut parts = sk.splitn(3, '#');
                let at = parts.next().and_then(|ms| ms.parse().ok()).and_then(DateTime::from_timestamp_millis);
                let account = parts.next().and_then(|account| account.parse::<AccountId>().ok());
                if let (Some(at), Some(account), Some(key)) = (at, account, parts.next()) {
                    marks.push((account, key.to_string(), at));
                }
            }
            match output.last_evaluated_key.filter(|key| !key.is_empty()) {
                Some(key) => start = Some(key),
                None => return Ok(marks),
            }
        }
    }

    /// Writes an erasure job.
    pub async fn put_erasure(&self, erasure: &Erasure) -> Result<()> {
        let envelope = Envelope::new(keys::account_pk(erasure.account_id), keys::erasure_sk(&erasure.id), erasure);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&envelope)?))
            .send()
            .await
            .map_err(|error| classify("put_erasure", error))?;
        Ok(())
    }

    /// Reads an account's erasure job.
    pub async fn get_erasure(&self, account: AccountId, id: &str) -> Result<Option<Erasure>> {
        if !id.starts_with("ers_") {
            return Ok(None);
        }
        self.get(keys::account_pk(account), &keys::erasure_sk(id)).await
    }
}
