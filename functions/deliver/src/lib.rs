//! The delivery Lambda's handler: takes SQS batches of tasks, runs them concurrently, and
//! reports the ones that failed so that only those come back.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hookline_delivery::worker::{Deliverer, run_batch};
use hookline_domain::Error;
use hookline_domain::model::Task;

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
    for (id, outcome) in ids.into_iter().zip(run_batch(deliverer, &tasks).await) {
        if let Err(error) = outcome {
            tracing::warn!(sqs_message_id = %id, error = %error, "task failed; left on the queue");
            response.add_failure(id);
        }
    }
    response
}

fn decode(record: &SqsMessage) -> Result<(Task, u32), Error> {
    let task = Task::from_body(record.body.as_deref().unwrap_or_default())?;
    let receive_count =
        record.attributes.get("ApproximateReceiveCount").and_then(|count| count.parse().ok()).unwrap_or(1);
    Ok((task, receive_count))
}
