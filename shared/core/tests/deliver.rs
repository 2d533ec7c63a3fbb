//! The delivery flow's policies on the in-memory ports: what follows each kind of answer
//! (success, retry on the schedule, Retry-After, final failure, refusal), when a webhook is
//! disabled and its account told, duplicate and stale tasks, the webhook cache's versions,
//! and a batch whose writes fail.

use chrono::{Duration, Utc};
use hookline_core::deliver::{Handled, Skip};
use hookline_core::memory::answered;
use hookline_core::{DeliveryLog, SendOutcome, Webhooks};
use hookline_domain::model::{
    AttemptOutcome, Audit, DeliverTask, DeliveryStatus, DisabledReason, Environment, EventSubscription, LogEntry,
    Message, Task, Webhook, WebhookRef, WebhookStatus,
};
use hookline_domain::webhooks::{WebhookChanges, new_webhook};
use serde_json::json;
use std::collections::BTreeMap;

mod common;

use common::{ACCOUNT, World, world};

/// A world whose store holds `hook`.
fn world_with(hook: Webhook) -> (World, Webhook) {
    let world = world();
    world.store.put_webhook(hook.clone());
    (world, hook)
}

fn webhook(id: u64) -> Webhook {
    let events = vec![EventSubscription { event_type: "loan.created".into(), filters: Default::default() }];
    let changes =
        WebhookChanges { url: Some(format!("https://e.com/{id}")), events: Some(events), ..Default::default() };
    new_webhook(id, ACCOUNT, changes, Environment::Production, Audit::default(), Utc::now())
}

fn message() -> Message {
    common::message_with(json!({ "loan": 1 }), None)
}

/// The first-attempt task of `message` to `webhook`, as ingest makes it.
fn first(message: &Message, webhook: &Webhook) -> (Task, u32) {
    let reference = WebhookRef { id: webhook.id, version: webhook.version, ordered: false };
    (Task::Deliver(DeliverTask::first(message, reference)), 1)
}

fn unreachable() -> SendOutcome {
    SendOutcome::without_response(AttemptOutcome::ConnectionError, "connection refused".into(), 1)
}

async fn entry(world: &World, message: &Message, webhook: &Webhook) -> LogEntry {
    world.store.get_log_entry(ACCOUNT, &message.id, webhook.id).await.expect("read").expect("an entry")
}

/// The one retry task of the customer's deliveries sent so far (the platform's first
/// attempts of operational events aside).
fn retry_of(world: &World) -> (DeliverTask, std::time::Duration) {
    let sent: Vec<_> = world
        .queue
        .sent()
        .into_iter()
        .filter(|outgoing| matches!(&outgoing.task, Task::Deliver(task) if task.account_id == ACCOUNT))
        .collect();
    let [outgoing] = sent.as_slice() else { panic!("one follow-up: {sent:?}") };
    let Task::Deliver(task) = &outgoing.task else { panic!("a delivery: {outgoing:?}") };
    (task.clone(), outgoing.delay)
}

#[tokio::test]
async fn when_endpoint_answers_2xx_should_record_success_and_send_nothing_more() {
    let (world, hook) = world_with(webhook(1));
    let message = message();

    let results = world.run_batch(&[first(&message, &hook)]).await;

    assert!(matches!(results.as_slice(), [Ok(Handled::Attempted(outcome))] if outcome.status_code == Some(200)));
    let entry = entry(&world, &message, &hook).await;
    assert_eq!((entry.status, entry.attempts.len()), (Some(DeliveryStatus::Succeeded), 1));
    assert!(world.queue.sent().is_empty());
    let request = &world.transport.requests()[0];
    assert_eq!(request.url, hook.url);
    assert!(request.headers.iter().any(|(name, _)| name == "webhook-signature"), "{:?}", request.headers);
}

