//! What a request costs as an account grows: AWS requests and read units of a warm ingest
//! request, and of the first page of `GET /webhooks`, with 1, 100, 1,000 and 10,000 webhooks in
//! the account (one subscribed to the published type, the others to another type); and the
//! log's busiest partition key under one account's load (`calls::hot_partition`); and what a
//! quiet webhook's attempts cost to list in a busy account (`webhook_log`).

use crate::calls::{capacity_units, reported_units};
use crate::meter::{Meter, Tally};
use crate::report::Row;
use hookline_domain::model::Environment;
use hookline_tests::{Stack, serve_context};
use serde_json::json;
use std::collections::BTreeMap;

/// Webhooks in the account, per scenario.
const SIZES: [usize; 4] = [1, 100, 1_000, 10_000];
/// Ingest requests measured per scenario, after two that warm the container's cache.
const REQUESTS: usize = 20;
/// Goal: a warm ingest request costs the same whatever the account's size, within 10 %.
const FLAT_WITHIN: f64 = 0.10;
/// Webhooks written to the store at once while setting up.
const SETUP_CONCURRENCY: usize = 32;

struct Measured {
    requests_per_ingest: f64,
    read_units_per_ingest: f64,
    list_read_units: f64,
    breakdown: String,
    reported: bool,
}

fn read_units(tallies: &BTreeMap<(String, String), Tally>, reported: bool) -> f64 {
    if reported { reported_units(tallies).1 } else { capacity_units(tallies).1 }
}

/// A metered stack serving the API, with a client of a new account and the `bench.event` type.
struct Bench {
    stack: Stack,
    meter: Meter,
    /// Whether DynamoDB reports its units (DynamoDB Local), else they are estimated.
    reported: bool,
    base: String,
    client: hookline_tests::Client,
}

impl Bench {
    async fn new() -> Self {
        let mut stack = Stack::new().await;
        let meter = Meter::default();
        let reported = meter.instrument(&mut stack).await;
        let base = serve_context(stack.context.clone()).await;
        let client = stack.client(&base, Environment::Sandbox).await;
        stack.put_event_type("bench.event").await;
        Self { stack, meter, reported, base, client }
    }
}

