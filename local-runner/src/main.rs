//! `hookline-local`: the local stack (`dev`) and the operator's tools (`create-operator-key`,
//! `create-account`, `migrate`).

use hookline_aws::Context;
use hookline_domain::model::Environment;
use hookline_local_runner::emulator::{LocalAws, ensure_port_free};
use hookline_local_runner::sdk::Endpoints;
use hookline_local_runner::{Template, operator, provision, runner, sdk};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage:
  hookline-local dev
      Starts the emulators (fauxqs for SQS, ministack for DynamoDB, from tools/), provisions
      template.yaml, creates a dev account and key, serves the API on http://127.0.0.1:$PORT
      (default 3000) and drives deliveries from SQS. Ctrl-C stops it all.
      Environment: PORT, DEV_API_KEY, TEMPLATE (default template.yaml), HOOKLINE_TOOLS (default
      tools), SQS_PORT and DYNAMODB_PORT (default: free ports), DELIVER_POLLERS (default 5),
      DELIVER_MAX_CONCURRENCY (default: the template's DeliverMaxConcurrency);
      AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL: use that endpoint
      instead of starting an emulator; DEV_OPERATOR_KEY.
  hookline-local create-operator-key [--environment production|sandbox] [--label LABEL]
      Makes the platform's own account (uid `platform`) if missing and an operator key, in the
      table TABLE_NAME at AWS_ENDPOINT_URL (or real AWS when it is unset); prints the key once.
  hookline-local migrate
      Gives accounts made before uids their uid (their id) and their place in the account
      list, and copies the event types accounts registered into the platform's one catalog
      (the first definition of a name wins; conflicts go to stderr), in the same table.
      Idempotent; `dev` runs it at start.
  hookline-local create-account NAME [--environment production|sandbox] [--label LABEL]
      Creates an account and its first API key in the table TABLE_NAME at AWS_ENDPOINT_URL
      (or real AWS when it is unset) and prints the key once.";

/// The logical ids in `template.yaml` the runner needs.
const API_FUNCTION: &str = "ApiFunction";
const DELIVERY_QUEUE: &str = "DeliveryQueue";
const ORDERED_QUEUE: &str = "OrderedDeliveryQueue";

fn main() -> ExitCode {
    // Started as the transformation sandbox (by its own API and deliveries), it serves and exits.
    hookline_transform::serve_if_asked();
    run()
}

#[tokio::main]
async fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") | None => dev().await,
        Some("create-account") => create_account(&args[1..]).await,
        Some("create-operator-key") => create_operator_key(&args[1..]).await,
        Some("migrate") => migrate().await,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hookline-local: {message}");
            ExitCode::FAILURE
        }
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| default.to_string())
}

fn env_port(name: &str) -> Result<Option<u16>, String> {
    env_number(name)
}

fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name).ok().filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| format!("{name} must be a positive number, not {text:?}")),
    }
}

