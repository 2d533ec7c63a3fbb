//! Erasure's policies on the in-memory ports: an erased message's queued first attempt is
//! cancelled, not sent; a message's erasure empties every entry and sends its sweep; an erasure
//! by subject pages through the index, counts each message once (a step run twice changes
//! nothing), sweeps after the wait, drops the index and ends done.

use chrono::Utc;
use hookline_core::deliver::{Handled, Skip};
use hookline_core::erase::PAGE;
use hookline_core::{Erasures, LogWriter, SubjectIndex};
use hookline_domain::model::{
    Attempt, AttemptOutcome, Audit, DeliverTask, DeliveryStatus, Environment, ErasureStatus, EventSubscription,
    LogEntry, Message, Task, WebhookRef, subject_digest,
};
use hookline_domain::webhooks::{WebhookChanges, new_webhook};
use serde_json::json;
use std::collections::BTreeMap;

mod common;

use common::{ACCOUNT, SWEEP, World};

/// A world whose store holds webhook 1, of `loan.created`.
fn world() -> World {
    let world = common::world();
    let events = vec![EventSubscription { event_type: "loan.created".into(), filters: Default::default() }];
    let changes = WebhookChanges { url: Some("https://e.com/1".into()), events: Some(events), ..Default::default() };
    world.store.put_webhook(new_webhook(1, ACCOUNT, changes, Environment::Production, Audit::default(), Utc::now()));
    world
}

fn message(subject: Option<&str>) -> Message {
    common::message_with(json!({"name": "Ada", "loan": 1}), subject)
}

fn first(message: &Message) -> (Task, u32) {
    (Task::Deliver(DeliverTask::first(message, WebhookRef { id: 1, version: 1, ordered: false })), 1)
}

/// A delivered entry whose attempt's response echoes the payload.
fn delivered(message: &Message, status: DeliveryStatus) -> LogEntry {
    let mut entry = LogEntry::delivery_of(message.clone(), 1, Utc::now());
    let attempt = Attempt {
        message_id: message.id.clone(),
        webhook_id: 1,
        account_id: ACCOUNT,
        number: 1,
        at: Utc::now(),
        outcome: AttemptOutcome::HttpError,
        status_code: Some(500),
        response_headers: BTreeMap::new(),
        response_body: "got Ada".into(),
        latency_ms: 1,
    };
    entry.record(attempt, status, (status == DeliveryStatus::Pending).then(Utc::now));
    entry
}

