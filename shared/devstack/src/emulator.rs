//! Emulator processes (moto server, DynamoDB Local) on 127.0.0.1, stopped when dropped and
//! killed by the kernel if their parent dies, so nothing is left behind.

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
}

impl Emulator {
    /// Starts moto's server from the project's venv on `port`.
    pub fn moto(venv: &Path, port: u16) -> Result<Self, EmulatorError> {
        let program = venv.join("bin/moto_server");
        if !program.exists() {
            return Err(EmulatorError::NotInstalled {
                what: "moto_server",
                path: program.display().to_string(),
                hint: "run scripts/venv.sh (make dev and make test do it)",
            });
        }
        let mut command = Command::new(program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self::spawn("moto", command, port, Duration::from_secs(30))
    }

    /// Starts the official DynamoDB Local engine from `dir` (holding `DynamoDBLocal.jar`).
    pub fn dynamodb_local(dir: &Path, port: u16) -> Result<Self, EmulatorError> {
        let jar = dir.join("DynamoDBLocal.jar");
        if !jar.exists() {
            return Err(EmulatorError::NotInstalled {
                what: "DynamoDBLocal.jar",
                path: jar.display().to_string(),
                hint: "run scripts/dynamodb-local.sh (make test does it)",
            });
        }
        let mut command = Command::new("java");
        command.current_dir(dir).args([
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-jar",
            "DynamoDBLocal.jar",
            "-inMemory",
            "-disableTelemetry",
            "-port",
            &port.to_string(),
        ]);
        Self::spawn("DynamoDB Local", command, port, Duration::from_secs(60))
    }

    fn spawn(what: &'static str, mut command: Command, port: u16, timeout: Duration) -> Result<Self, EmulatorError> {
        ensure_port_free(port)?;
        let log_path =
            std::env::temp_dir().join(format!("hookline-{}-{port}-{}.log", what.replace(' ', "-"), std::process::id()));
        let log = std::fs::File::create(&log_path).map_err(|source| EmulatorError::Spawn { what, source })?;
        let log_err = log.try_clone().map_err(|source| EmulatorError::Spawn { what, source })?;
        command.stdin(Stdio::null()).stdout(log).stderr(log_err);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|source| EmulatorError::Spawn { what, source })?;
        let mut emulator = Self { what, child, port, log_path };
        emulator.wait_until_listening(timeout)?;
        Ok(emulator)
    }

    fn wait_until_listening(&mut self, timeout: Duration) -> Result<(), EmulatorError> {
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
