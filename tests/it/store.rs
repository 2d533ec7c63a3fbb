//! The store suite: every DynamoDB behaviour Hookline relies on, run on ministack (the local
//! stack's DynamoDB) and on the official DynamoDB Local engine, each case on its own table.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use hookline_aws::{LogFilter, Store, keys};
use hookline_domain::Error;
use hookline_domain::model::{
    Account, Attempt, AttemptOutcome, Audit, DeliveryStatus, Environment, EventSubscription, EventType, LogEntry,
    Message, NewApiKey, SignatureAlgo, Webhook,
};
use hookline_local_runner::sdk::Endpoints;
use serde_json::json;
use std::collections::BTreeMap;

/// Runs each case on ministack and on DynamoDB Local.
macro_rules! on_both_engines {
    ($($case:ident),* $(,)?) => {
        mod ministack {
            $( #[tokio::test] async fn $case() {
                super::$case(hookline_tests::fresh_store(&hookline_tests::local_aws().dynamodb).await).await
            } )*
        }
        mod dynamodb_local {
            $( #[tokio::test] async fn $case() {
                let Some(endpoint) = hookline_tests::dynamodb_local() else { return };
                super::$case(hookline_tests::fresh_store(endpoint).await).await
            } )*
        }
    };
}

on_both_engines!(
    when_webhook_created_twice_with_one_id_should_conflict,
    when_webhook_updated_with_stale_version_should_conflict,
    when_two_updates_race_should_keep_exactly_one,
    when_webhooks_exceed_a_page_should_page_with_a_cursor,
    when_counter_incremented_should_count_per_account,
    when_counter_incremented_concurrently_should_give_distinct_ids,
    when_account_created_with_key_should_find_it_by_plaintext_only,
    when_account_created_twice_should_conflict_and_keep_the_first,
    when_entries_exceed_a_batch_should_write_them_all,
    when_entry_expired_should_be_hidden_on_read,
    when_entry_belongs_to_another_account_should_be_absent,
    when_log_listed_should_come_newest_first_one_whole_message_at_a_time,
    when_log_spans_days_should_walk_back_through_them,
    when_log_filtered_should_keep_matching_deliveries_only,
    when_entry_replaced_should_require_the_state_it_was_read_in,
    when_webhook_deleted_should_be_gone,
    when_event_types_registered_should_list_and_delete_them,
    when_cursor_is_forged_should_be_a_bad_request,
    when_entry_stored_should_hold_its_payload_deflated_and_read_it_back_whole,
    when_entry_predates_deflated_payloads_should_read_as_before,
    when_log_spreads_over_shards_should_list_every_message_once_newest_first_across_pages,
    when_entries_predate_shards_should_move_to_theirs_once,
    when_a_filter_matches_one_message_among_many_should_list_it_alone,
    when_an_entry_is_first_written_by_replace_should_be_listed,
    when_a_webhook_has_little_of_its_accounts_traffic_should_list_its_own_entries_newest_first,
    when_batches_overlap_in_time_should_list_a_webhooks_entries_once_each_in_order,
    when_entries_predate_webhooks_own_logs_should_be_indexed_once,
    when_a_webhooks_window_is_read_should_count_its_own_deliveries_only,
    when_workers_reserve_slots_at_once_should_each_get_its_own_in_the_rate,
    when_messages_are_indexed_by_subject_should_page_them_per_account_and_drop_them,
    when_messages_are_marked_erased_should_read_the_marks_made_since_per_day,
    when_an_erasure_job_is_written_should_read_it_back_in_its_account_only,
    when_an_entry_is_erased_should_read_back_without_payload_subject_or_response_bodies,
);

fn webhook(account_id: u64, id: u64) -> Webhook {
    let audit =
        Audit { client_id: "key_test".into(), external_client_id: Some("ext-1".into()), app: Some("tests".into()) };
    let events = vec![EventSubscription {
        event_type: "loan.created".into(),
        filters: BTreeMap::from([("status".into(), vec![json!("open"), json!("canceled")])]),
    }];
    Webhook {
        scopes: BTreeMap::from([("offering_id".into(), "539b".into())]),
        headers: BTreeMap::from([("X-Paigo-Security".into(), "1234567890".into())]),
        signature_algo: SignatureAlgo::Jwt,
        environment: Environment::Sandbox,
        created_by: audit.clone(),
        updated_by: audit,
        ..hookline_tests::webhook(account_id, id, "https://example.com/hook", events)
    }
}

fn message(account_id: u64) -> Message {
    let now = Utc::now();
    Message {
        id: Message::new_id(),
        account_id,
        event_type: "loan.created".into(),
        environment: Environment::Production,
        payload: json!({"status": "open", "amount": 12.5, "nested": {"a": [1, 2]}}),
        scopes: BTreeMap::new(),
        occurred_at: now,
        created_at: now,
        idempotency_key: Some("idem-1".into()),
        matched: 0,
        subject: None,
        erased_at: None,
    }
}

fn since_yesterday() -> LogFilter {
    LogFilter { after: Some(Utc::now() - Duration::days(1)), ..LogFilter::default() }
}

/// A message id of another time (ids are `msg_` + a UUIDv7 of their time).
fn id_at(at: chrono::DateTime<Utc>) -> String {
    let stamp = uuid::Timestamp::from_unix(uuid::NoContext, at.timestamp() as u64, at.timestamp_subsec_nanos());
    format!("msg_{}", uuid::Uuid::new_v7(stamp).simple())
}

fn in_a_day() -> i64 {
    (Utc::now() + Duration::days(1)).timestamp()
}

async fn when_webhook_created_twice_with_one_id_should_conflict(store: Store) {
    let hook = webhook(1, 7);
    store.create_webhook(&hook).await.expect("first create");
    let error = store.create_webhook(&webhook(1, 7)).await.expect_err("second create");
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert_eq!(store.get_webhook(1, 7).await.expect("read"), Some(hook), "the stored webhook round-trips unchanged");
}

