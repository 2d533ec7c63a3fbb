//! The erasure marks this process has read, so that the first attempts of erased messages
//! (which carry their payload in the task) are cancelled instead of sent.

use crate::ports::Erasures;
use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use hookline_domain::Result;
use hookline_domain::model::{AccountId, MessageId};
use std::collections::{BTreeMap, HashSet};
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
    erased: HashSet<(AccountId, MessageId)>,
}

impl ErasedMarks {
    /// Reads the marks made since the last read on each day from `from` (the day of the oldest
    /// message asked about: a message can only be erased after it was accepted) to today, and
    /// answers which of `wanted` are erased.
    pub async fn erased<S: Erasures>(
        &self,
        store: &S,
        from: NaiveDate,
        wanted: &[(AccountId, MessageId)],
    ) -> Result<HashSet<(AccountId, MessageId)>> {
        let now = Utc::now();
        let today = now.date_naive();
        let since: Vec<(NaiveDate, DateTime<Utc>)> = {
            let marks = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            from.iter_days()
                .take_while(|day| *day <= today)
                .map(|day| {
                    let start = day.and_hms_opt(0, 0, 0).map(|at| at.and_utc()).unwrap_or(now) - Span::seconds(1);
                    (day, marks.read_until.get(&day).map_or(start, |until| *until - LOOKBACK))
                })
                .collect()
        };
        let reads = since.iter().map(|(day, after)| store.erased_since(*day, *after));
        let found = futures::future::try_join_all(reads).await?;
        let mut marks = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((day, _), found) in since.iter().zip(found) {
            marks.read_until.insert(*day, now);
            marks.erased.extend(found);
        }
        // Days no message can come from any more (past the queue's retention) are forgotten.
        let oldest = today - Span::days(15);
        marks.read_until.retain(|day, _| *day >= oldest);
        Ok(wanted.iter().filter(|key| marks.erased.contains(*key)).cloned().collect())
    }
}
