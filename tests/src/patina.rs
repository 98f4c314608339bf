//! The real `patina` binary, started as a node.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio_postgres::Client;

use crate::process::{
    StartError, free_port, kill_and_reap, print_log_if_panicking, read_log, wait_until_accepting,
    workspace_root,
};

/// How long the node may take to accept its first connection.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// The `patina` binary the tests run: env `PATINA_BIN` if set, else
/// `<workspace>/target/debug/patina`. Cargo does not build it for this
/// crate's tests: run `cargo build -p patina-cli` first.
pub fn patina_bin() -> PathBuf {
    std::env::var_os("PATINA_BIN").map_or_else(
        || workspace_root().join("target/debug/patina"),
        PathBuf::from,
    )
}

/// A patina node of its own, for one test: `patina agent --data-dir
/// <tempdir>/data --pg-addr 127.0.0.1:<free port>`. Its stdout and stderr go
/// to `patina.log` in the temporary folder. Dropping it (also while
/// panicking) kills the process and removes the folder; a failing test also
/// prints the log.
#[derive(Debug)]
pub struct Patina {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Patina {
    /// Starts a node and waits until it accepts connections; panics with the
    /// reason (and the node's log) if it cannot.
    pub async fn start() -> Patina {
        Self::start_with_args::<&str>(&[]).await
    }

    /// Like [`Patina::start`], with more arguments after the default ones
    /// (`agent --data-dir … --pg-addr …`).
    pub async fn start_with_args<S: AsRef<OsStr>>(extra: &[S]) -> Patina {
        match Self::try_start_with_args(extra).await {
            Ok(node) => node,
            Err(e) => panic!("cannot start patina: {e}"),
        }
    }

    /// Like [`Patina::start_with_args`], but returns why it could not start.
    pub async fn try_start_with_args<S: AsRef<OsStr>>(extra: &[S]) -> Result<Patina, StartError> {
        let bin = patina_bin();
        if !bin.is_file() {
            return Err(StartError(format!(
                "the patina binary is missing: {} does not exist. Build it with \
                 `cargo build -p patina-cli` (or set PATINA_BIN to its path)",
                bin.display()
            )));
        }
        Self::try_start_binary(&bin, extra).await
    }

    /// Like [`Patina::try_start_with_args`], with the binary at `bin`.
    pub async fn try_start_binary<S: AsRef<OsStr>>(
        bin: &Path,
        extra: &[S],
    ) -> Result<Patina, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("patina-node-")
            .tempdir()
            .map_err(|e| StartError(format!("creating a temporary folder: {e}")))?;
        let log_path = dir.path().join("patina.log");
        let log = File::create(&log_path)
            .map_err(|e| StartError(format!("creating {}: {e}", log_path.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| StartError(format!("duplicating a file handle: {e}")))?;
        let port = free_port();
        let child = Command::new(bin)
            .arg("agent")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--pg-addr")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .current_dir(dir.path())
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| StartError(format!("starting {}: {e}", bin.display())))?;
        let mut node = Patina { child, port, dir };
        match wait_until_accepting("patina", port, &mut node.child, READY_DEADLINE).await {
            Ok(()) => Ok(node),
            Err(e) => {
                let log = node.log();
                Err(StartError(format!(
                    "{e}\n----- patina log -----\n{}",
                    log.trim_end()
                )))
            }
        }
    }

    /// The port of its PostgreSQL front door, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary folder holding `data/` (the `--data-dir`) and
    /// `patina.log`; removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `--data-dir` given to the node.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The node's log file (its stdout and stderr).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("patina.log")
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        read_log(&self.log_path())
    }

    /// A new client connection, as user `postgres` to database `postgres`.
    pub async fn connect(&self) -> Client {
        crate::client::connect(self.port).await
    }
}

impl Drop for Patina {
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
        print_log_if_panicking("patina", &self.log_path());
    }
}
