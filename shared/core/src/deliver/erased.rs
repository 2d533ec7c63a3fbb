//! The erasure marks this process has read, so that the first attempts of erased messages
//! (which carry their payload in the task) are cancelled instead of sent: a message's own mark,
//! or its subject's, made after the message was accepted.

use crate::ports::Erasures;
use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use hookline_domain::Result;
use hookline_domain::model::{AccountId, Message, MessageId, subject_digest, subject_mark};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

/// How far back each read looks again: a mark stamped by its writer's clock and visible a
/// little later is still found.
const LOOKBACK: Span = Span::seconds(60);

/// Marks read so far, and up to when, by the day they were made.
#[derive(Debug, Default)]
pub struct ErasedMarks {
    inner: Mutex<Marks>,
}

#[derive(Debug, Default)]
struct Marks {
    read_until: BTreeMap<NaiveDate, DateTime<Utc>>,
    /// Message marks and subject marks, with the latest time each was made.
    erased: HashMap<(AccountId, String), DateTime<Utc>>,
}

impl ErasedMarks {
    /// Reads the marks made since the last read on each day from the oldest message's (a
    /// message can only be erased after it was accepted) to today, and answers which of
    /// `messages` are erased.
    pub async fn erased<S: Erasures>(
        &self,
        store: &S,
        messages: &[&Message],
    ) -> Result<HashSet<(AccountId, MessageId)>> {
        let Some(from) = messages.iter().map(|message| message.created_at.date_naive()).min() else {
            return Ok(HashSet::new());
        };
        let now = Utc::now();
        let today = now.date_naive();
        let since: Vec<(NaiveDate, DateTime<Utc>)> = {
            let marks = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            from.iter_days()
                .take_while(|day| *day <= today)
                .map(|day| {
                    let start = day.and_hms_opt(0, 0, 0).map_or(now, |at| at.and_utc()) - Span::seconds(1);
                    (day, marks.read_until.get(&day).map_or(start, |until| *until - LOOKBACK))
                })
                .collect()
        };
        let reads = since.iter().map(|(day, after)| store.erased_since(*day, *after));
        let found = futures::future::try_join_all(reads).await?;
        let mut marks = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((day, _), found) in since.iter().zip(found) {
            marks.read_until.insert(*day, now);
            for (account, key, at) in found {
                let latest = marks.erased.entry((account, key)).or_insert(at);
                *latest = (*latest).max(at);
            }
        }
        // Days no message can come from any more (past the queue's retention) are forgotten.
        let oldest = today - Span::days(15);
        marks.read_until.retain(|day, _| *day >= oldest);
        Ok(messages
            .iter()
            .filter(|message| {
                let own = marks.erased.contains_key(&(message.account_id, message.id.clone()));
                let subject = message.subject.as_deref().and_then(|subject| {
                    marks.erased.get(&(message.account_id, subject_mark(&subject_digest(subject))))
                });
                own || subject.is_some_and(|at| *at >= message.created_at)
            })
            .map(|message| (message.account_id, message.id.clone()))
            .collect())
    }
}