#[tokio::test]
async fn when_endpoint_fails_should_keep_pending_enqueue_the_next_try_and_mark_the_webhook_failing() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(500, &[]));
    let message = message();

    world.run_batch(&[first(&message, &hook)]).await;

    let entry = entry(&world, &message, &hook).await;
    assert_eq!(entry.status, Some(DeliveryStatus::Pending));
    assert!(entry.next_attempt_at.is_some());
    let (task, delay) = retry_of(&world);
    assert_eq!((task.attempt, task.message.is_none()), (2, true));
    // The first step of the default schedule is 5 s, moved by at most 10 %.
    assert!((4..=6).contains(&delay.as_secs()), "{delay:?}");
    let stored = world.store.webhook(ACCOUNT, hook.id).expect("webhook");
    assert!(stored.failing_since.is_some());
    assert_eq!(stored.version, hook.version + 1);
}

#[tokio::test]
async fn when_retry_succeeds_should_settle_and_clear_the_failure_record() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(500, &[]));
    let message = message();
    world.run_batch(&[first(&message, &hook)]).await;
    let (retry, _) = retry_of(&world);

    let results = world.run_batch(&[(Task::Deliver(retry), 1)]).await;

    assert!(matches!(results.as_slice(), [Ok(Handled::Attempted(_))]), "{results:?}");
    let entry = entry(&world, &message, &hook).await;
    assert_eq!((entry.status, entry.attempts.len()), (Some(DeliveryStatus::Succeeded), 2));
    assert_eq!(world.store.webhook(ACCOUNT, hook.id).expect("webhook").failing_since, None);
}

#[tokio::test]
async fn when_endpoint_asks_to_retry_later_should_wait_at_least_that_long() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(429, &[("retry-after", "120")]));
    let message = message();

    world.run_batch(&[first(&message, &hook)]).await;

    let (_, delay) = retry_of(&world);
    assert!(delay.as_secs() >= 119, "{delay:?}");
}

#[tokio::test]
async fn when_schedule_is_spent_should_fail_the_delivery_without_a_retry() {
    let mut hook = webhook(1);
    hook.retry_schedule = Some(vec![1]);
    let world = world_with(hook.clone()).0;
    world.transport.then(unreachable()).then(unreachable());
    let message = message();
    world.run_batch(&[first(&message, &hook)]).await;
    let (retry, _) = retry_of(&world);

    world.run_batch(&[(Task::Deliver(retry), 1)]).await;

    let entry = entry(&world, &message, &hook).await;
    assert_eq!((entry.status, entry.attempts.len()), (Some(DeliveryStatus::Failed), 2));
    assert_eq!(world.queue.sent().len(), 1, "no third try");
}

#[tokio::test]
async fn when_the_guard_refuses_the_target_should_end_refused_without_a_retry() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(SendOutcome::without_response(AttemptOutcome::Refused, "forbidden address".into(), 0));
    let message = message();

    world.run_batch(&[first(&message, &hook)]).await;

    assert_eq!(entry(&world, &message, &hook).await.status, Some(DeliveryStatus::Refused));
    assert!(world.queue.sent().is_empty());
}

#[tokio::test]
async fn when_endpoint_answers_410_should_disable_the_webhook_and_tell_its_account() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(410, &[]));
    let message = message();

    world.run_batch(&[first(&message, &hook)]).await;

    assert_eq!(entry(&world, &message, &hook).await.status, Some(DeliveryStatus::Failed));
    let stored = world.store.webhook(ACCOUNT, hook.id).expect("webhook");
    assert_eq!((stored.status, stored.disabled_reason), (WebhookStatus::Disabled, Some(DisabledReason::EndpointGone)));
    let told: Vec<LogEntry> =
        world.store.log().into_iter().filter(|entry| entry.message.event_type == "webhook.disabled").collect();
    assert_eq!(told.len(), 1, "one webhook.disabled message");
    assert_eq!(told[0].message.payload["reason"], "endpoint_gone");
}

