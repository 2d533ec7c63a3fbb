//! The local runner: serves the HTTP routes of `api` and `ingest` through their very routers,
//! and drives `deliver` from SQS as Lambda's event source mapping does.

use crate::template::{Template, TemplateError};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use axum::response::IntoResponse;
use hookline_aws::Context;
use hookline_aws::Received;
use hookline_deliver::Deliverer;
use hookline_domain::Error;
use hookline_web::ApiError;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// API Gateway's (and Lambda's) request payload limit: larger bodies never reach a handler.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;
/// Messages one `ReceiveMessage` returns at most (SQS's limit; Lambda's pollers gather a batch
/// from several receives).
pub const RECEIVE_MAX: usize = 10;
/// The event source mapping's `MaximumBatchingWindowInSeconds` in `template.yaml`.
pub const BATCHING_WINDOW: Duration = Duration::from_secs(1);

/// The two HTTP functions' routers, as API Gateway routes to them.
#[derive(Clone)]
pub struct Routes {
    api: axum::Router,
    ingest: axum::Router,
}

impl Routes {
    /// The routers of `api` and `ingest` over one context.
    pub fn new(context: &Context) -> Result<Self, Error> {
        Ok(Self { api: hookline_api::router(context.clone())?, ingest: hookline_ingest::router(context.clone()) })
    }

    /// The router of the function that serves `path`.
    fn serving(&self, path: &str) -> axum::Router {
        if hookline_ingest::serves(path) { self.ingest.clone() } else { self.api.clone() }
    }
}

/// Serves HTTP on `listener` until `shutdown` turns true.
pub async fn serve_http(listener: TcpListener, routes: Routes, mut shutdown: watch::Receiver<bool>) {
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
        let routes = routes.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let routes = routes.clone();
                async move { Ok::<_, Infallible>(dispatch(&routes, request).await) }
            });
            if let Err(error) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}

/// Hands one HTTP request to the router of the function API Gateway routes it to, with API
/// Gateway's payload limit.
pub async fn dispatch(routes: &Routes, request: hyper::Request<Incoming>) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let error = Error::PayloadTooLarge(format!("request bodies are limited to {MAX_REQUEST_BYTES} bytes"));
            return ApiError(error).into_response();
        }
    };
    let request = hyper::Request::from_parts(parts, axum::body::Body::from(bytes));
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = match routes.serving(&path).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

/// How the local runner polls the delivery queue, as Lambda's SQS event source mapping does:
/// several pollers each gather a batch of up to `batch_size` from receives of up to 10, for
/// at most `BATCHING_WINDOW`, and at most `max_concurrency` batches run at once (the
/// mapping's `ScalingConfig.MaximumConcurrency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSource {
    /// Concurrent long-polling receivers (Lambda starts with five).
    pub pollers: usize,
    /// Batches handled at once, at most.
    pub max_concurrency: usize,
    /// Tasks in one batch, at most.
    pub batch_size: usize,
}

/// The template parameter behind the mapping's `ScalingConfig.MaximumConcurrency`.
pub const MAX_CONCURRENCY_PARAMETER: &str = "DeliverMaxConcurrency";
/// The template parameter behind the mapping's `BatchSize`.
pub const BATCH_SIZE_PARAMETER: &str = "DeliverBatchSize";
/// The ordered queue's mapping's `BatchSize` in `template.yaml` (a FIFO queue's at most).
pub const ORDERED_BATCH_SIZE: usize = 10;

impl EventSource {
    /// Lambda's five pollers, and the maximum concurrency and batch size the template deploys
    /// by default.
    pub fn from_template(template: &Template) -> Result<Self, TemplateError> {
        let number = |name: &str| {
            template.parameter_default(name).and_then(|text| text.parse().ok()).ok_or_else(|| TemplateError::Resource {
                resource: name.into(),
                detail: "must be a parameter with a numeric Default".into(),
            })
        };
        Ok(Self {
            pollers: 5,
            max_concurrency: number(MAX_CONCURRENCY_PARAMETER)?,
            batch_size: number(BATCH_SIZE_PARAMETER)?,
        })
    }
}

/// Gathers one batch as the event source does: a long poll for the first messages, then
/// more receives until the batch is full, the queue has nothing at hand, or the window ends.
pub async fn gather(queue: &hookline_aws::Queue, batch_size: usize, wait: Duration) -> Result<Vec<Received>, Error> {
    gather_within(queue, batch_size, wait, BATCHING_WINDOW).await
}

/// [`gather`] with a batching window of `window` (none for a FIFO queue's mapping).
pub async fn gather_within(
    queue: &hookline_aws::Queue,
    batch_size: usize,
    wait: Duration,
    window: Duration,
) -> Result<Vec<Received>, Error> {
    let mut batch = queue.receive(RECEIVE_MAX.min(batch_size.max(1)) as i32, wait).await?;
    let window_ends = tokio::time::Instant::now() + window;
    while !batch.is_empty() && batch.len() < batch_size && tokio::time::Instant::now() < window_ends {
        let more = queue.receive(RECEIVE_MAX.min(batch_size - batch.len()) as i32, Duration::ZERO).await?;
        if more.is_empty() {
            break;
        }
        batch.extend(more);
    }
    Ok(batch)
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
        .map(|_| {
            tokio::spawn(poll(context.clone(), queue_arn.clone(), source.batch_size, slots.clone(), shutdown.clone()))
        })
        .collect();
    for poller in pollers {
        let _ = poller.await;
    }
    // Every slot back means every batch in hand has been settled.
    let _ = slots.acquire_many(source.max_concurrency.max(1) as u32).await;
}

/// One poller: takes a slot, long-polls, and hands a received batch to a task that keeps the
/// slot until the batch is settled, so a slow batch never stops the poller.
async fn poll(
    context: Arc<Deliverer>,
    queue_arn: String,
    batch_size: usize,
    slots: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot { Ok(slot) => slot, Err(_) => return },
            _ = shutdown.changed() => return,
        };
        let queue = source_queue(&context, &queue_arn);
        // A FIFO queue's event source has no batching window.
        let window = if is_fifo(&queue_arn) { Duration::ZERO } else { BATCHING_WINDOW };
        let received = tokio::select! {
            received = gather_within(&queue, batch_size, Duration::from_secs(20), window) => received,
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

/// Whether a queue ARN names a FIFO queue.
fn is_fifo(queue_arn: &str) -> bool {
    queue_arn.ends_with(".fifo")
}

/// The queue of `queue_arn`: the ordered queue for a FIFO one, else the delivery queue.
fn source_queue(context: &Deliverer, queue_arn: &str) -> hookline_aws::Queue {
    match context.queue.ordered() {
        Some(ordered) if is_fifo(queue_arn) => ordered,
        _ => context.queue.clone(),
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
    if let Err(error) = source_queue(context, queue_arn).delete(&done).await {
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
