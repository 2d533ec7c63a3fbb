//! An SDK interceptor that counts every AWS request by service and operation and sums the
//! time spent waiting on them, for the request counts, the cost model and the latency share.
//! It also asks DynamoDB for each call's consumed capacity (`ReturnConsumedCapacity`, added
//! to the request: Hookline's own code does not ask for it) and adds it up.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
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
    /// DynamoDB's `ConsumedCapacity`, summed (read or write units, by the operation).
    pub capacity_units: f64,
    /// Responses that reported a consumed capacity.
    pub capacity_reports: u64,
}

/// The DynamoDB operations that take `ReturnConsumedCapacity`.
const CAPACITY_OPERATIONS: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
];

/// The capacity units of a response's `ConsumedCapacity` (one object, or one per table).
fn consumed_units(body: &[u8]) -> Option<f64> {
    let response: serde_json::Value = serde_json::from_slice(body).ok()?;
    let units = |report: &serde_json::Value| report.get("CapacityUnits").and_then(serde_json::Value::as_f64);
    match response.get("ConsumedCapacity")? {
        serde_json::Value::Array(reports) => Some(reports.iter().filter_map(units).sum()),
        report => units(report),
    }
}

/// Counts requests; clone it into every client.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    tallies: Arc<Mutex<BTreeMap<(String, String), Tally>>>,
    /// Write units by partition key (the `pk` of each item written), estimated from the
    /// item's bytes: one unit per KB, at least one.
    partition_writes: Arc<Mutex<BTreeMap<String, f64>>>,
}

/// The items a DynamoDB write request writes: (partition key, approximate item bytes).
fn written_items(operation: &str, body: &serde_json::Value) -> Vec<(String, usize)> {
    let item = |item: &serde_json::Value| {
        let pk = item.pointer("/pk/S").and_then(serde_json::Value::as_str)?;
        Some((pk.to_string(), item.to_string().len()))
    };
    match operation {
        "PutItem" => body.get("Item").and_then(item).into_iter().collect(),
        "UpdateItem" | "DeleteItem" => body.get("Key").and_then(item).into_iter().collect(),
        "BatchWriteItem" => body
            .get("RequestItems")
            .and_then(serde_json::Value::as_object)
            .into_iter()
            .flat_map(|tables| tables.values())
            .filter_map(serde_json::Value::as_array)
            .flatten()
            .filter_map(|request| request.pointer("/PutRequest/Item").or_else(|| request.pointer("/DeleteRequest/Key")))
            .filter_map(item)
            .collect(),
        _ => Vec::new(),
    }
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

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = names(cfg);
        if !service.eq_ignore_ascii_case("dynamodb") || !CAPACITY_OPERATIONS.contains(&operation.as_str()) {
            return Ok(());
        }
        let request = context.request_mut();
        let Some(mut body) =
            request.body().bytes().and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        else {
            return Ok(());
        };
        body["ReturnConsumedCapacity"] = serde_json::Value::from("TOTAL");
        let bytes = serde_json::to_vec(&body)?;
        request.headers_mut().insert("content-length", bytes.len().to_string());
        *request.body_mut() = aws_smithy_types::body::SdkBody::from(bytes);
        Ok(())
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
        if service.eq_ignore_ascii_case("dynamodb")
            && let Ok(request) = serde_json::from_slice::<serde_json::Value>(body)
        {
            let mut partitions = self.partition_writes.lock().map_err(|_| "meter poisoned")?;
            for (pk, bytes) in written_items(&operation, &request) {
                *partitions.entry(pk).or_default() += (bytes as f64 / 1024.0).ceil().max(1.0);
            }
        }
        let mut tallies = self.tallies.lock().map_err(|_| "meter poisoned")?;
        let tally = tallies.entry((service, operation)).or_default();
        tally.requests += 1;
        tally.request_bytes += body.len() as u64;
        tally.items_written += items;
        Ok(())
    }

    // After deserialization: before it, the response body is still a stream.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.response().body().bytes().unwrap_or_default();
        let (service, operation) = names(cfg);
        let mut tallies = self.tallies.lock().map_err(|_| "meter poisoned")?;
        let tally = tallies.entry((service, operation)).or_default();
        tally.response_bytes += body.len() as u64;
        if let Some(units) = consumed_units(body) {
            tally.capacity_units += units;
            tally.capacity_reports += 1;
        }
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

    /// Write units so far, by partition key.
    pub fn partition_writes(&self) -> BTreeMap<String, f64> {
        self.partition_writes.lock().map(|partitions| partitions.clone()).unwrap_or_default()
    }

    /// Forgets everything counted so far.
    pub fn reset(&self) {
        if let Ok(mut tallies) = self.tallies.lock() {
            tallies.clear();
        }
        if let Ok(mut partitions) = self.partition_writes.lock() {
            partitions.clear();
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

    /// Meters `stack`: its context's clients report here, and its DynamoDB moves to a fresh
    /// table on DynamoDB Local when that can run (the official engine computes consumed
    /// capacity as DynamoDB does). SQS stays on the stack's emulator. Returns whether DynamoDB
    /// Local is in use.
    pub async fn instrument(&self, stack: &mut hookline_tests::Stack) -> bool {
        let mut settings = stack.context.settings.clone();
        let Some(local) = hookline_tests::dynamodb_local() else {
            stack.context = self.context(settings, &stack.sdk);
            return false;
        };
        let endpoints = hookline_local_runner::sdk::Endpoints {
            dynamodb: local.to_string(),
            sqs: hookline_tests::local_aws().sqs.clone(),
        };
        let sdk = hookline_local_runner::sdk::emulator_config(&endpoints).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        let tables = hookline_local_runner::provision_tables(
            &hookline_tests::template(),
            &client,
            &hookline_tests::unique_prefix(),
        )
        .await
        .expect("tables on DynamoDB Local");
        settings.table_name = tables.table_name("HooklineTable").expect("table").to_string();
        stack.context = self.context(settings, &sdk);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_response_reports_capacity_should_sum_it_whether_one_or_per_table() {
        assert_eq!(consumed_units(br#"{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.5}}"#), Some(1.5));
        assert_eq!(
            consumed_units(br#"{"ConsumedCapacity":[{"CapacityUnits":10.0},{"CapacityUnits":2.0}]}"#),
            Some(12.0)
        );
        assert_eq!(consumed_units(br#"{"Item":{}}"#), None);
    }
}
