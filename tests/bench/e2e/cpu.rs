//! CPU and process measurement: the load thread (`Side`) whose CPU is told apart from Hookline's,
//! readings of `/proc` (this process, the load thread, the emulators, TCP opens), and waiting for
//! the emulators to settle between scenarios.

use super::{EMULATOR_IDLE, SETTLE_LIMIT, TICKS_PER_SECOND};
use std::time::{Duration, Instant};

/// Waits (up to `SETTLE_LIMIT`) until the emulators are idle: they may still serve the
/// requests of a scenario after their clients are gone, and the next scenario should not pay
/// for them. Returns the wait.
pub(super) async fn settle(emulators: &[u32]) -> Duration {
    let started = Instant::now();
    let step = Duration::from_millis(500);
    let busy = |pid: &u32| stat_ticks(&format!("/proc/{pid}/stat"));
    while started.elapsed() < SETTLE_LIMIT {
        let before: Option<Vec<u64>> = emulators.iter().map(busy).collect();
        tokio::time::sleep(step).await;
        let after: Option<Vec<u64>> = emulators.iter().map(busy).collect();
        let (Some(before), Some(after)) = (before, after) else { break };
        let idle = before.iter().zip(&after).all(|(before, after)| {
            (after.saturating_sub(*before) as f64 / TICKS_PER_SECOND) / step.as_secs_f64() < EMULATOR_IDLE
        });
        if idle {
            break;
        }
    }
    started.elapsed()
}

/// A thread with its own single-threaded runtime for the load (publisher and receiver), so
/// that its CPU can be told apart from Hookline's.
pub(super) struct Side {
    pub(super) handle: tokio::runtime::Handle,
    pub(super) tid: u32,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Side {
    pub(super) fn start() -> Result<Self, String> {
        let (sender, receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("bench-load".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = sender.send(Err(error.to_string()));
                        return;
                    }
                };
                let _ = sender.send(thread_id().map(|tid| (runtime.handle().clone(), tid)));
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|error| error.to_string())?;
        let (handle, tid) = receiver.recv().map_err(|error| error.to_string())??;
        Ok(Self { handle, tid, stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The calling thread's id, from `/proc/thread-self` (a link to `<pid>/task/<tid>`).
fn thread_id() -> Result<u32, String> {
    let link = std::fs::read_link("/proc/thread-self").map_err(|error| format!("/proc/thread-self: {error}"))?;
    link.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.parse().ok())
        .ok_or_else(|| "no thread id".to_string())
}

/// CPU readings (clock ticks) at one instant.
pub(super) struct Cpu {
    pub(super) at: Instant,
    /// This process's user and system ticks.
    pub(super) user: Option<u64>,
    pub(super) system: Option<u64>,
    pub(super) side: Option<u64>,
    pub(super) sqs: Option<u64>,
    pub(super) dynamodb: Option<u64>,
    /// TCP connections opened in this network namespace (`Tcp: ActiveOpens`).
    pub(super) opens: Option<u64>,
}

impl Cpu {
    pub(super) fn read(side: &Side, emulators: &[u32; 2]) -> Self {
        let own = stat_fields("/proc/self/stat");
        let field = |index: usize| own.as_ref().and_then(|fields| fields.get(index)?.parse().ok());
        Self {
            at: Instant::now(),
            user: field(11),
            system: field(12),
            side: stat_ticks(&format!("/proc/self/task/{}/stat", side.tid)),
            sqs: stat_ticks(&format!("/proc/{}/stat", emulators[0])),
            dynamodb: stat_ticks(&format!("/proc/{}/stat", emulators[1])),
            opens: active_opens(),
        }
    }
}

/// The fields of a `/proc/*/stat` after the command name (the first is field 3, `state`).
fn stat_fields(path: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// utime + stime (fields 14 and 15) of a `/proc/*/stat`.
fn stat_ticks(path: &str) -> Option<u64> {
    let fields = stat_fields(path)?;
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// `Tcp: ActiveOpens` of `/proc/net/snmp`: connections opened in this network namespace.
fn active_opens() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut tcp = snmp.lines().filter(|line| line.starts_with("Tcp:"));
    let (names, values) = (tcp.next()?, tcp.next()?);
    let index = names.split_whitespace().position(|name| name == "ActiveOpens")?;
    values.split_whitespace().nth(index)?.parse().ok()
}