async fn when_webhook_updated_with_stale_version_should_conflict(store: Store) {
    let mut hook = webhook(1, 1);
    store.create_webhook(&hook).await.expect("create");
    hook.name = "renamed".into();
    hook.version = 2;
    store.update_webhook(&hook).await.expect("update from version 1");
    let mut stale = webhook(1, 1);
    stale.version = 2;
    let error = store.update_webhook(&stale).await.expect_err("stale update");
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert_eq!(store.get_webhook(1, 1).await.expect("read").expect("exists").name, "renamed");
    let mut missing = webhook(1, 99);
    missing.version = 2;
    assert!(matches!(store.update_webhook(&missing).await, Err(Error::Conflict(_))), "updating nothing is no upsert");
    assert_eq!(store.get_webhook(1, 99).await.expect("read"), None);
}

async fn when_two_updates_race_should_keep_exactly_one(store: Store) {
    store.create_webhook(&webhook(2, 1)).await.expect("create");
    let updates = (0..8).map(|n| {
        let store = store.clone();
        async move {
            let mut hook = store.get_webhook(2, 1).await.expect("read").expect("exists");
            hook.name = format!("writer {n}");
            hook.version += 1;
            store.update_webhook(&hook).await.map(|()| hook.name)
        }
    });
    let results = hookline_tests::join_spawned(updates).await;
    let winners: Vec<&String> = results.iter().filter_map(|result| result.as_ref().ok()).collect();
    assert!(!winners.is_empty());
    for result in &results {
        if let Err(error) = result {
            assert!(matches!(error, Error::Conflict(_)), "losers get a conflict, not {error:?}");
        }
    }
    let stored = store.get_webhook(2, 1).await.expect("read").expect("exists");
    assert_eq!(stored.version, 1 + winners.len() as u64, "each success is one version, none lost");
}

async fn when_webhooks_exceed_a_page_should_page_with_a_cursor(store: Store) {
    for id in 1..=7 {
        store.create_webhook(&webhook(3, id)).await.expect("create");
    }
    store.create_webhook(&webhook(4, 1)).await.expect("another account");
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.page_webhooks(3, 3, cursor.as_deref()).await.expect("page");
        pages += 1;
        ids.extend(page.items.iter().map(|hook| hook.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert!(pages >= 3);
    assert_eq!(store.list_webhooks(3).await.expect("all").len(), 7);
}

async fn when_counter_incremented_should_count_per_account(store: Store) {
    for expected in 1..=5 {
        assert_eq!(store.next_webhook_id(21).await.expect("id"), expected);
    }
    assert_eq!(store.next_webhook_id(22).await.expect("other account"), 1, "counters are per account");
    assert_eq!(store.next_account_id().await.expect("account id"), 1);
}

async fn when_counter_incremented_concurrently_should_give_distinct_ids(store: Store) {
    let ids = hookline_tests::join_spawned((0..20).map(|_| {
        let store = store.clone();
        async move { store.next_webhook_id(5).await.expect("id") }
    }))
    .await;
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=20).collect::<Vec<_>>());
    assert_eq!(store.next_webhook_id(6).await.expect("other account"), 1, "counters are per account");
}

async fn when_account_created_with_key_should_find_it_by_plaintext_only(store: Store) {
    let id = store.next_account_id().await.expect("id");
    let key = NewApiKey::generate(id, Environment::Sandbox, "ci", Utc::now());
    let account = store.create_account("acme", &key).await.expect("create");
    assert_eq!(store.get_account(id).await.expect("read"), Some(account));
    let found = store.find_api_key(&key.plaintext).await.expect("find").expect("found");
    assert_eq!(found, key.record);
    assert_eq!(found.environment, Environment::Sandbox);
    assert_eq!(store.find_api_key(&key.record.key_hash).await.expect("find"), None, "the hash is no key");
    assert_eq!(store.find_api_key("hl_prod_wrong").await.expect("find"), None);
    let listed = store.list_api_keys(id).await.expect("list");
    assert_eq!(listed, vec![key.record.clone()]);
    let second = NewApiKey::generate(id, Environment::Production, "second", Utc::now());
    store.put_api_key(&second.record).await.expect("second key");
    assert_eq!(store.list_api_keys(id).await.expect("list").len(), 2);
    let orphan = NewApiKey::generate(9_999, Environment::Production, "orphan", Utc::now());
    assert!(matches!(store.put_api_key(&orphan.record).await, Err(Error::NotFound(_))));
}

async fn when_account_created_twice_should_conflict_and_keep_the_first(store: Store) {
    let first = NewApiKey::generate(42, Environment::Production, "one", Utc::now());
    store.create_account("first", &first).await.expect("create");
    let second = NewApiKey::generate(42, Environment::Production, "two", Utc::now());
    let error = store.create_account("second", &second).await.expect_err("same id");
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert_eq!(store.get_account(42).await.expect("read").expect("exists").name, "first");
    assert_eq!(store.find_api_key(&second.plaintext).await.expect("find"), None, "the transaction wrote nothing");
    let account = Account {
        id: 43,
        uid: "43".into(),
        name: "x".into(),
        metadata: Default::default(),
        created_at: Utc::now(),
        updated_at: None,
    };
    let error = store.create_account_with_key(&account, &first.record).await.expect_err("key exists");
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert_eq!(store.get_account(43).await.expect("read"), None, "no account without its key");
}

async fn when_entries_exceed_a_batch_should_write_them_all(store: Store) {
    let message = message(7);
    let entries: Vec<(LogEntry, i64)> = (1..=60)
        .map(|webhook_id| (LogEntry::delivery_of(message.clone(), webhook_id, Utc::now()), in_a_day()))
        .collect();
    store.put_log_entries(&entries).await.expect("batch");
    let listed = store.message_entries(7, &message.id).await.expect("list");
    assert_eq!(listed, entries.into_iter().map(|(entry, _)| entry).collect::<Vec<_>>());
}

