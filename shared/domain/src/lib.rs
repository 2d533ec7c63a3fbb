//! Hookline's domain: the model, the error type, JSON:API documents. Pure: no AWS, no Lambda.

pub mod auth;
pub mod documents;
pub mod erasures;
pub mod error;
pub mod event_types;
pub mod events;
pub mod jsonapi;
pub mod matching;
pub mod messages;
pub mod model;
pub mod operational;
pub mod patch;
pub mod platform;
pub mod query;
pub mod retry;
pub mod signing;
pub mod stats;
pub mod transformations;
pub mod webhooks;

pub use error::{Error, Problem, Result, Source};
pub use patch::Patch;