async fn dev() -> Result<(), String> {
    let port = env_port("PORT")?.unwrap_or(3000);
    // Take the API port first: if it is taken, fail before starting anything.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|error| format!("cannot listen on 127.0.0.1:{port} ({error}); set PORT to a free port"))?;
    let template_path = PathBuf::from(env_or("TEMPLATE", "template.yaml"));
    let template = Template::load(&template_path).map_err(|error| error.to_string())?;

    let (dynamodb, sqs) = Endpoints::from_environment();
    let started = match (&dynamodb, &sqs) {
        (Some(_), Some(_)) => None,
        _ => {
            let tools = PathBuf::from(env_or("HOOKLINE_TOOLS", "tools"));
            let (sqs_port, dynamodb_port) = (env_port("SQS_PORT")?, env_port("DYNAMODB_PORT")?);
            for (name, port) in [("SQS_PORT", sqs_port), ("DYNAMODB_PORT", dynamodb_port)] {
                if let Some(port) = port {
                    ensure_port_free(port).map_err(|error| format!("{error}; set {name}"))?;
                }
            }
            Some(LocalAws::start(&tools, sqs_port, dynamodb_port).map_err(|error| error.to_string())?)
        }
    };
    let endpoints = match &started {
        Some(local) => {
            let mine = local.endpoints();
            Endpoints { dynamodb: dynamodb.unwrap_or(mine.dynamodb), sqs: sqs.unwrap_or(mine.sqs) }
        }
        None => Endpoints { dynamodb: dynamodb.unwrap_or_default(), sqs: sqs.unwrap_or_default() },
    };
    let sdk = sdk::emulator_config(&endpoints).await;
    let provisioned = provision(&template, &sdk, "hookline-dev").await.map_err(|error| error.to_string())?;
    let mut settings = provisioned.settings(&template, API_FUNCTION).map_err(|error| error.to_string())?;
    // Operator settings of the local stack: loopback receivers and plain http are allowed.
    settings.allowed_target_cidrs = env_or("ALLOWED_TARGET_CIDRS", "127.0.0.0/8,::1/128");
    settings.allow_http_webhooks = env_or("ALLOW_HTTP_WEBHOOKS", "true") == "true";
    let queue_arn = |logical_id: &str| match provisioned.resources.get(logical_id) {
        Some(hookline_local_runner::provision::Physical::Queue { arn, .. }) => Ok(arn.clone()),
        _ => Err(format!("template.yaml has no queue {logical_id}")),
    };
    let (delivery_arn, ordered_arn) = (queue_arn(DELIVERY_QUEUE)?, queue_arn(ORDERED_QUEUE)?);
    let context = Context::new(settings, &sdk);
    let routes = runner::Routes::new(&context).map_err(|error| error.to_string())?;
    let deliverer = Arc::new(hookline_deliver::deliverer(&context).map_err(|error| error.to_string())?);
    let defaults = runner::EventSource::from_template(&template).map_err(|error| error.to_string())?;
    let source = runner::EventSource {
        pollers: env_number("DELIVER_POLLERS")?.unwrap_or(defaults.pollers),
        max_concurrency: env_number("DELIVER_MAX_CONCURRENCY")?.unwrap_or(defaults.max_concurrency),
        batch_size: env_number("DELIVER_BATCH_SIZE")?.unwrap_or(defaults.batch_size),
    };
    let chosen = std::env::var("DEV_API_KEY").ok().filter(|key| !key.is_empty());
    let api_key = operator::dev_api_key(&context.store, chosen).await.map_err(|error| error.to_string())?;
    let sandbox_key = operator::add_sandbox_key(&context.store, &api_key).await.map_err(|error| error.to_string())?;
    operator::migrate_accounts(&context.store).await.map_err(|error| error.to_string())?;
    migrate_event_types(&context.store).await?;
    context.store.migrate_log().await.map_err(|error| error.to_string())?;
    context.store.migrate_webhook_log().await.map_err(|error| error.to_string())?;
    let chosen = std::env::var("DEV_OPERATOR_KEY").ok().filter(|key| !key.is_empty());
    let operator_key = operator::create_operator_key(&context.store, Environment::Production, "dev", chosen)
        .await
        .map_err(|error| error.to_string())?;
    let portal = operator::open_portal_session(&context.store, &api_key).await.map_err(|error| error.to_string())?;

    println!("Hookline is ready.");
    println!("  API:       http://127.0.0.1:{port}");
    println!("  API key:   {api_key}");
    println!("  sandbox:   {sandbox_key}  (same account, sandbox environment)");
    println!(
        "  operator:  {operator_key}  (the platform's key: /api/v3/accounts, and any account with hookline-account)"
    );
    println!("  portal:    http://127.0.0.1:{port}/portal/#token={portal}  (the dev account's, for 24 h)");
    println!("  DynamoDB:  {} (table {})", endpoints.dynamodb, context.settings.table_name);
    println!("  SQS:       {} (queue {})", endpoints.sqs, context.queue.url());
    println!("  deliver:   {} pollers, at most {} batches at once", source.pollers, source.max_concurrency);
    println!("  try:       curl -s http://127.0.0.1:{port}/health");
    println!("Ctrl-C stops everything.");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let http = tokio::spawn(runner::serve_http(listener, routes, stopped.clone()));
    let ordered_source = runner::EventSource { batch_size: runner::ORDERED_BATCH_SIZE, ..source };
    let ordered = tokio::spawn(runner::drive_deliver(deliverer.clone(), ordered_arn, ordered_source, stopped.clone()));
    let deliver = tokio::spawn(runner::drive_deliver(deliverer, delivery_arn, source, stopped));
    wait_for_stop_signal().await;
    eprintln!("hookline-local: stopping");
    let _ = stop.send(true);
    let _ = tokio::join!(http, deliver, ordered);
    Ok(())
}

