//! Fixtures of the integration tests: emulators started once per test binary on free ports
//! (killed with the process), and resources with unique names so that tests run in parallel.

use hookline_aws::{Context, Store};
use hookline_devstack::emulator::{Emulator, EmulatorError, free_port};
use hookline_devstack::{Provisioned, Template, provision, provision_tables, sdk};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc;

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

/// Starts an emulator on a thread that lives as long as the process: the emulator is killed
/// when the process ends (it dies with the thread that started it). Retries a port race.
fn start_for_process(start: fn(u16) -> Result<Emulator, EmulatorError>) -> Result<String, String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut last_error = String::new();
        for _ in 0..3 {
            match start(free_port()) {
                Ok(emulator) => {
                    let _ = sender.send(Ok(emulator.endpoint()));
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

/// The moto server of this test binary.
pub fn moto() -> &'static str {
    static MOTO: OnceLock<String> = OnceLock::new();
    MOTO.get_or_init(|| {
        start_for_process(|port| Emulator::moto(&root().join(".venv"), port))
            .unwrap_or_else(|error| panic!("moto did not start: {error}"))
    })
}

/// The DynamoDB Local engine of this test binary, or `None` where it cannot run here (no java
/// or no jar): then a loud line says so. On CI (`CI` set) its absence fails the test instead.
pub fn dynamodb_local() -> Option<&'static str> {
    static LOCAL: OnceLock<Option<String>> = OnceLock::new();
    LOCAL
        .get_or_init(|| {
            let java =
                std::process::Command::new("java").arg("-version").output().is_ok_and(|out| out.status.success());
            let dir = root().join(".tools/dynamodb-local");
            let missing = if !java {
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
            let started =
                start_for_process(|port| Emulator::dynamodb_local(&root().join(".tools/dynamodb-local"), port));
            Some(started.unwrap_or_else(|error| panic!("DynamoDB Local did not start: {error}")))
        })
        .as_deref()
}

/// A store on a fresh table (created from the template) at `endpoint`.
pub async fn fresh_store(endpoint: &str) -> Store {
    let sdk = sdk::emulator_config(endpoint).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let provisioned = provision_tables(&template(), &client, &unique_prefix()).await.expect("tables provisioned");
    Store::new(client, provisioned.table_name("HooklineTable").expect("table"))
}

/// A whole stack (table and queues from the template) on moto, with the functions' context.
pub struct Stack {
    /// What the handlers get.
    pub context: Context,
    /// What was created.
    pub provisioned: Provisioned,
    /// The SDK configuration for moto.
    pub sdk: aws_config::SdkConfig,
}

impl Stack {
    /// Provisions a fresh stack on this binary's moto.
    pub async fn new() -> Self {
        let sdk = sdk::emulator_config(moto()).await;
        let template = template();
        let provisioned = provision(&template, &sdk, &unique_prefix()).await.expect("stack provisioned");
        let settings = provisioned.settings(&template, "ApiFunction").expect("settings");
        Self { context: Context::new(settings, &sdk), provisioned, sdk }
    }

    /// The URL of a queue of the template.
    pub fn queue_url(&self, logical_id: &str) -> String {
        self.provisioned.queue_url(logical_id).expect("queue").to_string()
    }
}
