//! The outbound HTTP client every call to a customer's endpoint goes through: the SSRF guard
//! on resolved addresses ([`guard`]) and the guarded sender that classifies a POST into an
//! attempt outcome ([`sender`]). It implements the core's `Transport` port.

pub mod guard;
pub mod sender;

pub use sender::{Sender, SenderConfig};
