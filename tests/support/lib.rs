//! Fixtures of the integration tests: emulators started once per test binary on free ports
//! (killed with the process), and resources with unique names so that tests run in parallel.

pub mod receiver;

use hookline_aws::{Context, Store};
use hookline_deliver::Deliverer;

/// The allowlist of the tests: loopback, where their receivers listen.
pub const LOOPBACK: &str = "127.0.0.0/8,::1/128";
use hookline_local_runner::emulator::{Emulator, EmulatorError, LocalAws, free_port, java_available};
use hookline_local_runner::sdk::Endpoints;
use hookline_local_runner::{Provisioned, Template, provision, provision_tables, sdk};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc;

/// Runs futures as concurrent tasks and returns their outputs in order.
pub async fn join_spawned<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project's `template.yaml`.
pub fn template() -> Template {
    Template::load(&root().join("template.yaml")).expect("template.yaml loads")
}

/// A prefix no other test (or test run) uses.
pub fn unique_prefix() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Starts emulators on a thread that lives as long as the process: they are killed when the
/// process ends (they die with the thread that started them). Retries a port race; answers
/// what `describe` says of them (their endpoints).
fn start_for_process<T, R>(
    start: impl Fn() -> Result<T, EmulatorError> + Send + 'static,
    describe: impl Fn(&T) -> R + Send + 'static,
) -> Result<R, String>
where
    R: Send + 'static,
{
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut last_error = String::new();
        for _ in 0..3 {
            match start() {
                Ok(emulators) => {
                    let _ = sender.send(Ok(describe(&emulators)));
                    loop {
                        std::thread::park();
                    }
                }
                Err(error) => last_error = error.to_string(),
            }
        }
        let _ = sender.send(Err(last_error));
    });
    receiver.recv().map_err(|error| error.to_string())?
}

/// The local stack's emulators of this test binary (fauxqs for SQS, ministack for DynamoDB).
pub fn local_aws() -> &'static Endpoints {
    &running_local_aws().0
}

/// The process ids of [`local_aws`]'s emulators: (SQS, DynamoDB).
pub fn local_aws_pids() -> (u32, u32) {
    running_local_aws().1
}

fn running_local_aws() -> &'static (Endpoints, (u32, u32)) {
    static LOCAL: OnceLock<(Endpoints, (u32, u32))> = OnceLock::new();
    LOCAL.get_or_init(|| {
        start_for_process(
            || LocalAws::start(&root().join("tools"), None, None),
            |local| (local.endpoints(), (local.sqs.pid(), local.dynamodb.pid())),
        )
        .unwrap_or_else(|error| panic!("the local emulators did not start: {error}"))
    })
}

/// The DynamoDB Local engine of this test binary, or `None` where it cannot run here (no java
/// or no jar): then a loud line says so. On CI (`CI` set) its absence fails the test instead.
pub fn dynamodb_local() -> Option<&'static str> {
    static LOCAL: OnceLock<Option<String>> = OnceLock::new();
    LOCAL
        .get_or_init(|| {
            let dir = root().join("tools/dynamodb-local/engine");
            let missing = if !java_available() {
                Some("java is not installed".to_string())
            } else if !dir.join("DynamoDBLocal.jar").exists() {
                Some(format!("{} has no DynamoDBLocal.jar (run scripts/dynamodb-local.sh)", dir.display()))
            } else {
                None
            };
            if let Some(reason) = missing {
                assert!(std::env::var_os("CI").is_none(), "DynamoDB Local is required on CI: {reason}");
                eprintln!("\n!!!!! SKIPPING the DynamoDB Local half of the store suite: {reason} !!!!!\n");
                return None;
            }
            let started = start_for_process(
                move || Emulator::dynamodb_local(&root().join("tools/dynamodb-local/engine"), free_port()),
                Emulator::endpoint,
            );
            Some(started.unwrap_or_else(|error| panic!("DynamoDB Local did not start: {error}")))
        })
        .as_deref()
}

