//! The `api` Lambda: wires the context and the HTTP client (for the test send), and runs the router.

use lambda_http::{Error, run, tracing};

fn main() -> Result<(), Error> {
    // Started as the transformation sandbox (by the test route's runs), it serves and exits.
    hookline_transform::serve_if_asked();
    serve()
}

#[tokio::main]
async fn serve() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let context = hookline_aws::Context::from_env().await?;
    run(hookline_api::router(context)?).await
}
