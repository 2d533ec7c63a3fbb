//! Hookline's flows, written against small ports ([`ports`]) that the adapters implement:
//! authenticating a caller ([`auth`]), accepting events ([`accept`]), delivering them
//! ([`deliver`]), the log's actions ([`log`]) and telling the platform what happens
//! ([`operational`]). [`memory`] holds an in-memory
//! implementation of the ports, for fast tests of the policies; the emulator suites stay the
//! proof of the adapters.

pub mod accept;
pub mod auth;
pub mod deliver;
pub mod log;
pub mod memory;
pub mod operational;
pub mod ports;

pub use accept::{Accepted, Acceptor};
pub use auth::{Credentials, authenticate, authenticate_operator, authenticate_with_key};
pub use deliver::{Deliverer, DeliveryPolicy, Handled, Skip};
pub use ports::{
    Accounts, DeliveryLog, Idempotency, IdempotencyRecord, KeyLookup, LogWriter, Outgoing, OutgoingRequest,
    SendOutcome, TaskQueue, Transport, Webhooks,
};