/// A webhook of `account_id` delivering `events` to `url`: named `hook {id}`, enabled, in
/// production, signed with hmac by a fresh secret, no scopes or custom headers, version 1.
/// Tests change what matters to them with struct update syntax.
pub fn webhook(
    account_id: u64,
    id: u64,
    url: &str,
    events: Vec<hookline_domain::model::EventSubscription>,
) -> hookline_domain::model::Webhook {
    use hookline_domain::model::{Audit, Environment, SignatureAlgo, Webhook, WebhookStatus};
    let now = chrono::Utc::now();
    Webhook {
        id,
        account_id,
        name: format!("hook {id}"),
        url: url.to_string(),
        secret: hookline_domain::signing::generate_key(SignatureAlgo::Hmac),
        events,
        scopes: Default::default(),
        headers: Default::default(),
        signature_algo: SignatureAlgo::Hmac,
        environment: Environment::Production,
        status: WebhookStatus::Enabled,
        disabled_reason: None,
        previous_secrets: Vec::new(),
        retry_schedule: None,
        timeout_seconds: None,
        rate_limit: None,
        transformation: None,
        ordering: hookline_domain::model::Ordering::None,
        failing_since: None,
        created_by: Audit::default(),
        updated_by: Audit::default(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A store on a fresh table (created from the template) at the DynamoDB `endpoint`.
pub async fn fresh_store(endpoint: &str) -> Store {
    let sdk = sdk::emulator_config(&Endpoints { dynamodb: endpoint.to_string(), sqs: local_aws().sqs.clone() }).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let provisioned = provision_tables(&template(), &client, &unique_prefix()).await.expect("tables provisioned");
    Store::new(client, provisioned.table_name("HooklineTable").expect("table"))
}

/// Serves `context` on a free port through the local runner, for the life of the test.
pub async fn serve_context(context: Context) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    std::mem::forget(stop);
    let routes = hookline_local_runner::runner::Routes::new(&context).expect("routers");
    tokio::spawn(hookline_local_runner::runner::serve_http(listener, routes, stopped));
    format!("http://{address}")
}

/// A whole stack (table and queues from the template) on the local emulators, with the
/// functions' context.
pub struct Stack {
    /// What the handlers get.
    pub context: Context,
    /// What was created.
    pub provisioned: Provisioned,
    /// The SDK configuration for the emulators.
    pub sdk: aws_config::SdkConfig,
    /// The operator keys its clients register event types with, by table (a bench may move the
    /// stack's context to another table).
    platform_keys: PlatformKeys,
}

type PlatformKeys = std::sync::Arc<tokio::sync::Mutex<std::collections::HashMap<String, String>>>;

/// A stack's operator key, made at its first use (with the platform's account) in the table of
/// its store: what [`Client::register_event_type`] writes the platform's catalog with.
#[derive(Clone)]
pub struct PlatformKey {
    store: Store,
    keys: PlatformKeys,
}

impl PlatformKey {
    /// The key in full.
    pub async fn key(&self) -> String {
        let mut keys = self.keys.lock().await;
        if let Some(key) = keys.get(self.store.table()) {
            return key.clone();
        }
        let production = hookline_domain::model::Environment::Production;
        let key = hookline_local_runner::operator::create_operator_key(&self.store, production, "tests", None)
            .await
            .expect("operator key");
        keys.insert(self.store.table().to_string(), key.clone());
        key
    }
}

/// The transformation sandbox of a test harness (`target/…/deps/it-…`): the package's
/// `transform-sandbox` binary beside `deps/`. Any other executable (the bench) serves itself.
pub fn transform_sandbox() -> Option<std::path::PathBuf> {
    let executable = std::env::current_exe().ok()?;
    let deps = executable.parent().filter(|dir| dir.ends_with("deps"))?;
    Some(deps.parent()?.join("transform-sandbox"))
}

impl Stack {
    /// Provisions a fresh stack on this binary's emulators.
    pub async fn new() -> Self {
        Self::on(local_aws()).await
    }

    /// Provisions a fresh stack on the emulators at `endpoints`.
    pub async fn on(endpoints: &Endpoints) -> Self {
        let sdk = sdk::emulator_config(endpoints).await;
        let template = template();
        let provisioned = provision(&template, &sdk, &unique_prefix()).await.expect("stack provisioned");
        let mut settings = provisioned.settings(&template, "ApiFunction").expect("settings");
        // Receivers of the tests listen on loopback, which the SSRF guard refuses by default.
        settings.allowed_target_cidrs = LOOPBACK.into();
        settings.transform_sandbox = transform_sandbox();
        // Erasures' sweeps wait out the deliveries in flight: a second here, where none runs long.
        settings.erasure_sweep_seconds = 1;
        Self { context: Context::new(settings, &sdk), provisioned, sdk, platform_keys: Default::default() }
    }

    /// The operator key of this stack's platform, in the table of its context.
    pub fn platform(&self) -> PlatformKey {
        PlatformKey { store: self.context.store.clone(), keys: self.platform_keys.clone() }
    }

    /// Puts the event type `name` in the platform's catalog straight through the store (one
    /// there is kept): no operator key, so no platform account either, whose operational events
    /// would add to what a bench counts.
    pub async fn put_event_type(&self, name: &str) {
        let now = chrono::Utc::now();
        let kind = hookline_domain::model::EventType {
            name: name.into(),
            description: name.into(),
            group: String::new(),
            schema: None,
            example: None,
            deprecated: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        match self.context.store.create_event_type(&kind).await {
            Ok(()) | Err(hookline_domain::Error::Conflict(_)) => {}
            Err(error) => panic!("registering {name}: {error}"),
        }
    }

    /// The delivery engine on this stack (its HTTP client allows loopback).
    pub fn deliverer(&self) -> Deliverer {
        hookline_deliver::deliverer(&self.context).expect("deliverer")
    }

    /// The URL of a queue of the template.
    pub fn queue_url(&self, logical_id: &str) -> String {
        self.provisioned.queue_url(logical_id).expect("queue").to_string()
    }
}

/// An HTTP client of a stack served by the local runner, acting with one account's key.
pub struct Client {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// The bearer key.
    pub key: String,
    /// The account an operator key acts for (`hookline-account`), if any.
    pub account: Option<String>,
    /// The operator key of the platform's catalog, for [`Client::register_event_type`]; this
    /// client's own key (an operator key) when `None`.
    pub platform: Option<PlatformKey>,
    http: reqwest::Client,
}

/// A response: status, headers, and the body as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The JSON body.
    pub body: serde_json::Value,
}

impl Reply {
    /// The `code` and `source.pointer` (or `source.parameter`, or `source.header`) of each error.
    pub fn errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|error| {
                let source = error["source"]["pointer"]
                    .as_str()
                    .or(error["source"]["parameter"].as_str())
                    .or(error["source"]["header"].as_str())
                    .unwrap_or("");
                (error["code"].as_str().unwrap_or("").to_string(), source.to_string())
            })
            .collect()
    }
}

