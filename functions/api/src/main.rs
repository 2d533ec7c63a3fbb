//! The `api` Lambda: wires the context and the HTTP client (for the test send), and runs the handler.

use lambda_http::{Error, Request, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let context = hookline_aws::Context::from_env().await?;
    let deliverer = hookline_delivery::worker::Deliverer::new(context)?;
    run(service_fn(|request: Request| async { Ok::<_, Error>(hookline_api::handle(&deliverer, request).await) })).await
}
