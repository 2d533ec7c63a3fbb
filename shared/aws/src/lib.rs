//! Hookline's adapters to AWS: settings, the DynamoDB store and the SQS queue.

pub mod config;
pub mod context;
pub mod error;
pub mod keys;
mod ports;
pub mod queue;
pub mod store;

pub use config::{Settings, sdk_config};
pub use context::Context;
pub use queue::{Depth, Outgoing, Queue, Received};
pub use store::{IdempotencyRecord, LogFilter, Page, Store};
