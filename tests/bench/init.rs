//! Init time and zip size of each function.
//!
//! Init time: the release binary that `cargo lambda build` makes (`target/lambda/<bin>/bootstrap`) is started against
//! a minimal local Lambda Runtime API (written here); the time from just before `spawn` to its first
//! `GET /2018-06-01/runtime/invocation/next` is its init time. The request is never answered: the process is killed
//! and reaped, and the next start gets a fresh server.

use crate::report::{Row, percentile};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// The functions, by binary name.
const FUNCTIONS: [&str; 3] = ["api", "ingest", "deliver"];
/// Starts measured per function.
const STARTS: usize = 30;
/// How long a start may take to reach `/next` before it counts as failed.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// Goal: p50 init time, in milliseconds.
const INIT_GOAL_MS: f64 = 20.0;
/// Goal: zip size, in MB (1 MB = 1,000,000 bytes).
const ZIP_GOAL_MB: f64 = 6.0;
/// The target `cargo lambda build` builds for (x86_64 here).
const TARGET_TRIPLE: &str = "x86_64-unknown-linux-gnu";
const NOT_BUILT: &str = "not built: run make build-lambdas";
const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// Measures init time and zip size.
pub async fn run() -> Vec<Row> {
    let lambda_dir = target_dir().join("lambda");
    let mut init_rows = Vec::new();
    let mut zip_rows = Vec::new();
    for function in FUNCTIONS {
        let zip = lambda_dir.join(function).join("bootstrap.zip");
        init_rows.extend(init_time(function, binary(function, &zip).as_deref()).await);
        zip_rows.push(zip_size(function, &zip));
    }
    init_rows.extend(zip_rows);
    init_rows
}

/// The Cargo target directory: `CARGO_TARGET_DIR`, or the workspace's `target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target"),
    }
}

/// The function's release binary: `target/lambda/<bin>/bootstrap` (what `cargo lambda build` leaves without
/// `--output-format zip`), else `target/x86_64-unknown-linux-gnu/release/<bin>` (what it zips as `bootstrap`), if it
/// is the very file in the zip (same size and CRC-32); `None` (with a warning when stale) otherwise.
fn binary(function: &str, zip: &Path) -> Option<PathBuf> {
    let unzipped = zip.with_file_name("bootstrap");
    if unzipped.is_file() {
        return Some(unzipped);
    }
    let built = target_dir().join(TARGET_TRIPLE).join("release").join(function);
    let (zipped_size, zipped_crc) = zipped_bootstrap(zip)?;
    let bytes = std::fs::read(&built).ok()?;
    if bytes.len() as u64 == zipped_size && crc32(&bytes) == zipped_crc {
        Some(built)
    } else {
        eprintln!("warning: init {function}: {} is not the bootstrap in {}: rebuild", built.display(), zip.display());
        None
    }
}

/// The uncompressed size and CRC-32 of `bootstrap` in the zip, from its central directory.
fn zipped_bootstrap(zip: &Path) -> Option<(u64, u32)> {
    let data = std::fs::read(zip).ok()?;
    let u16_at = |at: usize| data.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at: usize| data.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let search_from = data.len().saturating_sub(22 + usize::from(u16::MAX));
    let end = (search_from..=data.len().checked_sub(22)?).rev().find(|&at| u32_at(at) == Some(0x0605_4b50))?;
    let entries = u16_at(end + 10)?;
    let mut at = usize::try_from(u32_at(end + 16)?).ok()?;
    for _ in 0..entries {
        if u32_at(at)? != 0x0201_4b50 {
            return None;
        }
        let name_len = usize::from(u16_at(at + 28)?);
        let next = at + 46 + name_len + usize::from(u16_at(at + 30)?) + usize::from(u16_at(at + 32)?);
        if data.get(at + 46..at + 46 + name_len)? == b"bootstrap" {
            return Some((u64::from(u32_at(at + 24)?), u32_at(at + 16)?));
        }
        at = next;
    }
    None
}

/// CRC-32 (IEEE), as zip stores it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, entry) in (0u32..).zip(table.iter_mut()) {
        *entry = (0..8).fold(n, |c, _| if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 });
    }
    !bytes.iter().fold(!0u32, |c, &byte| table[((c ^ u32::from(byte)) & 0xFF) as usize] ^ (c >> 8))
}

fn zip_size(function: &str, zip: &Path) -> Row {
    let figure = format!("zip size ({function})");
    let goal = format!("<= {ZIP_GOAL_MB} MB");
    let how = "size of target/lambda/<bin>/bootstrap.zip from cargo lambda build --release --output-format zip \
               (x86_64), 1 MB = 1,000,000 bytes";
    match std::fs::metadata(zip) {
        Ok(metadata) => {
            let megabytes = metadata.len() as f64 / 1_000_000.0;
            Row::new(figure, format!("{megabytes:.2} MB"), goal, Some(megabytes <= ZIP_GOAL_MB), how)
        }
        Err(_) => Row::new(figure, NOT_BUILT, goal, Some(false), how),
    }
}

