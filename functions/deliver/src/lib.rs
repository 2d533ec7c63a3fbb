//! The delivery Lambda's handler: takes SQS batches of tasks, runs them concurrently, and
//! reports the ones that failed so that only those come back.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hookline_delivery::worker::{Deliverer, run_task};
use hookline_domain::Error;
use hookline_domain::model::Task;

/// Handles one SQS batch. Its tasks run concurrently. A record that fails (undecodable, or
/// its work failed) is reported in `batchItemFailures`: SQS keeps it, and after
/// `maxReceiveCount` the redrive policy moves it to the DLQ. The others are deleted.
pub async fn handle(deliverer: &Deliverer, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = futures::future::join_all(event.records.iter().map(|record| process(deliverer, record))).await;
    let mut response = SqsBatchResponse::default();
    for (record, outcome) in event.records.iter().zip(outcomes) {
        let id = record.message_id.clone().unwrap_or_default();
        if let Err(error) = outcome {
            tracing::warn!(sqs_message_id = %id, error = %error, "task failed; left on the queue");
            response.add_failure(id);
        }
    }
    response
}

async fn process(deliverer: &Deliverer, record: &SqsMessage) -> Result<(), Error> {
    let task = Task::from_body(record.body.as_deref().unwrap_or_default())?;
    let receive_count =
        record.attributes.get("ApproximateReceiveCount").and_then(|count| count.parse().ok()).unwrap_or(1);
    run_task(deliverer, &task, receive_count).await.map(|_| ())
}