/// A JSON value as a DynamoDB attribute, the way payloads were stored before they were deflated.
fn plain(value: &serde_json::Value) -> AttributeValue {
    match value {
        serde_json::Value::Null => AttributeValue::Null(true),
        serde_json::Value::Bool(flag) => AttributeValue::Bool(*flag),
        serde_json::Value::Number(number) => AttributeValue::N(number.to_string()),
        serde_json::Value::String(text) => AttributeValue::S(text.clone()),
        serde_json::Value::Array(items) => AttributeValue::L(items.iter().map(plain).collect()),
        serde_json::Value::Object(fields) => {
            AttributeValue::M(fields.iter().map(|(name, value)| (name.clone(), plain(value))).collect())
        }
    }
}

/// The item of `entry` as DynamoDB holds it.
async fn stored_item(store: &Store, entry: &LogEntry) -> std::collections::HashMap<String, AttributeValue> {
    let pk = keys::log_pk_of(entry.message.account_id, &entry.message.id).expect("a message id");
    let output = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(keys::log_sk(&entry.message.id, entry.webhook_id)))
        .send()
        .await
        .expect("get item");
    output.item.expect("the entry's item")
}

async fn when_entry_stored_should_hold_its_payload_deflated_and_read_it_back_whole(store: Store) {
    let lines: Vec<_> =
        (0..40).map(|n| json!({"id": format!("il_{n:04}"), "amount": n * 100, "currency": "eur"})).collect();
    let mut big = message(11);
    big.payload = json!({"invoice": "in_1", "lines": lines, "note": "<script>é</script>", "ratio": 0.125});
    let entry = LogEntry::delivery_of(big, 1, Utc::now());
    store.put_log_entries(&[(entry.clone(), in_a_day())]).await.expect("put");

    let item = stored_item(&store, &entry).await;
    assert!(!item.contains_key("payload") && !item.contains_key("attempts"), "not stored as they came");
    assert!(item.contains_key("status") && item.contains_key("event_type"), "what filters read stays plain");
    let Some(AttributeValue::B(deflated)) = item.get("entry_z") else { panic!("a deflated entry: {item:?}") };
    let json = serde_json::to_vec(&entry).expect("json");
    assert!(deflated.as_ref().len() * 3 < json.len(), "{} deflated bytes of {}", deflated.as_ref().len(), json.len());

    assert_eq!(store.get_log_entry(11, &entry.message.id, 1).await.expect("read"), Some(entry.clone()));
    assert_eq!(store.message_entries(11, &entry.message.id).await.expect("read"), vec![entry.clone()]);
    assert_eq!(store.page_log(11, &since_yesterday(), 10, None).await.expect("page").items, vec![vec![entry.clone()]]);
    let mut attempted = entry.clone();
    attempted.status = Some(DeliveryStatus::Succeeded);
    attempted.updated_at = Utc::now();
    assert!(store.replace_log_entry(&attempted, Some(entry.updated_at), in_a_day()).await.expect("replace"));
    assert!(matches!(stored_item(&store, &entry).await.get("entry_z"), Some(AttributeValue::B(_))));
    assert_eq!(store.get_log_entry(11, &entry.message.id, 1).await.expect("read"), Some(attempted));
}

async fn when_entry_predates_deflated_payloads_should_read_as_before(store: Store) {
    let entry = LogEntry::delivery_of(message(12), 1, Utc::now());
    store.put_log_entries(&[(entry.clone(), in_a_day())]).await.expect("put");
    // Rewrite it as entries were stored before: every attribute as DynamoDB types.
    let mut item = stored_item(&store, &entry).await;
    item.remove("entry_z");
    let fields = serde_json::to_value(&entry).expect("json");
    for (name, value) in fields.as_object().expect("an object") {
        item.insert(name.clone(), plain(value));
    }
    store.client().put_item().table_name(store.table()).set_item(Some(item)).send().await.expect("put raw");
    assert_eq!(store.get_log_entry(12, &entry.message.id, 1).await.expect("read"), Some(entry));
}

async fn when_log_spreads_over_shards_should_list_every_message_once_newest_first_across_pages(store: Store) {
    let mut entries = Vec::new();
    for n in 0..60u64 {
        let message = message(13);
        // Some messages reach two webhooks, one matches none: entries of one message stay together.
        let webhooks: &[u64] = if n % 3 == 0 { &[1, 2] } else { &[1] };
        if n == 7 {
            entries.push((LogEntry::unmatched(message), in_a_day()));
            continue;
        }
        for webhook in webhooks {
            entries.push((LogEntry::delivery_of(message.clone(), *webhook, Utc::now()), in_a_day()));
        }
    }
    store.put_log_entries(&entries).await.expect("put");
    let mut partitions = std::collections::BTreeSet::new();
    for (entry, _) in &entries {
        partitions.insert(keys::log_pk_of(13, &entry.message.id).expect("a message id"));
    }
    assert!(partitions.len() >= 8, "60 messages over {} of the day's partitions", partitions.len());

    let mut listed: Vec<Vec<LogEntry>> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let page = store.page_log(13, &since_yesterday(), 7, cursor.as_deref()).await.expect("page");
        assert!(page.items.len() <= 7);
        listed.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // Newest first, a message's entries together, as the log has always listed them (a
    // message's webhooks in descending order too).
    let mut expected: Vec<Vec<LogEntry>> = Vec::new();
    for (entry, _) in entries.into_iter().rev() {
        match expected.last_mut() {
            Some(group) if group[0].message.id == entry.message.id => group.push(entry),
            _ => expected.push(vec![entry]),
        }
    }
    expected.sort_by(|a, b| b[0].message.id.cmp(&a[0].message.id));
    let ids = |groups: &[Vec<LogEntry>]| -> Vec<(String, Vec<Option<u64>>)> {
        groups.iter().map(|group| (group[0].message.id.clone(), group.iter().map(|e| e.webhook_id).collect())).collect()
    };
    assert_eq!(listed.len(), 60, "every message once");
    assert_eq!(ids(&listed), ids(&expected), "newest first, each with all its entries");
    assert_eq!(listed, expected);
}

