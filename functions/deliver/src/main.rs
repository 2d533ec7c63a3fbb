//! The `deliver` Lambda: wires the context and the HTTP client, and runs the SQS handler.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};

fn main() -> Result<(), Error> {
    // Started as the transformation sandbox (by its own deliveries), it serves and exits.
    hookline_transform::serve_if_asked();
    serve()
}

#[tokio::main]
async fn serve() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let context = hookline_aws::Context::from_env().await?;
    let deliverer = hookline_deliver::deliverer(&context)?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<_, Error>(hookline_deliver::handle(&deliverer, event.payload).await)
    }))
    .await
}
