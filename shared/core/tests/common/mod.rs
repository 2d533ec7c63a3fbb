//! What the core's policy tests share: the delivery flow on the in-memory ports.

use chrono::{Duration, Utc};
use hookline_core::deliver::{Deliverer, DeliveryPolicy};
use hookline_core::memory::{MemoryQueue, MemoryStore, MemoryTransport};
use hookline_domain::model::{Environment, Message};
use serde_json::Value;

/// The account every test's records belong to.
pub const ACCOUNT: u64 = 7;

/// How long an erasure's sweep waits, in these tests.
pub const SWEEP: std::time::Duration = std::time::Duration::from_secs(120);

/// The delivery flow on the in-memory ports.
pub type World = Deliverer<MemoryStore, MemoryQueue, MemoryTransport>;

/// A delivery flow with empty ports, transformations run in this process.
pub fn world() -> World {
    let policy = DeliveryPolicy { retention_days: 30, disable_after: Duration::days(5), erasure_sweep: SWEEP };
    let transformer = std::sync::Arc::new(hookline_transform::InProcess);
    Deliverer::new(MemoryStore::default(), MemoryQueue::default(), MemoryTransport::default(), transformer, policy)
}

/// A message of the account's, of `loan.created`, accepted now, matched by one webhook.
pub fn message_with(payload: Value, subject: Option<&str>) -> Message {
    let now = Utc::now();
    Message {
        id: Message::new_id(),
        account_id: ACCOUNT,
        event_type: "loan.created".into(),
        environment: Environment::Production,
        payload,
        scopes: Default::default(),
        occurred_at: now,
        created_at: now,
        idempotency_key: None,
        matched: 1,
        subject: subject.map(str::to_string),
        erased_at: None,
    }
}
