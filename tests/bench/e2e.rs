//! End to end on the local stack, in-process: a publisher posts events at a fixed rate to the
//! runner's HTTP server, the runner's SQS pollers deliver them to a receiver on 127.0.0.1, and
//! the table gets ingest-to-receiver latency, ingest API latency, sustained throughput, missing
//! deliveries, Hookline's own CPU and how much of it all was spent waiting on AWS (the emulators:
//! fauxqs for SQS, ministack for DynamoDB).
//!
//! The publisher and the receiver run on their own single-threaded runtime on one thread, whose
//! CPU is subtracted from the process's: what remains is Hookline (ingest, api, deliver, the
//! SDK clients, the runner). The emulators are child processes, so they are not in
//! `/proc/self/stat`; their CPU is read from their own and reported apart.
//!
//! `BENCH_SECONDS` (default 5) sets how long each scenario publishes; `BENCH_SCENARIOS`
//! (default `100x1,300x1,600x1,100x10,300x10`, rate x fan-out) and `BENCH_BATCHES` (default
//! `1,10`, events per ingest request) choose the scenarios.

use crate::meter::{Meter, Tally};
use crate::report::{Row, percentile};
use hookline_devstack::provision::Physical;
use hookline_devstack::runner::EventSource;
use hookline_devstack::sdk::Endpoints;
use hookline_domain::model::Environment;
use hookline_tests::Stack;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// The scenarios, `rate x fan-out`, unless `BENCH_SCENARIOS` says otherwise; each runs with
/// every ingest batch size of `BENCH_BATCHES` (default `1,10`: one event per request, then
/// `POST /events/batch` with 10).
const SCENARIOS: &str = "100x1,300x1,600x1,100x10,300x10";
const BATCHES: &str = "1,10";
/// How the runner polls, as Lambda's event source mapping would.
const SOURCE: EventSource = EventSource { pollers: 5, max_concurrency: 50 };
/// The longest a scenario waits for its backlog after publishing.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// The shortest.
const DRAIN_FLOOR: Duration = Duration::from_secs(10);
/// The whole e2e part should end within about this: the drain limits shrink to fit.
const BUDGET: Duration = Duration::from_secs(240);
/// What a scenario costs besides publishing and draining (setup, stopping, removal, the
/// emulators settling) until one has been measured.
const OVERHEAD: Duration = Duration::from_secs(10);
/// How long stopped tasks may take to finish (a poller finishes its batch) before an abort.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The longest wait for the emulators to finish the requests of the previous scenario.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);
/// An emulator counts as idle below this CPU (in cores).
const EMULATOR_IDLE: f64 = 0.1;
/// Clock ticks per second of `/proc/*/stat` (`getconf CLK_TCK`), assumed: 100 on Linux.
const TICKS_PER_SECOND: f64 = 100.0;
/// The scenario of the Svix comparison.
/// (rate, fan-out, events per request): Svix was measured with one event per request.
const SVIX_SCENARIO: (u32, usize, usize) = (300, 1, 1);
/// Svix's end-to-end p99 on the same kind of machine.
const SVIX_P99_MS: f64 = 34.0;
/// Hookline's CPU goal, seconds per 1,000 deliveries.
const CPU_GOAL: f64 = 1.0;
/// Hookline's added latency goal (p99).
const ADDED_GOAL_MS: f64 = 10.0;
/// An emulator busier than this (in cores) is the bottleneck: each runs on one core.
const EMULATOR_SATURATED: f64 = 0.8;

const EVENT_TYPE: &str = "bench.e2e";
const EVENTS: &str = "/api/v3/notification/events";
const DELIVERY_QUEUE: &str = "DeliveryQueue";
/// Why a POST got no answer (the server may still have accepted the event).
const NO_ANSWER: &str = "no answer by the deadline";

