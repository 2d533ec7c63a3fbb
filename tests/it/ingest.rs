//! Event ingestion and fan-out against the local stack: matching, idempotency (and its race),
//! an enqueue failure then a retry, batches with bad items, a 2,000-webhook fan-out, the log.

use hookline_aws::{Context, Depth};
use hookline_domain::model::{Environment, Task};
use hookline_tests::{Client, Stack, serve_context};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Instant;

async fn setup() -> (Stack, Client) {
    setup_on(Stack::new().await).await
}

async fn setup_on(stack: Stack) -> (Stack, Client) {
    let base = stack.serve().await;
    let client = stack.client(&base, Environment::Production).await;
    for name in ["loan.created", "loan.updated", "ENTITLEMENT"] {
        client.register_event_type(name).await;
    }
    (stack, client)
}

fn delivered_webhooks(tasks: &[Task], message_id: &str) -> BTreeSet<u64> {
    tasks
        .iter()
        .filter_map(|task| match task {
            Task::Deliver(task) if task.message_id == message_id => Some(task.webhook_id),
            _ => None,
        })
        .collect()
}

fn message_id(reply: &hookline_tests::Reply) -> String {
    reply.body["data"]["id"].as_str().expect("message id").to_string()
}

#[tokio::test]
async fn when_events_published_should_enqueue_one_task_per_matching_webhook_and_none_else() {
    let (stack, client) = setup().await;
    let sandbox = stack.client(&client.base, Environment::Sandbox).await;
    sandbox.register_event_type("loan.created").await;
    let exact = client.create_webhook(json!({"url": "https://e.com/1", "events": ["loan.created"]})).await;
    let wildcard = client.create_webhook(json!({"url": "https://e.com/2", "events": ["*"]})).await;
    let filtered = client
        .create_webhook(json!({"url": "https://e.com/3", "events": [{"event_type": "loan.created", "filters": {"status": ["open", "canceled"], "loan.amount": [100]}}]}))
        .await;
    let scoped = client
        .create_webhook(json!({"url": "https://e.com/4", "events": ["*"], "scopes": {"offering_id": "o-1"}}))
        .await;
    let other_type = client.create_webhook(json!({"url": "https://e.com/5", "events": ["loan.updated"]})).await;
    let disabled =
        client.create_webhook(json!({"url": "https://e.com/6", "events": ["*"], "status": "disabled"})).await;
    let _sandbox_hook = sandbox.create_webhook(json!({"url": "https://e.com/7", "events": ["*"]})).await;
    let _ = (other_type, disabled);

    let cases = [
        (
            json!({"event_type": "loan.created", "payload": {"status": "open", "loan": {"amount": 100}}}),
            vec![exact, wildcard, filtered],
        ),
        (
            json!({"event_type": "loan.created", "payload": {"status": "closed", "loan": {"amount": 100}}}),
            vec![exact, wildcard],
        ),
        (json!({"event_type": "loan.created", "payload": {"status": "open"}}), vec![exact, wildcard]),
        (
            json!({"event_type": "loan.created", "payload": {"status": "open", "loan": {"amount": 100}}, "scopes": {"offering_id": "o-1"}}),
            vec![exact, wildcard, filtered, scoped],
        ),
        (json!({"event_type": "ENTITLEMENT", "payload": {}, "scopes": {"offering_id": "o-2"}}), vec![wildcard]),
    ];
    for (event, expected) in cases {
        let reply = client.publish(event.clone(), None).await;
        assert_eq!(reply.status, 202, "{event}: {:?}", reply.body);
        assert_eq!(reply.body["data"]["attributes"]["matched"], expected.len(), "{event}");
        let tasks = stack.drain_tasks().await;
        assert_eq!(delivered_webhooks(&tasks, &message_id(&reply)), expected.into_iter().collect(), "{event}");
        assert_eq!(
            tasks.len(),
            reply.body["data"]["attributes"]["matched"].as_u64().expect("n") as usize,
            "one task each"
        );
    }
}

