//! The SDK configuration for an emulator endpoint: the production code path, pointed at
//! `endpoint` exactly as `AWS_ENDPOINT_URL` would point it, with dummy credentials.

use aws_sdk_dynamodb::config::{Credentials, Region};

/// The region the local stack uses.
pub const LOCAL_REGION: &str = "us-east-1";

/// An SDK configuration for the emulator at `endpoint`.
pub async fn emulator_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "hookline-local"))
        .load()
        .await
}