#[tokio::test]
async fn when_webhook_fails_longer_than_the_policy_allows_should_disable_it() {
    let mut hook = webhook(1);
    hook.failing_since = Some(Utc::now() - Duration::days(6));
    let world = world_with(hook.clone()).0;
    world.transport.then(answered(503, &[]));
    let message = message();

    world.run_batch(&[first(&message, &hook)]).await;

    let stored = world.store.webhook(ACCOUNT, hook.id).expect("webhook");
    assert_eq!(stored.disabled_reason, Some(DisabledReason::FailingTooLong));
    // The delivery itself still follows its schedule; the next task finds the webhook disabled.
    let (retry, _) = retry_of(&world);
    let results = world.run_batch(&[(Task::Deliver(retry), 1)]).await;
    assert!(matches!(results.as_slice(), [Ok(Handled::Skipped(Skip::WebhookDisabled))]), "{results:?}");
    assert_eq!(entry(&world, &message, &hook).await.status, Some(DeliveryStatus::Cancelled));
}

#[tokio::test]
async fn when_webhook_failing_for_less_than_the_policy_should_stay_enabled() {
    let mut hook = webhook(1);
    hook.failing_since = Some(Utc::now() - Duration::days(4));
    let world = world_with(hook.clone()).0;
    world.transport.then(answered(500, &[]));

    world.run_batch(&[first(&message(), &hook)]).await;

    assert_eq!(world.store.webhook(ACCOUNT, hook.id).expect("webhook").status, WebhookStatus::Enabled);
}

#[tokio::test]
async fn when_webhook_is_deleted_should_cancel_the_delivery_without_sending() {
    let world = world();
    let hook = webhook(1);
    let message = message();

    let results = world.run_batch(&[first(&message, &hook)]).await;

    assert!(matches!(results.as_slice(), [Ok(Handled::Skipped(Skip::WebhookDeleted))]), "{results:?}");
    assert_eq!(entry(&world, &message, &hook).await.status, Some(DeliveryStatus::Cancelled));
    assert!(world.transport.requests().is_empty());
}

#[tokio::test]
async fn when_cached_copy_is_as_recent_as_the_task_should_not_read_the_webhook_again() {
    let (world, hook) = world_with(webhook(1));
    world.run_batch(&[first(&message(), &hook), first(&message(), &hook)]).await;
    assert_eq!(world.store.webhook_reads(), 1, "one read for the batch's two tasks");

    world.run_batch(&[first(&message(), &hook)]).await;

    assert_eq!(world.store.webhook_reads(), 1, "the cached copy served");
}

#[tokio::test]
async fn when_task_was_matched_against_a_newer_version_should_read_the_webhook_and_use_it() {
    let (world, hook) = world_with(webhook(1));
    world.run_batch(&[first(&message(), &hook)]).await;
    let mut moved = hook.clone();
    moved.url = "https://moved.example/hook".into();
    moved.version += 1;
    world.store.update_webhook(&moved).await.expect("update");

    world.run_batch(&[first(&message(), &moved)]).await;

    assert_eq!(world.store.webhook_reads(), 2);
    let requests = world.transport.requests();
    assert_eq!(requests.last().expect("a request").url, "https://moved.example/hook");
}

#[tokio::test]
async fn when_a_retry_task_runs_twice_at_once_should_record_one_attempt() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(500, &[])).then(answered(500, &[]));
    let message = message();
    world.run_batch(&[first(&message, &hook)]).await;
    let (retry, _) = retry_of(&world);

    let results = world.run_batch(&[(Task::Deliver(retry.clone()), 1), (Task::Deliver(retry), 1)]).await;

    let recorded = results.iter().filter(|result| matches!(result, Ok(Handled::Attempted(_)))).count();
    let lost = results.iter().filter(|result| matches!(result, Ok(Handled::Skipped(Skip::RecordedByAnotherWorker))));
    assert_eq!((recorded, lost.count()), (1, 1), "{results:?}");
    assert_eq!(world.transport.requests().len(), 3, "both sent: delivery is at least once");
    let entry = entry(&world, &message, &hook).await;
    assert_eq!(entry.attempts.len(), 2, "one record of attempt 2 stands");
}

