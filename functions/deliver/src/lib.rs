//! The delivery Lambda's handler: takes SQS batches of delivery tasks and reports partial failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::model::Task;

/// Handles one SQS batch. A record that fails (undecodable, or its work failed) is reported
/// in `batchItemFailures`: SQS keeps it, and after `maxReceiveCount` the redrive policy moves
/// it to the DLQ. The others are deleted by the event source.
pub async fn handle(context: &Context, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        if let Err(error) = process(context, record).await {
            tracing::warn!(sqs_message_id = %id, error = %error, "task failed; left on the queue");
            response.add_failure(id);
        }
    }
    response
}

async fn process(context: &Context, record: &SqsMessage) -> Result<(), Error> {
    let body = record.body.as_deref().unwrap_or_default();
    match Task::from_body(body)? {
        Task::Fanout(task) => hookline_aws::ingest::expand(context, &task).await,
        Task::Deliver(task) => Err(Error::NotImplemented(format!(
            "delivery of {} to webhook {} comes with the delivery issue",
            task.message_id, task.webhook_id
        ))),
    }
}