fn erase_tasks(world: &World, from: usize) -> Vec<(hookline_domain::model::EraseTask, std::time::Duration)> {
    world.queue.sent()[from..]
        .iter()
        .filter_map(|outgoing| match &outgoing.task {
            Task::Erase(task) => Some((task.clone(), outgoing.delay)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn when_a_queued_first_attempt_is_of_an_erased_message_should_cancel_it_unsent() {
    let world = world();
    let (erased, kept) = (message(None), message(None));
    world.store.mark_erased(&[(ACCOUNT, erased.id.clone())], Utc::now()).await.expect("marked");

    let results = world.run_batch(&[first(&erased), first(&kept)]).await;

    assert!(matches!(results[0], Ok(Handled::Skipped(Skip::Erased))), "{results:?}");
    assert!(matches!(results[1], Ok(Handled::Attempted(_))), "{results:?}");
    let requests = world.transport.requests();
    assert_eq!(requests.len(), 1, "only the other message is sent");
    assert!(!String::from_utf8_lossy(&requests[0].body).is_empty());
    let entry = world.store.log().into_iter().find(|entry| entry.message.id == erased.id).expect("logged");
    assert_eq!(
        (entry.status, entry.message.payload.clone()),
        (Some(DeliveryStatus::Cancelled), serde_json::Value::Null)
    );
    assert!(entry.message.erased_at.is_some() && entry.attempts.is_empty());
    // A mark made later is read by the next batch.
    let late = message(None);
    world.store.mark_erased(&[(ACCOUNT, late.id.clone())], Utc::now()).await.expect("marked");
    let later = world.run_batch(&[first(&late)]).await;
    assert!(matches!(later[0], Ok(Handled::Skipped(Skip::Erased))), "{later:?}");
}

#[tokio::test]
async fn when_a_message_is_erased_should_empty_every_entry_cancel_its_retries_and_send_its_sweep() {
    let world = world();
    let message = message(Some("customer_42"));
    world.store.put_log_entries(&[(delivered(&message, DeliveryStatus::Pending), 0)]).await.expect("written");

    let erased = world.eraser().erase_message(ACCOUNT, &message.id).await.expect("erased");

    assert_eq!(erased, 1);
    let entry = &world.store.log()[0];
    assert_eq!(entry.message.payload, serde_json::Value::Null);
    assert_eq!((entry.message.subject.as_deref(), entry.attempts[0].response_body.as_str()), (None, ""));
    assert_eq!(entry.status, Some(DeliveryStatus::Cancelled), "its retry will find it settled");
    let sweeps = erase_tasks(&world, 0);
    assert_eq!(sweeps.len(), 1);
    assert_eq!(
        (sweeps[0].0.message_id.as_deref(), sweeps[0].0.pass, sweeps[0].1),
        (Some(message.id.as_str()), 2, SWEEP)
    );
    // What a delivery in flight writes after the erasure, the sweep erases.
    world.store.put_log_entries(&[(delivered(&message, DeliveryStatus::Failed), 0)]).await.expect("written late");
    let ran = world.run_batch(&[(Task::Erase(sweeps[0].0.clone()), 1)]).await;
    assert!(matches!(ran[0], Ok(Handled::Skipped(Skip::ErasureStep))), "{ran:?}");
    assert_eq!(world.store.log()[0].message.payload, serde_json::Value::Null);
}

#[tokio::test]
async fn when_a_subject_is_erased_should_page_count_each_message_once_sweep_and_end_done() {
    let world = world();
    let about: Vec<Message> = (0..(PAGE as usize * 2 + 5)).map(|_| message(Some("customer_42"))).collect();
    let other = message(Some("customer_43"));
    let index: Vec<(u64, String, String, i64)> = about
        .iter()
        .chain([&other])
        .map(|message| (ACCOUNT, subject_digest(message.subject.as_deref().unwrap_or_default()), message.id.clone(), 0))
        .collect();
    world.store.index_subjects(&index).await.expect("indexed");
    let logged: Vec<(LogEntry, i64)> = about
        .iter()
        .step_by(10)
        .chain([&other])
        .map(|message| (delivered(message, DeliveryStatus::Succeeded), 0))
        .collect();
    world.store.put_log_entries(&logged).await.expect("written");

    let erasure = world.eraser().start(ACCOUNT, "customer_42").await.expect("started");
    let mut seen = 0;
    let mut steps = 0;
    while let Some((task, delay)) = erase_tasks(&world, seen).into_iter().next() {
        seen = world.queue.sent().len();
        steps += 1;
        if task.pass == 2 && task.cursor.is_none() {
            assert_eq!(delay, SWEEP, "the sweep waits out the deliveries in flight");
        }
        let results = world.run_batch(&[(Task::Erase(task.clone()), 1), (Task::Erase(task), 2)]).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert!(steps < 20, "the erasure ends");
    }

    let done = world.store.get_erasure(ACCOUNT, &erasure.id).await.expect("read").expect("job");
    assert_eq!(done.status, ErasureStatus::Done);
    assert_eq!(done.erased, about.len() as u64, "each message once, though every step ran twice");
    assert!(done.finished_at.is_some());
    assert_eq!(steps, 3 + 3, "three pages, then three pages of the sweep");
    for entry in world.store.log() {
        let erased = entry.message.id != other.id;
        assert_eq!(entry.message.payload.is_null(), erased, "{}", entry.message.id);
        assert_eq!(entry.attempts[0].response_body.is_empty(), erased);
    }
    let digest = subject_digest("customer_42");
    let (left, _) = world.store.subject_messages(ACCOUNT, &digest, None, 1000).await.expect("index");
    assert!(left.is_empty(), "the subject's index is dropped");
    let (kept, _) =
        world.store.subject_messages(ACCOUNT, &subject_digest("customer_43"), None, 10).await.expect("index");
    assert_eq!(kept, vec![other.id.clone()]);
    // A first attempt of an erased message still queued is cancelled.
    let queued = world.run_batch(&[first(&about[3])]).await;
    assert!(matches!(queued[0], Ok(Handled::Skipped(Skip::Erased))), "{queued:?}");
    assert!(world.transport.requests().is_empty());
}
