//! Hookline's flows, written against small ports ([`ports`]) that the AWS adapters implement:
//! authenticating a caller ([`auth`]) and accepting events ([`accept`]). [`memory`] holds an
//! in-memory implementation of the ports, for fast tests of the policies; the emulator suites
//! stay the proof of the adapters.

pub mod accept;
pub mod auth;
pub mod memory;
pub mod ports;

pub use accept::{Accepted, Acceptor};
pub use auth::authenticate;
pub use ports::{Idempotency, IdempotencyRecord, KeyLookup, LogWriter, Outgoing, TaskQueue};
