//! Ordered webhooks' deliveries, from the ordered (FIFO) queue, where a webhook is a message
//! group: a group's tasks run one after the other in the queue's order. A delivery that must
//! wait (its retry is not due, its rate limit gives it a later slot) is held in the queue, where
//! it keeps its place; its group's later tasks go back behind it, their log entries saying what
//! they wait for. A FIFO queue has no per-message delay, and its visibility timeout is at most
//! 12 hours: a longer wait is held again when the message comes back early. First attempts'
//! entries are written together once the batch ran, as the unordered path writes them.

use super::{Deliverer, DeliveryStore, Handled, Skip, cancel_erased, deliverable};
use crate::ports::{TaskQueue, Transport};
use chrono::{DateTime, Utc};
use hookline_domain::model::{DeliverTask, DeliveryStatus, LogEntry, MessageId, Task};
use hookline_domain::{Error, Result};
use std::time::Duration;

/// What became of a task of the ordered queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Ordered {
    /// Done with: the queue may delete it.
    Done(Handled),
    /// To hold in the queue this long (a retry's wait, a rate limit's slot); its group's later
    /// tasks wait behind it.
    Hold(Duration),
    /// An earlier task of its group is held: back to the queue as it is.
    Behind,
}

/// A log entry to write, with its expiry.
type Entry = (LogEntry, i64);

/// What became of an ordered task, and the entry of its first attempt.
type Ran = Result<(Ordered, Option<Entry>)>;

/// The message a first-attempt task carries.
fn task_message(task: &Task) -> Option<&hookline_domain::model::Message> {
    match task {
        Task::Deliver(deliver) => deliver.message.as_ref(),
        _ => None,
    }
}

/// The longest hold SQS takes (a visibility timeout of 12 hours).
const MAX_HOLD: Duration = Duration::from_secs(12 * 3600);

/// How long to hold a delivery due at `due`: at least a second, at most SQS's longest.
fn hold_until(due: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (due - now).to_std().unwrap_or(Duration::ZERO).clamp(Duration::from_secs(1), MAX_HOLD)
}

