//! The caller's side of the sandbox: one child process, started on first use, that runs one
//! program at a time; a run past its deadline kills it, a run that exhausts its memory or stack
//! ends it, and the next run starts a fresh one. Also [`InProcess`], for tests of policy.

use crate::jq;
use hookline_domain::transformations::{ProgramError, TransformFailure};
use hookline_domain::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The sandbox's address space: its binary, the program, the event and jq's values must fit.
pub const MEMORY_CAP_BYTES: u64 = 256 << 20;

/// How long one run (or one check) may take, start of the sandbox excluded.
pub const DEADLINE: Duration = Duration::from_millis(250);

/// One request: compile `program` (cached by its text) and, with an input, run it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) program: String,
    pub(crate) input: Option<Value>,
}

/// One reply.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reply {
    /// The program's output (null for a check).
    Output(Value),
    /// The program does not compile.
    Program(ProgramError),
    /// It failed on this input.
    Failed(String),
}

/// The transformation sandbox of this process.
#[derive(Debug)]
pub struct Sandbox {
    command: PathBuf,
    args: Vec<String>,
    running: tokio::sync::Mutex<Option<Running>>,
}

#[derive(Debug)]
struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Sandbox {
    /// A sandbox that is this executable started with [`crate::SANDBOX_ARG`] (every Hookline
    /// binary that transforms calls [`crate::serve_if_asked`] first), or, given, that binary
    /// (a `hookline-transform`, for tests whose executable is a test harness).
    pub fn new(binary: Option<PathBuf>) -> Self {
        let (command, args) = match binary {
            Some(binary) => (binary, vec![crate::SANDBOX_ARG.to_string()]),
            None => (
                std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe")),
                vec![crate::SANDBOX_ARG.to_string()],
            ),
        };
        Self { command, args, running: tokio::sync::Mutex::new(None) }
    }

    fn start(&self) -> Result<Running> {
        // No environment: a program could not read the function's credentials even if a
        // filter that reads the environment were let through.
        let mut child = Command::new(&self.command)
            .args(&self.args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| Error::Unavailable(format!("the transformation sandbox did not start: {error}")))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(Error::Unavailable("the transformation sandbox has no pipes".into()));
        };
        Ok(Running { child, stdin, stdout: BufReader::new(stdout) })
    }

    /// Sends one request and reads its reply within the deadline; a run past it, or one that
    /// ends the sandbox (memory, stack), is a [`Reply::Failed`] and the sandbox is replaced.
    async fn exchange(&self, request: &Request) -> Result<Reply> {
        let mut line = serde_json::to_vec(request).map_err(Error::internal)?;
        line.push(b'\n');
        let mut running = self.running.lock().await;
        // A sandbox that stopped since its last run takes the request only once restarted.
        for fresh in [false, true] {
            if running.is_none() || fresh {
                *running = Some(self.start()?);
            }
            let Some(sandbox) = running.as_mut() else { continue };
            if sandbox.stdin.write_all(&line).await.is_err() || sandbox.stdin.flush().await.is_err() {
                continue;
            }
            let mut answer = String::new();
            let read = tokio::time::timeout(DEADLINE, sandbox.stdout.read_line(&mut answer)).await;
            return match read {
                Err(_elapsed) => {
                    let _ = sandbox.child.kill().await;
                    *running = None;
                    Ok(Reply::Failed(format!("the transformation took longer than {} ms", DEADLINE.as_millis())))
                }
                Ok(Ok(read)) if read > 0 => serde_json::from_str(&answer).map_err(Error::internal),
                Ok(_) => {
                    let _ = sandbox.child.kill().await;
                    *running = None;
                    Ok(Reply::Failed(format!(
                        "the transformation ran out of memory ({} MiB) or stack",
                        MEMORY_CAP_BYTES >> 20
                    )))
                }
            };
        }
        Err(Error::Unavailable("the transformation sandbox does not take requests".into()))
    }

    /// Runs `program` on `input`: its output, or why there is none. An error is the sandbox's
    /// own failure (it could not be started), not the program's.
    pub async fn run(&self, program: &str, input: Value) -> Result<std::result::Result<Value, TransformFailure>> {
        let request = Request { program: program.to_string(), input: Some(input) };
        Ok(match self.exchange(&request).await? {
            Reply::Output(output) => Ok(output),
            Reply::Program(error) => Err(TransformFailure::Program(error)),
            Reply::Failed(why) => Err(TransformFailure::Failed(why)),
        })
    }

    /// Whether `program` compiles, and if not, where it is wrong.
    pub async fn check(&self, program: &str) -> Result<std::result::Result<(), ProgramError>> {
        let request = Request { program: program.to_string(), input: None };
        Ok(match self.exchange(&request).await? {
            Reply::Output(_) => Ok(()),
            Reply::Program(error) => Err(error),
            // Parsing itself overran (a program nested too deeply) or ran too long.
            Reply::Failed(why) => Err(ProgramError::at(program, 0, format!("the program could not be parsed: {why}"))),
        })
    }
}

/// Transformations in this process, unbounded: for tests of the delivery policy only.
#[derive(Debug, Default, Clone, Copy)]
pub struct InProcess;

impl InProcess {
    /// As [`Sandbox::run`].
    pub fn run(&self, program: &str, input: Value) -> std::result::Result<Value, TransformFailure> {
        let program = jq::compile(program).map_err(TransformFailure::Program)?;
        program.run(input).map_err(TransformFailure::Failed)
    }
}

impl hookline_core::ports::Transformer for Sandbox {
    fn transform<'a>(
        &'a self,
        program: &'a str,
        input: Value,
    ) -> futures::future::BoxFuture<'a, Result<std::result::Result<Value, TransformFailure>>> {
        Box::pin(self.run(program, input))
    }
}

impl hookline_core::ports::Transformer for InProcess {
    fn transform<'a>(
        &'a self,
        program: &'a str,
        input: Value,
    ) -> futures::future::BoxFuture<'a, Result<std::result::Result<Value, TransformFailure>>> {
        Box::pin(std::future::ready(Ok(self.run(program, input))))
    }
}