impl Stack {
    /// Serves this stack on a free port through the local runner (stopped with the test).
    pub async fn serve(&self) -> String {
        serve_context(self.context.clone()).await
    }

    /// Runs the delivery queue through `deliverer` as Lambda's event source would, until
    /// `done` holds or `limit` passes; returns whether `done` held.
    pub async fn drive_until<F, Fut>(&self, deliverer: &Deliverer, limit: std::time::Duration, done: F) -> bool
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = std::time::Instant::now();
        let arn = "arn:aws:sqs:us-east-1:123456789012:hookline-DeliveryQueue";
        while started.elapsed() < limit {
            if done().await {
                return true;
            }
            let received = self.context.queue.receive(10, std::time::Duration::from_secs(1)).await.expect("receive");
            if !received.is_empty() {
                hookline_local_runner::runner::run_batch(deliverer, arn, received).await;
            }
        }
        done().await
    }

    /// Where a delivery stands (`None` before its first attempt is recorded).
    pub async fn delivery_status(
        &self,
        account_id: u64,
        message_id: &str,
        webhook_id: u64,
    ) -> Option<hookline_domain::model::DeliveryStatus> {
        let entry = self.context.store.get_log_entry(account_id, message_id, webhook_id).await.expect("read");
        entry.and_then(|entry| entry.status)
    }

    /// Every task waiting on the delivery queue, received and deleted.
    pub async fn drain_tasks(&self) -> Vec<hookline_domain::model::Task> {
        let queue = &self.context.queue;
        let mut tasks = Vec::new();
        let mut empty_polls = 0;
        while empty_polls < 2 {
            let received = queue.receive(10, std::time::Duration::from_millis(200)).await.expect("receive");
            if received.is_empty() {
                empty_polls += 1;
                continue;
            }
            empty_polls = 0;
            let handles: Vec<String> = received.iter().map(|message| message.receipt_handle.clone()).collect();
            tasks.extend(
                received.iter().map(|message| hookline_domain::model::Task::from_body(&message.body).expect("task")),
            );
            queue.delete(&handles).await.expect("delete");
        }
        tasks
    }

    /// A new account with a key of `environment`, and a client using it.
    pub async fn client(&self, base: &str, environment: hookline_domain::model::Environment) -> Client {
        let store = &self.context.store;
        let id = store.next_account_id().await.expect("account id");
        let key = hookline_domain::model::NewApiKey::generate(id, environment, "tests", chrono::Utc::now());
        store.create_account("tests", &key).await.expect("account");
        Client { platform: Some(self.platform()), ..Client::new(base, key.plaintext) }
    }

    /// A client with a new operator key of this stack's platform (made if missing).
    pub async fn operator(&self, base: &str) -> Client {
        let key = hookline_local_runner::operator::create_operator_key(
            &self.context.store,
            hookline_domain::model::Environment::Production,
            "tests",
            None,
        )
        .await
        .expect("operator key");
        Client { platform: Some(self.platform()), ..Client::new(base, key) }
    }
}

