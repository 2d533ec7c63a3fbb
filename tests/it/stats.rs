//! Delivery health over HTTP on the local stack: a webhook's stats (its account's keys) and an
//! account's (operator keys only), computed from the log of real deliveries to receivers.

use hookline_domain::model::DeliveryStatus;
use hookline_tests::receiver::{Answer, Receiver};
use hookline_tests::{Client, Reply, Stack};
use serde_json::{Value, json};
use std::time::Duration;

const ACCOUNTS: &str = "/api/v3/accounts";
const WEBHOOKS: &str = "/api/v3/notification/webhooks";

/// Onboards the account `uid` and answers a client with a new sandbox key of it (sandbox
/// webhooks may use plain http, as the receivers on loopback do).
async fn customer(operator: &Client, uid: &str) -> Client {
    let account = json!({"data": {"type": "accounts", "attributes": {"uid": uid, "name": uid}}});
    assert_eq!(operator.send("POST", ACCOUNTS, Some(account)).await.status, 201);
    let key = json!({"data": {"type": "api_keys", "attributes": {"environment": "sandbox"}}});
    let reply = operator.send("POST", &format!("{ACCOUNTS}/{uid}/api_keys"), Some(key)).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let customer = operator.with_key(reply.body["data"]["attributes"]["key"].as_str().expect("key"));
    customer.register_event_type("invoice.paid").await;
    customer
}

/// Publishes an `invoice.paid` and drives the queue until each of `webhooks` has finished
/// with it; answers the message id.
async fn deliver(stack: &Stack, client: &Client, account: u64, webhooks: &[u64]) -> String {
    let reply = client.publish(json!({"event_type": "invoice.paid", "payload": {"n": 1}}), None).await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);
    let message = reply.body["data"]["id"].as_str().expect("message id").to_string();
    let settled = stack
        .drive_until(&stack.deliverer(), Duration::from_secs(30), || async {
            for webhook in webhooks {
                let status = stack.delivery_status(account, &message, *webhook).await;
                if status.is_none_or(|status| status == DeliveryStatus::Pending) {
                    return false;
                }
            }
            true
        })
        .await;
    assert!(settled, "{message} delivered to {webhooks:?}");
    message
}

fn attributes(reply: &Reply) -> &Value {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    &reply.body["data"]["attributes"]
}

#[tokio::test]
async fn when_webhook_has_successes_and_failures_should_count_rate_and_time_them() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let client = customer(&operator, "stats_health").await;
    let account = stack.context.store.find_account_by_uid("stats_health").await.expect("read").expect("account").id;
    // The first try is the only one: a 500 fails the delivery at once.
    let flaky = Receiver::start(vec![Answer::status(200), Answer::status(500), Answer::status(200)]).await;
    let steady = Receiver::start(vec![]).await;
    let hook = |url: &str| json!({"url": url, "events": ["invoice.paid"], "retry_schedule": []});
    let watched = client.create_webhook(hook(&flaky.url)).await;
    let other = client.create_webhook(hook(&steady.url)).await;
    for _ in 0..3 {
        deliver(&stack, &client, account, &[watched, other]).await;
    }

    let reply = client.send("GET", &format!("{WEBHOOKS}/{watched}/stats"), None).await;
    let stats = attributes(&reply);
    assert_eq!(reply.body["data"]["type"], "webhook_stats");
    assert_eq!(reply.body["data"]["id"], watched.to_string());
    assert_eq!(stats["window"], "24h", "the default window");
    assert_eq!(
        stats["deliveries"],
        json!({"pending": 0, "succeeded": 2, "failed": 1, "refused": 0, "cancelled": 0, "total": 3})
    );
    let rate = stats["success_rate"].as_f64().expect("a rate");
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    assert_eq!(stats["latency_ms"]["attempts"], 3);
    let attempts = client.send("GET", &format!("{WEBHOOKS}/{watched}/attempts"), None).await;
    let attempts = attempts.body["data"].as_array().expect("attempts").clone();
    let mut latencies: Vec<u64> =
        attempts.iter().map(|attempt| attempt["attributes"]["latency_ms"].as_u64().expect("ms")).collect();
    latencies.sort_unstable();
    assert_eq!(
        (stats["latency_ms"]["p50"].as_u64(), stats["latency_ms"]["p95"].as_u64()),
        (Some(latencies[1]), Some(latencies[2]))
    );
    let at = |outcome: &str| {
        attempts.iter().find(|attempt| attempt["attributes"]["status"] == outcome).expect(outcome)["attributes"]["at"]
            .clone()
    };
    // Newest first: the first success listed is the last one.
    assert_eq!(stats["last_success_at"], at("success"));
    assert_eq!(stats["last_failure_at"], at("http_error"));
    let (start, end) = (stats["start"].as_str().expect("start"), stats["end"].as_str().expect("end"));
    let span = chrono::DateTime::parse_from_rfc3339(end).expect("end")
        - chrono::DateTime::parse_from_rfc3339(start).expect("start");
    assert_eq!(span, chrono::Duration::hours(24));
    let meta = &reply.body["meta"];
    assert_eq!(meta["truncated"], false);
    assert_eq!(meta["covered_from"], stats["start"]);
    assert_eq!(meta["entries_read"], 3, "its own log is read: not the other webhook's 3 entries");
    assert_eq!(meta["max_entries"], 20_000);
    assert_eq!(reply.body["data"]["links"]["self"], format!("{WEBHOOKS}/{watched}/stats?window=24h"));

    for window in ["1h", "7d"] {
        let reply = client.send("GET", &format!("{WEBHOOKS}/{watched}/stats?window={window}"), None).await;
        assert_eq!(attributes(&reply)["window"], window);
        assert_eq!(attributes(&reply)["deliveries"]["total"], 3, "{window}");
    }
    let steady_stats = client.send("GET", &format!("{WEBHOOKS}/{other}/stats"), None).await;
    assert_eq!(attributes(&steady_stats)["success_rate"], 1.0);
    assert_eq!(attributes(&steady_stats)["last_failure_at"], Value::Null);

    let whole = operator.send("GET", &format!("{ACCOUNTS}/stats_health/stats?window=1h"), None).await;
    let stats = attributes(&whole);
    assert_eq!(
        (whole.body["data"]["type"].as_str(), whole.body["data"]["id"].as_str()),
        (Some("account_stats"), Some("stats_health"))
    );
    assert_eq!(stats["deliveries"]["succeeded"], 5);
    assert_eq!(stats["deliveries"]["failed"], 1);
    assert_eq!(stats["deliveries"]["total"], 6);
    assert_eq!(stats["latency_ms"]["attempts"], 6);
    assert_eq!(stats["last_failure_at"], at("http_error"));
    assert_eq!(whole.body["meta"]["entries_read"], 6);
}

