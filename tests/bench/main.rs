//! `hookline-bench` (run by `make bench`): measures Hookline and prints one table, each figure
//! with how it was measured and its goal. Figures, not pass/fail tests.

mod calls;
mod e2e;
mod init;
mod meter;
mod report;
mod scale;
mod throttle;

use report::Row;

fn main() {
    // Transformations measured here run in this very binary, started as their sandbox.
    hookline_transform::serve_if_asked();
    run();
}

#[tokio::main]
async fn run() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|name| name == part);
    let mut rows: Vec<Row> = Vec::new();
    if wanted("init") {
        rows.extend(init::run().await);
    }
    if wanted("calls") {
        rows.extend(calls::run().await);
    }
    if wanted("scale") {
        rows.extend(scale::run().await);
    }
    if wanted("throttle") {
        rows.extend(throttle::run().await);
    }
    if wanted("e2e") {
        rows.extend(e2e::run().await);
    }
    report::print(&rows);
}