async fn when_a_filter_matches_one_message_among_many_should_list_it_alone(store: Store) {
    let mut failed = LogEntry::delivery_of(message(18), 1, Utc::now());
    failed.settle(DeliveryStatus::Failed, None, Utc::now());
    let mut succeeded = LogEntry::delivery_of(message(18), 1, Utc::now());
    succeeded.settle(DeliveryStatus::Succeeded, None, Utc::now());
    // Newer than the two, and many more than a first read of each shard takes: every shard
    // has to be read on past entries the filter drops.
    let mut entries = vec![(failed.clone(), in_a_day()), (succeeded.clone(), in_a_day())];
    entries.extend((0..300).map(|_| (LogEntry::unmatched(message(18)), in_a_day())));
    store.put_log_entries(&entries).await.expect("put");
    let a_month = LogFilter { after: Some(Utc::now() - Duration::days(30)), ..LogFilter::default() };
    for limit in [1, 10, 50] {
        let by_status = LogFilter { status: Some(DeliveryStatus::Failed), ..a_month.clone() };
        let page = store.page_log(18, &by_status, limit, None).await.expect("page");
        assert_eq!((page.items, page.next_cursor), (vec![vec![failed.clone()]], None), "limit {limit}");
        let by_webhook = LogFilter { webhook_id: Some(1), ..a_month.clone() };
        let page = store.page_log(18, &by_webhook, limit, None).await.expect("page");
        let ids: Vec<&str> = page.items.iter().map(|group| group[0].message.id.as_str()).collect();
        let mut expected = [failed.message.id.as_str(), succeeded.message.id.as_str()];
        expected.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(ids, expected[..limit.min(2)], "limit {limit}");
    }
}

async fn when_an_entry_is_first_written_by_replace_should_be_listed(store: Store) {
    let entry = LogEntry::delivery_of(message(19), 4, Utc::now());
    assert!(store.replace_log_entry(&entry, None, in_a_day()).await.expect("written"));
    let by_webhook = LogFilter { webhook_id: Some(4), ..since_yesterday() };
    assert_eq!(store.page_log(19, &by_webhook, 10, None).await.expect("page").items, vec![vec![entry]]);
}

async fn when_entries_predate_shards_should_move_to_theirs_once(store: Store) {
    let entry = LogEntry::delivery_of(message(14), 3, Utc::now());
    store.put_log_entries(&[(entry.clone(), in_a_day())]).await.expect("put");
    // Put it back where entries were before the log was sharded: the day key itself.
    let mut item = stored_item(&store, &entry).await;
    let day = keys::message_day(&entry.message.id).expect("a message id");
    let sharded = item.insert("pk".into(), AttributeValue::S(keys::log_day(14, day))).expect("a key");
    store.client().put_item().table_name(store.table()).set_item(Some(item)).send().await.expect("put raw");
    let key = |pk: AttributeValue| {
        [("pk".to_string(), pk), ("sk".to_string(), AttributeValue::S(keys::log_sk(&entry.message.id, Some(3))))]
    };
    store
        .client()
        .delete_item()
        .table_name(store.table())
        .set_key(Some(key(sharded).into()))
        .send()
        .await
        .expect("delete");
    assert_eq!(store.get_log_entry(14, &entry.message.id, 3).await.expect("read"), None, "not found before");

    assert_eq!(store.migrate_log().await.expect("migrated"), 1);
    assert_eq!(store.migrate_log().await.expect("again"), 0, "idempotent");
    assert_eq!(store.get_log_entry(14, &entry.message.id, 3).await.expect("read"), Some(entry.clone()));
    assert_eq!(store.page_log(14, &since_yesterday(), 10, None).await.expect("page").items, vec![vec![entry]]);
}

async fn when_entry_expired_should_be_hidden_on_read(store: Store) {
    let expired = LogEntry::delivery_of(message(8), 1, Utc::now());
    let live = LogEntry::delivery_of(message(8), 1, Utc::now());
    store
        .put_log_entries(&[(expired.clone(), Utc::now().timestamp() - 1), (live.clone(), in_a_day())])
        .await
        .expect("put");
    assert_eq!(store.get_log_entry(8, &expired.message.id, 1).await.expect("read"), None);
    assert_eq!(store.get_log_entry(8, &live.message.id, 1).await.expect("read"), Some(live.clone()));
    let page = store.page_log(8, &since_yesterday(), 10, None).await.expect("page");
    assert_eq!(page.items, vec![vec![live]]);
}

async fn when_entry_belongs_to_another_account_should_be_absent(store: Store) {
    let entry = LogEntry::unmatched(message(9));
    store.put_log_entries(&[(entry.clone(), in_a_day())]).await.expect("put");
    assert_eq!(store.message_entries(9, &entry.message.id).await.expect("read"), vec![entry.clone()]);
    assert!(store.message_entries(10, &entry.message.id).await.expect("read").is_empty());
    assert!(store.page_log(10, &since_yesterday(), 10, None).await.expect("page").items.is_empty());
    assert!(store.message_entries(9, "msg_not-an-id").await.expect("read").is_empty());
}

async fn when_log_listed_should_come_newest_first_one_whole_message_at_a_time(store: Store) {
    let mut ids = Vec::new();
    for _ in 0..5 {
        let message = message(11);
        ids.push(message.id.clone());
        let entries: Vec<(LogEntry, i64)> =
            (1..=3).map(|webhook| (LogEntry::delivery_of(message.clone(), webhook, Utc::now()), in_a_day())).collect();
        store.put_log_entries(&entries).await.expect("put");
    }
    ids.reverse();
    let filter = since_yesterday();
    let first = store.page_log(11, &filter, 2, None).await.expect("page");
    let second = store.page_log(11, &filter, 2, first.next_cursor.as_deref()).await.expect("page");
    let third = store.page_log(11, &filter, 2, second.next_cursor.as_deref()).await.expect("page");
    assert_eq!(third.next_cursor, None);
    let groups = [first.items, second.items, third.items].concat();
    assert!(groups.iter().all(|group| group.len() == 3), "every message with its three deliveries");
    let listed: Vec<String> = groups.iter().map(|group| group[0].message.id.clone()).collect();
    assert_eq!(listed, ids);
}