async fn wait_for_stop_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(signal) => { signal.recv().await; } None => std::future::pending().await } } => {}
    }
}

/// The options of a key-making command: `--environment`, `--label`, and one free argument.
struct KeyOptions {
    argument: Option<String>,
    environment: Environment,
    label: String,
}

fn key_options(args: &[String], label: &str) -> Result<KeyOptions, String> {
    let mut options = KeyOptions { argument: None, environment: Environment::Production, label: label.to_string() };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--environment" => {
                let value = rest.next().ok_or("--environment needs a value")?;
                options.environment = Environment::parse(value)
                    .ok_or_else(|| format!("unknown environment {value:?}: production or sandbox"))?;
            }
            "--label" => options.label = rest.next().ok_or("--label needs a value")?.clone(),
            other if other.starts_with("--") => return Err(format!("unknown option {other}\n{USAGE}")),
            other => options.argument = Some(other.to_string()),
        }
    }
    Ok(options)
}

/// The store of the table TABLE_NAME, through the SDK's own settings.
async fn operator_store() -> Result<hookline_aws::Store, String> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME must name the table".to_string())?;
    let sdk = hookline_aws::sdk_config().await;
    Ok(hookline_aws::Store::new(aws_sdk_dynamodb::Client::new(&sdk), table))
}

async fn create_operator_key(args: &[String]) -> Result<(), String> {
    let options = key_options(args, "operator")?;
    if let Some(extra) = options.argument {
        return Err(format!("unexpected argument {extra:?}\n{USAGE}"));
    }
    let store = operator_store().await?;
    let key = operator::create_operator_key(&store, options.environment, &options.label, None)
        .await
        .map_err(|error| error.to_string())?;
    println!("operator key ({}, shown once): {key}", options.environment.as_str());
    Ok(())
}

async fn migrate() -> Result<(), String> {
    let store = operator_store().await?;
    let migrated = operator::migrate_accounts(&store).await.map_err(|error| error.to_string())?;
    println!("{migrated} account(s) migrated");
    let copied = migrate_event_types(&store).await?;
    println!("{copied} event type(s) copied into the platform's catalog");
    let moved = store.migrate_log().await.map_err(|error| error.to_string())?;
    println!("{moved} log entr(ies) moved to their shard");
    let segments = store.migrate_webhook_log().await.map_err(|error| error.to_string())?;
    println!("{segments} segment(s) of webhooks' own logs written for the entries of before");
    Ok(())
}

/// Copies the accounts' event types into the platform's catalog; reports each conflict on
/// stderr and returns how many were copied.
async fn migrate_event_types(store: &hookline_aws::Store) -> Result<usize, String> {
    let report = operator::migrate_event_types(store).await.map_err(|error| error.to_string())?;
    for (account, name, why) in &report.conflicts {
        eprintln!("hookline-local: event type {name} of account {account} not copied: {why}");
    }
    Ok(report.copied)
}

async fn create_account(args: &[String]) -> Result<(), String> {
    let KeyOptions { argument: name, environment, label } = key_options(args, "operator")?;
    let name = name.ok_or_else(|| format!("create-account needs a NAME\n{USAGE}"))?;
    let store = operator_store().await?;
    let (account, key) =
        operator::create_account(&store, &name, environment, &label).await.map_err(|error| error.to_string())?;
    println!("account {} ({}) created", account.id, account.name);
    println!("api key ({}, shown once): {}", environment.as_str(), key.plaintext);
    Ok(())
}
