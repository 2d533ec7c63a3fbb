//! Erasure: a message's payload removed from every entry of the log (the metadata and attempts
//! stay), the mark that cancels its first attempts still queued, and erasures by subject run
//! page by page through the queue, ended by a sweep once every delivery in flight has ended.

use crate::accept::retention_end;
use crate::ports::{DeliveryLog, Erasures, Outgoing, TaskQueue};
use chrono::{DateTime, Utc};
use hookline_domain::model::{AccountId, EraseTask, Erasure, ErasureStatus, MessageId, Task, subject_mark};
use hookline_domain::{Error, Result};
use std::time::Duration;

/// Messages of a subject one erasure step takes.
pub const PAGE: u32 = 100;

/// Rewrites an entry loses to a concurrent writer (a delivery's attempt) before it gives up;
/// the task is then tried again.
const TRIES: usize = 5;

/// What erasures need of the store.
pub trait ErasureStore: DeliveryLog + Erasures {}

impl<S: DeliveryLog + Erasures> ErasureStore for S {}

/// The erasure flow on its ports.
#[derive(Debug, Clone, Copy)]
pub struct Eraser<'a, S, Q> {
    /// The log, the subject index, the marks and the jobs.
    pub store: &'a S,
    /// Where the steps and sweeps go.
    pub queue: &'a Q,
    /// How long log entries are kept (their expiry is rewritten with them).
    pub retention_days: u32,
    /// How long after an erasure its sweep runs: longer than a delivery batch may run (the
    /// deliver function's timeout), so that every delivery in flight when it began has ended.
    pub sweep_after: Duration,
}

impl<S: ErasureStore, Q: TaskQueue> Eraser<'_, S, Q> {
    /// Erases one message now: marks it (its queued first attempts are cancelled, not sent),
    /// removes its payload from every entry, and sends its sweep. Returns how many entries held
    /// something to erase.
    pub async fn erase_message(&self, account: AccountId, message_id: &str) -> Result<usize> {
        let now = Utc::now();
        self.store.mark_erased(&[(account, message_id.to_string())], now).await?;
        let erased = self.erase_entries(account, message_id, now).await?;
        let sweep = EraseTask {
            account_id: account,
            erasure_id: None,
            subject_digest: None,
            message_id: Some(message_id.to_string()),
            pass: 2,
            cursor: None,
        };
        self.queue.send(&[Outgoing { task: Task::Erase(sweep), delay: self.sweep_after }]).await?;
        Ok(erased)
    }

    /// Starts erasing every message of `account` about `subject`: the job, and its first step.
    pub async fn start(&self, account: AccountId, subject: &str) -> Result<Erasure> {
        let erasure = Erasure::new(account, subject, Utc::now());
        self.store.put_erasure(&erasure).await?;
        // From now on, no first attempt of a message about it accepted before is sent.
        self.store.mark_erased(&[(account, subject_mark(&erasure.subject_digest))], erasure.created_at).await?;
        let first = EraseTask {
            account_id: account,
            erasure_id: Some(erasure.id.clone()),
            subject_digest: Some(erasure.subject_digest.clone()),
            message_id: None,
            pass: 1,
            cursor: None,
        };
        self.queue.send(&[Outgoing::now(Task::Erase(first))]).await?;
        Ok(erasure)
    }

    /// Runs one step; returns the tasks that follow it (the next page, or the sweep).
    pub async fn run(&self, task: &EraseTask) -> Result<Vec<Outgoing>> {
        let now = Utc::now();
        if let Some(message_id) = &task.message_id {
            self.erase_entries(task.account_id, message_id, now).await?;
            return Ok(Vec::new());
        }
        let (Some(erasure_id), Some(digest)) = (&task.erasure_id, &task.subject_digest) else {
            tracing::warn!(?task, "an erase task names neither a message nor an erasure; dropped");
            return Ok(Vec::new());
        };
        let Some(mut erasure) = self.store.get_erasure(task.account_id, erasure_id).await? else {
            return Ok(Vec::new());
        };
        if erasure.status == ErasureStatus::Done || erasure.step != (task.pass, task.cursor.clone()) {
            // A step the queue handed out twice, already run.
            return Ok(Vec::new());
        }
        let (ids, next) = self.store.subject_messages(task.account_id, digest, task.cursor.as_deref(), PAGE).await?;
        if task.pass == 1 {
            let marks: Vec<(AccountId, MessageId)> = ids.iter().map(|id| (task.account_id, id.clone())).collect();
            self.store.mark_erased(&marks, now).await?;
        }
        for id in &ids {
            self.erase_entries(task.account_id, id, now).await?;
        }
        if task.pass == 2 {
            // The sweep is the last reader of the index: what it read is dropped with the subject.
            self.store.unindex_subject(task.account_id, digest, &ids).await?;
        }
        let (pass, cursor, delay) = match (task.pass, next) {
            (pass, Some(cursor)) => (pass, Some(cursor), Duration::ZERO),
            (1, None) => (2, None, self.sweep_after),
            (_, None) => (0, None, Duration::ZERO),
        };
        if task.pass == 1 {
            erasure.erased += ids.len() as u64;
        }
        erasure.step = (pass, cursor.clone());
        if pass == 0 {
            erasure.status = ErasureStatus::Done;
            erasure.finished_at = Some(now);
        }
        self.store.put_erasure(&erasure).await?;
        if pass == 0 {
            return Ok(Vec::new());
        }
        let following = EraseTask { pass, cursor, ..task.clone() };
        Ok(vec![Outgoing { task: Task::Erase(following), delay }])
    }

    /// Erases the entries of one message; how many held something to erase. An entry another
    /// writer rewrote meanwhile is read again and erased again.
    async fn erase_entries(&self, account: AccountId, message_id: &str, now: DateTime<Utc>) -> Result<usize> {
        let mut erased = 0;
        for _ in 0..TRIES {
            let mut lost = false;
            for entry in self.store.message_entries(account, message_id).await? {
                let mut next = entry.clone();
                if !next.erase(now) {
                    continue;
                }
                let expires = retention_end(self.retention_days, entry.message.created_at);
                if self.store.replace_log_entry(&next, Some(entry.updated_at), expires).await? {
                    erased += 1;
                } else {
                    lost = true;
                }
            }
            if !lost {
                return Ok(erased);
            }
        }
        Err(Error::Unavailable(format!("the entries of {message_id} kept changing while being erased")))
    }
}
