//! The local runner: HTTP routes served by the Lambda handlers, and the SQS event source
//! behaviour (failures left on the queue, redriven to the DLQ after maxReceiveCount).

use hookline_aws::{Depth, Outgoing, Queue};
use hookline_domain::model::{DeliverTask, Task};
use hookline_local_runner::runner;
use hookline_tests::Stack;
use std::sync::Arc;
use std::time::Duration;

async fn serve(stack: &Stack) -> (String, tokio::sync::watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(runner::serve_http(listener, runner::Routes::new(&stack.context).expect("routers"), stopped));
    (format!("http://{address}"), stop)
}

#[tokio::test]
async fn when_health_requested_through_the_runner_should_answer_ok() {
    let stack = Stack::new().await;
    let (base, _stop) = serve(&stack).await;
    let response = reqwest::get(format!("{base}/health")).await.expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn when_route_unknown_should_answer_a_json_api_404() {
    let stack = Stack::new().await;
    let (base, _stop) = serve(&stack).await;
    let response = reqwest::get(format!("{base}/api/v3/nowhere")).await.expect("request");
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/vnd.api+json");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["status"], "404");
}

#[tokio::test]
async fn when_body_exceeds_the_gateway_limit_should_answer_413() {
    let stack = Stack::new().await;
    let (base, _stop) = serve(&stack).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v3/notification/events"))
        .body(vec![b'x'; runner::MAX_REQUEST_BYTES + 1])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn when_task_is_poison_should_reach_the_dlq_through_the_redrive_policy() {
    let stack = Stack::new().await;
    let client = aws_sdk_sqs::Client::new(&stack.sdk);
    client
        .send_message()
        .queue_url(stack.queue_url("DeliveryQueue"))
        .message_body("this is not a task")
        .send()
        .await
        .expect("send poison");
    let queue = &stack.context.queue;
    let arn = "arn:aws:sqs:us-east-1:123456789012:delivery";
    for receive in 1..=5 {
        let messages = queue.receive(10, Duration::from_secs(1)).await.expect("receive");
        assert_eq!(messages.len(), 1, "receive {receive}");
        let handle = messages[0].receipt_handle.clone();
        runner::run_batch(&stack.deliverer(), arn, messages).await;
        // What the visibility timeout would do after a while: the failure comes back.
        queue.change_visibility(&handle, Duration::ZERO).await.expect("visibility");
    }
    assert!(queue.receive(10, Duration::from_secs(1)).await.expect("receive").is_empty(), "moved on the 6th receive");
    let dlq = Queue::new(client, stack.queue_url("DeliveryDeadLetterQueue"));
    let dead = dlq.receive(10, Duration::from_secs(2)).await.expect("dlq");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "this is not a task");
}

#[tokio::test]
async fn when_deliver_reports_a_failure_should_delete_the_others_and_leave_that_one() {
    let stack = Stack::new().await;
    let queue = &stack.context.queue;
    // A task for a delivery that does not exist (expired): handled, so deleted.
    let task = Task::Deliver(DeliverTask::retry(1, "msg_x", 1, 2));
    queue.send(&[Outgoing::now(task)]).await.expect("send");
    aws_sdk_sqs::Client::new(&stack.sdk)
        .send_message()
        .queue_url(queue.url())
        .message_body("not a task")
        .send()
        .await
        .expect("send poison");
    let mut messages = Vec::new();
    while messages.len() < 2 {
        messages.extend(queue.receive(10, Duration::from_secs(1)).await.expect("receive"));
    }
    runner::run_batch(&stack.deliverer(), "arn:aws:sqs:us-east-1:1:q", messages).await;
    assert_eq!(
        queue.depth().await.expect("depth"),
        Depth { visible: 0, in_flight: 1, delayed: 0 },
        "the success is deleted; the failure waits for its visibility timeout"
    );
}

#[tokio::test]
async fn when_port_taken_should_say_which() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let error = hookline_local_runner::emulator::ensure_port_free(port).expect_err("taken");
    assert!(error.to_string().contains(&port.to_string()));
    let tools = hookline_tests::root().join("tools");
    let error = hookline_local_runner::Emulator::fauxqs(&tools.join("fauxqs"), port).expect_err("taken");
    assert!(error.to_string().contains(&format!("port {port}")) && error.to_string().contains("taken"), "{error}");
    let error = hookline_local_runner::Emulator::ministack(&tools.join("ministack/.venv"), port).expect_err("taken");
    assert!(error.to_string().contains(&format!("port {port}")), "{error}");
}

