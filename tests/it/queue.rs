//! The SQS queue adapter against fauxqs (the local stack's SQS): batches, delays, visibility, deletes.

use hookline_aws::{Outgoing, Queue};
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
            Task::Fanout(task) => panic!("only deliver tasks were sent, got {task:?}"),
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
    assert_eq!(queue.depth().await.expect("depth"), (0, 0));
}

#[tokio::test]
async fn when_queue_unreachable_should_be_retryable() {
    let port = hookline_devstack::emulator::free_port();
    let sdk = hookline_devstack::sdk::emulator_config(&hookline_devstack::sdk::Endpoints::one(&format!(
        "http://127.0.0.1:{port}"
    )))
    .await;
    let queue = Queue::new(aws_sdk_sqs::Client::new(&sdk), format!("http://127.0.0.1:{port}/123456789012/q"));
    let error = queue.send(&[Outgoing::now(task(1))]).await.expect_err("nothing listens");
    assert!(error.is_retryable(), "{error:?}");
}
