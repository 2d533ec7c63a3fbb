//! The `api` Lambda: wires the context and the HTTP client (for the test send), and runs the router.

use lambda_http::{Error, run, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let context = hookline_aws::Context::from_env().await?;
    run(hookline_api::router(context)?).await
}