#[tokio::test]
async fn when_event_repeats_with_its_idempotency_key_should_answer_the_first_answer_and_enqueue_nothing() {
    let (stack, client) = setup().await;
    client.create_webhook(json!({"url": "https://e.com", "events": ["*"]})).await;
    let event = json!({"event_type": "loan.created", "payload": {"id": 1}});
    let first = client.publish(event.clone(), Some("order-1")).await;
    assert_eq!(first.status, 202);
    assert_eq!(stack.drain_tasks().await.len(), 1);
    let again = client.publish(event.clone(), Some("order-1")).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.body, first.body, "the original answer");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert!(stack.drain_tasks().await.is_empty(), "nothing new enqueued");
    let reused = client.publish(json!({"event_type": "loan.created", "payload": {"id": 2}}), Some("order-1")).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.errors()[0].0, "idempotency_key_reused");
    let other_key = client.publish(event, Some("order-2")).await;
    assert_ne!(message_id(&other_key), message_id(&first));
}

#[tokio::test]
async fn when_identical_requests_race_should_accept_one_message_and_enqueue_once() {
    let (stack, client) = setup().await;
    for n in 0..3 {
        client.create_webhook(json!({"url": format!("https://e.com/{n}"), "events": ["loan.created"]})).await;
    }
    let event = json!({"event_type": "loan.created", "payload": {"race": true}});
    let replies = hookline_tests::join_spawned((0..8).map(|_| {
        let client = client.at(&client.base);
        let event = event.clone();
        async move { client.publish(event, Some("race-key")).await }
    }))
    .await;
    let accepted: BTreeSet<String> = replies.iter().filter(|reply| reply.status == 202).map(message_id).collect();
    assert_eq!(accepted.len(), 1, "one message id for every 202");
    for reply in &replies {
        assert!(reply.status == 202 || reply.status == 409, "{}: {:?}", reply.status, reply.body);
    }
    let tasks = stack.drain_tasks().await;
    assert_eq!(tasks.len(), 3, "each matching webhook once");
    let winner = accepted.first().expect("one accepted");
    assert_eq!(delivered_webhooks(&tasks, winner).len(), 3, "all for the one message");
}

