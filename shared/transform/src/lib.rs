//! Webhook transformations: jq programs, run by jaq in a sandbox process that bounds each run
//! by a deadline and the process's memory cap, and is replaced when a run overruns or dies.
//! jaq has no evaluation budget of its own (a program may loop, recurse or allocate without
//! end, and even parsing a deeply nested one overflows the stack), hence the process.

pub mod jq;
pub mod sandbox;
mod serve;

pub use sandbox::{InProcess, Sandbox};

/// The argument that makes a Hookline binary serve as a sandbox instead of doing its job.
pub const SANDBOX_ARG: &str = "--transform-sandbox";

/// Serves as a sandbox, and exits, when this process was started as one; returns otherwise.
/// Every binary that runs transformations calls it first thing in `main`, before any runtime.
pub fn serve_if_asked() {
    if std::env::args().nth(1).as_deref() == Some(SANDBOX_ARG) {
        serve::serve();
        std::process::exit(0);
    }
}
