//! The `api` Lambda: wires the context and the HTTP client (for the test send), and runs the router.

use lambda_http::{Error, run, tracing};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let context = hookline_aws::Context::from_env().await?;
    let deliverer = hookline_delivery::worker::Deliverer::new(context)?;
    run(hookline_api::router(Arc::new(deliverer))).await
}