async fn when_log_spans_days_should_walk_back_through_them(store: Store) {
    let old = Message { id: id_at(Utc::now() - Duration::days(2)), ..message(16) };
    let new = message(16);
    for message in [&old, &new] {
        store.put_log_entries(&[(LogEntry::unmatched(message.clone()), in_a_day())]).await.expect("put");
    }
    let filter = LogFilter { after: Some(Utc::now() - Duration::days(3)), ..LogFilter::default() };
    let first = store.page_log(16, &filter, 1, None).await.expect("page");
    assert_eq!(first.items[0][0].message.id, new.id);
    let second = store.page_log(16, &filter, 1, first.next_cursor.as_deref()).await.expect("page");
    let listed: Vec<String> = second.items.iter().map(|group| group[0].message.id.clone()).collect();
    assert_eq!(listed, vec![old.id]);
    let recent = store.page_log(16, &since_yesterday(), 10, None).await.expect("page");
    assert_eq!(recent.items.len(), 1, "the horizon stops the walk");
}

async fn when_log_filtered_should_keep_matching_deliveries_only(store: Store) {
    let message = message(17);
    let mut failed = LogEntry::delivery_of(message.clone(), 1, Utc::now());
    failed.settle(DeliveryStatus::Failed, None, Utc::now());
    let pending = LogEntry::delivery_of(message.clone(), 2, Utc::now());
    let other = LogEntry::delivery_of(Message { event_type: "loan.closed".into(), ..self::message(17) }, 1, Utc::now());
    store
        .put_log_entries(&[(failed.clone(), in_a_day()), (pending.clone(), in_a_day()), (other.clone(), in_a_day())])
        .await
        .expect("put");
    let by_status = LogFilter { status: Some(DeliveryStatus::Failed), ..since_yesterday() };
    assert_eq!(store.page_log(17, &by_status, 10, None).await.expect("page").items, vec![vec![failed.clone()]]);
    let by_webhook = LogFilter { webhook_id: Some(2), ..since_yesterday() };
    assert_eq!(store.page_log(17, &by_webhook, 10, None).await.expect("page").items, vec![vec![pending]]);
    let by_type = LogFilter { event_type: Some("loan.closed".into()), ..since_yesterday() };
    assert_eq!(store.page_log(17, &by_type, 10, None).await.expect("page").items, vec![vec![other]]);
}

async fn when_entry_replaced_should_require_the_state_it_was_read_in(store: Store) {
    let message = message(15);
    let mut entry = LogEntry::delivery_of(message.clone(), 1, Utc::now());
    assert!(store.replace_log_entry(&entry, None, in_a_day()).await.expect("create"));
    assert!(!store.replace_log_entry(&entry, None, in_a_day()).await.expect("exists"), "only if absent");
    let read = store.get_log_entry(15, &message.id, 1).await.expect("read").expect("exists");
    let attempt = Attempt {
        message_id: message.id.clone(),
        webhook_id: 1,
        account_id: 15,
        number: 1,
        at: Utc::now(),
        outcome: AttemptOutcome::HttpError,
        status_code: Some(500),
        response_headers: BTreeMap::from([("content-type".into(), "text/plain".into())]),
        response_body: "oops".into(),
        latency_ms: 12,
    };
    entry.record(attempt, DeliveryStatus::Failed, None);
    let stale = read.updated_at - Duration::seconds(1);
    assert!(!store.replace_log_entry(&entry, Some(stale), in_a_day()).await.expect("stale"));
    assert!(store.replace_log_entry(&entry, Some(read.updated_at), in_a_day()).await.expect("current"));
    assert_eq!(store.get_log_entry(15, &message.id, 1).await.expect("read"), Some(entry));
    assert!(store.reopen_delivery(15, &message.id, 1, &[DeliveryStatus::Failed]).await.expect("reopen"));
    assert!(!store.reopen_delivery(15, &message.id, 1, &[DeliveryStatus::Failed]).await.expect("pending now"));
    let reopened = store.get_log_entry(15, &message.id, 1).await.expect("read").expect("exists");
    assert_eq!(reopened.status, Some(DeliveryStatus::Pending));
    assert_eq!(reopened.attempts.len(), 1, "reopening keeps the attempts");
    let mut retried = reopened.clone();
    retried.settle(DeliveryStatus::Succeeded, None, Utc::now());
    assert!(store.replace_log_entry(&retried, Some(reopened.updated_at), in_a_day()).await.expect("after reopen"));
}

async fn when_webhook_deleted_should_be_gone(store: Store) {
    store.create_webhook(&webhook(12, 1)).await.expect("create");
    assert!(store.delete_webhook(12, 1).await.expect("delete"));
    assert_eq!(store.get_webhook(12, 1).await.expect("read"), None);
    assert!(!store.delete_webhook(12, 1).await.expect("second delete"));
    assert!(!store.delete_webhook(13, 1).await.expect("other account"));
}