#[tokio::test]
async fn when_a_task_recorded_its_attempt_but_not_its_followup_should_send_the_followup_again() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(500, &[])).then(answered(500, &[]));
    let message = message();
    world.run_batch(&[first(&message, &hook)]).await;
    let (retry, _) = retry_of(&world);
    world.run_batch(&[(Task::Deliver(retry.clone()), 1)]).await;
    let sent_before = world.queue.sent().len();

    let again = world.run_batch(&[(Task::Deliver(retry.clone()), 2)]).await;
    let stale = world.run_batch(&[(Task::Deliver(retry), 1)]).await;

    assert!(matches!(again.as_slice(), [Ok(Handled::Skipped(Skip::FollowupSentAgain))]), "{again:?}");
    assert!(matches!(stale.as_slice(), [Ok(Handled::Skipped(Skip::AttemptMadeAlready))]), "{stale:?}");
    let sent = world.queue.sent();
    assert_eq!(sent.len(), sent_before + 1);
    let Task::Deliver(followup) = &sent[sent.len() - 1].task else { panic!("a delivery") };
    assert_eq!(followup.attempt, 3);
    assert_eq!(world.transport.requests().len(), 2, "no third send");
}

#[tokio::test]
async fn when_a_task_is_ahead_of_its_delivery_should_drop_it() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(500, &[]));
    let message = message();
    world.run_batch(&[first(&message, &hook)]).await;

    let ahead = DeliverTask::retry(ACCOUNT, &message.id, hook.id, 5);
    let results = world.run_batch(&[(Task::Deliver(ahead), 1)]).await;

    assert!(matches!(results.as_slice(), [Ok(Handled::Skipped(Skip::AheadOfDelivery))]), "{results:?}");
    assert_eq!(world.transport.requests().len(), 1);
}

#[tokio::test]
async fn when_log_writes_fail_should_fail_the_tasks_and_send_none_of_their_followups() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(500, &[]));
    world.store.fail_log_writes(true);

    let results = world.run_batch(&[first(&message(), &hook)]).await;

    assert!(matches!(results.as_slice(), [Err(_)]), "{results:?}");
    assert!(world.queue.sent().is_empty(), "the retry would outlive its unrecorded attempt");
}

#[tokio::test]
async fn when_the_queue_fails_should_fail_the_tasks_with_followups_only() {
    let world = world();
    let failing = webhook(1);
    let fine = webhook(2);
    world.store.put_webhook(failing.clone());
    world.store.put_webhook(fine.clone());
    world.transport.then(answered(500, &[]));
    world.queue.fail(true);

    let results = world.run_batch(&[first(&message(), &failing), first(&message(), &fine)]).await;

    assert!(matches!(results.as_slice(), [Err(_), Ok(Handled::Attempted(_))]), "{results:?}");
}

#[tokio::test]
async fn when_failed_deliveries_are_retried_should_reopen_each_once_and_enqueue_the_next_attempt() {
    let mut hook = webhook(1);
    hook.retry_schedule = Some(vec![]);
    let world = world_with(hook.clone()).0;
    world.transport.then(answered(500, &[]));
    let message = message();
    world.run_batch(&[first(&message, &hook)]).await;
    let entries = vec![entry(&world, &message, &hook).await];
    assert_eq!(entries[0].status, Some(DeliveryStatus::Failed));

    let first_retry = hookline_core::log::retry_deliveries(&world.store, &world.queue, &entries).await.expect("retry");
    let second_retry = hookline_core::log::retry_deliveries(&world.store, &world.queue, &entries).await.expect("retry");

    assert_eq!((first_retry, second_retry), (1, 0), "the second finds it pending");
    let (task, delay) = retry_of(&world);
    assert_eq!((task.attempt, delay.as_secs()), (2, 0));
    assert_eq!(entry(&world, &message, &hook).await.status, Some(DeliveryStatus::Pending));
}

