//! Hookline's domain: the model, the error type, JSON:API documents. Pure: no AWS, no Lambda.

pub mod error;
pub mod http;
pub mod jsonapi;
pub mod model;

pub use error::{Error, Problem, Result, Source};
