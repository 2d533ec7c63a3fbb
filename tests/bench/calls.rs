//! AWS requests per delivered webhook and the cost model (filled in by its own part).
use crate::report::Row;
/// Counts AWS requests and prices them.
pub async fn run() -> Vec<Row> { Vec::new() }
