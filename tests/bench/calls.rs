//! AWS requests per delivered webhook, counted by the SDK meter in each scenario of the
//! issue, and the cost per million delivered webhooks they imply.

use crate::meter::{Meter, Tally};
use crate::report::Row;
use hookline_domain::model::Environment;
use hookline_tests::receiver::{Answer, Receiver};
use hookline_tests::{LOOPBACK, Stack, serve_context};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// us-east-1 prices, read on 2026-11-22 from the issue (AWS public price lists).
pub mod prices {
    /// Lambda arm64, per request.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// Lambda arm64, per GB-second.
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    /// SQS standard, per request of up to 64 KB.
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// SQS FIFO, per request of up to 64 KB.
    pub const SQS_FIFO_REQUEST: f64 = 0.50 / 1e6;
    /// DynamoDB on-demand, per write request unit.
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    /// DynamoDB on-demand, per read request unit.
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    /// API Gateway HTTP API, per request.
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    /// The functions' memory in `template.yaml`, GB.
    pub const MEMORY_GB: f64 = 0.25;
}

/// The goal of the issue: AWS requests per delivered webhook, fan-out 1, batched ingest.
const REQUESTS_GOAL: f64 = 1.5;
/// The goal of the issue: dollars per million delivered webhooks, with a full log.
const COST_GOAL: f64 = 1.20;
/// The scale issue's goals: dollars per million delivered webhooks with realistic 1 KB and
/// 4 KB payloads (fan-out 1, batched ingest).
const COST_GOAL_1KB: f64 = 1.00;
const COST_GOAL_4KB: f64 = 1.20;
/// Events published per scenario (after one that warms the containers up).
const EVENTS: usize = 100;
/// Tasks per deliver invocation: the template's `DeliverBatchSize` (a local-runner test holds
/// the template to its default), gathered as the event source mapping does.
const DELIVER_BATCH: usize = 100;

struct Scenario {
    name: &'static str,
    /// Events published.
    events: usize,
    fanout: usize,
    batch: usize,
    fail_first: bool,
    /// The size of each payload: about 10 bytes of JSON when 0, else a realistic invoice of
    /// at least this many bytes (see `invoice`).
    payload_bytes: usize,
    /// The cost goal of this scenario, if it has one.
    cost_goal: Option<f64>,
    /// Whether the webhooks have a transformation (a jq program reshaping the invoice).
    transformed: bool,
    /// Whether the events carry a subject (indexed at ingest for erasure).
    with_subject: bool,
    /// Whether the webhooks are ordered (`ordering: fifo`: the FIFO queue, batches of 10).
    ordered: bool,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest one by one, first-try success",
        fanout: 1,
        batch: 1,
        fail_first: false,
        payload_bytes: 0,
        cost_goal: None,
        transformed: false,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest in batches of 10, first-try success",
        fanout: 1,
        batch: 10,
        fail_first: false,
        payload_bytes: 0,
        cost_goal: Some(COST_GOAL),
        transformed: false,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 10, ingest one by one, first-try success",
        fanout: 10,
        batch: 1,
        fail_first: false,
        payload_bytes: 0,
        cost_goal: None,
        transformed: false,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 10, ingest in batches of 10, first-try success",
        fanout: 10,
        batch: 10,
        fail_first: false,
        payload_bytes: 0,
        cost_goal: None,
        transformed: false,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest in batches of 10, one retry each",
        fanout: 1,
        batch: 10,
        fail_first: true,
        payload_bytes: 0,
        cost_goal: None,
        transformed: false,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest in batches of 10, first-try success, 1 KB invoices",
        fanout: 1,
        batch: 10,
        fail_first: false,
        payload_bytes: 1024,
        cost_goal: Some(COST_GOAL_1KB),
        transformed: false,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest in batches of 10, first-try success, 4 KB invoices",
        fanout: 1,
        batch: 10,
        fail_first: false,
        payload_bytes: 4096,
        cost_goal: Some(COST_GOAL_4KB),
        transformed: false,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest in batches of 10, first-try success, 1 KB invoices, a transformation",
        fanout: 1,
        batch: 10,
        fail_first: false,
        payload_bytes: 1024,
        cost_goal: None,
        transformed: true,
        with_subject: false,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest in batches of 10, first-try success, 1 KB invoices, each with a subject",
        fanout: 1,
        batch: 10,
        fail_first: false,
        payload_bytes: 1024,
        cost_goal: None,
        transformed: false,
        with_subject: true,
        ordered: false,
    },
    Scenario {
        events: EVENTS,
        name: "fan-out 1, ingest in batches of 10, first-try success, 1 KB invoices, an ordered (fifo) webhook",
        fanout: 1,
        batch: 10,
        fail_first: false,
        payload_bytes: 1024,
        cost_goal: None,
        transformed: false,
        with_subject: false,
        ordered: true,
    },
];

