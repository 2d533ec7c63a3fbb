//! The local runner: serves the HTTP routes of `api` and `ingest` by calling their Lambda
//! handlers, and drives `deliver` from SQS as Lambda's event source mapping does.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use hookline_aws::Received;
use hookline_delivery::worker::Deliverer;
use hookline_domain::Error;
use hookline_domain::http::error_response;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// API Gateway's (and Lambda's) request payload limit: larger bodies never reach a handler.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;
/// The event source mapping's batch size in `template.yaml`.
pub const BATCH_SIZE: i32 = 10;

/// Serves HTTP on `listener` until `shutdown` turns true.
pub async fn serve_http(listener: TcpListener, context: Arc<Deliverer>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let context = context.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let context = context.clone();
                async move { Ok::<_, Infallible>(dispatch(&context, request).await) }
            });
            if let Err(error) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}

/// Turns one HTTP request into the Lambda request of the function API Gateway routes it to.
pub async fn dispatch(context: &Deliverer, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            let error = Error::PayloadTooLarge(format!("request bodies are limited to {MAX_REQUEST_BYTES} bytes"));
            return error_response(&error).map(|text| Full::new(Bytes::from(text)));
        }
    };
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes) {
            Ok(text) => Body::Text(text),
            Err(error) => Body::Binary(error.into_bytes()),
        }
    };
    let request = lambda_http::Request::from_parts(parts, body);
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = if hookline_ingest::serves(&path) {
        hookline_ingest::handle(&context.context, request).await
    } else {
        hookline_api::handle(context, request).await
    };
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response.map(|body| {
        Full::new(match body {
            Body::Empty => Bytes::new(),
            Body::Text(text) => Bytes::from(text),
            Body::Binary(bytes) => Bytes::from(bytes),
            _ => Bytes::new(),
        })
    })
}

/// How the local runner polls the delivery queue, as Lambda's SQS event source mapping does:
/// several pollers receive batches of up to 10, and at most `max_concurrency` batches run
/// at once (the mapping's `ScalingConfig.MaximumConcurrency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSource {
    /// Concurrent long-polling receivers (Lambda starts with five).
    pub pollers: usize,
    /// Batches handled at once, at most.
    pub max_concurrency: usize,
}

impl Default for EventSource {
    fn default() -> Self {
        Self { pollers: 5, max_concurrency: 50 }
    }
}

/// Drives `deliver` from the delivery queue with `source`'s pollers until `shutdown`; waits
/// for the batches in hand before returning.
pub async fn drive_deliver(
    context: Arc<Deliverer>,
    queue_arn: String,
    source: EventSource,
    shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(source.max_concurrency.max(1)));
    let pollers: Vec<_> = (0..source.pollers.max(1))
        .map(|_| tokio::spawn(poll(context.clone(), queue_arn.clone(), slots.clone(), shutdown.clone())))
        .collect();
    for poller in pollers {
        let _ = poller.await;
    }
    // Every slot back means every batch in hand has been settled.
    let _ = slots.acquire_many(source.max_concurrency.max(1) as u32).await;
}

/// One poller: takes a slot, long-polls, and hands a received batch to a task that keeps the
/// slot until the batch is settled, so a slow batch never stops the poller.
async fn poll(context: Arc<Deliverer>, queue_arn: String, slots: Arc<Semaphore>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot { Ok(slot) => slot, Err(_) => return },
            _ = shutdown.changed() => return,
        };
        let received = tokio::select! {
            received = context.context.queue.receive(BATCH_SIZE, Duration::from_secs(20)) => received,
            _ = shutdown.changed() => return,
        };
        match received {
            Ok(messages) if messages.is_empty() => {}
            Ok(messages) => {
                let context = context.clone();
                let queue_arn = queue_arn.clone();
                tokio::spawn(async move {
                    run_batch(&context, &queue_arn, messages).await;
                    drop(slot);
                });
            }
            Err(error) => {
                tracing::warn!(%error, "receiving from the delivery queue failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Runs one batch through the `deliver` handler and settles it as Lambda would: the
/// successes are deleted, the reported failures wait for their visibility timeout.
pub async fn run_batch(context: &Deliverer, queue_arn: &str, messages: Vec<Received>) {
    let event = sqs_event(queue_arn, &messages);
    let response = hookline_deliver::handle(context, event).await;
    let failed: HashSet<&str> =
        response.batch_item_failures.iter().map(|failure| failure.item_identifier.as_str()).collect();
    let known: HashSet<&str> = messages.iter().map(|message| message.message_id.as_str()).collect();
    if !failed.is_subset(&known) {
        // Lambda treats an unknown identifier as a failure of the whole batch.
        tracing::error!("deliver reported an unknown message id; the whole batch is retried");
        return;
    }
    let done: Vec<String> = messages
        .iter()
        .filter(|message| !failed.contains(message.message_id.as_str()))
        .map(|message| message.receipt_handle.clone())
        .collect();
    if let Err(error) = context.context.queue.delete(&done).await {
        tracing::warn!(%error, "deleting delivered tasks failed; they will be received again");
    }
}

/// The SQS event Lambda would pass for these messages.
pub fn sqs_event(queue_arn: &str, messages: &[Received]) -> SqsEvent {
    let region = queue_arn.split(':').nth(3).unwrap_or("us-east-1").to_string();
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = Some(message.message_id.clone());
            record.receipt_handle = Some(message.receipt_handle.clone());
            record.body = Some(message.body.clone());
            record.md5_of_body = Some(message.md5_of_body.clone());
            record.attributes = message.attributes.iter().cloned().collect::<HashMap<_, _>>();
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = Some(queue_arn.to_string());
            record.aws_region = Some(region.clone());
            record
        })
        .collect();
    event
}
