//! Hookline's delivery engine: the guarded HTTP sender (SSRF guard on resolved addresses),
//! the retry schedule, and the worker that turns SQS tasks into signed HTTP POSTs.

pub mod guard;
pub mod sender;
pub mod worker;
