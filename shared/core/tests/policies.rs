//! The flows' policies on the in-memory ports: idempotency (replay, reuse, races, a failed
//! enqueue), matching and fan-out, unmatched messages.

use chrono::Utc;
use hookline_core::Acceptor;
use hookline_core::accept::{FANOUT_CHUNK, INLINE_FANOUT_MAX};
use hookline_core::memory::{MemoryQueue, MemoryStore};
use hookline_domain::Error;
use hookline_domain::auth::Caller;
use hookline_domain::events::NewEvent;
use hookline_domain::model::{Audit, Environment, EventSubscription, NewApiKey, Task, Webhook};
use hookline_domain::webhooks::{WebhookChanges, new_webhook};
use serde_json::json;

const ACCOUNT: u64 = 7;

fn caller() -> Caller {
    let key = NewApiKey::generate(ACCOUNT, Environment::Production, "tests", Utc::now());
    Caller::new(&key.record, None, None)
}

fn webhook(id: u64, event_type: &str) -> Webhook {
    let events = vec![EventSubscription { event_type: event_type.into(), filters: Default::default() }];
    let changes =
        WebhookChanges { url: Some(format!("https://e.com/{id}")), events: Some(events), ..Default::default() };
    new_webhook(id, ACCOUNT, changes, Environment::Production, Audit::default(), Utc::now())
}

fn event(event_type: &str, key: Option<&str>, n: u64) -> NewEvent {
    NewEvent {
        event_type: event_type.into(),
        payload: json!({ "n": n }),
        environment: Environment::Production,
        scopes: Default::default(),
        occurred_at: Utc::now(),
        idempotency_key: key.map(str::to_string),
        fingerprint: format!("{event_type}:{n}"),
        subject: None,
    }
}

struct World {
    store: MemoryStore,
    queue: MemoryQueue,
}

impl World {
    fn new() -> Self {
        Self { store: MemoryStore::default(), queue: MemoryQueue::default() }
    }

    fn acceptor(&self) -> Acceptor<'_, MemoryStore, MemoryQueue> {
        Acceptor { store: &self.store, queue: &self.queue, retention_days: 30 }
    }
}

#[tokio::test]
async fn when_idempotency_key_repeated_should_replay_the_first_answer_and_enqueue_once() {
    let world = World::new();
    let webhooks = [webhook(1, "loan.created")];
    let first =
        world.acceptor().accept(&caller(), &webhooks, event("loan.created", Some("k1"), 1)).await.expect("first");
    let again =
        world.acceptor().accept(&caller(), &webhooks, event("loan.created", Some("k1"), 1)).await.expect("again");
    assert!(!first.replayed && again.replayed);
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.document, first.document);
    assert_eq!(world.queue.sent().len(), 1, "enqueued once");
}

#[tokio::test]
async fn when_idempotency_key_reused_for_another_event_should_refuse_it() {
    let world = World::new();
    let webhooks = [webhook(1, "loan.created")];
    world.acceptor().accept(&caller(), &webhooks, event("loan.created", Some("k1"), 1)).await.expect("first");
    let error =
        world.acceptor().accept(&caller(), &webhooks, event("loan.created", Some("k1"), 2)).await.expect_err("reuse");
    assert_eq!(error.status(), 422, "{error:?}");
    assert_eq!(world.queue.sent().len(), 1);
}

#[tokio::test]
async fn when_requests_race_with_one_key_should_enqueue_once_and_answer_the_others_a_replay_or_a_conflict() {
    let world = World::new();
    let webhooks = [webhook(1, "loan.created")];
    let acceptor = world.acceptor();
    let caller = caller();
    let results =
        futures_join_all((0..8).map(|_| acceptor.accept(&caller, &webhooks, event("loan.created", Some("k"), 1))))
            .await;
    let accepted: Vec<_> = results.iter().filter_map(|result| result.as_ref().ok()).collect();
    let conflicts = results.iter().filter(|result| matches!(result, Err(Error::Conflict(_)))).count();
    assert_eq!(accepted.len() + conflicts, 8, "{results:?}");
    assert!(conflicts > 0, "the requests overlapped: the later ones found the key in progress");
    assert_eq!(accepted.iter().filter(|accepted| !accepted.replayed).count(), 1, "one request did the work");
    assert_eq!(world.queue.sent().len(), 1, "enqueued once");
}