async fn when_event_types_registered_should_list_and_delete_them(store: Store) {
    let now = Utc::now();
    let kind = |name: &str| EventType {
        name: name.into(),
        description: format!("{name} happened"),
        group: "billing".into(),
        schema: Some(json!({"type": "object", "required": ["id"]})),
        example: Some(json!({"id": "inv_1"})),
        deprecated: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    store.create_event_type(&kind("invoice.paid")).await.expect("create");
    store.create_event_type(&kind("invoice.created")).await.expect("create");
    assert!(matches!(store.create_event_type(&kind("invoice.paid")).await, Err(Error::Conflict(_))));
    let names: Vec<String> = store.list_event_types().await.expect("list").into_iter().map(|kind| kind.name).collect();
    assert_eq!(names, ["invoice.created", "invoice.paid"]);
    assert_eq!(store.get_event_type("invoice.paid").await.expect("read"), Some(kind("invoice.paid")));

    let changed = EventType { deprecated: true, version: 2, ..kind("invoice.paid") };
    store.update_event_type(&changed).await.expect("update on the version read");
    assert!(matches!(store.update_event_type(&changed).await, Err(Error::Conflict(_))), "a stale version");
    assert!(store.get_event_type("invoice.paid").await.expect("read").expect("kept").deprecated);

    assert!(store.delete_event_type("invoice.paid").await.expect("delete"));
    assert!(!store.delete_event_type("invoice.paid").await.expect("again"));
    assert_eq!(store.list_event_types().await.expect("list").len(), 1);

    // The records accounts kept before the platform's catalog, read for the migration.
    store.put_account_event_type(14, &kind("loan.created")).await.expect("an account's type");
    store.create_webhook(&webhook(14, 1)).await.expect("a webhook in the same partition");
    let old = store.list_account_event_types(14).await.expect("list");
    assert_eq!(old.len(), 1);
    assert_eq!((old[0].name.as_str(), old[0].schema.clone()), ("loan.created", kind("loan.created").schema));
    assert_eq!((old[0].group.as_str(), old[0].example.clone()), ("", None));
    assert!(store.list_account_event_types(15).await.expect("list").is_empty());
}

async fn when_cursor_is_forged_should_be_a_bad_request(store: Store) {
    let error = store.page_log(1, &since_yesterday(), 10, Some("eyJwayI6")).await.expect_err("forged");
    assert_eq!(error.status(), 400);
    let entry = LogEntry::unmatched(message(2));
    store
        .put_log_entries(&[(entry.clone(), in_a_day()), (LogEntry::unmatched(message(2)), in_a_day())])
        .await
        .expect("put");
    let page = store.page_log(2, &since_yesterday(), 1, None).await.expect("page");
    let cursor = page.next_cursor.expect("a second page");
    let error = store.page_log(3, &since_yesterday(), 1, Some(&cursor)).await.expect_err("another account's cursor");
    assert_eq!(error.status(), 400);
}

#[tokio::test]
async fn when_table_does_not_exist_should_be_an_internal_error() {
    let sdk = hookline_local_runner::sdk::emulator_config(hookline_tests::local_aws()).await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), "no-such-table");
    let error = store.get_webhook(1, 1).await.expect_err("missing table");
    assert!(matches!(error, Error::Internal(_)), "{error:?}");
}

#[tokio::test]
async fn when_endpoint_refuses_connections_should_be_retryable() {
    let port = hookline_local_runner::emulator::free_port();
    let sdk = hookline_local_runner::sdk::emulator_config(&Endpoints::one(&format!("http://127.0.0.1:{port}"))).await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), "t");
    let error = store.get_webhook(1, 1).await.expect_err("nothing listens");
    assert!(error.is_retryable(), "{error:?}");
}

/// All of a webhook's deliveries, page after page, as message ids.
async fn webhook_pages(store: &Store, account: u64, filter: &LogFilter, limit: usize) -> Vec<String> {
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..500 {
        let page = store.page_log(account, filter, limit, cursor.as_deref()).await.expect("page");
        assert!(page.items.len() <= limit);
        for group in page.items {
            assert_eq!(group.len(), 1, "one entry per message for one webhook");
            assert_eq!(group[0].webhook_id, filter.webhook_id);
            listed.push(group[0].message.id.clone());
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return listed,
        }
    }
    panic!("more than 500 pages");
}

