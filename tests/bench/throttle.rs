//! A webhook's rate limit under a burst: 1,000 events at once to a webhook limited to 20 a
//! second and to an unlimited one, through the local runner (as `make dev` delivers): the rate
//! the limited one receives at, the unlimited one's latency beside it and without it, and what
//! the limit adds per delivery (AWS requests and units counted by the SDK meter, priced).

use crate::calls::{prices, reported_units};
use crate::meter::{Meter, Tally};
use crate::report::{Row, percentile};
use hookline_domain::model::Environment;
use hookline_local_runner::provision::Physical;
use hookline_local_runner::runner::{self, EventSource};
use hookline_tests::receiver::Receiver;
use hookline_tests::{LOOPBACK, Stack, serve_context};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events of the burst.
const EVENTS: usize = 1_000;
/// The limited webhook's rate.
const RATE: u32 = 20;
/// Goal: the limited webhook receives at its rate, within 10 %.
const RATE_WITHIN: f64 = 0.10;
/// How the runner polls: the template's defaults.
const SOURCE: EventSource = EventSource { pollers: 5, max_concurrency: 50, batch_size: 100 };

struct Burst {
    /// Arrival times at the limited webhook (empty without one).
    limited: Vec<Instant>,
    /// Milliseconds from the POST of each event to its arrival at the unlimited webhook.
    free_latencies: Vec<f64>,
    tallies: BTreeMap<(String, String), Tally>,
}