/// Runs futures concurrently on this task, outputs in order.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none()
                && let std::task::Poll::Ready(value) = future.as_mut().poll(context)
            {
                *output = Some(value);
            }
        }
        if outputs.iter().all(Option::is_some) { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[tokio::test]
async fn when_enqueue_fails_should_release_the_lease_so_that_the_retry_resumes_under_the_same_message() {
    let world = World::new();
    let webhooks = [webhook(1, "loan.created")];
    world.queue.fail(true);
    let error =
        world.acceptor().accept(&caller(), &webhooks, event("loan.created", Some("k"), 1)).await.expect_err("down");
    assert!(matches!(error, Error::Unavailable(_)), "the fault keeps its kind: {error:?}");
    let held = world.store.idempotency(ACCOUNT, "k").expect("the record stays");
    assert_eq!(held.lease_until_ms, 0, "the lease is released");
    world.queue.fail(false);
    let retried =
        world.acceptor().accept(&caller(), &webhooks, event("loan.created", Some("k"), 1)).await.expect("retry");
    assert!(!retried.replayed, "the retry does the work");
    assert_eq!(retried.message_id, held.message_id, "under the first message id");
    assert_eq!(world.queue.sent().len(), 1);
    assert!(world.store.idempotency(ACCOUNT, "k").expect("record").response.is_some(), "finished");
}

#[tokio::test]
async fn when_event_matches_few_webhooks_should_enqueue_one_first_attempt_each() {
    let world = World::new();
    let webhooks: Vec<Webhook> =
        (1..=3).map(|id| webhook(id, "loan.created")).chain([webhook(4, "loan.paid")]).collect();
    let accepted = world.acceptor().accept(&caller(), &webhooks, event("loan.created", None, 1)).await.expect("ok");
    assert_eq!(accepted.matched, 3);
    let targets: Vec<u64> = world
        .queue
        .sent()
        .iter()
        .map(|outgoing| match &outgoing.task {
            Task::Deliver(task) => task.webhook_id,
            Task::Fanout(_) | Task::Erase(_) => panic!("a small fan-out is inline"),
        })
        .collect();
    assert_eq!(targets, vec![1, 2, 3]);
    assert!(world.store.log().is_empty(), "a matched message is logged by its first attempt, not here");
}

#[tokio::test]
async fn when_event_matches_more_webhooks_than_inline_should_chain_fan_out_tasks_of_a_chunk_each() {
    let world = World::new();
    let count = FANOUT_CHUNK as u64 * 2 + 1;
    assert!(count as usize > INLINE_FANOUT_MAX);
    let webhooks: Vec<Webhook> = (1..=count).map(|id| webhook(id, "loan.created")).collect();
    world.acceptor().accept(&caller(), &webhooks, event("loan.created", None, 1)).await.expect("ok");
    let chunks: Vec<usize> = world
        .queue
        .sent()
        .iter()
        .map(|outgoing| match &outgoing.task {
            Task::Fanout(task) => task.webhooks.len(),
            Task::Deliver(_) | Task::Erase(_) => panic!("a large fan-out goes through the fan-out stage"),
        })
        .collect();
    assert_eq!(chunks, vec![FANOUT_CHUNK, FANOUT_CHUNK, 1]);
}

#[tokio::test]
async fn when_event_matches_nothing_should_log_it_at_once_and_enqueue_nothing() {
    let world = World::new();
    let accepted = world
        .acceptor()
        .accept(&caller(), &[webhook(1, "loan.paid")], event("loan.created", None, 1))
        .await
        .expect("ok");
    assert_eq!(accepted.matched, 0);
    assert!(world.queue.sent().is_empty());
    let log = world.store.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].message.id, accepted.message_id);
}

#[tokio::test]
async fn when_batch_mixes_keyed_and_plain_events_should_answer_each_in_order() {
    let world = World::new();
    let webhooks = [webhook(1, "loan.created")];
    let events =
        vec![event("loan.created", None, 1), event("loan.created", Some("k"), 2), event("loan.created", None, 3)];
    let results = world.acceptor().accept_batch(&caller(), &webhooks, events).await;
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(world.queue.sent().len(), 3);
}