/// Measures the end-to-end figures.
pub async fn run() -> Vec<Row> {
    let seconds = std::env::var("BENCH_SECONDS").ok().and_then(|value| value.parse::<u64>().ok()).unwrap_or(5).max(1);
    let batches: Vec<usize> = list("BENCH_BATCHES", BATCHES);
    let pairs: Vec<(u32, usize)> = list::<String>("BENCH_SCENARIOS", SCENARIOS)
        .iter()
        .filter_map(|pair| {
            let (rate, fan_out) = pair.split_once('x')?;
            Some((rate.trim().parse().ok()?, fan_out.trim().parse().ok()?))
        })
        .collect();
    let side = match Side::start() {
        Ok(side) => side,
        Err(error) => return vec![failure("e2e", &format!("the load thread did not start: {error}"))],
    };
    let endpoints = hookline_tests::local_aws();
    let (sqs, dynamodb) = hookline_tests::local_aws_pids();
    let emulators = [sqs, dynamodb];
    let started = Instant::now();
    let scenarios: Vec<(u32, usize, usize)> = pairs
        .iter()
        .flat_map(|&(rate, fan_out)| batches.iter().map(move |&batch| (rate, fan_out, batch.clamp(1, 100))))
        .collect();
    let mut outcomes = Vec::new();
    let mut overhead = OVERHEAD;
    for (index, &(rate, fan_out, batch)) in scenarios.iter().enumerate() {
        // What is left of the budget, less what the scenarios after this one need at least
        // (publishing, the shortest drain, and the costliest overhead seen so far).
        let per_scenario = Duration::from_secs(seconds) + overhead;
        let reserved = (per_scenario + DRAIN_FLOOR) * (scenarios.len() - index - 1) as u32;
        let drain = BUDGET.saturating_sub(started.elapsed() + reserved + per_scenario).clamp(DRAIN_FLOOR, DRAIN_LIMIT);
        let scenario = Scenario { rate, fan_out, batch, seconds, drain };
        let settled = settle(&emulators).await;
        eprintln!(
            "e2e: {} for {seconds} s, then at most {} s (the emulators settled in {:.1} s)",
            scenario.label(),
            drain.as_secs(),
            settled.as_secs_f64()
        );
        let begun = Instant::now();
        let outcome = match scenario.run(endpoints, &emulators, &side).await {
            Ok(outcome) => outcome,
            Err(error) => Outcome::failed(scenario, error),
        };
        let besides = (begun.elapsed() + settled).saturating_sub(outcome.window);
        overhead = overhead.max(besides);
        eprintln!(
            "e2e: {}: {} of {} delivered; {:.1} s in all, {:.1} s besides the load",
            scenario.label(),
            outcome.latencies.len(),
            outcome.expected,
            (begun.elapsed() + settled).as_secs_f64(),
            besides.as_secs_f64()
        );
        outcomes.push(outcome);
    }
    let mut rows: Vec<Row> = outcomes.iter().flat_map(Outcome::rows).collect();
    rows.push(added_latency(&outcomes));
    rows
}

/// A comma-separated list from the environment, or the default.
fn list<T: std::str::FromStr>(variable: &str, default: &str) -> Vec<T> {
    let parse = |text: &str| text.split(',').filter_map(|item| item.trim().parse().ok()).collect::<Vec<T>>();
    std::env::var(variable).ok().map(|text| parse(&text)).filter(|items| !items.is_empty()).unwrap_or(parse(default))
}

/// A row saying that something could not be measured.
fn failure(what: &str, error: &str) -> Row {
    Row::new(format!("e2e {what}"), "FAILED", "-", None, error)
}

/// One publishing rate, fan-out and ingest batch size.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    rate: u32,
    fan_out: usize,
    /// Events per ingest request (1: `POST /events`; more: `POST /events/batch`).
    batch: usize,
    seconds: u64,
    /// How long to wait for deliveries (and POST answers) after publishing.
    drain: Duration,
}

/// What the meter saw during the load.
struct Aws {
    requests: u64,
    waiting: Duration,
    snapshot: BTreeMap<(String, String), Tally>,
}