async fn burst(rate: Option<u32>) -> Burst {
    let mut stack = Stack::new().await;
    stack.context.settings.allowed_target_cidrs = LOOPBACK.into();
    let meter = Meter::default();
    meter.instrument(&mut stack).await;
    let context = stack.context.clone();
    let deliverer = Arc::new(hookline_deliver::deliverer(&context).expect("deliverer"));
    let base = serve_context(context.clone()).await;
    let client = stack.client(&base, Environment::Sandbox).await;
    stack.put_event_type("bench.event").await;
    let receiver = Receiver::start(Vec::new()).await;
    let hook = |path: &str, rate: Option<u32>| json!({"url": receiver.at(path), "events": ["bench.event"], "rate_limit": rate});
    client.create_webhook(hook("/limited", rate)).await;
    client.create_webhook(hook("/free", None)).await;
    let Some(Physical::Queue { arn, .. }) = stack.provisioned.resources.get("DeliveryQueue") else {
        panic!("the delivery queue")
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let driving = tokio::spawn(runner::drive_deliver(deliverer, arn.clone(), SOURCE, stopped));

    meter.reset();
    let mut sent_at = vec![Instant::now(); EVENTS];
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(100) {
        let events: Vec<_> = chunk.iter().map(|n| json!({"event_type": "bench.event", "payload": {"n": n}})).collect();
        let now = Instant::now();
        for n in chunk {
            sent_at[*n] = now;
        }
        let reply = client.send("POST", "/api/v3/notification/events/batch", Some(json!({"events": events}))).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
    }
    let published = Instant::now();
    let arrivals = |path: &str| -> Vec<Instant> {
        let mut times: Vec<Instant> =
            receiver.requests().into_iter().filter(|request| request.path == path).map(|request| request.at).collect();
        times.sort_unstable();
        times
    };
    let limit = Duration::from_secs(EVENTS as u64 / u64::from(rate.unwrap_or(1000)) * 2 + 30);
    while (arrivals("/limited").len() < EVENTS || arrivals("/free").len() < EVENTS) && published.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = driving.await;
    let free_latencies = receiver
        .requests()
        .into_iter()
        .filter(|request| request.path == "/free")
        .filter_map(|request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).ok()?;
            let sent = sent_at.get(usize::try_from(body["n"].as_u64()?).ok()?)?;
            Some(request.at.saturating_duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    Burst { limited: arrivals("/limited"), free_latencies, tallies: meter.snapshot() }
}

/// Dollars of what the requests and units of `tallies` cost (DynamoDB as reported).
fn dollars(tallies: &BTreeMap<(String, String), Tally>) -> f64 {
    let (writes, reads) = reported_units(tallies);
    let sqs: u64 =
        tallies.iter().filter(|((service, _), _)| service.eq_ignore_ascii_case("sqs")).map(|(_, t)| t.requests).sum();
    writes * prices::DYNAMODB_WRITE_UNIT + reads * prices::DYNAMODB_READ_UNIT + sqs as f64 * prices::SQS_REQUEST
}

fn requests(tallies: &BTreeMap<(String, String), Tally>) -> BTreeMap<String, i64> {
    tallies
        .iter()
        .map(|((service, operation), tally)| (format!("{service} {operation}"), tally.requests as i64))
        .collect()
}

/// Both bursts, and the rows.
pub async fn run() -> Vec<Row> {
    let alone = burst(None).await;
    let limited = burst(Some(RATE)).await;
    let received = limited.limited.len();
    let span = match (limited.limited.first(), limited.limited.last()) {
        (Some(first), Some(last)) => (*last - *first).as_secs_f64(),
        _ => 0.0,
    };
    let rate = if span > 0.0 { (received.saturating_sub(1)) as f64 / span } else { 0.0 };
    let target = f64::from(RATE);
    let mut with = limited.free_latencies.clone();
    let mut without = alone.free_latencies.clone();
    let (with_p50, with_p99) = (percentile(&mut with, 50.0), percentile(&mut with, 99.0));
    let (without_p50, without_p99) = (percentile(&mut without, 50.0), percentile(&mut without, 99.0));
    let (before, after) = (requests(&alone.tallies), requests(&limited.tallies));
    let added: Vec<String> = after
        .iter()
        .map(|(name, count)| (name, count - before.get(name).copied().unwrap_or(0)))
        .filter(|(_, added)| *added != 0)
        .map(|(name, added)| format!("{name} {:+.2}", added as f64 / EVENTS as f64))
        .collect();
    let per_million = (dollars(&limited.tallies) - dollars(&alone.tallies)) / EVENTS as f64 * 1e6;
    vec![
        Row::new(
            format!("deliveries/s to a webhook limited to {RATE}/s, burst of {EVENTS} events"),
            format!("{rate:.1} ({received} of {EVENTS} received over {span:.1} s)"),
            format!("{RATE}/s ± 10%"),
            Some(received == EVENTS && (rate - target).abs() <= target * RATE_WITHIN),
            format!(
                "{EVENTS} events published at once (POST /events/batch, 100 a request) to the limited webhook and an \
                 unlimited one; receiver timestamps, (n - 1) / (last - first); runner in-process with {} pollers, \
                 batches of up to {}, on fauxqs and ministack",
                SOURCE.pollers, SOURCE.batch_size
            ),
        ),
        Row::new(
            "latency of an unlimited webhook beside a limited one, same burst (p50 / p99)",
            format!(
                "{with_p50:.0} / {with_p99:.0} ms (without the limited one: {without_p50:.0} / {without_p99:.0} ms)"
            ),
            "p50 within 2x of without",
            Some(with_p50 <= (2.0 * without_p50).max(without_p50 + 100.0)),
            "from the POST of each event (100 a request, all at once) to its arrival at the unlimited webhook; the \
             same burst without a rate limit on the other webhook for comparison",
        ),
        Row::new(
            "what a rate limit adds per delivery to the limited webhook",
            format!("${per_million:.2} per million"),
            "-",
            None,
            format!(
                "the burst with the limit minus the burst without, per delivery: {}; DynamoDB units as DynamoDB Local \
                 reports them when it runs, SQS requests priced; a burst is the worst case (most tasks wait in the \
                 queue), a webhook under its limit pays only the slot reservation, one write per worker batch",
                added.join(", ")
            ),
        ),
    ]
}
