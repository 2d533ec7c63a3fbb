//! The log's actions: one more try of finished deliveries, for a manual retry of a message
//! and for the recovery of a webhook's failures.

use crate::ports::{DeliveryLog, Outgoing, TaskQueue};
use hookline_domain::Result;
use hookline_domain::model::{DeliverTask, DeliveryStatus, LogEntry, Task};

/// The statuses a delivery may be tried again from.
pub const RETRYABLE: &[DeliveryStatus] = &[DeliveryStatus::Failed, DeliveryStatus::Refused, DeliveryStatus::Cancelled];

/// Reopens the retryable deliveries among `entries` and enqueues one more attempt of each;
/// returns how many. A delivery another request reopened first is left to that request; one
/// of an erased message has nothing left to send.
pub async fn retry_deliveries(store: &impl DeliveryLog, queue: &impl TaskQueue, entries: &[LogEntry]) -> Result<usize> {
    let mut tasks = Vec::new();
    let kept = entries.iter().filter(|entry| entry.message.erased_at.is_none());
    for delivery in kept.filter_map(LogEntry::delivery) {
        if RETRYABLE.contains(&delivery.status)
            && store.reopen_delivery(delivery.account_id, &delivery.message_id, delivery.webhook_id, RETRYABLE).await?
        {
            tasks.push(Outgoing::now(Task::Deliver(DeliverTask::retry(
                delivery.account_id,
                &delivery.message_id,
                delivery.webhook_id,
                delivery.attempts + 1,
            ))));
        }
    }
    queue.send(&tasks).await?;
    Ok(tasks.len())
}