#[tokio::test]
async fn when_window_is_not_1h_24h_or_7d_should_answer_400_pointing_at_window() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let client = customer(&operator, "stats_window").await;
    let webhook = client.create_webhook(json!({"url": "https://example.com/h", "events": ["invoice.paid"]})).await;
    for query in ["window=2h", "window=", "window=1h&window=7d"] {
        let reply = client.send("GET", &format!("{WEBHOOKS}/{webhook}/stats?{query}"), None).await;
        assert_eq!(reply.status, 400, "{query}: {:?}", reply.body);
        assert_eq!(reply.errors()[0].1, "window", "{query}");
        let reply = operator.send("GET", &format!("{ACCOUNTS}/stats_window/stats?{query}"), None).await;
        assert_eq!(reply.status, 400, "{query}: {:?}", reply.body);
        assert_eq!(reply.errors()[0].1, "window", "{query}");
    }
    let reply = client.send("GET", &format!("{WEBHOOKS}/{webhook}/stats?window=2h"), None).await;
    assert_eq!(reply.errors(), vec![("invalid_window".to_string(), "window".to_string())]);
    let unknown = client.send("GET", &format!("{WEBHOOKS}/{webhook}/stats?since=1h"), None).await;
    assert_eq!(unknown.errors(), vec![("unknown_parameter".to_string(), "since".to_string())]);
    let empty = client.send("GET", &format!("{WEBHOOKS}/{webhook}/stats?window=7d"), None).await;
    assert_eq!(attributes(&empty)["deliveries"]["total"], 0);
    assert_eq!(attributes(&empty)["success_rate"], Value::Null, "nothing finished");
    assert_eq!(attributes(&empty)["latency_ms"], json!({"attempts": 0, "p50": null, "p95": null}));
}

#[tokio::test]
async fn when_stats_are_asked_by_another_account_or_without_an_operator_key_should_answer_404() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let owner = customer(&operator, "stats_owner").await;
    let stranger = customer(&operator, "stats_stranger").await;
    let webhook = owner.create_webhook(json!({"url": "https://example.com/h", "events": ["invoice.paid"]})).await;
    let path = format!("{WEBHOOKS}/{webhook}/stats");
    assert_eq!(owner.send("GET", &path, None).await.status, 200);
    let elsewhere = stranger.send("GET", &path, None).await;
    assert_eq!(elsewhere.status, 404, "another account's webhook: {:?}", elsewhere.body);
    assert_eq!(
        operator.acting_for("stats_owner").send("GET", &path, None).await.status,
        200,
        "an operator acting for it"
    );
    assert_eq!(operator.acting_for("stats_stranger").send("GET", &path, None).await.status, 404);

    let account_stats = format!("{ACCOUNTS}/stats_owner/stats");
    assert_eq!(operator.send("GET", &account_stats, None).await.status, 200);
    let refused = owner.send("GET", &account_stats, None).await;
    assert_eq!(refused.status, 404, "an account key does not see platform routes: {:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["detail"], "route not found");
    assert_eq!(Client::new(&base, String::new()).send("GET", &account_stats, None).await.status, 401);
    let unknown = operator.send("GET", &format!("{ACCOUNTS}/no_such_account/stats"), None).await;
    assert_eq!(unknown.status, 404);
}