/// The transformation of the scenarios that have one: a chat message from an invoice.
const TRANSFORMATION: &str = r#"{body: {text: "Invoice \(.payload.id) of \(.payload.customer): \(.payload.amount_due) \(.payload.currency)", lines: (.payload.lines | length)}, headers: {"X-Event": .type}}"#;

struct Measured {
    delivered: usize,
    tallies: BTreeMap<(String, String), Tally>,
    http_requests: usize,
    deliver_invocations: usize,
    cpu_seconds: f64,
    /// Whether DynamoDB ran on DynamoDB Local, which reports the consumed capacity.
    measured_capacity: bool,
    /// Write units by partition key.
    partition_writes: BTreeMap<String, f64>,
}

/// Hookline's own CPU time (user + system) so far, from /proc (USER_HZ assumed 100).
/// Counted with the live child processes' (the transformation sandbox runs in one).
pub fn cpu_seconds() -> f64 {
    let own = std::process::id().to_string();
    let mut seconds = process_cpu("self").map_or(0.0, |(_, seconds)| seconds);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.bytes().all(|byte| byte.is_ascii_digit())
            && let Some((parent, child)) = process_cpu(&name)
            && parent == own
        {
            seconds += child;
        }
    }
    seconds
}

/// A process's parent pid and CPU seconds (user + system), from /proc/{pid}/stat.
fn process_cpu(pid: &str) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|value| value.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, the parent field 1, utime 11, stime 12.
    Some((fields.get(1)?.to_string(), (ticks(11) + ticks(12)) / 100.0))
}

/// The payload of event `n` of `scenario`.
fn payload(scenario: &Scenario, n: usize) -> serde_json::Value {
    if scenario.payload_bytes == 0 { json!({"n": n}) } else { invoice(scenario.payload_bytes, n as u64) }
}

/// Event `n` of `scenario`: its payload, and its subject when the scenario has them.
fn event(scenario: &Scenario, n: usize) -> serde_json::Value {
    let mut event = json!({"event_type": "bench.event", "payload": payload(scenario, n)});
    if scenario.with_subject {
        event["subject"] = json!(format!("customer_{}", n % 7));
    }
    event
}