#[tokio::test]
async fn when_queue_unreachable_should_answer_503_and_the_retry_should_finish_the_job_once() {
    let (stack, client) = setup().await;
    for n in 0..2 {
        client.create_webhook(json!({"url": format!("https://e.com/{n}"), "events": ["loan.created"]})).await;
    }
    let nothing_listens = hookline_local_runner::sdk::Endpoints {
        dynamodb: hookline_tests::local_aws().dynamodb.clone(),
        sqs: format!("http://127.0.0.1:{}", hookline_local_runner::emulator::free_port()),
    };
    let sdk = hookline_local_runner::sdk::emulator_config(&nothing_listens).await;
    let broken = client.at(&serve_context(Context::new(stack.context.settings.clone(), &sdk)).await);
    let event = json!({"event_type": "loan.created", "payload": {"n": 1}});

    let failed = broken.publish(event.clone(), Some("retry-me")).await;
    assert_eq!(failed.status, 503, "{:?}", failed.body);
    assert!(failed.headers.contains_key("retry-after"));
    assert!(stack.drain_tasks().await.is_empty());

    let retried = client.publish(event.clone(), Some("retry-me")).await;
    assert_eq!(retried.status, 202, "{:?}", retried.body);
    assert_eq!(retried.body["data"]["attributes"]["matched"], 2);
    let tasks = stack.drain_tasks().await;
    assert_eq!(delivered_webhooks(&tasks, &message_id(&retried)).len(), 2);
    assert_eq!(tasks.len(), 2, "nothing duplicated");
    assert_eq!(client.publish(event, Some("retry-me")).await.headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn when_queue_is_missing_should_answer_500_and_not_ask_for_a_retry() {
    let (stack, client) = setup().await;
    client.create_webhook(json!({"url": "https://e.com", "events": ["loan.created"]})).await;
    let mut settings = stack.context.settings.clone();
    settings.delivery_queue_url =
        format!("{}/123456789012/{}-gone", hookline_tests::local_aws().sqs, hookline_tests::unique_prefix());
    let broken = client.at(&serve_context(Context::new(settings, &stack.sdk)).await);

    let failed = broken.publish(json!({"event_type": "loan.created", "payload": {"n": 1}}), None).await;
    assert_eq!(failed.status, 500, "a missing queue is a fault of ours, not a busy dependency: {:?}", failed.body);
    assert!(!failed.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn when_batch_has_bad_events_should_accept_the_good_ones_and_report_each() {
    let (stack, client) = setup().await;
    client.create_webhook(json!({"url": "https://e.com", "events": ["loan.created"]})).await;
    let reply = Client::reply(
        client
            .raw(reqwest::Method::POST, "/api/v3/notification/events/batch")
            .header("content-type", "application/json")
            .body(
                json!({"events": [
                    {"event_type": "loan.created", "payload": {"n": 1}},
                    {"event_type": "nope", "payload": "not an object"},
                    {"event_type": "loan.created", "payload": {"n": 3}, "idempotency_key": "b-3"}
                ]})
                .to_string(),
            )
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(reply.status, 207, "{:?}", reply.body);
    let results = reply.body["data"].as_array().expect("results");
    assert_eq!(
        results.iter().map(|r| r["status"].as_str().expect("status")).collect::<Vec<_>>(),
        ["202", "422", "202"]
    );
    let pointers: Vec<&str> = results[1]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["source"]["pointer"].as_str().expect("pointer"))
        .collect();
    assert!(pointers.contains(&"/events/1/event_type") && pointers.contains(&"/events/1/payload"), "{pointers:?}");
    assert_eq!(stack.drain_tasks().await.len(), 2);

    let too_many = json!({"events": vec![json!({"event_type": "loan.created", "payload": {}}); 101]});
    let refused = client.send("POST", "/api/v3/notification/events/batch", Some(too_many)).await;
    assert_eq!(refused.errors(), vec![("too_many".to_string(), "/events".to_string())]);
}

#[tokio::test]
async fn when_event_is_invalid_should_answer_4xx_with_pointers() {
    let (_stack, client) = setup().await;
    let unknown = client.publish(json!({"event_type": "not.in.catalog", "payload": {}}), None).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.errors(), vec![("unknown_event_type".to_string(), "/event_type".to_string())]);
    let big =
        client.publish(json!({"event_type": "loan.created", "payload": {"x": "y".repeat(300 * 1024)}}), None).await;
    assert_eq!(big.status, 413);
    let sandbox =
        client.publish(json!({"event_type": "loan.created", "payload": {}, "environment": "sandbox"}), None).await;
    assert_eq!(sandbox.errors()[0].0, "environment_mismatch");
    let garbage = Client::reply(
        client
            .raw(reqwest::Method::POST, "/api/v3/notification/events")
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(garbage.status, 400);
    let anonymous = Client::reply(
        reqwest::Client::new().post(format!("{}/api/v3/notification/events", client.base)).send().await.expect("send"),
    )
    .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn when_event_matches_2000_webhooks_should_fan_out_through_the_queue_to_each_once() {
    let (stack, client) = setup_on(Stack::new().await).await;
    let caller = hookline_core::authenticate(
        &stack.context.store,
        &hookline_core::Credentials { authorization: Some(&format!("Bearer {}", client.key)), ..Default::default() },
        chrono::Utc::now(),
    )
    .await
    .expect("caller");
    let subscription =
        hookline_domain::model::EventSubscription { event_type: "loan.created".into(), filters: Default::default() };
    let template = hookline_domain::model::Webhook {
        name: "bulk".into(),
        environment: Environment::Production,
        created_by: caller.audit.clone(),
        updated_by: caller.audit.clone(),
        ..hookline_tests::webhook(caller.account_id, 0, "https://e.com/bulk", vec![subscription])
    };
    let setup_started = Instant::now();
    let store = stack.context.store.clone();
    let creations = (1..=2000u64).collect::<Vec<_>>();
    for chunk in creations.chunks(100) {
        hookline_tests::join_spawned(chunk.iter().map(|&id| {
            let store = store.clone();
            let webhook = hookline_domain::model::Webhook { id, ..template.clone() };
            async move { store.create_webhook(&webhook).await.expect("webhook") }
        }))
        .await;
    }

    eprintln!("2,000 webhooks created in {:?}", setup_started.elapsed());
    let started = Instant::now();
    let reply = client.publish(json!({"event_type": "loan.created", "payload": {"big": true}}), None).await;
    let ingest_time = started.elapsed();
    assert_eq!(reply.status, 202, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["attributes"]["matched"], 2000);
    let message = message_id(&reply);

    // The fan-out stage: what the deliver function does with the fanout tasks ingest queued.
    let queue = &stack.context.queue;
    let mut fanouts = Vec::new();
    let mut chunked = Vec::new();
    while fanouts.len() < 10 {
        let received = queue.receive(10, std::time::Duration::from_secs(1)).await.expect("receive");
        assert!(!received.is_empty(), "ingest queued {} fan-out tasks, expected 10", fanouts.len());
        for message in &received {
            match Task::from_body(&message.body) {
                Ok(Task::Fanout(task)) => chunked.extend(task.webhooks.iter().map(|webhook| webhook.id)),
                other => panic!("only fan-out tasks so far, got {other:?}"),
            }
        }
        fanouts.extend(received);
    }
    assert_eq!(chunked.len(), 2000);
    assert_eq!(chunked.iter().copied().collect::<BTreeSet<u64>>(), (1..=2000).collect(), "each webhook in one chunk");
    let stage = Instant::now();
    hookline_local_runner::runner::run_batch(&stack.deliverer(), "arn:aws:sqs:us-east-1:123456789012:q", fanouts).await;
    eprintln!(
        "2,000-webhook fan-out: ingest answered in {ingest_time:?}; the 10 fan-out tasks expanded in {:?}",
        stage.elapsed()
    );
    assert_eq!(
        queue.depth().await.expect("depth"),
        Depth { visible: 2000, in_flight: 0, delayed: 0 },
        "2,000 delivery tasks wait, the fan-out tasks are gone"
    );
    let sample = queue.receive(10, std::time::Duration::from_secs(1)).await.expect("receive");
    for received in &sample {
        match Task::from_body(&received.body).expect("task") {
            Task::Deliver(task) => {
                assert_eq!((task.message_id.as_str(), task.attempt), (message.as_str(), 1));
                assert_eq!(
                    task.message.map(|carried| carried.id),
                    Some(message.clone()),
                    "the task carries the message"
                );
            }
            other @ (Task::Fanout(_) | Task::Erase(_)) => panic!("not a first attempt: {other:?}"),
        }
    }
}

#[tokio::test]
async fn when_fanout_task_expanded_should_enqueue_first_attempts_that_carry_message_and_version() {
    let (stack, client) = setup().await;
    let id = client.create_webhook(json!({"url": "https://e.com", "events": ["loan.created"]})).await;
    let reply = client.publish(json!({"event_type": "loan.created", "payload": {"k": 1}}), None).await;
    let Some(Task::Deliver(inline)) = stack.drain_tasks().await.pop() else { panic!("one inline task") };
    let message = inline.message.expect("a first attempt carries its message");
    assert_eq!((message.id.as_str(), inline.webhook_version), (message_id(&reply).as_str(), Some(1)));
    let task = Task::Fanout(hookline_domain::model::FanoutTask {
        message: message.clone(),
        webhooks: vec![hookline_domain::model::WebhookRef { id, version: 1, ordered: false }],
    });
    let results = stack.deliverer().run_batch(&[(task, 1)]).await;
    assert!(matches!(results.as_slice(), [Ok(_)]), "{results:?}");
    let tasks = stack.drain_tasks().await;
    let [Task::Deliver(expanded)] = tasks.as_slice() else { panic!("one task: {tasks:?}") };
    assert_eq!(expanded, &inline_like(&message, id));
}

fn inline_like(message: &hookline_domain::model::Message, webhook: u64) -> hookline_domain::model::DeliverTask {
    hookline_domain::model::DeliverTask::first(
        message,
        hookline_domain::model::WebhookRef { id: webhook, version: 1, ordered: false },
    )
}

#[tokio::test]
async fn when_messages_listed_should_page_and_filter_and_show_deliveries() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    // Sandbox webhooks may use plain http, as the receiver on loopback does.
    let client = stack.client(&base, Environment::Sandbox).await;
    for name in ["loan.created", "loan.updated"] {
        client.register_event_type(name).await;
    }
    let receiver = hookline_tests::receiver::Receiver::start(vec![]).await;
    let hook = client.create_webhook(json!({"url": receiver.at("/log"), "events": ["loan.created"]})).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(message_id(&client.publish(json!({"event_type": "loan.created", "payload": {"n": n}}), None).await));
    }
    ids.push(message_id(&client.publish(json!({"event_type": "loan.updated", "payload": {}}), None).await));
    let before = client.send("GET", &format!("/api/v3/notification/messages/{}", ids[0]), None).await;
    assert_eq!(before.status, 404, "a matched message enters the log with its first attempt");
    let unmatched = client.send("GET", &format!("/api/v3/notification/messages/{}", ids[3]), None).await;
    assert_eq!(unmatched.status, 200, "one that matched nothing is logged at once");
    let deliverer = stack.deliverer();
    let delivered = stack
        .drive_until(&deliverer, std::time::Duration::from_secs(20), || async { receiver.requests().len() == 3 })
        .await;
    assert!(delivered, "the three loan.created messages reached the receiver");

    let first = client.send("GET", "/api/v3/notification/messages?page[size]=2", None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let page: Vec<&str> =
        first.body["data"].as_array().expect("data").iter().map(|m| m["id"].as_str().expect("id")).collect();
    assert_eq!(page, [ids[3].as_str(), ids[2].as_str()], "newest first");
    let next = first.body["links"]["next"].as_str().expect("next");
    let second = client.send("GET", next, None).await;
    assert_eq!(second.body["data"].as_array().expect("data").len(), 2);

    let only_updates = client.send("GET", "/api/v3/notification/messages?filter[event_type]=loan.updated", None).await;
    assert_eq!(only_updates.body["data"].as_array().expect("data").len(), 1);
    let future = client.send("GET", "/api/v3/notification/messages?filter[after]=2999-01-01T00:00:00Z", None).await;
    assert_eq!(future.body["data"], json!([]));
    let bad = client.send("GET", "/api/v3/notification/messages?filter[after]=yesterday", None).await;
    assert_eq!(bad.status, 400);

    let shown = client.send("GET", &format!("/api/v3/notification/messages/{}", ids[0]), None).await;
    assert_eq!(shown.body["data"]["attributes"]["payload"], json!({"n": 0}));
    let included: &Vec<Value> = shown.body["included"].as_array().expect("included");
    assert_eq!(included.len(), 1);
    assert_eq!(included[0]["attributes"]["webhook_id"], hook);
    assert_eq!(included[0]["attributes"]["status"], "succeeded");
    assert_eq!(included[0]["attributes"]["attempts"], 1);
    let succeeded = client.send("GET", "/api/v3/notification/messages?filter[status]=succeeded", None).await;
    assert_eq!(succeeded.body["data"].as_array().expect("data").len(), 3, "the unmatched one has no delivery");

    let stranger = stack.client(&client.base, Environment::Sandbox).await;
    assert_eq!(stranger.send("GET", &format!("/api/v3/notification/messages/{}", ids[0]), None).await.status, 404);
    assert_eq!(stranger.send("GET", "/api/v3/notification/messages", None).await.body["data"], json!([]));
}
