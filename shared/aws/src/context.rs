//! What every handler needs, built once per process: settings, the store, the queue.

use crate::config::{Settings, sdk_config};
use crate::queue::Queue;
use crate::store::Store;
use hookline_domain::Result;

/// The resources of one process, shared by every invocation.
#[derive(Debug, Clone)]
pub struct Context {
    /// The settings read at start.
    pub settings: Settings,
    /// The DynamoDB store.
    pub store: Store,
    /// The SQS delivery queue.
    pub queue: Queue,
    /// What ingest keeps between requests in this container (keys, catalog, webhooks).
    pub routing: std::sync::Arc<hookline_core::routing::RoutingCache>,
    /// Runs webhooks' transformations (a child process, started on first use).
    pub transformer: std::sync::Arc<hookline_transform::Sandbox>,
}

impl Context {
    /// Builds the context from the environment: one SDK client of each kind.
    pub async fn from_env() -> Result<Self> {
        let settings = Settings::from_env()?;
        let sdk = sdk_config().await;
        Ok(Self::new(settings, &sdk))
    }

    /// Builds the context from settings and an SDK configuration.
    pub fn new(settings: Settings, sdk: &aws_config::SdkConfig) -> Self {
        Self::with_clients(settings, aws_sdk_dynamodb::Client::new(sdk), aws_sdk_sqs::Client::new(sdk))
    }

    /// The accepting flow on this context's store and queue.
    pub fn acceptor(&self) -> hookline_core::Acceptor<'_, Store, Queue> {
        hookline_core::Acceptor { store: &self.store, queue: &self.queue, retention_days: self.settings.retention_days }
    }

    /// The erasure flow on this context's store and queue.
    pub fn eraser(&self) -> hookline_core::erase::Eraser<'_, Store, Queue> {
        hookline_core::erase::Eraser {
            store: &self.store,
            queue: &self.queue,
            retention_days: self.settings.retention_days,
            sweep_after: std::time::Duration::from_secs(self.settings.erasure_sweep_seconds),
        }
    }

    /// The operational events' publisher on this context's store and queue.
    pub fn publisher(&self) -> hookline_core::operational::Publisher<'_, Store, Queue> {
        hookline_core::operational::Publisher {
            store: &self.store,
            queue: &self.queue,
            retention_days: self.settings.retention_days,
        }
    }

    /// The delivery flow on this context's store and queue, sending through `transport`.
    pub fn deliverer<T: hookline_core::Transport>(&self, transport: T) -> hookline_core::Deliverer<Store, Queue, T> {
        let policy = hookline_core::DeliveryPolicy {
            retention_days: self.settings.retention_days,
            disable_after: chrono::Duration::days(i64::from(self.settings.disable_after_days)),
            erasure_sweep: std::time::Duration::from_secs(self.settings.erasure_sweep_seconds),
        };
        hookline_core::Deliverer::new(
            self.store.clone(),
            self.queue.clone(),
            transport,
            self.transformer.clone(),
            policy,
        )
    }

    /// When a record made at `from` expires (the retention setting).
    pub fn retention_end(&self, from: chrono::DateTime<chrono::Utc>) -> i64 {
        hookline_core::accept::retention_end(self.settings.retention_days, from)
    }

    /// A context whose clients are never meant to be called (no credentials, a closed port):
    /// for unit tests of routers whose requests stop before the store.
    pub fn unreachable() -> Self {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let settings = Settings {
            table_name: "unreachable".into(),
            delivery_queue_url: "http://127.0.0.1:9/unreachable".into(),
            ordered_queue_url: None,
            retention_days: 30,
            allow_http_webhooks: false,
            allowed_target_cidrs: String::new(),
            disable_after_days: 5,
            portal_frame_ancestors: "'self'".into(),
            transform_sandbox: None,
            erasure_sweep_seconds: 120,
        };
        Self::new(settings, &sdk)
    }

    /// Builds the context from clients configured by the caller (e.g. with an interceptor
    /// that counts requests, in the benchmark).
    pub fn with_clients(settings: Settings, dynamodb: aws_sdk_dynamodb::Client, sqs: aws_sdk_sqs::Client) -> Self {
        let store = Store::new(dynamodb, settings.table_name.clone());
        let mut queue = Queue::new(sqs, settings.delivery_queue_url.clone());
        if let Some(ordered) = &settings.ordered_queue_url {
            queue = queue.with_ordered(ordered.clone());
        }
        let transformer = std::sync::Arc::new(hookline_transform::Sandbox::new(settings.transform_sandbox.clone()));
        Self { settings, store, queue, routing: std::sync::Arc::default(), transformer }
    }
}