impl<S, Q, T> Deliverer<S, Q, T>
where
    S: DeliveryStore,
    Q: TaskQueue,
    T: Transport,
{
    /// Runs a batch of the ordered queue (each task with the queue's count of its receipts):
    /// groups (webhooks) concurrently, each group's tasks in order until one is held or fails.
    pub async fn run_ordered_batch(&self, tasks: &[(Task, u32)]) -> Vec<Result<Ordered>> {
        self.warm(tasks).await;
        let erased = self.erased_first_attempts(tasks).await;
        let mut groups: Vec<((u64, u64), Vec<usize>)> = Vec::new();
        for (index, (task, _)) in tasks.iter().enumerate() {
            let key = match task {
                Task::Deliver(task) => (task.account_id, task.webhook_id),
                _ => (0, index as u64),
            };
            match groups.iter_mut().find(|(group, _)| *group == key) {
                Some((_, members)) => members.push(index),
                None => groups.push((key, vec![index])),
            }
        }
        let erased = &erased;
        let runs = groups.iter().map(|(_, members)| async move {
            let mut outcomes: Vec<(usize, Ran)> = Vec::with_capacity(members.len());
            let mut held_by: Option<Option<MessageId>> = None;
            for &index in members {
                let (task, count) = &tasks[index];
                if let Some(head) = &held_by {
                    if let (Some(head), Task::Deliver(task)) = (head, task) {
                        self.note_waiting(task, head).await;
                    }
                    outcomes.push((index, Ok((Ordered::Behind, None))));
                    continue;
                }
                let is_erased = match (erased, task) {
                    (Err(error), _) => Err(error.clone()),
                    (Ok(erased), Task::Deliver(task)) => {
                        Ok(erased.contains(&(task.account_id, task.message_id.clone())))
                    }
                    _ => Ok(false),
                };
                let outcome = match is_erased {
                    Ok(is_erased) => self.run_ordered(task, *count, is_erased).await,
                    Err(error) => Err(error),
                };
                if !matches!(outcome, Ok((Ordered::Done(_), _))) {
                    held_by = Some(match task {
                        Task::Deliver(task) if outcome.is_ok() => Some(task.message_id.clone()),
                        _ => None,
                    });
                }
                outcomes.push((index, outcome));
            }
            outcomes
        });
        let mut results: Vec<Option<Result<Ordered>>> = (0..tasks.len()).map(|_| None).collect();
        let mut entries = Vec::new();
        let mut writers = Vec::new();
        for (index, outcome) in futures::future::join_all(runs).await.into_iter().flatten() {
            results[index] = Some(outcome.map(|(ordered, entry)| {
                if let Some(entry) = entry {
                    entries.push(entry);
                    writers.push(index);
                }
                ordered
            }));
        }
        if let Err(error) = self.store.put_log_entries(&entries).await {
            // Nothing of theirs is recorded: those tasks come back (and are sent again).
            tracing::warn!(%error, "recording an ordered batch's first attempts failed");
            for index in writers {
                results[index] = Some(Err(Error::Unavailable(format!("recording the attempt failed: {error}"))));
            }
        }
        results
            .into_iter()
            .map(|outcome| outcome.unwrap_or_else(|| Err(Error::internal("a task was left out"))))
            .collect()
    }

    /// Runs one task of the ordered queue: what became of it, and the entry of a first attempt,
    /// which the batch writes with the others.
    async fn run_ordered(&self, task: &Task, receive_count: u32, erased: bool) -> Ran {
        let (Task::Deliver(deliver), Some(message)) = (task, task_message(task)) else {
            // Only first attempts go to the ordered queue; anything else runs as it would elsewhere.
            let (handled, followups) = self.run_task(task, receive_count).await?;
            self.queue.send(&followups.tasks).await?;
            return Ok((Ordered::Done(handled), None));
        };
        let now = Utc::now();
        let expires = self.retention_end(message.created_at);
        // A first receive has no entry yet (the log is read only when the task comes back).
        let stored = match receive_count {
            1 => None,
            _ => self.store.get_log_entry(deliver.account_id, &message.id, deliver.webhook_id).await?,
        };
        if let Some(entry) = &stored {
            if entry.status != Some(DeliveryStatus::Pending) {
                return Ok((Ordered::Done(Handled::Skipped(Skip::AlreadySettled)), None));
            }
            if let Some(due) = entry.next_attempt_at.filter(|due| *due > now) {
                return Ok((Ordered::Hold(hold_until(due, now)), None));
            }
        }
        if erased {
            let (handled, followups) = cancel_erased(deliver, message, expires);
            let mut first = None;
            for (entry, _) in followups.entries {
                first = self.record(entry, stored.as_ref(), expires).await?;
            }
            return Ok((Ordered::Done(handled), first));
        }
        let mut entry =
            stored.clone().unwrap_or_else(|| LogEntry::delivery_of(message.clone(), deliver.webhook_id, now));
        entry.waiting_for = None;
        let webhook =
            match deliverable(self.webhook(deliver.account_id, deliver.webhook_id, deliver.webhook_version).await?) {
                Ok(webhook) => webhook,
                Err(reason) => {
                    entry.settle(DeliveryStatus::Cancelled, None, now);
                    let first = self.record(entry, stored.as_ref(), expires).await?;
                    return Ok((Ordered::Done(Handled::Skipped(reason)), first));
                }
            };
        if let Some(waiting) = self.throttle(&webhook, deliver).await? {
            return Ok((Ordered::Hold(waiting.delay.max(Duration::from_secs(1))), None));
        }
        let number = entry.attempts.len() as u32 + 1;
        let (outcome, attempt) = self.attempt(&webhook, message, number).await?;
        // The retry task `settle` makes is for the other queue: here the task itself waits.
        let retry = self.settle(&webhook, &mut entry, attempt, &outcome).await?;
        let ordered = match (retry, entry.next_attempt_at) {
            (Some(_), Some(due)) => Ordered::Hold(hold_until(due, Utc::now())),
            _ => Ordered::Done(Handled::Attempted(outcome)),
        };
        Ok((ordered, self.record(entry, stored.as_ref(), expires).await?))
    }

    /// Writes an ordered delivery's entry over the one read (if no one changed it since); a
    /// first one is handed back, for the batch to write with the others.
    async fn record(&self, entry: LogEntry, stored: Option<&LogEntry>, expires: i64) -> Result<Option<Entry>> {
        let Some(read) = stored else { return Ok(Some((entry, expires))) };
        if !self.store.replace_log_entry(&entry, Some(read.updated_at), expires).await? {
            return Err(Error::Unavailable("an ordered delivery's entry changed while it was tried".into()));
        }
        Ok(None)
    }

    /// Records that `task`'s delivery, not tried yet, waits behind `head`'s (unless it has an
    /// entry already): what the log shows of it meanwhile.
    async fn note_waiting(&self, task: &DeliverTask, head: &MessageId) {
        let Some(message) = &task.message else { return };
        let mut entry = LogEntry::delivery_of(message.clone(), task.webhook_id, Utc::now());
        entry.waiting_for = Some(head.clone());
        let expires = self.retention_end(message.created_at);
        if let Err(error) = self.store.replace_log_entry(&entry, None, expires).await {
            tracing::warn!(%error, message_id = %message.id, "recording what an ordered delivery waits for failed");
        }
    }
}
