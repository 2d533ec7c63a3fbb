//! What ingest keeps between requests (`hookline_core::routing`), on the in-memory ports that
//! count their reads: a warm request reads the account's version and nothing else, a change
//! is seen at once, the catalog reloads for a type it lacks, keys are read once a minute.

use chrono::Utc;
use hookline_core::Webhooks;
use hookline_core::memory::MemoryStore;
use hookline_core::routing::{CATALOG_RELOAD_GAP, RoutingCache};
use hookline_domain::model::{Audit, Environment, EventSubscription, EventType, KeySpec, NewApiKey, Webhook};
use hookline_domain::webhooks::{WebhookChanges, new_webhook};

const ACCOUNT: u64 = 7;

fn webhook(id: u64, event_type: &str) -> Webhook {
    let events = vec![EventSubscription { event_type: event_type.into(), filters: Default::default() }];
    let changes =
        WebhookChanges { url: Some(format!("https://e.com/{id}")), events: Some(events), ..Default::default() };
    new_webhook(id, ACCOUNT, changes, Environment::Production, Audit::default(), Utc::now())
}

fn event_type(name: &str) -> EventType {
    EventType {
        name: name.into(),
        description: String::new(),
        group: String::new(),
        schema: None,
        example: None,
        deprecated: false,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        version: 1,
    }
}

fn ids(webhooks: &[Webhook]) -> Vec<u64> {
    webhooks.iter().map(|webhook| webhook.id).collect()
}

#[tokio::test]
async fn when_warm_should_read_only_the_version_whatever_the_number_of_webhooks() {
    let store = MemoryStore::default();
    for id in 1..=1000 {
        store.put_webhook(webhook(id, if id == 500 { "invoice.paid" } else { "loan.created" }));
    }
    store.put_webhook(webhook(1001, "*"));
    let cache = RoutingCache::default();

    let first = cache.webhooks_taking(&store, ACCOUNT, &["invoice.paid"]).await.expect("first");
    for _ in 0..10 {
        let warm = cache.webhooks_taking(&store, ACCOUNT, &["invoice.paid"]).await.expect("warm");
        assert_eq!(ids(&warm), ids(&first));
    }

    assert_eq!(ids(&first), [500, 1001], "the type's subscribers and the catch-all, in id order");
    assert_eq!((store.reads_of("list_webhooks"), store.reads_of("account_version")), (1, 11));
}

#[tokio::test]
async fn when_a_webhook_changes_should_route_by_the_change_at_once() {
    let store = MemoryStore::default();
    store.put_webhook(webhook(1, "invoice.paid"));
    let cache = RoutingCache::default();
    assert_eq!(ids(&cache.webhooks_taking(&store, ACCOUNT, &["invoice.paid"]).await.expect("read")), [1]);

    let mut moved = webhook(1, "loan.created");
    moved.version = 2;
    store.update_webhook(&moved).await.expect("updated");
    store.put_webhook(webhook(2, "invoice.paid"));

    assert_eq!(ids(&cache.webhooks_taking(&store, ACCOUNT, &["invoice.paid"]).await.expect("read")), [2]);
    assert_eq!(ids(&cache.webhooks_taking(&store, ACCOUNT, &["loan.created"]).await.expect("read")), [1]);
    assert_eq!(store.reads_of("list_webhooks"), 2, "read again once, after the change");
}

#[tokio::test]
async fn when_the_catalog_lacks_a_type_should_reload_it_but_not_more_than_once_a_second() {
    let store = MemoryStore::default();
    store.add_event_type(event_type("invoice.paid"));
    let cache = RoutingCache::default();
    assert!(cache.catalog(&store, &["invoice.paid"]).await.expect("read").contains("invoice.paid"));
    assert!(cache.catalog(&store, &["invoice.paid"]).await.expect("cached").contains("invoice.paid"));
    assert_eq!(store.reads_of("list_event_types"), 1);

    store.add_event_type(event_type("loan.created"));
    let soon = cache.catalog(&store, &["loan.created"]).await.expect("read");
    assert!(!soon.contains("loan.created"), "within a second of the last read, an unknown type reads nothing");
    tokio::time::sleep(CATALOG_RELOAD_GAP + std::time::Duration::from_millis(50)).await;
    let later = cache.catalog(&store, &["loan.created"]).await.expect("read");

    assert!(later.contains("loan.created"), "a type created since is publishable");
    assert_eq!(store.reads_of("list_event_types"), 2);
}

#[tokio::test]
async fn when_a_key_is_presented_again_within_a_minute_should_not_read_it_again() {
    let store = MemoryStore::default();
    let key = NewApiKey::of(KeySpec::account(ACCOUNT, Environment::Production, "k"), Utc::now());
    store.add_key(key.record.clone());
    let cache = RoutingCache::default();

    for _ in 0..5 {
        assert_eq!(cache.key(&store, &key.plaintext).await.expect("read"), Some(key.record.clone()));
        assert_eq!(cache.key(&store, "hl_prod_unknown").await.expect("read"), None);
    }

    assert_eq!(store.reads_of("find_api_key"), 2, "one read per key, known or not");
}
