//! The data model: what Hookline stores and what its queue carries.

mod account;
mod erasure;
mod message;
mod task;
mod webhook;

pub use account::{
    Account, AccountId, ApiKey, Branding, Environment, KeyKind, KeySpec, MAX_UID, NewApiKey, PLATFORM_UID, Theme,
    hash_api_key, valid_uid,
};
pub use erasure::{Erasure, ErasureStatus, subject_digest, subject_mark};
pub use message::{Attempt, AttemptOutcome, Delivery, DeliveryStatus, LogEntry, Message, MessageId};
pub use task::{DeliverTask, EraseTask, FanoutTask, Task, WebhookRef};
pub use webhook::{
    Audit, DisabledReason, EventSubscription, EventType, Filters, Ordering, RetiredSecret, SignatureAlgo, Webhook,
    WebhookId, WebhookStatus,
};
