//! One scenario (rate, fan-out, ingest batch size): a fresh stack served by the runner, loaded by
//! the publisher, drained into the sink, and the posts, arrivals and readings turned into its
//! `Outcome`; then its tasks stopped and its queues and table removed.

use super::cpu::{Cpu, Side};
use super::outcome::Outcome;
use super::publisher::{Post, Publisher};
use super::sink::{Arrivals, Sink};
use super::{DELIVERY_QUEUE, EVENT_TYPE, NO_ANSWER, SOURCE, STOP_GRACE, TICKS_PER_SECOND};
use crate::meter::{Meter, Tally};
use hookline_domain::model::Environment;
use hookline_local_runner::provision::Physical;
use hookline_local_runner::sdk::Endpoints;
use hookline_tests::Stack;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One publishing rate, fan-out and ingest batch size.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scenario {
    pub(super) rate: u32,
    pub(super) fan_out: usize,
    /// Events per ingest request (1: `POST /events`; more: `POST /events/batch`).
    pub(super) batch: usize,
    pub(super) seconds: u64,
    /// How long to wait for deliveries (and POST answers) after publishing.
    pub(super) drain: Duration,
}

/// What the meter saw during the load.
struct Aws {
    requests: u64,
    waiting: Duration,
    snapshot: BTreeMap<(String, String), Tally>,
}

impl Scenario {
    pub(super) fn is(&self, (rate, fan_out, batch): (u32, usize, usize)) -> bool {
        (self.rate, self.fan_out, self.batch) == (rate, fan_out, batch)
    }

    pub(super) fn label(&self) -> String {
        let ingest = if self.batch > 1 { format!("batches of {}", self.batch) } else { "one per request".into() };
        format!("{}/s, fan-out {}, {ingest}", self.rate, self.fan_out)
    }

    /// A fresh stack, served by the runner, loaded and drained; its tasks are stopped and its
    /// queues and table removed, so that nothing carries over into the next scenario.
    pub(super) async fn run(self, endpoints: &Endpoints, emulators: &[u32; 2], side: &Side) -> Result<Outcome, String> {
        let stack = Stack::on(endpoints).await;
        let result = self.measure(&stack, emulators, side).await;
        remove(&stack).await;
        result
    }

    async fn measure(self, stack: &Stack, emulators: &[u32; 2], side: &Side) -> Result<Outcome, String> {
        let queue_arn = match stack.provisioned.resources.get(DELIVERY_QUEUE) {
            Some(Physical::Queue { arn, .. }) => arn.clone(),
            _ => return Err(format!("the stack has no queue {DELIVERY_QUEUE}")),
        };
        let meter = Meter::default();
        // The stack's settings allow loopback targets (hookline_tests::LOOPBACK).
        let context = meter.context(stack.context.settings.clone(), &stack.sdk);
        let routes =
            hookline_local_runner::runner::Routes::new(&context).map_err(|error| format!("routers: {error}"))?;
        let deliverer = Arc::new(hookline_deliver::deliverer(&context).map_err(|error| format!("deliverer: {error}"))?);
        let (stop, stopped) = watch::channel(false);
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|error| format!("bind: {error}"))?;
        let base = format!("http://{}", listener.local_addr().map_err(|error| format!("address: {error}"))?);
        tasks.push(tokio::spawn(hookline_local_runner::runner::serve_http(listener, routes.clone(), stopped.clone())));
        let (sink, serving) = Sink::start(side, stopped.clone()).await?;
        tasks.push(serving);

        let outcome = async {
            let client = stack.client(&base, Environment::Sandbox).await;
            stack.put_event_type(EVENT_TYPE).await;
            let mut paths = HashSet::new();
            for index in 0..self.fan_out {
                let path = format!("/w{index}");
                client.create_webhook(json!({"url": format!("{}{path}", sink.url), "events": [EVENT_TYPE]})).await;
                paths.insert(path);
            }
            let publisher = Publisher { base: base.clone(), key: client.key.clone(), batch: self.batch };
            drop(client);

            // Only the load is metered, and the pollers start now: no long poll began earlier.
            meter.reset();
            tasks.push(tokio::spawn(hookline_local_runner::runner::drive_deliver(
                deliverer.clone(),
                queue_arn.clone(),
                SOURCE,
                stopped.clone(),
            )));
            let before = Cpu::read(side, emulators);
            let deadline = Instant::now() + Duration::from_secs(self.seconds) + self.drain;
            let count = (self.seconds * u64::from(self.rate)) as usize;
            let posts = side
                .handle
                .spawn(publisher.publish(self.rate, count, deadline))
                .await
                .map_err(|error| format!("the publisher failed: {error}"))?;
            let accepted: HashSet<&str> =
                posts.iter().filter_map(|post| post.accepted.as_ref()).map(|(id, _)| id.as_str()).collect();
            sink.wait_for(&accepted, &paths, deadline).await;
            let after = Cpu::read(side, emulators);
            let aws = Aws { requests: meter.requests(), waiting: meter.waiting(), snapshot: meter.snapshot() };
            Ok::<_, String>(self.outcome(&posts, &paths, &sink.arrivals(), &before, &after, aws))
        }
        .await;

