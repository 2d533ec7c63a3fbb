//! The SDK configuration for the local emulators: the production code path, pointed at each
//! service through the SDK's own endpoint settings (`AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL`), with dummy credentials.

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

/// The region the local stack uses.
pub const LOCAL_REGION: &str = "us-east-1";

/// Where each AWS service of the stack is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The DynamoDB endpoint, e.g. `http://127.0.0.1:4566`.
    pub dynamodb: String,
    /// The SQS endpoint.
    pub sqs: String,
}

impl Endpoints {
    /// Both services at one endpoint (what `AWS_ENDPOINT_URL` alone means).
    pub fn one(endpoint: &str) -> Self {
        Self { dynamodb: endpoint.to_string(), sqs: endpoint.to_string() }
    }

    /// The endpoints that the SDK's settings in this process's environment name, per service:
    /// `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS`, else `AWS_ENDPOINT_URL`.
    pub fn from_environment() -> (Option<String>, Option<String>) {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let shared = read("AWS_ENDPOINT_URL");
        (read("AWS_ENDPOINT_URL_DYNAMODB").or(shared.clone()), read("AWS_ENDPOINT_URL_SQS").or(shared))
    }

    /// The value the SDK would read from `AWS_ENDPOINT_URL_{SERVICE}` for this key.
    fn lookup(&self, key: &ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        match key.service_id().to_ascii_uppercase().as_str() {
            "DYNAMODB" => Some(self.dynamodb.clone()),
            "SQS" => Some(self.sqs.clone()),
            _ => None,
        }
    }
}

/// The per-service endpoint settings, given to the SDK as its environment would give them.
#[derive(Debug)]
struct ServiceEndpoints(Endpoints);

impl LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        self.0.lookup(&key)
    }
}

/// An SDK configuration whose DynamoDB and SQS clients reach `endpoints`.
pub async fn emulator_config(endpoints: &Endpoints) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "hookline-local"))
        .load()
        .await
        .into_builder()
        .service_config(ServiceEndpoints(endpoints.clone()))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Accepts one connection and answers what its request line and first headers said.
    async fn first_request(listener: tokio::net::TcpListener) -> String {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buffer = vec![0; 4096];
        let read = stream.read(&mut buffer).await.expect("read");
        String::from_utf8_lossy(&buffer[..read]).to_string()
    }

    #[tokio::test]
    async fn when_services_have_their_own_endpoints_should_send_each_service_to_its_own() {
        let dynamodb = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let sqs = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoints = Endpoints {
            dynamodb: format!("http://{}", dynamodb.local_addr().expect("address")),
            sqs: format!("http://{}", sqs.local_addr().expect("address")),
        };
        let sdk = emulator_config(&endpoints).await;
        let dynamodb_seen = tokio::spawn(first_request(dynamodb));
        let sqs_seen = tokio::spawn(first_request(sqs));
        // The listeners never answer: each call times out once its request has been seen.
        let timeout = std::time::Duration::from_millis(300);
        let _ = tokio::time::timeout(timeout, aws_sdk_dynamodb::Client::new(&sdk).list_tables().send()).await;
        let _ = tokio::time::timeout(timeout, aws_sdk_sqs::Client::new(&sdk).list_queues().send()).await;
        assert!(dynamodb_seen.await.expect("task").contains("DynamoDB_20120810.ListTables"));
        assert!(sqs_seen.await.expect("task").contains("AmazonSQS.ListQueues"));
    }
}