impl Client {
    /// A client of `base` with `key`.
    pub fn new(base: &str, key: String) -> Client {
        Client { base: base.to_string(), key, account: None, platform: None, http: reqwest::Client::new() }
    }

    /// The same account's key on another server (e.g. a stack with a broken queue).
    pub fn at(&self, base: &str) -> Client {
        Client {
            base: base.to_string(),
            key: self.key.clone(),
            account: self.account.clone(),
            platform: self.platform.clone(),
            http: self.http.clone(),
        }
    }

    /// The same key naming `uid` in `hookline-account` (an operator acting for it).
    pub fn acting_for(&self, uid: &str) -> Client {
        Client { account: Some(uid.to_string()), ..self.at(&self.base) }
    }

    /// The same server with another key.
    pub fn with_key(&self, key: &str) -> Client {
        Client { key: key.to_string(), account: None, ..self.at(&self.base) }
    }

    /// Publishes an event (plain JSON) with an optional idempotency key.
    pub async fn publish(&self, event: serde_json::Value, idempotency_key: Option<&str>) -> Reply {
        let mut request = self
            .raw(reqwest::Method::POST, "/api/v3/notification/events")
            .header("content-type", "application/json")
            .body(event.to_string());
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        Self::reply(request.send().await.expect("publish")).await
    }

    /// Sends a request with this client's key; `body` as JSON:API when given.
    pub async fn send(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.raw(method, path);
        if let Some(body) = body {
            request = request.header("content-type", "application/vnd.api+json").body(body.to_string());
        }
        Self::reply(request.send().await.expect("request")).await
    }

    /// A raw request builder with this client's key (and `hookline-account`, if set).
    pub fn raw(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        match &self.account {
            Some(uid) => request.header("hookline-account", uid),
            None => request,
        }
    }

    /// Reads a response.
    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body =
            if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Reply { status, headers, body }
    }

    /// Makes sure the platform's catalog has the event type `name` (the stack's operator key
    /// registers it; one already there is kept as it is).
    pub async fn register_event_type(&self, name: &str) {
        let key = match &self.platform {
            Some(platform) => platform.key().await,
            None => self.key.clone(),
        };
        let operator = self.with_key(&key);
        let document =
            serde_json::json!({"data": {"type": "event_types", "attributes": {"name": name, "description": name}}});
        let reply = operator.send("POST", "/api/v3/event_types", Some(document)).await;
        assert!(matches!(reply.status, 201 | 409), "registering {name}: {} {:?}", reply.status, reply.body);
    }

    /// Creates a webhook with these attributes; returns its id.
    pub async fn create_webhook(&self, attributes: serde_json::Value) -> u64 {
        let reply = self
            .send(
                "POST",
                "/api/v3/notification/webhooks",
                Some(serde_json::json!({"data": {"type": "webhooks", "attributes": attributes}})),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body["data"]["id"].as_str().expect("id").parse().expect("integer id")
    }
}
