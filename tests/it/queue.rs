//! The SQS queue adapter against fauxqs (the local stack's SQS): batches, delays, visibility, deletes.

use hookline_aws::{Depth, Outgoing, Queue};
use hookline_domain::model::{DeliverTask, Task};
use hookline_tests::Stack;
use std::collections::BTreeSet;
use std::time::Duration;

fn task(n: u64) -> Task {
    Task::Deliver(DeliverTask::retry(1, &format!("msg_{n}"), n, 2))
}

async fn drain(queue: &Queue, expected: usize) -> Vec<hookline_aws::Received> {
    let mut received = Vec::new();
    for _ in 0..20 {
        if received.len() >= expected {
            break;
        }
        received.extend(queue.receive(10, Duration::from_secs(1)).await.expect("receive"));
    }
    received
}

#[tokio::test]
async fn when_25_tasks_sent_should_receive_each_once_decoded() {
    let stack = Stack::new().await;
    let queue = &stack.context.queue;
    let tasks: Vec<Outgoing> = (1..=25).map(|n| Outgoing::now(task(n))).collect();
    queue.send(&tasks).await.expect("send");
    let received = drain(queue, 25).await;
    let webhooks: BTreeSet<u64> = received
        .iter()
        .map(|message| match Task::from_body(&message.body).expect("decodes") {
            Task::Deliver(task) => task.webhook_id,
            other @ (Task::Fanout(_) | Task::Erase(_)) => panic!("only deliver tasks were sent, got {other:?}"),
        })
        .collect();
    assert_eq!(received.len(), 25);
    assert_eq!(webhooks, (1..=25).collect());
    assert!(received.iter().all(|message| message.receive_count == 1));
}

#[tokio::test]
async fn when_task_delayed_should_not_be_received_before_its_delay() {
    let stack = Stack::new().await;
    let queue = &stack.context.queue;
    queue.send(&[Outgoing { task: task(1), delay: Duration::from_secs(2) }]).await.expect("send");
    assert!(queue.receive(10, Duration::ZERO).await.expect("receive").is_empty(), "hidden during its delay");
    let later = drain(queue, 1).await;
    assert_eq!(later.len(), 1);
}

#[tokio::test]
async fn when_visibility_reset_should_come_back_with_a_higher_receive_count() {
    let stack = Stack::new().await;
    let queue = &stack.context.queue;
    queue.send(&[Outgoing::now(task(1))]).await.expect("send");
    let first = drain(queue, 1).await;
    assert!(queue.receive(10, Duration::ZERO).await.expect("receive").is_empty(), "in flight");
    queue.change_visibility(&first[0].receipt_handle, Duration::ZERO).await.expect("visibility");
    let again = drain(queue, 1).await;
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].receive_count, 2);
}

#[tokio::test]
async fn when_received_tasks_deleted_should_leave_the_queue_empty() {
    let stack = Stack::new().await;
    let queue = &stack.context.queue;
    let tasks: Vec<Outgoing> = (1..=12).map(|n| Outgoing::now(task(n))).collect();
    queue.send(&tasks).await.expect("send");
    let received = drain(queue, 12).await;
    let handles: Vec<String> = received.iter().map(|message| message.receipt_handle.clone()).collect();
    queue.delete(&handles).await.expect("delete in batches of 10");
    assert_eq!(queue.depth().await.expect("depth"), Depth { visible: 0, in_flight: 0, delayed: 0 });
}

#[tokio::test]
async fn when_queue_unreachable_should_be_retryable() {
    let port = hookline_local_runner::emulator::free_port();
    let sdk = hookline_local_runner::sdk::emulator_config(&hookline_local_runner::sdk::Endpoints::one(&format!(
        "http://127.0.0.1:{port}"
    )))
    .await;
    let queue = Queue::new(aws_sdk_sqs::Client::new(&sdk), format!("http://127.0.0.1:{port}/123456789012/q"));
    let error = queue.send(&[Outgoing::now(task(1))]).await.expect_err("nothing listens");
    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn when_message_arrives_during_a_long_poll_should_wake_it_before_its_wait_ends() {
    let stack = Stack::new().await;
    let queue = stack.context.queue.clone();
    let wait = Duration::from_secs(10);
    let polling = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let received = queue.receive(10, wait).await.expect("receive");
        (received, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.context.queue.send(&[Outgoing::now(task(7))]).await.expect("send");
    let (received, elapsed) = polling.await.expect("poll");
    assert_eq!(received.len(), 1, "the poll returned the message");
    assert!(elapsed < wait, "woken by the message after {elapsed:?}, not by the end of its {wait:?} wait");
}

#[tokio::test]
async fn when_body_is_the_queues_1_mib_maximum_should_travel_whole_and_one_byte_more_be_refused() {
    let stack = Stack::new().await;
    let client = aws_sdk_sqs::Client::new(&stack.sdk);
    let url = stack.queue_url("DeliveryQueue");
    let body = "x".repeat(1024 * 1024);
    client.send_message().queue_url(&url).message_body(&body).send().await.expect("1 MiB is accepted");
    let refused = client.send_message().queue_url(&url).message_body(format!("{body}x")).send().await;
    assert!(refused.is_err(), "1 MiB + 1 byte is refused");
    let received = drain(&stack.context.queue, 1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body.len(), body.len(), "the body arrives whole");
}

#[tokio::test]
async fn when_one_entry_of_a_batch_is_invalid_should_send_the_others_and_report_that_one() {
    let stack = Stack::new().await;
    let client = aws_sdk_sqs::Client::new(&stack.sdk);
    let entry = |id: &str, body: &str| {
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder().id(id).message_body(body).build().expect("entry")
    };
    let output = client
        .send_message_batch()
        .queue_url(stack.queue_url("DeliveryQueue"))
        .entries(entry("good", "{}"))
        .entries(entry("bad", "not allowed: \u{1}"))
        .send()
        .await
        .expect("the batch call succeeds");
    assert_eq!(output.successful().iter().map(|entry| entry.id()).collect::<Vec<_>>(), ["good"]);
    assert_eq!(output.failed().iter().map(|entry| entry.id()).collect::<Vec<_>>(), ["bad"]);
    assert!(output.failed()[0].sender_fault(), "an invalid body is the sender's fault");
    assert_eq!(drain(&stack.context.queue, 1).await.len(), 1);
}
