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
    for (id, outcome) in ids.into_iter().zip(deliverer.run_batch(&tasks).await) {
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
