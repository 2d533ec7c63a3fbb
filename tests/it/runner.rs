//! The local runner: HTTP routes served by the Lambda handlers, and the SQS event source
//! behaviour (failures left on the queue, redriven to the DLQ after maxReceiveCount).

use hookline_aws::{Outgoing, Queue};
use hookline_devstack::runner;
use hookline_domain::model::{DeliverTask, Task};
use hookline_tests::Stack;
use std::sync::Arc;
use std::time::Duration;

async fn serve(stack: &Stack) -> (String, tokio::sync::watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(runner::serve_http(listener, Arc::new(stack.deliverer()), stopped));
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
        (0, 1),
        "the success is deleted; the failure waits for its visibility timeout"
    );
}

#[tokio::test]
async fn when_port_taken_should_say_so() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let error = hookline_devstack::emulator::ensure_port_free(port).expect_err("taken");
    assert!(error.to_string().contains(&port.to_string()));
    let error = hookline_devstack::Emulator::moto(&hookline_tests::root().join(".venv"), port).expect_err("taken");
    assert!(error.to_string().contains("taken"), "{error}");
}

#[tokio::test]
async fn when_moto_is_not_installed_should_say_how_to_install_it() {
    let error = hookline_devstack::Emulator::moto(std::path::Path::new("/nonexistent"), 1).expect_err("missing");
    assert!(error.to_string().contains("scripts/venv.sh"), "{error}");
}