fn newest_first(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

async fn when_a_webhook_has_little_of_its_accounts_traffic_should_list_its_own_entries_newest_first(store: Store) {
    // Ten worker batches of 31 deliveries: 30 to a busy webhook, one to a quiet one.
    let mut quiet = Vec::new();
    for _ in 0..10 {
        let mut batch: Vec<(LogEntry, i64)> =
            (0..30).map(|_| (LogEntry::delivery_of(message(21), 1, Utc::now()), in_a_day())).collect();
        let entry = LogEntry::delivery_of(message(21), 2, Utc::now());
        quiet.push(entry.message.id.clone());
        batch.insert(15, (entry, in_a_day()));
        store.put_log_entries(&batch).await.expect("put");
    }
    let by_quiet = LogFilter { webhook_id: Some(2), ..since_yesterday() };
    for limit in [1, 3, 10, 50] {
        assert_eq!(webhook_pages(&store, 21, &by_quiet, limit).await, newest_first(quiet.clone()), "limit {limit}");
    }
    let by_busy = LogFilter { webhook_id: Some(1), ..since_yesterday() };
    let busy = webhook_pages(&store, 21, &by_busy, 25).await;
    assert_eq!(busy.len(), 300);
    assert_eq!(busy, newest_first(busy.clone()));
    let failed_only = LogFilter { status: Some(DeliveryStatus::Failed), ..by_quiet.clone() };
    assert_eq!(webhook_pages(&store, 21, &failed_only, 5).await, Vec::<String>::new(), "none failed");
}

async fn when_batches_overlap_in_time_should_list_a_webhooks_entries_once_each_in_order(store: Store) {
    // 120 messages over six seconds, dealt to four batches in turn: every batch spans the six
    // seconds (so its ids are cut into segments), and the batches' segments interleave.
    let start = Utc::now() - Duration::seconds(10);
    let ids: Vec<String> = (0..120).map(|n| id_at(start + Duration::milliseconds(n * 50))).collect();
    for batch in 0..4 {
        let entries: Vec<(LogEntry, i64)> = ids
            .iter()
            .skip(batch)
            .step_by(4)
            .map(|id| {
                let mut message = message(22);
                message.id = id.clone();
                (LogEntry::delivery_of(message, 5, Utc::now()), in_a_day())
            })
            .collect();
        store.put_log_entries(&entries).await.expect("put");
    }
    // A worker batch written twice (SQS handed it out again): still listed once.
    let mut again = message(22);
    again.id = ids[7].clone();
    store.put_log_entries(&[(LogEntry::delivery_of(again, 5, Utc::now()), in_a_day())]).await.expect("put again");
    let by_webhook = LogFilter { webhook_id: Some(5), ..since_yesterday() };
    for limit in [1, 7, 40, 200] {
        assert_eq!(webhook_pages(&store, 22, &by_webhook, limit).await, newest_first(ids.clone()), "limit {limit}");
    }
    let windowed = LogFilter {
        after: Some(start + Duration::seconds(2)),
        before: Some(start + Duration::seconds(4)),
        ..by_webhook.clone()
    };
    let inside: Vec<String> = ids[40..80].to_vec();
    assert_eq!(webhook_pages(&store, 22, &windowed, 6).await, newest_first(inside));
    // A webhook's cursor is no other webhook's, nor another account's, nor the account's log's.
    let cursor = store.page_log(22, &by_webhook, 5, None).await.expect("page").next_cursor.expect("a next page");
    let other_webhook = LogFilter { webhook_id: Some(6), ..since_yesterday() };
    for (account, filter) in [(22, &other_webhook), (23, &by_webhook), (22, &since_yesterday())] {
        let error = store.page_log(account, filter, 5, Some(&cursor)).await.expect_err("not its cursor");
        assert_eq!(error.status(), 400, "{error:?}");
    }
}

async fn when_entries_predate_webhooks_own_logs_should_be_indexed_once(store: Store) {
    let entries: Vec<(LogEntry, i64)> =
        (0..3).map(|_| (LogEntry::delivery_of(message(23), 6, Utc::now()), in_a_day())).collect();
    store.put_log_entries(&entries).await.expect("put");
    // Take the webhook's log away, as it was before webhooks had one.
    let day = keys::message_day(&entries[0].0.message.id).expect("a message id");
    let output = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(keys::webhook_log_pk(23, 6, day)))
        .send()
        .await
        .expect("query");
    let segments = output.items.unwrap_or_default();
    assert!(!segments.is_empty(), "written with the entries");
    for segment in segments {
        let key = segment.into_iter().filter(|(name, _)| name == "pk" || name == "sk").collect();
        store.client().delete_item().table_name(store.table()).set_key(Some(key)).send().await.expect("delete");
    }
    let by_webhook = LogFilter { webhook_id: Some(6), ..since_yesterday() };
    assert_eq!(webhook_pages(&store, 23, &by_webhook, 10).await, Vec::<String>::new());

    assert_eq!(store.migrate_webhook_log().await.expect("migrated"), 1, "three ids of one second: one segment");
    assert_eq!(store.migrate_webhook_log().await.expect("again"), 0, "once");
    let expected = newest_first(entries.iter().map(|(entry, _)| entry.message.id.clone()).collect());
    assert_eq!(webhook_pages(&store, 23, &by_webhook, 2).await, expected);
}

async fn when_a_webhooks_window_is_read_should_count_its_own_deliveries_only(store: Store) {
    let mut entries = Vec::new();
    for n in 0..12 {
        let mut entry = LogEntry::delivery_of(message(24), if n % 4 == 0 { 8 } else { 9 }, Utc::now());
        entry.settle(if n % 8 == 0 { DeliveryStatus::Failed } else { DeliveryStatus::Succeeded }, None, Utc::now());
        entries.push((entry, in_a_day()));
    }
    store.put_log_entries(&entries).await.expect("put");
    let window = LogFilter { webhook_id: Some(8), ..since_yesterday() };
    let sample = store.read_log_window(24, &window, 1000, 100).await.expect("window");
    assert_eq!(sample.entries_read, 3, "its own three entries, not the account's twelve");
    let mut statuses: Vec<_> = sample.deliveries.iter().map(|delivery| delivery.status).collect();
    statuses.sort_by_key(|status| format!("{status:?}"));
    assert_eq!(
        statuses,
        vec![Some(DeliveryStatus::Failed), Some(DeliveryStatus::Failed), Some(DeliveryStatus::Succeeded)]
    );
    assert!(sample.deliveries.iter().all(|delivery| delivery.accepted_at.is_some()));
    let bounded = store.read_log_window(24, &window, 2, 100).await.expect("window");
    assert!(bounded.truncated && bounded.deliveries.is_empty(), "the day would pass the bound: left out");
}

async fn when_workers_reserve_slots_at_once_should_each_get_its_own_in_the_rate(store: Store) {
    let interval = 50_000;
    let now = Utc::now().timestamp_micros();
    // Forty reservations of one to three slots from four workers at once (each a store of its
    // own, as processes are): the spans they get tile the schedule from now, none overlapping.
    let workers: Vec<Store> = (0..4).map(|_| Store::new(store.client().clone(), store.table())).collect();
    let reservations = (0..40).map(|n| {
        let worker = workers[n % 4].clone();
        let span = interval * (n as i64 % 3 + 1);
        async move { (worker.reserve_slots(25, 3, span, now).await.expect("slots"), span) }
    });
    let mut spans = hookline_tests::join_spawned(reservations).await;
    spans.sort_unstable();
    let mut expected_start = now;
    for (start, span) in &spans {
        assert_eq!(*start, expected_start, "{spans:?}");
        expected_start += span;
    }
    // Another webhook has a schedule of its own.
    assert_eq!(store.reserve_slots(25, 4, interval, now).await.expect("slot"), now);
    // Once the schedule lies in the past, the next slot is now again.
    let later = expected_start + interval;
    assert_eq!(store.reserve_slots(25, 3, interval, later).await.expect("slot"), later);
    assert_eq!(store.reserve_slots(25, 3, interval, later).await.expect("slot"), later + interval);
}