#[tokio::test]
async fn when_test_send_runs_should_record_one_attempt_and_never_retry() {
    let world = world();
    let hook = webhook(1);
    world.transport.then(answered(500, &[]));

    let outcome = world.test_send(&hook).await.expect("test send");

    assert_eq!(outcome.status_code, Some(500));
    let log = world.store.log();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].message.event_type.as_str(), log[0].status), ("webhook.test", Some(DeliveryStatus::Failed)));
    assert!(world.queue.sent().is_empty());
    assert!(hookline_core::deliver::describe(&outcome).contains("500"));
}

/// A world with a platform account (id 1, uid `platform`) and the customer account.
fn platform_world(hook: Webhook) -> (World, Webhook) {
    let (world, hook) = world_with(hook);
    for (id, uid) in [(1, "platform"), (ACCOUNT, "cus_7")] {
        world.store.add_account(hookline_domain::model::Account {
            id,
            uid: uid.into(),
            name: uid.into(),
            metadata: Default::default(),
            created_at: Utc::now(),
            updated_at: None,
        });
    }
    let mut listening = webhook(100);
    listening.account_id = 1;
    listening.events = vec![EventSubscription { event_type: "*".into(), filters: Default::default() }];
    world.store.put_webhook(listening);
    (world, hook)
}