/// An invoice event of at least `bytes` bytes of JSON, as a billing platform sends them: ids,
/// amounts, dates and text that vary from event to event (so that compression sees what it
/// would in production, not repeated padding), line items added until it is big enough.
pub fn invoice(bytes: usize, seed: u64) -> serde_json::Value {
    // splitmix64: different, repeatable numbers for every event and line.
    let mix = |n: u64| {
        let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let id = mix(seed);
    let mut invoice = json!({
        "id": format!("in_{id:016x}"),
        "object": "invoice",
        "customer": format!("cus_{:012x}", mix(id) >> 16),
        "customer_email": format!("billing+{}@customer-{}.example", id % 1000, id % 97),
        "created": 1_795_000_000 + id % 1_000_000,
        "currency": "eur",
        "status": "open",
        "amount_due": id % 1_000_000,
        "hosted_invoice_url": format!("https://pay.example.com/i/{:032x}", u128::from(mix(id + 1)) << 64 | u128::from(id)),
        "lines": [],
    });
    let mut line = 0;
    while serde_json::to_vec(&invoice).map_or(0, |json| json.len()) < bytes {
        let n = mix(id ^ line);
        invoice["lines"].as_array_mut().expect("lines").push(json!({
            "id": format!("il_{n:016x}"),
            "amount": n % 100_000,
            "description": format!("Seat {line} of plan {} ({} x {}.00 EUR)", n % 13, n % 7 + 1, n % 90 + 10),
            "period": {"start": 1_795_000_000 + n % 10_000, "end": 1_797_592_000 + n % 10_000},
            "proration": n % 3 == 0,
            "metadata": {"order": format!("ORD-{:08}", n % 100_000_000)},
        }));
        line += 1;
    }
    invoice
}

async fn measure(scenario: &Scenario) -> Measured {
    let mut stack = Stack::new().await;
    stack.context.settings.allowed_target_cidrs = LOOPBACK.into();
    let meter = Meter::default();
    let measured_capacity = meter.instrument(&mut stack).await;
    let context = stack.context.clone();
    let deliverer = hookline_deliver::deliverer(&context).expect("deliverer");
    let base = serve_context(context.clone()).await;
    let client = stack.client(&base, Environment::Sandbox).await;
    stack.put_event_type("bench.event").await;
    let expected = scenario.events * scenario.fanout;
    // The warm-up event's deliveries (and, when every first try fails, its retries) come first.
    let warm_up = if scenario.fail_first { 2 * scenario.fanout } else { scenario.fanout };
    let script = if scenario.fail_first { vec![Answer::status(500); warm_up + expected] } else { Vec::new() };
    let receiver = Receiver::start(script).await;
    for n in 0..scenario.fanout {
        let mut webhook =
            json!({"url": receiver.at(&format!("/{n}")), "events": ["bench.event"], "retry_schedule": [1]});
        if scenario.transformed {
            webhook["transformation"] = json!(TRANSFORMATION);
        }
        if scenario.ordered {
            webhook["ordering"] = json!("fifo");
        }
        client.create_webhook(webhook).await;
    }
    // One event before the meter starts: what a container reads or writes once (the key, the
    // catalog and the webhooks ingest keeps, the worker's webhooks, the log's day marker) is
    // paid once per container, not per delivery, and a million deliveries would not show it.
    let reply = client.publish(event(scenario, 0), None).await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);
    drain(&context, &deliverer, &receiver, warm_up, scenario.ordered).await;

    meter.reset();
    let cpu_before = cpu_seconds();
    let mut http_requests = 0;
    for chunk in (1..=scenario.events).collect::<Vec<_>>().chunks(scenario.batch) {
        if scenario.batch == 1 {
            let reply = client.publish(event(scenario, chunk[0]), None).await;
            assert_eq!(reply.status, 202, "{:?}", reply.body);
        } else {
            let events: Vec<_> = chunk.iter().map(|n| event(scenario, *n)).collect();
            let reply = client.send("POST", "/api/v3/notification/events/batch", Some(json!({"events": events}))).await;
            assert_eq!(reply.status, 202, "{:?}", reply.body);
        }
        http_requests += 1;
    }
    let wanted = warm_up + if scenario.fail_first { 2 * expected } else { expected };
    let (deliver_invocations, empty_polls) = drain(&context, &deliverer, &receiver, wanted, scenario.ordered).await;
    let cpu_seconds = cpu_seconds() - cpu_before;
    let mut tallies = meter.snapshot();
    if let Some(receive) = tallies.get_mut(&("sqs".to_string(), "ReceiveMessage".to_string())) {
        receive.requests = receive.requests.saturating_sub(empty_polls);
    }
    let retried = if scenario.fail_first { expected } else { 0 };
    let delivered = receiver.requests().len().saturating_sub(warm_up + retried);
    let partition_writes = meter.partition_writes();
    Measured {
        delivered,
        tallies,
        http_requests,
        deliver_invocations,
        cpu_seconds,
        measured_capacity,
        partition_writes,
    }
}

/// The event source: gathers batches as the template's mapping does and runs the handler
/// until the receiver has had `wanted` requests and the queue is empty (or a minute passed);
/// returns the invocations and the empty polls (idle cost, not per delivery).
async fn drain(
    context: &hookline_aws::Context,
    deliverer: &hookline_deliver::Deliverer,
    receiver: &Receiver,
    wanted: usize,
    ordered: bool,
) -> (usize, u64) {
    // The ordered queue's mapping takes batches of 10 and has no batching window.
    let (arn, queue, batch, window) = match context.queue.ordered() {
        Some(queue) if ordered => (
            "arn:aws:sqs:us-east-1:123456789012:bench.fifo",
            queue,
            hookline_local_runner::runner::ORDERED_BATCH_SIZE,
            Duration::ZERO,
        ),
        _ => (
            "arn:aws:sqs:us-east-1:123456789012:bench",
            context.queue.clone(),
            DELIVER_BATCH,
            hookline_local_runner::runner::BATCHING_WINDOW,
        ),
    };
    let mut invocations = 0;
    let mut empty_polls = 0;
    let started = Instant::now();
    loop {
        let received = hookline_local_runner::runner::gather_within(&queue, batch, Duration::from_secs(1), window)
            .await
            .expect("receive");
        if received.is_empty() {
            empty_polls += 1;
            if receiver.requests().len() >= wanted || started.elapsed() > Duration::from_secs(60) {
                return (invocations, empty_polls);
            }
            continue;
        }
        invocations += 1;
        hookline_local_runner::runner::run_batch(deliverer, arn, received).await;
    }
}