#[tokio::test]
async fn when_an_emulator_is_not_installed_should_say_which_and_how_to_install_it() {
    let nowhere = std::path::Path::new("/nonexistent");
    let port = hookline_local_runner::emulator::free_port();
    let error = hookline_local_runner::Emulator::fauxqs(nowhere, port).expect_err("missing");
    assert!(error.to_string().contains("Node.js 22") && error.to_string().contains("scripts/fauxqs.sh"), "{error}");
    let error = hookline_local_runner::Emulator::ministack(nowhere, port).expect_err("missing");
    assert!(error.to_string().contains("ministack") && error.to_string().contains("scripts/ministack.sh"), "{error}");
    let error = hookline_local_runner::Emulator::dynamodb_local(nowhere, port).expect_err("missing");
    assert!(error.to_string().contains("scripts/dynamodb-local.sh"), "{error}");
}

#[tokio::test]
async fn when_emulators_start_should_listen_on_loopback_only() {
    let started = std::time::Instant::now();
    let local = hookline_local_runner::emulator::LocalAws::start(&hookline_tests::root().join("tools"), None, None)
        .expect("emulators start");
    let elapsed = started.elapsed();
    eprintln!("fauxqs and ministack listening after {elapsed:?}");
    for emulator in [&local.sqs, &local.dynamodb] {
        let port = emulator.endpoint().rsplit(':').next().expect("port").to_string();
        let listening = std::fs::read_to_string("/proc/net/tcp").expect("tcp table")
            + &std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
        let port_hex = format!("{:04X}", port.parse::<u16>().expect("port"));
        let local_addresses: Vec<&str> = listening
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1))
            .filter(|address| address.ends_with(&format!(":{port_hex}")))
            .collect();
        assert!(!local_addresses.is_empty(), "something listens on {port}");
        // 0100007F is 127.0.0.1 in /proc/net/tcp's byte order.
        assert!(local_addresses.iter().all(|address| address.starts_with("0100007F:")), "{local_addresses:?}");
    }
}

/// The most requests that arrived at `receiver` within any `window`.
fn peak_within(receiver: &hookline_tests::receiver::Receiver, window: Duration) -> usize {
    let mut arrivals: Vec<std::time::Instant> = receiver.requests().iter().map(|request| request.at).collect();
    arrivals.sort();
    (0..arrivals.len())
        .map(|first| arrivals[first..].iter().take_while(|at| at.duration_since(arrivals[first]) < window).count())
        .max()
        .unwrap_or(0)
}

/// Publishes `events` events to one webhook on a receiver that answers each after `delay`,
/// then drives the queue with `source` until all have arrived; returns the receiver.
async fn deliver_through(
    source: runner::EventSource,
    events: usize,
    delay: Duration,
) -> hookline_tests::receiver::Receiver {
    use hookline_tests::receiver::{Answer, Receiver};
    let stack = Stack::new().await;
    let (base, _stop_http) = serve(&stack).await;
    let client = stack.client(&base, hookline_domain::model::Environment::Sandbox).await;
    client.register_event_type("invoice.paid").await;
    let receiver = Receiver::start(vec![Answer::status(200).after(delay); events]).await;
    client.create_webhook(serde_json::json!({"url": receiver.at("/slow"), "events": ["invoice.paid"]})).await;
    let batch: Vec<serde_json::Value> =
        (0..events).map(|n| serde_json::json!({"event_type": "invoice.paid", "payload": {"n": n}})).collect();
    let reply =
        client.send("POST", "/api/v3/notification/events/batch", Some(serde_json::json!({"events": batch}))).await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let arn = stack.provisioned.resources.get("DeliveryQueue").map(|queue| match queue {
        hookline_local_runner::provision::Physical::Queue { arn, .. } => arn.clone(),
        hookline_local_runner::provision::Physical::Table { .. } => unreachable!("DeliveryQueue is a queue"),
    });
    let driving =
        tokio::spawn(runner::drive_deliver(Arc::new(stack.deliverer()), arn.expect("queue"), source, stopped));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while receiver.requests().len() < events && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    let _ = driving.await;
    assert_eq!(receiver.requests().len(), events, "every event delivered once");
    receiver
}

