//! Hookline's flows, written against small ports ([`ports`]) that the adapters implement:
//! authenticating a caller ([`auth`]), accepting events ([`accept`]), delivering them
//! ([`deliver`]), the log's actions ([`log`]), telling the platform what happens
//! ([`operational`]) and what ingest keeps between requests ([`routing`]). [`memory`] holds an in-memory
//! implementation of the ports, for fast tests of the policies; the emulator suites stay the
//! proof of the adapters.

pub mod accept;
pub mod auth;
pub mod deliver;
pub mod erase;
pub mod log;
pub mod memory;
pub mod operational;
pub mod ports;
pub mod routing;

pub use accept::{Accepted, Acceptor};
pub use auth::{Credentials, authenticate, authenticate_operator, authenticate_with_key};
pub use deliver::{Deliverer, DeliveryPolicy, Handled, Skip, slot_interval_us};
pub use ports::{
    AccountVersions, Accounts, DeliveryLog, ErasedMark, Erasures, EventTypes, Idempotency, IdempotencyRecord,
    KeyLookup, LogWriter, Outgoing, OutgoingRequest, RateLimits, SendOutcome, SubjectIndex, TaskQueue, Transport,
    Webhooks,
};