/// What one scenario measured.
#[derive(Debug)]
struct Outcome {
    scenario: Scenario,
    error: Option<String>,
    /// Events accepted (202 with an id).
    published: usize,
    /// Events not accepted, by reason.
    rejected: BTreeMap<String, usize>,
    /// How long posting took (first to last POST sent).
    posting: Duration,
    /// published * fan-out.
    expected: usize,
    /// Expected (message id, path) pairs never seen at the receiver.
    missing: usize,
    /// Pairs seen that belong to no published event: a wrong id, path or payload.
    unknown: usize,
    /// Pairs seen of an event whose POST was refused (an HTTP error): it should not exist.
    refused: usize,
    /// Pairs seen of an event whose POST got no answer before the deadline.
    unanswered: usize,
    /// Requests beyond the first for a pair (at-least-once deliveries).
    duplicates: usize,
    /// End-to-end latencies (ms) of the delivered pairs, POST sent to first arrival.
    latencies: Vec<f64>,
    /// Ingest API latencies (ms), POST to 202.
    ingest: Vec<f64>,
    /// First POST to last delivery.
    span: Duration,
    /// Hookline's CPU seconds (the process minus the load thread).
    cpu: Option<f64>,
    /// The process's system CPU seconds (in `cpu`, less the load thread's share).
    system: Option<f64>,
    /// fauxqs's and ministack's CPU seconds in the same window.
    sqs_cpu: Option<f64>,
    dynamodb_cpu: Option<f64>,
    /// TCP connections opened in the network namespace in the window.
    opens: Option<u64>,
    /// First POST to the end of the wait.
    window: Duration,
    /// AWS requests, and the time waiting on them (summed over concurrent calls).
    requests: u64,
    waiting: Duration,
    /// By operation, longest wait first: (service.operation, waiting, requests).
    operations: Vec<(String, Duration, u64)>,
}

impl Scenario {
    fn is(&self, (rate, fan_out, batch): (u32, usize, usize)) -> bool {
        (self.rate, self.fan_out, self.batch) == (rate, fan_out, batch)
    }

    fn label(&self) -> String {
        let ingest = if self.batch > 1 { format!("batches of {}", self.batch) } else { "one per request".into() };
        format!("{}/s, fan-out {}, {ingest}", self.rate, self.fan_out)
    }

    /// A fresh stack, served by the runner, loaded and drained; its tasks are stopped and its
    /// queues and table removed, so that nothing carries over into the next scenario.
    async fn run(self, endpoints: &Endpoints, emulators: &[u32; 2], side: &Side) -> Result<Outcome, String> {
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
        let routes = hookline_devstack::runner::Routes::new(&context).map_err(|error| format!("routers: {error}"))?;
        let deliverer = Arc::new(hookline_deliver::deliverer(&context).map_err(|error| format!("deliverer: {error}"))?);
        let (stop, stopped) = watch::channel(false);
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|error| format!("bind: {error}"))?;
        let base = format!("http://{}", listener.local_addr().map_err(|error| format!("address: {error}"))?);
        tasks.push(tokio::spawn(hookline_devstack::runner::serve_http(listener, routes.clone(), stopped.clone())));
        let (sink, serving) = Sink::start(side, stopped.clone()).await?;
        tasks.push(serving);