        // Stop every task of this scenario: the runner, the pollers (each finishes its batch)
        // and the receiver; what does not stop in time is aborted.
        let _ = stop.send(true);
        let grace = tokio::time::Instant::now() + STOP_GRACE;
        for task in tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(grace, task).await.is_err() {
                abort.abort();
            }
        }
        outcome
    }

    fn outcome(
        self,
        posts: &[Post],
        paths: &HashSet<String>,
        arrivals: &Arrivals,
        before: &Cpu,
        after: &Cpu,
        aws: Aws,
    ) -> Outcome {
        let mut outcome = Outcome::empty(self);
        let first = posts.first().map_or_else(Instant::now, |post| post.at);
        let mut last = first;
        for ((path, id), arrival) in &arrivals.first {
            let post = arrival.n.and_then(|n| posts.get(n)).filter(|_| paths.contains(path));
            match post.map(|post| (post, &post.accepted)) {
                Some((post, Some((accepted, _)))) if accepted == id => {
                    outcome.latencies.push(arrival.at.saturating_duration_since(post.at).as_secs_f64() * 1e3);
                    last = last.max(arrival.at);
                }
                Some((post, None)) if post.refused.as_deref() == Some(NO_ANSWER) => outcome.unanswered += 1,
                Some((_, None)) => outcome.refused += 1,
                _ => outcome.unknown += 1,
            }
        }
        outcome.published = posts.iter().filter(|post| post.accepted.is_some()).count();
        for reason in posts.iter().filter_map(|post| post.refused.clone()) {
            *outcome.rejected.entry(reason).or_default() += 1;
        }
        outcome.posting = posts.last().map_or(Duration::ZERO, |post| post.at.saturating_duration_since(first));
        outcome.expected = outcome.published * self.fan_out;
        outcome.missing = outcome.expected - outcome.latencies.len();
        outcome.duplicates = arrivals.total - arrivals.first.len();
        outcome.ingest = posts
            .iter()
            .filter_map(|post| post.accepted.as_ref())
            .map(|(_, ingest)| ingest.as_secs_f64() * 1e3)
            .collect();
        outcome.span = last.saturating_duration_since(first);
        let ticks =
            |read: fn(&Cpu) -> Option<u64>| Some(read(after)?.saturating_sub(read(before)?) as f64 / TICKS_PER_SECOND);
        outcome.system = ticks(|cpu| cpu.system);
        outcome.cpu = match (ticks(|cpu| cpu.user), outcome.system, ticks(|cpu| cpu.side)) {
            (Some(user), Some(system), Some(side)) => Some((user + system - side).max(0.0)),
            _ => None,
        };
        outcome.opens = after.opens.zip(before.opens).map(|(after, before)| after.saturating_sub(before));
        outcome.sqs_cpu = ticks(|cpu| cpu.sqs);
        outcome.dynamodb_cpu = ticks(|cpu| cpu.dynamodb);
        outcome.window = after.at.saturating_duration_since(before.at);
        outcome.requests = aws.requests;
        outcome.waiting = aws.waiting;
        outcome.operations = aws
            .snapshot
            .iter()
            .map(|((service, operation), tally)| (format!("{service}.{operation}"), tally.waiting, tally.requests))
            .collect();
        outcome.operations.sort_by_key(|operation| std::cmp::Reverse(operation.1));
        outcome
    }
}

/// Deletes a scenario's queues and table, so that the emulators do not carry them into the
/// next one.
async fn remove(stack: &Stack) {
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&stack.sdk);
    for physical in stack.provisioned.resources.values() {
        match physical {
            Physical::Queue { url, .. } => {
                let _ = sqs.delete_queue().queue_url(url).send().await;
            }
            Physical::Table { name } => {
                let _ = dynamodb.delete_table().table_name(name).send().await;
            }
        }
    }
}