async fn when_messages_are_indexed_by_subject_should_page_them_per_account_and_drop_them(store: Store) {
    let digest = hookline_domain::model::subject_digest("customer_42");
    let other = hookline_domain::model::subject_digest("customer_43");
    let ids: Vec<String> = (0..7).map(|_| Message::new_id()).collect();
    let mut entries: Vec<(u64, String, String, i64)> =
        ids.iter().map(|id| (1, digest.clone(), id.clone(), in_a_day())).collect();
    entries.push((2, digest.clone(), Message::new_id(), in_a_day()));
    entries.push((1, other.clone(), Message::new_id(), in_a_day()));
    entries.push((1, digest.clone(), Message::new_id(), (Utc::now() - Duration::hours(1)).timestamp()));
    store.index_subjects(&entries).await.expect("indexed");

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (page, next) = store.subject_messages(1, &digest, cursor.as_deref(), 3).await.expect("page");
        assert!(page.len() <= 3);
        listed.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.push(entries[9].2.clone());
    expected.sort();
    // The expired entry is still stored until DynamoDB's TTL removes it: erasing it again is harmless.
    assert_eq!(listed, expected, "the account's messages about the subject, in id order, each once");

    store.unindex_subject(1, &digest, &listed[..4]).await.expect("dropped");
    let (left, _) = store.subject_messages(1, &digest, None, 100).await.expect("page");
    assert_eq!(left, listed[4..].to_vec());
    let (others, _) = store.subject_messages(2, &digest, None, 100).await.expect("page");
    assert_eq!(others, vec![entries[7].2.clone()], "another account's index is its own");
}

async fn when_messages_are_marked_erased_should_read_the_marks_made_since_per_day(store: Store) {
    let now = Utc::now();
    let (first, second, third) = (Message::new_id(), Message::new_id(), Message::new_id());
    store.mark_erased(&[(1, first.clone()), (2, second.clone())], now - Duration::seconds(30)).await.expect("marked");
    store.mark_erased(&[(1, third.clone())], now).await.expect("marked");
    let today = now.date_naive();
    let keys = |marks: Vec<(u64, String, chrono::DateTime<Utc>)>| {
        let mut keys: Vec<(u64, String)> = marks.into_iter().map(|(account, key, _)| (account, key)).collect();
        keys.sort();
        keys
    };
    let all = store.erased_since(today, now - Duration::minutes(5)).await.expect("read");
    let stamped = all.iter().find(|(_, key, _)| *key == third).map(|(_, _, at)| at.timestamp_millis());
    assert_eq!(stamped, Some(now.timestamp_millis()), "each mark with its time");
    let all_sorted = keys(all);
    let mut expected = vec![(1, first), (2, second), (1, third.clone())];
    expected.sort();
    if (now - Duration::seconds(30)).date_naive() == today {
        assert_eq!(all_sorted, expected);
    }
    let recent = keys(store.erased_since(today, now - Duration::seconds(10)).await.expect("read"));
    assert_eq!(recent, vec![(1, third)], "only the marks made after the time asked");
    let other_day = keys(store.erased_since(today - Duration::days(1), now - Duration::days(2)).await.expect("read"));
    assert!(other_day.iter().all(|(_, id)| !expected.iter().any(|(_, erased)| erased == id)), "marks are filed by day");
}

async fn when_an_erasure_job_is_written_should_read_it_back_in_its_account_only(store: Store) {
    let mut erasure = hookline_domain::model::Erasure::new(1, "customer_42", Utc::now());
    store.put_erasure(&erasure).await.expect("written");
    assert_eq!(store.get_erasure(1, &erasure.id).await.expect("read").as_ref(), Some(&erasure));
    assert_eq!(store.get_erasure(2, &erasure.id).await.expect("read"), None);
    assert_eq!(store.get_erasure(1, "ers_none").await.expect("read"), None);
    assert_eq!(store.get_erasure(1, "../ACCOUNT").await.expect("read"), None);
    erasure.erased = 12;
    erasure.step = (2, Some("msg_x".into()));
    store.put_erasure(&erasure).await.expect("rewritten");
    assert_eq!(store.get_erasure(1, &erasure.id).await.expect("read"), Some(erasure));
}

async fn when_an_entry_is_erased_should_read_back_without_payload_subject_or_response_bodies(store: Store) {
    let mut message = message(1);
    message.subject = Some("customer_42".into());
    let mut entry = LogEntry::delivery_of(message.clone(), 3, Utc::now());
    entry.attempts.push(hookline_domain::model::Attempt {
        message_id: message.id.clone(),
        webhook_id: 3,
        account_id: 1,
        number: 1,
        at: Utc::now(),
        outcome: hookline_domain::model::AttemptOutcome::HttpError,
        status_code: Some(500),
        response_headers: BTreeMap::new(),
        response_body: "echo: open 12.5".into(),
        latency_ms: 3,
    });
    store.put_log_entries(&[(entry.clone(), in_a_day())]).await.expect("written");
    let read = store.get_log_entry(1, &message.id, 3).await.expect("read").expect("entry");
    let mut erased = read.clone();
    assert!(erased.erase(Utc::now()));
    assert!(store.replace_log_entry(&erased, Some(read.updated_at), in_a_day()).await.expect("replaced"));
    let back = store.get_log_entry(1, &message.id, 3).await.expect("read").expect("entry");
    assert_eq!(back.message.payload, serde_json::Value::Null);
    assert_eq!(back.message.subject, None);
    assert!(back.message.erased_at.is_some());
    assert_eq!(back.attempts[0].response_body, "");
    assert_eq!(back.attempts[0].status_code, Some(500), "the attempt's metadata stays");
    assert_eq!(back.status, Some(hookline_domain::model::DeliveryStatus::Cancelled), "a pending delivery is cancelled");
    let mut again = back.clone();
    assert!(!again.erase(Utc::now()), "nothing left to erase");
}
