//! The SQS delivery queues: typed tasks sent in batches of 10, received, re-timed and deleted.
//! Ordered webhooks' deliveries go to the ordered (FIFO) queue, their webhook being the group.

use crate::error::classify;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, SendMessageBatchRequestEntry};
use hookline_domain::{Error, Result};
use std::time::Duration;

/// SQS takes at most 10 entries per batch call.
pub const BATCH_MAX: usize = 10;
/// SQS's longest `DelaySeconds`: 15 minutes.
pub const MAX_DELAY: Duration = Duration::from_secs(900);
/// SQS's longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);
/// SQS takes at most 1 MiB per batch call; this leaves room for the request's other fields.
const BATCH_BYTES_MAX: usize = 1_000_000;
/// Tries of a batch's failed entries before the send is reported as unavailable.
const SEND_TRIES: u32 = 3;

pub use hookline_core::Outgoing;

/// Index ranges of `bodies` that fit one batch call: at most 10 entries and 1 MB.
fn batches(bodies: &[String]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, body) in bodies.iter().enumerate() {
        if index > start && (index - start == BATCH_MAX || bytes + body.len() > BATCH_BYTES_MAX) {
            ranges.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += body.len();
    }
    if start < bodies.len() {
        ranges.push(start..bodies.len());
    }
    ranges
}

/// A message as received from the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// SQS's message id.
    pub message_id: String,
    /// The handle that deletes or re-times it.
    pub receipt_handle: String,
    /// The raw body (decoded by the worker, so that a bad one can go to the DLQ).
    pub body: String,
    /// How many times it was received, this one included.
    pub receive_count: u32,
    /// SQS's MD5 of the body.
    pub md5_of_body: String,
    /// The system attributes, as SQS gives them.
    pub attributes: Vec<(String, String)>,
}

/// How many messages a queue holds, by state (approximate, as SQS says).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    /// Ready to be received.
    pub visible: u64,
    /// Received and not yet deleted (hidden until their visibility timeout ends).
    pub in_flight: u64,
    /// Sent with a delay that has not ended yet.
    pub delayed: u64,
}

/// The delivery queue, and the ordered queue beside it.
#[derive(Debug, Clone)]
pub struct Queue {
    client: Client,
    url: String,
    ordered_url: Option<String>,
}

