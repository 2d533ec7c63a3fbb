//! The delivery Lambda's handler: takes SQS batches of tasks, runs them concurrently, and
//! reports the ones that failed so that only those come back.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hookline_aws::{Context, Queue, Store};
use hookline_domain::Error;
use hookline_domain::model::Task;
use hookline_outbound::Sender;

/// The delivery flow on DynamoDB, SQS and the guarded HTTP client.
pub type Deliverer = hookline_core::Deliverer<Store, Queue, Sender>;

/// The delivery flow of this process: the sender's allowlist from the settings
/// (`ALLOWED_TARGET_CIDRS`).
pub fn deliverer(context: &Context) -> Result<Deliverer, Error> {
    Ok(context.deliverer(Sender::for_deliveries(&context.settings.allowed_target_cidrs)?))
}

/// Handles one SQS batch: its tasks run concurrently, then their log entries and follow-up
/// tasks are written together. A record that fails (undecodable, or its work or its writes
/// failed) is reported in `batchItemFailures`: SQS keeps it, and after `maxReceiveCount` the
/// redrive policy moves it to the DLQ. The others are deleted.
pub async fn handle(deliverer: &Deliverer, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut tasks = Vec::with_capacity(event.records.len());
    let mut ids = Vec::with_capacity(event.records.len());
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match decode(record) {
            Ok(task) => {
                tasks.push(task);
                ids.push(id);
            }
            Err(error) => {
                tracing::warn!(sqs_message_id = %id, error = %error, "undecodable task; left on the queue");
                response.add_failure(id);
            }
        }
    }
    let ordered = event.records.first().and_then(|record| record.event_source_arn.as_deref()).is_some_and(is_fifo);
    if ordered {
        let receipts: Vec<String> = event
            .records
            .iter()
            .filter(|record| ids.contains(&record.message_id.clone().unwrap_or_default()))
            .map(|record| record.receipt_handle.clone().unwrap_or_default())
            .collect();
        // Boxed: inline, the ordered batch's future would deepen the handler's past the
        // compiler's layout depth limit.
        let outcomes = Box::pin(deliverer.run_ordered_batch(&tasks)).await;
        for ((id, receipt), outcome) in ids.into_iter().zip(receipts).zip(outcomes) {
            if let Some(failed) = hold(deliverer, &id, &receipt, outcome).await {
                response.add_failure(failed);
            }
        }
        return response;
    }
    for (id, outcome) in ids.into_iter().zip(deliverer.run_batch(&tasks).await) {
        if let Err(error) = outcome {
            tracing::warn!(sqs_message_id = %id, error = %error, "task failed; left on the queue");
            response.add_failure(id);
        }
    }
    response
}

/// Whether a queue ARN names a FIFO queue: the ordered queue.
fn is_fifo(arn: &str) -> bool {
    arn.ends_with(".fifo")
}

/// What the queue does with an ordered task: nothing when it is done (deleted), else it stays
/// (reported as a failure), re-timed: a held task for its wait, a task behind it at once (it
/// keeps its place behind the held one), a failed one as the queue's visibility timeout says.
async fn hold(
    deliverer: &Deliverer,
    id: &str,
    receipt: &str,
    outcome: Result<hookline_core::deliver::Ordered, Error>,
) -> Option<String> {
    use hookline_core::deliver::Ordered;
    let wait = match outcome {
        Ok(Ordered::Done(_)) => return None,
        Ok(Ordered::Hold(wait)) => wait,
        Ok(Ordered::Behind) => std::time::Duration::ZERO,
        Err(error) => {
            tracing::warn!(sqs_message_id = %id, %error, "ordered task failed; left on the queue");
            return Some(id.to_string());
        }
    };
    let Some(queue) = deliverer.queue.ordered() else {
        tracing::error!("an ordered task, and no ordered queue (ORDERED_QUEUE_URL)");
        return Some(id.to_string());
    };
    if let Err(error) = queue.change_visibility(receipt, wait).await {
        tracing::warn!(sqs_message_id = %id, %error, "re-timing an ordered task failed; it comes back after the visibility timeout");
    }
    Some(id.to_string())
}

fn decode(record: &SqsMessage) -> Result<(Task, u32), Error> {
    let task = Task::from_body(record.body.as_deref().unwrap_or_default())?;
    let receive_count =
        record.attributes.get("ApproximateReceiveCount").and_then(|count| count.parse().ok()).unwrap_or(1);
    Ok((task, receive_count))
}