#[tokio::test]
async fn when_event_source_has_a_maximum_concurrency_should_run_no_more_batches_at_once() {
    let delay = Duration::from_millis(400);
    // One batch at a time: a batch's 10 deliveries run together, the next batch only after.
    let one = deliver_through(runner::EventSource { pollers: 3, max_concurrency: 1, batch_size: 10 }, 30, delay).await;
    assert!(peak_within(&one, delay) <= 10, "peak {} with one batch at a time", peak_within(&one, delay));
    // Three at a time: the three pollers' batches overlap.
    let three =
        deliver_through(runner::EventSource { pollers: 3, max_concurrency: 3, batch_size: 10 }, 30, delay).await;
    assert!(peak_within(&three, delay) > 10, "peak {} with three batches at a time", peak_within(&three, delay));
}

#[tokio::test]
async fn when_a_webhook_is_rate_limited_should_receive_at_its_rate_while_another_does_not_wait() {
    use hookline_tests::receiver::Receiver;
    // The local DynamoDB emulator takes about 45 slot reservations a second on one webhook: a
    // rate under it, so that the test measures the limiter and not the emulator.
    const EVENTS: usize = 80;
    const RATE: u32 = 20;
    let stack = Stack::new().await;
    let (base, _stop_http) = serve(&stack).await;
    let client = stack.client(&base, hookline_domain::model::Environment::Sandbox).await;
    client.register_event_type("invoice.paid").await;
    let receiver = Receiver::start(Vec::new()).await;
    let hook = |path: &str, rate: Option<u32>| serde_json::json!({"url": receiver.at(path), "events": ["invoice.paid"], "rate_limit": rate});
    client.create_webhook(hook("/limited", Some(RATE))).await;
    client.create_webhook(hook("/free", None)).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let arn = stack.provisioned.resources.get("DeliveryQueue").map(|queue| match queue {
        hookline_local_runner::provision::Physical::Queue { arn, .. } => arn.clone(),
        hookline_local_runner::provision::Physical::Table { .. } => unreachable!("DeliveryQueue is a queue"),
    });
    let source = runner::EventSource { pollers: 5, max_concurrency: 20, batch_size: 100 };
    let driving =
        tokio::spawn(runner::drive_deliver(Arc::new(stack.deliverer()), arn.expect("queue"), source, stopped));
    // A burst: every event at once, in batches of 50.
    let published = std::time::Instant::now();
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(40) {
        let events: Vec<serde_json::Value> =
            chunk.iter().map(|n| serde_json::json!({"event_type": "invoice.paid", "payload": {"n": n}})).collect();
        let reply =
            client.send("POST", "/api/v3/notification/events/batch", Some(serde_json::json!({"events": events}))).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
    }
    let at = |path: &str| -> Vec<std::time::Instant> {
        let mut times: Vec<_> =
            receiver.requests().into_iter().filter(|request| request.path == path).map(|request| request.at).collect();
        times.sort_unstable();
        times
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while at("/limited").len() < EVENTS && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = driving.await;
    let (limited, free) = (at("/limited"), at("/free"));
    assert_eq!((limited.len(), free.len()), (EVENTS, EVENTS), "all delivered, none dropped");
    // The limited webhook's deliveries come at its rate: (n - 1) intervals over the span.
    let span = (limited[EVENTS - 1] - limited[0]).as_secs_f64();
    let rate = (EVENTS - 1) as f64 / span;
    let limit = f64::from(RATE);
    assert!((rate - limit).abs() <= limit * 0.1, "{rate:.1} deliveries a second, limit {RATE}");
    // No stretch of it goes over the limit: two seconds (a second's window would count the
    // jitter of a loaded machine's HTTP round trips) hold at most twice the limit, plus 10 %.
    for (index, start) in limited.iter().enumerate() {
        let within = limited[index..].iter().take_while(|at| **at - *start < Duration::from_secs(2)).count();
        assert!(within as f64 <= 2.0 * limit * 1.1, "{within} in the two seconds from delivery {index}");
    }
    // The other webhook is not held: it has everything before the limited one is halfway.
    assert!(
        free[EVENTS - 1] < limited[EVENTS / 2],
        "unlimited webhook done after {:?}, the limited one halfway after {:?}",
        free[EVENTS - 1] - published,
        limited[EVENTS / 2] - published
    );
    // Nothing was logged as failed: waiting is not an attempt.
    let failed = client.send("GET", "/api/v3/notification/messages?filter[status]=failed", None).await;
    assert_eq!(failed.body["data"].as_array().map(Vec::len), Some(0), "{:?}", failed.body);
}

#[tokio::test]
async fn when_a_webhook_is_ordered_should_receive_every_event_in_order_held_by_a_failure_while_another_goes_on() {
    use hookline_tests::receiver::{Answer, Receiver};
    const EVENTS: usize = 200;
    const FAILING: usize = 49;
    let stack = Stack::new().await;
    let (base, _stop_http) = serve(&stack).await;
    let client = stack.client(&base, hookline_domain::model::Environment::Sandbox).await;
    client.register_event_type("invoice.paid").await;
    // The ordered endpoint answers in the order it is called: the 50th message fails twice.
    let mut script = vec![Answer::status(200); FAILING];
    script.extend([Answer::status(500), Answer::status(500)]);
    let ordered = Receiver::start(script).await;
    let free = Receiver::start(Vec::new()).await;
    let fifo = client
        .create_webhook(serde_json::json!({"url": ordered.at("/ordered"), "events": ["invoice.paid"], "ordering": "fifo", "retry_schedule": [1, 1, 1]}))
        .await;
    client.create_webhook(serde_json::json!({"url": free.at("/free"), "events": ["invoice.paid"]})).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let arn = |logical_id: &str| match stack.provisioned.resources.get(logical_id) {
        Some(hookline_local_runner::provision::Physical::Queue { arn, .. }) => arn.clone(),
        _ => panic!("{logical_id} is a queue of the template"),
    };
    let deliverer = Arc::new(stack.deliverer());
    let source = runner::EventSource { pollers: 2, max_concurrency: 4, batch_size: 100 };
    let ordered_source = runner::EventSource { batch_size: runner::ORDERED_BATCH_SIZE, ..source };
    let driving = [
        tokio::spawn(runner::drive_deliver(deliverer.clone(), arn("DeliveryQueue"), source, stopped.clone())),
        tokio::spawn(runner::drive_deliver(deliverer, arn("OrderedDeliveryQueue"), ordered_source, stopped)),
    ];
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(100) {
        let events: Vec<serde_json::Value> =
            chunk.iter().map(|n| serde_json::json!({"event_type": "invoice.paid", "payload": {"n": n}})).collect();
        let reply =
            client.send("POST", "/api/v3/notification/events/batch", Some(serde_json::json!({"events": events}))).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
    }
    let number = |request: &hookline_tests::receiver::Received| -> usize {
        let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
        body["n"].as_u64().expect("n") as usize
    };
    // While the 50th is held, its delivery shows the failed attempt it waits to retry, and a
    // later delivery the worker took in the same batch says which message it waits behind.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while ordered.requests().len() <= FAILING && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let held = ordered.requests()[FAILING].headers["webhook-id"].clone();
    let delivery_of = |message: String| {
        let client = &client;
        async move {
            let shown = client.send("GET", &format!("/api/v3/notification/messages/{message}"), None).await;
            shown.body["included"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|delivery| delivery["attributes"]["webhook_id"] == fifo)
                .cloned()
        }
    };
    let mut head = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while head.is_none() && std::time::Instant::now() < deadline {
        head = delivery_of(held.clone()).await;
    }
    let head = head.expect("the held delivery is in the log");
    assert_eq!(
        (head["attributes"]["status"].as_str(), head["attributes"]["attempts"].as_u64()),
        (Some("pending"), Some(1))
    );
    assert!(head["attributes"]["next_attempt_at"].is_string(), "{head}");
    let mut behind = 0;
    for request in free.requests().into_iter().filter(|request| number(request) > FAILING) {
        if let Some(delivery) = delivery_of(request.headers["webhook-id"].clone()).await
            && delivery["attributes"]["attempts"] == 0
        {
            assert_eq!(delivery["attributes"]["waiting_for"], held.as_str(), "{delivery}");
            behind += 1;
        }
    }
    eprintln!("{behind} later deliveries were taken in the held one's batch and say what they wait for");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while (ordered.requests().len() < EVENTS + 2 || free.requests().len() < EVENTS)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    for driver in driving {
        let _ = driver.await;
    }
    let got: Vec<usize> = ordered.requests().iter().map(number).collect();
    let mut expected: Vec<usize> = (0..EVENTS).collect();
    expected.splice(FAILING..FAILING, [FAILING, FAILING]);
    assert_eq!(got, expected, "in order, the 50th three times, none missing");
    let requests = ordered.requests();
    let retried_at = requests[FAILING + 2].at;
    assert!(retried_at - requests[FAILING].at >= Duration::from_secs(2), "two waits of the schedule");
    let free_times: Vec<std::time::Instant> = free.requests().iter().map(|request| request.at).collect();
    assert_eq!(free_times.len(), EVENTS, "the other webhook has them all");
    let free_done = free_times.iter().max().copied().expect("requests");
    assert!(
        free_done < retried_at,
        "the other webhook is not held: done {:?} before the retry",
        retried_at - free_done
    );
}