/// Write and read request units as DynamoDB reported them (`ConsumedCapacity`), by operation.
pub fn reported_units(tallies: &BTreeMap<(String, String), Tally>) -> (f64, f64) {
    let mut writes = 0.0;
    let mut reads = 0.0;
    for ((service, operation), tally) in tallies {
        if !service.eq_ignore_ascii_case("dynamodb") {
            continue;
        }
        match operation.as_str() {
            "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems" => reads += tally.capacity_units,
            _ => writes += tally.capacity_units,
        }
    }
    (writes, reads)
}

/// Write and read request units, estimated from the bytes of each call (when DynamoDB Local,
/// which reports them, is not available): a write costs one unit
/// per KB of item (request body bytes stand for the item size; batches and transactions at
/// least one per item, transactions twice); a consistent read one unit per 4 KB returned, a
/// query half a unit per 4 KB.
pub fn capacity_units(tallies: &BTreeMap<(String, String), Tally>) -> (f64, f64) {
    let mut writes = 0.0;
    let mut reads = 0.0;
    for ((service, operation), tally) in tallies {
        if !service.eq_ignore_ascii_case("dynamodb") {
            continue;
        }
        let per_call_kb = |bytes: u64| (bytes as f64 / tally.requests.max(1) as f64 / 1024.0).ceil().max(1.0);
        match operation.as_str() {
            "PutItem" | "UpdateItem" | "DeleteItem" => {
                writes += tally.requests as f64 * per_call_kb(tally.request_bytes)
            }
            "BatchWriteItem" => {
                writes += (tally.items_written as f64).max((tally.request_bytes as f64 / 1024.0).ceil())
            }
            "TransactWriteItems" => writes += 2.0 * (tally.items_written as f64).max(tally.requests as f64),
            "GetItem" => {
                reads += tally.requests as f64
                    * (tally.response_bytes as f64 / tally.requests.max(1) as f64 / 4096.0).ceil().max(1.0)
            }
            "Query" => {
                reads += tally.requests as f64
                    * 0.5
                    * (tally.response_bytes as f64 / tally.requests.max(1) as f64 / 4096.0).ceil().max(1.0)
            }
            _ => {}
        }
    }
    (writes, reads)
}