/// The operational events told so far: the first attempts enqueued for the platform's
/// webhook, by type.
fn told(world: &World) -> Vec<(String, serde_json::Value)> {
    world
        .queue
        .sent()
        .into_iter()
        .filter_map(|outgoing| match outgoing.task {
            Task::Deliver(DeliverTask { message: Some(message), .. }) if message.account_id == 1 => {
                Some((message.event_type.clone(), message.payload.clone()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn when_a_delivery_fails_then_recovers_should_tell_the_platform_each_turn_once() {
    let (world, hook) = platform_world(webhook(1));
    world.transport.then(answered(500, &[]));
    let message = message();
    world.run_batch(&[first(&message, &hook)]).await;
    let (retry, _) = retry_of(&world);
    world.run_batch(&[(Task::Deliver(retry.clone()), 1)]).await;
    world.run_batch(&[(Task::Deliver(retry), 2)]).await;

    let told = told(&world);
    let types: Vec<&str> = told.iter().map(|(event_type, _)| event_type.as_str()).collect();
    assert_eq!(types, ["message.attempt.failing", "message.attempt.recovered"], "{told:?}");
    let failing = &told[0].1;
    assert_eq!((failing["account_uid"].as_str(), failing["account_id"].as_u64()), (Some("cus_7"), Some(ACCOUNT)));
    assert_eq!((failing["webhook_id"].as_u64(), failing["message_id"].as_str()), (Some(1), Some(message.id.as_str())));
    assert_eq!(failing["attempt"], 1);
}

#[tokio::test]
async fn when_a_delivery_fails_for_good_should_tell_the_platform_it_is_exhausted() {
    let mut hook = webhook(1);
    hook.retry_schedule = Some(vec![]);
    let (world, hook) = platform_world(hook);
    world.transport.then(answered(500, &[]));

    world.run_batch(&[first(&message(), &hook)]).await;

    let types: Vec<String> = told(&world).into_iter().map(|(event_type, _)| event_type).collect();
    assert_eq!(types, ["message.attempt.exhausted"]);
}

#[tokio::test]
async fn when_an_endpoint_is_gone_should_tell_the_platform_the_delivery_and_the_webhook_ended() {
    let (world, hook) = platform_world(webhook(1));
    world.transport.then(answered(410, &[]));

    world.run_batch(&[first(&message(), &hook)]).await;

    let told = told(&world);
    let types: Vec<&str> = told.iter().map(|(event_type, _)| event_type.as_str()).collect();
    assert_eq!(types.len(), 2, "{told:?}");
    assert!(types.contains(&"message.attempt.exhausted") && types.contains(&"webhook.disabled"), "{types:?}");
    let disabled = told.iter().find(|(event_type, _)| event_type == "webhook.disabled").expect("disabled");
    assert_eq!(disabled.1["reason"], "endpoint_gone");
}

#[tokio::test]
async fn when_there_is_no_platform_or_the_delivery_is_the_platforms_own_should_tell_nothing() {
    let (world, hook) = world_with(webhook(1));
    world.transport.then(answered(500, &[]));
    world.run_batch(&[first(&message(), &hook)]).await;
    assert!(told(&world).is_empty(), "no platform account");

    let (world, _) = platform_world(webhook(1));
    let mut own = webhook(2);
    own.retry_schedule = Some(vec![]);
    own.account_id = 1;
    world.store.put_webhook(own.clone());
    world.transport.then(answered(500, &[]));
    let mut platform_message = message();
    platform_message.account_id = 1;
    world.run_batch(&[first(&platform_message, &own)]).await;
    assert!(told(&world).is_empty(), "nothing told about the platform's own delivery: {:?}", told(&world));

    let (world, hook) = platform_world(webhook(1));
    world
        .store
        .put_webhook(Webhook { status: WebhookStatus::Disabled, ..world.store.webhook(1, 100).expect("listening") });
    world.transport.then(answered(500, &[]));
    world.run_batch(&[first(&message(), &hook)]).await;
    assert!(told(&world).is_empty(), "no enabled webhook of the platform listens");
}

#[tokio::test]
async fn when_a_webhook_has_a_rate_limit_should_send_in_its_slots_and_queue_the_rest_keeping_their_place() {
    let mut limited = webhook(1);
    limited.rate_limit = Some(4);
    let (world, limited) = world_with(limited);
    let free = webhook(2);
    world.store.put_webhook(free.clone());
    let messages: Vec<Message> = (0..12).map(|_| message()).collect();
    let mut tasks: Vec<(Task, u32)> = messages.iter().map(|message| first(message, &limited)).collect();
    tasks.extend(messages.iter().map(|message| first(message, &free)));
    let started = std::time::Instant::now();
    let results = world.run_batch(&tasks).await;

    // Slots 250 ms apart: now to +2,000 ms are sent in this batch (waited for: under two
    // seconds away when reserved), the three further away go back to the queue; the unlimited
    // webhook gets all twelve.
    let throttled = results.iter().filter(|result| matches!(result, Ok(Handled::Skipped(Skip::Throttled)))).count();
    assert_eq!(throttled, 3, "{results:?}");
    let to = |hook: &Webhook| world.transport.requests().iter().filter(|request| request.url == hook.url).count();
    assert_eq!((to(&limited), to(&free)), (9, 12));
    assert!(started.elapsed() >= std::time::Duration::from_millis(1_950), "waited for the +2,000 ms slot");
    let waiting: Vec<(DeliverTask, std::time::Duration)> = world
        .queue
        .sent()
        .into_iter()
        .filter_map(|outgoing| match outgoing.task {
            Task::Deliver(task) => Some((task, outgoing.delay)),
            Task::Fanout(_) | Task::Erase(_) => None,
        })
        .collect();
    assert_eq!(waiting.len(), 3, "{waiting:?}");
    let mut slots: Vec<i64> = waiting.iter().map(|(task, _)| task.slot_at_us.expect("keeps its slot")).collect();
    slots.sort_unstable();
    assert_eq!((slots[1] - slots[0], slots[2] - slots[1]), (250_000, 250_000), "a quarter second apart");
    for (task, delay) in &waiting {
        assert!(task.message.is_some() && task.attempt == 1, "still the first attempt, with its message");
        // +2,250 to +2,750 ms away: back from the queue a second early, to wait the rest here.
        assert_eq!(*delay, std::time::Duration::from_secs(1));
    }
    // Neither a failure nor an entry: the log has only what was sent.
    for message in &messages {
        let logged = world.store.get_log_entry(ACCOUNT, &message.id, limited.id).await.expect("read");
        assert!(logged.is_none_or(|entry| entry.status == Some(DeliveryStatus::Succeeded)));
    }

    // Back from the queue with its slot: sent without reserving another.
    let (late, _) = waiting.into_iter().max_by_key(|(task, _)| task.slot_at_us).expect("one");
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    let again = world.run_batch(&[(Task::Deliver(late), 1)]).await;
    assert!(matches!(again.as_slice(), [Ok(Handled::Attempted(_))]), "{again:?}");
    assert_eq!(to(&limited), 10);
}

#[tokio::test]
async fn when_a_webhook_has_a_transformation_should_send_and_sign_its_output() {
    let mut hook = webhook(1);
    hook.headers =
        BTreeMap::from([("X-Team".to_string(), "loans".to_string()), ("X-Kind".to_string(), "raw".to_string())]);
    hook.transformation =
        Some(r#"{body: {text: "Loan \(.payload.loan) (\(.type))"}, headers: {"x-kind": .headers["X-Team"]}}"#.into());
    let (world, hook) = world_with(hook);
    let message = message();

    world.run_batch(&[first(&message, &hook)]).await;

    let request = &world.transport.requests()[0];
    assert_eq!(String::from_utf8_lossy(&request.body), r#"{"text":"Loan 1 (loan.created)"}"#);
    let header = |wanted: &str| {
        request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(header("x-kind"), ["loans"], "the output's header replaces the webhook's own of that name");
    assert_eq!(header("x-team"), ["loans"]);
    let timestamp: i64 = header("webhook-timestamp")[0].parse().expect("timestamp");
    let expected = hookline_domain::signing::signature_headers(
        hook.signature_algo,
        &[hook.secret.as_str()],
        &message.id,
        timestamp,
        &request.body,
    )
    .expect("sign");
    let signature = expected.iter().find(|(name, _)| *name == "webhook-signature").expect("signature").1.clone();
    assert_eq!(header("webhook-signature"), [signature.as_str()], "the signature covers the transformed body");
    assert_eq!(entry(&world, &message, &hook).await.status, Some(DeliveryStatus::Succeeded));
}

#[tokio::test]
async fn when_a_transformation_fails_should_record_it_send_nothing_and_not_retry() {
    for program in [r#"error("no loan")"#, "{text: .payload}", "{body: 1, headers: {\"webhook-id\": \"forged\"}}"] {
        let mut hook = webhook(1);
        hook.transformation = Some(program.into());
        let (world, hook) = world_with(hook);
        let message = message();

        let results = world.run_batch(&[first(&message, &hook)]).await;

        assert!(
            matches!(results.as_slice(), [Ok(Handled::Attempted(outcome))] if outcome.outcome == AttemptOutcome::TransformationError),
            "{program}: {results:?}"
        );
        assert!(world.transport.requests().is_empty(), "{program}: nothing is sent");
        let entry = entry(&world, &message, &hook).await;
        assert_eq!(entry.status, Some(DeliveryStatus::Failed), "{program}");
        assert_eq!(entry.attempts[0].outcome, AttemptOutcome::TransformationError);
        assert!(!entry.attempts[0].response_body.is_empty(), "{program}: the log says why");
        assert!(entry.next_attempt_at.is_none());
        assert!(
            world
                .queue
                .sent()
                .iter()
                .all(|outgoing| !matches!(&outgoing.task, Task::Deliver(task) if task.account_id == ACCOUNT)),
            "{program}: no retry"
        );
        assert_eq!(
            world.store.webhook(ACCOUNT, hook.id).expect("webhook").failing_since,
            None,
            "not the endpoint's failure"
        );
    }
}
