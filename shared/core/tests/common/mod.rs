//! What the core's policy tests share: the delivery flow on the in-memory ports.

use chrono::Duration;
use hookline_core::deliver::{Deliverer, DeliveryPolicy};
use hookline_core::memory::{MemoryQueue, MemoryStore, MemoryTransport};

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