/// Counts and prices every scenario.
pub async fn run() -> Vec<Row> {
    let mut rows = Vec::new();
    for scenario in SCENARIOS {
        let measured = measure(scenario).await;
        let delivered = measured.delivered.max(1) as f64;
        let total: u64 = measured.tallies.values().map(|tally| tally.requests).sum();
        let per_delivery = total as f64 / delivered;
        let breakdown: Vec<String> = measured
            .tallies
            .iter()
            .filter(|(_, tally)| tally.requests > 0)
            .map(|((service, operation), tally)| {
                format!("{service} {operation} {:.2}", tally.requests as f64 / delivered)
            })
            .collect();
        let goal_applies = scenario.fanout == 1 && scenario.batch == 10 && !scenario.fail_first;
        rows.push(Row::new(
            format!("AWS requests per delivered webhook ({})", scenario.name),
            format!("{per_delivery:.2}"),
            if goal_applies { format!("<= {REQUESTS_GOAL}") } else { "-".into() },
            goal_applies.then_some(per_delivery <= REQUESTS_GOAL),
            format!(
                "{} events, {} delivered; SDK interceptor per service and operation: {}; the event source's empty polls excluded",
                scenario.events,
                measured.delivered,
                breakdown.join(", ")
            ),
        ));
        let (writes, reads) = if measured.measured_capacity {
            reported_units(&measured.tallies)
        } else {
            capacity_units(&measured.tallies)
        };
        let units_source = if measured.measured_capacity {
            "as DynamoDB Local reported them (ReturnConsumedCapacity, index writes included)"
        } else {
            "estimated from request/response bytes: DynamoDB Local was not available"
        };
        let sqs: u64 = measured
            .tallies
            .iter()
            .filter(|((service, _), _)| service.eq_ignore_ascii_case("sqs"))
            .map(|(_, t)| t.requests)
            .sum();
        let lambda_requests = (measured.http_requests + measured.deliver_invocations) as f64;
        let cost = lambda_requests * prices::LAMBDA_REQUEST
            + measured.cpu_seconds * prices::MEMORY_GB * prices::LAMBDA_GB_SECOND
            + sqs as f64 * if scenario.ordered { prices::SQS_FIFO_REQUEST } else { prices::SQS_REQUEST }
            + writes * prices::DYNAMODB_WRITE_UNIT
            + reads * prices::DYNAMODB_READ_UNIT
            + measured.http_requests as f64 * prices::HTTP_API_REQUEST;
        let per_million = cost / delivered * 1e6;
        rows.push(Row::new(
            format!("cost per million delivered webhooks ({})", scenario.name),
            format!("${per_million:.2}"),
            scenario.cost_goal.map_or("-".into(), |goal| format!("<= ${goal:.2}")),
            scenario.cost_goal.map(|goal| per_million <= goal),
            format!(
                "us-east-1 prices of 2026-11-22; per delivered webhook: {:.3} Lambda invocations, {:.4} CPU s (as GB-s at 256 MB, a lower bound of billed duration), {:.2} SQS requests, {:.2} DynamoDB write units and {:.2} read units ({units_source}), {:.3} HTTP API requests",
                lambda_requests / delivered,
                measured.cpu_seconds / delivered,
                sqs as f64 / delivered,
                writes / delivered,
                reads / delivered,
                measured.http_requests as f64 / delivered
            ),
        ));
    }
    rows
}

/// Deliveries a second of one account at which the log's busiest partition key is reported.
const LOAD_RATE: f64 = 10_000.0;
/// DynamoDB's write throughput of one partition key, in units a second.
const PARTITION_WRITE_LIMIT: f64 = 1_000.0;

/// The log's hottest partition key in a load run of one account (fan-out 1, batched ingest,
/// first-try success): its share of the log's write units, scaled to 10,000 deliveries a second.
pub async fn hot_partition() -> Row {
    let scenario = Scenario {
        events: 1_600,
        name: "load run",
        fanout: 1,
        batch: 10,
        fail_first: false,
        payload_bytes: 0,
        cost_goal: None,
        transformed: false,
        with_subject: false,
        ordered: false,
    };
    let measured = measure(&scenario).await;
    let busiest = |prefix: &str| {
        let keys: Vec<(&String, &f64)> =
            measured.partition_writes.iter().filter(|(pk, _)| pk.starts_with(prefix)).collect();
        let total: f64 = keys.iter().map(|(_, units)| **units).sum();
        let (pk, peak) =
            keys.iter().max_by(|a, b| a.1.total_cmp(b.1)).map_or(("none", 0.0), |(pk, units)| (pk.as_str(), **units));
        (keys.len(), total, pk.to_string(), peak)
    };
    let (keys, total, hottest, peak) = busiest("LOG#");
    let (_, webhook_total, webhook_key, webhook_peak) = busiest("WEBHOOKLOG#");
    let delivered = measured.delivered.max(1) as f64;
    let per_second = peak.max(webhook_peak) / delivered * LOAD_RATE;
    Row::new(
        "peak write units per second on one log partition key, one account at 10,000 deliveries/s",
        format!("{per_second:.0}"),
        format!("< {PARTITION_WRITE_LIMIT:.0}"),
        Some(per_second < PARTITION_WRITE_LIMIT),
        format!(
            "{} events in batches of 10, fan-out 1, {} delivered in worker batches of up to {DELIVER_BATCH}; the log's {total:.0} write units went to {keys} partition keys, the busiest ({hottest}) took {peak:.0}; the webhook's own log took {webhook_total:.0} on {webhook_key}; scaled: the busiest key's units per delivery x 10,000/s (items' units estimated from their bytes)",
            scenario.events, measured.delivered,
        ),
    )
}
