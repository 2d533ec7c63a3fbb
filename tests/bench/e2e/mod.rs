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

mod cpu;
mod outcome;
mod publisher;
mod rows;
mod scenario;
mod sink;

use crate::report::Row;
use cpu::{Side, settle};
use hookline_local_runner::runner::EventSource;
use outcome::Outcome;
use rows::added_latency;
use scenario::Scenario;
use std::time::{Duration, Instant};

/// The scenarios, `rate x fan-out`, unless `BENCH_SCENARIOS` says otherwise; each runs with
/// every ingest batch size of `BENCH_BATCHES` (default `1,10`: one event per request, then
/// `POST /events/batch` with 10).
const SCENARIOS: &str = "100x1,300x1,600x1,100x10,300x10";
const BATCHES: &str = "1,10";
/// How the runner polls, as Lambda's event source mapping would with the template's defaults
/// (`DeliverMaxConcurrency`, `DeliverBatchSize`; a local-runner test holds them to it).
const SOURCE: EventSource = EventSource { pollers: 5, max_concurrency: 50, batch_size: 100 };
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