async fn measure(size: usize) -> Measured {
    let Bench { stack, meter, reported, base: _, client } = Bench::new().await;
    stack.put_event_type("bench.other").await;
    client.create_webhook(json!({"url": "https://receiver.example/hook", "events": ["bench.event"]})).await;
    let store = &stack.context.store;
    let account = store.find_api_key(&client.key).await.expect("read").expect("the client's key").account_id;
    let others: Vec<u64> = (2..=size as u64).collect();
    for chunk in others.chunks(SETUP_CONCURRENCY) {
        let writes = chunk.iter().map(|id| {
            let subscription = vec![hookline_domain::model::EventSubscription {
                event_type: "bench.other".into(),
                filters: Default::default(),
            }];
            let webhook = hookline_tests::webhook(account, *id, "https://receiver.example/other", subscription);
            let store = store.clone();
            async move { store.create_webhook(&webhook).await.expect("webhook") }
        });
        hookline_tests::join_spawned(writes).await;
    }
    let publish = async |n: usize| {
        let reply = client.publish(json!({"event_type": "bench.event", "payload": {"n": n}}), None).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
        assert_eq!(reply.body["data"]["attributes"]["matched"], 1, "{:?}", reply.body);
    };
    publish(0).await;
    publish(1).await;

    meter.reset();
    for n in 0..REQUESTS {
        publish(n + 2).await;
    }
    let tallies = meter.snapshot();
    let requests: u64 = tallies.values().map(|tally| tally.requests).sum();
    let breakdown = tallies
        .iter()
        .filter(|(_, tally)| tally.requests > 0)
        .map(|((service, operation), tally)| {
            format!("{service} {operation} {:.2}", tally.requests as f64 / REQUESTS as f64)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let read_units_per_ingest = read_units(&tallies, reported) / REQUESTS as f64;

    meter.reset();
    let page = client.send("GET", "/api/v3/notification/webhooks?page[size]=10", None).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["data"].as_array().map(Vec::len), Some(size.min(10)));
    let list_read_units = read_units(&meter.snapshot(), reported);

    Measured {
        requests_per_ingest: requests as f64 / REQUESTS as f64,
        read_units_per_ingest,
        list_read_units,
        breakdown,
        reported,
    }
}

/// Measures every size and says whether the costs stay flat.
pub async fn run() -> Vec<Row> {
    let mut measured = Vec::new();
    for size in SIZES {
        measured.push((size, measure(size).await));
    }
    let smallest = &measured[0].1;
    let flat = |value: f64, base: f64| (value - base).abs() <= FLAT_WITHIN * base.max(f64::EPSILON);
    let mut rows = vec![crate::calls::hot_partition().await, webhook_log().await];
    for (size, figures) in &measured {
        let source = if figures.reported {
            "read units as DynamoDB Local reported them"
        } else {
            "read units estimated from response bytes (DynamoDB Local was not available)"
        };
        rows.push(Row::new(
            format!("AWS requests per warm ingest request ({size} webhooks in the account)"),
            format!("{:.2}", figures.requests_per_ingest),
            "flat within 10% of 1 webhook's",
            Some(flat(figures.requests_per_ingest, smallest.requests_per_ingest)),
            format!(
                "{REQUESTS} single events after two that warm the cache, one webhook matching; per request: {}",
                figures.breakdown
            ),
        ));
        rows.push(Row::new(
            format!("read units per warm ingest request ({size} webhooks in the account)"),
            format!("{:.2}", figures.read_units_per_ingest),
            "flat within 10% of 1 webhook's",
            Some(flat(figures.read_units_per_ingest, smallest.read_units_per_ingest)),
            format!("{source}; the account's version, read consistently"),
        ));
        rows.push(Row::new(
            format!("read units of GET /webhooks?page[size]=10 ({size} webhooks in the account)"),
            format!("{:.2}", figures.list_read_units),
            "-",
            None,
            format!(
                "{source}; the first page in id order reads its 10 webhooks and one more, whatever the account's size"
            ),
        ));
    }
    rows
}

/// Deliveries written to the account's log for `webhook_log`, in worker batches of
/// `LOG_BATCH` (the template's `DeliverBatchSize`).
const LOG_DELIVERIES: usize = 20_000;
const LOG_BATCH: usize = 100;
/// One delivery in this many goes to the quiet webhook: 0.1 % of the account's traffic.
const QUIET_EVERY: usize = 1_000;
/// Goal: listing a quiet webhook's attempts reads at most twice what its own entries weigh.
const OWN_ENTRIES_FACTOR: f64 = 2.0;

/// Lists every attempt of a webhook that has 0.1 % of its account's deliveries, through
/// `GET /webhooks/{id}/attempts`, and compares the log's read units with its own entries'.
async fn webhook_log() -> Row {
    let Bench { stack, meter, reported, base, client } = Bench::new().await;
    let busy = client.create_webhook(json!({"url": "https://receiver.example/busy", "events": ["bench.event"]})).await;
    let quiet =
        client.create_webhook(json!({"url": "https://receiver.example/quiet", "events": ["bench.event"]})).await;
    let store = &stack.context.store;
    let account = store.find_api_key(&client.key).await.expect("read").expect("the client's key").account_id;
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(1)).timestamp();
    let mut own = 0;
    for batch in (0..LOG_DELIVERIES).collect::<Vec<_>>().chunks(LOG_BATCH) {
        let entries: Vec<_> = batch
            .iter()
            .map(|n| {
                let webhook = if n % QUIET_EVERY == QUIET_EVERY / 2 { quiet } else { busy };
                own += usize::from(webhook == quiet);
                let now = chrono::Utc::now();
                let message = hookline_domain::model::Message {
                    id: hookline_domain::model::Message::new_id(),
                    account_id: account,
                    event_type: "bench.event".into(),
                    environment: Environment::Sandbox,
                    payload: crate::calls::invoice(1024, *n as u64),
                    scopes: Default::default(),
                    occurred_at: now,
                    created_at: now,
                    idempotency_key: None,
                    matched: 1,
                    subject: None,
                    erased_at: None,
                };
                let attempt = hookline_domain::model::Attempt {
                    message_id: message.id.clone(),
                    webhook_id: webhook,
                    account_id: account,
                    number: 1,
                    at: now,
                    outcome: hookline_domain::model::AttemptOutcome::Success,
                    status_code: Some(200),
                    response_headers: [("content-type".to_string(), "application/json".to_string())].into(),
                    response_body: r#"{"received":true}"#.into(),
                    latency_ms: 42,
                };
                let mut entry = hookline_domain::model::LogEntry::delivery_of(message, webhook, now);
                entry.record(attempt, hookline_domain::model::DeliveryStatus::Succeeded, None);
                (entry, expires_at)
            })
            .collect();
        store.put_log_entries(&entries).await.expect("entries");
    }

    meter.reset();
    let mut listed = 0;
    let mut requests = 0;
    let mut path = format!("/api/v3/notification/webhooks/{quiet}/attempts?page[size]=50");
    loop {
        let page = client.send("GET", &path, None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        requests += 1;
        listed += page.body["data"].as_array().map_or(0, Vec::len);
        match page.body["links"]["next"].as_str() {
            Some(next) => path = next.trim_start_matches(&base).to_string(),
            None => break,
        }
    }
    assert_eq!(listed, own, "every attempt of the quiet webhook listed");
    let tallies = meter.snapshot();
    let units = |operations: &[&str]| -> f64 {
        let selected: BTreeMap<(String, String), Tally> = tallies
            .iter()
            .filter(|((_, operation), _)| operations.contains(&operation.as_str()))
            .map(|(key, tally)| (key.clone(), *tally))
            .collect();
        read_units(&selected, reported)
    };
    let log_units = units(&["Query", "BatchGetItem"]);
    let checks = units(&["GetItem"]);
    // What reading its own entries alone costs: an eventually consistent read of an item
    // under 4 KB is half a unit.
    let own_units = own as f64 * 0.5;
    Row::new(
        "read units of GET /webhooks/{id}/attempts, webhook at 0.1% of its account's traffic",
        format!("{log_units:.1} (its {own} entries: {own_units:.1})"),
        format!("<= {OWN_ENTRIES_FACTOR:.0}x its own entries"),
        Some(log_units <= OWN_ENTRIES_FACTOR * own_units),
        format!(
            "{LOG_DELIVERIES} first-try deliveries of realistic 1 KB invoices in worker batches of {LOG_BATCH}, one in \
             {QUIET_EVERY} to the quiet webhook; all its attempts listed in {requests} page(s) of 50: the log's \
             queries (day markers, the webhook's segments) and BatchGetItem of its entries; besides, each request's \
             key and webhook checks read {checks:.1} units; {}",
            if reported { "units as DynamoDB Local reported them" } else { "units estimated from response bytes" }
        ),
    )
}