impl Queue {
    /// A queue at `url`, through `client` (built once per process).
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into(), ordered_url: None }
    }

    /// The same, with the ordered (FIFO) queue at `url` for ordered webhooks' deliveries.
    pub fn with_ordered(mut self, url: impl Into<String>) -> Self {
        self.ordered_url = Some(url.into());
        self
    }

    /// The ordered queue, to receive from and re-time its messages.
    pub fn ordered(&self) -> Option<Queue> {
        self.ordered_url.as_ref().map(|url| Queue::new(self.client.clone(), url.clone()))
    }

    /// The message group and deduplication id of an ordered task: its webhook, and its delivery.
    fn group_of(outgoing: &Outgoing) -> Option<(String, String)> {
        match &outgoing.task {
            hookline_domain::model::Task::Deliver(task) if task.ordered => Some((
                format!("{}:{}", task.account_id, task.webhook_id),
                format!("{}:{}:{}", task.message_id, task.webhook_id, task.attempt),
            )),
            _ => None,
        }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends tasks in batches of up to 10 (and 1 MiB). Failed entries are tried again; if
    /// some still fail, the whole call is [`Error::Unavailable`] (the caller retries; a task
    /// sent twice is delivered at least once).
    pub async fn send(&self, tasks: &[Outgoing]) -> Result<()> {
        let (ordered, unordered): (Vec<Outgoing>, Vec<Outgoing>) =
            tasks.iter().cloned().partition(|outgoing| Self::group_of(outgoing).is_some());
        if !ordered.is_empty() {
            let url = self.ordered_url.as_deref().ok_or_else(|| {
                Error::internal("an ordered webhook's delivery, and no ordered queue (ORDERED_QUEUE_URL)")
            })?;
            // In order, one batch after the other: SQS keeps a group's order as it receives them.
            self.send_to(url, &ordered).await?;
        }
        if unordered.is_empty() { Ok(()) } else { self.send_to(&self.url, &unordered).await }
    }

    async fn send_to(&self, url: &str, tasks: &[Outgoing]) -> Result<()> {
        let bodies: Vec<String> = tasks.iter().map(|outgoing| outgoing.task.to_body()).collect::<Result<_>>()?;
        for chunk in batches(&bodies) {
            let mut pending: Vec<SendMessageBatchRequestEntry> = chunk
                .clone()
                .map(|index| (index, &tasks[index], &bodies[index]))
                .map(|(index, outgoing, body)| {
                    // Whole seconds, rounded up: a task must never arrive before it is due.
                    let delay = outgoing.delay.min(MAX_DELAY);
                    let delay = (delay.as_secs() + u64::from(delay.subsec_nanos() > 0)).min(MAX_DELAY.as_secs()) as i32;
                    let entry = SendMessageBatchRequestEntry::builder().id(index.to_string()).message_body(body);
                    // A FIFO queue takes no per-message delay: an ordered task waits by visibility.
                    let entry = match Self::group_of(outgoing) {
                        Some((group, deduplication)) => {
                            entry.message_group_id(group).message_deduplication_id(deduplication)
                        }
                        None => entry.delay_seconds(delay),
                    };
                    entry.build().map_err(Error::internal)
                })
                .collect::<Result<_>>()?;
            for try_number in 0..SEND_TRIES {
                if try_number > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << try_number)).await;
                }
                let output = self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|error| classify("send_message_batch", error))?;
                if let Some(fault) = output.failed().iter().find(|failed| failed.sender_fault()) {
                    return Err(Error::internal(format!(
                        "send_message_batch refused an entry: {} {}",
                        fault.code(),
                        fault.message().unwrap_or_default()
                    )));
                }
                let failed: Vec<&str> = output.failed().iter().map(|failed| failed.id()).collect();
                pending.retain(|entry| failed.contains(&entry.id()));
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                return Err(Error::Unavailable(format!("send_message_batch: {} entries not accepted", pending.len())));
            }
        }
        Ok(())
    }

    /// Receives up to `max` messages, waiting up to `wait` for the first (long polling).
    pub async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<Received>> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, BATCH_MAX as i32))
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|error| classify("receive_message", error))?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| {
                let attributes: Vec<(String, String)> = message
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, value)| (name.as_str().to_string(), value))
                    .collect();
                let receive_count = attributes
                    .iter()
                    .find(|(name, _)| name == "ApproximateReceiveCount")
                    .and_then(|(_, value)| value.parse().ok())
                    .unwrap_or(1);
                Received {
                    message_id: message.message_id.unwrap_or_default(),
                    receipt_handle: message.receipt_handle.unwrap_or_default(),
                    body: message.body.unwrap_or_default(),
                    receive_count,
                    md5_of_body: message.md5_of_body.unwrap_or_default(),
                    attributes,
                }
            })
            .collect())
    }

    /// Hides a received message for `timeout` (capped at 12 hours) before it comes back.
    pub async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(timeout.min(MAX_VISIBILITY).as_secs() as i32)
            .send()
            .await
            .map_err(|error| classify("change_message_visibility", error))?;
        Ok(())
    }

    /// Deletes received messages in batches of 10.
    pub async fn delete(&self, receipt_handles: &[String]) -> Result<()> {
        for chunk in receipt_handles.chunks(BATCH_MAX) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, handle)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .receipt_handle(handle)
                        .build()
                        .map_err(Error::internal)
                })
                .collect::<Result<Vec<_>>>()?;
            let output = self
                .client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|error| classify("delete_message_batch", error))?;
            if let Some(failed) = output.failed().first() {
                return Err(Error::Unavailable(format!(
                    "delete_message_batch: {} of {} not deleted ({})",
                    output.failed().len(),
                    chunk.len(),
                    failed.code()
                )));
            }
        }
        Ok(())
    }

    /// How many messages the queue holds, visible, in flight and delayed (approximate, as SQS
    /// says).
    pub async fn depth(&self) -> Result<Depth> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|error| classify("get_queue_attributes", error))?;
        let attributes = output.attributes.unwrap_or_default();
        // A count asked for and not answered is an error, not a zero that proves an empty queue.
        let read = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| Error::internal(format!("get_queue_attributes: no count of {}", name.as_str())))
        };
        Ok(Depth {
            visible: read(QueueAttributeName::ApproximateNumberOfMessages)?,
            in_flight: read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
            delayed: read(QueueAttributeName::ApproximateNumberOfMessagesDelayed)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_tasks_batched_should_keep_ten_per_call_and_under_a_megabyte() {
        let small: Vec<String> = (0..23).map(|n| n.to_string()).collect();
        assert_eq!(batches(&small), vec![0..10, 10..20, 20..23]);
        let large: Vec<String> = (0..4).map(|_| "x".repeat(400_000)).collect();
        assert_eq!(batches(&large), vec![0..2, 2..4]);
        assert!(batches(&[]).is_empty());
    }
}
