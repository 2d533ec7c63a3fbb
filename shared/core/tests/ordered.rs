//! Ordered delivery's policies on the in-memory ports: a webhook's tasks run in order; a
//! failure holds its task for the retry's wait (no retry task is sent) and sends the later ones
//! back behind it, saying what they wait for; a task back before its due time is held again;
//! once due it is retried, and the group goes on; another webhook's tasks are not held.

use chrono::Utc;
use hookline_core::DeliveryLog;
use hookline_core::deliver::{Handled, Ordered};
use hookline_core::memory::answered;
use hookline_domain::model::{
    Audit, DeliverTask, DeliveryStatus, Environment, EventSubscription, Message, Ordering, Task, Webhook, WebhookRef,
};
use hookline_domain::webhooks::{WebhookChanges, new_webhook};
use serde_json::json;

mod common;

use common::{ACCOUNT, World, world};

fn webhook(id: u64, ordering: Ordering) -> Webhook {
    let events = vec![EventSubscription { event_type: "loan.created".into(), filters: Default::default() }];
    let changes = WebhookChanges {
        url: Some(format!("https://e.com/{id}")),
        events: Some(events),
        retry_schedule: hookline_domain::Patch::Value(vec![1]),
        ordering: Some(ordering),
        ..Default::default()
    };
    new_webhook(id, ACCOUNT, changes, Environment::Production, Audit::default(), Utc::now())
}

fn message(n: u64) -> Message {
    common::message_with(json!({ "n": n }), None)
}

fn task(message: &Message, webhook: &Webhook, receive_count: u32) -> (Task, u32) {
    let reference =
        WebhookRef { id: webhook.id, version: webhook.version, ordered: webhook.ordering == Ordering::Fifo };
    (Task::Deliver(DeliverTask::first(message, reference)), receive_count)
}

fn sent_bodies(world: &World) -> Vec<u64> {
    world
        .transport
        .requests()
        .iter()
        .map(|request| {
            serde_json::from_slice::<serde_json::Value>(&request.body).expect("json")["n"].as_u64().expect("n")
        })
        .collect()
}

#[tokio::test]
async fn when_an_ordered_delivery_fails_should_hold_it_and_send_the_later_ones_back_behind_it() {
    let world = world();
    let (fifo, other) = (webhook(1, Ordering::Fifo), webhook(2, Ordering::None));
    world.store.put_webhook(fifo.clone());
    world.store.put_webhook(other.clone());
    let messages: Vec<Message> = (0..3).map(message).collect();
    world.transport.then(answered(500, &[]));

    let mut batch: Vec<(Task, u32)> = messages.iter().map(|message| task(message, &fifo, 1)).collect();
    batch.insert(1, task(&messages[0], &other, 1));
    let results = world.run_ordered_batch(&batch).await;

    assert!(matches!(results[0], Ok(Ordered::Hold(wait)) if (1..=2).contains(&wait.as_secs())), "{results:?}");
    assert!(matches!(results[1], Ok(Ordered::Done(Handled::Attempted(_)))), "another webhook goes on: {results:?}");
    assert!(matches!(results[2], Ok(Ordered::Behind)) && matches!(results[3], Ok(Ordered::Behind)), "{results:?}");
    assert_eq!(world.transport.requests().len(), 2, "the failing try and the other webhook's");
    assert!(
        world
            .queue
            .sent()
            .iter()
            .all(|outgoing| !matches!(&outgoing.task, Task::Deliver(task) if task.account_id == ACCOUNT)),
        "the held task waits in its queue: no retry task"
    );
    let head = world.store.get_log_entry(ACCOUNT, &messages[0].id, fifo.id).await.expect("read").expect("entry");
    assert_eq!((head.status, head.attempts.len()), (Some(DeliveryStatus::Pending), 1));
    for later in &messages[1..] {
        let entry = world.store.get_log_entry(ACCOUNT, &later.id, fifo.id).await.expect("read").expect("entry");
        assert_eq!(entry.waiting_for.as_deref(), Some(messages[0].id.as_str()), "it says what it waits for");
        assert!(entry.attempts.is_empty());
    }

    // Back before its retry is due: held again, the rest behind it.
    let again: Vec<(Task, u32)> = messages.iter().map(|message| task(message, &fifo, 2)).collect();
    let early = world.run_ordered_batch(&again).await;
    assert!(matches!(early[0], Ok(Ordered::Hold(_))) && matches!(early[1], Ok(Ordered::Behind)), "{early:?}");
    assert_eq!(world.transport.requests().len(), 2, "nothing sent before the retry is due");

    // Once due: the retry succeeds and the group goes on, in order.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let due = world.run_ordered_batch(&again).await;
    assert!(due.iter().all(|result| matches!(result, Ok(Ordered::Done(Handled::Attempted(_))))), "{due:?}");
    assert_eq!(sent_bodies(&world), vec![0, 0, 0, 1, 2]);
    for message in &messages {
        let entry = world.store.get_log_entry(ACCOUNT, &message.id, fifo.id).await.expect("read").expect("entry");
        assert_eq!((entry.status, entry.waiting_for.clone()), (Some(DeliveryStatus::Succeeded), None));
    }
    // A task handed out again after its delivery settled is done with at once.
    let late = world.run_ordered_batch(&again[..1]).await;
    assert!(matches!(late[0], Ok(Ordered::Done(Handled::Skipped(_)))), "{late:?}");
}

#[tokio::test]
async fn when_an_ordered_delivery_fails_for_good_should_release_its_group() {
    let world = world();
    let mut fifo = webhook(1, Ordering::Fifo);
    fifo.retry_schedule = Some(Vec::new());
    world.store.put_webhook(fifo.clone());
    let messages: Vec<Message> = (0..2).map(message).collect();
    world.transport.then(answered(500, &[]));

    let results =
        world.run_ordered_batch(&messages.iter().map(|message| task(message, &fifo, 1)).collect::<Vec<_>>()).await;

    assert!(results.iter().all(|result| matches!(result, Ok(Ordered::Done(Handled::Attempted(_))))), "{results:?}");
    let failed = world.store.get_log_entry(ACCOUNT, &messages[0].id, fifo.id).await.expect("read").expect("entry");
    assert_eq!(failed.status, Some(DeliveryStatus::Failed));
    assert_eq!(sent_bodies(&world), vec![0, 1]);
}
