//! What starting a server needs: free ports, readiness, logs.

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::client::{describe_error, try_connect_to};

/// Why a server could not be started; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError(pub String);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("local address of a bound socket")
        .port()
}

/// The root of the Cargo workspace (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}

/// Polls a full PostgreSQL-protocol connection to `addr` until one
/// succeeds, the child exits, or `deadline` passes.
pub(crate) async fn wait_until_accepting(
    what: &str,
    addr: SocketAddr,
    child: &mut Child,
    deadline: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("waiting on {what}: {e}"))?
        {
            return Err(format!(
                "{what} exited ({status}) before accepting connections"
            ));
        }
        let last = match try_connect_to(addr).await {
            Ok(_client) => return Ok(()),
            Err(e) => describe_error(&e),
        };
        if start.elapsed() > deadline {
            return Err(format!(
                "{what} did not accept connections on {addr} within {deadline:?} \
                 (last attempt: {last})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The log file's content, or a note saying why it cannot be read.
pub(crate) fn read_log(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Prints a server's log when the test is failing (called from `Drop`);
/// the test harness shows it with the failure.
#[allow(clippy::print_stderr)]
pub(crate) fn print_log_if_panicking(what: &str, path: &Path) {
    if std::thread::panicking() {
        eprintln!(
            "----- {what} log ({}) -----\n{}\n----- end of {what} log -----",
            path.display(),
            read_log(path).trim_end()
        );
    }
}

/// Kills and reaps a child, ignoring that it may have exited already.
pub(crate) fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
