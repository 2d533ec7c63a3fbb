//! The `ingest` Lambda: wires the context and runs the handler.

use lambda_http::{Error, Request, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let context = hookline_aws::Context::from_env().await?;
    run(service_fn(|request: Request| async { Ok::<_, Error>(hookline_ingest::handle(&context, request).await) })).await
}
