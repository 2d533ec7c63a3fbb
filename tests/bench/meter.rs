//! An SDK interceptor that counts every AWS request by service and operation and sums the
//! time spent waiting on them, for the request counts, the cost model and the latency share.

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the meter saw for one operation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    /// HTTP requests sent (SDK retries included).
    pub requests: u64,
    /// Time from sending to the response.
    pub waiting: Duration,
    /// Bytes of the request bodies.
    pub request_bytes: u64,
    /// Bytes of the response bodies.
    pub response_bytes: u64,
    /// Items written by batch and transaction calls (`PutRequest` and `Put` entries).
    pub items_written: u64,
}

/// Counts requests; clone it into every client.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    tallies: Arc<Mutex<BTreeMap<(String, String), Tally>>>,
}

#[derive(Debug, Clone, Copy)]
struct Sent(Instant);

impl aws_smithy_types::config_bag::Storable for Sent {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "hookline-bench-meter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Sent(Instant::now()));
        let body = context.request().body().bytes().unwrap_or_default();
        let text = String::from_utf8_lossy(body);
        let items = (text.matches("\"PutRequest\"").count() + text.matches("\"Put\"").count()) as u64;
        let (service, operation) = names(cfg);
        let mut tallies = self.tallies.lock().map_err(|_| "meter poisoned")?;
        let tally = tallies.entry((service, operation)).or_default();
        tally.requests += 1;
        tally.request_bytes += body.len() as u64;
        tally.items_written += items;
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let bytes = context.response().body().bytes().map_or(0, <[u8]>::len) as u64;
        let (service, operation) = names(cfg);
        let mut tallies = self.tallies.lock().map_err(|_| "meter poisoned")?;
        tallies.entry((service, operation)).or_default().response_bytes += bytes;
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Sent(at)) = cfg.load::<Sent>().copied() {
            let (service, operation) = names(cfg);
            let mut tallies = self.tallies.lock().map_err(|_| "meter poisoned")?;
            tallies.entry((service, operation)).or_default().waiting += at.elapsed();
        }
        Ok(())
    }
}

fn names(cfg: &ConfigBag) -> (String, String) {
    cfg.load::<Metadata>()
        .map(|metadata| (metadata.service().to_string(), metadata.name().to_string()))
        .unwrap_or_else(|| ("?".into(), "?".into()))
}

impl Meter {
    /// The tallies so far, by (service, operation).
    pub fn snapshot(&self) -> BTreeMap<(String, String), Tally> {
        self.tallies.lock().map(|tallies| tallies.clone()).unwrap_or_default()
    }

    /// Forgets everything counted so far.
    pub fn reset(&self) {
        if let Ok(mut tallies) = self.tallies.lock() {
            tallies.clear();
        }
    }

    /// Total requests so far.
    pub fn requests(&self) -> u64 {
        self.snapshot().values().map(|tally| tally.requests).sum()
    }

    /// Total time waiting on AWS so far (summed over concurrent calls).
    pub fn waiting(&self) -> Duration {
        self.snapshot().values().map(|tally| tally.waiting).sum()
    }

    /// A context whose DynamoDB and SQS clients report to this meter.
    pub fn context(&self, settings: hookline_aws::Settings, sdk: &aws_config::SdkConfig) -> hookline_aws::Context {
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(self.clone()).build(),
        );
        let sqs =
            aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(sdk).interceptor(self.clone()).build());
        hookline_aws::Context::with_clients(settings, dynamodb, sqs)
    }
}