async fn init_time(function: &str, binary: Option<&Path>) -> Vec<Row> {
    let how = format!(
        "release binary from cargo lambda build (x86_64), {STARTS} cold starts, spawn to first GET \
         /runtime/invocation/next on a local Runtime API"
    );
    let p50_figure = format!("init p50 ({function})");
    let p99_figure = format!("init p99 ({function})");
    let p50_goal = format!("<= {INIT_GOAL_MS} ms");
    let Some(binary) = binary else {
        return vec![
            Row::new(p50_figure, NOT_BUILT, p50_goal, Some(false), how.clone()),
            Row::new(p99_figure, NOT_BUILT, "-", None, how),
        ];
    };
    let mut samples = Vec::with_capacity(STARTS);
    let mut failed = 0;
    for start in 1..=STARTS {
        match start_once(function, binary).await {
            Ok(elapsed) => samples.push(elapsed.as_secs_f64() * 1000.0),
            Err(problem) => {
                failed += 1;
                eprintln!("warning: init {function}, start {start}/{STARTS} failed: {problem}");
            }
        }
    }
    if samples.is_empty() {
        let value = format!("failed: 0 of {STARTS} starts reached /next");
        return vec![
            Row::new(p50_figure, value.clone(), p50_goal, Some(false), how.clone()),
            Row::new(p99_figure, value, "-", None, how),
        ];
    }
    let note = if failed == 0 { String::new() } else { format!(" ({failed} of {STARTS} starts failed)") };
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    vec![
        Row::new(
            p50_figure,
            format!("{p50:.1} ms{note}"),
            p50_goal,
            Some(p50 <= INIT_GOAL_MS && failed == 0),
            how.clone(),
        ),
        Row::new(p99_figure, format!("{p99:.1} ms{note}"), "-", None, how),
    ]
}

/// What the local Runtime API saw.
enum Event {
    /// The first `GET /next`, when it arrived.
    Next(Instant),
    /// A `POST /init/error`, with its body.
    InitError(String),
}

/// Starts `binary` once against a fresh local Runtime API; the time to its first `/next`, or why it did not get there.
async fn start_once(function: &str, binary: &Path) -> Result<Duration, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").await.map_err(|error| format!("binding the Runtime API: {error}"))?;
    let port = listener.local_addr().map_err(|error| format!("Runtime API address: {error}"))?.port();
    let (events, mut received) = mpsc::unbounded_channel();
    let server = tokio::spawn(serve(listener, events));

    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("hookline-{function}"))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/hookline-{function}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("TABLE_NAME", "bench")
        .env("DELIVERY_QUEUE_URL", "http://127.0.0.1:9/123456789012/bench")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);

    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            server.abort();
            return Err(format!("spawning {}: {error}", binary.display()));
        }
    };
    let stdout = tokio::spawn(read_all(child.stdout.take()));
    let stderr = tokio::spawn(read_all(child.stderr.take()));

    let outcome = tokio::select! {
        biased;
        event = received.recv() => match event {
            Some(Event::Next(at)) => Ok(at.duration_since(started)),
            Some(Event::InitError(body)) => Err(format!("posted an init error: {body}")),
            None => Err("the Runtime API stopped".to_string()),
        },
        status = child.wait() => Err(match status {
            Ok(status) => format!("exited ({status}) before GET /next"),
            Err(error) => format!("waiting for it: {error}"),
        }),
        () = tokio::time::sleep(START_TIMEOUT) => Err(format!("did not reach GET /next within {START_TIMEOUT:?}")),
    };

    // Kill (a no-op if it exited) and reap; then the pipes close and the readers finish.
    let _ = child.start_kill();
    let _ = child.wait().await;
    server.abort();
    let stdout = stdout.await.unwrap_or_default();
    let stderr = stderr.await.unwrap_or_default();
    outcome.map_err(|problem| {
        let mut message = format!("{problem}\n  stderr tail: {}", tail(&stderr));
        if !stdout.trim().is_empty() {
            message.push_str(&format!("\n  stdout tail: {}", tail(&stdout)));
        }
        message
    })
}

/// The local Runtime API: reports the first `/next` (and any init error); never answers `/next`. Aborting the task
/// drops the `JoinSet`, which ends every connection.
async fn serve(listener: TcpListener, events: mpsc::UnboundedSender<Event>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        while connections.try_join_next().is_some() {}
        let events = events.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| answer(request, events.clone()));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    events: mpsc::UnboundedSender<Event>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match (request.method(), request.uri().path()) {
        (&Method::GET, NEXT_PATH) => {
            let _ = events.send(Event::Next(Instant::now()));
            return std::future::pending().await;
        }
        (&Method::POST, INIT_ERROR_PATH) => {
            let body = request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
            let _ = events.send(Event::InitError(String::from_utf8_lossy(&body).into_owned()));
            StatusCode::ACCEPTED
        }
        _ => StatusCode::NOT_FOUND,
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}

async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> String {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes).await;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The last few lines of `text`, on one line.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    if lines.is_empty() {
        return "(empty)".to_string();
    }
    lines[lines.len().saturating_sub(5)..].join(" | ")
}