        let outcome = async {
            let client = stack.client(&base, Environment::Sandbox).await;
            client.register_event_type(EVENT_TYPE).await;
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
            tasks.push(tokio::spawn(hookline_devstack::runner::drive_deliver(
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

impl Outcome {
    fn failed(scenario: Scenario, error: String) -> Self {
        Self { error: Some(error), ..Self::empty(scenario) }
    }

    fn empty(scenario: Scenario) -> Self {
        Self {
            scenario,
            error: None,
            published: 0,
            rejected: BTreeMap::new(),
            posting: Duration::ZERO,
            expected: 0,
            missing: 0,
            unknown: 0,
            refused: 0,
            unanswered: 0,
            duplicates: 0,
            latencies: Vec::new(),
            ingest: Vec::new(),
            span: Duration::ZERO,
            cpu: None,
            system: None,
            sqs_cpu: None,
            dynamodb_cpu: None,
            opens: None,
            window: Duration::ZERO,
            requests: 0,
            waiting: Duration::ZERO,
            operations: Vec::new(),
        }
    }

    fn delivered(&self) -> usize {
        self.latencies.len()
    }

    /// Why the run does not balance (published * M = delivered + missing, and nothing else
    /// arrived than what was published or left unanswered), if it does not.
    fn void(&self) -> Option<String> {
        (self.expected != self.delivered() + self.missing || self.unknown > 0 || self.refused > 0).then(|| {
            format!(
                "VOID: published*M {} vs delivered {} + missing {}; {} unknown (message id, path) pairs at the \
                 receiver, {} of refused POSTs",
                self.expected,
                self.delivered(),
                self.missing,
                self.unknown,
                self.refused
            )
        })
    }

    /// Each emulator's CPU over the window, in cores: (SQS, DynamoDB).
    fn emulator_loads(&self) -> Option<(f64, f64)> {
        let window = self.window.as_secs_f64();
        (window > 0.0).then_some(())?;
        Some((self.sqs_cpu? / window, self.dynamodb_cpu? / window))
    }

    /// AWS wait (summed over concurrent calls) over the summed end-to-end latencies.
    fn aws_share(&self) -> Option<f64> {
        self.share_of_e2e(self.waiting)
    }

    /// The same without `ReceiveMessage`, whose long polls also wait while the queue is empty.
    fn aws_share_without_polls(&self) -> Option<f64> {
        let polls: Duration = self
            .operations
            .iter()
            .filter(|(name, _, _)| name.ends_with(".ReceiveMessage"))
            .map(|(_, waiting, _)| *waiting)
            .sum();
        self.share_of_e2e(self.waiting.saturating_sub(polls))
    }

    fn share_of_e2e(&self, waiting: Duration) -> Option<f64> {
        let total: f64 = self.latencies.iter().sum::<f64>() / 1e3;
        (total > 0.0).then(|| waiting.as_secs_f64() / total)
    }

    fn emulator_bound(&self) -> bool {
        self.emulator_loads().is_some_and(|(sqs, dynamodb)| sqs.max(dynamodb) >= EMULATOR_SATURATED)
            || self.aws_share_without_polls().is_some_and(|share| share >= 0.5)
    }

    fn per_delivery(&self, total: f64) -> Option<f64> {
        (self.delivered() > 0).then(|| total / self.delivered() as f64)
    }

    fn cpu_per_thousand(&self) -> Option<f64> {
        self.cpu.and_then(|cpu| self.per_delivery(cpu * 1000.0))
    }

    fn rows(&self) -> Vec<Row> {
        let label = self.scenario.label();
        if let Some(error) = &self.error {
            return vec![failure(&format!("({label})"), error)];
        }
        let void = self.void();
        let value = |text: String| if void.is_some() { format!("VOID ({text})") } else { text };
        let bound = if self.emulator_bound() { "; emulator-bound (see AWS wait)" } else { "" };
        let mut latencies = self.latencies.clone();
        let mut ingest = self.ingest.clone();
        let ms = |samples: &mut Vec<f64>, p: f64| {
            if samples.is_empty() { "n/a".to_string() } else { format!("{:.1}", percentile(samples, p)) }
        };
        let p99 = percentile(&mut latencies, 99.0);
        let mut rows = Vec::new();

        let svix = self.scenario.is(SVIX_SCENARIO);
        let clean = void.is_none() && self.missing == 0 && self.delivered() > 0;
        rows.push(Row::new(
            format!("e2e latency p50 / p95 / p99 ({label})"),
            value(format!(
                "{} / {} / {} ms",
                ms(&mut latencies, 50.0),
                ms(&mut latencies, 95.0),
                ms(&mut latencies, 99.0)
            )),
            if svix { format!("p99 <= {SVIX_P99_MS:.0} ms (Svix)") } else { "-".into() },
            svix.then_some(clean && p99 <= SVIX_P99_MS),
            format!(
                "POST sent -> first arrival of its (message id, path) at a receiver on 127.0.0.1, over {} deliveries; \
                 runner in-process (serve_http + drive_deliver with {} pollers and at most {} batches at once, one \
                 Deliverer) on fauxqs and ministack{}{bound}{}",
                self.delivered(),
                SOURCE.pollers,
                SOURCE.max_concurrency,
                if self.missing > 0 { format!("; the {} missing are not in it", self.missing) } else { String::new() },
                void.as_ref().map(|text| format!("; {text}")).unwrap_or_default(),
            ),
        ));

        let rejected = if self.rejected.is_empty() {
            String::new()
        } else {
            let reasons: Vec<String> =
                self.rejected.iter().map(|(reason, count)| format!("{count} {reason}")).collect();
            format!(", not accepted: {}", reasons.join(", "))
        };
        rows.push(Row::new(
            format!("ingest API p50 / p99 ({label})"),
            format!("{} / {} ms", ms(&mut ingest, 50.0), ms(&mut ingest, 99.0)),
            "-",
            None,
            format!(
                "POST {EVENTS} to its 202 (body read), each POST spawned on a fixed {}/s tick (tokio interval, \
                 burst on missed ticks), posted over {:.2} s; {} accepted{rejected}",
                self.scenario.rate,
                self.posting.as_secs_f64(),
                self.published,
            ),
        ));

        let span = self.span.as_secs_f64();
        let rate = if span > 0.0 { format!("{:.0} /s", self.delivered() as f64 / span) } else { "n/a".into() };
        let unanswered = if self.unanswered > 0 {
            format!("; {} more deliveries of POSTs without an answer by the deadline (not counted)", self.unanswered)
        } else {
            String::new()
        };
        rows.push(Row::new(
            format!("sustained deliveries/s, missing ({label})"),
            value(format!("{rate}, missing {}", self.missing)),
            "-",
            None,
            format!(
                "delivered / (first POST -> last delivery, {span:.1} s); offered {}/s; {} of {} (published x M) \
                 delivered, {} missing after waiting at most {} s past publishing; {} duplicate requests{unanswered}",
                self.scenario.rate as usize * self.scenario.fan_out,
                self.delivered(),
                self.expected,
                self.missing,
                self.scenario.drain.as_secs(),
                self.duplicates
            ),
        ));

        let per_thousand = self.cpu_per_thousand();
        let partial = if self.missing > 0 || !self.rejected.is_empty() {
            "; the work for events not delivered is in the CPU but not in the deliveries, so this overstates"
        } else {
            ""
        };
        rows.push(Row::new(
            format!("Hookline CPU per 1,000 deliveries ({label})"),
            per_thousand.map_or("n/a".into(), |cpu| format!("{cpu:.2} s")),
            format!("<= {CPU_GOAL:.1} s"),
            per_thousand.map(|cpu| cpu <= CPU_GOAL),
            format!(
                "utime+stime of /proc/self/stat at an assumed 100 Hz (CLK_TCK, not read), first POST -> end of wait \
                 ({:.1} s: {} CPU s, {} of it system time in the whole process), minus the thread of the publisher \
                 and receiver (/proc/self/task/<tid>/stat): ingest, api, deliver, SDK clients, runner; the emulators are \
                 child processes, not counted; {}{partial}",
                self.window.as_secs_f64(),
                self.cpu.map_or("?".into(), |cpu| format!("{cpu:.2}")),
                self.system.map_or("?".into(), |cpu| format!("{cpu:.2}")),
                match self.opens {
                    Some(opens) if self.requests > 0 => format!(
                        "{:.2} TCP connections opened per AWS request (netns-wide Tcp ActiveOpens), the receiver's \
                         and the publisher's included",
                        opens as f64 / self.requests as f64
                    ),
                    _ => "TCP connections opened unknown".into(),
                },
            ),
        ));

        let total = self.waiting.as_secs_f64();
        let top: Vec<String> = self
            .operations
            .iter()
            .take(3)
            .map(|(name, waiting, requests)| {
                format!("{name} {:.0}% ({requests} calls)", waiting.as_secs_f64() * 100.0 / total.max(f64::EPSILON))
            })
            .collect();
        let emulators = self.emulator_loads().map_or("emulator CPU unknown".into(), |(sqs, dynamodb)| {
            format!(
                "emulators (child processes) busy: fauxqs {:.0}%, ministack {:.0}% of one core",
                sqs * 100.0,
                dynamodb * 100.0
            )
        });
        let bound = if self.emulator_bound() {
            "; EMULATOR-BOUND (AWS waiting dominates): each emulator runs on one core, so these latencies are \
             mostly theirs"
        } else {
            ""
        };
        rows.push(Row::new(
            format!("AWS wait share of e2e / per delivery ({label})"),
            format!(
                "{} / {} ms",
                self.aws_share().map_or("n/a".into(), |share| format!("{:.0}%", share * 100.0)),
                self.per_delivery(total * 1e3).map_or("n/a".into(), |wait| format!("{wait:.1}"))
            ),
            "-",
            None,
            format!(
                "meter.waiting() {total:.1} s, summed over concurrent calls (so the share can pass 100%), / the sum \
                 of e2e latencies, and / deliveries (ingest and fan-out calls included); without SQS.ReceiveMessage \
                 (long polls wait on an empty queue too) the share is {}; {} per call; {}; {emulators}{bound}",
                self.aws_share_without_polls().map_or("n/a".into(), |share| format!("{:.0}%", share * 100.0)),
                if self.requests > 0 { format!("{:.1} ms", total * 1e3 / self.requests as f64) } else { "n/a".into() },
                top.join(", "),
            ),
        ));

        rows.push(Row::new(
            format!("AWS requests per delivered webhook ({label})"),
            self.per_delivery(self.requests as f64).map_or("n/a".into(), |requests| format!("{requests:.2}")),
            "-",
            None,
            format!(
                "meter.requests() {} / {} deliveries: ingest, fan-out, deliver and SQS polling, SDK retries included{}",
                self.requests,
                self.delivered(),
                if self.missing > 0 || !self.rejected.is_empty() { "; overstated by undelivered work" } else { "" }
            ),
        ));
        rows
    }
}

/// Hookline's added latency at the Svix scenario.
fn added_latency(outcomes: &[Outcome]) -> Row {
    let figure = format!("Hookline added latency p99 ({}/s, fan-out {})", SVIX_SCENARIO.0, SVIX_SCENARIO.1);
    let goal = format!("< {ADDED_GOAL_MS:.0} ms");
    let Some(outcome) = outcomes.iter().find(|outcome| outcome.scenario.is(SVIX_SCENARIO) && outcome.error.is_none())
    else {
        return Row::new(figure, "n/a", goal, None, "the scenario did not run");
    };
    let mut latencies = outcome.latencies.clone();
    let p99 = percentile(&mut latencies, 99.0);
    Row::new(
        figure,
        "not separable",
        goal,
        None,
        format!(
            "the meter sums AWS wait per operation, not per delivery, so there is no p99 of per-delivery AWS wait \
             to subtract from the e2e p99 ({}); for scale: mean AWS wait per delivery {} (summed over concurrent \
             calls), Hookline CPU per delivery {} (mean){}",
            if p99.is_nan() { "n/a".into() } else { format!("{p99:.1} ms") },
            outcome.per_delivery(outcome.waiting.as_secs_f64() * 1e3).map_or("n/a".into(), |ms| format!("{ms:.1} ms")),
            outcome.cpu_per_thousand().map_or("n/a".into(), |cpu| format!("{cpu:.2} ms")),
            if outcome.emulator_bound() {
                "; the scenario is emulator-bound, so these say little about Hookline"
            } else {
                ""
            },
        ),
    )
}

/// Waits (up to `SETTLE_LIMIT`) until the emulators are idle: they may still serve the
/// requests of a scenario after their clients are gone, and the next scenario should not pay
/// for them. Returns the wait.
async fn settle(emulators: &[u32]) -> Duration {
    let started = Instant::now();
    let step = Duration::from_millis(500);
    let busy = |pid: &u32| stat_ticks(&format!("/proc/{pid}/stat"));
    while started.elapsed() < SETTLE_LIMIT {
        let before: Option<Vec<u64>> = emulators.iter().map(busy).collect();
        tokio::time::sleep(step).await;
        let after: Option<Vec<u64>> = emulators.iter().map(busy).collect();
        let (Some(before), Some(after)) = (before, after) else { break };
        let idle = before.iter().zip(&after).all(|(before, after)| {
            (after.saturating_sub(*before) as f64 / TICKS_PER_SECOND) / step.as_secs_f64() < EMULATOR_IDLE
        });
        if idle {
            break;
        }
    }
    started.elapsed()
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

/// A thread with its own single-threaded runtime for the load (publisher and receiver), so
/// that its CPU can be told apart from Hookline's.
struct Side {
    handle: tokio::runtime::Handle,
    tid: u32,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Side {
    fn start() -> Result<Self, String> {
        let (sender, receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("bench-load".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = sender.send(Err(error.to_string()));
                        return;
                    }
                };
                let _ = sender.send(thread_id().map(|tid| (runtime.handle().clone(), tid)));
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|error| error.to_string())?;
        let (handle, tid) = receiver.recv().map_err(|error| error.to_string())??;
        Ok(Self { handle, tid, stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The calling thread's id, from `/proc/thread-self` (a link to `<pid>/task/<tid>`).
fn thread_id() -> Result<u32, String> {
    let link = std::fs::read_link("/proc/thread-self").map_err(|error| format!("/proc/thread-self: {error}"))?;
    link.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.parse().ok())
        .ok_or_else(|| "no thread id".to_string())
}

/// CPU readings (clock ticks) at one instant.
struct Cpu {
    at: Instant,
    /// This process's user and system ticks.
    user: Option<u64>,
    system: Option<u64>,
    side: Option<u64>,
    sqs: Option<u64>,
    dynamodb: Option<u64>,
    /// TCP connections opened in this network namespace (`Tcp: ActiveOpens`).
    opens: Option<u64>,
}

impl Cpu {
    fn read(side: &Side, emulators: &[u32; 2]) -> Self {
        let own = stat_fields("/proc/self/stat");
        let field = |index: usize| own.as_ref().and_then(|fields| fields.get(index)?.parse().ok());
        Self {
            at: Instant::now(),
            user: field(11),
            system: field(12),
            side: stat_ticks(&format!("/proc/self/task/{}/stat", side.tid)),
            sqs: stat_ticks(&format!("/proc/{}/stat", emulators[0])),
            dynamodb: stat_ticks(&format!("/proc/{}/stat", emulators[1])),
            opens: active_opens(),
        }
    }
}

/// The fields of a `/proc/*/stat` after the command name (the first is field 3, `state`).
fn stat_fields(path: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// utime + stime (fields 14 and 15) of a `/proc/*/stat`.
fn stat_ticks(path: &str) -> Option<u64> {
    let fields = stat_fields(path)?;
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// `Tcp: ActiveOpens` of `/proc/net/snmp`: connections opened in this network namespace.
fn active_opens() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut tcp = snmp.lines().filter(|line| line.starts_with("Tcp:"));
    let (names, values) = (tcp.next()?, tcp.next()?);
    let index = names.split_whitespace().position(|name| name == "ActiveOpens")?;
    values.split_whitespace().nth(index)?.parse().ok()
}

/// One POST of the publisher; its index is the `n` of its payload.
struct Post {
    /// When it was sent.
    at: Instant,
    /// The message id and the time to the 202.
    accepted: Option<(String, Duration)>,
    /// Why not.
    refused: Option<String>,
}

/// Posts events with an account's key (a client of its own, on the load thread).
struct Publisher {
    base: String,
    key: String,
    /// Events per request.
    batch: usize,
}

impl Publisher {
    /// Posts `count` events at `rate` per second, `batch` per request, each request spawned
    /// so that slow answers do not lower the rate; waits for every answer until `deadline`.
    async fn publish(self, rate: u32, count: usize, deadline: Instant) -> Vec<Post> {
        let http = reqwest::Client::new();
        let requests_per_second = f64::from(rate) / self.batch as f64;
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / requests_per_second));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut requests = Vec::new();
        for first in (0..count).step_by(self.batch) {
            ticker.tick().await;
            let events: Vec<Value> = (first..count.min(first + self.batch))
                .map(|n| json!({"event_type": EVENT_TYPE, "payload": {"n": n, "bench": "e2e"}}))
                .collect();
            let (path, body) = match events.as_slice() {
                [event] => (EVENTS.to_string(), event.clone()),
                _ => (format!("{EVENTS}/batch"), json!({ "events": events })),
            };
            let request = http
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .header("content-type", "application/json")
                .body(body.to_string());
            requests.push((events.len(), tokio::spawn(post(request, events.len(), deadline))));
        }
        let mut done = Vec::with_capacity(count);
        for (events, request) in requests {
            done.extend(request.await.unwrap_or_else(|_| {
                (0..events)
                    .map(|_| Post {
                        at: Instant::now(),
                        accepted: None,
                        refused: Some("publisher task failures".into()),
                    })
                    .collect()
            }));
        }
        done
    }
}

/// One POST, answered by `deadline` or given up.
/// Sends one request of `events` events (one: the single route; more: the batch route) and
/// reads a result per event.
async fn post(request: reqwest::RequestBuilder, events: usize, deadline: Instant) -> Vec<Post> {
    let at = Instant::now();
    let answer = async {
        let response = request.send().await.map_err(|_| "connection errors".to_string())?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.map_err(|_| format!("unreadable HTTP {status} bodies"))?;
        let elapsed = at.elapsed();
        if events == 1 {
            return match (status, body["data"]["id"].as_str()) {
                (202, Some(id)) => Ok(vec![Ok((id.to_string(), elapsed))]),
                (202, None) => Err("202 without data.id".to_string()),
                _ => Err(format!("HTTP {status}")),
            };
        }
        if status != 202 && status != 207 {
            return Err(format!("HTTP {status}"));
        }
        let results = body["data"]
            .as_array()
            .filter(|results| results.len() == events)
            .ok_or("a batch without a result per event")?;
        Ok(results
            .iter()
            .map(|result| match (result["status"].as_str(), result["data"]["id"].as_str()) {
                (Some("202"), Some(id)) => Ok((id.to_string(), elapsed)),
                (status, _) => Err(format!("batch item {}", status.unwrap_or("without a status"))),
            })
            .collect())
    };
    let refused =
        |reason: String| (0..events).map(|_| Post { at, accepted: None, refused: Some(reason.clone()) }).collect();
    match tokio::time::timeout_at(deadline.into(), answer).await {
        Ok(Ok(results)) => results
            .into_iter()
            .map(|result| match result {
                Ok(accepted) => Post { at, accepted: Some(accepted), refused: None },
                Err(reason) => Post { at, accepted: None, refused: Some(reason) },
            })
            .collect(),
        Ok(Err(reason)) => refused(reason),
        Err(_) => refused(NO_ANSWER.into()),
    }
}

/// The first arrival of a (path, webhook-id).
#[derive(Clone, Copy)]
struct Arrival {
    at: Instant,
    /// The `n` of the payload: which POST it came from.
    n: Option<usize>,
}

/// What the receiver saw.
#[derive(Default, Clone)]
struct Arrivals {
    first: HashMap<(String, String), Arrival>,
    /// Every request.
    total: usize,
}

/// A lean receiver on 127.0.0.1 (on the load thread): keeps only the path, `webhook-id`, the
/// payload's `n` and the arrival of each request, and answers 200. (The tests' `Receiver`
/// keeps bodies and headers and is read by cloning them all: polling it under load would add
/// CPU and memory that have nothing to do with Hookline.)
#[derive(Clone)]
struct Sink {
    url: String,
    arrivals: Arc<Mutex<Arrivals>>,
    unique: Arc<watch::Sender<usize>>,
}

impl Sink {
    /// Starts on the load thread; serves until `stopped`.
    async fn start(side: &Side, stopped: watch::Receiver<bool>) -> Result<(Self, JoinHandle<()>), String> {
        let (ready, listening) = tokio::sync::oneshot::channel();
        let serving = side.handle.spawn(async move {
            let bound = async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let url = format!("http://{}", listener.local_addr()?);
                Ok::<_, std::io::Error>((listener, url))
            };
            match bound.await {
                Ok((listener, url)) => {
                    let sink = Sink { url, arrivals: Arc::default(), unique: Arc::new(watch::channel(0).0) };
                    let _ = ready.send(Ok(sink.clone()));
                    sink.serve(listener, stopped).await;
                }
                Err(error) => {
                    let _ = ready.send(Err(format!("receiver: {error}")));
                }
            }
        });
        let sink = listening.await.map_err(|_| "the receiver did not start".to_string())??;
        Ok((sink, serving))
    }

    async fn serve(self, listener: tokio::net::TcpListener, mut stopped: watch::Receiver<bool>) {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.changed() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let sink = self.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let sink = sink.clone();
                    async move { Ok::<_, Infallible>(sink.answer(request).await) }
                });
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    _ = stopped.changed() => {}
                }
            });
        }
    }

    async fn answer(&self, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
        let at = Instant::now();
        let n = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|payload| payload["n"].as_u64())
            .and_then(|n| usize::try_from(n).ok());
        let id = parts.headers.get("webhook-id").and_then(|value| value.to_str().ok()).unwrap_or_default();
        let key = (parts.uri.path().to_string(), id.to_string());
        let unique = {
            let mut arrivals = self.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            arrivals.total += 1;
            arrivals.first.entry(key).or_insert(Arrival { at, n });
            arrivals.first.len()
        };
        self.unique.send_replace(unique);
        hyper::Response::new(Full::new(Bytes::new()))
    }

    /// Waits until every (accepted id, path) pair arrived, or `deadline`. Counts unique pairs,
    /// and looks closer only when there are enough: other pairs (events whose POST got no
    /// answer, or strays) may be among them.
    async fn wait_for(&self, accepted: &HashSet<&str>, paths: &HashSet<String>, deadline: Instant) {
        let expected = accepted.len() * paths.len();
        let mut unique = self.unique.subscribe();
        let mut target = expected;
        loop {
            let reached = unique.wait_for(|count| *count >= target);
            if tokio::time::timeout_at(deadline.into(), reached).await.is_err() {
                return;
            }
            let arrivals = self.arrivals();
            let known = arrivals
                .first
                .keys()
                .filter(|(path, id)| paths.contains(path) && accepted.contains(id.as_str()))
                .count();
            if known >= expected {
                return;
            }
            target = arrivals.first.len() + (expected - known);
        }
    }

    fn arrivals(&self) -> Arrivals {
        self.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}
