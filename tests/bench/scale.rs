//! What a request costs as an account grows: AWS requests and read units of a warm ingest
//! request, and of the first page of `GET /webhooks`, with 1, 100, 1,000 and 10,000 webhooks in
//! the account (one subscribed to the published type, the others to another type); and the
//! log's busiest partition key under one account's load (`calls::hot_partition`).

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

async fn measure(size: usize) -> Measured {
    let mut stack = Stack::new().await;
    let meter = Meter::default();
    let reported = meter.instrument(&mut stack).await;
    let base = serve_context(stack.context.clone()).await;
    let client = stack.client(&base, Environment::Sandbox).await;
    stack.put_event_type("bench.event").await;
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
    let mut rows = vec![crate::calls::hot_partition().await];
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
